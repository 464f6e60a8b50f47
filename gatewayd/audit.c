/* audit.c: appends audit events as JSON lines, shared by every session process, and
 * mirrors each to syslog. Each line carries the hash of the line before it and a
 * signature. Never writes a partial or interleaved line: the previous line is read and
 * the new one written with one write() under an exclusive flock on an O_APPEND file. */
#include "gatewayd/audit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "common/xmalloc.h"
#include "gatewayd/seal.h"

#define AUDIT_SIGNED_PREFIX "gatewayd-audit-v1\n"
#define AUDIT_LINE_MAX      (16 * 1024 * 1024) /* a longer last line is not ours: refuse */

struct audit {
	int fd;
	const struct sealkey *key;
	/* The line this process wrote last, to skip re-reading it when nobody wrote since. */
	off_t last_end;
	unsigned char last_hash[SEAL_HASH_LEN];
};

struct audit *
audit_open(const char *path, const struct sealkey *key)
{
	struct audit *a;
	int fd;

	if (key == NULL) {
		errno = EINVAL;
		return NULL;
	}
	fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return NULL;
	a = xcalloc(1, sizeof(*a));
	a->fd = fd;
	a->key = key;
	a->last_end = -1;
	return a;
}

void
audit_close(struct audit *a)
{
	if (a == NULL)
		return;
	close(a->fd);
	free(a);
}

/* Hash of the last line of the first size bytes (without its newline); zeros when empty. */
static int
audit_last_hash(struct audit *a, off_t size, unsigned char out[SEAL_HASH_LEN])
{
	size_t window = 4096, n, end, start;
	char *buf;
	off_t from;

	if (size == 0) {
		memset(out, 0, SEAL_HASH_LEN);
		return 0;
	}
	if (size == a->last_end) {
		memcpy(out, a->last_hash, SEAL_HASH_LEN);
		return 0;
	}
	for (;;) {
		from = size > (off_t)window ? size - (off_t)window : 0;
		n = (size_t)(size - from);
		buf = xmalloc(n);
		if (pread(a->fd, buf, n, from) != (ssize_t)n) {
			free(buf);
			errno = EIO;
			return -1;
		}
		end = buf[n - 1] == '\n' ? n - 1 : n;
		for (start = end; start > 0 && buf[start - 1] != '\n'; start--)
			;
		if (start > 0 || from == 0) {
			seal_digest(buf + start, end - start, out);
			free(buf);
			return 0;
		}
		free(buf);
		if (window >= AUDIT_LINE_MAX) {
			errno = EFBIG;
			return -1;
		}
		window *= 8;
	}
}

/* Chains, signs and appends one event object while holding the lock, so the line
 * before it is the one its "prev" names. A short write is cut off again. */
static int
audit_append(struct audit *a, json_t *obj)
{
	unsigned char prev[SEAL_HASH_LEN];
	char hex[SEAL_HEX_LEN], sig[SEAL_SIG_B64_LEN];
	char *body = NULL, *signed_msg = NULL, *line = NULL;
	struct stat st;
	ssize_t n = -1;
	int len, err = 0;

	while (flock(a->fd, LOCK_EX) != 0)
		if (errno != EINTR)
			return -1;
	if (fstat(a->fd, &st) != 0 || audit_last_hash(a, st.st_size, prev) != 0) {
		err = errno;
		goto out;
	}
	seal_hex(prev, SEAL_HASH_LEN, hex);
	json_object_set_new(obj, "prev", json_string(hex));
	body = json_dumps(obj, JSON_COMPACT);
	len = xasprintf(&signed_msg, AUDIT_SIGNED_PREFIX "%s", body);
	if (sealkey_sign(a->key, signed_msg, (size_t)len, sig) != 0) {
		err = EIO;
		goto out;
	}
	/* body ends in '}': the signature becomes the last member. */
	len = xasprintf(&line, "%.*s,\"sig\":\"%s\"}\n", (int)strlen(body) - 1, body, sig);
	do
		n = write(a->fd, line, (size_t)len);
	while (n < 0 && errno == EINTR);
	if (n != len) {
		err = n < 0 ? errno : ENOSPC;
		if (n > 0 && ftruncate(a->fd, st.st_size) != 0)
			err = errno;
		goto out;
	}
	a->last_end = st.st_size + len;
	seal_digest(line, (size_t)len - 1, a->last_hash);
out:
	flock(a->fd, LOCK_UN);
	free(body);
	free(signed_msg);
	free(line);
	if (err != 0) {
		errno = err;
		return -1;
	}
	return 0;
}

int
audit_event(struct audit *a, const char *event, json_t *fields)
{
	char ts[SEAL_TIME_LEN];
	json_t *obj;
	char *summary;
	int rc;

	if (a == NULL || event == NULL || (fields != NULL && !json_is_object(fields))) {
		json_decref(fields);
		errno = EINVAL;
		return -1;
	}
	seal_format_now(ts);
	obj = json_pack("{s:s,s:s}", "ts", ts, "event", event);
	if (obj == NULL) { /* event is not UTF-8: a caller's bug */
		json_decref(fields);
		errno = EINVAL;
		return -1;
	}
	if (fields != NULL)
		json_object_update_missing(obj, fields);
	json_decref(fields);
	json_object_del(obj, "prev");
	json_object_del(obj, "sig");
	/* jansson escapes control characters, so the summary is one line. */
	if ((summary = json_dumps(obj, JSON_COMPACT)) != NULL)
		syslog(LOG_AUTHPRIV | LOG_INFO, "audit: %s", summary);
	free(summary);
	rc = audit_append(a, obj);
	json_decref(obj);
	return rc;
}

int
audit_event_once(const char *path, const struct sealkey *key, const char *event, json_t *fields)
{
	struct audit *a;
	int rc, saved;

	if ((a = audit_open(path, key)) == NULL) {
		saved = errno;
		json_decref(fields);
		errno = saved;
		return -1;
	}
	rc = audit_event(a, event, fields);
	saved = errno;
	audit_close(a);
	errno = saved;
	return rc;
}
