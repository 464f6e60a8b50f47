/* registry.h: the listener's live view of its session processes (who is connected, where
 * to, since when, bytes moved) and the caps and disabled vendors it admits sessions against.
 * Each session process reaches it over its link (registry_link.h), made at fork. */
#ifndef GW_REGISTRY_H
#define GW_REGISTRY_H

#include <jansson.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "policy/policy.h"

#define REGISTRY_DISABLED_FILE "disabled_vendors" /* in state_dir: one vendor id a line */

struct registry;
struct control_request;
struct guard;
struct notary;

/* Loads the disabled vendors from state_dir; NULL (error logged) when that file exists
 * but cannot be read: the listener then must not start (a disabled vendor stays out). */
struct registry *registry_new(const char *state_dir);
/* The store shared with other gateways (store.h): admissions take ticket uses and list
 * sessions there, vendor changes go there. Not owned. */
struct store;
void registry_set_store(struct registry *reg, struct store *st);
struct store *registry_store(const struct registry *reg); /* NULL: none set */
/* Closes every link. In a session process, drops what it inherited. NULL is fine. */
void registry_free(struct registry *reg);
/* Re-reads the disabled vendors (SIGHUP); keeps the old set when the file cannot be read. */
int registry_reload(struct registry *reg, const char *state_dir);
/* Names the session about to be forked: a fresh id into id (SESSION_ID_LEN + 1 bytes), sent on
 * fd, the listener's end of its link, with key_id (the seal key's id, which its recordings
 * name) before the fork, so that it waits there for the session
 * process (registry_link_new). The listener, not the session, chooses the name under which the
 * session's evidence is written. 0 or -1. */
int registry_greet(int fd, const char *key_id, char *id);
/* A session process forked, with the listener's end of its link (the registry owns it) and the
 * id registry_greet gave it. */
void registry_add(struct registry *reg, pid_t pid, int fd, const char *id);
/* The recordings of pid's session whose seal the notary signed (notary_book_sealed), asked
 * before registry_remove; NULL when none or no such session. */
char **registry_sealed(const struct registry *reg, pid_t pid);
/* A session process reaped (waitpid status): its recordings left unsealed are named in the
 * audit log, and its end when it died before writing it. */
void registry_remove(
    struct registry *reg, pid_t pid, int status, struct notary *notary, const char *audit_path);
size_t registry_nprocesses(const struct registry *reg);
void registry_signal_all(const struct registry *reg, int sig);
/* Hands every session process text, the configuration just applied, to decide again under;
 * one that cannot be given it is sent SIGHUP, which ends it (fail closed). */
void registry_send_config(const struct registry *reg, const char *text);
size_t registry_npollfds(const struct registry *reg);
void registry_pollfds(const struct registry *reg, struct pollfd *pfd);
/* Reads what the session processes reported and answers their admission requests against
 * cfg's max_sessions, the vendor's max_sessions, the disabled vendors and the ticket's
 * max_sessions (recording the use); answers their lockout requests from guard; orders the
 * largest of a vendor's sessions to end when together they recorded its max_recording_bytes.
 * Their audit events and checkpoints go to notary, which appends and signs them. */
void registry_handle(struct registry *reg, const struct pollfd *pfd, const struct gw_config *cfg,
    struct notary *notary, struct guard *guard);

/* The owners' actions (control.c). */
json_t *registry_list(const struct registry *reg); /* array of live session objects */
/* A session id or its prefix among sessions (registry_list's objects, or those of an
 * approver's scope): 0 with the whole id when exactly one matches; otherwise -1 and msg naming
 * the candidates (the matches, or every listed session when none matches), so that nothing
 * acts on a guess. id may be prefix. */
int registry_resolve_session(
    json_t *sessions, const char *prefix, char id[GW_ID_MAX + 1], char *msg, size_t msglen);
size_t registry_count_sessions(const struct registry *reg, const char *vendor);
/* Whether the owner disabled vendor (gatewayctl vendor disable). */
bool registry_vendor_disabled(const struct registry *reg, const char *vendor);
/* Orders every admitted session the request selects to end with message; reason goes into
 * its evidence. Returns how many were told. */
int registry_kill(struct registry *reg, const struct control_request *req, const char *message,
    const char *reason);
/* Each registry_kill is a round; a round's cuts are pending until each session told
 * confirmed its cut (registry_link_cut) or ended. */
unsigned registry_kill_round(const struct registry *reg); /* the last registry_kill's */
int registry_cuts_pending(const struct registry *reg, unsigned round);
/* Hands fd (a control client) to the session's process for a live view; the registry
 * closes its copy. -1 when no such session is live. */
int registry_watch(struct registry *reg, const char *session_id, int fd);
/* Persists the vendor's state in state_dir (atomically) and applies it to admissions.
 * Returns 0, 1 when it was already so, -1 with *error (caller frees). */
int registry_set_vendor_disabled(
    struct registry *reg, const char *state_dir, const char *vendor, bool disabled, char **error);

#endif
