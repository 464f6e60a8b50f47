/* recchain.c: a recording's hash chain while it is written, the checkpoint requests a signer
 * (a local key or the listener's notary) answers, and the file's creation and writes; used by
 * recorder.c and pcaprec.c, which decide what the records are and when they go. */
#include "evidence/recchain.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "common/xmalloc.h"

#define RECCHAIN_SESSION_ID_MAX 64

void
recchain_init(struct rec_chain *c, const char *path, const struct recorder_signer *signer,
    const void *header, size_t header_len)
{
	const char *slash = strrchr(path, '/');

	c->signer = *signer;
	c->name = slash != NULL ? slash + 1 : path;
	c->header = xmalloc(header_len + 1);
	memcpy(c->header, header, header_len);
	c->header[header_len] = '\0';
	c->header_len = header_len;
}

void
recchain_free(struct rec_chain *c)
{
	free(c->listed);
	free(c->header);
	c->listed = NULL;
	c->header = NULL;
}

void
recchain_add(struct rec_chain *c, const void *rec, size_t len, bool listed)
{
	unsigned char digest[SEAL_HASH_LEN];

	seal_digest(rec, len, digest);
	seal_chain_step(c->chain, digest);
	c->nrecords++;
	if (!listed) { /* a checkpoint record: the next signature request carries its digest */
		memcpy(c->carried, digest, SEAL_HASH_LEN);
		c->has_carried = true;
		return;
	}
	if (c->pending_since == 0)
		c->pending_since = time(NULL);
	if (c->nlisted == c->listed_cap) {
		c->listed_cap = c->listed_cap == 0 ? 64 : 2 * c->listed_cap;
		c->listed = xreallocarray(c->listed, c->listed_cap, sizeof(*c->listed));
	}
	memcpy(c->listed[c->nlisted++], digest, SEAL_HASH_LEN);
}

/* The time in the checkpoint is the signer's: a notary puts its own clock there, so a recorder
 * cannot backdate. */
int
recchain_sign(struct rec_chain *c, const char *stamp, bool final, char chain[SEAL_HEX_LEN],
    char sig[SEAL_SIG_B64_LEN], char time[SEAL_TIME_LEN])
{
	struct checkpoint_req req;
	unsigned char(*records)[SEAL_HASH_LEN];
	size_t k = 0;
	int rc;

	seal_hex(c->chain, SEAL_HASH_LEN, chain);
	records = xreallocarray(NULL, c->nlisted + 1, sizeof(*records));
	if (c->has_carried)
		memcpy(records[k++], c->carried, SEAL_HASH_LEN);
	memcpy(records + k, c->listed, c->nlisted * sizeof(*records));
	req = (struct checkpoint_req){ .recording = c->name,
		.n = c->nrecords,
		.chain = chain,
		.prev = c->signed_chain,
		.stamp = stamp,
		.records = (const unsigned char(*)[SEAL_HASH_LEN])records,
		.nrecords = k + c->nlisted,
		.header = c->header,
		.header_len = c->header_len,
		.final = final };
	rc = c->signer.sign(c->signer.ctx, &req, sig, time);
	free(records);
	if (rc != 0)
		return (errno = EIO), -1;
	free(c->header);
	c->header = NULL;
	c->has_carried = false;
	memcpy(c->signed_chain, chain, SEAL_HEX_LEN);
	return 0;
}

json_t *
recchain_listed_json(const struct rec_chain *c)
{
	char hex[SEAL_HEX_LEN];
	json_t *list = json_array();
	size_t i;

	for (i = 0; i < c->nlisted; i++) {
		seal_hex(c->listed[i], SEAL_HASH_LEN, hex);
		json_array_append_new(list, json_string(hex));
	}
	return list;
}

void
recchain_clear_listed(struct rec_chain *c)
{
	c->nlisted = 0;
	c->pending_since = 0;
}

int
recchain_lock(int fd)
{
	return flock(fd, LOCK_EX | LOCK_NB);
}

void
recchain_json_set_string(json_t *obj, const char *key, const char *s)
{
	json_t *v;
	char *k, *b64;
	size_t n;

	if (s == NULL)
		return;
	if ((v = json_string(s)) != NULL) {
		json_object_set_new(obj, key, v);
		return;
	}
	n = strlen(s);
	b64 = xmalloc(4 * ((n + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)s, (int)n);
	xasprintf(&k, "%s_base64", key);
	json_object_set_new(obj, k, json_string(b64));
	free(k);
	free(b64);
}

bool
recchain_id_is_hex(const char *id)
{
	size_t n;

	if (id == NULL)
		return false;
	for (n = 0; id[n] != '\0'; n++)
		if (n >= RECCHAIN_SESSION_ID_MAX || !isxdigit((unsigned char)id[n]))
			return false;
	return n > 0;
}

int
recchain_create_file(
    const char *dir, const char *session_id, unsigned channel, const char *suffix, char **path)
{
	int fd, err;

	xasprintf(path, "%s/%s.%u%s", dir, session_id, channel, suffix);
	if ((fd = open(*path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) == -1) {
		err = errno;
		free(*path);
		*path = NULL;
		errno = err;
	}
	return fd;
}

int
recchain_write_file(struct rec_file *f, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	ssize_t n;

	while (len > 0) {
		n = write(f->fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
		f->written += (size_t)n;
	}
	while (f->written - f->handed >= RECCHAIN_WINDOW) {
		/* Starts the writeback and does not wait for it: an error the disk reports here
		 * ends the recording like a failed write. */
		if (sync_file_range(f->fd, (off_t)f->handed, (off_t)RECCHAIN_WINDOW,
		        SYNC_FILE_RANGE_WRITE) != 0)
			return -1;
		/* The window before went to the disk a window's time ago; what is still being
		 * written stays cached, and the kernel reclaims it later as it would. */
		if (f->handed >= RECCHAIN_WINDOW)
			(void)posix_fadvise(f->fd, (off_t)(f->handed - RECCHAIN_WINDOW),
			    (off_t)RECCHAIN_WINDOW, POSIX_FADV_DONTNEED);
		f->handed += RECCHAIN_WINDOW;
	}
	return 0;
}
