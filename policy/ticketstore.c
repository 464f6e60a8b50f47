/* ticketstore.c: installed tickets under <state_dir>/tickets: ID.ticket (the signed text),
 * ID.ticket.sig (its SSHSIG blocks, named as ssh-keygen names it) and ID.used (one line per
 * session started under it). File names are built only from validated ticket ids; an
 * installed ticket is never replaced or deleted, its signatures are only ever added to. */
#include "policy/policy.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/xmalloc.h"

#define TICKETSTORE_USED_MAX (16 * 1024 * 1024) /* ID.used: 21 bytes a session */

static void
errors_append(char **errors, const char *line)
{
	char *joined;

	xasprintf(&joined, "%s%s", *errors ? *errors : "", line);
	free(*errors);
	*errors = joined;
}

/* Reads at most max bytes of dir/name; -1 with errno (EFBIG when larger). */
static int
store_read_at(int dirfd, const char *name, size_t max, char **out, size_t *len)
{
	struct stat st;
	char *buf;
	size_t got = 0;
	ssize_t n;
	int fd;

	*out = NULL;
	*len = 0;
	if ((fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return -1;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > max) {
		errno = S_ISREG(st.st_mode) ? EFBIG : EINVAL;
		close(fd);
		return -1;
	}
	buf = xmalloc((size_t)st.st_size + 1);
	while (got < (size_t)st.st_size && (n = read(fd, buf + got, (size_t)st.st_size - got)) > 0)
		got += (size_t)n;
	close(fd);
	buf[got] = '\0';
	*out = buf;
	*len = got;
	return 0;
}

int
file_read_bounded(const char *path, size_t max, char **out, size_t *len)
{
	return store_read_at(AT_FDCWD, path, max, out, len);
}

static unsigned
store_count_used(int dirfd, const char *id)
{
	char *name, *buf;
	unsigned count = 0;
	size_t len, i;

	xasprintf(&name, "%s.used", id);
	if (store_read_at(dirfd, name, TICKETSTORE_USED_MAX, &buf, &len) == 0) {
		for (i = 0; i < len; i++)
			count += buf[i] == '\n';
		free(buf);
	} else if (errno != ENOENT) {
		count = ~0u; /* unreadable: treat as used up, never as unused */
	}
	free(name);
	return count;
}

/* Loads one ticket; NULL (with a note in *errors) when it cannot be parsed, NULL without
 * one when vendor is not NULL and the ticket is another vendor's. */
static struct gw_ticket *
store_load_one(int dirfd, const char *dir, const char *id, const struct gw_config *cfg,
    const char *vendor, char **errors)
{
	char *name, *text = NULL, *sig = NULL, *origin, *perr = NULL, *line;
	size_t len, siglen = 0;
	struct gw_ticket *t = NULL;

	xasprintf(&origin, "%s/%s.ticket", dir, id);
	xasprintf(&name, "%s.ticket", id);
	if (store_read_at(dirfd, name, TICKET_TEXT_MAX, &text, &len) != 0) {
		xasprintf(&line, "%s:0: cannot read: %s\n", origin, strerror(errno));
		goto fail;
	}
	if (ticket_parse(text, len, origin, &t, &perr) != 0) {
		line = perr;
		perr = NULL;
		goto fail;
	}
	if (strcmp(t->id, id) != 0) {
		xasprintf(
		    &line, "%s:0: ticket id \"%s\" does not match its file name\n", origin, t->id);
		ticket_free(t);
		t = NULL;
		goto fail;
	}
	/* Another vendor's ticket covers none of this vendor's persons: its signatures, the
	 * costly part with thousands of tickets, need no checking for this decision. */
	if (vendor != NULL && strcmp(t->vendor, vendor) != 0) {
		ticket_free(t);
		t = NULL;
		goto out;
	}
	free(name);
	xasprintf(&name, "%s.ticket.sig", id);
	if (store_read_at(dirfd, name, TICKET_SIG_MAX, &sig, &siglen) != 0)
		sig = NULL;
	ticket_verify(t, text, len, sig, siglen, cfg);
	t->used_sessions = store_count_used(dirfd, id);
	goto out;
fail:
	errors_append(errors, line);
	free(line);
out:
	free(origin);
	free(name);
	free(text);
	free(sig);
	return t;
}

int
ticketstore_load(const char *state_dir, const struct gw_config *cfg, const char *vendor,
    struct ticket_set **out, char **errors)
{
	struct ticket_set *set = ticketset_new();
	char *dir, *rerr = NULL;
	struct dirent *de;
	DIR *d;
	int rc = 0;

	*out = NULL;
	*errors = NULL;
	xasprintf(&dir, "%s/tickets", state_dir);
	if ((d = opendir(dir)) == NULL && errno != ENOENT) {
		xasprintf(errors, "%s:0: cannot read the ticket store: %s\n", dir, strerror(errno));
		rc = -1;
	}
	while (d != NULL && (de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);
		struct gw_ticket *t;
		char *id;

		if (n <= 7 || strcmp(de->d_name + n - 7, ".ticket") != 0)
			continue;
		id = xstrndup(de->d_name, n - 7);
		if (!ticket_id_is_valid(id)) {
			char *line;

			xasprintf(
			    &line, "%s:0: ignoring a file that is not named ID.ticket\n", dir);
			errors_append(errors, line);
			free(line);
		} else if ((t = store_load_one(dirfd(d), dir, id, cfg, vendor, errors)) != NULL) {
			ticketset_add_ticket(set, t);
		}
		free(id);
	}
	if (d != NULL)
		closedir(d);
	if (revocation_load(state_dir, set, &rerr) != 0) {
		errors_append(errors, rerr);
		rc = -1;
	}
	free(rerr);
	free(dir);
	if (rc != 0) {
		ticketset_free(set);
		return -1;
	}
	*out = set;
	return 0;
}

int
ticketstore_load_ticket(const char *state_dir, const struct gw_config *cfg, const char *id,
    struct gw_ticket **out, char **errors)
{
	char *dir;
	int dfd;

	*out = NULL;
	*errors = NULL;
	if (!ticket_id_is_valid(id)) {
		xasprintf(errors, "\"%s\" is not a valid ticket id\n", id);
		return -1;
	}
	xasprintf(&dir, "%s/tickets", state_dir);
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		xasprintf(errors, "%s:0: cannot read the ticket store: %s\n", dir, strerror(errno));
	else {
		*out = store_load_one(dfd, dir, id, cfg, NULL, errors);
		close(dfd);
	}
	free(dir);
	return *out != NULL ? 0 : -1;
}

int
ticketstore_has_ticket(const char *state_dir, const char *id, char **error)
{
	struct stat st;
	char *path;
	int rc = 1;

	*error = NULL;
	if (!ticket_id_is_valid(id))
		return 0;
	xasprintf(&path, "%s/tickets/%s.ticket", state_dir, id);
	if (lstat(path, &st) != 0) {
		rc = errno == ENOENT ? 0 : -1;
		if (rc != 0)
			xasprintf(error, "%s: %s", path, strerror(errno));
	}
	free(path);
	return rc;
}

int
store_write(
    const char *dir, const char *name, const char *data, size_t len, bool replace, char **error)
{
	char *tmp, *path;
	ssize_t n;
	int fd, rc = -1;

	xasprintf(&tmp, "%s/.%s.tmp.%ld", dir, name, (long)getpid());
	xasprintf(&path, "%s/%s", dir, name);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600)) == -1) {
		xasprintf(error, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	n = write(fd, data, len);
	if (n < 0 || (size_t)n != len || fsync(fd) != 0) {
		xasprintf(
		    error, "%s: write failed: %s", tmp, n < 0 ? strerror(errno) : "short write");
		close(fd);
		unlink(tmp);
		goto out;
	}
	close(fd);
	/* link() refuses to replace; rename() replaces atomically. */
	if ((replace ? rename(tmp, path) : link(tmp, path)) != 0)
		xasprintf(error, "%s: %s", path, strerror(errno));
	else
		rc = 0;
	unlink(tmp);
out:
	free(tmp);
	free(path);
	return rc;
}

int
ticketstore_record_use(const char *state_dir, const char *id, time_t now, char **error)
{
	char when[GW_TIME_UTC_LEN + 1], *path;
	int fd, rc = -1;

	*error = NULL;
	if (!ticket_id_is_valid(id)) {
		xasprintf(error, "\"%s\" is not a valid ticket id", id);
		return -1;
	}
	time_format_utc(now, when);
	strcat(when, "\n");
	xasprintf(&path, "%s/tickets/%s.used", state_dir, id);
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)) == -1)
		xasprintf(error, "%s: %s", path, strerror(errno));
	else if (write(fd, when, strlen(when)) != (ssize_t)strlen(when) || fsync(fd) != 0)
		xasprintf(error, "%s: write failed: %s", path, strerror(errno));
	else
		rc = 0;
	if (fd != -1)
		close(fd);
	free(path);
	return rc;
}

