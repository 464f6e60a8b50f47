/* transfer.c: the sftp subsystem channel: every packet passes the SFTP inspector, which
 * enforces the file-transfer grant; each file operation becomes evidence. Never forwards
 * a byte the inspector has not framed and allowed, never buffers a whole file. */
#include "gatewayd/gatewayd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/xmalloc.h"

/*
 * Bytes from one side wait for the inspector in a ring of up to TRANSFER_STAGE_MAX. Beyond it
 * they wait in libssh, whose window then stops the sender; but libssh moves its whole buffer
 * to append a packet, which cost a download as much CPU as its SHA-256 when every byte past
 * 64 KiB waited there. An OpenSSH client keeps up to 64 reads of 255 KiB in flight, so a
 * fast target still fills the ring; the bound is memory per channel.
 */
#define TRANSFER_STAGE_MIN 65536
#define TRANSFER_STAGE_MAX (4 * 1024 * 1024)
/* Beyond its first TRANSFER_STAGE_MIN a ring grows only while all the rings of the
 * connection stay within this: two channels at full speed, not max_channels of them. */
#define TRANSFER_STAGE_BUDGET (8 * 1024 * 1024)

struct transfer_stage {
	uint8_t *buf;
	size_t cap;  /* 0 until the first byte waits */
	size_t head; /* the oldest byte */
	size_t len;
};

/* Refusal messages waiting for room on the vendor's stderr; more are dropped (each is
 * also in the recording and the audit log). */
#define TRANSFER_SAY_MAX 2048

struct transfer {
	struct sftp_watch *watch;
	bool moving; /* inside transfer_move: a nested data callback only stages */
	struct transfer_stage from_vendor;
	struct transfer_stage from_target;
	char say[TRANSFER_SAY_MAX]; /* lines for the vendor's stderr */
	size_t say_len;
	uint32_t said_hash; /* of the last line queued: a repeat is not said twice */
	bool abandoned;     /* the vendor is gone: its open uploads were discarded */
};

/* The bytes waiting from the head on, up to the ring's end. */
static size_t
stage_span(const struct transfer_stage *st)
{
	return st->cap - st->head < st->len ? st->cap - st->head : st->len;
}

/* The free span at the tail of st, after growing it to hold want more bytes if it can;
 * *staged counts the bytes of all the connection's rings. */
static size_t
stage_space(struct transfer_stage *st, size_t want, uint8_t **p, size_t *staged)
{
	size_t cap = st->cap, first, tail;
	uint8_t *buf;

	if (st->len + want > st->cap && st->cap < TRANSFER_STAGE_MAX) {
		if (cap == 0)
			cap = TRANSFER_STAGE_MIN;
		while (cap < st->len + want && cap < TRANSFER_STAGE_MAX &&
		    *staged - st->cap + 2 * cap <= TRANSFER_STAGE_BUDGET)
			cap *= 2;
	}
	if (cap != st->cap) {
		*staged += cap - st->cap;
		buf = xmalloc(cap);
		first = stage_span(st);
		if (st->len > 0) {
			memcpy(buf, st->buf + st->head, first);
			memcpy(buf + first, st->buf, st->len - first);
		}
		free(st->buf);
		st->buf = buf;
		st->cap = cap;
		st->head = 0;
	}
	if (st->len == st->cap)
		return 0;
	tail = (st->head + st->len) % st->cap;
	*p = st->buf + tail;
	return tail >= st->head ? st->cap - tail : st->head - tail;
}

/* Copies as much of data as fits into st; how much that was. */
static size_t
stage_put(struct transfer_stage *st, const uint8_t *data, size_t len, size_t *staged)
{
	size_t used = 0, n;
	uint8_t *p;

	while (used < len && (n = stage_space(st, len - used, &p, staged)) > 0) {
		if (n > len - used)
			n = len - used;
		memcpy(p, data + used, n);
		st->len += n;
		used += n;
	}
	return used;
}

static void
stage_consume(struct transfer_stage *st, size_t n)
{
	st->head = (st->head + n) % st->cap;
	st->len -= n;
	if (st->len == 0)
		st->head = 0;
}

/*
 * A refusal's sentence goes to the vendor's stderr: stock scp, sftp and pscp print the
 * SFTP channel's stderr (through ssh) but not an SFTP status message, and without it the
 * vendor would read a bare "Permission denied" or nothing at all.
 */
static void
transfer_say(struct relay *r, const char *message)
{
	struct transfer *t = r->transfer;
	uint32_t hash = 2166136261u; /* FNV-1a */
	const char *p;
	int n;

	for (p = message; *p != '\0'; p++)
		hash = (hash ^ (uint8_t)*p) * 16777619u;
	if (hash == t->said_hash)
		return;
	t->said_hash = hash;
	n = snprintf(t->say + t->say_len, sizeof(t->say) - t->say_len, "gatewayd: %s\n", message);
	if (n < 0 || (size_t)n >= sizeof(t->say) - t->say_len)
		t->say[t->say_len] = '\0'; /* no room: dropped whole */
	else
		t->say_len += (size_t)n;
}

