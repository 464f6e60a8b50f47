/* console_watch.c: an approver's `watch SESSION` at the console: the watched session's stream
 * (JSON lines, as gatewayctl watch reads them from the control socket), which the listener
 * handed over with the command's answer, relayed raw to the approver's channel. Never waits:
 * what the approver's window cannot take is left in the socket, and the watched session drops
 * it for this slow viewer (registry_link.c). */
#include "gatewayd/console.h"

#include <errno.h>
#include <openssl/evp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "gatewayd/frontlink.h"
#include "gatewayd/gatewayd.h"

#define WATCH_LINE_MAX 65536 /* one stream line; the session's chunks are far smaller */

struct console_watch {
	int fd;
	bool polled; /* fd is in the session's event */
	bool replied;
	char buf[WATCH_LINE_MAX];
	size_t len;
};

static int
console_watch_cb(socket_t fd, int revents, void *userdata)
{
	(void)fd;
	(void)revents;
	(void)userdata;
	return 0; /* console_watch_pump reads, as the approver's window allows */
}

void
console_watch_start(struct relay *r, int fd)
{
	r->watch = xcalloc(1, sizeof(*r->watch));
	r->watch->fd = fd;
	r->session->nwatching++;
}

static void
console_watch_end(struct relay *r, const char *why)
{
	struct console_watch *w = r->watch;
	char line[256];

	if (w == NULL)
		return;
	if (w->polled)
		ssh_event_remove_fd(r->session->event, w->fd);
	close(w->fd);
	free(w);
	r->watch = NULL;
	r->session->nwatching--;
	if (why != NULL && !r->vendor_closed && !r->close_sent) {
		snprintf(line, sizeof(line), "\r\n[%s]\r\n", why);
		vchan_write(r->vendor, line, (uint32_t)strlen(line), 1);
	}
}

void
console_watch_stop(struct relay *r)
{
	console_watch_end(r, NULL);
}

/* One line of the stream; false when the stream ended (why in end). */
static bool
console_watch_line(struct relay *r, const char *text, size_t len, char *end, size_t endlen)
{
	json_t *o = json_loadb(text, len, 0, NULL);
	const char *s;
	unsigned char *raw;
	size_t n;
	int got;
	bool more = true;

	if (o == NULL)
		return true; /* not a line of the stream: skipped */
	if (!r->watch->replied) {
		r->watch->replied = true;
		if (!json_is_true(json_object_get(o, "ok"))) {
			snprintf(end, endlen, "the session cannot be watched");
			more = false;
		}
	} else if ((s = json_string_value(json_object_get(o, "o"))) != NULL &&
	    (n = strlen(s)) % 4 == 0) {
		raw = xmalloc(n / 4 * 3 + 1);
		if ((got = EVP_DecodeBlock(raw, (const unsigned char *)s, (int)n)) >= 0) {
			got -= (n > 0 && s[n - 1] == '=') + (n > 1 && s[n - 2] == '=');
			vchan_write(r->vendor, raw, (uint32_t)got, 0);
		}
		free(raw);
	} else if (json_object_get(o, "tunnels") != NULL) {
		char note[128];

		snprintf(note, sizeof(note), "\r\n[tunnels open: %lld, packets recorded: %lld]\r\n",
		    (long long)json_integer_value(json_object_get(o, "tunnels")),
		    (long long)json_integer_value(json_object_get(o, "packets")));
		vchan_write(r->vendor, note, (uint32_t)strlen(note), 1);
	} else if (json_object_get(o, "dropped") != NULL) {
		char note[128];

		snprintf(note, sizeof(note), "\r\n[%lld bytes of output dropped: too slow]\r\n",
		    (long long)json_integer_value(json_object_get(o, "dropped")));
		vchan_write(r->vendor, note, (uint32_t)strlen(note), 1);
	} else if ((s = json_string_value(json_object_get(o, "end"))) != NULL) {
		snprintf(end, endlen, "session ended: %.128s", s);
		more = false;
	}
	json_decref(o);
	return more;
}

bool
console_watch_pump(struct relay *r)
{
	struct console_watch *w = r->watch;
	char end[192] = "the session's stream closed", *nl;
	ssize_t n;
	size_t off;

	if (w == NULL)
		return false;
	if (r->vendor_closed || r->close_sent || r->session->closing) {
		console_watch_end(r, NULL);
		return false;
	}
	/* Read only what the approver's window can take: the rest waits in the socket. */
	if (vchan_window(r->vendor) < WATCH_LINE_MAX) {
		if (w->polled)
			ssh_event_remove_fd(r->session->event, w->fd);
		w->polled = false;
		return true;
	}
	if (!w->polled)
		ssh_event_add_fd(r->session->event, w->fd, POLLIN, console_watch_cb, r);
	w->polled = true;
	n = recv(w->fd, w->buf + w->len, sizeof(w->buf) - w->len, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return true;
	if (n <= 0) {
		console_watch_end(r, end);
		return false;
	}
	w->len += (size_t)n;
	off = 0;
	while ((nl = memchr(w->buf + off, '\n', w->len - off)) != NULL) {
		if (!console_watch_line(
		        r, w->buf + off, (size_t)(nl - (w->buf + off)), end, sizeof(end))) {
			console_watch_end(r, end);
			return false;
		}
		off = (size_t)(nl - w->buf) + 1;
	}
	memmove(w->buf, w->buf + off, w->len - off);
	w->len -= off;
	if (w->len == sizeof(w->buf)) {
		console_watch_end(r, "the session's stream sent a line too long");
		return false;
	}
	return true;
}
