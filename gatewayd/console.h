/* console.h: the gateway's own commands over its SSH port, for logins without a target: a
 * person's access requests, an approver's and an auditor's console (docs/console.md). The
 * session process relays a person's or an approver's command to the listener, which carries it
 * out (console_serve.c); an auditor's it runs itself (console_auditor.c). */
#ifndef GW_CONSOLE_H
#define GW_CONSOLE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "policy/policy.h"

#define CONSOLE_INPUT_MAX  16384 /* standard input a command reads (an armored SSHSIG) */
#define CONSOLE_OUTPUT_MAX 65536 /* what one command prints; more is cut with a note */
#define REQUESTS_MAX       10000 /* request files read from the store */

struct relay;
struct session;
struct registry;
struct notary;

/* console.c, in the session process. */
/* An exec request on a channel of a login without a target: 0 when taken (the answer is the
 * channel's notice, once the command ran), or the relay's refusal. */
int console_exec(struct relay *r, const char *command);
/* Vendor bytes on a console channel that reads its input; returns what was taken. */
int console_input(struct relay *r, const void *data, size_t len);
/* Whether the channel's command still waits for its input to end; runs it when it has. */
bool console_waiting(struct relay *r);
void console_free(struct relay *r);
/* A watch stream the listener handed over with a command's answer: relayed to the channel
 * (console_watch.c). */
void console_watch_start(struct relay *r, int fd);
/* Whether the channel relays a watch; pumps what the stream has when the window allows. */
bool console_watch_pump(struct relay *r);
void console_watch_stop(struct relay *r); /* the channel goes: the stream is closed */
/* What a shell on a console login shows: the commands of the principal's role. */
char *console_help(const struct gw_person *principal);
/* Whether a command of the session still runs (a console login then stays). */
bool console_busy(struct session *s);

/* console_auditor.c, in an auditor's session process: gatewayctl's read-only commands (tools/)
 * in a child that inherits the session's sandbox (monitor_sandbox.c), scoped to the auditor's
 * vendors, their output streamed to the channel as its window allows, each audited. */
struct auditor_job;
/* Starts argv (argv[0] its name) for r; NULL when refused, with the exit status and why (the
 * refusal audited). */
struct auditor_job *console_auditor_start(
    struct relay *r, char **argv, size_t argc, int *status, char *why, size_t whylen);
/* Moves what the command printed to r's channel: true while it runs, then false with its exit
 * status (the event audited). */
bool console_auditor_pump(struct relay *r, struct auditor_job *j, int *status);
/* Kills the command (the auditor's ^C, the channel closing); pump then ends it. */
void console_auditor_stop(struct relay *r, struct auditor_job *j);
/* Kills a command still running, audits it, frees j. */
void console_auditor_free(struct relay *r, struct auditor_job *j);
void console_auditor_help(FILE *f);

/* console_serve.c, in the listener. */
/* Carries out the command of a session's "console" message for the principal it names and
 * answers {"type":"console","status":N,"out":TEXT,"err":TEXT}, with *pass_fd a descriptor to
 * send along (the caller closes it) or -1. The principal is the one the
 * session process authenticated (the listener cannot check that again, docs/privileges.md);
 * every command is held to that principal's role and scope, and audited. */
json_t *console_serve(const struct gw_config *cfg, struct notary *notary, struct registry *reg,
    const char *session_id, json_t *msg, int *pass_fd);
/* Whether verb reads standard input before it runs (approve). */
bool console_reads_input(const char *verb);

/* What a command of the listener's console table works with (console_*.c). */
struct console_ctx {
	const struct gw_config *cfg;
	struct notary *notary;
	struct registry *reg;
	const char *session_id;
	const struct gw_person *principal; /* a vendor's person or a role's (approver.NAME) */
	const char *input;                 /* standard input, for a command that reads it */
	size_t inlen;
	time_t now;
	FILE *out, *err; /* what the command prints, on the channel's stdout and stderr */
	int pass_fd;     /* a stream the answer hands to the session process (watch), or -1 */
};
struct console_cmd {
	const char *name; /* first word */
	enum gw_role role;
	bool input; /* reads standard input to its end before it runs */
	const char *usage;
	/* 0 or the exit status; errors printed to ctx->err */
	int (*exec)(struct console_ctx *ctx, char **argv, size_t argc);
};
/* The approver an approver's console login is (its principal's name in approvers). */
const struct gw_approver *console_approver(const struct console_ctx *ctx);
/* Appends an event to the audit log (the console's own, with the session id); -1 logged. */
int console_audit(struct console_ctx *ctx, const char *event, json_t *fields);
/* console_requests.c */
extern const struct console_cmd console_cmd_request, console_cmd_requests,
    console_cmd_approver_requests, console_cmd_approver_request, console_cmd_approve,
    console_cmd_deny;
/* console_control.c */
extern const struct console_cmd console_cmd_sessions, console_cmd_kill, console_cmd_vendor,
    console_cmd_ticket, console_cmd_watch;

/* requeststore.c, in the listener: <state_dir>/requests/ID.json. */
/* Names rq (rq->id: "req-YYYYMMDD-xxxxxx") and writes it. 0, or -1 with *error. */
int requeststore_create(const char *state_dir, struct gw_request *rq, char **error);
/* Writes rq; create: it must not exist yet. 0, or -1 with *error (caller frees). */
int requeststore_save(
    const char *state_dir, const struct gw_request *rq, bool create, char **error);
/* 0 with *out, or -1 (no such request, or a file that is not one: logged). */
int requeststore_load(const char *state_dir, const char *id, struct gw_request *out);
/* Every request (at most REQUESTS_MAX), oldest first; *out caller frees. -1 when the
 * directory cannot be read. */
int requeststore_list(const char *state_dir, struct gw_request **out, size_t *n);

#endif
