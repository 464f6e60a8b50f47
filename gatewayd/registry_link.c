/* registry_link.c: owns the session process's end of its link: admission, byte counts, orders
 * (kill, watch), the watchers' view. Never blocks on a watcher nor lets one write to a session. */
#include "gatewayd/registry_link.h"

#include <errno.h>
#include <openssl/evp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "gatewayd/gatewayd.h"
#include "gatewayd/registry_msg.h"

#define REGISTRY_CALL_TIMEOUT  5000  /* ms a session waits for the listener's answer */
#define REGISTRY_WATCHERS_MAX  4     /* live views of one session */
#define REGISTRY_WATCH_BUF     65536 /* bytes queued for one watcher before output is dropped */
#define REGISTRY_WATCH_RESERVE 512   /* of which kept for the "dropped" and "end" lines */
#define REGISTRY_WATCH_CHUNK   3072  /* output bytes per watch line (4096 in base64) */

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
	while ((rc = registry_msg_recv(link->fd, &msg, &fd)) != -1) {
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
registry_link_send(struct registry_link *link, json_t *msg)
{
	if (link == NULL || link->lost) {
		json_decref(msg);
		return -1;
	}
	return registry_msg_send(link->fd, msg, -1);
}

int
registry_link_call(struct registry_link *link, json_t *request, json_t **answer)
{
	char type[32];
	struct pollfd pfd;
	struct timespec t0, t;
	json_t *msg;
	long waited;
	int fd, rc;

	*answer = NULL;
	if (request == NULL || !registry_msg_string(request, "type", type, sizeof(type))) {
		json_decref(request);
		return -1;
	}
	if (registry_link_send(link, request) != 0)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		waited = (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
		if (waited >= REGISTRY_CALL_TIMEOUT) {
			warn_f("%s: no answer from the listener to %s",
			    link->id[0] ? link->id : "session", type);
			return -1;
		}
		pfd.fd = link->fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, (int)(REGISTRY_CALL_TIMEOUT - waited)) <= 0)
			continue;
		if ((rc = registry_msg_recv(link->fd, &msg, &fd)) == 0) {
			link->lost = true;
			return -1;
		}
		if (rc < 0)
			continue;
		/* Orders that come meanwhile are taken as registry_link_read() takes them: the
		 * session acts on them once back in its loop. */
		if (strcmp(registry_msg_type(msg), type) != 0) {
			registry_link_order(link, msg, fd);
			json_decref(msg);
			continue;
		}
		if (fd != -1)
			close(fd);
		*answer = msg;
		return 0;
	}
}

int
registry_link_admit(struct registry_link *link, const struct registry_session *info, char *why,
    size_t whylen, char *reason, size_t reasonlen, char *detail, size_t detaillen)
{
	json_t *msg;
	int rc;

	snprintf(why, whylen, "access denied: the gateway cannot admit the session");
	snprintf(reason, reasonlen, "registry_unavailable");
	snprintf(detail, detaillen, "no answer from the listener");
	/* Without a listener no cap applies, but a ticket's uses are counted by it alone. */
	if (link == NULL)
		return info->ticket[0] == '\0' ? 0 : -1;
	snprintf(link->id, sizeof(link->id), "%s", info->id);
	if (registry_link_call(link,
	        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:I, s:I}", "type", "admit",
	            "id", info->id, "person", info->person, "vendor", info->vendor, "target",
	            info->target, "ticket", info->ticket, "source", info->source, "port",
	            info->port, "started", (json_int_t)info->started, "ends_at",
	            (json_int_t)info->ends_at),
	        &msg) != 0)
		return -1;
	rc = json_is_true(json_object_get(msg, "ok")) ? 0 : -1;
	if (rc != 0) {
		registry_msg_string(msg, "why", why, whylen);
		registry_msg_string(msg, "reason", reason, reasonlen);
		registry_msg_string(msg, "detail", detail, detaillen);
	}
	json_decref(msg);
	return rc;
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
	if (registry_msg_send(
	        link->fd, json_pack("{s:s, s:s}", "type", "cut", "reason", reason), -1) != 0)
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
	if (registry_msg_send(link->fd,
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
		registry_msg_send(link->fd, json_pack("{s:s}", "type", "end"), -1);
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
