/* sshsig.c: OpenSSH public keys and detached SSHSIG signatures (`ssh-keygen -Y sign`,
 * PROTOCOL.sshsig), verified with OpenSSL only. Treats every byte of a key line and a
 * signature as hostile: each length is checked before use; never logs, never does I/O. */
#include "policy/policy.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"

#define SSHSIG_MAGIC     "SSHSIG"
#define SSHSIG_MAGIC_LEN 6
#define SSHSIG_VERSION   1
#define SSHSIG_ARMOR_MAX 16384 /* an RSA-16384 signature is well below this */
#define SSHKEY_LINE_MAX  16384
#define RSA_MIN_BITS     2048

static const char armor_begin[] = "-----BEGIN SSH SIGNATURE-----";
static const char armor_end[] = "-----END SSH SIGNATURE-----";

/* An SSH mpint as a non-negative BIGNUM (a leading zero byte is allowed, a sign bit not). */
static BIGNUM *
wire_mpint(struct wire *w)
{
	const unsigned char *s;
	size_t len;

	if (wire_string(w, &s, &len) != 0 || len > 2049 || (len > 0 && (s[0] & 0x80) != 0))
		return NULL;
	return BN_bin2bn(s, (int)len, NULL);
}

static void
wire_put_string(unsigned char **out, const void *s, size_t len)
{
	(*out)[0] = (unsigned char)(len >> 24);
	(*out)[1] = (unsigned char)(len >> 16);
	(*out)[2] = (unsigned char)(len >> 8);
	(*out)[3] = (unsigned char)len;
	memcpy(*out + 4, s, len);
	*out += 4 + len;
}

/* Base64 through OpenSSL; whitespace (armor line breaks) is skipped by the decoder. */
int
base64_decode(const char *in, size_t inlen, unsigned char **out, size_t *outlen)
{
	EVP_ENCODE_CTX *ctx;
	unsigned char *buf;
	int n = 0, fin = 0, ok;

	if (inlen > SSHKEY_LINE_MAX || inlen == 0)
		return -1;
	buf = xmalloc(inlen); /* decoded output is always shorter than the input */
	ctx = EVP_ENCODE_CTX_new();
	EVP_DecodeInit(ctx);
	ok = EVP_DecodeUpdate(ctx, buf, &n, (const unsigned char *)in, (int)inlen) >= 0 &&
	    EVP_DecodeFinal(ctx, buf + n, &fin) == 1;
	EVP_ENCODE_CTX_free(ctx);
	if (!ok || n + fin <= 0) {
		free(buf);
		return -1;
	}
	*out = buf;
	*outlen = (size_t)(n + fin);
	return 0;
}

static EVP_PKEY *
pkey_from_params(const char *type, OSSL_PARAM_BLD *bld)
{
	OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	EVP_PKEY *pkey = NULL;

	if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
		pkey = NULL;
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	return pkey;
}

static const struct ecdsa_curve {
	const char *key_type;
	const char *ssh_name;
	const char *group;
	const char *md;
} ecdsa_curves[] = {
	{ "ecdsa-sha2-nistp256", "nistp256", "prime256v1", "SHA256" },
	{ "ecdsa-sha2-nistp384", "nistp384", "secp384r1", "SHA384" },
	{ "ecdsa-sha2-nistp521", "nistp521", "secp521r1", "SHA512" },
};

