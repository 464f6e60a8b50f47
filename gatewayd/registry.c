/* registry.c: the listener's live view of its session processes and the session side of
 * the link between them (JSON messages on a SOCK_SEQPACKET socketpair, fds for watchers).
 * The listener never trusts what a session process says beyond a bounded, checked record,
 * and never blocks on a session process or a watcher: a slow watcher loses output, told so. */
#include "gatewayd/registry.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "gatewayd/control.h"
#include "gatewayd/gatewayd.h"

#define REGISTRY_MSG_MAX       4096  /* one message on a link */
#define REGISTRY_ADMIT_TIMEOUT 5000  /* ms a session waits for the listener's answer */
#define REGISTRY_BYTES_EVERY   2     /* seconds between byte counter reports */
#define REGISTRY_WATCHERS_MAX  4     /* live views of one session */
#define REGISTRY_WATCH_BUF     65536 /* bytes queued for one watcher before output is dropped */
#define REGISTRY_WATCH_RESERVE 512   /* of which kept for the "dropped" and "end" lines */
#define REGISTRY_WATCH_CHUNK   3072  /* output bytes per watch line (4096 in base64) */
#define REGISTRY_DISABLED_MAX  10000 /* vendors in the disabled file */

/* ---- messages ---- */

/* Sends one JSON message (and optionally one fd); never blocks. Steals msg. */
static int
registry_send(int fd, json_t *msg, int pass_fd)
{
	char *text = json_dumps(msg, JSON_COMPACT);
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cbuf;
	struct iovec iov;
	struct msghdr mh;
	ssize_t n;

	json_decref(msg);
	if (text == NULL)
		return -1;
	memset(&mh, 0, sizeof(mh));
	iov.iov_base = text;
	iov.iov_len = strlen(text);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (pass_fd != -1) {
		memset(&cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf.buf;
		mh.msg_controllen = sizeof(cbuf.buf);
		CMSG_FIRSTHDR(&mh)->cmsg_level = SOL_SOCKET;
		CMSG_FIRSTHDR(&mh)->cmsg_type = SCM_RIGHTS;
		CMSG_FIRSTHDR(&mh)->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(CMSG_FIRSTHDR(&mh)), &pass_fd, sizeof(int));
	}
	n = iov.iov_len <= REGISTRY_MSG_MAX ? sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) : -1;
	free(text);
	return n == (ssize_t)iov.iov_len ? 0 : -1;
}

/* Receives one message: 1 with *msg (an object) and maybe *passed_fd, 0 at EOF, -1 when
 * nothing waits or on error. A malformed message is dropped (returns -1, logged). */
static int
registry_recv(int fd, json_t **msg, int *passed_fd)
{
	char buf[REGISTRY_MSG_MAX];
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cbuf;
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr mh = { .msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = cbuf.buf,
		.msg_controllen = sizeof(cbuf.buf) };
	struct cmsghdr *c;
	ssize_t n;

	*msg = NULL;
	*passed_fd = -1;
	n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n == 0)
		return 0;
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? -1 : 0;
	for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
		    c->cmsg_len == CMSG_LEN(sizeof(int)) && *passed_fd == -1)
			memcpy(passed_fd, CMSG_DATA(c), sizeof(int));
	if ((mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0 ||
	    (*msg = json_loadb(buf, (size_t)n, JSON_REJECT_DUPLICATES, NULL)) == NULL ||
	    !json_is_object(*msg)) {
		warn_f("malformed message on a session link dropped");
		json_decref(*msg);
		*msg = NULL;
		if (*passed_fd != -1)
			close(*passed_fd);
		*passed_fd = -1;
		return -1;
	}
	return 1;
}

static const char *
registry_msg_type(json_t *msg)
{
	const char *t = json_string_value(json_object_get(msg, "type"));

	return t != NULL ? t : "";
}

