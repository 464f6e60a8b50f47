/* frontmsg.h: the framed protocol between a session's monitor (gatewayd/) and its vendor-facing
 * process (front/): one binary message per SOCK_SEQPACKET datagram, SSH wire encoding inside. */
#ifndef GW_FRONTMSG_H
#define GW_FRONTMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/wire.h"

#define FRONTMSG_VERSION 2
/* One message: a header, then at most one data chunk and its framing. */
#define FRONTMSG_DATA_MAX 65536
#define FRONTMSG_MAX      (FRONTMSG_DATA_MAX + 1024)
/* Bytes of channel data a side may send before the other acknowledges them (FM_ACK): the
 * link's flow control, per channel. Towards the vendor it is large: bulk output ran faster than
 * with 1 MiB (bench/relay), and what waits is in the unprivileged front. Towards the target,
 * what the target does not take waits in the monitor, whose memory per channel docs/limits.md
 * bounds; 2 MiB is above libssh 0.10's receive window (1.28 MB), so the front can pass on all
 * that libssh holds of a vendor's stream at once (front/channel.c, channel_take). */
#define FRONTMSG_WINDOW_OUT (4 * 1024 * 1024) /* monitor -> front -> vendor */
#define FRONTMSG_WINDOW_IN  (2 * 1024 * 1024) /* vendor -> front -> monitor */
/* Taken bytes are acknowledged once a quarter of the window is due, not each round: a sender
 * without credit has a whole window outstanding, which is more, so it is never left waiting;
 * meanwhile the other side is not woken for every keystroke and every frame. */
#define FRONTMSG_ACK_MIN(window) ((window) / 4)
#define FRONTMSG_KEYS_MAX        8    /* host keys in FM_INIT */
#define FRONTMSG_TEXT_MAX        4096 /* a user name, a command, a banner line... */
#define FRONTMSG_BANNER_MAX      16384
#define FRONTMSG_PROMPTS_MAX     16
#define FRONTMSG_CHANNELS_MAX    1024 /* channel numbers the front may use: 0..MAX-1 */

/*
 * Every message: u8 type, u32 channel (0 when none), then the fields below in order.
 * "m>f" goes from the monitor to the front, "f>m" the other way. The front asks and blocks
 * for the answer where an SSH request needs one (auth, channel open, channel requests);
 * everything else flows without answers. Each side treats the other's bytes as hostile: the
 * monitor because they are the vendor's, the front because a monitor bug must not become one
 * of its own.
 */
