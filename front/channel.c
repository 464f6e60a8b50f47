/* channel.c: owns the vendor's session channels: requests to the monitor, data both ways under
 * both flow controls, EOF and CLOSE in order. Never writes to a channel inside a callback. */
#include "front/front.h"

#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/xmalloc.h"

#define CHANNEL_SIGNAL_MAX 64 /* a signal name ("INT", "TERM"...), with room to spare */

/* ---- towards the monitor ---- */

static void
channel_send(struct fchan *c, struct wbuf *b)
{
	struct front *f = c->front;

	/* A broken link ends the loop at its next turn; nothing else to do here. */
	if (link_send(&f->link, b) != 0)
		f->link_lost = f->done = true;
}

/* n bytes of the vendor's stream, in chunks the link takes; the caller counted the credit. */
static void
channel_send_data(struct fchan *c, int stream, const unsigned char *data, uint32_t n)
{
	struct front *f = c->front;
	uint32_t chunk;

	while (n > 0) {
		chunk = n > FRONTMSG_DATA_MAX ? FRONTMSG_DATA_MAX : n;
		/* A broken link ends the loop at its next turn; nothing else to do here. */
		if (link_send_data(&f->link, c->num, stream, data, chunk) != 0)
			f->link_lost = f->done = true;
		c->credit -= chunk;
		data += chunk;
		n -= chunk;
	}
}

static void
channel_send_empty(struct fchan *c, enum frontmsg_type type)
{
	struct wbuf b;

	frontmsg_new(&b, type, c->num);
	channel_send(c, &b);
}

/* A request the monitor answers with FM_RESULT: 0 when granted, -1 when refused. */
static int
channel_ask(struct fchan *c, struct wbuf *b)
{
	struct front *f = c->front;
	struct frontmsg *m;
	uint8_t ok;

	if (c->monitor_closed || c->vendor_closed || f->disconnecting || f->done) {
		wbuf_free(b);
		return -1;
	}
	if (link_send(&f->link, b) != 0) {
		info_f("the monitor is gone");
		front_die(f, 0);
	}
	m = xmalloc(sizeof(*m));
	link_wait(f, FM_RESULT, 0, c->num, m);
	if (wire_u8(&m->body, &ok) != 0 || m->body.left != 0 || ok > 1)
		link_violation(f, m, "malformed");
	free(m);
	return ok ? 0 : -1;
}

/*
 * How many of the avail bytes libssh holds for this stream go to the monitor now (0: they
 * wait). libssh appends each packet to the channel's buffer and, when the buffer must grow,
 * first moves what is left unread to its front: bytes taken a few KiB at a time as credit
 * came back were moved (memmove) over and over, a fifth of the machine's time for bulk input.
 * So they go whole, once the credit covers them; the link's window is larger than libssh's,
 * so it comes. Only a vendor that overran its window is taken in part, half a window at once.
 */
static uint32_t
channel_take(const struct fchan *c, uint32_t avail)
{
	if (c->monitor_closed || avail <= c->credit)
		return avail;
	return c->credit >= FRONTMSG_WINDOW_IN / 2 && avail > FRONTMSG_WINDOW_IN / 2 ? c->credit
	                                                                             : 0;
}

/* ---- the vendor's channel callbacks (never write to a channel here) ---- */

static int
channel_data_cb(
    ssh_session session, ssh_channel ch, void *data, uint32_t len, int is_stderr, void *userdata)
{
	struct fchan *c = userdata;
	struct front *f = c->front;
	int st = is_stderr ? 1 : 0;
	uint32_t n;

	(void)session, (void)ch;
	if (c->monitor_closed)
		return (int)len; /* nobody reads them any more: dropped, the window keeps moving */
	/* Left in libssh, whose window then stops growing, so the vendor backs off: while the
	 * monitor has not acknowledged, while the link is full, after a disconnect order. */
	if (f->disconnecting || f->done || link_busy(&f->link) || (n = channel_take(c, len)) == 0) {
		c->held[st] = len > 0;
		return 0;
	}
	channel_send_data(c, st, data, n);
	c->held[st] = n < len;
	return (int)n;
}

