/* tunnel.c: a vendor's direct-tcpip channel (ssh -L, ssh -D) to a destination its grant lists:
 * decided like a session to that target, connected from the gateway, every byte in pcapng first.
 *
 * The connection comes from the gateway itself, not through the target's sshd: the devices
 * forwarding is for (PLCs, RTUs, engineering workstations' RDP) rarely run sshd, and a target
 * that did would need AllowTcpForwarding, making it a pivot into its own zone. The gateway
 * already is the one conduit between the vendor's zone and the plant's (docs/forwarding.md).
 */
#include "gatewayd/gatewayd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "evidence/pcaprec.h"

struct tunnel {
	int fd; /* the TCP connection to the destination; -1 once closed */
	bool polled;
	short events;
	struct pcaprec *pcap;
	char dest[GW_ID_MAX + 8]; /* "plc-07:502", as the audit log and the vendor read it */
	char target[GW_ID_MAX + 1];
	int port;
	time_t ends_at; /* when its decision ends (its ticket, window, account); 0: none */
	char ends_by[GW_ID_MAX + 24];
	/* Vendor bytes recorded and not yet taken by the destination's socket (at most one
	 * message of the link: until they are gone the rest waits in the link's window). */
	unsigned char *pending;
	size_t npending, off;
	bool vendor_fin_sent; /* the vendor's EOF passed on: shutdown(SHUT_WR) */
	bool dest_eof;        /* the destination sent FIN */
	bool eof_sent;        /* ... and the vendor was sent EOF (once: the front checks) */
};

/* The vendor's channel gets EOF once, whoever ends first. */
static void
tunnel_send_eof(struct relay *r)
{
	if (r->tunnel->eof_sent || r->close_sent || r->vendor_closed)
		return;
	r->tunnel->eof_sent = true;
	vchan_send_eof(r->vendor);
}

static void
tunnel_unpoll(struct relay *r)
{
	struct tunnel *t = r->tunnel;

	if (t->polled)
		ssh_event_remove_fd(r->session->event, t->fd);
	t->polled = false;
}

static void
tunnel_close_socket(struct relay *r)
{
	struct tunnel *t = r->tunnel;

	if (t->fd == -1)
		return;
	tunnel_unpoll(r);
	close(t->fd);
	t->fd = -1;
	free(t->pending);
	t->pending = NULL;
	t->npending = t->off = 0;
}

/* Ends the tunnel, as a cut ends a channel: the socket closed first, so nothing is forwarded
 * after this, then the pcapng sealed with why, then the vendor's channel closed. */
static void
tunnel_end(struct relay *r, const char *reason)
{
	if (r->end_reason[0] == '\0')
		snprintf(r->end_reason, sizeof(r->end_reason), "%s", reason);
	tunnel_close_socket(r);
	tunnel_seal(r);
	tunnel_send_eof(r);
	if (!r->close_sent) {
		r->close_sent = true;
		vchan_close(r->vendor);
	}
}

void
tunnel_seal(struct relay *r)
{
	struct tunnel *t = r->tunnel;

	if (t == NULL || t->pcap == NULL || r->sealed)
		return;
	r->sealed = true;
	tunnel_close_socket(r);
	if (pcaprec_seal(t->pcap, r->end_reason[0] ? r->end_reason : "tunnel closed") != 0)
		error_f("%s: sealing %s failed: %m", r->session->id, pcaprec_path(t->pcap));
}

static void
tunnel_fail(struct relay *r, const char *reason)
{
	struct session *s = r->session;

	/* The evidence cannot follow: the whole session ends (R9), as for a recording. */
	s->fatal = true;
	snprintf(s->end_reason, sizeof(s->end_reason), "%s", reason);
	crit_f("%s: %s: ending the session (fail closed)", s->id, reason);
}

/* ---- the decision ---- */

/* Resolved before the sandbox closes (monitor_sandbox.c): afterwards no resolver file can be
 * read, so a destination named by a host name is looked up once, at the decision. */