enum frontmsg_type {
	FM_INIT = 1,       /* m>f u32 version, u32 nkeys, string pem[nkeys], string kex,
	                      string ciphers, string macs, string hostkeys (each "" = libssh's
	                      default), u32 auth methods (SSH_AUTH_METHOD_* bits), u32 grace_s */
	FM_READY,          /* f>m key exchange done: string client banner (e.g. "SSH-2.0-...") */
	FM_GONE,           /* f>m the vendor's connection ended: string why (for the log) */
	FM_AUTH_NONE,      /* f>m string user                                 -> FM_AUTH_RESULT */
	FM_AUTH_PUBKEY,    /* f>m string user, string key type, string key base64 (the whole
	                      certificate for a certificate), u8 signed (0: a query, 1: libssh
	                      verified the signature)                          -> FM_AUTH_RESULT */
	FM_KBDINT_START,   /* f>m string user -> FM_KBDINT_PROMPTS or FM_AUTH_RESULT */
	FM_KBDINT_ANSWERS, /* f>m u32 n, string answer[n] -> FM_KBDINT_PROMPTS or FM_AUTH_RESULT */
	FM_AUTH_RESULT,    /* m>f u8 FM_AUTH_DENIED / FM_AUTH_PARTIAL / FM_AUTH_SUCCESS */
	FM_KBDINT_PROMPTS, /* m>f string instruction, u32 n, (string prompt, u8 echo)[n] */
	FM_METHODS,        /* m>f u32 methods offered from now on (SSH_AUTH_METHOD_* bits) */
	FM_BANNER,         /* m>f string text: an SSH issue banner, sent at once */
	FM_CHAN_OPEN,      /* f>m a "session" channel numbered by the front -> FM_RESULT */
	FM_PTY,           /* f>m string term, u32 cols, u32 rows, u32 px w, u32 px h -> FM_RESULT */
	FM_ENV,           /* f>m string name, string value                   -> FM_RESULT */
	FM_SHELL,         /* f>m                                             -> FM_RESULT */
	FM_EXEC,          /* f>m string command                              -> FM_RESULT */
	FM_SUBSYSTEM,     /* f>m string name                                 -> FM_RESULT */
	FM_WINDOW_CHANGE, /* f>m u32 cols, u32 rows, u32 px w, u32 px h      -> FM_RESULT */
	FM_SIGNAL,        /* f>m string signal name (no answer) */
	FM_RESULT,        /* m>f u8 ok (1 granted / opened, 0 refused) */
	FM_DATA,          /* both: u8 stream (0 stdout/stdin, 1 stderr), string bytes */
	FM_ACK,           /* both: u32 bytes of FM_DATA on this channel now taken */
	FM_EOF,           /* both */
	FM_CLOSE,         /* both: the channel is closed on the sender's side */
	FM_EXIT_STATUS,   /* m>f u32 status */
	FM_EXIT_SIGNAL,   /* m>f string signal name, u8 core dumped */
	FM_KEEPALIVE,     /* m>f send keepalive@openssh.com to the vendor */
	FM_DISCONNECT,    /* m>f u32 ms: let the vendor read for at most that long, then
	                     disconnect and exit */
	FM_FWD_OPEN,      /* f>m a "direct-tcpip" channel numbered by the front: string host,
	                     u32 port, string originator, u32 originator port -> FM_RESULT */
	FM_TYPE_MAX
};

enum { FM_AUTH_DENIED = 0, FM_AUTH_PARTIAL = 1, FM_AUTH_SUCCESS = 2 };

/* A message being built: frontmsg_new(), wbuf_* the fields, frontmsg_send(). */
void frontmsg_new(struct wbuf *b, enum frontmsg_type type, uint32_t chan);
/* Sends b (then frees it); never blocks: 0, or -1 with errno (EAGAIN when the link is full,
 * which the caller's flow control is to prevent). */
int frontmsg_send(int fd, struct wbuf *b);
/* FM_DATA on chan: one stream's bytes (at most FRONTMSG_DATA_MAX), into b to be queued. */
void frontmsg_new_data(struct wbuf *b, uint32_t chan, int stream, const void *data, size_t len);
/* The same message sent at once, gathered from data without a copy; never blocks: 0, or -1
 * with errno as frontmsg_send (EAGAIN: the caller queues it with frontmsg_new_data). */
int frontmsg_send_data(int fd, uint32_t chan, int stream, const void *data, size_t len);
/* Sends and frees b, waiting up to timeout_ms for room. 0 or -1. */
int frontmsg_send_wait(int fd, struct wbuf *b, int timeout_ms);
/* Whether a send that failed with err only did not go for now, the link being sound: the socket
 * is full (EAGAIN), a signal came (EINTR), or the kernel had no memory for the message at once
 * (ENOBUFS, ENOMEM; under memory pressure). The message is to be sent again. */
bool frontmsg_send_again(int err);

/* A received message, its fields read with the wire_* calls from body. */
struct frontmsg {
	uint8_t type;
	uint32_t chan;
	struct wire body;
	unsigned char buf[FRONTMSG_MAX];
};
/* Receives one message without blocking: 1 with *m, 0 at EOF, -1 when nothing waits, -2 when
 * malformed (a type out of range, a truncated header, an oversized datagram, a descriptor):
 * the link is then to be treated as broken. */
int frontmsg_recv(int fd, struct frontmsg *m);
/* The name of a type, for logs. */
const char *frontmsg_type_name(uint8_t type);

#endif