/* A string member of at most max-1 bytes without control characters, copied to out. */
static bool
registry_msg_string(json_t *msg, const char *key, char *out, size_t max)
{
	json_t *v = json_object_get(msg, key);
	const char *s = json_string_value(v);
	size_t i;

	if (s == NULL || json_string_length(v) >= max || strlen(s) != json_string_length(v))
		return false;
	for (i = 0; s[i] != '\0'; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	memcpy(out, s, strlen(s) + 1);
	return true;
}

/* ---- listener side ---- */

struct registry_entry {
	pid_t pid;
	int fd;        /* the listener's end of the link; -1 once the process closed it */
	bool admitted; /* authenticated, allowed and within the caps: listed and counted */
	char id[SESSION_ID_LEN + 1];
	char person[GW_ID_MAX + 1];
	char vendor[GW_ID_MAX + 1];
	char target[GW_ID_MAX + 1];
	char ticket[GW_ID_MAX + 1];
	char source[64];
	int port;
	time_t started, ends_at;
	unsigned long long bytes_in, bytes_out;
	unsigned kill_round;         /* the last registry_kill that told it to end */
	bool cut;                    /* it confirmed that it is cut */
	unsigned long long recorded; /* bytes of its recordings, as last reported */
	bool recording_cut;          /* ordered to end for its vendor's recording quota */
};

struct registry {
	struct registry_entry *entries;
	size_t n, cap;
	char **disabled; /* vendor ids refused until enabled again */
	size_t ndisabled;
	unsigned kill_round; /* registry_kill calls so far */
};

static void
registry_disabled_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Reads state_dir/disabled_vendors; a missing file is an empty set. */
static int
registry_disabled_load(const char *state_dir, char ***out, size_t *nout)
{
	char *path, *text = NULL, *line, *save = NULL;
	char **v = NULL;
	size_t n = 0, len;
	int rc = 0;

	xasprintf(&path, "%s/%s", state_dir, REGISTRY_DISABLED_FILE);
	if (file_read_bounded(path, REGISTRY_DISABLED_MAX * (GW_ID_MAX + 1), &text, &len) != 0) {
		if (errno != ENOENT) {
			error_f("cannot read %s: %s", path, strerror(errno));
			rc = -1;
		}
		free(path);
		*out = NULL;
		*nout = 0;
		return rc;
	}
	for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		if (!name_is_valid(line) || strlen(line) > GW_ID_MAX) {
			warn_f("%s: ignoring a line that is no vendor id", path);
			continue;
		}
		v = xreallocarray(v, n + 1, sizeof(*v));
		v[n++] = xstrdup(line);
	}
	free(text);
	free(path);
	*out = v;
	*nout = n;
	return 0;
}

static bool
registry_vendor_disabled(const struct registry *reg, const char *vendor)
{
	size_t i;

	for (i = 0; i < reg->ndisabled; i++)
		if (strcmp(reg->disabled[i], vendor) == 0)
			return true;
	return false;
}

struct registry *
registry_new(const char *state_dir)
{
	struct registry *reg = xcalloc(1, sizeof(*reg));

	if (registry_disabled_load(state_dir, &reg->disabled, &reg->ndisabled) != 0) {
		free(reg);
		return NULL;
	}
	return reg;
}

void
registry_free(struct registry *reg)
{
	size_t i;

	if (reg == NULL)
		return;
	for (i = 0; i < reg->n; i++)
		if (reg->entries[i].fd != -1)
			close(reg->entries[i].fd);
	free(reg->entries);
	registry_disabled_free(reg->disabled, reg->ndisabled);
	free(reg);
}

int
registry_reload(struct registry *reg, const char *state_dir)
{
	char **v;
	size_t n;

	if (registry_disabled_load(state_dir, &v, &n) != 0)
		return -1;
	registry_disabled_free(reg->disabled, reg->ndisabled);
	reg->disabled = v;
	reg->ndisabled = n;
	return 0;
}

void
registry_add(struct registry *reg, pid_t pid, int fd)
{
	struct registry_entry *e;

	if (reg->n == reg->cap) {
		reg->cap = reg->cap ? 2 * reg->cap : 64;
		reg->entries = xreallocarray(reg->entries, reg->cap, sizeof(*reg->entries));
	}
	e = &reg->entries[reg->n++];
	memset(e, 0, sizeof(*e));
	e->pid = pid;
	e->fd = fd;
}

void
registry_remove(struct registry *reg, pid_t pid)
{
	size_t i;

	for (i = 0; i < reg->n; i++) {
		if (reg->entries[i].pid != pid)
			continue;
		if (reg->entries[i].fd != -1)
			close(reg->entries[i].fd);
		reg->entries[i] = reg->entries[--reg->n];
		return;
	}
}

size_t
registry_nprocesses(const struct registry *reg)
{
	return reg->n;
}

void
registry_signal_all(const struct registry *reg, int sig)
{
	size_t i;

	for (i = 0; i < reg->n; i++)
		kill(reg->entries[i].pid, sig);
}

