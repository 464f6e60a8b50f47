/* sftp.h: inspection of one relayed "sftp" subsystem channel (SFTP v3 as OpenSSH speaks
 * it): frames both directions, enforces the file-transfer grant and reports every file
 * operation as evidence. Pure byte-stream logic: no I/O, no libssh, never buffers files. */
#ifndef GW_SFTP_H
#define GW_SFTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#define SFTP_MAX_PACKET   (256 * 1024) /* largest packet length field, either direction */
#define SFTP_MAX_HANDLES  256          /* open handles (and opens awaiting an answer) */
#define SFTP_MAX_REQUESTS 1024         /* requests forwarded and not yet answered; more wait */
#define SFTP_MAX_PATH     4096         /* longer paths are refused */
#define SFTP_HANDLE_MAX   256          /* longest handle string a target may return */
/* Input is taken only while both output queues hold less than this; each packet taken
 * adds at most one packet to each queue, so a queue never exceeds it by more than
 * 4 + SFTP_MAX_PACKET (the VERSION rewrite only shrinks). */
#define SFTP_QUEUE_HIGH (512 * 1024)

/*
 * The file-transfer grant for one channel. upload: open for write/create/truncate/
 * append, write, and every mutating operation (remove, rename, link, symlink, mkdir,
 * rmdir, setstat, fsync). download: open for read, read. Listing (stat, opendir,
 * readdir, realpath, statvfs) needs either. path_prefixes: absolute directories the
 * vendor may touch (NULL: anywhere); with prefixes, paths must be free of ".." and
 * relative paths are resolved against the home directory: the gateway asks the target
 * REALPATH "." itself right after VERSION (scp never asks) and holds vendor requests
 * until the answer is in; if the target will not say, relative paths are refused.
 * max_file_size: writes (and truncates) past it are refused; 0: unlimited.
 * allow_unknown_extensions: forward extended requests this module does not know
 * (needs upload and download too, as they may do anything). atomic_uploads: a file
 * opened for writing with truncation is written under a temporary name in the same
 * directory (".NAME.gwtmp-XXXXXXXX", created exclusively) and renamed over NAME when the
 * vendor closes it cleanly; after a refused write it is removed and the close fails, so
 * no half file ever carries the vendor's name. The gateway's rename and remove reuse the
 * id of the vendor's CLOSE, whose answer waits for them. target: named in the messages
 * refusals send the vendor. Copied by sftp_watch_new (target is not: it must outlive w).
 */
struct sftp_policy {
	bool upload;
	bool download;
	const char *const *path_prefixes;
	size_t nprefixes;
	uint64_t max_file_size;
	bool allow_unknown_extensions;
	bool atomic_uploads;
	const char *target;
};

enum sftp_event_kind {
	SFTP_EV_OPEN, /* a file opened (or the target refused to) */
	SFTP_EV_OPENDIR,
	SFTP_EV_CLOSE, /* totals and hash of one file handle */
	SFTP_EV_REMOVE,
	SFTP_EV_RENAME,  /* path -> path2 */
	SFTP_EV_LINK,    /* hard link: path2 made a new name of path */
	SFTP_EV_SYMLINK, /* path2 made a symbolic link pointing to path */
	SFTP_EV_MKDIR,
	SFTP_EV_RMDIR,
	SFTP_EV_SETSTAT,
	SFTP_EV_EXTENSION, /* an unknown extension forwarded by policy */
	SFTP_EV_DENIED,    /* refused by the gateway, answered PERMISSION_DENIED */
};

/* One operation. Pointers are valid during the callback only. */
struct sftp_event {
	enum sftp_event_kind kind;
	struct timespec when; /* CLOCK_REALTIME */
	uint32_t id;          /* request id */
	const char *op;       /* protocol name: "open", "write", "posix-rename@openssh.com"... */
	const char *path;     /* normalised when possible; NULL when none; the name of an
	                       * unknown extension for SFTP_EV_EXTENSION */
	const char *path2;
	int status;            /* SSH_FX_* the target answered; -1 when not answered */
	const char *reason;    /* SFTP_EV_DENIED: why; a gateway rename/remove: what for */
	const char *message;   /* SFTP_EV_DENIED: the sentence the vendor is sent */
	unsigned file;         /* gateway's number of the handle (1, 2, ...); 0: none */
	const uint8_t *handle; /* the target's handle bytes */
	size_t handle_len;
	uint32_t pflags; /* SFTP_EV_OPEN: SSH_FXF_* */
	bool has_mode;   /* open, mkdir, setstat: permissions given */
	uint32_t mode;
	bool has_size; /* setstat: size given */
	uint64_t size;
	/* SFTP_EV_CLOSE; bytes_written also for a refused write */
	uint64_t bytes_read, bytes_written;
	bool has_sha256; /* every byte moved once, in order from offset 0 */
	uint8_t sha256[32];
	const char *no_hash; /* why there is no hash, when there is none */
	bool unclosed;       /* closed by the gateway because the channel ended */
};