void
tunnel_resolve_all(struct session *s)
{
	const struct gw_config *cfg = s->cfg;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
	const struct gw_target *t;
	size_t i, j, k;

	for (i = 0; i < cfg->ngrants; i++) {
		const struct gw_grant *g = &cfg->grants[i];

		if (strcmp(g->vendor, s->person->vendor->id) != 0)
			continue;
		for (j = 0; j < g->nforwards; j++) {
			for (k = 0; k < s->nfwd_addrs &&
			     strcmp(s->fwd_addrs[k].target, g->forwards[j].target) != 0;
			     k++)
				;
			if (k < s->nfwd_addrs ||
			    (t = config_find_target(cfg, g->forwards[j].target)) == NULL)
				continue;
			if (getaddrinfo(t->address, NULL, &hints, &ai) != 0 || ai == NULL) {
				warn_f("%s: forward destination %s: address %s does not resolve",
				    s->id, t->name, t->address);
				continue;
			}
			s->fwd_addrs =
			    xreallocarray(s->fwd_addrs, s->nfwd_addrs + 1, sizeof(*s->fwd_addrs));
			memset(&s->fwd_addrs[s->nfwd_addrs], 0, sizeof(*s->fwd_addrs));
			snprintf(s->fwd_addrs[s->nfwd_addrs].target,
			    sizeof(s->fwd_addrs[s->nfwd_addrs].target), "%s", t->name);
			memcpy(&s->fwd_addrs[s->nfwd_addrs].ss, ai->ai_addr, ai->ai_addrlen);
			s->fwd_addrs[s->nfwd_addrs++].len = ai->ai_addrlen;
			freeaddrinfo(ai);
		}
	}
}

/* Where target t is: resolved at the decision, or a numeric address (a reload may grant a
 * destination the session never resolved). */
static bool
tunnel_address(struct session *s, const struct gw_target *t, int port, struct sockaddr_storage *ss,
    socklen_t *len)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST }, *ai;
	size_t i;

	for (i = 0; i < s->nfwd_addrs && strcmp(s->fwd_addrs[i].target, t->name) != 0; i++)
		;
	if (i < s->nfwd_addrs) {
		*ss = s->fwd_addrs[i].ss;
		*len = s->fwd_addrs[i].len;
	} else if (getaddrinfo(t->address, NULL, &hints, &ai) == 0 && ai != NULL) {
		memcpy(ss, ai->ai_addr, ai->ai_addrlen);
		*len = ai->ai_addrlen;
		freeaddrinfo(ai);
	} else {
		return false;
	}
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
	else if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
	else
		return false;
	return true;
}

/* A TCP connection to ss within timeout_s: the descriptor (non-blocking), or -1 with why. The
 * monitor waits for it, as sshd's direct-tcpip does before it confirms the channel. */