size_t
registry_npollfds(const struct registry *reg)
{
	size_t i, n = 0;

	for (i = 0; i < reg->n; i++)
		n += reg->entries[i].fd != -1;
	return n;
}

void
registry_pollfds(const struct registry *reg, struct pollfd *pfd)
{
	size_t i;

	for (i = 0; i < reg->n; i++)
		if (reg->entries[i].fd != -1) {
			pfd->fd = reg->entries[i].fd;
			pfd->events = POLLIN;
			pfd->revents = 0;
			pfd++;
		}
}

/* The caps and the disabled list, checked in the one process that sees every session. */
static void
registry_admit(
    struct registry *reg, struct registry_entry *e, json_t *msg, const struct gw_config *cfg)
{
	const struct gw_vendor *v;
	size_t i, total = 0, of_vendor = 0;
	char why[GW_REASON_MAX] = "", detail[256] = "";
	const char *reason = NULL;
	json_t *t;

	if (e->admitted || !registry_msg_string(msg, "id", e->id, sizeof(e->id)) ||
	    !control_session_id_is_valid(e->id) ||
	    !registry_msg_string(msg, "person", e->person, sizeof(e->person)) ||
	    !registry_msg_string(msg, "vendor", e->vendor, sizeof(e->vendor)) ||
	    !registry_msg_string(msg, "target", e->target, sizeof(e->target)) ||
	    !registry_msg_string(msg, "ticket", e->ticket, sizeof(e->ticket)) ||
	    !registry_msg_string(msg, "source", e->source, sizeof(e->source)) ||
	    !json_is_integer(t = json_object_get(msg, "started"))) {
		warn_f("session process %ld: malformed admission request refused", (long)e->pid);
		reason = "malformed_request";
		snprintf(why, sizeof(why), "access denied: internal error");
		goto reply;
	}
	e->started = (time_t)json_integer_value(t);
	e->ends_at = (time_t)json_integer_value(json_object_get(msg, "ends_at"));
	e->port = (int)json_integer_value(json_object_get(msg, "port"));
	for (i = 0; i < reg->n; i++) {
		if (!reg->entries[i].admitted)
			continue;
		total++;
		of_vendor += strcmp(reg->entries[i].vendor, e->vendor) == 0;
	}
	v = config_find_vendor(cfg, e->vendor);
	if (registry_vendor_disabled(reg, e->vendor)) {
		reason = "vendor_disabled_by_owner";
		snprintf(
		    why, sizeof(why), "access denied: vendor access disabled by the asset owner");
		snprintf(detail, sizeof(detail), "vendor %s is disabled (gatewayctl vendor enable)",
		    e->vendor);
	} else if (cfg->max_sessions > 0 && total >= (size_t)cfg->max_sessions) {
		reason = "session_limit";
		snprintf(why, sizeof(why),
		    "access denied: the gateway is at its session limit, "
		    "try again later");
		snprintf(detail, sizeof(detail), "%zu of max_sessions %d sessions active", total,
		    cfg->max_sessions);
	} else if (v != NULL && v->max_sessions > 0 && of_vendor >= (size_t)v->max_sessions) {
		reason = "vendor_session_limit";
		snprintf(why, sizeof(why),
		    "access denied: %s already has its %d concurrent "
		    "session(s)",
		    e->vendor, v->max_sessions);
		snprintf(detail, sizeof(detail),
		    "vendor %s: %zu of max_sessions %d sessions active", e->vendor, of_vendor,
		    v->max_sessions);
	} else
		e->admitted = true;
reply:
	if (registry_send(e->fd,
	        json_pack("{s:s, s:b, s:s, s:s, s:s}", "type", "admit", "ok", e->admitted, "why",
	            why, "reason", reason ? reason : "", "detail", detail),
	        -1) != 0)
		e->admitted = false; /* it is waiting for exactly this; without it, it refuses */
}

/* Byte counters only grow; anything else from a session process is ignored. */
static void
registry_entry_bytes(struct registry_entry *e, json_t *msg)
{
	json_int_t in = json_integer_value(json_object_get(msg, "in"));
	json_int_t out = json_integer_value(json_object_get(msg, "out"));

	if (in >= (json_int_t)e->bytes_in && out >= (json_int_t)e->bytes_out) {
		e->bytes_in = (unsigned long long)in;
		e->bytes_out = (unsigned long long)out;
	}
}