static void
channel_eof_cb(ssh_session session, ssh_channel ch, void *userdata)
{
	struct fchan *c = userdata;

	(void)session, (void)ch;
	c->vendor_eof = true; /* FM_EOF goes once the bytes before it went (channel_pump_one) */
}

static void
channel_close_cb(ssh_session session, ssh_channel ch, void *userdata)
{
	struct fchan *c = userdata;

	(void)session, (void)ch;
	c->vendor_closed = true;
}

static void
channel_signal_cb(ssh_session session, ssh_channel ch, const char *signal, void *userdata)
{
	struct fchan *c = userdata;
	struct wbuf b;

	(void)session, (void)ch;
	if (signal == NULL || strlen(signal) >= CHANNEL_SIGNAL_MAX || c->monitor_closed ||
	    c->front->disconnecting)
		return;
	frontmsg_new(&b, FM_SIGNAL, c->num);
	wbuf_cstring(&b, signal);
	channel_send(c, &b);
}

/* The four sizes of a pty or window-change request, refused when any is negative. */
static int
channel_put_sizes(struct wbuf *b, int cols, int rows, int pxw, int pxh)
{
	if (cols < 0 || rows < 0 || pxw < 0 || pxh < 0)
		return -1;
	wbuf_u32(b, (uint32_t)cols);
	wbuf_u32(b, (uint32_t)rows);
	wbuf_u32(b, (uint32_t)pxw);
	wbuf_u32(b, (uint32_t)pxh);
	return 0;
}

static int
channel_pty_cb(ssh_session session, ssh_channel ch, const char *term, int cols, int rows, int pxw,
    int pxh, void *userdata)
{
	struct fchan *c = userdata;
	struct wbuf b;

	(void)session, (void)ch;
	if (term == NULL || strlen(term) >= FRONTMSG_TEXT_MAX)
		return -1;
	frontmsg_new(&b, FM_PTY, c->num);
	wbuf_cstring(&b, term);
	if (channel_put_sizes(&b, cols, rows, pxw, pxh) != 0) {
		wbuf_free(&b);
		return -1;
	}
	return channel_ask(c, &b);
}

static int
channel_window_change_cb(
    ssh_session session, ssh_channel ch, int cols, int rows, int pxw, int pxh, void *userdata)
{
	struct fchan *c = userdata;
	struct wbuf b;

	(void)session, (void)ch;
	frontmsg_new(&b, FM_WINDOW_CHANGE, c->num);
	if (channel_put_sizes(&b, cols, rows, pxw, pxh) != 0) {
		wbuf_free(&b);
		return -1;
	}
	return channel_ask(c, &b);
}

static int
channel_env_cb(
    ssh_session session, ssh_channel ch, const char *name, const char *value, void *userdata)
{
	struct fchan *c = userdata;
	struct wbuf b;

	(void)session, (void)ch;
	if (name == NULL || value == NULL || strlen(name) >= FRONTMSG_TEXT_MAX ||
	    strlen(value) >= FRONTMSG_TEXT_MAX)
		return -1;
	frontmsg_new(&b, FM_ENV, c->num);
	wbuf_cstring(&b, name);
	wbuf_cstring(&b, value);
	return channel_ask(c, &b);
}

static int
channel_shell_cb(ssh_session session, ssh_channel ch, void *userdata)
{
	struct fchan *c = userdata;
	struct wbuf b;

	(void)session, (void)ch;
	frontmsg_new(&b, FM_SHELL, c->num);
	return channel_ask(c, &b);
}

/* A request whose one field is a vendor-chosen text (a command, a subsystem's name). */
static int
channel_ask_text(struct fchan *c, enum frontmsg_type type, const char *text)
{
	struct wbuf b;

	if (text == NULL || strlen(text) >= FRONTMSG_TEXT_MAX)
		return -1;
	frontmsg_new(&b, type, c->num);
	wbuf_cstring(&b, text);
	return channel_ask(c, &b);
}

static int
channel_exec_cb(ssh_session session, ssh_channel ch, const char *command, void *userdata)
{
	(void)session, (void)ch;
	return channel_ask_text(userdata, FM_EXEC, command);
}

