/* frontlink.c: owns the monitor's side of the link to the vendor-facing process: parsing what
 * it sends (bounded; it relays the vendor's bytes), the queue of what goes to it, channel windows.
 */
#include "gatewayd/frontlink.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/xmalloc.h"

struct vchan {
	uint32_t num;
	struct frontlink *fl;
	void *owner;
	uint32_t credit;   /* bytes the front still takes before it acknowledges */
	uint32_t received; /* bytes the front sent beyond what was acknowledged to it */
	unsigned char *in; /* vendor bytes received and not yet taken */
	size_t in_off, in_len, in_cap;
	bool closed;      /* FM_CLOSE sent: nothing more goes out on it */
	bool peer_closed; /* FM_CLOSE received: with closed, the front may reuse the number */
};

struct outmsg {
	TAILQ_ENTRY(outmsg) entry;
	struct wbuf b;
};

struct frontlink {
	int fd;
	pid_t pid;
	int vendor_fd;
	bool gone;
	char gone_why[128];
	struct vchan *chans[FRONTMSG_CHANNELS_MAX];
	TAILQ_HEAD(, outmsg) outq;
	bool acks_due;       /* vendor bytes were taken since frontlink_send_acks last looked */
	bool full;           /* a send met EAGAIN/ENOBUFS: no retry before the poll says writable */
	struct frontmsg msg; /* the message being read */
};

/* ---- parsing: pure ---- */

static int
frontlink_parse_answers(struct wire *w, struct frontreq *rq)
{
	uint32_t n, i;

	if (wire_u32(w, &n) != 0 || n > FRONTMSG_PROMPTS_MAX)
		return -1;
	for (i = 0; i < n; i++)
		if (wire_cstring(w, rq->answers[i], sizeof(rq->answers[i])) != 0)
			return -1;
	rq->nanswers = n;
	return 0;
}

int
frontlink_parse(struct frontmsg *m, struct frontreq *rq)
{
	struct wire *w = &m->body;
	const unsigned char *s;
	size_t len;
	int rc = 0;
	int i;

	rq->type = m->type;
	rq->chan = m->chan;
	rq->text[0] = rq->text2[0] = rq->key[0] = '\0';
	rq->nanswers = 0;
	rq->data = NULL;
	rq->len = 0;
	rq->flag = 0;
	memset(rq->num, 0, sizeof(rq->num));
	if (m->chan >= FRONTMSG_CHANNELS_MAX)
		return -1;
	switch (m->type) {
	case FM_READY:
	case FM_GONE:
	case FM_AUTH_NONE:
	case FM_KBDINT_START:
	case FM_EXEC:
	case FM_SUBSYSTEM:
	case FM_SIGNAL:
		rc = wire_cstring(w, rq->text, sizeof(rq->text));
		break;
	case FM_AUTH_PUBKEY:
		rc = wire_cstring(w, rq->text, sizeof(rq->text)) |
		    wire_cstring(w, rq->text2, sizeof(rq->text2)) |
		    wire_cstring(w, rq->key, sizeof(rq->key)) | wire_u8(w, &rq->flag);
		rc |= rq->flag > 1 ? -1 : 0;
		break;
	case FM_KBDINT_ANSWERS:
		rc = frontlink_parse_answers(w, rq);
		break;
	case FM_PTY:
		rc = wire_cstring(w, rq->text, sizeof(rq->text));
		for (i = 0; i < 4 && rc == 0; i++)
			rc = wire_u32(w, &rq->num[i]);
		break;
	case FM_WINDOW_CHANGE:
		for (i = 0; i < 4 && rc == 0; i++)
			rc = wire_u32(w, &rq->num[i]);
		break;
	case FM_ENV:
		rc = wire_cstring(w, rq->text, sizeof(rq->text)) |
		    wire_cstring(w, rq->text2, sizeof(rq->text2));
		break;
	case FM_FWD_OPEN:
		rc = wire_cstring(w, rq->text, sizeof(rq->text)) | wire_u32(w, &rq->num[0]) |
		    wire_cstring(w, rq->text2, sizeof(rq->text2)) | wire_u32(w, &rq->num[1]);
		rc |= rq->num[0] > 65535 || rq->num[1] > 65535 ? -1 : 0;
		break;
	case FM_CHAN_OPEN:
	case FM_SHELL:
	case FM_EOF:
	case FM_CLOSE:
		break;
	case FM_ACK:
		rc = wire_u32(w, &rq->num[0]);
		rc |= rq->num[0] > FRONTMSG_WINDOW_OUT ? -1 : 0;
		break;
	case FM_DATA:
		rc = wire_u8(w, &rq->flag) | wire_string(w, &s, &len);
		if (rc == 0 && (rq->flag > 1 || len == 0 || len > FRONTMSG_DATA_MAX))
			rc = -1;
		rq->data = s;
		rq->len = len;
		break;
	default:
		return -1; /* a monitor-to-front type, or none */
	}
	return rc == 0 && w->left == 0 ? 0 : -1;
}