/* A vendor's live sessions together record at most its max_recording_bytes (each session
 * also checks its own): past it, the largest of them is ordered to end, as by an owner's kill.
 * The counts arrive with the byte counters, so the cut may come REGISTRY_BYTES_EVERY late. */
static void
registry_vendor_recorded(
    struct registry *reg, struct registry_entry *e, json_t *msg, const struct gw_config *cfg)
{
	long long quota = recspace_quota(cfg, config_find_vendor(cfg, e->vendor));
	json_int_t recorded = json_integer_value(json_object_get(msg, "recorded"));
	struct registry_entry *largest = NULL, *o;
	unsigned long long sum = 0;
	char message[128], reason[192];
	size_t i, n = 0;

	if (recorded > (json_int_t)e->recorded)
		e->recorded = (unsigned long long)recorded;
	if (quota <= 0)
		return;
	for (i = 0; i < reg->n; i++) {
		o = &reg->entries[i];
		if (!o->admitted || o->recording_cut || strcmp(o->vendor, e->vendor) != 0)
			continue;
		sum += o->recorded;
		n++;
		if (largest == NULL || o->recorded > largest->recorded)
			largest = o;
	}
	if (largest == NULL || sum < (unsigned long long)quota)
		return;
	snprintf(message, sizeof(message),
	    "session ended: your vendor's sessions reached their recording quota (%lld bytes)",
	    quota);
	snprintf(reason, sizeof(reason),
	    "vendor recording quota reached (%llu bytes recorded by %zu sessions of %s, "
	    "max_recording_bytes %lld)",
	    sum, n, e->vendor, quota);
	warn_f("session %s: %s", largest->id, reason);
	if (registry_send(largest->fd,
	        json_pack("{s:s, s:s, s:s}", "type", "kill", "message", message, "reason", reason),
	        -1) == 0)
		largest->recording_cut = true;
}

static void
registry_entry_read(struct registry *reg, struct registry_entry *e, const struct gw_config *cfg)
{
	json_t *msg;
	const char *type;
	int i, rc, fd;

	/* Bounded per round: one chatty process cannot starve the listener. */
	for (i = 0; i < 16; i++) {
		if ((rc = registry_recv(e->fd, &msg, &fd)) == 0) {
			close(e->fd);
			e->fd = -1;
			e->admitted = false;
			return;
		}
		if (rc < 0)
			return;
		if (fd != -1)
			close(fd); /* session processes never pass descriptors up */
		type = registry_msg_type(msg);
		if (strcmp(type, "admit") == 0)
			registry_admit(reg, e, msg, cfg);
		else if (strcmp(type, "bytes") == 0 && e->admitted) {
			registry_entry_bytes(e, msg);
			registry_vendor_recorded(reg, e, msg, cfg);
		} else if (strcmp(type, "end") == 0)
			e->admitted = false;
		else if (strcmp(type, "cut") == 0)
			e->cut = true;
		json_decref(msg);
	}
}

void
registry_handle(struct registry *reg, const struct pollfd *pfd, const struct gw_config *cfg)
{
	size_t k, i, n = registry_npollfds(reg);

	for (k = 0; k < n; k++) {
		if (pfd[k].revents == 0)
			continue;
		for (i = 0; i < reg->n; i++)
			if (reg->entries[i].fd == pfd[k].fd) {
				registry_entry_read(reg, &reg->entries[i], cfg);
				break;
			}
	}
}

static json_t *
registry_entry_json(const struct registry_entry *e)
{
	char started[GW_TIME_UTC_LEN], ends[GW_TIME_UTC_LEN];

	time_format_utc(e->started, started);
	if (e->ends_at != 0)
		time_format_utc(e->ends_at, ends);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:s?, s:s?, s:I, s:I, s:I}", "id",
	    e->id, "person", e->person, "vendor", e->vendor, "target", e->target, "source",
	    e->source, "source_port", e->port, "started", started, "ends_at",
	    e->ends_at != 0 ? ends : NULL, "ticket", e->ticket[0] ? e->ticket : NULL, "bytes_in",
	    (json_int_t)e->bytes_in, "bytes_out", (json_int_t)e->bytes_out, "pid",
	    (json_int_t)e->pid);
}

json_t *
registry_list(const struct registry *reg)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < reg->n; i++)
		if (reg->entries[i].admitted)
			json_array_append_new(a, registry_entry_json(&reg->entries[i]));
	return a;
}