static int
channel_subsystem_cb(ssh_session session, ssh_channel ch, const char *name, void *userdata)
{
	(void)session, (void)ch;
	return channel_ask_text(userdata, FM_SUBSYSTEM, name);
}

static int
channel_wontblock_cb(ssh_session session, ssh_channel ch, uint32_t bytes, void *userdata)
{
	(void)session, (void)ch, (void)bytes, (void)userdata;
	/* channel_pump_all runs after every poll round and writes then; in 0.10 this fires when
	 * the socket drains, not when the vendor's window reopens, so it adds nothing. */
	return 0;
}

/* A free channel number for a new channel, or FRONTMSG_CHANNELS_MAX when none is left. */
static uint32_t
channel_free_number(struct front *f)
{
	uint32_t num;

	if (f->disconnecting || f->done)
		return FRONTMSG_CHANNELS_MAX;
	for (num = 0; num < FRONTMSG_CHANNELS_MAX && f->chans[num] != NULL; num++)
		;
	return num;
}

/* Sends b, the monitor's question about opening channel num, and waits for its answer. */
static bool
channel_ask_open(struct front *f, uint32_t num, struct wbuf *b)
{
	struct frontmsg *m;
	uint8_t ok;

	/* Acknowledgements for the number's previous channel may still be on their way. */
	link_forget_acks(&f->link, num);
	if (link_send(&f->link, b) != 0) {
		info_f("the monitor is gone");
		front_die(f, 0);
	}
	m = xmalloc(sizeof(*m));
	f->link.opening = num + 1;
	link_wait(f, FM_RESULT, 0, num, m);
	f->link.opening = 0;
	if (wire_u8(&m->body, &ok) != 0 || m->body.left != 0 || ok > 1)
		link_violation(f, m, "malformed");
	free(m);
	return ok == 1;
}

/* The monitor opened num: ch is its libssh channel. A session channel takes the requests a
 * session has; a tunnel only data, EOF and close (libssh refuses the rest). */
static struct fchan *
channel_attach(struct front *f, uint32_t num, ssh_channel ch, bool session)
{
	struct fchan *c = xcalloc(1, sizeof(*c));

	c->ch = ch;
	c->front = f;
	c->num = num;
	c->credit = FRONTMSG_WINDOW_IN;
	TAILQ_INIT(&c->out);
	c->cb.userdata = c;
	c->cb.channel_data_function = channel_data_cb;
	c->cb.channel_eof_function = channel_eof_cb;
	c->cb.channel_close_function = channel_close_cb;
	c->cb.channel_write_wontblock_function = channel_wontblock_cb;
	if (session) {
		c->cb.channel_signal_function = channel_signal_cb;
		c->cb.channel_pty_request_function = channel_pty_cb;
		c->cb.channel_pty_window_change_function = channel_window_change_cb;
		c->cb.channel_env_request_function = channel_env_cb;
		c->cb.channel_shell_request_function = channel_shell_cb;
		c->cb.channel_exec_request_function = channel_exec_cb;
		c->cb.channel_subsystem_request_function = channel_subsystem_cb;
	}
	ssh_callbacks_init(&c->cb);
	ssh_set_channel_callbacks(c->ch, &c->cb);
	f->chans[num] = c;
	f->used[num] = true;
	if (num >= f->chans_end)
		f->chans_end = num + 1;
	return c;
}

ssh_channel
channel_open_cb(ssh_session session, void *userdata)
{
	struct front *f = userdata;
	ssh_channel ch;
	struct wbuf b;
	uint32_t num;

	if ((num = channel_free_number(f)) == FRONTMSG_CHANNELS_MAX)
		return NULL;
	frontmsg_new(&b, FM_CHAN_OPEN, num);
	if (!channel_ask_open(f, num, &b))
		return NULL;
	if ((ch = ssh_channel_new(session)) == NULL) {
		/* The monitor holds it open: without memory for it there is no way on. */
		error_f("no channel for number %u", num);
		front_die(f, 1);
	}
	return channel_attach(f, num, ch, true)->ch;
}

