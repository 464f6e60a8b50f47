/* ctlsocket.h: talking to gatewayd's control socket (gatewayd/control.h for the protocol):
 * one JSON request line, then JSON reply lines. */
#ifndef GW_TOOLS_CTLSOCKET_H
#define GW_TOOLS_CTLSOCKET_H

#include <jansson.h>
#include <stddef.h>

#include "tools/gatewayctl.h"

struct ctl_conn {
	int fd;
	char *buf; /* received bytes not yet returned as lines */
	size_t len, cap;
};

/* Connects to -S SOCKET, else control_socket of -f CONFIG; -1 (printed) when gatewayd cannot be
 * reached. */
int ctl_conn_open(struct ctl_context *ctx, struct ctl_conn *c);
void ctl_conn_close(struct ctl_conn *c);
/* Sends req (stolen) as one line. */
int ctl_conn_send(struct ctl_conn *c, json_t *req);
/* The next line as a JSON object; NULL at the end or on a malformed line. */
json_t *ctl_conn_recv(struct ctl_conn *c);
/* One request, one reply: the reply when "ok", else NULL with gatewayd's error printed. */
json_t *ctl_control_call(struct ctl_context *ctx, json_t *req);
/* A kill's reply (stolen): "N session(s) told to end, M cut". gatewayd answers once every
 * session confirmed its cut or after its bound: 1 (said on stderr) when some did not. */
int ctl_report_cut(json_t *reply);

#endif
