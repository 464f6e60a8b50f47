/* recchain.h: the hash chain of a recording being written, the requests that get its
 * checkpoints signed and its file's writes, shared by the asciicast and pcapng recorders. */
#ifndef GW_RECCHAIN_H
#define GW_RECCHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "evidence/recorder.h"
#include "evidence/seal.h"

/* One recording's chain: c(nrecords - 1), the digests a notary needs for the next checkpoint
 * and what it signed last. Zeroed, then recchain_init. */
struct rec_chain {
	struct recorder_signer signer;
	const char *name; /* the file's name, borrowed from its owner's path */
	unsigned long nrecords;
	unsigned char chain[SEAL_HASH_LEN];
	char signed_chain[SEAL_HEX_LEN]; /* the chain head signed last: "prev" of the next */
	char *header;                    /* record 0, until the first signature */
	size_t header_len;
	unsigned char carried[SEAL_HASH_LEN]; /* digest of the checkpoint record after that one */
	bool has_carried;
	unsigned char (*listed)[SEAL_HASH_LEN]; /* digests since the last checkpoint */
	size_t nlisted, listed_cap;
	time_t pending_since; /* when the oldest listed record came, 0 when none */
};

/* path: the file's path (its last component names the recording to the notary); both path and
 * signer's ctx must outlive the chain. header (record 0) is kept until the first signature. */
void recchain_init(struct rec_chain *c, const char *path, const struct recorder_signer *signer,
    const void *header, size_t header_len);
void recchain_free(struct rec_chain *c);
/* Chains one record. A listed record is covered by the next checkpoint's list; one that is not
 * is a checkpoint record, whose digest the next request carries instead. */
void recchain_add(struct rec_chain *c, const void *rec, size_t len, bool listed);
/* Asks the signer for a checkpoint over the listed records, at chain head c(nrecords - 1):
 * chain (its hex), sig and time are filled. stamp is the checkpoint record's own time as it
 * will be written, final a seal's checkpoint. 0, or -1 when the signer refused (errno EIO).
 * The listed digests stay for the caller's record (recchain_listed_json) until
 * recchain_clear_listed. */
int recchain_sign(struct rec_chain *c, const char *stamp, bool final, char chain[SEAL_HEX_LEN],
    char sig[SEAL_SIG_B64_LEN], char time[SEAL_TIME_LEN]);
/* The listed digests as a JSON array of hex strings. */
json_t *recchain_listed_json(const struct rec_chain *c);
void recchain_clear_listed(struct rec_chain *c);

/* The exclusive flock a recorder holds on its file until it lets go: what verify reports as
 * "live" (a crashed process's lock goes with it). 0, or -1 with errno. */
int recchain_lock(int fd);

/* A recording file as its owner writes it. Zeroed, then fd set. */
struct rec_file {
	int fd;
	unsigned long long written; /* bytes written so far */
	unsigned long long handed;  /* bytes before this were handed to the disk (writeback) */
};
/* Writes all len bytes, retrying short writes and EINTR: 0, or -1 with errno (EIO when the file
 * takes no more bytes without saying why). A recording's blocks or lines go whole. Every
 * RECCHAIN_WINDOW bytes it starts their writeback and lets the window before go from the page
 * cache: a recording is written once and seldom read, so a long or flooding session keeps
 * neither a growing pile of dirty pages (which throttles every writer of the disk) nor a cache
 * that evicts what the machine uses; and the pages let go are the next ones written, which on
 * this project's VM cost a fraction of fresh ones (the write was 45 % of a bulk monitor). */
#define RECCHAIN_WINDOW (4ULL * 1024 * 1024)
int recchain_write_file(struct rec_file *f, const void *buf, size_t len);

/* Whether id is a session id a file may be named after: 1 to 64 hex digits. */
bool recchain_id_is_hex(const char *id);
/* Creates DIR/<session_id>.<channel><suffix> exclusively (O_EXCL, 0600, write-only): its
 * descriptor, with the path in *path (caller frees), or -1 with errno and *path NULL. */
int recchain_create_file(
    const char *dir, const char *session_id, unsigned channel, const char *suffix, char **path);

/* key = s, or key_base64 = base64(s) when s is not UTF-8; nothing when s is NULL. */
void recchain_json_set_string(json_t *obj, const char *key, const char *s);

#endif
