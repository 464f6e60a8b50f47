/* audit.c: appends audit events as JSON lines (in gatewayd, only the listener's notary does) and
 * mirrors each to syslog. Each line carries the hash of the line before it and a
 * signature. Never writes a partial or interleaved line: the previous line is read and
 * the new one written with one write() under an exclusive flock on an O_APPEND file, which
 * is open write-only: the tail is read through a read-only reopen of the same file. */
#include "gatewayd/audit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "common/xmalloc.h"
#include "evidence/seal.h"

#define AUDIT_SIGNED_PREFIX "gatewayd-audit-v1\n"
#define AUDIT_LINE_MAX      (16 * 1024 * 1024) /* a longer last line is not ours: refuse */
#define AUDIT_NAME_MAX      64                 /* a field name, "_base64" included */

struct audit {
	int fd; /* O_WRONLY | O_APPEND */
	char *path;
	const struct sealkey *key;
	/* The line this process wrote last, to skip re-reading it when nobody wrote since. */
	off_t last_end;
	unsigned char last_hash[SEAL_HASH_LEN];
	char *last_line; /* that line, without its newline: what a notifier is handed */
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
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return NULL;
	a = xcalloc(1, sizeof(*a));
	a->fd = fd;
	a->path = xstrdup(path);
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
	free(a->path);
	free(a->last_line);
	free(a);
}

const char *
audit_path(const struct audit *a)
{
	return a->path;
}

const char *
audit_last_line(const struct audit *a)
{
	return a->last_line;
}

/* A long-lived appender follows its path: once the log was rotated (renamed or removed), the
 * next line goes to the file the path names now, created if need be. */
