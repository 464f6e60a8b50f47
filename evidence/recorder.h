/* recorder.h: the recording of one session channel (R7, R8, R9): an asciicast v2 file
 * of every byte forwarded, in order, with timestamps. A failed write is never ignored. */
#ifndef GW_RECORDER_H
#define GW_RECORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "evidence/seal.h"

/* Who, from where, what: written into the asciicast header. Strings are borrowed
 * for the duration of recorder_open() only. NULL members are left out. */
struct recording_meta {
	const char *session_id; /* the connection's id, 32 hex */
	unsigned channel;       /* 0, 1, ... within the connection */
	const char *person;
	const char *vendor;
	const char *target;
	const char *target_user;
	const char *client_addr;
	int client_port;
	const char *key_fp;    /* SHA256:... of the person's key */
	const char *ticket_id; /* the approval ticket the session runs under */
	const char *approvers; /* who signed that ticket: names, comma-separated */
	const char *kind;      /* "shell", "exec" or "sftp" */
	const char *command;   /* exec command, "sftp" for the subsystem; NULL for a shell */
	const char *term;      /* TERM from pty-req; NULL without a pty */
	int width, height;     /* from pty-req; 80x24 without a pty */
	time_t started;
};

struct recording;
struct sealkey;

/* A comma-separated list of names ("lead-a,ot-sec") as a new JSON array; NULL is []. */
json_t *recorder_names_array(const char *list);

/* What a checkpoint's signature covers, and what a notary needs to judge the request. The
 * signed message is REC_SIGNED_PREFIX "n\ntime\nchain\nstamp\n" (recorder_checkpoint_sign);
 * the time is the signer's, not the recorder's. */
struct checkpoint_req {
	const char *recording; /* the file's name, "<session_id>.<channel>.cast" */
	unsigned long n;       /* records covered: the chain head is c(n - 1) */
	const char *chain;     /* hex of c(n - 1) */
	const char *prev;  /* hex of the chain head signed last for this file; "" the first time */
	const char *stamp; /* the checkpoint line's elapsed seconds, as written */
	/* What lets a notary compute the chain instead of taking it: the digests of the records
	 * since the head signed last (the first time, from the header on), and the first time
	 * the header line itself, whose session and channel it checks. */
	const unsigned char (*records)[SEAL_HASH_LEN];
	size_t nrecords;
	const char *header; /* NULL after the first signature */
	size_t header_len;
	bool final; /* the seal's checkpoint: nothing follows it */
};

/* Who signs a recording's checkpoints: a key in this process (recorder_signer_local), or, in a
 * session process, the listener acting as notary (registry_link.h). sign fills sig and the
 * signer's time and returns 0, or -1 when it refuses or cannot answer. */
struct recorder_signer {
	const char *key_id; /* sealkey_id() of the signing key: written into the header */
	int (*sign)(void *ctx, const struct checkpoint_req *req, char sig[SEAL_SIG_B64_LEN],
	    char time_out[SEAL_TIME_LEN]);
	void *ctx;
};

/* A signer with key in this process (gatewayctl, tests, the listener's notary); it signs
 * whatever it is asked, at its own current time. key must outlive the signer. */
struct recorder_signer recorder_signer_local(const struct sealkey *key);
/* Signs req's message with key at time (the one format verify.c checks); 0 or -1. */
int recorder_checkpoint_sign(const struct sealkey *key, const struct checkpoint_req *req,
    const char *time, char sig[SEAL_SIG_B64_LEN]);

/* Creates DIR/<session_id>.<channel>.cast exclusively (O_EXCL, 0600, write-only), the one
 * place a recording's name is made: its descriptor, with the path in *path (caller frees), or
 * -1 with errno and *path NULL. */
int recorder_create_file(const char *dir, const char *session_id, unsigned channel, char **path);
/* The same (recorder_create_file), then holds an exclusive
 * flock on it until recorder_free (what verify reports as "live"), and writes the header. signer
 * (copied) signs the checkpoints; its ctx must outlive the recording. Returns NULL and sets errno
 * on failure; nothing is created then. */
struct recording *recorder_open(
    const char *dir, const struct recording_meta *meta, const struct recorder_signer *signer);
/* The same on fd (taken: closed on failure too), a new empty file at path created by someone
 * else (gatewayd's listener, for a session process that cannot open the directory). On
 * failure the file stays, empty or with part of its header. */
struct recording *recorder_open_fd(int fd, const char *path, const struct recording_meta *meta,
    const struct recorder_signer *signer);
/* The path of the file; owned by the recording. */
const char *recorder_path(const struct recording *rec);
/* Bytes of the file so far (what a quota counts); bytes waiting in memory not included. */
unsigned long long recorder_size(const struct recording *rec);

/* Events, timestamped now. Bytes need not be UTF-8: the recorder keeps them exactly.
 * Each returns 0, or -1 with errno when the recording can no longer be trusted;
 * the caller then ends the channel (fail closed). The file grows by at most about 1.4
 * bytes per recorded byte plus a small allowance over time: bytes the budget does not
 * afford at once wait in memory (at most 64 KiB per stream, at most until the next flush)
 * and join the next bytes of their stream in one event. */
int recorder_write_output(struct recording *rec, const void *buf, size_t len); /* "o" */
int recorder_write_stderr(struct recording *rec, const void *buf, size_t len); /* stderr */
int recorder_write_input(struct recording *rec, const void *buf, size_t len);  /* "i" */
/* "r"; a size that waits for the budget is replaced by the next one asked for. */
int recorder_write_resize(struct recording *rec, int width, int height);
/* A note in the recording (warning shown, signal sent, exit status, ...). */
int recorder_write_note(struct recording *rec, const char *text);

/* Signs a checkpoint over the events since the last one and pushes them to the disk;
 * called at least once a second while the session is active (when pending_since is a
 * second old), so a crash loses at most the last second. */
int recorder_flush(struct recording *rec);
/* Time of the oldest event not yet flushed, 0 when none; lets the caller poll
 * with a timeout instead of waking every second when idle. */
time_t recorder_pending_since(const struct recording *rec);

/* Writes the end record (end time, why the session ended, exit status if any),
 * flushes and fsyncs. Returns 0 or -1 with errno. */
int recorder_seal(struct recording *rec, const char *end_reason);
/* Closes and frees; NULL is fine. An unsealed recording stays truncated. */
void recorder_free(struct recording *rec);

#endif
