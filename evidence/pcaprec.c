/* pcaprec.c: writes one forwarded TCP connection as pcapng: every byte relayed, each way, in
 * synthetic Ethernet/IPv4/TCP frames a dissector recognises, every block hash-chained and
 * checkpointed with signatures (docs/recording-format.md, "Forwarded connections (pcapng)").
 * Never drops, rewrites or reorders a byte; once a write fails it refuses everything after. */
#include "evidence/pcaprec.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "common/xmalloc.h"
#include "evidence/pcapfmt.h"
#include "evidence/recchain.h"

#define PCAPREC_CHECKPOINT_RECORDS 1024  /* records listed per checkpoint before a spill signs */
#define PCAPREC_ACK_EVERY          32768 /* unacknowledged bytes before an ACK mid-batch */
#define PCAPREC_WINDOW             65535
#define PCAPREC_STAMP_LEN          32
#define PCAPREC_HEADER_MAX         (64 * 1024) /* bytes of header JSON */
#define PCAPREC_FRAME_MAX          (PCAP_ETH_LEN + PCAP_IP_LEN + PCAP_TCP_LEN + 4 + PCAP_MSS)

enum { TCP_FIN = 0x01, TCP_SYN = 0x02, TCP_PSH = 0x08, TCP_ACK = PCAP_TCP_ACK };
enum { SIDE_CLIENT, SIDE_SERVER };

/* One end of the synthetic TCP connection. */
struct tcp_end {
	unsigned char mac[6];
	unsigned char ip[4];
	uint16_t port;
	uint32_t seq; /* the next sequence number it sends */
	uint16_t ip_id;
	bool fin;                 /* its FIN is written */
	bool owes_ack;            /* the other end sent data or a FIN it has not acknowledged */
	size_t unacked;           /* bytes it received since it last acknowledged */
	unsigned long long bytes; /* payload it sent */
};

struct pcaprec {
	struct rec_file file;
	char *path;
	struct rec_chain ch;
	struct tcp_end end[2];
	unsigned char *buf; /* blocks not yet written */
	size_t len, cap;
	size_t run;    /* where in buf the record being written began (its blocks are in buf) */
	bool run_open; /* the last block continues its record (PCAP_TCP_ACK, pcapfmt.h) */
	struct timespec t0; /* CLOCK_MONOTONIC at open: the checkpoints' elapsed stamps */
	uint64_t last_ns;   /* the last packet's time: packets never go back in time */
	unsigned long long size;
	unsigned long packets;
	int error; /* errno of the failure that ended the recording, 0 while usable */
	bool sealing, sealed;
};

static int
pcaprec_fail(struct pcaprec *r, int err)
{
	if (r->error == 0)
		r->error = err;
	errno = r->error;
	return -1;
}

static void
pcaprec_reserve(struct pcaprec *r, size_t more)
{
	if (r->cap - r->len >= more)
		return;
	r->cap = r->len + more > 2 * r->cap ? r->len + more : 2 * r->cap;
	r->buf = xreallocarray(r->buf, 1, r->cap);
}

static int
pcaprec_write_buffer(struct pcaprec *r)
{
	if (recchain_write_file(&r->file, r->buf, r->len) != 0)
		return pcaprec_fail(r, errno);
	r->len = 0;
	return 0;
}

/* Starts a block of type with room for body bytes; returns where it starts. */
static size_t
pcaprec_block_begin(struct pcaprec *r, uint32_t type, size_t body)
{
	size_t start = r->len;

	pcaprec_reserve(r, body + 16);
	pcap_put32(r->buf + r->len, type);
	r->len += 8; /* the length, known at the end */
	return start;
}

/* Pads the block that starts at start and closes it with its length. A block that does not
 * continue its record ends it: the record, every block since the one that began it, is chained.
 * The writer empties buf only between records, so a record's blocks are all there. */