static bool
registry_selects(const struct registry_entry *e, const struct control_request *req)
{
	switch (req->by) {
	case CONTROL_BY_SESSION:
		return strcmp(e->id, req->name) == 0;
	case CONTROL_BY_VENDOR:
		return strcmp(e->vendor, req->name) == 0;
	case CONTROL_BY_PERSON:
		return strcmp(e->person, req->name) == 0;
	case CONTROL_BY_TICKET:
		return strcmp(e->ticket, req->name) == 0;
	default:
		return false;
	}
}

int
registry_kill(struct registry *reg, const struct control_request *req, const char *message,
    const char *reason)
{
	size_t i;
	int n = 0;

	reg->kill_round++;
	for (i = 0; i < reg->n; i++) {
		struct registry_entry *e = &reg->entries[i];

		if (!e->admitted || !registry_selects(e, req))
			continue;
		if (registry_send(e->fd,
		        json_pack("{s:s, s:s, s:s}", "type", "kill", "message", message, "reason",
		            reason),
		        -1) == 0) {
			e->kill_round = reg->kill_round;
			n++;
		} else
			warn_f("session %s: cannot deliver the kill order: %s", e->id,
			    strerror(errno));
	}
	return n;
}

unsigned
registry_kill_round(const struct registry *reg)
{
	return reg->kill_round;
}

int
registry_cuts_pending(const struct registry *reg, unsigned round)
{
	size_t i;
	int n = 0;

	/* A process that closed its link or was reaped has ended: its cut is done. */
	for (i = 0; i < reg->n; i++)
		n += reg->entries[i].kill_round == round && !reg->entries[i].cut &&
		    reg->entries[i].fd != -1;
	return n;
}

int
registry_watch(struct registry *reg, const char *session_id, int fd)
{
	size_t i;
	int rc = -1;

	for (i = 0; i < reg->n && rc != 0; i++)
		if (reg->entries[i].admitted && strcmp(reg->entries[i].id, session_id) == 0)
			rc = registry_send(
			    reg->entries[i].fd, json_pack("{s:s}", "type", "watch"), fd);
	close(fd);
	return rc;
}

/* Writes the disabled set to state_dir: a temporary file, fsync, rename. */
static int
registry_disabled_save(const struct registry *reg, const char *state_dir, char **error)
{
	char *path, *tmp;
	FILE *f;
	size_t i;
	int fd, rc = -1;

	xasprintf(&path, "%s/%s", state_dir, REGISTRY_DISABLED_FILE);
	xasprintf(&tmp, "%s.tmp", path);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600)) == -1 ||
	    (f = fdopen(fd, "w")) == NULL) {
		xasprintf(error, "cannot write %s: %s", tmp, strerror(errno));
		if (fd != -1)
			close(fd);
		goto out;
	}
	for (i = 0; i < reg->ndisabled; i++)
		fprintf(f, "%s\n", reg->disabled[i]);
	if (fflush(f) != 0 || fsync(fd) != 0 || ferror(f)) {
		xasprintf(error, "cannot write %s: %s", tmp, strerror(errno));
		fclose(f);
		unlink(tmp);
		goto out;
	}
	fclose(f);
	if (rename(tmp, path) != 0) {
		xasprintf(error, "cannot replace %s: %s", path, strerror(errno));
		unlink(tmp);
		goto out;
	}
	rc = 0;
out:
	free(tmp);
	free(path);
	return rc;
}

static void
registry_disabled_set(struct registry *reg, const char *vendor, bool disabled)
{
	size_t i;

	if (disabled) {
		reg->disabled = xreallocarray(reg->disabled, reg->ndisabled + 1, sizeof(char *));
		reg->disabled[reg->ndisabled++] = xstrdup(vendor);
		return;
	}
	for (i = 0; i < reg->ndisabled; i++)
		if (strcmp(reg->disabled[i], vendor) == 0) {
			free(reg->disabled[i]);
			reg->disabled[i] = reg->disabled[--reg->ndisabled];
			return;
		}
}

int
registry_set_vendor_disabled(
    struct registry *reg, const char *state_dir, const char *vendor, bool disabled, char **error)
{
	if (registry_vendor_disabled(reg, vendor) == disabled)
		return 1;
	registry_disabled_set(reg, vendor, disabled);
	if (registry_disabled_save(reg, state_dir, error) != 0) {
		/* Not persisted: undo, so memory never claims what a restart would forget. */
		registry_disabled_set(reg, vendor, !disabled);
		return -1;
	}
	return 0;
}