int
channel_open_tunnel(struct front *f, ssh_message msg)
{
	const char *host = ssh_message_channel_request_open_destination(msg);
	const char *orig = ssh_message_channel_request_open_originator(msg);
	int port = ssh_message_channel_request_open_destination_port(msg);
	int orig_port = ssh_message_channel_request_open_originator_port(msg);
	ssh_channel ch;
	struct wbuf b;
	uint32_t num;

	/* The monitor decides; names it cannot take (too long, not text) are refused here. */
	if (host == NULL || strnlen(host, FRONTMSG_TEXT_MAX) == FRONTMSG_TEXT_MAX || port < 0 ||
	    (num = channel_free_number(f)) == FRONTMSG_CHANNELS_MAX)
		return 1;
	if (orig == NULL || strnlen(orig, FRONTMSG_TEXT_MAX) == FRONTMSG_TEXT_MAX)
		orig = "";
	frontmsg_new(&b, FM_FWD_OPEN, num);
	wbuf_cstring(&b, host);
	wbuf_u32(&b, (uint32_t)port);
	wbuf_cstring(&b, orig);
	wbuf_u32(&b, orig_port < 0 ? 0 : (uint32_t)orig_port);
	if (!channel_ask_open(f, num, &b))
		return 1; /* libssh's OPEN_FAILURE: 0.10 sends it without a text */
	if ((ch = ssh_message_channel_request_open_reply_accept(msg)) == NULL) {
		error_f("cannot accept the forwarded channel %u", num);
		front_die(f, 1);
	}
	channel_attach(f, num, ch, false);
	return 0;
}

/* ---- from the monitor ---- */

static struct fout *
channel_queue(struct fchan *c, enum fout_kind kind, size_t datalen)
{
	/* Only the header is cleared: the data part is written over at once. */
	struct fout *o = xmalloc(sizeof(*o) + datalen);

	memset(o, 0, sizeof(*o));
	o->kind = kind;
	TAILQ_INSERT_TAIL(&c->out, o, entry);
	return o;
}

/* Writes up to n bytes of the monitor's data to the vendor, as far as its window takes them;
 * returns how many are done with (counted for FM_ACK): all of them once the vendor closed. */
static uint32_t
channel_write_vendor(struct fchan *c, uint8_t stream, const unsigned char *data, uint32_t n)
{
	uint32_t done = 0, room, chunk;
	int w;

	while (done < n) {
		if (c->vendor_closed || c->vendor_close_done) {
			done = n; /* no reader any more, but taken */
			break;
		}
		/* What the kernel did not take waits in libssh's socket buffer, which has no bound
		 * of ours (libssh's own is 256 MiB): a vendor that advertises a huge window and
		 * stops reading its socket would have it grow. Nothing more goes in until it is
		 * flushed (libssh polls for POLLOUT meanwhile), so the queue and the link's window
		 * bound what waits here. */
		if ((ssh_get_poll_flags(c->front->vendor) & SSH_WRITE_PENDING) != 0 ||
		    (room = ssh_channel_window_size(c->ch)) == 0)
			break;
		chunk = n - done < room ? n - done : room;
		/* May poll, and so run callbacks: none of them touches the queue. */
		w = stream ? ssh_channel_write_stderr(c->ch, data + done, chunk)
		           : ssh_channel_write(c->ch, data + done, chunk);
		if (w < 0) {
			done = n; /* the vendor closed meanwhile: what is left has no reader */
			break;
		}
		if (w == 0)
			break;
		done += (uint32_t)w;
	}
	c->to_ack += done;
	return done;
}

static void
channel_on_data(struct front *f, struct fchan *c, struct frontmsg *m)
{
	const unsigned char *s;
	struct fout *o;
	uint32_t done = 0;
	uint8_t stream;
	size_t len;

	if (wire_u8(&m->body, &stream) != 0 || wire_string(&m->body, &s, &len) != 0 ||
	    m->body.left != 0 || stream > 1 || len > FRONTMSG_DATA_MAX)
		link_violation(f, m, "malformed");
	if (c->monitor_eof || c->monitor_closed)
		link_violation(f, m, "data after EOF or CLOSE");
	if (c->unacked + len > FRONTMSG_WINDOW_OUT)
		link_violation(f, m, "more data than the window");
	if (len == 0)
		return;
	c->unacked += (uint32_t)len;
	/* With nothing queued before them, the bytes go to the vendor straight from the message
	 * (this runs outside every libssh callback, from link_dispatch); only what the vendor's
	 * window does not take is copied to wait. */
	if (TAILQ_EMPTY(&c->out) &&
	    (done = channel_write_vendor(c, stream, s, (uint32_t)len)) == len)
		return;
	o = channel_queue(c, FOUT_DATA, len - done);
	o->stream = stream;
	o->len = (uint32_t)len - done;
	memcpy(o->data, s + done, o->len);
}