static bool
transfer_audited(enum sftp_event_kind k)
{
	return k != SFTP_EV_OPEN && k != SFTP_EV_OPENDIR;
}

/* Evidence first: an event that cannot be recorded ends the channel (R9). */
static int
transfer_event_cb(const struct sftp_event *ev, void *arg)
{
	struct relay *r = arg;
	struct session *s = r->session;
	json_t *j = sftp_event_to_json(ev);
	char *text;
	int rc;

	if (j == NULL || (text = json_dumps(j, JSON_COMPACT)) == NULL) {
		json_decref(j);
		return -1;
	}
	if (ev->message != NULL)
		transfer_say(r, ev->message);
	rc = recorder_write_note(r->rec, text);
	free(text);
	if (rc == 0 && transfer_audited(ev->kind)) {
		json_object_set_new(j, "person", json_string(s->person->id));
		json_object_set_new(j, "target", json_string(s->target_cfg->name));
		json_object_set_new(j, "channel", json_integer(r->index));
		return session_audit(
		    s, ev->kind == SFTP_EV_DENIED ? "file_denied" : "file_operation", j);
	}
	json_decref(j);
	return rc;
}

int
transfer_start(struct relay *r)
{
	struct session *s = r->session;
	const struct gw_grant *g =
	    config_find_grant(s->cfg, s->person->vendor->id, s->target_cfg->name);
	struct sftp_policy pol = {
		.upload = (s->decision.channels & GW_CHAN_UPLOAD) != 0,
		.download = (s->decision.channels & GW_CHAN_DOWNLOAD) != 0,
		.atomic_uploads = true,
		.target = s->target_cfg->name,
	};
	struct transfer *t;

	if (g != NULL) {
		pol.path_prefixes = (const char *const *)g->transfer_paths;
		pol.nprefixes = g->ntransfer_paths;
		pol.max_file_size = (uint64_t)g->max_file_size;
	}
	t = xcalloc(1, sizeof(*t));
	if ((t->watch = sftp_watch_new(&pol, transfer_event_cb, r)) == NULL) {
		free(t);
		return -1;
	}
	r->transfer = t;
	return 0;
}

void
transfer_free(struct relay *r)
{
	if (r->transfer == NULL)
		return;
	/* Files still open when the channel ends are reported as closed by the gateway. */
	if (r->rec != NULL && sftp_watch_end(r->transfer->watch) != 0)
		error_f("%s: evidence of unclosed files could not be written", r->session->id);
	sftp_watch_free(r->transfer->watch);
	r->session->transfer_staged -= r->transfer->from_vendor.cap + r->transfer->from_target.cap;
	free(r->transfer->from_vendor.buf);
	free(r->transfer->from_target.buf);
	free(r->transfer);
	r->transfer = NULL;
}

static void
transfer_fail(struct relay *r, const char *why)
{
	snprintf(r->end_reason, sizeof(r->end_reason), "file transfer channel closed: %.80s", why);
	error_f("%s: channel %u: %s", r->session->id, r->index, r->end_reason);
	r->transfer_failed = true;
}

/* Sends the vendor what transfer_say queued, as far as the window allows. */
static bool
transfer_drain_say(struct relay *r)
{
	struct transfer *t = r->transfer;
	uint32_t room = vchan_window(r->vendor);
	int wr;

	if (t->say_len == 0 || room == 0)
		return false;
	if ((wr = vchan_write(
	         r->vendor, t->say, (uint32_t)(t->say_len < room ? t->say_len : room), 1)) <= 0)
		return false;
	memmove(t->say, t->say + wr, t->say_len - (size_t)wr);
	t->say_len -= (size_t)wr;
	return true;
}

/* Writes what the queue holds to one side, as far as its window allows. */
static bool
transfer_drain_queue(struct relay *r, bool to_target)
{
	struct sftp_watch *w = r->transfer->watch;
	const uint8_t *p;
	uint32_t room;
	size_t n;
	int wr;

	n = to_target ? sftp_watch_pending_to_target(w, &p) : sftp_watch_pending_to_vendor(w, &p);
	if (n == 0 || (room = relay_side_window(r, to_target)) == 0)
		return false;
	if (n > room)
		n = room;
	if ((wr = relay_side_write(r, to_target, p, (uint32_t)n, 0)) <= 0)
		return false;
	if (to_target) {
		sftp_watch_consume_to_target(w, (size_t)wr);
		r->bytes_in += (unsigned)wr;
	} else {
		sftp_watch_consume_to_vendor(w, (size_t)wr);
		r->bytes_out += (unsigned)wr;
	}
	return true;
}

/* Hands bytes from one side to the inspector: how many it took, or -1 once the channel
 * has failed (its reason set). */
static ssize_t
transfer_inspect(struct relay *r, bool from_vendor, const void *data, size_t len)
{
	struct sftp_watch *w = r->transfer->watch;
	ssize_t took = from_vendor ? sftp_watch_from_vendor(w, data, len)
	                           : sftp_watch_from_target(w, data, len);

	if (took < 0)
		transfer_fail(r, sftp_watch_error(w));
	return took;
}