/* ---- session side ---- */

struct registry_watcher {
	int fd;
	char *buf; /* lines not yet taken by the watcher */
	size_t len;
	unsigned long long dropped; /* output bytes lost since the last "dropped" line */
};

struct registry_link {
	int fd;
	bool lost; /* the listener closed its end; fd stays open until registry_link_free */
	char id[SESSION_ID_LEN + 1]; /* once admitted: named in a watcher's first line */
	bool killed;
	char kill_message[128];
	char kill_reason[192];
	bool cut_sent; /* registry_link_cut told the listener */
	unsigned long long in, out, sent_in, sent_out;
	unsigned long long recorded, sent_recorded; /* bytes of the session's recordings */
	time_t sent_at;
	struct registry_watcher watchers[REGISTRY_WATCHERS_MAX];
	size_t nwatchers;
};

struct registry_link *
registry_link_new(int fd)
{
	struct registry_link *link;

	if (fd == -1)
		return NULL;
	link = xcalloc(1, sizeof(*link));
	link->fd = fd;
	return link;
}

int
registry_link_fd(const struct registry_link *link)
{
	return link != NULL ? link->fd : -1;
}

bool
registry_link_lost(const struct registry_link *link)
{
	return link != NULL && link->lost;
}

static void
registry_watcher_close(struct registry_link *link, size_t i)
{
	close(link->watchers[i].fd);
	free(link->watchers[i].buf);
	link->watchers[i] = link->watchers[--link->nwatchers];
}