/* The public key in an SSH key blob, or NULL; *curve is set for ECDSA keys. */
static EVP_PKEY *
pkey_from_blob(const unsigned char *blob, size_t len, const struct ecdsa_curve **curve)
{
	struct wire w = { blob, len };
	const unsigned char *type, *a, *b;
	size_t tlen, alen, blen, i;
	EVP_PKEY *pkey = NULL;

	*curve = NULL;
	if (wire_string(&w, &type, &tlen) != 0)
		return NULL;
	if (wire_equals(type, tlen, "ssh-ed25519")) {
		if (wire_string(&w, &a, &alen) != 0 || alen != 32 || w.left != 0)
			return NULL;
		return EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, a, alen);
	}
	if (wire_equals(type, tlen, "ssh-rsa")) {
		BIGNUM *e = wire_mpint(&w), *n = wire_mpint(&w);
		OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();

		if (e != NULL && n != NULL && w.left == 0 &&
		    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) == 1 &&
		    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) == 1)
			pkey = pkey_from_params("RSA", bld);
		OSSL_PARAM_BLD_free(bld);
		BN_free(e);
		BN_free(n);
		if (pkey != NULL && EVP_PKEY_get_bits(pkey) < RSA_MIN_BITS) {
			EVP_PKEY_free(pkey);
			pkey = NULL;
		}
		return pkey;
	}
	for (i = 0; i < sizeof(ecdsa_curves) / sizeof(ecdsa_curves[0]); i++) {
		OSSL_PARAM_BLD *bld;

		if (!wire_equals(type, tlen, ecdsa_curves[i].key_type))
			continue;
		if (wire_string(&w, &a, &alen) != 0 ||
		    !wire_equals(a, alen, ecdsa_curves[i].ssh_name) ||
		    wire_string(&w, &b, &blen) != 0 || w.left != 0)
			return NULL;
		bld = OSSL_PARAM_BLD_new();
		if (OSSL_PARAM_BLD_push_utf8_string(
		        bld, OSSL_PKEY_PARAM_GROUP_NAME, ecdsa_curves[i].group, 0) == 1 &&
		    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, b, blen) == 1)
			pkey = pkey_from_params("EC", bld);
		OSSL_PARAM_BLD_free(bld);
		*curve = &ecdsa_curves[i];
		return pkey;
	}
	return NULL;
}

int
sshkey_blob_from_line(const char *line, unsigned char **blob, size_t *len)
{
	const struct ecdsa_curve *curve;
	const char *b64, *end;
	struct wire w;
	const unsigned char *type;
	size_t tlen, n = strnlen(line, SSHKEY_LINE_MAX + 1);
	EVP_PKEY *pkey;

	*blob = NULL;
	*len = 0;
	if (n > SSHKEY_LINE_MAX || (b64 = strchr(line, ' ')) == NULL)
		return -1;
	b64++;
	end = strchr(b64, ' ');
	if (base64_decode(b64, end ? (size_t)(end - b64) : strlen(b64), blob, len) != 0)
		return -1;
	/* The blob must name the same type as the line and be a key OpenSSL accepts. */
	w.p = *blob;
	w.left = *len;
	pkey = pkey_from_blob(*blob, *len, &curve);
	if (pkey == NULL || wire_string(&w, &type, &tlen) != 0 ||
	    (size_t)(b64 - 1 - line) != tlen || memcmp(line, type, tlen) != 0) {
		EVP_PKEY_free(pkey);
		free(*blob);
		*blob = NULL;
		*len = 0;
		return -1;
	}
	EVP_PKEY_free(pkey);
	return 0;
}

void
sshkey_fingerprint(const unsigned char *blob, size_t len, char buf[GW_FP_LEN])
{
	unsigned char md[32], b64[48];
	unsigned int mdlen = 0;
	int n;

	EVP_Digest(blob, len, md, &mdlen, EVP_sha256(), NULL);
	n = EVP_EncodeBlock(b64, md, (int)mdlen);
	while (n > 0 && b64[n - 1] == '=')
		n--;
	snprintf(buf, GW_FP_LEN, "SHA256:%.*s", n, (const char *)b64);
}