/* ---- the link ---- */

struct frontlink *
frontlink_new(int link_fd, pid_t pid, int vendor_fd)
{
	struct frontlink *fl = xcalloc(1, sizeof(*fl));

	fl->fd = link_fd;
	fl->pid = pid;
	fl->vendor_fd = vendor_fd;
	TAILQ_INIT(&fl->outq);
	return fl;
}

static void
frontlink_set_gone(struct frontlink *fl, const char *why)
{
	if (fl->gone)
		return;
	fl->gone = true;
	/* why is at most FRONTMSG_TEXT_MAX: cut to the field, on purpose */
	snprintf(fl->gone_why, sizeof(fl->gone_why), "%.*s", (int)sizeof(fl->gone_why) - 1, why);
}

/* Waits up to ms for the front to exit; true when it did (and was reaped). */
static bool
frontlink_reap(struct frontlink *fl, long ms)
{
	struct timespec step = { 0, 10 * 1000 * 1000 };
	pid_t r;

	for (;;) {
		r = waitpid(fl->pid, NULL, WNOHANG);
		if (r == fl->pid || (r == -1 && errno == ECHILD))
			return true;
		if (ms <= 0)
			return false;
		nanosleep(&step, NULL);
		ms -= 10;
	}
}

void
frontlink_cut(struct frontlink *fl)
{
	frontlink_set_gone(fl, "connection ended by the gateway");
	/* The socket itself ends, for the front too: no signal needed (nor allowed: the front
	 * runs as another user, and this process has no capability to signal it). Link EOF
	 * then ends the front; PR_SET_PDEATHSIG ends it if this process goes first. */
	if (fl->vendor_fd != -1)
		shutdown(fl->vendor_fd, SHUT_RDWR);
	shutdown(fl->fd, SHUT_RDWR);
	if (fl->pid > 0 && frontlink_reap(fl, 1000))
		fl->pid = -1;
}

void
frontlink_free(struct frontlink *fl)
{
	struct outmsg *o;
	size_t i;

	if (fl == NULL)
		return;
	if (fl->pid > 0 && !frontlink_reap(fl, 0))
		frontlink_cut(fl);
	for (i = 0; i < FRONTMSG_CHANNELS_MAX; i++)
		vchan_free(fl->chans[i]);
	while ((o = TAILQ_FIRST(&fl->outq)) != NULL) {
		TAILQ_REMOVE(&fl->outq, o, entry);
		wbuf_free(&o->b);
		free(o);
	}
	close(fl->fd);
	if (fl->vendor_fd != -1)
		close(fl->vendor_fd);
	free(fl);
}

int
frontlink_fd(const struct frontlink *fl)
{
	return fl->fd;
}

int
frontlink_vendor_fd(const struct frontlink *fl)
{
	return fl->vendor_fd;
}

bool
frontlink_gone(const struct frontlink *fl)
{
	return fl->gone;
}

const char *
frontlink_gone_why(const struct frontlink *fl)
{
	return fl->gone_why;
}

bool
frontlink_pending(const struct frontlink *fl)
{
	return !TAILQ_EMPTY(&fl->outq);
}

/* After a send that did not go: 0 when the link is only full or short of kernel memory (the
 * message is to wait; ENOBUFS under load once ended a session as "relay write failed"), -1
 * when it is broken. */
static int
frontlink_send_failed(struct frontlink *fl)
{
	if (frontmsg_send_again(errno)) {
		fl->full = errno != EINTR;
		return 0;
	}
	frontlink_set_gone(fl, "link to the vendor-facing process broken");
	return -1;
}

void
frontlink_writable(struct frontlink *fl)
{
	fl->full = false;
}