static void
channel_on_ack(struct front *f, struct fchan *c, struct frontmsg *m)
{
	uint32_t n;

	if (wire_u32(&m->body, &n) != 0 || m->body.left != 0)
		link_violation(f, m, "malformed");
	if (n > FRONTMSG_WINDOW_IN - c->credit)
		link_violation(f, m, "acknowledges more than was sent");
	c->credit += n;
}

void
channel_dispatch(struct front *f, struct frontmsg *m)
{
	struct fchan *c;
	struct fout *o;
	uint32_t status;
	uint8_t core;

	if (m->chan >= FRONTMSG_CHANNELS_MAX)
		link_violation(f, m, "channel number out of range");
	if ((c = f->chans[m->chan]) == NULL) {
		/* An acknowledgement may cross the channel's last CLOSE on the link. */
		if (m->type == FM_ACK && f->used[m->chan])
			return;
		link_violation(f, m, "no such channel");
	}
	if (m->type != FM_ACK && m->type != FM_DATA && c->monitor_closed)
		link_violation(f, m, "message after CLOSE");
	switch (m->type) {
	case FM_DATA:
		channel_on_data(f, c, m);
		break;
	case FM_ACK:
		channel_on_ack(f, c, m);
		break;
	case FM_EOF:
		if (m->body.left != 0 || c->monitor_eof)
			link_violation(f, m, "malformed or repeated");
		c->monitor_eof = true;
		channel_queue(c, FOUT_EOF, 0);
		break;
	case FM_CLOSE:
		if (m->body.left != 0)
			link_violation(f, m, "malformed");
		c->monitor_closed = true;
		channel_queue(c, FOUT_CLOSE, 0);
		break;
	case FM_EXIT_STATUS:
		if (wire_u32(&m->body, &status) != 0 || m->body.left != 0)
			link_violation(f, m, "malformed");
		channel_queue(c, FOUT_EXIT_STATUS, 0)->status = status;
		break;
	case FM_EXIT_SIGNAL:
		o = channel_queue(c, FOUT_EXIT_SIGNAL, 0);
		if (wire_cstring(&m->body, o->signame, sizeof(o->signame)) != 0 ||
		    wire_u8(&m->body, &core) != 0 || m->body.left != 0 || core > 1 ||
		    o->signame[0] == '\0')
			link_violation(f, m, "malformed");
		o->core = core;
		break;
	default:
		link_violation(f, m, "unexpected message");
	}
}

/* ---- the event loop's turn: outside every callback ---- */

/* Writes the queue to the vendor in order, data as far as the vendor's window takes it. */
static void
channel_pump_out(struct fchan *c)
{
	struct fout *o;

	while ((o = TAILQ_FIRST(&c->out)) != NULL) {
		if (o->kind == FOUT_DATA) {
			o->off +=
			    channel_write_vendor(c, o->stream, o->data + o->off, o->len - o->off);
			if (o->off < o->len)
				break;
		} else if (o->kind == FOUT_CLOSE) {
			if (!c->vendor_close_done)
				ssh_channel_close(c->ch);
			c->vendor_close_done = true;
		} else if (!c->vendor_closed && !c->vendor_close_done) {
			if (o->kind == FOUT_EOF)
				ssh_channel_send_eof(c->ch);
			else if (o->kind == FOUT_EXIT_STATUS)
				ssh_channel_request_send_exit_status(c->ch, (int)o->status);
			else
				ssh_channel_request_send_exit_signal(
				    c->ch, o->signame, o->core, "", "");
		}
		TAILQ_REMOVE(&c->out, o, entry);
		free(o);
	}
	if (c->to_ack >= FRONTMSG_ACK_MIN(FRONTMSG_WINDOW_OUT)) {
		struct wbuf b;

		frontmsg_new(&b, FM_ACK, c->num);
		wbuf_u32(&b, c->to_ack);
		c->unacked -= c->to_ack;
		c->to_ack = 0;
		channel_send(c, &b);
	}
}

