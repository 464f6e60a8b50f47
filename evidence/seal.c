/* seal.c: timestamps, hash chains and the recording key shared by recordings and the
 * audit log. Never writes key material anywhere but the key file it creates. */
#include "evidence/seal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "common/log.h"
#include "common/xmalloc.h"

void
seal_format_time(char out[SEAL_TIME_LEN], const struct timespec *ts)
{
	struct tm tm;
	size_t n;

	gmtime_r(&ts->tv_sec, &tm);
	n = strftime(out, SEAL_TIME_LEN, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, SEAL_TIME_LEN - n, ".%03dZ", (int)(ts->tv_nsec / 1000000L % 1000));
}

void
seal_format_now(char out[SEAL_TIME_LEN])
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	seal_format_time(out, &ts);
}

struct seal_hash {
	EVP_MD_CTX *ctx;
};

/* Like an allocation failure (xmalloc.c): nothing sensible goes on without a digest. */
static void
seal_hash_check(bool ok)
{
	if (!ok) {
		crit_f("SHA-256 failed");
		abort();
	}
}

/* A SHA-256 context with the algorithm fetched once: OpenSSL 3's one-shot SHA256() fetches it
 * (under a lock) on every call, which cost more than the hashing itself for a pcapng's 1.5 KB
 * blocks (two digests per block). Every process of gatewayd that hashes is single-threaded. */
struct seal_hash *
seal_hash_new(void)
{
	static EVP_MD *md;
	struct seal_hash *h = xcalloc(1, sizeof(*h));

	seal_hash_check((md != NULL || (md = EVP_MD_fetch(NULL, "SHA256", NULL)) != NULL) &&
	    (h->ctx = EVP_MD_CTX_new()) != NULL && EVP_DigestInit_ex2(h->ctx, md, NULL) == 1);
	return h;
}

void
seal_hash_add(struct seal_hash *h, const void *data, size_t len)
{
	seal_hash_check(EVP_DigestUpdate(h->ctx, data, len) == 1);
}

void
seal_hash_end(struct seal_hash *h, unsigned char out[SEAL_HASH_LEN])
{
	seal_hash_check(EVP_DigestFinal_ex(h->ctx, out, NULL) == 1 &&
	    EVP_DigestInit_ex2(h->ctx, NULL, NULL) == 1);
}

void
seal_hash_free(struct seal_hash *h)
{
	if (h == NULL)
		return;
	EVP_MD_CTX_free(h->ctx);
	free(h);
}

/* SHA-256 of a, then b, in the one context these one-shot digests share. */
static void
seal_sha256(const void *a, size_t alen, const void *b, size_t blen, unsigned char *out)
{
	static struct seal_hash *h;

	if (h == NULL)
		h = seal_hash_new();
	seal_hash_add(h, a, alen);
	if (blen > 0)
		seal_hash_add(h, b, blen);
	seal_hash_end(h, out);
}

void
seal_digest(const void *data, size_t len, unsigned char out[SEAL_HASH_LEN])
{
	seal_sha256(data, len, NULL, 0, out);
}

void
seal_chain_step(unsigned char chain[SEAL_HASH_LEN], const unsigned char digest[SEAL_HASH_LEN])
{
	seal_sha256(chain, SEAL_HASH_LEN, digest, SEAL_HASH_LEN, chain);
}

void
seal_hex(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0xf];
	}
	out[2 * n] = '\0';
}