int
frontlink_flush(struct frontlink *fl)
{
	struct outmsg *o;

	/* Retried every round, a full link cost a failed send per round (~4 KiB of the target's
	 * output): once per MiB of output as many system calls as the data itself. */
	while (!fl->full && (o = TAILQ_FIRST(&fl->outq)) != NULL) {
		if (frontmsg_send(fl->fd, &o->b) != 0)
			return frontlink_send_failed(fl);
		TAILQ_REMOVE(&fl->outq, o, entry);
		free(o);
	}
	return 0;
}

/* Sends b after what waits (order matters), queueing it when the link is full. */
static int
frontlink_send(struct frontlink *fl, struct wbuf *b)
{
	struct outmsg *o;

	if (fl->gone) {
		wbuf_free(b);
		return -1;
	}
	if (TAILQ_EMPTY(&fl->outq) && !fl->full) {
		if (frontmsg_send(fl->fd, b) == 0)
			return 0;
		if (frontlink_send_failed(fl) != 0) {
			wbuf_free(b);
			return -1;
		}
	}
	o = xcalloc(1, sizeof(*o));
	o->b = *b;
	TAILQ_INSERT_TAIL(&fl->outq, o, entry);
	return 0;
}

int
frontlink_next(struct frontlink *fl, struct frontreq *rq)
{
	struct vchan *v;
	int rc;

	for (;;) {
		if (fl->gone)
			return -1;
		rc = frontmsg_recv(fl->fd, &fl->msg);
		if (rc == -1)
			return 0;
		if (rc == 0) {
			frontlink_set_gone(fl, "vendor-facing process ended");
			return -1;
		}
		if (rc == -2 || frontlink_parse(&fl->msg, rq) != 0) {
			error_f("malformed %s message from the vendor-facing process: ending it",
			    frontmsg_type_name(fl->msg.type));
			frontlink_set_gone(fl, "protocol violation by the vendor-facing process");
			return -1;
		}
		v = fl->chans[rq->chan];
		switch (rq->type) {
		case FM_ACK:
			/* An acknowledgement can cross its channel's CLOSE and arrive once the
			 * front reused the number: more than is outstanding is taken as all of it
			 * (the window still bounds what this process queues). */
			if (v == NULL)
				break;
			v->credit = rq->num[0] > FRONTMSG_WINDOW_OUT - v->credit
			    ? FRONTMSG_WINDOW_OUT
			    : v->credit + rq->num[0];
			break;
		case FM_DATA:
			if (v == NULL)
				break; /* freed meanwhile: the front's bytes for it are dropped */
			if (rq->len > FRONTMSG_WINDOW_IN - v->received)
				goto violation;
			v->received += (uint32_t)rq->len;
			fl->acks_due = true;
			return 1;
		case FM_CHAN_OPEN:
		case FM_FWD_OPEN:
			if (v != NULL && !(v->closed && v->peer_closed))
				goto violation;
			/* Closed both ways, the number is the front's again; the old channel's
			 * owner lets it go when it is done with it. */
			if (v != NULL)
				fl->chans[rq->chan] = NULL;
			return 1;
		case FM_PTY:
		case FM_ENV:
		case FM_SHELL:
		case FM_EXEC:
		case FM_SUBSYSTEM:
		case FM_WINDOW_CHANGE:
		case FM_SIGNAL:
		case FM_CLOSE:
			if (v != NULL)
				v->peer_closed = true;
			return 1;
		case FM_EOF:
			/* A request on a channel the monitor already let go is refused by the owner
			 * (NULL) so that the front, which waits for answers, gets one. */
			return 1;
		case FM_GONE:
			frontlink_set_gone(fl, rq->text);
			return -1;
		default:
			return 1;
		}
	}
violation:
	error_f("the vendor-facing process overran the window of channel %u: ending it",
	    (unsigned)rq->chan);
	frontlink_set_gone(fl, "protocol violation by the vendor-facing process");
	return -1;
}

/* ---- messages to the front ---- */