static int
tunnel_connect(
    const struct sockaddr_storage *ss, socklen_t len, int timeout_s, char *why, size_t whylen)
{
	struct pollfd p;
	socklen_t elen = sizeof(int);
	int fd, err = 0, n;

	if ((fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1) {
		snprintf(why, whylen, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, (const struct sockaddr *)ss, len) != 0 && errno != EINPROGRESS) {
		err = errno;
	} else {
		p.fd = fd;
		p.events = POLLOUT;
		do
			n = poll(&p, 1, timeout_s * 1000);
		while (n == -1 && errno == EINTR);
		if (n == 0)
			err = ETIMEDOUT;
		else if (n < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0)
			err = errno;
	}
	if (err != 0) {
		snprintf(why, whylen, "%s", strerror(err));
		close(fd);
		return -1;
	}
	return fd;
}

/* Tells the vendor, where it has a session channel to read it on (OpenSSH's client shows
 * libssh's OPEN_FAILURE without a text), and the audit log in full: the 1st, 10th, 100th...
 * refusal of the connection, so that a client opening tunnels in a loop cannot fill it. */
static void
tunnel_refuse(struct relay *r, const char *dest, const char *reason, const char *vendor_msg,
    const char *detail)
{
	struct session *s = r->session;
	char line[320];
	unsigned n = ++s->forwards_refused;

	snprintf(line, sizeof(line), "forwarding to %s refused: %s", dest, vendor_msg);
	relay_tell_one(s, line);
	for (; n % 10 == 0; n /= 10)
		;
	if (n == 1)
		session_audit(s, "forward_refused",
		    audit_pack("{s:s, s:s, s:s, s:s, s:I}", "person", s->person->id, "destination",
		        dest, "reason", reason, "detail", detail, "refused",
		        (json_int_t)s->forwards_refused));
}

static void
tunnel_free_fields(struct tunnel *t)
{
	pcaprec_free(t->pcap);
	free(t->pending);
	free(t);
}

bool
tunnel_open(struct relay *r, const char *host, uint32_t port, const char *orig, uint32_t oport)
{
	struct session *s = r->session;
	struct access_request req = { .person = s->person->id,
		.target = host,
		.now = time(NULL),
		.forward_port = (int)port };
	const struct gw_target *dt = config_find_target(s->cfg, host);
	struct ticket_set *tickets;
	struct sockaddr_storage ss;
	char dest[GW_ID_MAX + 8], why[160], addr[INET6_ADDRSTRLEN] = "", *path = NULL;
	struct decision d;
	struct tunnel *t;
	socklen_t len;
	int fd;

	/* Vendor text: bounded before it is printed anywhere; the decision has its own rules. */
	snprintf(dest, sizeof(dest), "%.*s:%u", GW_ID_MAX, host, port);
	if ((tickets = session_load_tickets(s)) == NULL) {
		tunnel_refuse(r, dest, "tickets_unreadable", "approvals cannot be checked",
		    "the ticket store cannot be read");
		return false;
	}
	/* A SOCKS client may send the address its tool was set up with: that target's, if one. */
	if (dt == NULL && (dt = config_find_target_by_address(s->cfg, host)) != NULL)
		req.target = dt->name;
	policy_decide(s->cfg, tickets, &req, &d);
	ticketset_free(tickets);
	if (!d.allow) {
		tunnel_refuse(r, dest, deny_reason_name(d.reason), d.vendor_msg, d.audit_msg);
		return false;
	}
	dt = config_find_target(s->cfg, req.target);
	if (!tunnel_address(s, dt, (int)port, &ss, &len)) {
		tunnel_refuse(r, dest, "address_unresolved", "the destination cannot be reached",
		    "its address was not resolved when the session started");
		return false;
	}
	if ((fd = tunnel_connect(&ss, len, dt->connect_timeout, why, sizeof(why))) == -1) {
		tunnel_refuse(r, dest, "connect_failed", "the destination does not answer", why);
		return false;
	}
	if (ss.ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, addr, sizeof(addr));
	else
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, addr, sizeof(addr));
	t = xcalloc(1, sizeof(*t));
	t->fd = fd;
	snprintf(t->dest, sizeof(t->dest), "%s", dest);
	snprintf(t->target, sizeof(t->target), "%s", dt->name);
	t->port = (int)port;
	t->ends_at = d.ends_at;
	snprintf(t->ends_by, sizeof(t->ends_by), "%s", d.ends_by);
	/* No byte crosses before its pcapng exists (R9): refused, and the session ends. */
	if ((fd = registry_link_open_recording(s->link, r->index, true, &path)) != -1) {
		struct tunnel_meta m = {
			.session_id = s->id,
			.channel = r->index,
			.person = s->person->id,
			.vendor = s->person->vendor->id,
			.target = dt->name,
			.dest_addr = addr,
			.dest_port = port,
			.orig_addr = orig[0] != '\0' ? orig : NULL,
			.orig_port = oport,
			.client_addr = s->client_addr,
			.client_port = s->client_port,
			.key_fp = s->key_fp,
			.ticket_id = d.ticket_id,
			.approvers = d.approvers,
			.started = time(NULL),
		};

		t->pcap = pcaprec_open_fd(fd, path, &m, s->signer);
	}
	if (t->pcap == NULL) {
		error_f("%s: cannot create the recording of a tunnel to %s: %m", s->id, dest);
		session_audit(s, "recorder_failure",
		    audit_pack("{s:s, s:s}", "person", s->person->id, "error",
		        "cannot create the recording of a tunnel"));
		free(path);
		close(t->fd);
		tunnel_free_fields(t);
		tunnel_fail(r, "recording of a tunnel cannot be written");
		return false;
	}
	r->tunnel = t;
	r->started = true;
	if (session_audit(s, "tunnel_open",
	        audit_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:I, s:s?, s:s, s:s, s:s}", "person",
	            s->person->id, "vendor", s->person->vendor->id, "target", dt->name, "channel",
	            (json_int_t)r->index, "destination", dest, "address", addr, "port",
	            (json_int_t)port, "originator", orig[0] != '\0' ? orig : NULL, "ticket",
	            d.ticket_id, "approvers", d.approvers, "recording", path)) != 0) {
		free(path);
		tunnel_end(r, "the audit log cannot be written");
		return true; /* opened, and closed at once: the vendor sees the close */
	}
	free(path);
	return true;
}