int
ticketstore_read(const char *state_dir, const char *id, char **text, size_t *len, char **sig,
    size_t *siglen, char **error)
{
	char *path;
	int rc = -1;

	*error = NULL;
	*text = *sig = NULL;
	if (!ticket_id_is_valid(id)) {
		xasprintf(error, "\"%s\" is not a valid ticket id", id);
		return -1;
	}
	xasprintf(&path, "%s/tickets/%s.ticket", state_dir, id);
	if (file_read_bounded(path, TICKET_TEXT_MAX, text, len) != 0) {
		xasprintf(error, "%s: %s", path, strerror(errno));
		goto out;
	}
	free(path);
	xasprintf(&path, "%s/tickets/%s.ticket.sig", state_dir, id);
	if (file_read_bounded(path, TICKET_SIG_MAX, sig, siglen) != 0) {
		xasprintf(error, "%s: %s", path, strerror(errno));
		free(*text);
		*text = NULL;
		goto out;
	}
	rc = 0;
out:
	free(path);
	return rc;
}

/* Whether the block at b (blen bytes) is one of the blocks of sig. */
static bool
store_sig_holds(const char *sig, size_t siglen, const char *b, size_t blen)
{
	size_t off[TICKET_SIGS_MAX], len[TICKET_SIGS_MAX], n, i;

	if (ticket_split_signatures(sig, siglen, off, len, &n) != 0)
		return false;
	for (i = 0; i < n; i++)
		if (len[i] == blen && memcmp(sig + off[i], b, blen) == 0)
			return true;
	return false;
}