int
frontlink_send_init(struct frontlink *fl, const char *const *pems, size_t npems,
    const char *const algorithms[4], unsigned methods, unsigned grace_s)
{
	struct wbuf b;
	size_t i;

	frontmsg_new(&b, FM_INIT, 0);
	wbuf_u32(&b, FRONTMSG_VERSION);
	wbuf_u32(&b, (uint32_t)npems);
	for (i = 0; i < npems; i++)
		wbuf_cstring(&b, pems[i]);
	for (i = 0; i < 4; i++)
		wbuf_cstring(&b, algorithms[i]);
	wbuf_u32(&b, methods);
	wbuf_u32(&b, grace_s);
	return frontlink_send(fl, &b);
}

static int
frontlink_send_u8(struct frontlink *fl, enum frontmsg_type type, uint32_t chan, uint8_t v)
{
	struct wbuf b;

	frontmsg_new(&b, type, chan);
	wbuf_u8(&b, v);
	return frontlink_send(fl, &b);
}

static int
frontlink_send_u32(struct frontlink *fl, enum frontmsg_type type, uint32_t chan, uint32_t v)
{
	struct wbuf b;

	frontmsg_new(&b, type, chan);
	wbuf_u32(&b, v);
	return frontlink_send(fl, &b);
}

int
frontlink_send_auth_result(struct frontlink *fl, int result)
{
	return frontlink_send_u8(fl, FM_AUTH_RESULT, 0, (uint8_t)result);
}

int
frontlink_send_prompts(struct frontlink *fl, const char *instruction, size_t n,
    const char *const *prompts, const bool *echo)
{
	struct wbuf b;
	size_t i;

	frontmsg_new(&b, FM_KBDINT_PROMPTS, 0);
	wbuf_cstring(&b, instruction);
	wbuf_u32(&b, (uint32_t)n);
	for (i = 0; i < n; i++) {
		wbuf_cstring(&b, prompts[i]);
		wbuf_u8(&b, echo[i] ? 1 : 0);
	}
	return frontlink_send(fl, &b);
}

int
frontlink_send_methods(struct frontlink *fl, unsigned methods)
{
	return frontlink_send_u32(fl, FM_METHODS, 0, methods);
}

int
frontlink_send_banner(struct frontlink *fl, const char *text)
{
	struct wbuf b;

	frontmsg_new(&b, FM_BANNER, 0);
	wbuf_cstring(&b, text);
	return frontlink_send(fl, &b);
}

int
frontlink_send_result(struct frontlink *fl, uint32_t chan, bool ok)
{
	return frontlink_send_u8(fl, FM_RESULT, chan, ok ? 1 : 0);
}

int
frontlink_send_keepalive(struct frontlink *fl)
{
	struct wbuf b;

	frontmsg_new(&b, FM_KEEPALIVE, 0);
	return frontlink_send(fl, &b);
}

int
frontlink_send_disconnect(struct frontlink *fl, unsigned ms)
{
	return frontlink_send_u32(fl, FM_DISCONNECT, 0, ms);
}

/* ---- channels ---- */

struct vchan *
vchan_new(struct frontlink *fl, uint32_t num, void *owner)
{
	struct vchan *v;

	if (num >= FRONTMSG_CHANNELS_MAX || fl->chans[num] != NULL)
		return NULL;
	v = xcalloc(1, sizeof(*v));
	v->num = num;
	v->fl = fl;
	v->owner = owner;
	v->credit = FRONTMSG_WINDOW_OUT;
	fl->chans[num] = v;
	return v;
}

void
vchan_free(struct vchan *v)
{
	if (v == NULL)
		return;
	if (v->fl->chans[v->num] == v)
		v->fl->chans[v->num] = NULL;
	free(v->in);
	free(v);
}

void *
vchan_owner_of(struct frontlink *fl, uint32_t num)
{
	return num < FRONTMSG_CHANNELS_MAX && fl->chans[num] != NULL ? fl->chans[num]->owner : NULL;
}

uint32_t
vchan_window(const struct vchan *v)
{
	return v->closed || v->fl->gone ? 0 : v->credit;
}

