/* registry_link.c: owns the session process's end of its link: its id, admission, the notary's
 * services (audit events, checkpoint signatures), byte counts, orders (kill, watch), the
 * watchers' view. Never blocks on a watcher nor lets one write to a session; waits for the
 * listener at most REGISTRY_CALL_TIMEOUT per request. */
#include "gatewayd/registry_link.h"

#include <errno.h>
#include <limits.h>
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

/* ms a session waits for the listener's answer: one busy with a hundred sessions' reload on a
 * loaded machine answers late; a dead one closes the link, which ends the wait at once. */
#define REGISTRY_CALL_TIMEOUT  30000
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
	char id[SESSION_ID_LEN + 1];  /* the listener's name for the session ("" if none) */
	char key_id[SEAL_KEY_ID_LEN]; /* the listener's seal key, named in recordings */
	json_int_t seq;               /* of the last request: a late answer is told apart */
	struct recorder_signer signer;
	bool killed;
	char kill_message[192]; /* control.c's kill message, the owner's reason included */
	char kill_reason[320];
	bool cut_sent;       /* registry_link_cut told the listener */
	bool reloaded;       /* a reload came that registry_link_take_config has not handed on */
	char *reload_config; /* its configuration text; NULL: unreadable */
	unsigned long long in, out, sent_in, sent_out;
	unsigned long long recorded, sent_recorded; /* bytes of the session's recordings */
	unsigned tunnels, sent_tunnels;             /* tunnels open (issue 18) */
	unsigned long long packets, sent_packets;   /* their recorded packets, closed ones too */
	time_t sent_at;
	struct registry_watcher watchers[REGISTRY_WATCHERS_MAX];
	size_t nwatchers;
};

static void registry_link_order(struct registry_link *link, json_t *msg, int fd);

/* The listener sent the session's id before the fork: it waits in the socket already. */
static void
registry_link_hello(struct registry_link *link)
{
	json_t *msg;
	int fd;

	if (registry_msg_recv(link->fd, &msg, &fd) != 1)
		return;
	if (fd != -1)
		close(fd);
	if (strcmp(registry_msg_type(msg), "hello") != 0 ||
	    !registry_msg_string(msg, "id", link->id, sizeof(link->id)) ||
	    strlen(link->id) != SESSION_ID_LEN ||
	    !registry_msg_string(msg, "key", link->key_id, sizeof(link->key_id)))
		link->id[0] = link->key_id[0] = '\0';
	json_decref(msg);
}

/* Sends req (stolen) as a request of type and waits for the listener's answer of that type
 * (with the same "seq" when the request has one): 0 with *reply, or -1. Orders arriving
 * meanwhile are taken as registry_link_read takes them. */
static int
registry_link_request(
    struct registry_link *link, const char *type, json_t *req, json_t **reply, int *passed)
{
	struct pollfd pfd;
	struct timespec t0, t;
	json_t *msg;
	bool numbered = json_object_get(req, "seq") != NULL;
	long waited;
	int fd, rc;