/* ---- bytes ---- */

/* Sends up to len bytes the pcapng holds to the destination without waiting: how many went,
 * or -1 once the destination reset the connection (the tunnel is ended then). */
static ssize_t
tunnel_send(struct relay *r, const unsigned char *p, size_t len)
{
	size_t off = 0;
	ssize_t n;

	while (off < len) {
		n = send(r->tunnel->fd, p + off, len - off, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n < 0) {
			tunnel_end(r, "the destination reset the connection");
			return -1;
		}
		off += (size_t)n;
	}
	return (ssize_t)off;
}

/* Sends what the vendor sent and the pcapng holds; true once nothing waits. */
static bool
tunnel_send_pending(struct relay *r)
{
	struct tunnel *t = r->tunnel;
	ssize_t n = tunnel_send(r, t->pending + t->off, t->npending - t->off);

	if (n < 0)
		return false;
	if ((t->off += (size_t)n) < t->npending)
		return false;
	free(t->pending);
	t->pending = NULL;
	t->npending = t->off = 0;
	return true;
}

int
tunnel_from_vendor(struct relay *r, const void *data, uint32_t len)
{
	struct tunnel *t = r->tunnel;
	ssize_t n;

	if (t->fd == -1 || r->session->closing)
		return (int)len; /* closed towards the destination: nothing more goes */
	if (t->npending > 0 && !tunnel_send_pending(r))
		return 0; /* the destination is slow: the rest waits in the link's window */
	if (t->fd == -1)
		return (int)len;
	if (pcaprec_write_client(t->pcap, data, len) != 0) {
		tunnel_fail(r, "tunnel recording write failed");
		return 0;
	}
	r->bytes_in += len;
	registry_link_tunnel_data(r->session->link, true, len);
	/* Straight from the link's message; only what the destination did not take is kept. */
	if ((n = tunnel_send(r, data, len)) >= 0 && (uint32_t)n < len) {
		t->npending = len - (size_t)n;
		t->pending = xmalloc(t->npending);
		memcpy(t->pending, (const unsigned char *)data + n, t->npending);
		t->off = 0;
	}
	return (int)len;
}

/* What the destination sent, recorded, then passed to the vendor as far as its window goes:
 * one chunk per call, so that the session loop checks the recording quota between chunks
 * (the window towards the vendor is megabytes). */
