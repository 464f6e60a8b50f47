/* link.h: the front's end of the link to its monitor: ordered sending that never blocks the
 * event loop, the blocking wait for one answer, and the dispatch of everything else. */
#ifndef GW_FRONT_LINK_H
#define GW_FRONT_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include "common/frontmsg.h"

/* A message the link could not send yet (EAGAIN): sent first, in order, once it can. */
struct link_out {
	TAILQ_ENTRY(link_out) entry;
	struct wbuf b;
	bool secret; /* wiped once sent */
};

/* A message received while waiting for an answer: dispatched later, in order. */
struct link_in {
	TAILQ_ENTRY(link_in) entry;
	size_t len;
	unsigned char data[];
};

struct link {
	int fd;
	TAILQ_HEAD(, link_out) out;
	size_t nout;
	TAILQ_HEAD(, link_in) in;
	size_t in_bytes;
	bool broken;   /* a send failed other than EAGAIN: the monitor is gone */
	bool readable; /* the last poll round saw the link readable (or closed) */
	/* A channel number being opened, plus 1 (0: none): an FM_ACK for it meanwhile is one
	 * the number's previous channel crossed with its CLOSE. */
	uint32_t opening;
};

struct front;

void link_init(struct link *l, int fd);
void link_free(struct link *l);
/* Sends b (and frees it) after what waits already; 0, or -1 when the link is broken. */
int link_send(struct link *l, struct wbuf *b);
/* The same for FM_DATA on chan (at most FRONTMSG_DATA_MAX bytes), copied only if it waits. */
int link_send_data(struct link *l, uint32_t chan, int stream, const void *data, size_t len);
/* The same for a message holding a secret (keyboard-interactive answers): its bytes are wiped
 * once sent. Build it in a buffer from link_reserve(), so no reallocation leaves a copy. */
int link_send_secret(struct link *l, struct wbuf *b);
void link_reserve(struct wbuf *b);
/* Whether messages wait to be sent: the vendor's data is then left in libssh. */
bool link_busy(const struct link *l);
/* Whether received messages wait to be dispatched. */
bool link_pending(const struct link *l);
/* Sends what waits, as far as the socket takes it; -1 when the link is broken. */
int link_flush(struct link *l);
/* Sends what waits, waiting up to timeout_ms in all (before leaving). */
void link_flush_wait(struct link *l, int timeout_ms);
/* Drops queued FM_ACKs for channel number chan: its previous channel is gone, and a new one
 * gets the number. */
void link_forget_acks(struct link *l, uint32_t chan);
/* The next message, queued ones first: 1 with *m, 0 at EOF, -1 when none waits, -2 malformed. */
int link_next(struct link *l, struct frontmsg *m);
/* Blocks for the answer to a request: a message of type want or want2 (0: none) for chan.
 * FM_BANNER and FM_METHODS are applied meanwhile, everything else queued; EOF, a malformed
 * or an unexpected answer ends the process. */
void link_wait(struct front *f, uint8_t want, uint8_t want2, uint32_t chan, struct frontmsg *m);
/* The event loop's turn: what the monitor sent, at most a bounded number of messages. */
void link_dispatch(struct front *f);
/* A monitor that breaks the protocol: logged once, then the process ends (exit 1). */
void link_violation(struct front *f, const struct frontmsg *m, const char *what)
    __attribute__((noreturn));

#endif
