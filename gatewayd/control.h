/* control.h: the owners' control socket (R12): its line-based JSON protocol (one request,
 * one reply) and the server the listener runs. Only root, the daemon's own user and members
 * of admin_group are served (SO_PEERCRED). */
#ifndef GW_CONTROL_H
#define GW_CONTROL_H

#include <poll.h>
#include <stddef.h>

#include "policy/policy.h"

#define CONTROL_REQUEST_MAX 1024 /* bytes of one request line, newline included */
#define CONTROL_REASON_MAX  100  /* bytes of a kill's reason, NUL included */

enum control_op {
	CONTROL_SESSIONS, /* {"cmd":"sessions"} */
	CONTROL_KILL, /* {"cmd":"kill","session"|"vendor"|"person"|"ticket":NAME[,"reason":TEXT]};
	               * "session" may be a prefix of the id, resolved by the listener */
	CONTROL_VENDOR_DISABLE, /* {"cmd":"vendor_disable","vendor":V} */
	CONTROL_VENDOR_ENABLE,  /* {"cmd":"vendor_enable","vendor":V} */
	CONTROL_WATCH,          /* {"cmd":"watch","session":ID}: then a stream of lines */
	CONTROL_RELOAD,         /* {"cmd":"reload"}: answered with the result, errors included */
	CONTROL_VENDORS,        /* {"cmd":"vendors"}: each configured vendor's state, sessions */
};

enum control_selector {
	CONTROL_BY_NONE,
	CONTROL_BY_SESSION, /* name is a session id: 32 lower-case hex digits (a prefix for kill) */
	CONTROL_BY_VENDOR,  /* name is a vendor id */
	CONTROL_BY_PERSON,  /* name is a person id */
	CONTROL_BY_TICKET,  /* name is a ticket id: the sessions it approved (it was revoked) */
};

struct control_request {
	enum control_op op;
	enum control_selector by;
	char name[GW_ID_MAX + 1];
	char reason[CONTROL_REASON_MAX]; /* the owner's words for a kill; "" when none given */
};

/* controlproto.c: parses one request (without or with its trailing newline) from untrusted
 * bytes. Pure: no I/O, no global state. Returns 0, or -1 with a short reason in err. */
int control_parse_request(
    const char *buf, size_t len, struct control_request *out, char *err, size_t errlen);
const char *control_op_name(enum control_op op);
const char *control_selector_name(enum control_selector by);
/* The selector a name ("session", "vendor", "person", "ticket") stands for; false when none. */
bool control_selector_from_name(const char *name, enum control_selector *by);
/* Whether v names what by selects: a session id (or, with session_prefix, a prefix of one),
 * a ticket id, a vendor's or person's id. */
bool control_name_is_valid(enum control_selector by, const char *v, bool session_prefix);
/* Whether s is a session id (what session.c makes), or 1 to all of its digits. */
bool control_session_id_is_valid(const char *s);
bool control_session_prefix_is_valid(const char *s);

struct control;
struct registry;
struct notary;

/* control.c: creates the socket (mode 0660, group admin_group); NULL when it cannot. */
struct control *control_open(const struct gw_config *cfg);
/* A reload's admin_group: the socket's group and the peers served change together. 0, or -1
 * with *error (caller frees) and nothing changed. */
int control_set_admin_group(struct control *c, const struct gw_config *cfg, char **error);
/* Closes the socket and its clients; removes the socket file only in the process that
 * made it (a session process just drops its inherited descriptors). NULL is fine. */
void control_free(struct control *c);
size_t control_npollfds(const struct control *c);
void control_pollfds(const struct control *c, struct pollfd *pfd);
/* Serves what the poll found; cfg and notary (the one audit appender) for the events of every
 * action. A kill is answered once every session told has confirmed its cut (or ended), at most
 * CONTROL_CUT_WAIT_MS after the order. */
void control_handle(struct control *c, const struct pollfd *pfd, struct registry *reg,
    const struct gw_config *cfg, struct notary *notary);
/* Milliseconds until control_handle must run again for a kill still waiting; -1: none. */
int control_timeout(const struct control *c);
/* Whether a client asked for a reload: the listener reloads, then answers with
 * control_reload_done (ok, or the errors naming file:line; sessions re-deciding). */
bool control_reload_wanted(const struct control *c);
void control_reload_done(struct control *c, bool ok, const char *errors, size_t sessions);

#endif