/* Feeds the stage to the inspector (the span up to the ring's end; the loop in
 * transfer_move comes back for the rest), then refills the stage from libssh unless called
 * from a data callback: libssh still holds the bytes the callback is handing over. */
static bool
transfer_feed(struct relay *r, struct transfer_stage *st, bool from_vendor, bool refill)
{
	bool progress = false;
	ssize_t took;
	size_t room;
	uint8_t *p;
	int n;

	if (st->len > 0) {
		took = transfer_inspect(r, from_vendor, st->buf + st->head, stage_span(st));
		if (took < 0)
			return false;
		if (took > 0) {
			stage_consume(st, (size_t)took);
			progress = true;
		}
	}
	if (refill && st->len < TRANSFER_STAGE_MAX &&
	    (n = relay_side_poll(r, !from_vendor, 0)) > 0 &&
	    (room = stage_space(st, (size_t)n, &p, &r->session->transfer_staged)) > 0) {
		n = relay_side_read(r, !from_vendor, p, (uint32_t)room, 0);
		if (n > 0) {
			st->len += (size_t)n;
			progress = true;
		}
	}
	return progress;
}

static void
transfer_drop_to_vendor(struct relay *r)
{
	const uint8_t *p;

	sftp_watch_consume_to_vendor(
	    r->transfer->watch, sftp_watch_pending_to_vendor(r->transfer->watch, &p));
	r->transfer->say_len = 0;
}

/*
 * Once the vendor has sent EOF or closed and all its bytes are inspected, uploads it left
 * open are discarded (their temporary files removed) before the target channel ends.
 */
static void
transfer_abandon(struct relay *r)
{
	struct transfer *t = r->transfer;

	if (t->abandoned || !(r->vendor_eof || r->vendor_closed) || t->from_vendor.len > 0 ||
	    (!r->vendor_closed && vchan_poll(r->vendor) > 0))
		return;
	t->abandoned = true;
	if (sftp_watch_abandon(t->watch) != 0)
		transfer_fail(r, sftp_watch_error(t->watch));
}

/* ssh_channel_write may poll, and so run data callbacks of the other session while a
 * queue pointer is in use: those nested calls only stage, and the outer loop moves on. */
static void
transfer_move(struct relay *r, bool refill)
{
	struct transfer *t = r->transfer;
	bool progress;

	if (t->moving)
		return;
	t->moving = true;
	do {
		progress = false;
		if (r->transfer_failed || r->session->fatal)
			break;
		if (!r->target_closed)
			progress |= transfer_drain_queue(r, true);
		/* a refusal's reason goes ahead of the answer that makes the client give up */
		if (!r->close_sent && !r->vendor_closed) {
			progress |= transfer_drain_say(r);
			progress |= transfer_drain_queue(r, false);
		} else {
			/* nobody reads answers now: dropped, so the target's keep coming */
			transfer_drop_to_vendor(r);
		}
		progress |= transfer_feed(r, &t->from_vendor, true, refill);
		progress |= transfer_feed(r, &t->from_target, false, refill);
	} while (progress);
	t->moving = false;
}

void
transfer_pump(struct relay *r)
{
	transfer_move(r, true);
	if (!r->transfer_failed && !r->session->fatal && !r->target_closed) {
		transfer_abandon(r);
		transfer_move(r, true);
	}
}

/* Data callbacks: with nothing staged, the inspector reads straight from libssh's buffer
 * (one copy less per byte); what it leaves goes to the stage as far as it fits. libssh
 * keeps the rest, and its window does not grow until we read it, so the sender backs off. */
static int
transfer_take(
    struct relay *r, struct transfer_stage *st, bool from_vendor, const void *data, uint32_t len)
{
	size_t used = 0;
	ssize_t took;

	if (r->transfer_failed)
		return (int)len;
	if (st->len == 0 && !r->transfer->moving) {
		if ((took = transfer_inspect(r, from_vendor, data, len)) < 0)
			return (int)len;
		used = (size_t)took;
	}
	used +=
	    stage_put(st, (const uint8_t *)data + used, len - used, &r->session->transfer_staged);
	/* Bytes left in libssh, or staged by a nested call, are moved by the next pump: this
	 * callback may run inside another libssh call, after this poll round's pump. */
	if (used < len || r->transfer->moving)
		r->session->repump = true;
	transfer_move(r, false);
	return (int)used;
}

int
transfer_from_vendor(struct relay *r, const void *data, uint32_t len)
{
	return transfer_take(r, &r->transfer->from_vendor, true, data, len);
}

bool
transfer_idle_from_vendor(const struct relay *r)
{
	const uint8_t *p;

	return r->transfer->from_vendor.len == 0 &&
	    sftp_watch_pending_to_target(r->transfer->watch, &p) == 0 &&
	    !sftp_watch_uploads_closing(r->transfer->watch);
}

bool
transfer_idle_from_target(const struct relay *r)
{
	const uint8_t *p;

	return r->transfer->from_target.len == 0 && r->transfer->say_len == 0 &&
	    sftp_watch_pending_to_vendor(r->transfer->watch, &p) == 0;
}