/* Pushes queued lines without blocking; false when the watcher is gone. */
static bool
registry_watcher_flush(struct registry_watcher *w)
{
	ssize_t n;

	while (w->len > 0) {
		n = send(w->fd, w->buf, w->len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
		memmove(w->buf, w->buf + n, w->len - (size_t)n);
		w->len -= (size_t)n;
	}
	return true;
}

/* Queues a whole line, or counts its output bytes as dropped when the watcher lags. */
static void
registry_watcher_put(struct registry_watcher *w, const char *line, size_t len, size_t output_bytes)
{
	char note[64];
	int n;

	if (w->dropped > 0) {
		n = snprintf(note, sizeof(note), "{\"dropped\":%llu}\n", w->dropped);
		if (w->len + (size_t)n + len > REGISTRY_WATCH_BUF - REGISTRY_WATCH_RESERVE) {
			w->dropped += output_bytes;
			return;
		}
		memcpy(w->buf + w->len, note, (size_t)n);
		w->len += (size_t)n;
		w->dropped = 0;
	}
	if (w->len + len > REGISTRY_WATCH_BUF - REGISTRY_WATCH_RESERVE) {
		w->dropped += output_bytes;
		return;
	}
	memcpy(w->buf + w->len, line, len);
	w->len += len;
}

/* The last lines: what was dropped, and why the session ended (room kept for both). */
static void
registry_watcher_end(struct registry_watcher *w, const char *end_line)
{
	size_t len = strlen(end_line);

	if (w->dropped > 0)
		w->len += (size_t)snprintf(w->buf + w->len, REGISTRY_WATCH_BUF - w->len,
		    "{\"dropped\":%llu}\n", w->dropped);
	if (w->len + len + 1 <= REGISTRY_WATCH_BUF) {
		memcpy(w->buf + w->len, end_line, len);
		w->buf[w->len + len] = '\n';
		w->len += len + 1;
	}
}

static void
registry_link_broadcast(
    struct registry_link *link, const char *line, size_t len, size_t output_bytes)
{
	size_t i = 0;

	while (i < link->nwatchers) {
		registry_watcher_put(&link->watchers[i], line, len, output_bytes);
		if (!registry_watcher_flush(&link->watchers[i]))
			registry_watcher_close(link, i);
		else
			i++;
	}
}

static void
registry_link_add_watcher(struct registry_link *link, int fd)
{
	static const char busy[] = "{\"end\":\"too many watchers of this session\"}\n";
	struct registry_watcher *w;

	if (link->nwatchers == REGISTRY_WATCHERS_MAX) {
		send(fd, busy, sizeof(busy) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
		close(fd);
		return;
	}
	w = &link->watchers[link->nwatchers++];
	w->fd = fd;
	w->buf = xmalloc(REGISTRY_WATCH_BUF);
	/* The reply to the watch request comes from here, so nothing can come before it. */
	w->len = (size_t)snprintf(
	    w->buf, REGISTRY_WATCH_BUF, "{\"ok\":true,\"session\":\"%s\"}\n", link->id);
	w->dropped = 0;
	shutdown(fd, SHUT_RD); /* read-only view: nothing a watcher sends reaches the session */
	if (!registry_watcher_flush(w))
		registry_watcher_close(link, link->nwatchers - 1);
}

/* One order from the listener. */
static void
registry_link_order(struct registry_link *link, json_t *msg, int fd)
{
	const char *type = registry_msg_type(msg);

	if (strcmp(type, "watch") == 0 && fd != -1) {
		registry_link_add_watcher(link, fd);
		return;
	}
	if (fd != -1)
		close(fd);
	if (strcmp(type, "kill") == 0 && !link->killed) {
		if (!registry_msg_string(
		        msg, "message", link->kill_message, sizeof(link->kill_message)))
			snprintf(link->kill_message, sizeof(link->kill_message),
			    "session ended by the asset owner");
		if (!registry_msg_string(
		        msg, "reason", link->kill_reason, sizeof(link->kill_reason)))
			snprintf(link->kill_reason, sizeof(link->kill_reason),
			    "killed by the asset owner");
		link->killed = true;
	}
}

void
registry_link_read(struct registry_link *link)
{
	json_t *msg;
	int fd, rc;

	if (link == NULL || link->lost)
		return;
	while ((rc = registry_recv(link->fd, &msg, &fd)) != -1) {
		if (rc == 0) {
			/* The listener is gone (stopped or crashed): sessions run to their end. */
			link->lost = true;
			return;
		}
		registry_link_order(link, msg, fd);
		json_decref(msg);
	}
}

int
registry_link_admit(struct registry_link *link, const struct registry_session *info, char *why,
    size_t whylen, char *reason, size_t reasonlen, char *detail, size_t detaillen)
{
	struct pollfd pfd;
	struct timespec t0, t;
	json_t *msg;
	long waited;
	int fd, rc;

	if (link == NULL)
		return 0;
	snprintf(why, whylen, "access denied: the gateway cannot admit the session");
	snprintf(reason, reasonlen, "registry_unavailable");
	snprintf(detail, detaillen, "no answer from the listener");
	if (link->lost ||
	    registry_send(link->fd,
	        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:I, s:I}", "type", "admit",
	            "id", info->id, "person", info->person, "vendor", info->vendor, "target",
	            info->target, "ticket", info->ticket, "source", info->source, "port",
	            info->port, "started", (json_int_t)info->started, "ends_at",
	            (json_int_t)info->ends_at),
	        -1) != 0)
		return -1;
	snprintf(link->id, sizeof(link->id), "%s", info->id);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		waited = (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
		if (waited >= REGISTRY_ADMIT_TIMEOUT)
			return -1;
		pfd.fd = link->fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, (int)(REGISTRY_ADMIT_TIMEOUT - waited)) <= 0)
			continue;
		if ((rc = registry_recv(link->fd, &msg, &fd)) == 0) {
			link->lost = true;
			return -1;
		}
		if (rc < 0)
			continue;
		if (strcmp(registry_msg_type(msg), "admit") != 0) {
			registry_link_order(link, msg, fd);
			json_decref(msg);
			continue;
		}
		if (fd != -1)
			close(fd);
		rc = json_is_true(json_object_get(msg, "ok")) ? 0 : -1;
		if (rc != 0) {
			registry_msg_string(msg, "why", why, whylen);
			registry_msg_string(msg, "reason", reason, reasonlen);
			registry_msg_string(msg, "detail", detail, detaillen);
		}
		json_decref(msg);
		return rc;
	}
}

bool
registry_link_killed(const struct registry_link *link, const char **message, const char **reason)
{
	if (link == NULL || !link->killed)
		return false;
	*message = link->kill_message;
	*reason = link->kill_reason;
	return true;
}

void
registry_link_cut(struct registry_link *link, const char *reason)
{
	if (link == NULL || link->lost || link->cut_sent)
		return;
	link->cut_sent = true;
	/* Not sent (a full link): the owner's gatewayctl waits its bound and says so. */
	if (registry_send(link->fd, json_pack("{s:s, s:s}", "type", "cut", "reason", reason), -1) !=
	    0)
		warn_f("%s: cannot confirm the cut to the listener", link->id);
}