/* Returns 0, or -1 when the evidence could not be kept: the feed call then fails,
 * and the caller ends the channel (fail closed, R9). */
typedef int (*sftp_event_fn)(const struct sftp_event *ev, void *arg);

struct sftp_watch;

/* NULL when a prefix is not an absolute path. */
struct sftp_watch *sftp_watch_new(const struct sftp_policy *pol, sftp_event_fn cb, void *arg);
/* Frees without events (call sftp_watch_end first for them); NULL is fine. */
void sftp_watch_free(struct sftp_watch *w);

/*
 * Feeding. Bytes from the vendor (client requests) and from the target (server
 * answers) in any chunks. Each returns how many bytes it took (0..len), or -1 when the
 * channel must end: malformed or oversized packet, protocol violation, or an event
 * callback failure; sftp_watch_error() says why, and every later call fails too.
 * Fewer than len are taken while an output queue is at SFTP_QUEUE_HIGH, and vendor
 * bytes after INIT are not taken until the target has answered the gateway's own
 * REALPATH ".", nor while SFTP_MAX_REQUESTS requests are outstanding (the client's
 * pipelining is slowed down, not refused): so after draining a queue or feeding
 * target bytes, feed the vendor's rest again (with libssh's channel data callback,
 * return the count taken and libssh keeps the rest; the relay must then offer it
 * again itself, as no new data may come).
 * Allowed packets are queued whole for the other side; a refused request is never
 * forwarded: the gateway queues the vendor a STATUS (FAILURE for a write, else
 * PERMISSION_DENIED) whose message, also in the SFTP_EV_DENIED event, says what was refused
 * on which target and why.
 */
ssize_t sftp_watch_from_vendor(struct sftp_watch *w, const void *buf, size_t len);
ssize_t sftp_watch_from_target(struct sftp_watch *w, const void *buf, size_t len);

/*
 * Draining, for flow control: *p points at the bytes due (valid until the next call
 * on w), the return is their count; write what the channel window allows, then
 * consume that many. Packets are only ever queued whole, so a partial write is fine.
 */
size_t sftp_watch_pending_to_target(const struct sftp_watch *w, const uint8_t **p);
void sftp_watch_consume_to_target(struct sftp_watch *w, size_t n);
size_t sftp_watch_pending_to_vendor(const struct sftp_watch *w, const uint8_t **p);
void sftp_watch_consume_to_vendor(struct sftp_watch *w, size_t n);

/* The vendor is gone (EOF or close): each atomic upload still open is reported unclosed,
 * closed and its temporary file removed by the gateway's own requests, whose answers it
 * consumes. Returns 0, or -1 when a callback failed. */
int sftp_watch_abandon(struct sftp_watch *w);
/* True while an atomic upload's close, rename or removal waits for the target. */
bool sftp_watch_uploads_closing(const struct sftp_watch *w);

/* The channel ended: reports SFTP_EV_CLOSE (unclosed) for each file still open.
 * Returns 0, or -1 when a callback failed. */
int sftp_watch_end(struct sftp_watch *w);
/* Why the last feed failed; a static string, never input. */
const char *sftp_watch_error(const struct sftp_watch *w);

/*
 * SFTP spoken through another door (a command, a shell): recognised by its content.
 * sftp_stream_starts_init: whether the first bytes of a stream are an INIT packet (any
 * version, up to 1 KiB of extensions): 1 yes, 0 not known yet (too few bytes), -1 no.
 * sftp_scan_init: follows a stream in any chunks for the INIT that OpenSSH, PuTTY and
 * WinSCP send (version 3, no extensions); *state (0 at the start) carries a partial match
 * from one call to the next; true once the bytes so far contain one.
 */
#define SFTP_INIT_SHAPE 5 /* bytes sftp_stream_starts_init needs to decide */
int sftp_stream_starts_init(const uint8_t *p, size_t n);
bool sftp_scan_init(unsigned *state, const uint8_t *p, size_t n);

/* The event as {"time": "...Z", "event": "sftp-open", "op": ..., "path": ...}; new
 * reference. Paths that are not UTF-8 are given as "path_hex". */
json_t *sftp_event_to_json(const struct sftp_event *ev);

#endif