static void
pcaprec_block_end(struct pcaprec *r, size_t start, bool continues, bool listed)
{
	uint32_t total;

	while ((r->len - start) % 4 != 0)
		r->buf[r->len++] = 0;
	total = (uint32_t)(r->len - start + 4);
	pcap_put32(r->buf + start + 4, total);
	pcap_put32(r->buf + r->len, total);
	r->len += 4;
	r->size += total;
	if (!r->run_open)
		r->run = start;
	r->run_open = continues;
	if (!continues)
		recchain_add(&r->ch, r->buf + r->run, r->len - r->run, listed);
}

/* A Custom Block of ours: the PEN, tag, then text (no NUL: the padding is what follows). */
static void
pcaprec_custom(struct pcaprec *r, const char *tag, const char *text, size_t n, bool listed)
{
	size_t tl = strlen(tag), start = pcaprec_block_begin(r, PCAP_CB, 4 + tl + n + 3);

	pcap_put32(r->buf + r->len, PCAP_PEN);
	memcpy(r->buf + r->len + 4, tag, tl);
	memcpy(r->buf + r->len + 4 + tl, text, n);
	r->len += 4 + tl + n;
	pcaprec_block_end(r, start, false, listed);
}

static void
pcaprec_custom_json(struct pcaprec *r, const char *tag, json_t *value, bool listed)
{
	char *text = json_dumps(value, JSON_COMPACT);

	json_decref(value);
	if (text == NULL)
		abort(); /* jansson fails only for want of memory, which xmalloc treats as fatal */
	pcaprec_custom(r, tag, text, strlen(text), listed);
	free(text);
}

/* Now in nanoseconds since the epoch, never before the last packet (a clock stepped back
 * would reorder the capture). */
static uint64_t
pcaprec_now(struct pcaprec *r)
{
	struct timespec ts;
	uint64_t ns;

	clock_gettime(CLOCK_REALTIME, &ts);
	ns = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
	if (ns < r->last_ns)
		ns = r->last_ns;
	r->last_ns = ns;
	return ns;
}

/* Adds the Internet checksum's 16-bit big-endian words of p (the last byte of an odd n the
 * high half of one) to sum, folded. A segment's payload is summed here once per byte relayed:
 * 32-bit words in the host's order go into a 64-bit sum, which folded is the same sum in the
 * host's byte order (RFC 1071, 2.B), several times faster than byte pairs. */
static uint32_t
pcaprec_sum(uint32_t sum, const unsigned char *p, size_t n)
{
	unsigned char last[2];
	uint64_t acc = 0;
	uint32_t w;
	uint16_t h;
	size_t i;

	for (i = 0; i + 4 <= n; i += 4) {
		memcpy(&w, p + i, 4);
		acc += w;
	}
	for (; i < n; i += 2) { /* a last half word, and a last byte padded with zero */
		last[0] = p[i];
		last[1] = i + 1 < n ? p[i + 1] : 0;
		memcpy(&h, last, 2);
		acc += h;
	}
	while (acc >> 16 != 0)
		acc = (acc & 0xffff) + (acc >> 16);
	return sum + ntohs((uint16_t)acc);
}

/* Copies a segment's payload into its frame and adds its sum as pcaprec_sum does, in one pass
 * over the bytes: a copy and then a second read for the sum were a sixth of a tunnel's recording
 * time. n is the segment's end, so a last odd byte is padded (pcaprec_sum). */
static uint32_t
pcaprec_copy_sum(uint32_t sum, unsigned char *dst, const unsigned char *src, size_t n)
{
	unsigned __int128 acc = 0; /* 64-bit words: their sum cannot overflow 128 bits */
	uint64_t w, s;
	size_t i;

	for (i = 0; i + 8 <= n; i += 8) {
		memcpy(&w, src + i, 8);
		memcpy(dst + i, &w, 8);
		acc += w;
	}
	memcpy(dst + i, src + i, n - i);
	/* 2^64 and 2^16 are both 1 modulo 0xffff: the halves' sum, with its carry around, and
	 * then the usual fold (RFC 1071) give the same 16 bits as the sum of the half words. */
	s = (uint64_t)acc;
	w = (uint64_t)(acc >> 64);
	s += w;
	if (s < w)
		s++;
	while (s >> 16 != 0)
		s = (s & 0xffff) + (s >> 16);
	return pcaprec_sum(sum + ntohs((uint16_t)s), dst + i, n - i);
}

