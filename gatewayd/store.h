/* store.h: the state several gateways share (issue 19, docs/store.md): tickets and their
 * signatures, revocations, disabled vendors, ticket uses, requests, live sessions, lockouts and
 * the audit events. Two kinds: "files" (state_dir alone: one gateway, nothing to run) and
 * "postgresql". The listener alone holds a store; session processes never reach the database.
 *
 * With PostgreSQL the database is the truth and state_dir is this gateway's copy of it: the
 * listener writes what other gateways installed, revoked or requested into state_dir, where
 * the sandboxed session processes read it (and see a revocation through inotify, as when it is
 * made here), and sends what was made here to the database, announcing each change with NOTIFY.
 * Ticket uses are taken in the database by one conditional statement, so that gateways
 * admitting at the same instant cannot together exceed a ticket's max_sessions. */
#ifndef GW_STORE_H
#define GW_STORE_H

#include <jansson.h>
#include <poll.h>
#include <stdbool.h>
#include <time.h>

#include "policy/policy.h"

#define STORE_SCHEMA_VERSION 1
#define STORE_CHANNEL        "gatewayd" /* the NOTIFY channel every gateway listens on */

struct store;
struct registry;
struct guard;
struct notary;
struct control_request;

/* The listener's store for cfg: for "postgresql" it connects in the background (the listener
 * goes on; admissions are refused until it is up, or admitted on the cached state when
 * store_unavailable = "cached"). Never NULL. */
struct store *store_new(const struct gw_config *cfg);
/* Connects the store to the listener's parts: remote changes act on them. */
void store_attach(struct store *st, struct registry *reg, struct guard *guard,
    struct notary *notary, const char *audit_path);
/* A reload: a changed conninfo or gateway name reconnects. */
void store_reconfigure(struct store *st, const struct gw_config *cfg);
/* The listener's: closes the connection. NULL is fine. */
void store_free(struct store *st);
/* A forked child: frees its copy, without a word to the server on the listener's connection. */
void store_forget(struct store *st);

/* Whether this gateway shares its state (kind "postgresql"). */
bool store_is_shared(const struct store *st);
/* This gateway's name in the store; NULL for files. */
const char *store_gateway(const struct store *st);

/* The listener's poll: the descriptors it adds (0 to 2) and the time to wake it. */
size_t store_npollfds(const struct store *st);
void store_pollfds(const struct store *st, struct pollfd *pfd);
int store_timeout_ms(const struct store *st); /* -1: nothing timed */
/* Whatever the poll found, and the timers: connects, applies other gateways' changes, sends
 * this gateway's, ships the audit events. */
void store_handle(struct store *st, const struct pollfd *pfd);

/* ---- admission (registry.c) ---- */
enum store_take {
	STORE_TAKEN,       /* the use is counted: admit */
	STORE_USED_UP,     /* every use is taken (*used: how many) */
	STORE_UNAVAILABLE, /* the database cannot be reached: refuse (fail closed) */
	STORE_CACHED,      /* unreachable, but store_unavailable = "cached": decide on the files */
};
/* Takes one use of ticket (max 0: unlimited; local_used: the uses state_dir counted, the
 * floor of the shared count), and lists the session, in the shared store. For files:
 * STORE_CACHED always (the caller decides on state_dir). */
enum store_take store_admit(struct store *st, const json_t *session, const char *ticket,
    unsigned max, unsigned local_used, unsigned *used);
/* A listed session ended. */
void store_session_ended(struct store *st, const char *id);

/* ---- owners' actions (control.c, console) ---- */
/* The live sessions of the other gateways, each object as registry_list()'s with "gateway";
 * an empty array for files or when the database cannot be reached. */
json_t *store_sessions_elsewhere(struct store *st);
/* Asks gateway (NULL: every other gateway) to end the sessions req selects. Returns 0 when
 * the order went out, -1 when the database cannot be reached. */
int store_kill_elsewhere(struct store *st, const char *gateway, const struct control_request *req,
    const char *message, const char *reason);
/* This gateway's owner disabled or enabled vendor: every gateway applies it. */
void store_vendor_changed(struct store *st, const char *vendor, bool disabled);
/* A lockout began here (scope "source" or "person"): every gateway refuses key until then. */
void store_lockout(struct store *st, const char *scope, const char *key, time_t until);

/* store_schema.c: `gatewayd --migrate`: creates or upgrades the schema with admin_conninfo
 * (or conninfo) and the role gatewayd_gateway. 0, or -1 with err. */
int store_migrate(const struct gw_config *cfg, int *version, char *err, size_t errlen);

#endif
