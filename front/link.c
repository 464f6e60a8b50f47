/* link.c: owns the front's end of the monitor link: what waits to be sent, what came during a
 * wait, the wait, the dispatch. Blocks only in link_wait, for a request's answer. */
#include "front/front.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/log.h"
#include "common/xmalloc.h"

/* Messages received during waits and not yet dispatched: the monitor's data is bounded by
 * its window per channel, so more than this is a monitor out of control. */
#define LINK_IN_BYTES_MAX (64u << 20)
/* Messages waiting for the socket: the vendor's data is held back while any does, so only
 * control messages pile up here; this many means the monitor stopped reading. */
#define LINK_OUT_MAX 4096
/* Messages dispatched per event-loop round, so the vendor's side is served too. */
#define LINK_DISPATCH_MAX 64

void
link_init(struct link *l, int fd)
{
	memset(l, 0, sizeof(*l));
	l->fd = fd;
	TAILQ_INIT(&l->out);
	TAILQ_INIT(&l->in);
}

void
link_free(struct link *l)
{
	struct link_out *o;
	struct link_in *i;

	while ((o = TAILQ_FIRST(&l->out)) != NULL) {
		TAILQ_REMOVE(&l->out, o, entry);
		freezero(o->b.p, o->b.cap);
		free(o);
	}
	while ((i = TAILQ_FIRST(&l->in)) != NULL) {
		TAILQ_REMOVE(&l->in, i, entry);
		free(i);
	}
	l->nout = l->in_bytes = 0;
}

