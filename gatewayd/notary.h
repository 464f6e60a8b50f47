/* notary.h: the listener as notary: in a running gatewayd, the only holder of the seal key and
 * the only appender of the audit log. Session processes ask it over their links (registry.c)
 * to append their audit events and to sign their recordings' checkpoints. */
#ifndef GW_NOTARY_H
#define GW_NOTARY_H

#include <jansson.h>

#include "evidence/recorder.h"
#include "evidence/seal.h"

struct notary;
/* One session's recordings: the checkpoint the notary signed last for each. */
struct notary_book;

/* Takes key (a private seal key). */
struct notary *notary_new(struct sealkey *key);
/* Closes the log and frees the key, its private half wiped. Also what a forked session process
 * does first with its copy. NULL is fine. */
void notary_free(struct notary *n);
/* The seal key's id (sealkey_id), which every recording names. */
const char *notary_key_id(const struct notary *n);

/* Appends one event to the audit log at path (opened once, reopened when path changes or the
 * log was rotated): chained, signed, stamped with the notary's time. Steals fields. 0, or -1
 * with errno: the caller refuses or ends what it audits (fail closed). */
int notary_audit(struct notary *n, const char *path, const char *event, json_t *fields);

/* Called after each event notary_audit() appended, with the event's name and its line as
 * appended (signature included, no newline), never for one that failed: what is observed is
 * what the evidence holds. line is valid until the next notary_audit(). One observer; fn
 * NULL: none. */
typedef void (*notary_observer_fn)(void *arg, const char *event, const char *line);
void notary_set_observer(struct notary *n, notary_observer_fn fn, void *arg);

/* Signs an evidence bundle's MANIFEST (tools/bundle.h: its prefix, then text) that principal, an
 * auditor, exports over the console of session; only ever that message, so no checkpoint or
 * audit line can be made of it. "bundle_signed" (the MANIFEST's SHA-256) goes to the audit log at
 * audit_path first: no bundle carries a signature the log does not show. 0, or -1 logged. */
int notary_sign_bundle(struct notary *n, const char *audit_path, const char *session,
    const char *principal, const char *text, char sig[SEAL_SIG_B64_LEN]);

/* The book of the session session_id (32 hex, named by the listener). */
struct notary_book *notary_book_new(const char *session_id);
/* The session process is gone: each of its recordings not sealed gets a "recording_unsealed"
 * event in the audit log at audit_path (how far the notary signed it), then b is freed. */
void notary_book_close(struct notary *n, const char *audit_path, struct notary_book *b);
void notary_book_free(struct notary_book *b);
/* The names ("<session_id>.<channel>.cast", tunnels' pcapngs left out) of b's recordings whose
 * seal it signed, NULL
 * terminated, or NULL when none; free with recpack_names_free. */
char **notary_book_sealed(const struct notary_book *b);
/* The seal key, for what the listener checks itself (recpack.c verifies with its public half
 * before it replaces a recording by its compressed form). */
const struct sealkey *notary_seal_key(const struct notary *n);
/* Signs req for the session of book b, at the notary's own time (time_out), only as an
 * extension of what it signed last for that recording (see notary.c), and logs the head it
 * signed (the anchor a site's log collector keeps). The seal's checkpoint (req->final) also
 * goes to the audit log at audit_path as "recording_sealed", and closes the recording to
 * further signatures. 0, or -1 when refused (logged) or the key fails. */
int notary_sign(struct notary *n, struct notary_book *b, const struct checkpoint_req *req,
    const char *audit_path, char sig[SEAL_SIG_B64_LEN], char time_out[SEAL_TIME_LEN]);

#endif