/* The base64 body between the armor lines. */
static int
sshsig_dearmor(const char *armored, size_t len, unsigned char **blob, size_t *bloblen)
{
	const char *b, *e, *limit = armored + len;

	if (len > SSHSIG_ARMOR_MAX || memchr(armored, '\0', len) != NULL)
		return -1;
	b = memmem(armored, len, armor_begin, sizeof(armor_begin) - 1);
	if (b == NULL)
		return -1;
	b += sizeof(armor_begin) - 1;
	e = memmem(b, (size_t)(limit - b), armor_end, sizeof(armor_end) - 1);
	if (e == NULL)
		return -1;
	return base64_decode(b, (size_t)(e - b), blob, bloblen);
}

/* Verifies an SSH signature blob (string type, string bytes) by key over data. */
static bool
sshsig_check(EVP_PKEY *pkey, const struct ecdsa_curve *curve, const unsigned char *keytype,
    size_t keytypelen, const unsigned char *sig, size_t siglen, const unsigned char *data,
    size_t datalen)
{
	struct wire w = { sig, siglen }, rs;
	const unsigned char *type, *bytes;
	size_t tlen, blen;
	const EVP_MD *md = NULL;
	unsigned char *der = NULL;
	int derlen = 0;
	EVP_MD_CTX *ctx;
	bool ok;

	if (wire_string(&w, &type, &tlen) != 0 || wire_string(&w, &bytes, &blen) != 0 ||
	    w.left != 0)
		return false;
	if (wire_equals(keytype, keytypelen, "ssh-ed25519")) {
		if (!wire_equals(type, tlen, "ssh-ed25519") || blen != 64)
			return false;
	} else if (wire_equals(keytype, keytypelen, "ssh-rsa")) {
		/* SSHSIG never uses SHA-1 "ssh-rsa" signatures. */
		if (wire_equals(type, tlen, "rsa-sha2-256"))
			md = EVP_sha256();
		else if (wire_equals(type, tlen, "rsa-sha2-512"))
			md = EVP_sha512();
		else
			return false;
	} else if (curve != NULL) {
		ECDSA_SIG *es;
		BIGNUM *r, *s;

		if (!wire_equals(type, tlen, curve->key_type))
			return false;
		rs.p = bytes;
		rs.left = blen;
		r = wire_mpint(&rs);
		s = wire_mpint(&rs);
		if (r == NULL || s == NULL || rs.left != 0 || (es = ECDSA_SIG_new()) == NULL) {
			BN_free(r);
			BN_free(s);
			return false;
		}
		ECDSA_SIG_set0(es, r, s);
		derlen = i2d_ECDSA_SIG(es, &der);
		ECDSA_SIG_free(es);
		if (derlen <= 0)
			return false;
		bytes = der;
		blen = (size_t)derlen;
		md = EVP_get_digestbyname(curve->md);
	} else {
		return false;
	}
	ctx = EVP_MD_CTX_new();
	ok = ctx != NULL && EVP_DigestVerifyInit(ctx, NULL, md, NULL, pkey) == 1 &&
	    EVP_DigestVerify(ctx, bytes, blen, data, datalen) == 1;
	EVP_MD_CTX_free(ctx);
	OPENSSL_free(der);
	return ok;
}

bool
sshkey_verify_blob(const unsigned char *key, size_t keylen, const unsigned char *sig, size_t siglen,
    const unsigned char *data, size_t datalen)
{
	const struct ecdsa_curve *curve;
	const unsigned char *keytype;
	size_t ktlen;
	struct wire w = { key, keylen };
	EVP_PKEY *pkey;
	bool ok;

	if (wire_string(&w, &keytype, &ktlen) != 0 ||
	    (pkey = pkey_from_blob(key, keylen, &curve)) == NULL)
		return false;
	ok = sshsig_check(pkey, curve, keytype, ktlen, sig, siglen, data, datalen);
	EVP_PKEY_free(pkey);
	return ok;
}

