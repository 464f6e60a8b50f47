/* guard.h: pre-authentication limits: the cap on unauthenticated connections (max_startups)
 * and failed-attempt counting per source address and per person, with growing delays and
 * temporary lockouts. The arithmetic is pure; the table is shared by listener and sessions. */
#ifndef GW_GUARD_H
#define GW_GUARD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "policy/policy.h"

/* ---- pure arithmetic: a function of (state, limits, now, event) ---- */

/* Failures of one source or one person. All zero: never failed. */
struct guard_count {
	uint32_t failures;    /* in the current window */
	int64_t window_start; /* first failure of the window; 0: no window open */
	int64_t locked_until; /* 0 or when the lockout ends */
};

/* Whether a new connection is dropped with unauth connections already waiting to
 * authenticate; rnd is uniform in 0..99. */
bool guard_startups_drop(const struct gw_startups *m, unsigned unauth, unsigned rnd);
bool guard_count_locked(const struct guard_count *c, time_t now);
/* Counts one failure against limit (0: never lock); true when it starts a lockout. Failures
 * while locked are not counted: the lockout is not extended by them. */
bool guard_count_fail(struct guard_count *c, int limit, const struct gw_lockout *l, time_t now);
/* Takes back n failures (a later success of the same person on the same connection). */
void guard_count_forgive(struct guard_count *c, unsigned n);
/* How long a connection waits after its failure number `failures` of the window. */
unsigned guard_delay_ms(const struct gw_lockout *l, unsigned failures);

/* ---- the table shared by the listener and every session process ---- */

struct guard;

enum guard_admit {
	GUARD_ADMIT,         /* a startup slot is reserved: call guard_forked() next */
	GUARD_DROP_LOCKED,   /* the source is locked out */
	GUARD_DROP_STARTUPS, /* too many unauthenticated connections (max_startups) */
};

/* What one failure did; delay_ms is for the failing connection to wait. */
struct guard_failure {
	unsigned delay_ms;
	bool source_locked, person_locked;         /* this failure started the lockout */
	unsigned source_failures, person_failures; /* counted, before a lockout reset them */
	time_t until;                              /* when a lockout started here ends */
};

#define GUARD_SOURCE_LEN 64 /* a source address as text */

/* The peer of a connected socket as text ("192.0.2.7", "2001:db8::7"), the key of the
 * per-source counts; port may be NULL. Returns 0, or -1 for a peer without an address. */
int guard_source_name(int fd, char out[GUARD_SOURCE_LEN], int *port);

/* Created by the listener before the first fork (MAP_SHARED); NULL on failure. */
struct guard *guard_new(void);
void guard_free(struct guard *g);

/* Listener, before forking: refuses a locked source or a connection past max_startups. */
enum guard_admit guard_admit(
    struct guard *g, const struct gw_config *cfg, const char *source, time_t now);
/* Listener, after fork(): the child's pid, or -1 when the fork failed (slot released). */
void guard_forked(struct guard *g, pid_t pid);
/* Listener, after waitpid(): the child no longer holds a startup slot. */
void guard_reaped(struct guard *g, pid_t pid);
/* Number of connections waiting to authenticate. */
unsigned guard_unauthenticated(struct guard *g);

/* Session process. person may be "" (not known yet: only the source counts). */
bool guard_locked(struct guard *g, const char *source, const char *person, time_t now);
void guard_record_failure(struct guard *g, const struct gw_config *cfg, const char *source,
    const char *person, time_t now, struct guard_failure *out);
/* The connection authenticated: frees its startup slot and takes back its own failures for
 * that person (typos and agent keys tried first do not lock out a person who gets in). */
void guard_authenticated(struct guard *g, const char *source, const char *person);

/* Session process, from the authentication methods (s->uname.person "" when the user name
 * was malformed). Whether s's source or person is locked out: refuse exactly like a wrong
 * key then, so a lockout is no oracle. */
struct session;
bool guard_session_locked(struct session *s);
/* Counts one failed attempt of s, audits a lockout it starts, and makes the connection
 * wait its growing delay. */
void guard_session_failure(struct session *s);

#endif