/* frontmsg_send(), but a secret's bytes are wiped rather than only freed. */
static int
link_write(struct link *l, struct wbuf *b, bool secret)
{
	ssize_t n;

	if (!secret)
		return frontmsg_send(l->fd, b);
	if (b->len > FRONTMSG_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	n = send(l->fd, b->p, b->len, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n == (ssize_t)b->len) {
		freezero(b->p, b->cap);
		memset(b, 0, sizeof(*b));
		return 0;
	}
	if (n >= 0)
		errno = EIO; /* a datagram is all or nothing */
	return -1;
}

void
link_reserve(struct wbuf *b)
{
	size_t len = b->len;
	unsigned char *zero = xcalloc(1, FRONTMSG_MAX);

	wbuf_bytes(b, zero, FRONTMSG_MAX);
	free(zero);
	b->len = len;
}

int
link_flush(struct link *l)
{
	struct link_out *o;

	while (!l->broken && (o = TAILQ_FIRST(&l->out)) != NULL) {
		if (link_write(l, &o->b, o->secret) != 0) {
			if (frontmsg_send_again(errno))
				return 0;
			debug_f("link send: %s", strerror(errno));
			l->broken = true;
			break;
		}
		TAILQ_REMOVE(&l->out, o, entry);
		l->nout--;
		free(o);
	}
	return l->broken ? -1 : 0;
}

/* Queues b behind what waits; its bytes are the queue's now. */
static int
link_keep(struct link *l, struct wbuf *b, bool secret)
{
	struct link_out *o;

	if (l->nout >= LINK_OUT_MAX) {
		error_f("the monitor reads nothing: %zu messages wait", l->nout);
		l->broken = true;
		freezero(b->p, b->cap);
		memset(b, 0, sizeof(*b));
		return -1;
	}
	o = xcalloc(1, sizeof(*o));
	o->b = *b;
	o->secret = secret;
	memset(b, 0, sizeof(*b));
	TAILQ_INSERT_TAIL(&l->out, o, entry);
	l->nout++;
	return 0;
}

/* After a send that did not go: the link is broken unless it was only full (EAGAIN) or short
 * of kernel memory (ENOBUFS): frontmsg_send_again. */
static void
link_send_failed(struct link *l)
{
	if (frontmsg_send_again(errno))
		return;
	debug_f("link send: %s", strerror(errno));
	l->broken = true;
}

static int
link_enqueue(struct link *l, struct wbuf *b, bool secret)
{
	/* Order first: nothing overtakes a message that waits. */
	if (!l->broken && TAILQ_EMPTY(&l->out)) {
		if (link_write(l, b, secret) == 0)
			return 0;
		link_send_failed(l);
	}
	if (l->broken) {
		freezero(b->p, b->cap);
		memset(b, 0, sizeof(*b));
		return -1;
	}
	return link_keep(l, b, secret);
}

int
link_send_data(struct link *l, uint32_t chan, int stream, const void *data, size_t len)
{
	struct wbuf b;

	/* The common case, the link not full, goes without a copy of the bytes. */
	if (!l->broken && TAILQ_EMPTY(&l->out)) {
		if (frontmsg_send_data(l->fd, chan, stream, data, len) == 0)
			return 0;
		link_send_failed(l);
	}
	if (l->broken)
		return -1;
	frontmsg_new_data(&b, chan, stream, data, len);
	return link_keep(l, &b, false);
}

int
link_send(struct link *l, struct wbuf *b)
{
	return link_enqueue(l, b, false);
}

int
link_send_secret(struct link *l, struct wbuf *b)
{
	return link_enqueue(l, b, true);
}

bool
link_busy(const struct link *l)
{
	return !TAILQ_EMPTY(&l->out);
}

bool
link_pending(const struct link *l)
{
	return !TAILQ_EMPTY(&l->in);
}

void
link_flush_wait(struct link *l, int timeout_ms)
{
	long long end = front_now_ms() + timeout_ms, left;
	struct pollfd p = { .fd = l->fd, .events = POLLOUT };

	while (link_flush(l) == 0 && link_busy(l) && (left = end - front_now_ms()) > 0)
		if (poll(&p, 1, (int)left) < 0 && errno != EINTR)
			break;
}

/* A received message as a struct frontmsg, its body read from m->buf. */
static int
link_parse(struct frontmsg *m, const unsigned char *data, size_t len)
{
	if (len > sizeof(m->buf))
		return -2;
	memcpy(m->buf, data, len);
	m->body.p = m->buf;
	m->body.left = len;
	if (wire_u8(&m->body, &m->type) != 0 || wire_u32(&m->body, &m->chan) != 0 || m->type == 0 ||
	    m->type >= FM_TYPE_MAX)
		return -2;
	return 1;
}

int
link_next(struct link *l, struct frontmsg *m)
{
	struct link_in *i;
	int rc;

	if ((i = TAILQ_FIRST(&l->in)) != NULL) {
		TAILQ_REMOVE(&l->in, i, entry);
		l->in_bytes -= i->len;
		rc = link_parse(m, i->data, i->len);
		free(i);
		return rc;
	}
	return frontmsg_recv(l->fd, m);
}

void
link_forget_acks(struct link *l, uint32_t chan)
{
	struct link_in *i, *next;
	struct frontmsg *m = xmalloc(sizeof(*m));

	for (i = TAILQ_FIRST(&l->in); i != NULL; i = next) {
		next = TAILQ_NEXT(i, entry);
		if (link_parse(m, i->data, i->len) == 1 && m->type == FM_ACK && m->chan == chan) {
			TAILQ_REMOVE(&l->in, i, entry);
			l->in_bytes -= i->len;
			free(i);
		}
	}
	free(m);
}

/* Keeps m for link_dispatch: the whole datagram, header included. */
static void
link_queue(struct front *f, const struct frontmsg *m)
{
	struct link *l = &f->link;
	size_t len = (size_t)(m->body.p - m->buf) + m->body.left;
	struct link_in *i;

	if (l->in_bytes + len > LINK_IN_BYTES_MAX)
		link_violation(f, m, "too much sent while an answer was awaited");
	i = xmalloc(sizeof(*i) + len);
	i->len = len;
	memcpy(i->data, m->buf, len);
	TAILQ_INSERT_TAIL(&l->in, i, entry);
	l->in_bytes += len;
}

/* Whether the monitor's message of this type is about one channel (its chan field counts). */
static bool
link_is_channel(uint8_t type)
{
	return type == FM_RESULT || type == FM_DATA || type == FM_ACK || type == FM_EOF ||
	    type == FM_CLOSE || type == FM_EXIT_STATUS || type == FM_EXIT_SIGNAL;
}

static bool
link_is_answer(uint8_t type)
{
	return type == FM_AUTH_RESULT || type == FM_KBDINT_PROMPTS || type == FM_RESULT;
}

void
link_wait(struct front *f, uint8_t want, uint8_t want2, uint32_t chan, struct frontmsg *m)
{
	struct link *l = &f->link;
	struct pollfd p = { .fd = l->fd };
	int rc;

	for (;;) {
		if (link_flush(l) != 0) {
			info_f("the monitor is gone (waiting for %s)", frontmsg_type_name(want));
			front_die(f, 0);
		}
		rc = frontmsg_recv(l->fd, m);
		if (rc == 0) {
			info_f("the monitor is gone (waiting for %s)", frontmsg_type_name(want));
			front_die(f, 0);
		}
		if (rc == -2)
			link_violation(f, NULL, "malformed message");
		if (rc == -1) {
			p.events = POLLIN | (link_busy(l) ? POLLOUT : 0);
			if (poll(&p, 1, -1) < 0 && errno != EINTR) {
				error_f("poll: %s", strerror(errno));
				front_die(f, 1);
			}
			continue;
		}
		if ((m->type == want || (want2 != 0 && m->type == want2)) && m->chan == chan)
			return;
		/* A keepalive or a disconnect is the connection's, whatever its channel field says:
		 * it may come while a channel opens (its monitor was busy deciding or connecting).
		 */
		if (l->opening != 0 && m->chan == l->opening - 1 && link_is_channel(m->type)) {
			if (m->type == FM_ACK)
				continue; /* for the number's previous channel */
			link_violation(f, m, "a message for a channel not yet opened");
		}
		if (link_is_answer(m->type))
			link_violation(f, m, "an answer to a question not asked");
		if (m->type == FM_BANNER || m->type == FM_METHODS)
			auth_apply(f, m);
		else
			link_queue(f, m);
	}
}

void
link_violation(struct front *f, const struct frontmsg *m, const char *what)
{
	if (m != NULL)
		error_f("monitor protocol violation: %s (%s, channel %u)", what,
		    frontmsg_type_name(m->type), m->chan);
	else
		error_f("monitor protocol violation: %s", what);
	front_die(f, 1);
}

static void
link_on_disconnect(struct front *f, struct frontmsg *m)
{
	uint32_t ms;

	if (wire_u32(&m->body, &ms) != 0 || m->body.left != 0 || m->chan != 0)
		link_violation(f, m, "malformed");
	if (f->disconnecting)
		return; /* the first deadline stands */
	f->disconnecting = true;
	f->disconnect_at = front_now_ms() + ms;
	debug_f("disconnect ordered: %u ms for the output left", ms);
}

static void
link_on_keepalive(struct front *f, struct frontmsg *m)
{
	if (m->body.left != 0 || m->chan != 0)
		link_violation(f, m, "malformed");
	/* libssh keeps one global request in flight and a first call may only collect the
	 * answer to the previous keepalive; the second then sends (gatewayd/session.c). */
	ssh_send_keepalive(f->vendor);
	ssh_send_keepalive(f->vendor);
}

void
link_dispatch(struct front *f)
{
	struct frontmsg *m = xmalloc(sizeof(*m));
	int i, rc;

	for (i = 0; i < LINK_DISPATCH_MAX && !f->done; i++) {
		if ((rc = link_next(&f->link, m)) == -1)
			break;
		if (rc == 0) {
			info_f("the monitor closed the link");
			f->link_lost = f->done = true;
			break;
		}
		if (rc == -2)
			link_violation(f, NULL, "malformed message");
		switch (m->type) {
		case FM_BANNER:
		case FM_METHODS:
			auth_apply(f, m);
			break;
		case FM_KEEPALIVE:
			link_on_keepalive(f, m);
			break;
		case FM_DISCONNECT:
			link_on_disconnect(f, m);
			break;
		case FM_DATA:
		case FM_ACK:
		case FM_EOF:
		case FM_CLOSE:
		case FM_EXIT_STATUS:
		case FM_EXIT_SIGNAL:
			channel_dispatch(f, m);
			break;
		default:
			link_violation(f, m, "unexpected message");
		}
	}
	free(m);
	if (f->link.broken && !f->done) {
		info_f("the link to the monitor broke");
		f->link_lost = f->done = true;
	}
}