int
vchan_write(struct vchan *v, const void *data, uint32_t len, int is_stderr)
{
	struct frontlink *fl = v->fl;
	const unsigned char *p = data;
	uint32_t n, sent = 0;
	struct wbuf b;

	if (fl->gone)
		return -1;
	if (len > vchan_window(v))
		len = vchan_window(v);
	while (sent < len) {
		n = len - sent > FRONTMSG_DATA_MAX ? FRONTMSG_DATA_MAX : len - sent;
		/* Straight from the caller's buffer while nothing waits (order), else a copy waits.
		 */
		if (TAILQ_EMPTY(&fl->outq) && !fl->full) {
			if (frontmsg_send_data(fl->fd, v->num, is_stderr ? 1 : 0, p + sent, n) ==
			    0) {
				sent += n;
				continue;
			}
			if (frontlink_send_failed(fl) != 0)
				return -1;
		}
		frontmsg_new_data(&b, v->num, is_stderr ? 1 : 0, p + sent, n);
		if (frontlink_send(fl, &b) != 0)
			return -1;
		sent += n;
	}
	v->credit -= sent;
	return (int)sent;
}

uint32_t
vchan_poll(const struct vchan *v)
{
	return (uint32_t)v->in_len;
}

uint32_t
vchan_peek(const struct vchan *v, const unsigned char **p)
{
	/* An empty channel may have no buffer yet: NULL plus an offset is undefined. */
	*p = v->in_len > 0 ? v->in + v->in_off : NULL;
	return (uint32_t)v->in_len;
}

void
vchan_consume(struct vchan *v, uint32_t n)
{
	if (n > v->in_len)
		n = (uint32_t)v->in_len;
	v->in_off += n;
	v->in_len -= n;
	v->fl->acks_due = true;
	if (v->in_len == 0)
		v->in_off = 0;
}

int
vchan_read(struct vchan *v, void *buf, uint32_t len)
{
	const unsigned char *p;
	uint32_t n = vchan_peek(v, &p);

	if (n > len)
		n = len;
	memcpy(buf, p, n);
	vchan_consume(v, n);
	return (int)n;
}

int
vchan_keep(struct vchan *v, const void *data, size_t len)
{
	/* The front never sends past the window, so the inbox stays within it. */
	if (len == 0)
		return 0;
	if (len > FRONTMSG_WINDOW_IN - v->in_len)
		return -1;
	if (v->in_off + v->in_len + len > v->in_cap) {
		if (v->in_off > 0) {
			memmove(v->in, v->in + v->in_off, v->in_len);
			v->in_off = 0;
		}
		if (v->in_len + len > v->in_cap) {
			v->in_cap = v->in_len + len < 65536 ? 65536 : FRONTMSG_WINDOW_IN;
			v->in = xreallocarray(v->in, v->in_cap, 1);
		}
	}
	memcpy(v->in + v->in_off + v->in_len, data, len);
	v->in_len += len;
	return 0;
}

/* Bytes taken at once by the owner (never kept) are acknowledged like read ones. */
void
frontlink_send_acks(struct frontlink *fl)
{
	struct vchan *v;
	uint32_t n;
	size_t i;

	if (!fl->acks_due)
		return;
	fl->acks_due = false;
	/* received counts what arrived and was not acknowledged yet; what is still kept is
	 * acknowledged once taken. */
	for (i = 0; i < FRONTMSG_CHANNELS_MAX; i++) {
		if ((v = fl->chans[i]) == NULL ||
		    (n = v->received - (uint32_t)v->in_len) < FRONTMSG_ACK_MIN(FRONTMSG_WINDOW_IN))
			continue;
		if (frontlink_send_u32(fl, FM_ACK, v->num, n) != 0)
			return;
		v->received -= n;
	}
}

static int
vchan_send_plain(struct vchan *v, enum frontmsg_type type)
{
	struct wbuf b;

	frontmsg_new(&b, type, v->num);
	return frontlink_send(v->fl, &b);
}

int
vchan_send_eof(struct vchan *v)
{
	return v->closed ? -1 : vchan_send_plain(v, FM_EOF);
}

int
vchan_close(struct vchan *v)
{
	if (v->closed)
		return 0;
	v->closed = true;
	return vchan_send_plain(v, FM_CLOSE);
}

int
vchan_send_exit_status(struct vchan *v, int status)
{
	return v->closed ? -1 : frontlink_send_u32(v->fl, FM_EXIT_STATUS, v->num, (uint32_t)status);
}

int
vchan_send_exit_signal(struct vchan *v, const char *sig, bool core)
{
	struct wbuf b;

	if (v->closed)
		return -1;
	frontmsg_new(&b, FM_EXIT_SIGNAL, v->num);
	wbuf_cstring(&b, sig);
	wbuf_u8(&b, core ? 1 : 0);
	return frontlink_send(v->fl, &b);
}