static void
tunnel_from_dest(struct relay *r)
{
	static unsigned char buf[RELAY_CHUNK];
	struct tunnel *t = r->tunnel;
	uint32_t room;
	ssize_t n;

	if (t->fd != -1 && !t->dest_eof && !r->close_sent && !r->vendor_closed &&
	    (room = vchan_window(r->vendor)) > 0) {
		n = recv(t->fd, buf, room < sizeof(buf) ? room : sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			t->dest_eof = true;
			if (pcaprec_write_fin(t->pcap, false) != 0)
				tunnel_fail(r, "tunnel recording write failed");
			if (n < 0)
				snprintf(r->end_reason, sizeof(r->end_reason),
				    "the destination reset the connection");
			tunnel_send_eof(r);
			return;
		}
		if (pcaprec_write_server(t->pcap, buf, (size_t)n) != 0) {
			tunnel_fail(r, "tunnel recording write failed");
			return;
		}
		r->bytes_out += (unsigned long long)n;
		registry_link_tunnel_data(r->session->link, false, (size_t)n);
		vchan_write(r->vendor, buf, (uint32_t)n, 0);
	}
}

static int
tunnel_fd_cb(socket_t fd, int revents, void *userdata)
{
	struct relay *r = userdata;

	(void)fd;
	if (r->session->closing || r->tunnel->fd == -1)
		return 0;
	if ((revents & (POLLOUT | POLLERR | POLLHUP)) != 0 && r->tunnel->npending > 0)
		tunnel_send_pending(r);
	if ((revents & (POLLIN | POLLERR | POLLHUP)) != 0 && r->tunnel->fd != -1)
		tunnel_from_dest(r);
	r->session->repump = true;
	return 0;
}

/* Polled for what can move now: reading while the vendor's window has room, writing while
 * vendor bytes wait. */
static void
tunnel_poll(struct relay *r)
{
	struct tunnel *t = r->tunnel;
	short want = 0;

	if (t->fd == -1)
		return;
	if (!t->dest_eof && vchan_window(r->vendor) > 0 && !r->close_sent && !r->vendor_closed)
		want |= POLLIN;
	if (t->npending > 0)
		want |= POLLOUT;
	if (t->polled && t->events == want)
		return;
	tunnel_unpoll(r);
	if (want != 0)
		t->polled =
		    ssh_event_add_fd(r->session->event, t->fd, want, tunnel_fd_cb, r) == SSH_OK;
	t->events = want;
}

void
tunnel_pump(struct relay *r)
{
	struct tunnel *t = r->tunnel;
	const unsigned char *p;
	uint32_t n;
	char why[160];
	int took;

	if (t->ends_at != 0 && time(NULL) >= t->ends_at && t->fd != -1) {
		snprintf(why, sizeof(why), "scheduled end reached (%s)", t->ends_by);
		tunnel_end(r, why);
	}
	/* What the link kept for the vendor's side, in order, once the destination takes it. */
	while (t->fd != -1 && (t->npending == 0 || tunnel_send_pending(r)) &&
	    (n = vchan_peek(r->vendor, &p)) > 0) {
		if ((took = tunnel_from_vendor(r, p, n)) <= 0)
			break;
		vchan_consume(r->vendor, (uint32_t)took);
	}
	if (t->fd != -1)
		tunnel_from_dest(r);
	if (r->vendor_eof && !t->vendor_fin_sent && t->fd != -1 && t->npending == 0 &&
	    vchan_poll(r->vendor) == 0) {
		t->vendor_fin_sent = true;
		shutdown(t->fd, SHUT_WR);
		if (pcaprec_write_fin(t->pcap, true) != 0)
			tunnel_fail(r, "tunnel recording write failed");
	}
	if (r->vendor_closed && !r->close_sent)
		tunnel_end(r, "vendor closed the tunnel");
	else if (t->dest_eof && (t->vendor_fin_sent || r->vendor_closed) && !r->close_sent)
		tunnel_end(r, "both sides closed the connection");
	tunnel_poll(r);
	r->done = r->vendor_closed && r->close_sent;
}