static int
seal_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int
seal_unhex(const char *hex, unsigned char out[SEAL_HASH_LEN])
{
	size_t i;
	int hi, lo;

	if (hex == NULL || strlen(hex) != 2 * SEAL_HASH_LEN)
		return -1;
	for (i = 0; i < SEAL_HASH_LEN; i++) {
		if ((hi = seal_hexval(hex[2 * i])) < 0 || (lo = seal_hexval(hex[2 * i + 1])) < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

struct sealkey {
	EVP_PKEY *pkey;
	bool has_private;
	char id[SEAL_KEY_ID_LEN];
};

static struct sealkey *
sealkey_wrap(EVP_PKEY *pkey, bool has_private)
{
	struct sealkey *key;
	unsigned char raw[32], digest[SEAL_HASH_LEN], b64[48];
	size_t rawlen = sizeof(raw);
	int n;

	if (EVP_PKEY_get_id(pkey) != EVP_PKEY_ED25519 ||
	    EVP_PKEY_get_raw_public_key(pkey, raw, &rawlen) != 1) {
		error_f("not an Ed25519 key");
		EVP_PKEY_free(pkey);
		return NULL;
	}
	key = xcalloc(1, sizeof(*key));
	key->pkey = pkey;
	key->has_private = has_private;
	seal_digest(raw, rawlen, digest);
	n = EVP_EncodeBlock(b64, digest, sizeof(digest));
	while (n > 0 && b64[n - 1] == '=')
		n--;
	snprintf(key->id, sizeof(key->id), "SHA256:%.*s", n, (const char *)b64);
	return key;
}

/* Reads the PEM through a buffer of ours, wiped after: a stdio buffer would be freed with
 * the key's text in it, and every session process forked later would inherit that copy. */
static EVP_PKEY *
sealkey_read_private(const char *path)
{
	EVP_PKEY *pkey = NULL;
	char buf[8192];
	size_t len = 0;
	ssize_t n;
	BIO *bio;
	int fd, err;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return NULL;
	while (len < sizeof(buf) &&
	    ((n = read(fd, buf + len, sizeof(buf) - len)) > 0 || (n < 0 && errno == EINTR)))
		if (n > 0)
			len += (size_t)n;
	close(fd);
	if ((bio = BIO_new_mem_buf(buf, (int)len)) != NULL) {
		pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
		BIO_free(bio);
	}
	err = pkey != NULL ? 0 : EINVAL;
	explicit_bzero(buf, sizeof(buf));
	errno = err;
	return pkey;
}

/* Writes the new key with O_EXCL so two starting processes cannot both create one. */
static int
sealkey_generate(const char *path)
{
	EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	char *pubpath;
	FILE *f;
	int fd, ok;

	if (pkey == NULL)
		return -1;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || (f = fdopen(fd, "w")) == NULL) {
		if (fd >= 0)
			close(fd);
		EVP_PKEY_free(pkey);
		return errno == EEXIST ? 0 : -1;
	}
	ok = PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL) == 1;
	ok = (fflush(f) == 0 && fsync(fd) == 0) && ok;
	fclose(f);
	xasprintf(&pubpath, "%s.pub", path);
	fd = open(pubpath, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd >= 0 && (f = fdopen(fd, "w")) != NULL) {
		PEM_write_PUBKEY(f, pkey);
		fclose(f);
	} else if (fd >= 0)
		close(fd);
	free(pubpath);
	EVP_PKEY_free(pkey);
	if (!ok) {
		unlink(path);
		return -1;
	}
	info_f("generated recording key %s", path);
	return 0;
}

struct sealkey *
sealkey_load_or_create(const char *path)
{
	EVP_PKEY *pkey;

	if ((pkey = sealkey_read_private(path)) == NULL && errno == ENOENT) {
		if (sealkey_generate(path) != 0) {
			error_f("cannot create recording key %s: %s", path, strerror(errno));
			return NULL;
		}
		pkey = sealkey_read_private(path);
	}
	if (pkey == NULL) {
		error_f("cannot read recording key %s", path);
		return NULL;
	}
	return sealkey_wrap(pkey, true);
}

struct sealkey *
sealkey_load_public(const char *path)
{
	EVP_PKEY *pkey = NULL;
	FILE *f;

	if ((f = fopen(path, "re")) == NULL) {
		error_f("%s: %s", path, strerror(errno));
		return NULL;
	}
	pkey = PEM_read_PUBKEY(f, NULL, NULL, NULL);
	if (pkey == NULL) {
		rewind(f);
		pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	}
	fclose(f);
	if (pkey == NULL) {
		error_f("%s: not a PEM key", path);
		return NULL;
	}
	return sealkey_wrap(pkey, false);
}

void
sealkey_free(struct sealkey *key)
{
	if (key == NULL)
		return;
	/* OpenSSL clears an Ed25519 private key as it frees it (OPENSSL_secure_clear_free). */
	EVP_PKEY_free(key->pkey);
	explicit_bzero(key, sizeof(*key));
	free(key);
}

const char *
sealkey_id(const struct sealkey *key)
{
	return key->id;
}

int
sealkey_sign(const struct sealkey *key, const void *msg, size_t len, char out[SEAL_SIG_B64_LEN])
{
	unsigned char sig[64];
	size_t siglen = sizeof(sig);
	EVP_MD_CTX *ctx;
	int ok;

	if (key == NULL || !key->has_private)
		return -1;
	ctx = EVP_MD_CTX_new();
	ok = ctx != NULL && EVP_DigestSignInit(ctx, NULL, NULL, NULL, key->pkey) == 1 &&
	    EVP_DigestSign(ctx, sig, &siglen, msg, len) == 1;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return -1;
	EVP_EncodeBlock((unsigned char *)out, sig, (int)siglen);
	return 0;
}

bool
sealkey_verify(const struct sealkey *key, const void *msg, size_t len, const char *sig_b64)
{
	unsigned char sig[96], again[96];
	size_t b64len;
	EVP_MD_CTX *ctx;
	bool ok;

	/* 64 bytes are 88 base64 characters ending in "==". Only the one spelling the sealer
	 * writes is accepted: the decoder ignores what follows the first '=' and the unused
	 * bits before it, and a respelled signature would leave a changed file verifying. */
	if (sig_b64 == NULL || (b64len = strlen(sig_b64)) != 88 ||
	    EVP_DecodeBlock(sig, (const unsigned char *)sig_b64, (int)b64len) != 66 ||
	    EVP_EncodeBlock(again, sig, 64) != 88 || memcmp(again, sig_b64, 88) != 0)
		return false;
	ctx = EVP_MD_CTX_new();
	ok = ctx != NULL && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key->pkey) == 1 &&
	    EVP_DigestVerify(ctx, sig, 64, msg, len) == 1;
	EVP_MD_CTX_free(ctx);
	return ok;
}

int
sealkey_write_public(const struct sealkey *key, FILE *out)
{
	return PEM_write_PUBKEY(out, key->pkey) == 1 ? 0 : -1;
}
