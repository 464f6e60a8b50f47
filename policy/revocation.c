/* revocation.c: the revocation record, <state_dir>/revocations: one line per revoked ticket,
 * "TIME<TAB>ID<TAB>REASON". Only ever appended to; nothing here rewrites or deletes a line. */
#include "policy/policy.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/xmalloc.h"

#define REVOCATION_LINE_MAX 1024

static bool
reason_is_printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

int
revocation_append(
    const char *state_dir, const char *id, time_t at, const char *reason, char **error)
{
	char when[GW_TIME_UTC_LEN], *path, *line;
	ssize_t n;
	int fd, len, rc = -1;

	*error = NULL;
	if (!ticket_id_is_valid(id)) {
		xasprintf(error, "\"%s\" is not a valid ticket id", id);
		return -1;
	}
	if (*reason == '\0' || strlen(reason) >= GW_REASON_MAX || !reason_is_printable(reason)) {
		xasprintf(
		    error, "the reason must be 1 to %d printable characters", GW_REASON_MAX - 1);
		return -1;
	}
	time_format_utc(at, when);
	len = xasprintf(&line, "%s\t%s\t%s\n", when, id, reason);
	xasprintf(&path, "%s/revocations", state_dir);
	/* One write() of a short line to an O_APPEND file: concurrent appenders never interleave.
	 */
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)) == -1)
		xasprintf(error, "%s: %s", path, strerror(errno));
	else if ((n = write(fd, line, (size_t)len)) != len)
		xasprintf(
		    error, "%s: write failed: %s", path, n < 0 ? strerror(errno) : "short write");
	else if (fsync(fd) != 0)
		xasprintf(error, "%s: fsync failed: %s", path, strerror(errno));
	else
		rc = 0;
	if (fd != -1)
		close(fd);
	free(path);
	free(line);
	return rc;
}

/* "TIME\tID\tREASON" without its newline. */
static int
revocation_parse_line(char *line, struct ticket_set *set)
{
	char *id, *reason;
	time_t at;

	if ((id = strchr(line, '\t')) == NULL)
		return -1;
	*id++ = '\0';
	if ((reason = strchr(id, '\t')) == NULL)
		return -1;
	*reason++ = '\0';
	if (time_parse_utc(line, &at) != 0 || !ticket_id_is_valid(id) || *reason == '\0' ||
	    !reason_is_printable(reason))
		return -1;
	ticketset_add_revocation(set, id, at, reason);
	return 0;
}

int
revocation_load(const char *state_dir, struct ticket_set *set, char **errors)
{
	char *path, line[REVOCATION_LINE_MAX];
	unsigned long lineno = 0;
	int rc = 0;
	FILE *f;

	*errors = NULL;
	xasprintf(&path, "%s/revocations", state_dir);
	if ((f = fopen(path, "re")) == NULL) {
		if (errno != ENOENT) {
			xasprintf(
			    errors, "%s:0: cannot read revocations: %s\n", path, strerror(errno));
			rc = -1;
		}
		free(path);
		return rc;
	}
	/* A line that cannot be read might be a revocation: refuse rather than guess. */
	while (fgets(line, sizeof(line), f) != NULL) {
		size_t n = strlen(line);

		lineno++;
		if (n == 0 || line[n - 1] != '\n') {
			xasprintf(
			    errors, "%s:%lu: line is too long or unterminated\n", path, lineno);
			rc = -1;
			break;
		}
		line[n - 1] = '\0';
		if (revocation_parse_line(line, set) != 0) {
			xasprintf(errors, "%s:%lu: not a TIME<TAB>ID<TAB>REASON revocation line\n",
			    path, lineno);
			rc = -1;
			break;
		}
	}
	if (rc == 0 && ferror(f)) {
		xasprintf(errors, "%s: read error\n", path);
		rc = -1;
	}
	fclose(f);
	free(path);
	return rc;
}