/* ---- the decision again ---- */

void
tunnel_recheck(struct session *s)
{
	struct ticket_set *tickets = NULL;
	struct relay *r;
	struct decision d;
	char why[GW_AUDIT_MSG_MAX + 32], msg[GW_REASON_MAX + GW_ID_MAX + 32];

	TAILQ_FOREACH (r, &s->relays, entry) {
		struct tunnel *t = r->tunnel;
		struct access_request req = { .person = s->person->id,
			.target = t != NULL ? t->target : NULL,
			.now = time(NULL),
			.forward_port = t != NULL ? t->port : 0 };

		if (t == NULL || t->fd == -1)
			continue;
		if (tickets == NULL && (tickets = session_load_tickets(s)) == NULL) {
			tunnel_end(r, "approvals cannot be checked");
			continue;
		}
		policy_decide(s->cfg, tickets, &req, &d);
		if (d.allow) {
			t->ends_at = d.ends_at;
			snprintf(t->ends_by, sizeof(t->ends_by), "%s", d.ends_by);
			continue;
		}
		snprintf(msg, sizeof(msg), "tunnel to %s ended: %s", t->dest, d.vendor_msg);
		relay_tell_one(s, msg);
		snprintf(why, sizeof(why), "access withdrawn: %s", d.audit_msg);
		tunnel_end(r, why);
	}
	ticketset_free(tickets);
}

void
tunnel_report(struct session *s)
{
	unsigned long long packets = s->tunnel_packets;
	const struct relay *r;
	unsigned open = 0;

	TAILQ_FOREACH (r, &s->relays, entry)
		if (r->tunnel != NULL) {
			open += r->tunnel->fd != -1;
			packets += pcaprec_packets(r->tunnel->pcap);
		}
	registry_link_tunnels(s->link, open, packets);
}

time_t
tunnel_next_end(const struct session *s)
{
	const struct relay *r;
	time_t next = 0;

	TAILQ_FOREACH (r, &s->relays, entry)
		if (r->tunnel != NULL && r->tunnel->fd != -1 && r->tunnel->ends_at != 0 &&
		    (next == 0 || r->tunnel->ends_at < next))
			next = r->tunnel->ends_at;
	return next;
}

void
tunnel_free(struct relay *r)
{
	struct tunnel *t = r->tunnel;

	if (t == NULL)
		return;
	tunnel_seal(r);
	tunnel_close_socket(r);
	r->session->disk.closed += pcaprec_size(t->pcap);
	r->session->tunnel_packets += pcaprec_packets(t->pcap);
	session_audit(r->session, "tunnel_close",
	    audit_pack("{s:s, s:I, s:s, s:s, s:I, s:I, s:I}", "person", r->session->person->id,
	        "channel", (json_int_t)r->index, "destination", t->dest, "reason",
	        r->end_reason[0] ? r->end_reason : "closed", "bytes_to_destination",
	        (json_int_t)r->bytes_in, "bytes_from_destination", (json_int_t)r->bytes_out,
	        "packets", (json_int_t)pcaprec_packets(t->pcap)));
	tunnel_free_fields(t);
	r->tunnel = NULL;
}

int
tunnel_flush(struct relay *r)
{
	return r->tunnel != NULL && r->tunnel->pcap != NULL && !r->sealed
	    ? pcaprec_flush(r->tunnel->pcap)
	    : 0;
}

time_t
tunnel_pending_since(const struct relay *r)
{
	return r->tunnel != NULL && r->tunnel->pcap != NULL && !r->sealed
	    ? pcaprec_pending_since(r->tunnel->pcap)
	    : 0;
}

unsigned long long
tunnel_size(const struct relay *r)
{
	return r->tunnel != NULL && r->tunnel->pcap != NULL ? pcaprec_size(r->tunnel->pcap) : 0;
}
