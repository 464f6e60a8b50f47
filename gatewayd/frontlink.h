/* frontlink.h: the monitor's side of the link to its vendor-facing process (front/): what
 * the front reports, parsed and bounded, and the vendor's channels as the monitor sees them. */
#ifndef GW_FRONTLINK_H
#define GW_FRONTLINK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/frontmsg.h"

#define FRONTLINK_KEY_MAX 16384 /* a public key or certificate, base64 */

/* One message from the front, parsed: every string NUL-terminated and bounded, every count
 * checked. Which members are set depends on type (common/frontmsg.h). */
struct frontreq {
	uint8_t type;
	uint32_t chan;
	char text[FRONTMSG_TEXT_MAX];  /* user, term, env name, command, subsystem, signal, why,
	                                * a tunnel's destination host */
	char text2[FRONTMSG_TEXT_MAX]; /* key type, env value, a tunnel's originator */
	char key[FRONTLINK_KEY_MAX];   /* FM_AUTH_PUBKEY: the key, base64 */
	uint32_t
	    num[4];   /* pty and window sizes, ack count, a tunnel's ports (destination, origin) */
	uint8_t flag; /* FM_AUTH_PUBKEY: signed; FM_DATA: stream */
	size_t nanswers;
	char answers[FRONTMSG_PROMPTS_MAX][FRONTMSG_TEXT_MAX / 4];
	const unsigned char *data; /* FM_DATA: in the message's buffer */
	size_t len;
};

/* Parses one message the front may send; 0, or -1 when it is not one (wrong direction,
 * malformed, out of bounds). Pure: the fuzz harness drives it. */
int frontlink_parse(struct frontmsg *m, struct frontreq *rq);

/* A vendor channel, as the monitor sees it through the front. */
struct vchan;
struct frontlink;

struct frontlink *frontlink_new(int link_fd, pid_t pid, int vendor_fd);
/* Kills the front if still running (it should have exited after FM_DISCONNECT), reaps it. */
void frontlink_free(struct frontlink *fl);
int frontlink_fd(const struct frontlink *fl);
/* The vendor's TCP socket: the monitor never reads it; for TCP_INFO and shutdown only. */
int frontlink_vendor_fd(const struct frontlink *fl);
/* Whether the vendor's connection is over (the front said so, exited or broke the link). */
bool frontlink_gone(const struct frontlink *fl);
const char *frontlink_gone_why(const struct frontlink *fl);
/* Whether messages wait in the monitor for room on the link. */
bool frontlink_pending(const struct frontlink *fl);
/* Sends what waits; -1 once the link is broken. After EAGAIN it tries again only once
 * frontlink_writable() said the poll found room. */
int frontlink_flush(struct frontlink *fl);
void frontlink_writable(struct frontlink *fl);

/* Reads the next message into rq: 1, 0 when nothing waits, -1 when the link is over (gone is
 * set). Acknowledgements are applied here and not returned; FM_DATA is checked against the
 * channel's window and returned: what its owner does not take goes to vchan_keep. */
int frontlink_next(struct frontlink *fl, struct frontreq *rq);

/* Messages to the front. Each is queued if the link is full; -1 only when it is broken. */
int frontlink_send_init(struct frontlink *fl, const char *const *pems, size_t npems,
    const char *const algorithms[4], unsigned methods, unsigned grace_s);
int frontlink_send_auth_result(struct frontlink *fl, int result);
int frontlink_send_prompts(struct frontlink *fl, const char *instruction, size_t n,
    const char *const *prompts, const bool *echo);
int frontlink_send_methods(struct frontlink *fl, unsigned methods);
int frontlink_send_banner(struct frontlink *fl, const char *text);
int frontlink_send_result(struct frontlink *fl, uint32_t chan, bool ok);
int frontlink_send_keepalive(struct frontlink *fl);
/* Asks the front to let the vendor read for at most ms, then hang up. */
int frontlink_send_disconnect(struct frontlink *fl, unsigned ms);
/* Ends the vendor's connection now, whatever the front does: shutdown of the socket, then
 * the front is killed. */
void frontlink_cut(struct frontlink *fl);

/* Channels: numbered by the front. vchan_new takes the number of an FM_CHAN_OPEN. */
struct vchan *vchan_new(struct frontlink *fl, uint32_t num, void *owner);
void vchan_free(struct vchan *v);
void *vchan_owner_of(struct frontlink *fl, uint32_t num); /* NULL when not open */
/* Bytes the monitor may still send on v before the front acknowledges (its window). */
uint32_t vchan_window(const struct vchan *v);
/* Sends up to the window; returns what was taken (0 when none), -1 when the link broke. */
int vchan_write(struct vchan *v, const void *data, uint32_t len, int is_stderr);
/* Vendor bytes received and not yet taken. */
uint32_t vchan_poll(const struct vchan *v);
/* Points at what waits (contiguous) and takes n of it once the caller used them. */
uint32_t vchan_peek(const struct vchan *v, const unsigned char **p);
void vchan_consume(struct vchan *v, uint32_t n);
int vchan_read(struct vchan *v, void *buf, uint32_t len);
/* Appends bytes that arrived for v and the owner did not take at once. */
int vchan_keep(struct vchan *v, const void *data, size_t len);
int vchan_send_eof(struct vchan *v);
int vchan_close(struct vchan *v);
int vchan_send_exit_status(struct vchan *v, int status);
int vchan_send_exit_signal(struct vchan *v, const char *sig, bool core);
/* Acknowledges taken bytes to the front (batched: called after each round). */
void frontlink_send_acks(struct frontlink *fl);

#endif