void
registry_link_data(struct registry_link *link, bool to_target, const void *buf, size_t len)
{
	char line[8 + 4 * (REGISTRY_WATCH_CHUNK / 3) + 4];
	size_t off, n;
	int b64;

	if (link == NULL)
		return;
	if (to_target) {
		link->in += len;
		return;
	}
	link->out += len;
	for (off = 0; off < len && link->nwatchers > 0; off += n) {
		n = len - off < REGISTRY_WATCH_CHUNK ? len - off : REGISTRY_WATCH_CHUNK;
		memcpy(line, "{\"o\":\"", 6);
		b64 = EVP_EncodeBlock(
		    (unsigned char *)line + 6, (const unsigned char *)buf + off, (int)n);
		memcpy(line + 6 + b64, "\"}\n", 3);
		registry_link_broadcast(link, line, 6 + (size_t)b64 + 3, n);
	}
}

/* Whether the counters moved since they were last reported. */
static bool
registry_link_changed(const struct registry_link *link)
{
	return link->in != link->sent_in || link->out != link->sent_out ||
	    link->recorded != link->sent_recorded;
}

void
registry_link_recorded(struct registry_link *link, unsigned long long bytes)
{
	if (link != NULL)
		link->recorded = bytes;
}

void
registry_link_tick(struct registry_link *link)
{
	time_t now;
	size_t i = 0;

	if (link == NULL)
		return;
	while (i < link->nwatchers)
		if (!registry_watcher_flush(&link->watchers[i]))
			registry_watcher_close(link, i);
		else
			i++;
	now = time(NULL);
	if (link->lost || !registry_link_changed(link) ||
	    now < link->sent_at + REGISTRY_BYTES_EVERY)
		return;
	if (registry_send(link->fd,
	        json_pack("{s:s, s:I, s:I, s:I}", "type", "bytes", "in", (json_int_t)link->in,
	            "out", (json_int_t)link->out, "recorded", (json_int_t)link->recorded),
	        -1) == 0) {
		link->sent_in = link->in;
		link->sent_out = link->out;
		link->sent_recorded = link->recorded;
	}
	link->sent_at = now;
}

int
registry_link_timeout(const struct registry_link *link)
{
	size_t i;
	long ms;

	if (link == NULL)
		return -1;
	for (i = 0; i < link->nwatchers; i++)
		if (link->watchers[i].len > 0 || link->watchers[i].dropped > 0)
			return 100; /* a lagging watcher: try again soon, never wait for it */
	if (link->lost || !registry_link_changed(link))
		return -1;
	ms = (long)(link->sent_at + REGISTRY_BYTES_EVERY - time(NULL)) * 1000;
	return ms < 0 ? 0 : (int)ms;
}

/* At the end: every watcher gets its end line, waiting for slow ones at most this long
 * in total (the session is over; nothing live waits behind it). */
#define REGISTRY_END_GRACE_MS 500

void
registry_link_free(struct registry_link *link, const char *end_reason)
{
	struct pollfd pfd[REGISTRY_WATCHERS_MAX];
	struct timespec t0, t;
	json_t *end;
	char *line;
	size_t i, n;
	long left;

	if (link == NULL)
		return;
	/* The listing first: once a watcher sees the end, the session is no longer listed. */
	if (!link->lost)
		registry_send(link->fd, json_pack("{s:s}", "type", "end"), -1);
	end = json_pack("{s:s}", "end", end_reason != NULL ? end_reason : "closed");
	line = json_dumps(end, JSON_COMPACT);
	json_decref(end);
	for (i = 0; i < link->nwatchers && line != NULL; i++)
		registry_watcher_end(&link->watchers[i], line);
	free(line);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		for (i = 0; i < link->nwatchers;)
			if (!registry_watcher_flush(&link->watchers[i]) ||
			    link->watchers[i].len == 0)
				registry_watcher_close(link, i);
			else
				i++;
		clock_gettime(CLOCK_MONOTONIC, &t);
		left = REGISTRY_END_GRACE_MS -
		    ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000);
		if (link->nwatchers == 0 || left <= 0)
			break;
		for (n = 0; n < link->nwatchers; n++) {
			pfd[n].fd = link->watchers[n].fd;
			pfd[n].events = POLLOUT;
		}
		poll(pfd, n, (int)left);
	}
	while (link->nwatchers > 0)
		registry_watcher_close(link, 0);
	close(link->fd);
	free(link);
}