/* old with the blocks of add it does not hold appended, one block a line group (caller
 * frees); NULL with *error when a block does not verify over text or there would be too many. */
static char *
store_sig_merge(const char *id, const char *old, size_t oldlen, const char *add, size_t addlen,
    const char *text, size_t len, size_t *outlen, char **error)
{
	size_t off[TICKET_SIGS_MAX], blen[TICKET_SIGS_MAX], n, i, have, more;
	size_t oo[TICKET_SIGS_MAX], ol[TICKET_SIGS_MAX];
	enum sshsig_result r;
	unsigned char *blob;
	size_t bloblen;
	char *out;

	if (ticket_split_signatures(add, addlen, off, blen, &n) != 0 ||
	    ticket_split_signatures(old, oldlen, oo, ol, &have) != 0) {
		xasprintf(error,
		    "ticket %s: a signature file is not 1 to %d armored SSH signatures", id,
		    TICKET_SIGS_MAX);
		return NULL;
	}
	out = xmalloc(oldlen + addlen + 2 * n + 1);
	memcpy(out, old, oldlen);
	*outlen = oldlen;
	for (i = 0, more = 0; i < n; i++) {
		if (store_sig_holds(out, *outlen, add + off[i], blen[i]))
			continue;
		r = sshsig_verify(
		    add + off[i], blen[i], text, len, TICKET_NAMESPACE, &blob, &bloblen);
		free(blob);
		if (r != SSHSIG_OK || have + ++more > TICKET_SIGS_MAX) {
			xasprintf(error, "ticket %s: signature %zu not added: %s", id, i + 1,
			    r != SSHSIG_OK ? sshsig_result_text(r)
			                   : "the file holds enough signatures");
			free(out);
			return NULL;
		}
		if (*outlen > 0 && out[*outlen - 1] != '\n')
			out[(*outlen)++] = '\n';
		memcpy(out + *outlen, add + off[i], blen[i]);
		*outlen += blen[i];
		out[(*outlen)++] = '\n';
	}
	return out;
}

/* Locks the ticket directory for one writer: two approvers installing or signing the same
 * ticket at once must both keep their signatures. The descriptor, or -1 with *error. */
