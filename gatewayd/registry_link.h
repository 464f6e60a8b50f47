/* registry_link.h: a session process's end of its link to the listener's registry
 * (registry.h): a SOCK_SEQPACKET socketpair made at fork, over which it learns its id, asks to
 * be admitted, has the listener (the notary) append its audit events and sign its recordings'
 * checkpoints, reports its byte counters and takes the owner's orders (kill, watch). */
#ifndef GW_REGISTRY_LINK_H
#define GW_REGISTRY_LINK_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "evidence/recorder.h"

struct registry_link;

/* What the session process reports once authenticated and allowed by policy. */
struct registry_session {
	const char *id, *person, *vendor, *target;
	const char *ticket; /* "" when none */
	const char *source; /* client address */
	int port;
	time_t started, ends_at;
};

/* Takes fd (-1 gives a NULL link) and reads the id the listener named the session with. */
struct registry_link *registry_link_new(int fd);
/* That id (SESSION_ID_LEN hex); NULL without a link or when the listener named none. */
const char *registry_link_id(const struct registry_link *link);
/* Has the listener append event with fields (stolen) to the audit log, and waits for its
 * answer (at most 5 s; orders arriving meanwhile are kept as registry_link_read keeps them).
 * 0: written; -1: not written, or no answer (the caller fails closed). */
int registry_link_audit(struct registry_link *link, const char *event, json_t *fields);
/* The signer of the session's recordings: each checkpoint is a round trip to the listener,
 * which signs as notary (gatewayd/notary.c). Valid while link lives. */
const struct recorder_signer *registry_link_signer(struct registry_link *link);
/* Has the listener (the notary) sign an evidence bundle's MANIFEST text that principal, an
 * auditor, exports (notary_sign_bundle). 0 with sig, or -1 (refused, or no answer). */
int registry_link_sign_bundle(struct registry_link *link, const char *principal,
    const char *manifest, char sig[SEAL_SIG_B64_LEN]);
/* Says goodbye to the listener and every watcher (with why it ended); NULL is fine. */
void registry_link_free(struct registry_link *link, const char *end_reason);
int registry_link_fd(const struct registry_link *link);
/* Whether the listener closed its end (stopped): stop polling the link; sessions go on. */
bool registry_link_lost(const struct registry_link *link);
/* Has the listener create the session's recording of channel (O_EXCL, 0600, in its
 * recording_dir, named for the session's id; a tunnel's pcapng when pcapng): its write-only
 * descriptor, with its path in *path (caller frees); -1 with errno (EIO without an answer). */
int registry_link_open_recording(
    struct registry_link *link, unsigned channel, bool pcapng, char **path);
/* Sends msg (stolen) to the listener without waiting. 0, or -1 (no link, lost, full). */
int registry_link_send(struct registry_link *link, json_t *msg);
/* A bounded round trip: sends request (stolen; its "type" names the answer awaited) and
 * waits for the listener's answer of that type, taking the orders that come meanwhile.
 * 0 with *answer (caller frees); -1 without a link, when the listener is gone or did not
 * answer in time: the caller fails closed. passed (may be NULL: then closed) gets the
 * descriptor the answer carried, or -1. */
int registry_link_call(struct registry_link *link, json_t *request, json_t **answer, int *passed);
/* Asks the listener whether the owner disabled vendor: 1 yes, 0 no (also without a link: no
 * listener, no disabled list), -1 when the listener did not answer. */
int registry_link_vendor_disabled(struct registry_link *link, const char *vendor);
/* Asks the listener to admit the session. 0: admitted (also without a link, unless it uses a
 * ticket); -1: refused, with the vendor's text in why and the audit's reason name and detail.
 * With a ticket, the listener also counts and records the session's use of it (reason
 * "ticket_used_up" when the ticket has none left). */
int registry_link_admit(struct registry_link *link, const struct registry_session *info, char *why,
    size_t whylen, char *reason, size_t reasonlen, char *detail, size_t detaillen);
/* Takes the listener's orders (kill, watch); called when the link is readable. */
void registry_link_read(struct registry_link *link);
/* The configuration text of the listener's latest reload, once: 1 with *text (caller frees),
 * 0 when no reload came since, -1 when one came whose text could not be read. */
int registry_link_take_config(struct registry_link *link, char **text);
/* Whether the owner ordered this session ended; then the vendor's message and the reason. */
bool registry_link_killed(
    const struct registry_link *link, const char **message, const char **reason);
/* Tells the listener the session is cut (nothing more is relayed): the owner's order, if
 * any, has taken effect. Once per session. */
void registry_link_cut(struct registry_link *link, const char *reason);
/* Counts bytes forwarded; output to the vendor also goes to the watchers. */
void registry_link_data(struct registry_link *link, bool to_target, const void *buf, size_t len);
/* A tunnel's bytes, counted with the session's (never streamed to watchers), and how many
 * tunnels are open and how many packets they recorded: listed by `sessions`, shown by `watch`
 * every REGISTRY_BYTES_EVERY seconds while they change. */
void registry_link_tunnel_data(struct registry_link *link, bool to_dest, size_t len);
void registry_link_tunnels(struct registry_link *link, unsigned open, unsigned long long packets);
/* The size of the session's recordings, reported with the byte counters: the listener holds
 * a vendor's sessions together to its max_recording_bytes. */
void registry_link_recorded(struct registry_link *link, unsigned long long bytes);
/* Reports the byte counters when due and pushes what watchers have not taken yet. */
void registry_link_tick(struct registry_link *link);
/* Milliseconds until registry_link_tick has something to do; -1: nothing. */
int registry_link_timeout(const struct registry_link *link);

#endif