	*reply = NULL;
	if (link == NULL || link->lost) {
		json_decref(req);
		return -1;
	}
	if (registry_msg_send(link->fd, req, -1) != 0)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		waited = (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
		if (waited >= REGISTRY_CALL_TIMEOUT) {
			/* A listener that does not answer is taken as gone: the session fails
			 * closed now rather than waiting this long again for every event and
			 * checkpoint. */
			error_f("%s: no answer from the listener in %d ms", link->id,
			    REGISTRY_CALL_TIMEOUT);
			link->lost = true;
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
		if (strcmp(registry_msg_type(msg), type) != 0) {
			registry_link_order(link, msg, fd);
			json_decref(msg);
			continue;
		}
		if (numbered && json_integer_value(json_object_get(msg, "seq")) != link->seq) {
			if (fd != -1)
				close(fd);
			json_decref(msg); /* the late answer to an earlier request */
			continue;
		}
		if (passed != NULL)
			*passed = fd;
		else if (fd != -1)
			close(fd);
		*reply = msg;
		return 0;
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
registry_link_call(struct registry_link *link, json_t *request, json_t **answer, int *passed)
{
	char type[32];

	*answer = NULL;
	if (passed != NULL)
		*passed = -1;
	if (request == NULL || !registry_msg_string(request, "type", type, sizeof(type))) {
		json_decref(request);
		return -1;
	}
	return registry_link_request(link, type, request, answer, passed);
}

int
registry_link_audit(struct registry_link *link, const char *event, json_t *fields)
{
	json_t *reply;
	int rc;

	if (link == NULL || fields == NULL) {
		json_decref(fields);
		return -1;
	}
	link->seq++;
	if (registry_link_request(link, "audit",
	        json_pack("{s:s, s:I, s:s, s:o}", "type", "audit", "seq", link->seq, "event", event,
	            "fields", fields),
	        &reply, NULL) != 0)
		return -1;
	rc = json_is_true(json_object_get(reply, "ok")) ? 0 : -1;
	json_decref(reply);
	return rc;
}

int
registry_link_sign_bundle(struct registry_link *link, const char *principal, const char *manifest,
    char sig[SEAL_SIG_B64_LEN])
{
	json_t *reply, *bytes;
	const char *s;
	int rc = -1;

	if (link == NULL || (bytes = registry_msg_bytes(manifest, strlen(manifest))) == NULL)
		return -1;
	link->seq++;
	if (registry_link_request(link, "bundle_sign",
	        json_pack("{s:s, s:I, s:s, s:o}", "type", "bundle_sign", "seq", link->seq,
	            "principal", principal, "manifest", bytes),
	        &reply, NULL) != 0)
		return -1;
	s = json_string_value(json_object_get(reply, "sig"));
	if (json_is_true(json_object_get(reply, "ok")) && s != NULL &&
	    strlen(s) == SEAL_SIG_B64_LEN - 1) {
		memcpy(sig, s, SEAL_SIG_B64_LEN);
		rc = 0;
	}
	json_decref(reply);
	return rc;
}

static int
registry_link_sign(void *ctx, const struct checkpoint_req *req, char sig[SEAL_SIG_B64_LEN],
    char time_out[SEAL_TIME_LEN])
{
	struct registry_link *link = ctx;
	json_t *reply, *msg;
	char *records;
	size_t i;
	int rc = -1;

	records = xmalloc(req->nrecords * 2 * SEAL_HASH_LEN + 1);
	records[0] = '\0';
	for (i = 0; i < req->nrecords; i++)
		seal_hex(req->records[i], SEAL_HASH_LEN, records + i * 2 * SEAL_HASH_LEN);
	link->seq++;
	msg = json_pack("{s:s, s:I, s:s, s:I, s:s, s:s, s:s, s:s}", "type", "sign", "seq",
	    link->seq, "recording", req->recording, "n", (json_int_t)req->n, "chain", req->chain,
	    "prev", req->prev, "stamp", req->stamp, "records", records);
	free(records);
	if (msg != NULL && req->final && json_object_set_new(msg, "final", json_true()) != 0) {
		json_decref(msg);
		msg = NULL;
	}
	/* The header goes as the bytes it is (JSON of our making: valid UTF-8). */
	if (msg != NULL && req->header != NULL &&
	    json_object_set_new(msg, "header", json_stringn(req->header, req->header_len)) != 0) {
		json_decref(msg);
		msg = NULL;
	}
	if (msg == NULL || registry_link_request(link, "sign", msg, &reply, NULL) != 0)
		return -1;
	/* The signature is checked by nobody here: a wrong one shows in verification. */
	if (json_is_true(json_object_get(reply, "ok")) &&
	    registry_msg_string(reply, "sig", sig, SEAL_SIG_B64_LEN) &&
	    registry_msg_string(reply, "time", time_out, SEAL_TIME_LEN) && sig[0] != '\0' &&
	    time_out[0] != '\0')
		rc = 0;
	json_decref(reply);
	return rc;
}

int
registry_link_open_recording(struct registry_link *link, unsigned channel, bool pcapng, char **path)
{
	char buf[PATH_MAX];
	json_t *reply;
	int fd = -1, err;

	*path = NULL;
	if (link == NULL) {
		errno = EINVAL;
		return -1;
	}
	link->seq++;
	if (registry_link_request(link, "recording",
	        json_pack("{s:s, s:I, s:I, s:b}", "type", "recording", "seq", link->seq, "channel",
	            (json_int_t)channel, "pcapng", pcapng),
	        &reply, &fd) != 0) {
		errno = EIO; /* no listener, no recording */
		return -1;
	}
	if (fd == -1 || !registry_msg_string(reply, "path", buf, sizeof(buf))) {
		err = (int)json_integer_value(json_object_get(reply, "errno"));
		if (fd != -1)
			close(fd);
		json_decref(reply);
		errno = err > 0 ? err : EIO;
		return -1;
	}
	json_decref(reply);
	*path = xstrdup(buf);
	return fd;
}

const struct recorder_signer *
registry_link_signer(struct registry_link *link)
{
	if (link == NULL || link->key_id[0] == '\0')
		return NULL;
	link->signer.key_id = link->key_id;
	link->signer.sign = registry_link_sign;
	link->signer.ctx = link;
	return &link->signer;
}

struct registry_link *
registry_link_new(int fd)
{
	struct registry_link *link;

	if (fd == -1)
		return NULL;
	link = xcalloc(1, sizeof(*link));
	link->fd = fd;
	registry_msg_prepare(fd);
	registry_link_hello(link);
	return link;
}

const char *
registry_link_id(const struct registry_link *link)
{
	return link != NULL && link->id[0] != '\0' ? link->id : NULL;
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
	size_t len;

	if (strcmp(type, "watch") == 0 && fd != -1) {
		registry_link_add_watcher(link, fd);
		return;
	}
	if (fd != -1)
		close(fd);
	if (strcmp(type, "reload") == 0) {
		/* Only the latest counts: each is the whole configuration the listener runs. */
		free(link->reload_config);
		link->reload_config = registry_msg_get_bytes(msg, "config", &len);
		if (link->reload_config != NULL && strlen(link->reload_config) != len) {
			free(link->reload_config); /* a NUL would hide the rest from the parser */
			link->reload_config = NULL;
		}
		link->reloaded = true;
		return;
	}
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
		if (rc == -2)
			continue; /* dropped, logged */
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
registry_link_take_config(struct registry_link *link, char **text)
{
	*text = NULL;
	if (link == NULL || !link->reloaded)
		return 0;
	link->reloaded = false;
	*text = link->reload_config;
	link->reload_config = NULL;
	return *text != NULL ? 1 : -1;
}

int
registry_link_vendor_disabled(struct registry_link *link, const char *vendor)
{
	json_t *msg;
	int rc;

	if (link == NULL)
		return 0;
	if (registry_link_call(link,
	        json_pack("{s:s, s:s}", "type", "vendor_state", "vendor", vendor), &msg, NULL) != 0)
		return -1;
	rc = json_is_true(json_object_get(msg, "disabled")) ? 1 : 0;
	json_decref(msg);
	return rc;
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
	if (registry_link_request(link, "admit",
	        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:I, s:I}", "type", "admit",
	            "id", info->id, "person", info->person, "vendor", info->vendor, "target",
	            info->target, "ticket", info->ticket, "source", info->source, "port",
	            info->port, "started", (json_int_t)info->started, "ends_at",
	            (json_int_t)info->ends_at),
	        &msg, NULL) != 0)
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
	    link->recorded != link->sent_recorded || link->tunnels != link->sent_tunnels ||
	    link->packets != link->sent_packets;
}

void
registry_link_tunnel_data(struct registry_link *link, bool to_dest, size_t len)
{
	if (link == NULL)
		return;
	if (to_dest)
		link->in += len;
	else
		link->out += len;
}

void
registry_link_tunnels(struct registry_link *link, unsigned open, unsigned long long packets)
{
	if (link == NULL)
		return;
	link->tunnels = open;
	link->packets = packets;
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
	/* A tunnel's bytes are not a terminal's: watchers get its counters, not its bytes. */
	if (link->nwatchers > 0 &&
	    (link->tunnels != link->sent_tunnels || link->packets != link->sent_packets)) {
		char line[128];
		int n = snprintf(line, sizeof(line), "{\"tunnels\":%u,\"packets\":%llu}\n",
		    link->tunnels, link->packets);

		registry_link_broadcast(link, line, (size_t)n, 0);
	}
	if (registry_msg_send(link->fd,
	        json_pack("{s:s, s:I, s:I, s:I, s:I, s:I}", "type", "bytes", "in",
	            (json_int_t)link->in, "out", (json_int_t)link->out, "recorded",
	            (json_int_t)link->recorded, "tunnels", (json_int_t)link->tunnels, "packets",
	            (json_int_t)link->packets),
	        -1) == 0) {
		link->sent_in = link->in;
		link->sent_out = link->out;
		link->sent_recorded = link->recorded;
		link->sent_tunnels = link->tunnels;
		link->sent_packets = link->packets;
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
	free(link->reload_config);
	free(link);
}
