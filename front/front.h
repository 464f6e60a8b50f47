/* front.h: the vocabulary of the vendor-facing process: the front (one vendor connection and
 * its link to the monitor) and its channels. Holds no policy, no file, no key but host keys. */
#ifndef GW_FRONT_H
#define GW_FRONT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include <libssh/callbacks.h>
#include <libssh/libssh.h>
#include <libssh/server.h>

#include "common/frontmsg.h"
#include "front/link.h"

/* One thing the monitor asked to happen on a vendor channel, applied in arrival order. */
enum fout_kind { FOUT_DATA, FOUT_EOF, FOUT_EXIT_STATUS, FOUT_EXIT_SIGNAL, FOUT_CLOSE };

struct fout {
	TAILQ_ENTRY(fout) entry;
	enum fout_kind kind;
	uint8_t stream;    /* FOUT_DATA: 0 stdout, 1 stderr */
	uint8_t core;      /* FOUT_EXIT_SIGNAL */
	uint32_t status;   /* FOUT_EXIT_STATUS */
	char signame[64];  /* FOUT_EXIT_SIGNAL */
	uint32_t len, off; /* FOUT_DATA: bytes in data, bytes already written */
	unsigned char data[];
};
TAILQ_HEAD(fout_queue, fout);

struct front;

/* A vendor "session" channel and its number on the link. */
struct fchan {
	struct front *front;
	uint32_t num;
	ssh_channel ch;
	struct ssh_channel_callbacks_struct cb;

	/* vendor -> monitor */
	uint32_t credit;    /* FM_DATA bytes we may still send before the monitor's FM_ACK */
	bool held[2];       /* libssh holds bytes of this stream that did not fit the credit */
	bool vendor_eof;    /* the vendor sent EOF ... */
	bool vendor_closed; /* ... and CLOSE */
	bool eof_sent;      /* FM_EOF sent to the monitor */
	bool close_sent;    /* FM_CLOSE sent to the monitor */

	/* monitor -> vendor */
	struct fout_queue out;
	uint32_t unacked;       /* FM_DATA bytes received and not yet acknowledged */
	uint32_t to_ack;        /* of those, written to the vendor since the last FM_ACK */
	bool monitor_eof;       /* FM_EOF received (queued) */
	bool monitor_closed;    /* FM_CLOSE received (queued) */
	bool vendor_close_done; /* ssh_channel_close called */
};

struct front {
	ssh_session vendor;
	ssh_event event;
	struct link link;
	struct ssh_server_callbacks_struct server_cb;
	struct fchan *chans[FRONTMSG_CHANNELS_MAX];
	bool used[FRONTMSG_CHANNELS_MAX]; /* numbers used at least once (late FM_ACKs) */
	/* One past the highest number used: each round's loops stop there, not at
	 * FRONTMSG_CHANNELS_MAX (the lowest free number is reused). */
	uint32_t chans_end;

	bool ready;              /* key exchange done, FM_READY sent */
	bool disconnecting;      /* FM_DISCONNECT: writing what is queued, then leaving */
	long long disconnect_at; /* monotonic ms */
	bool done;               /* leave the main loop */
	int exit_code;
	bool link_lost; /* the monitor's end closed: leave without FM_GONE */
	char why[256];  /* FM_GONE text when the vendor's connection ended */
};

/* main.c */
long long front_now_ms(void);
/* A protocol violation or a broken link inside a callback: the process ends here. */
void front_die(struct front *f, int code) __attribute__((noreturn));

/* auth.c */
void auth_install(struct front *f);
void auth_apply(struct front *f, const struct frontmsg *m);

/* channel.c */
ssh_channel channel_open_cb(ssh_session session, void *userdata);
/* A direct-tcpip open (ssh -L, -D): asks the monitor, and accepts it as channel of the same
 * numbering if it says so. 0: answered; 1: refused, for libssh's default reply. */
int channel_open_tunnel(struct front *f, ssh_message msg);
void channel_dispatch(struct front *f, struct frontmsg *m);
void channel_pump_all(struct front *f);
/* Whether output waits for a vendor's window, or a CLOSE for the vendor's answer. */
bool channel_output_pending(const struct front *f);
void channel_free_all(struct front *f);

#endif
