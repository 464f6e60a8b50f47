/* verify.h: the auditor's check of a recording or an audit log against the gateway's
 * public recording key (docs/recording-format.md). Reads only; trusts nothing in the file. */
#ifndef GW_VERIFY_H
#define GW_VERIFY_H

#include "evidence/seal.h"

enum verdict_kind {
	VERDICT_INTACT,        /* every record covered by a valid signature, and sealed */
	VERDICT_TRUNCATED,     /* a valid prefix, then the end without a seal */
	VERDICT_TAMPERED,      /* record N was changed, inserted, deleted or moved */
	VERDICT_BAD_SIGNATURE, /* a signature does not verify with the key */
	VERDICT_UNKNOWN_KEY,   /* sealed by another key than the one given */
	VERDICT_UNREADABLE,    /* not a file we can open, or not ours at all */
	VERDICT_LIVE,          /* a valid prefix of a recording its session still writes */
};

struct verdict {
	enum verdict_kind kind;
	long record;           /* TAMPERED/BAD_SIGNATURE: the record (header = 0, audit: line);
	                        * TRUNCATED, LIVE: the last record of the intact prefix, -1 when
	                        * none */
	unsigned long records; /* records (lines) read */
	char checkpoint[SEAL_TIME_LEN];  /* time of the last valid checkpoint, "" if none */
	unsigned long signed_n;          /* records that checkpoint covers (its own index) */
	char signed_chain[SEAL_HEX_LEN]; /* and the chain head it signs, "" if none */
	char ended[SEAL_TIME_LEN];       /* from the seal */
	char reason[128];                /* why the session ended, from the seal */
	char detail[160];                /* what exactly did not match */
};

/* A session channel's asciicast recording, or a forwarded connection's pcapng one (told by the
 * file's first bytes; records are then the header JSON and the blocks). */
void verify_recording(const char *path, const struct sealkey *key, struct verdict *v);
void verify_audit_log(const char *path, const struct sealkey *key, struct verdict *v);
/* One audit line (line number i): its signature, then that it names prev (the SHA-256 of the
 * line before it); 0, or -1 with v set. Lets a slice of the log be checked without the rest. */
int verify_audit_line(long i, const char *line, size_t len, const unsigned char prev[SEAL_HASH_LEN],
    const struct sealkey *key, struct verdict *v);
/* One line for the auditor: "intact", "truncated ...", "tampered at record N ...". */
void verdict_format(const struct verdict *v, char *out, size_t len);
/* One word: "intact", "truncated", "tampered", "bad-signature", "unknown-key", "unreadable",
 * "live". */
const char *verdict_kind_name(enum verdict_kind kind);

#endif
