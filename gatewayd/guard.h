/* guard.h: pre-authentication limits: the caps on unauthenticated connections (max_startups,
 * per_source), the login grace time, and failed-attempt counting per source and per person,
 * with growing delays, penalties and lockouts. The arithmetic is pure; the table is the
 * listener's alone, and session processes reach it only through their registry link. */
#ifndef GW_GUARD_H
#define GW_GUARD_H

#include <jansson.h>
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
/* Adds a penalty of seconds to a source's refusal (which starts now when none runs), the
 * whole held to at most max seconds from now. */
void guard_count_penalise(struct guard_count *c, int seconds, int max, time_t now);

#define GUARD_SOURCE_LEN 64 /* a source address as text */
#define GUARD_KEY_LEN    72 /* a source's key ("2001:db8:1:2::/64") or a person id, with NUL */

/* The key a source address is counted under: the address with per_source's prefix applied
 * ("192.0.2.7" for /32, "2001:db8:1:2::/64"). Returns true when the address is exempt
 * (per_source.exempt): such a source is never capped, penalised or locked out, and only its
 * persons count. An address that does not parse is its own key. */
bool guard_source_key(const struct gw_per_source *ps, const char *addr, char out[GUARD_KEY_LEN]);

/* ---- the listener's table (no other process has it) ---- */

struct guard;

enum guard_admit {
	GUARD_ADMIT,         /* a startup slot is reserved: call guard_forked() next */
	GUARD_DROP_LOCKED,   /* the source is locked out */
	GUARD_DROP_STARTUPS, /* too many unauthenticated connections (max_startups) */
	GUARD_DROP_SOURCE,   /* the source holds per_source.max_startups of them */
};

/* What one failure did; delay_ms is for the failing connection to wait. */
struct guard_failure {
	unsigned delay_ms;
	bool source_locked, person_locked;         /* this failure started the lockout */
	unsigned source_failures, person_failures; /* counted, before a lockout reset them */
	time_t until;                              /* when a lockout started here ends */
	bool source_refused; /* the source was locked out before: end the connection */
};

#define GUARD_SESSION_LEN 40 /* a session id with NUL */

/* A connection that did not authenticate within login_grace_time, ended by the listener. */
struct guard_expired {
	pid_t pid;
	char addr[GUARD_SOURCE_LEN];     /* the client's address */
	char key[GUARD_KEY_LEN];         /* its source */
	char session[GUARD_SESSION_LEN]; /* "" when the process had not said it yet */
	int port;
	time_t refused_until; /* the source's penalty, 0: none */
};

/* The peer of a connected socket as text ("192.0.2.7", "2001:db8::7"), the key of the
 * per-source counts; port may be NULL. Returns 0, or -1 for a peer without an address. */
int guard_source_name(int fd, char out[GUARD_SOURCE_LEN], int *port);

/* The listener's, private: a forked process must not use its copy (guard_free it). */
struct guard *guard_new(void);
void guard_free(struct guard *g);

/* Listener, before forking: refuses a locked source or a connection past max_startups.
 * source and port are the accepted peer's: the connection's requests are counted against
 * them, never against what its process says. */
enum guard_admit guard_admit(
    struct guard *g, const struct gw_config *cfg, const char *source, int port, time_t now);
/* Listener, after fork(): the child's pid, or -1 when the fork failed (slot released). */
void guard_forked(struct guard *g, pid_t pid);
/* Listener, after waitpid(): the child no longer holds a startup slot. */
void guard_reaped(struct guard *g, pid_t pid);
/* Number of connections waiting to authenticate. */
unsigned guard_unauthenticated(struct guard *g);
/* Listener: ends (SIGKILL) each session process that has not authenticated login_grace_time
 * after it was accepted, frees its slot and adds per_source.grace_penalty to its source;
 * describes at most max of them in out (for their audit events) and returns how many. The
 * listener does it, not a signal handler in the session, so that each is an audit event. */
size_t guard_expire(
    struct guard *g, const struct gw_config *cfg, struct guard_expired *out, size_t max);
/* Listener: milliseconds until guard_expire() has something to do; -1: nothing waits. */
int guard_expire_due_ms(struct guard *g, const struct gw_config *cfg);

/* A lockout begun here, shared with the other gateways of a store (store.h). */
#define GUARD_BEGUN_MAX 64
struct guard_lockout {
	char scope[8]; /* "source" or "person" */
	char key[GUARD_KEY_LEN];
	time_t until;
};
/* Listener: the lockouts begun since the last call (at most max, oldest first). */
size_t guard_take_lockouts(struct guard *g, struct guard_lockout *out, size_t max);
/* Listener: another gateway locked scope's key out until then; true when that is news here. */
bool guard_impose(struct guard *g, const char *scope, const char *key, time_t until);

/* source is a source key (guard_source_key()), "" for none; person may be "" (not known
 * yet: only the source counts). */
bool guard_locked(struct guard *g, const char *source, const char *person, time_t now);
/* One failure of source (an address) and person, outside any connection's own count. */
void guard_record_failure(struct guard *g, const struct gw_config *cfg, const char *source,
    const char *person, time_t now, struct guard_failure *out);

/* Listener, for the session process pid (its startup slot: from accept until it
 * authenticates or ends). The source is always the one recorded at accept. A pid with no
 * slot (authenticated already, expired, unknown) is locked and its failure ends it. */
void guard_conn_begin(struct guard *g, pid_t pid, const char *session); /* for the logs */
bool guard_conn_locked(
    struct guard *g, const struct gw_config *cfg, pid_t pid, const char *person, time_t now);
/* One more failure (the only way a count grows); the delay for the process to wait. */
void guard_conn_failure(struct guard *g, const struct gw_config *cfg, pid_t pid, const char *person,
    time_t now, struct guard_failure *out);
/* The connection authenticated as person: frees its startup slot and takes back the
 * failures this connection itself counted for that person (and its source), none else. */
void guard_conn_authenticated(
    struct guard *g, const struct gw_config *cfg, pid_t pid, const char *person);
/* Listener: answers a session process's "guard_*" request from its link (registry.c);
 * NULL when it wants no answer. */
json_t *guard_answer(struct guard *g, const struct gw_config *cfg, pid_t pid, json_t *msg);

/* Session process, from the authentication methods (s->uname.person "" when the user name
 * was malformed), each a round trip to the listener over s->link. Whether s's source or
 * person is locked out (no answer: locked): refuse exactly like a wrong key then, so a
 * lockout is no oracle. */
struct session;
bool guard_session_locked(struct session *s);
/* Counts one failed attempt of s and audits a lockout it starts. Returns true when s's source
 * was locked out before this attempt (or the listener did not answer): the connection is to
 * be closed, its attempts count against nobody. Otherwise makes the connection wait the
 * growing delay the listener computed and returns false. */
bool guard_session_failure(struct session *s);
/* Session process, at its start: its id goes into its startup slot, for the listener's
 * login_timeout event. */
void guard_session_begin(struct session *s);
/* Session process: s authenticated (guard_conn_authenticated() in the listener), answered
 * before it goes on. */
void guard_session_authenticated(struct session *s);

#endif