enum sshsig_result
sshsig_verify(const char *armored, size_t armored_len, const void *msg, size_t msg_len,
    const char *namespace, unsigned char **signer, size_t *signer_len)
{
	const unsigned char *key, *ns, *reserved, *hashalg, *sig, *keytype;
	size_t keylen, nslen, rlen, hlen, siglen, ktlen, datalen;
	const struct ecdsa_curve *curve;
	unsigned char *blob = NULL, *data = NULL, *p, hash[EVP_MAX_MD_SIZE];
	unsigned int hashlen = 0;
	enum sshsig_result r = SSHSIG_MALFORMED;
	const EVP_MD *md;
	EVP_PKEY *pkey = NULL;
	struct wire w;
	uint32_t version;
	size_t bloblen;

	*signer = NULL;
	*signer_len = 0;
	if (sshsig_dearmor(armored, armored_len, &blob, &bloblen) != 0)
		return SSHSIG_MALFORMED;
	w.p = blob;
	w.left = bloblen;
	if (w.left < SSHSIG_MAGIC_LEN || memcmp(w.p, SSHSIG_MAGIC, SSHSIG_MAGIC_LEN) != 0)
		goto out;
	w.p += SSHSIG_MAGIC_LEN;
	w.left -= SSHSIG_MAGIC_LEN;
	if (wire_u32(&w, &version) != 0 || version != SSHSIG_VERSION ||
	    wire_string(&w, &key, &keylen) != 0 || wire_string(&w, &ns, &nslen) != 0 ||
	    wire_string(&w, &reserved, &rlen) != 0 || wire_string(&w, &hashalg, &hlen) != 0 ||
	    wire_string(&w, &sig, &siglen) != 0 || w.left != 0)
		goto out;
	if (!wire_equals(ns, nslen, namespace)) {
		r = SSHSIG_WRONG_NAMESPACE;
		goto out;
	}
	if (wire_equals(hashalg, hlen, "sha256"))
		md = EVP_sha256();
	else if (wire_equals(hashalg, hlen, "sha512"))
		md = EVP_sha512();
	else {
		r = SSHSIG_UNSUPPORTED;
		goto out;
	}
	w.p = key;
	w.left = keylen;
	if (wire_string(&w, &keytype, &ktlen) != 0)
		goto out;
	if ((pkey = pkey_from_blob(key, keylen, &curve)) == NULL) {
		r = SSHSIG_UNSUPPORTED;
		goto out;
	}
	if (EVP_Digest(msg, msg_len, hash, &hashlen, md, NULL) != 1)
		goto out;
	/* The signed data: MAGIC, string namespace, string reserved, string hash alg, string
	 * H(msg). */
	datalen = SSHSIG_MAGIC_LEN + 4 + nslen + 4 + rlen + 4 + hlen + 4 + hashlen;
	data = p = xmalloc(datalen);
	memcpy(p, SSHSIG_MAGIC, SSHSIG_MAGIC_LEN);
	p += SSHSIG_MAGIC_LEN;
	wire_put_string(&p, ns, nslen);
	wire_put_string(&p, reserved, rlen);
	wire_put_string(&p, hashalg, hlen);
	wire_put_string(&p, hash, hashlen);
	if (!sshsig_check(pkey, curve, keytype, ktlen, sig, siglen, data, datalen)) {
		r = SSHSIG_BAD_SIGNATURE;
		goto out;
	}
	*signer = xmalloc(keylen);
	memcpy(*signer, key, keylen);
	*signer_len = keylen;
	r = SSHSIG_OK;
out:
	EVP_PKEY_free(pkey);
	free(data);
	free(blob);
	return r;
}

const char *
sshsig_result_text(enum sshsig_result r)
{
	switch (r) {
	case SSHSIG_OK:
		return "good signature";
	case SSHSIG_MALFORMED:
		return "signature file is not an SSH signature";
	case SSHSIG_WRONG_NAMESPACE:
		return "signature was made for another purpose (wrong namespace)";
	case SSHSIG_UNSUPPORTED:
		return "signature uses an unsupported key type or hash";
	case SSHSIG_BAD_SIGNATURE:
		return "signature does not match the ticket (altered ticket or wrong signature)";
	}
	return "unknown signature result";
}