/* What libssh held of the vendor's data, passed on as far as the credit goes. */
static void
channel_pump_in(struct fchan *c, int st)
{
	struct front *f = c->front;
	unsigned char buf[FRONTMSG_DATA_MAX];
	uint32_t want;
	int avail, n;

	while (c->held[st] && !f->disconnecting && !f->done) {
		if (!c->monitor_closed && link_busy(&f->link))
			return;
		/* Polls only when nothing is buffered; a data callback may then run, in order. */
		if ((avail = ssh_channel_poll(c->ch, st)) <= 0) {
			c->held[st] = false;
			return;
		}
		if ((want = channel_take(c, (uint32_t)avail)) == 0)
			return;
		/* All of it, in buf-sized pieces (what the link does not take waits in its queue,
		 * within the credit): no packet joins the buffer meanwhile, and one read ending
		 * part way would leave the rest to be moved. */
		while (want > 0 && !f->done) {
			if ((n = ssh_channel_read_nonblocking(
			         c->ch, buf, want < sizeof(buf) ? want : sizeof(buf), st)) <= 0) {
				c->held[st] = false;
				return;
			}
			if (!c->monitor_closed)
				channel_send_data(c, st, buf, (uint32_t)n);
			want -= (uint32_t)n;
		}
	}
}

static void
channel_release(struct fchan *c)
{
	struct fout *o;

	if (c == NULL)
		return;
	while ((o = TAILQ_FIRST(&c->out)) != NULL) {
		TAILQ_REMOVE(&c->out, o, entry);
		free(o);
	}
	if (c->ch != NULL) {
		/* Before the free: callbacks on freed channels were fixed only in 0.11.2. */
		ssh_remove_channel_callbacks(c->ch, &c->cb);
		ssh_channel_free(c->ch);
	}
	free(c);
}

static void
channel_pump_one(struct front *f, struct fchan *c)
{
	channel_pump_out(c);
	channel_pump_in(c, 0);
	channel_pump_in(c, 1);
	/* EOF and CLOSE only after the bytes before them went. */
	if (c->held[0] || c->held[1] || f->done)
		return;
	if (c->vendor_eof && !c->eof_sent && !c->close_sent) {
		c->eof_sent = true;
		channel_send_empty(c, FM_EOF);
	}
	if (c->vendor_closed && !c->close_sent) {
		c->close_sent = true;
		channel_send_empty(c, FM_CLOSE);
	}
	if (c->close_sent && c->monitor_closed && c->vendor_close_done && TAILQ_EMPTY(&c->out)) {
		debug_f("channel %u freed", c->num);
		f->chans[c->num] = NULL;
		channel_release(c);
	}
}

void
channel_pump_all(struct front *f)
{
	uint32_t i;

	for (i = 0; i < f->chans_end && !f->done; i++)
		if (f->chans[i] != NULL)
			channel_pump_one(f, f->chans[i]);
}

bool
channel_output_pending(const struct front *f)
{
	const struct fchan *c;
	uint32_t i;

	/* A CLOSE the vendor has not answered yet counts: its client may still be showing the
	 * last output, which a disconnect now could throw away. */
	for (i = 0; i < f->chans_end; i++)
		if ((c = f->chans[i]) != NULL && !c->vendor_closed &&
		    (!TAILQ_EMPTY(&c->out) || c->vendor_close_done))
			return true;
	return false;
}

void
channel_free_all(struct front *f)
{
	uint32_t i;

	/* libssh's channels went with ssh_disconnect() or go with ssh_free(): only ours here. */
	for (i = 0; i < f->chans_end; i++) {
		if (f->chans[i] != NULL)
			f->chans[i]->ch = NULL;
		channel_release(f->chans[i]);
		f->chans[i] = NULL;
	}
}