static int
audit_follow(struct audit *a)
{
	struct stat open_st, path_st;
	int fd;

	if (fstat(a->fd, &open_st) != 0)
		return -1;
	if (stat(a->path, &path_st) == 0 && path_st.st_dev == open_st.st_dev &&
	    path_st.st_ino == open_st.st_ino)
		return 0;
	fd = open(a->path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	close(a->fd);
	a->fd = fd;
	a->last_end = -1;
	return 0;
}

/* A read-only descriptor on the file a->fd has open (not on whatever the path names now). */
static int
audit_open_reader(const struct audit *a)
{
	struct stat w, r;
	char proc[64];
	int fd;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", a->fd);
	if ((fd = open(proc, O_RDONLY | O_CLOEXEC)) < 0 &&
	    (fd = open(a->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return -1;
	if (fstat(a->fd, &w) != 0 || fstat(fd, &r) != 0 || w.st_dev != r.st_dev ||
	    w.st_ino != r.st_ino) {
		close(fd);
		errno = EIO;
		return -1;
	}
	return fd;
}

/* Hash of the last line of the first size bytes (without its newline); zeros when empty. */
static int
audit_last_hash(struct audit *a, off_t size, unsigned char out[SEAL_HASH_LEN])
{
	size_t window = 4096, n, end, start;
	char *buf;
	off_t from;
	int rfd, err;

	if (size == 0) {
		memset(out, 0, SEAL_HASH_LEN);
		return 0;
	}
	if (size == a->last_end) {
		memcpy(out, a->last_hash, SEAL_HASH_LEN);
		return 0;
	}
	if ((rfd = audit_open_reader(a)) < 0)
		return -1;
	for (;;) {
		from = size > (off_t)window ? size - (off_t)window : 0;
		n = (size_t)(size - from);
		buf = xmalloc(n);
		if (pread(rfd, buf, n, from) != (ssize_t)n) {
			free(buf);
			err = EIO;
			break;
		}
		end = buf[n - 1] == '\n' ? n - 1 : n;
		for (start = end; start > 0 && buf[start - 1] != '\n'; start--)
			;
		if (start > 0 || from == 0) {
			seal_digest(buf + start, end - start, out);
			free(buf);
			close(rfd);
			return 0;
		}
		free(buf);
		if (window >= AUDIT_LINE_MAX) {
			err = EFBIG;
			break;
		}
		window *= 8;
	}
	close(rfd);
	errno = err;
	return -1;
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

	if (audit_follow(a) != 0)
		return -1;
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
	line[len - 1] = '\0';
	free(a->last_line);
	a->last_line = line;
	line = NULL;
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

/* ---- event fields ---- */

/* Length of the valid UTF-8 sequence at p (as jansson checks it: no overlong forms, no
 * surrogates, nothing above U+10FFFF), or 0 when the byte at p starts none. NUL counts as
 * invalid too: a "\u0000" in a field would cut it short for every reader in C. */
static size_t
audit_utf8_len(const unsigned char *p, size_t left)
{
	uint32_t cp;
	size_t n, i;

	if (p[0] == 0)
		return 0;
	if (p[0] < 0x80)
		return 1;
	if (p[0] < 0xc2 || p[0] > 0xf4)
		return 0;
	n = p[0] < 0xe0 ? 2 : p[0] < 0xf0 ? 3 : 4;
	if (left < n)
		return 0;
	cp = p[0] & (0x7f >> n);
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* The text with every byte outside valid UTF-8 as "\xHH"; NULL when s is valid UTF-8. */
static char *
audit_escape_invalid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, o = 0, n;
	char *out = NULL;

	while (i < len) {
		if ((n = audit_utf8_len(p + i, len - i)) == 0) {
			if (out == NULL) {
				out = xmalloc(len * 4 + 1); /* each byte at most "\xHH" */
				memcpy(out, s, i);
				o = i;
			}
			o += (size_t)snprintf(out + o, 5, "\\x%02x", p[i]);
			i++;
			continue;
		}
		if (out != NULL)
			memcpy(out + o, s + i, n);
		o += n;
		i += n;
	}
	if (out != NULL)
		out[o] = '\0';
	return out;
}

int
audit_set_text(json_t *obj, const char *name, const char *s, size_t len)
{
	char twin[AUDIT_NAME_MAX], *shown, *b64;
	int rc;

	if (!json_is_object(obj) || name == NULL || s == NULL || len > AUDIT_LINE_MAX ||
	    snprintf(twin, sizeof(twin), "%s_base64", name) >= (int)sizeof(twin))
		return -1;
	if ((shown = audit_escape_invalid(s, len)) == NULL)
		return json_object_set_new(obj, name, json_stringn(s, len));
	b64 = xmalloc(4 * ((len + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)s, (int)len);
	rc = json_object_set_new(obj, name, json_string(shown)) == 0 &&
	        json_object_set_new(obj, twin, json_string(b64)) == 0
	    ? 0
	    : -1;
	free(shown);
	free(b64);
	return rc;
}

/* One value of audit_pack()'s format at *fmt (advanced past it) into obj[key]. */
static int
audit_pack_value(json_t *obj, const char *key, const char **fmt, va_list *ap)
{
	const char *str;
	json_t *v;
	size_t len;

	switch (*(*fmt)++) {
	case 's':
		if (**fmt == '%') {
			(*fmt)++;
			str = va_arg(*ap, const char *);
			len = va_arg(*ap, size_t);
			return audit_set_text(obj, key, str, len);
		}
		str = va_arg(*ap, const char *);
		if (**fmt == '?') {
			(*fmt)++;
			if (str == NULL)
				return 0;
		}
		return str == NULL ? -1 : audit_set_text(obj, key, str, strlen(str));
	case 'i':
		return json_object_set_new(obj, key, json_integer(va_arg(*ap, int)));
	case 'I':
		return json_object_set_new(obj, key, json_integer(va_arg(*ap, json_int_t)));
	case 'b':
		return json_object_set_new(obj, key, json_boolean(va_arg(*ap, int)));
	case 'o':
		return (v = va_arg(*ap, json_t *)) == NULL ? -1 : json_object_set_new(obj, key, v);
	case 'O':
		return (v = va_arg(*ap, json_t *)) == NULL ? -1 : json_object_set(obj, key, v);
	default:
		return -1;
	}
}

json_t *
audit_pack(const char *fmt, ...)
{
	json_t *obj = json_object();
	const char *key;
	va_list ap;
	int rc = -1;

	fmt += strspn(fmt, " ");
	if (obj == NULL || *fmt++ != '{') {
		json_decref(obj);
		return NULL;
	}
	va_start(ap, fmt);
	for (;;) {
		fmt += strspn(fmt, " ,");
		if (*fmt == '}') {
			rc = fmt[1 + strspn(fmt + 1, " ")] == '\0' ? 0 : -1;
			break;
		}
		if (*fmt++ != 's' || (key = va_arg(ap, const char *)) == NULL)
			break;
		fmt += strspn(fmt, " :");
		if (audit_pack_value(obj, key, &fmt, &ap) != 0)
			break;
	}
	va_end(ap);
	if (rc != 0) {
		json_decref(obj);
		return NULL;
	}
	return obj;
}
