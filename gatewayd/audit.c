/* audit.c: appends audit events as JSON lines, shared by every session process, and
 * mirrors each to syslog. Never writes a partial or interleaved line: one write() per
 * line under an exclusive flock on an O_APPEND descriptor. */
#include "gatewayd/audit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <syslog.h>
#include <unistd.h>

#include "common/xmalloc.h"
#include "gatewayd/seal.h"

struct audit {
	int fd;
};

struct audit *
audit_open(const char *path)
{
	struct audit *a;
	int fd;

	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return NULL;
	a = xcalloc(1, sizeof(*a));
	a->fd = fd;
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

/* One write() of the whole line while holding the lock; a short write is a failure. */
static int
audit_append(struct audit *a, const char *line, size_t len)
{
	ssize_t n;
	int err = 0;

	while (flock(a->fd, LOCK_EX) != 0)
		if (errno != EINTR)
			return -1;
	do
		n = write(a->fd, line, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		err = errno;
	else if ((size_t)n != len)
		err = ENOSPC;
	flock(a->fd, LOCK_UN);
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
	char *line;
	size_t len;
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
	line = json_dumps(obj, JSON_COMPACT);
	json_decref(obj);
	if (line == NULL) {
		errno = ENOMEM;
		return -1;
	}
	/* jansson escapes control characters, so the line is one line for syslog too. */
	syslog(LOG_AUTHPRIV | LOG_INFO, "audit: %s", line);
	len = strlen(line);
	line = xreallocarray(line, 1, len + 2);
	line[len++] = '\n';
	line[len] = '\0';
	rc = audit_append(a, line, len);
	free(line);
	return rc;
}