static int
store_lock(const char *dir, char **error)
{
	int dfd;

	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    flock(dfd, LOCK_EX) != 0) {
		xasprintf(error, "%s: %s", dir, strerror(errno));
		if (dfd != -1)
			close(dfd);
		return -1;
	}
	return dfd;
}

/* ticketstore_add_signature() under the lock dfd, for the installed text old. */
static int
store_add_locked(int dfd, const char *dir, const char *id, const char *old, size_t oldlen,
    const char *text, size_t len, const char *sig, size_t siglen, char **error)
{
	char *name, *oldsig = NULL, *merged = NULL;
	size_t oldsiglen, mergedlen;
	int rc = -1;

	if (oldlen != len || memcmp(old, text, len) != 0) {
		xasprintf(error,
		    "a different ticket %s is already installed; tickets are never replaced, issue "
		    "one with a new id",
		    id);
		return -1;
	}
	xasprintf(&name, "%s.ticket.sig", id);
	if (store_read_at(dfd, name, TICKET_SIG_MAX, &oldsig, &oldsiglen) != 0) {
		xasprintf(error, "%s/%s: %s", dir, name, strerror(errno));
		goto out;
	}
	merged = store_sig_merge(id, oldsig, oldsiglen, sig, siglen, text, len, &mergedlen, error);
	if (merged != NULL)
		/* Nothing new (every block is there already) leaves the file as it is. */
		rc = mergedlen == oldsiglen
		    ? 0
		    : store_write(dir, name, merged, mergedlen, true, error);
out:
	free(merged);
	free(oldsig);
	free(name);
	return rc;
}

int
ticketstore_install(const char *state_dir, const char *id, const char *text, size_t len,
    const char *sig, size_t siglen, char **error)
{
	char *dir, *name, *old = NULL;
	size_t oldlen;
	int dfd = -1, rc = -1;

	*error = NULL;
	if (!ticket_id_is_valid(id)) {
		xasprintf(error, "\"%s\" is not a valid ticket id", id);
		return -1;
	}
	xasprintf(&dir, "%s/tickets", state_dir);
	xasprintf(&name, "%s.ticket", id);
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		xasprintf(error, "%s: %s", dir, strerror(errno));
		goto out;
	}
	if ((dfd = store_lock(dir, error)) == -1)
		goto out;
	/* Installed already: its signatures are only ever added to, never replaced. */
	if (store_read_at(dfd, name, TICKET_TEXT_MAX, &old, &oldlen) == 0) {
		rc = store_add_locked(dfd, dir, id, old, oldlen, text, len, sig, siglen, error);
		goto out;
	}
	/* The signature goes first: a ticket file is never visible without it. */
	free(name);
	xasprintf(&name, "%s.ticket.sig", id);
	if (store_write(dir, name, sig, siglen, true, error) != 0)
		goto out;
	free(name);
	xasprintf(&name, "%s.ticket", id);
	if (store_write(dir, name, text, len, false, error) != 0)
		goto out;
	rc = 0;
out:
	if (dfd != -1)
		close(dfd);
	free(old);
	free(name);
	free(dir);
	return rc;
}

int
ticketstore_add_signature(const char *state_dir, const char *id, const char *text, size_t len,
    const char *sig, size_t siglen, char **error)
{
	char *dir, *name, *old = NULL;
	size_t oldlen;
	int dfd, rc = -1;

	*error = NULL;
	if (!ticket_id_is_valid(id)) {
		xasprintf(error, "\"%s\" is not a valid ticket id", id);
		return -1;
	}
	xasprintf(&dir, "%s/tickets", state_dir);
	xasprintf(&name, "%s.ticket", id);
	if ((dfd = store_lock(dir, error)) == -1) {
		free(*error);
		xasprintf(error, "ticket %s is not installed", id);
	} else if (store_read_at(dfd, name, TICKET_TEXT_MAX, &old, &oldlen) != 0) {
		xasprintf(error, "ticket %s is not installed", id);
	} else {
		rc = store_add_locked(dfd, dir, id, old, oldlen, text, len, sig, siglen, error);
	}
	if (dfd != -1)
		close(dfd);
	free(old);
	free(name);
	free(dir);
	return rc;
}
