/* ctlsocket.c: the client side of gatewayd's control socket, shared by the live-session
 * commands (sessions, kill, vendor, watch): connect, one request line, reply lines.
 * Never trusts the reply's size: lines are bounded. */
#include "tools/ctlsocket.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/xmalloc.h"

#define CTL_LINE_MAX (64 * 1024 * 1024) /* a listing of very many sessions still fits */

int
ctl_conn_open(struct ctl_context *ctx, struct ctl_conn *c)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const struct gw_config *cfg;
	const char *path = ctx->control_socket;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	/* An admin-group member may not read the configuration's credentials: -S needs none. */
	if (path == NULL && (cfg = ctl_config(ctx)) != NULL)
		path = cfg->control_socket;
	if (path == NULL)
		return -1;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "gatewayctl: control socket path too long: %s\n", path);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if ((c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		fprintf(
		    stderr, "gatewayctl: cannot reach gatewayd at %s: %s\n", path, strerror(errno));
		ctl_conn_close(c);
		return -1;
	}
	return 0;
}

void
ctl_conn_close(struct ctl_conn *c)
{
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	free(c->buf);
	c->buf = NULL;
	c->len = c->cap = 0;
}

int
ctl_conn_send(struct ctl_conn *c, json_t *req)
{
	char *text = json_dumps(req, JSON_COMPACT), *line;
	size_t off = 0, len;
	ssize_t n;
	int rc = 0;

	json_decref(req);
	if (text == NULL)
		return -1;
	xasprintf(&line, "%s\n", text);
	free(text);
	for (len = strlen(line); off < len; off += (size_t)n)
		if ((n = send(c->fd, line + off, len - off, MSG_NOSIGNAL)) <= 0) {
			if (n < 0 && errno == EINTR) {
				n = 0;
				continue;
			}
			fprintf(stderr, "gatewayctl: control socket: %s\n", strerror(errno));
			rc = -1;
			break;
		}
	free(line);
	return rc;
}

json_t *
ctl_conn_recv(struct ctl_conn *c)
{
	char *nl;
	ssize_t n;
	size_t linelen;
	json_t *o;

	for (;;) {
		if (c->len > 0 && (nl = memchr(c->buf, '\n', c->len)) != NULL)
			break;
		if (c->len == CTL_LINE_MAX) {
			fprintf(
			    stderr, "gatewayctl: reply line longer than %d bytes\n", CTL_LINE_MAX);
			return NULL;
		}
		if (c->cap - c->len < 4096) {
			c->cap = c->cap ? 2 * c->cap : 65536;
			if (c->cap > CTL_LINE_MAX)
				c->cap = CTL_LINE_MAX;
			c->buf = xreallocarray(c->buf, c->cap, 1);
		}
		n = read(c->fd, c->buf + c->len, c->cap - c->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return NULL;
		c->len += (size_t)n;
	}
	linelen = (size_t)(nl - c->buf);
	o = json_loadb(c->buf, linelen, 0, NULL);
	memmove(c->buf, nl + 1, c->len - linelen - 1);
	c->len -= linelen + 1;
	if (!json_is_object(o)) {
		fprintf(stderr, "gatewayctl: malformed reply from gatewayd\n");
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *
ctl_control_call(struct ctl_context *ctx, json_t *req)
{
	struct ctl_conn c;
	json_t *reply;

	if (ctl_conn_open(ctx, &c) != 0) {
		json_decref(req);
		return NULL;
	}
	reply = ctl_conn_send(&c, req) == 0 ? ctl_conn_recv(&c) : NULL;
	ctl_conn_close(&c);
	if (reply == NULL)
		fprintf(stderr, "gatewayctl: no reply from gatewayd\n");
	else if (!json_is_true(json_object_get(reply, "ok"))) {
		fprintf(stderr, "gatewayctl: %s\n",
		    json_string_value(json_object_get(reply, "error")) ?: "request refused");
		json_decref(reply);
		reply = NULL;
	}
	return reply;
}

int
ctl_report_cut(json_t *reply)
{
	long long told = json_integer_value(json_object_get(reply, "killed"));
	long long cut = json_integer_value(json_object_get(reply, "cut"));

	json_decref(reply);
	printf("%lld session(s) told to end, %lld cut\n", told, cut);
	if (cut >= told)
		return 0;
	fprintf(stderr,
	    "gatewayctl: %lld session(s) did not confirm the cut in time; see gatewayctl "
	    "sessions\n",
	    told - cut);
	return 1;
}