static uint16_t
pcaprec_fold(uint32_t sum)
{
	while (sum >> 16 != 0)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void
put16be(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

static void
put32be(unsigned char *p, uint32_t v)
{
	put16be(p, (uint16_t)(v >> 16));
	put16be(p + 2, (uint16_t)v);
}

/* One segment from side `from` as an Enhanced Packet Block: Ethernet, IPv4 and TCP headers
 * with their checksums, and the payload. Advances the sender's sequence number and settles
 * who owes an acknowledgement. */
static void
pcaprec_segment(struct pcaprec *r, int from, unsigned flags, const unsigned char *data, size_t n)
{
	struct tcp_end *s = &r->end[from], *d = &r->end[1 - from];
	size_t optlen = (flags & TCP_SYN) != 0 ? 4 : 0, tcplen = PCAP_TCP_LEN + optlen + n;
	size_t framelen = PCAP_ETH_LEN + PCAP_IP_LEN + tcplen, start;
	unsigned char *f, *ip, *tcp, pseudo[12];
	uint64_t ns = pcaprec_now(r);
	uint32_t sum;

	start = pcaprec_block_begin(r, PCAP_EPB, 20 + framelen + 3);
	f = r->buf + r->len;
	pcap_put32(f, 0); /* interface 0 */
	pcap_put32(f + 4, (uint32_t)(ns >> 32));
	pcap_put32(f + 8, (uint32_t)ns);
	pcap_put32(f + 12, (uint32_t)framelen);
	pcap_put32(f + 16, (uint32_t)framelen);
	f += 20;
	memcpy(f, d->mac, 6);
	memcpy(f + 6, s->mac, 6);
	put16be(f + 12, 0x0800);
	ip = f + PCAP_ETH_LEN;
	ip[0] = 0x45;
	ip[1] = 0;
	put16be(ip + 2, (uint16_t)(PCAP_IP_LEN + tcplen));
	put16be(ip + 4, s->ip_id++);
	put16be(ip + 6, 0x4000); /* don't fragment */
	ip[8] = 64;
	ip[9] = 6;
	put16be(ip + 10, 0);
	memcpy(ip + 12, s->ip, 4);
	memcpy(ip + 16, d->ip, 4);
	put16be(ip + 10, pcaprec_fold(pcaprec_sum(0, ip, PCAP_IP_LEN)));
	tcp = ip + PCAP_IP_LEN;
	put16be(tcp, s->port);
	put16be(tcp + 2, d->port);
	put32be(tcp + 4, s->seq);
	put32be(tcp + 8, (flags & TCP_ACK) != 0 ? d->seq : 0);
	tcp[12] = (unsigned char)(((PCAP_TCP_LEN + optlen) / 4) << 4);
	tcp[13] = (unsigned char)flags;
	put16be(tcp + 14, PCAPREC_WINDOW);
	put16be(tcp + 16, 0);
	put16be(tcp + 18, 0);
	if (optlen != 0) { /* MSS, so a reader expects no segment above PCAP_MSS */
		tcp[20] = 2;
		tcp[21] = 4;
		put16be(tcp + 22, PCAP_MSS);
	}
	memcpy(pseudo, s->ip, 4);
	memcpy(pseudo + 4, d->ip, 4);
	pseudo[8] = 0;
	pseudo[9] = 6;
	put16be(pseudo + 10, (uint16_t)tcplen);
	/* The header's length is even: the payload's half words are the segment's. */
	sum = pcaprec_sum(pcaprec_sum(0, pseudo, sizeof(pseudo)), tcp, PCAP_TCP_LEN + optlen);
	if (n > 0)
		sum = pcaprec_copy_sum(sum, tcp + PCAP_TCP_LEN + optlen, data, n);
	put16be(tcp + 16, pcaprec_fold(sum));
	r->len += 20 + framelen;
	pcaprec_block_end(r, start, flags == TCP_ACK && n > 0, true);
	r->packets++;

	s->seq += (uint32_t)n + ((flags & (TCP_SYN | TCP_FIN)) != 0 ? 1 : 0);
	s->bytes += n;
	if ((flags & TCP_ACK) != 0) { /* it acknowledges everything the other end sent */
		s->owes_ack = false;
		s->unacked = 0;
	}
	if (n > 0 || (flags & TCP_FIN) != 0) {
		d->owes_ack = true;
		d->unacked += n;
	}
}

/* A pure ACK from side `from`, when it owes one: at a flush, at the seal, and within a long
 * batch. The data of the other direction carries it otherwise (a request/response protocol
 * then costs no ACK packets). */
static void
pcaprec_ack(struct pcaprec *r, int from)
{
	if (r->end[from].owes_ack)
		pcaprec_segment(r, from, TCP_ACK, NULL, 0);
}

/* Appends the signed checkpoint over every block since the previous one. */
static int
pcaprec_checkpoint(struct pcaprec *r)
{
	char now[SEAL_TIME_LEN], chain[SEAL_HEX_LEN], sig[SEAL_SIG_B64_LEN];
	char stamp[PCAPREC_STAMP_LEN];
	struct timespec ts;
	json_t *cp;

	if (r->ch.nlisted == 0)
		return 0;
	/* Custom blocks carry no time of their own: the elapsed seconds since the open, signed. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(stamp, sizeof(stamp), "%.6f",
	    (double)(ts.tv_sec - r->t0.tv_sec) + (ts.tv_nsec - r->t0.tv_nsec) / 1e9);
	if (recchain_sign(&r->ch, stamp, r->sealing, chain, sig, now) != 0)
		return pcaprec_fail(r, EIO);
	cp = json_pack("{s:I,s:s,s:s,s:s,s:o,s:s}", "n", (json_int_t)r->ch.nrecords, "time", now,
	    "stamp", stamp, "chain", chain, "records", recchain_listed_json(&r->ch), "sig", sig);
	recchain_clear_listed(&r->ch);
	pcaprec_custom_json(r, PCAP_TAG_CHECKPOINT, cp, false);
	return 0;
}

static int
pcaprec_usable(struct pcaprec *r)
{
	if (r == NULL)
		return (errno = EINVAL), -1;
	if (r->error != 0)
		return pcaprec_fail(r, r->error);
	if (r->sealed)
		return (errno = EINVAL), -1;
	return 0;
}

/* Signs when many blocks wait, so a checkpoint never lists more than about
 * PCAPREC_CHECKPOINT_RECORDS and a reader's block bound holds. */
static int
pcaprec_spill(struct pcaprec *r)
{
	if (r->ch.nlisted >= PCAPREC_CHECKPOINT_RECORDS)
		return pcaprec_checkpoint(r);
	return 0;
}

static int
pcaprec_write_side(struct pcaprec *r, int from, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	size_t n;

	if (pcaprec_usable(r) != 0)
		return -1;
	if (r->end[from].fin)
		return (errno = EPIPE), -1; /* the caller's mistake: the recording stays usable */
	/* One record per write: its segments continue it, the last (PSH) or an ACK of the
	 * other side ends it; a checkpoint comes only between records. */
	while (len > 0) {
		n = len < PCAP_MSS ? len : PCAP_MSS;
		pcaprec_segment(r, from, TCP_ACK | (n == len ? TCP_PSH : 0), p, n);
		p += n;
		len -= n;
		if (r->end[1 - from].unacked >= PCAPREC_ACK_EVERY)
			pcaprec_ack(r, 1 - from);
		if (!r->run_open && pcaprec_spill(r) != 0)
			return -1;
	}
	/* Written before the caller relays the bytes: a disk that fails never leaves relayed
	 * bytes unrecorded. */
	return pcaprec_write_buffer(r);
}

int
pcaprec_write_client(struct pcaprec *r, const void *buf, size_t len)
{
	return pcaprec_write_side(r, SIDE_CLIENT, buf, len);
}

int
pcaprec_write_server(struct pcaprec *r, const void *buf, size_t len)
{
	return pcaprec_write_side(r, SIDE_SERVER, buf, len);
}

int
pcaprec_write_fin(struct pcaprec *r, bool client_side)
{
	int from = client_side ? SIDE_CLIENT : SIDE_SERVER;

	if (pcaprec_usable(r) != 0)
		return -1;
	if (r->end[from].fin)
		return 0;
	pcaprec_segment(r, from, TCP_FIN | TCP_ACK, NULL, 0);
	r->end[from].fin = true;
	if (pcaprec_spill(r) != 0)
		return -1;
	return pcaprec_write_buffer(r);
}

int
pcaprec_flush(struct pcaprec *r)
{
	if (pcaprec_usable(r) != 0)
		return -1;
	pcaprec_ack(r, SIDE_CLIENT);
	pcaprec_ack(r, SIDE_SERVER);
	if (pcaprec_checkpoint(r) != 0)
		return -1;
	return pcaprec_write_buffer(r);
}

time_t
pcaprec_pending_since(const struct pcaprec *r)
{
	if (r == NULL || r->error != 0 || r->sealed)
		return 0;
	return r->ch.pending_since;
}

int
pcaprec_seal(struct pcaprec *r, const char *end_reason)
{
	char ended[SEAL_TIME_LEN];
	json_t *end;
	int side;

	if (pcaprec_usable(r) != 0)
		return -1;
	for (side = SIDE_CLIENT; side <= SIDE_SERVER; side++)
		if (!r->end[side].fin) {
			pcaprec_segment(r, side, TCP_FIN | TCP_ACK, NULL, 0);
			r->end[side].fin = true;
		}
	pcaprec_ack(r, SIDE_CLIENT);
	pcaprec_ack(r, SIDE_SERVER);
	seal_format_now(ended);
	end = json_pack("{s:s}", "ended", ended);
	recchain_json_set_string(end, "reason", end_reason != NULL ? end_reason : "unknown");
	json_object_set_new(end, "client_bytes", json_integer((json_int_t)r->end[0].bytes));
	json_object_set_new(end, "server_bytes", json_integer((json_int_t)r->end[1].bytes));
	json_object_set_new(end, "packets", json_integer((json_int_t)r->packets));
	pcaprec_custom_json(r, PCAP_TAG_END, end, true);
	r->sealing = true;
	if (pcaprec_checkpoint(r) != 0 || pcaprec_write_buffer(r) != 0)
		return -1;
	if (fsync(r->file.fd) != 0)
		return pcaprec_fail(r, errno);
	r->sealed = true;
	return 0;
}

void
pcaprec_free(struct pcaprec *r)
{
	if (r == NULL)
		return;
	/* Best effort: what reached memory goes to the file, which stays unsealed. */
	if (!r->sealed && r->error == 0 && pcaprec_checkpoint(r) == 0)
		pcaprec_write_buffer(r);
	close(r->file.fd);
	free(r->path);
	free(r->buf);
	recchain_free(&r->ch);
	free(r);
}

unsigned long long
pcaprec_size(const struct pcaprec *r)
{
	return r->size;
}

unsigned long long
pcaprec_bytes(const struct pcaprec *r, bool client_side)
{
	return r->end[client_side ? SIDE_CLIENT : SIDE_SERVER].bytes;
}

unsigned long
pcaprec_packets(const struct pcaprec *r)
{
	return r->packets;
}

const char *
pcaprec_path(const struct pcaprec *r)
{
	return r->path;
}

int
pcaprec_create_file(const char *dir, const char *session_id, unsigned channel, char **path)
{
	return recchain_create_file(dir, session_id, channel, PCAP_SUFFIX, path);
}

/* "host:port", with brackets around an IPv6 literal. */
static void
pcaprec_set_endpoint(json_t *g, const char *key, const char *addr, long port)
{
	char *s;

	if (addr == NULL)
		return;
	xasprintf(&s, strchr(addr, ':') != NULL ? "[%s]:%ld" : "%s:%ld", addr, port);
	recchain_json_set_string(g, key, s);
	free(s);
}

static json_t *
pcaprec_header(const struct tunnel_meta *m, const char *key_id)
{
	char started[SEAL_TIME_LEN];
	struct timespec ts = { .tv_sec = m->started };
	const char *dest = m->target != NULL ? m->target : m->dest_addr;
	json_t *g;

	seal_format_time(started, &ts);
	g = json_pack("{s:s,s:s,s:i,s:s}", "format", PCAP_FORMAT, "session_id", m->session_id,
	    "channel", (int)m->channel, "key", key_id);
	recchain_json_set_string(g, "person", m->person);
	recchain_json_set_string(g, "vendor", m->vendor);
	recchain_json_set_string(g, "target", m->target);
	pcaprec_set_endpoint(g, "dest", dest, (long)m->dest_port);
	recchain_json_set_string(g, "dest_addr", m->dest_addr);
	json_object_set_new(g, "dest_port", json_integer(m->dest_port));
	pcaprec_set_endpoint(g, "orig", m->orig_addr, (long)m->orig_port);
	pcaprec_set_endpoint(g, "client", m->client_addr, m->client_port);
	recchain_json_set_string(g, "key_fp", m->key_fp);
	recchain_json_set_string(g, "ticket", m->ticket_id);
	if (m->approvers != NULL)
		json_object_set_new(g, "approvers", recorder_names_array(m->approvers));
	json_object_set_new(g, "started", json_string(started));
	return json_pack("{s:o}", "gatewayd", g);
}

/* The Section Header Block (little-endian, section length unknown: the file grows) with
 * shb_userappl, and the one interface: Ethernet, nanosecond timestamps. */
static void
pcaprec_preamble(struct pcaprec *r)
{
	static const char app[] = "gatewayd";
	size_t start;
	unsigned char *p;

	start = pcaprec_block_begin(r, PCAP_SHB, 16 + 4 + 8 + 4);
	p = r->buf + r->len;
	pcap_put32(p, PCAP_BYTE_ORDER_MAGIC);
	pcap_put32(p + 4, 1); /* version 1.0 */
	pcap_put32(p + 8, 0xffffffff);
	pcap_put32(p + 12, 0xffffffff);
	pcap_put32(p + 16, 4 | (uint32_t)(sizeof(app) - 1) << 16); /* shb_userappl */
	memcpy(p + 20, app, sizeof(app) - 1);
	pcap_put32(p + 28, 0); /* opt_endofopt */
	r->len += 32;
	pcaprec_block_end(r, start, false, true);

	start = pcaprec_block_begin(r, PCAP_IDB, 8 + 8 + 4);
	p = r->buf + r->len;
	pcap_put32(p, PCAP_LINKTYPE_ETHERNET); /* and 16 reserved bits */
	pcap_put32(p + 4, PCAP_SNAPLEN);
	pcap_put32(p + 8, 9 | 1 << 16); /* if_tsresol: 10^-9 */
	p[12] = 9;
	p[13] = p[14] = p[15] = 0;
	pcap_put32(p + 16, 0);
	r->len += 20;
	pcaprec_block_end(r, start, false, true);
}

/* The synthetic endpoints (docs/recording-format.md): the client at 192.0.2.1 (TEST-NET-1),
 * the destination at its own address when that is an IPv4 literal, else 198.51.100.1
 * (TEST-NET-2); the real destination port, the originator's port when it differs from it. */
static void
pcaprec_endpoints(struct pcaprec *r, const struct tunnel_meta *m)
{
	static const unsigned char client_ip[4] = { 192, 0, 2, 1 }, other_ip[4] = { 192, 0, 2, 2 };
	static const unsigned char named_ip[4] = { 198, 51, 100, 1 };
	struct tcp_end *c = &r->end[SIDE_CLIENT], *s = &r->end[SIDE_SERVER];
	unsigned char isn[SEAL_HASH_LEN];
	struct in_addr a;
	char *seed;

	memcpy(c->mac, (const unsigned char[6]){ 0x02, 0, 0, 0, 0, 1 }, 6);
	memcpy(s->mac, (const unsigned char[6]){ 0x02, 0, 0, 0, 0, 2 }, 6);
	if (m->dest_addr != NULL && inet_pton(AF_INET, m->dest_addr, &a) == 1)
		memcpy(s->ip, &a, 4);
	else
		memcpy(s->ip, named_ip, 4);
	memcpy(c->ip, memcmp(s->ip, client_ip, 4) == 0 ? other_ip : client_ip, 4);
	s->port = (uint16_t)m->dest_port;
	c->port = m->orig_port > 0 && m->orig_port <= 65535 && m->orig_port != m->dest_port
	    ? (uint16_t)m->orig_port
	    : (uint16_t)(49152 + m->channel % 16384);
	/* Initial sequence numbers from the tunnel's name: the same recording, byte for byte,
	 * for the same bytes at the same times. */
	xasprintf(&seed, "%s.%u", m->session_id, m->channel);
	seal_digest(seed, strlen(seed), isn);
	free(seed);
	c->seq = (uint32_t)isn[0] << 24 | (uint32_t)isn[1] << 16 | (uint32_t)isn[2] << 8 | isn[3];
	s->seq = (uint32_t)isn[4] << 24 | (uint32_t)isn[5] << 16 | (uint32_t)isn[6] << 8 | isn[7];
}

struct pcaprec *
pcaprec_open_fd(
    int fd, const char *path, const struct tunnel_meta *meta, const struct recorder_signer *signer)
{
	struct pcaprec *r;
	json_t *h;
	char *header;
	int err;

	if (meta == NULL || signer == NULL || signer->sign == NULL || signer->key_id == NULL ||
	    path == NULL || !recchain_id_is_hex(meta->session_id) || meta->dest_port == 0 ||
	    meta->dest_port > 65535) {
		close(fd);
		return (errno = EINVAL), NULL;
	}
	h = pcaprec_header(meta, signer->key_id);
	if ((header = json_dumps(h, JSON_COMPACT)) == NULL)
		abort(); /* jansson fails only for want of memory */
	json_decref(h);
	/* The originator comes from the vendor's client: a header no reader would accept
	 * (PCAP_BLOCK_MAX) refuses the tunnel rather than record what cannot be verified. */
	if (strlen(header) > PCAPREC_HEADER_MAX) {
		free(header);
		close(fd);
		return (errno = EINVAL), NULL;
	}
	/* Held until pcaprec_free: a reader tells a live tunnel from one that crashed. */
	if (recchain_lock(fd) != 0) {
		err = errno;
		free(header);
		close(fd);
		return (errno = err), NULL;
	}
	r = xcalloc(1, sizeof(*r));
	r->file.fd = fd;
	r->path = xstrdup(path);
	clock_gettime(CLOCK_MONOTONIC, &r->t0);
	pcaprec_endpoints(r, meta);
	/* Record 0 is the header's JSON alone, what a notary reads; then every block in order. */
	recchain_init(&r->ch, r->path, signer, header, strlen(header));
	recchain_add(&r->ch, header, strlen(header), true);
	pcaprec_preamble(r);
	pcaprec_custom(r, PCAP_TAG_HEADER, header, strlen(header), true);
	free(header);
	pcaprec_segment(r, SIDE_CLIENT, TCP_SYN, NULL, 0);
	pcaprec_segment(r, SIDE_SERVER, TCP_SYN | TCP_ACK, NULL, 0);
	pcaprec_segment(r, SIDE_CLIENT, TCP_ACK, NULL, 0);
	if (pcaprec_write_buffer(r) != 0) {
		err = r->error;
		pcaprec_free(r);
		return (errno = err), NULL;
	}
	return r;
}
