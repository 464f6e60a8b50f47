/* console_serve.c: the listener's side of the console: the table of commands per role, the
 * checks every console message passes (bounded words, a configured principal) and the audit
 * event of each command. Commands never block: they read and write small state files. */
#include "gatewayd/console.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "gatewayd/audit.h"
#include "gatewayd/notary.h"

static const struct console_cmd *const console_cmds[] = {
	&console_cmd_request,
	&console_cmd_requests,
	&console_cmd_approver_requests,
	&console_cmd_approver_request,
	&console_cmd_approve,
	&console_cmd_deny,
	&console_cmd_sessions,
	&console_cmd_kill,
	&console_cmd_vendor,
	&console_cmd_ticket,
	&console_cmd_watch,
};
#define CONSOLE_NCMDS (sizeof(console_cmds) / sizeof(console_cmds[0]))

bool
console_reads_input(const char *verb)
{
	size_t i;

	for (i = 0; i < CONSOLE_NCMDS; i++)
		if (console_cmds[i]->input && strcmp(console_cmds[i]->name, verb) == 0)
			return true;
	return false;
}

static const char *
console_role_name(enum gw_role role)
{
	return role == GW_ROLE_APPROVER ? "approver"
	    : role == GW_ROLE_AUDITOR   ? "auditor"
	                                : "person";
}

char *
console_help(const struct gw_person *principal)
{
	enum gw_role role = principal->vendor->role;
	char *text = NULL;
	size_t len = 0, i;
	FILE *f = open_memstream(&text, &len);

	fprintf(f, "gatewayd console for %s (%s). Commands, as ssh %s@GATEWAY COMMAND:\r\n",
	    principal->id, console_role_name(role), principal->id);
	for (i = 0; i < CONSOLE_NCMDS; i++)
		if (console_cmds[i]->role == role)
			fprintf(f, "  %s %s\r\n", console_cmds[i]->name, console_cmds[i]->usage);
	if (role == GW_ROLE_AUDITOR)
		console_auditor_help(f);
	fclose(f);
	return text;
}

const struct gw_approver *
console_approver(const struct console_ctx *ctx)
{
	return config_find_approver(ctx->cfg, config_principal_name(ctx->principal));
}

int
console_audit(struct console_ctx *ctx, const char *event, json_t *fields)
{
	if (fields != NULL)
		json_object_set_new(fields, "session", json_string(ctx->session_id));
	if (fields == NULL || notary_audit(ctx->notary, ctx->cfg->audit_log, event, fields) != 0) {
		crit_f("audit log %s cannot be written: console event %s not recorded",
		    ctx->cfg->audit_log, event);
		return -1;
	}
	return 0;
}

/* The words of a console message, each a bounded string; NULL when the message is not one. */
static char **
console_words(json_t *list, size_t *n)
{
	char **argv;
	size_t i, total = 0;

	if (!json_is_array(list) || json_array_size(list) == 0 ||
	    json_array_size(list) > CMDLINE_WORDS_MAX)
		return NULL;
	*n = json_array_size(list);
	argv = xcalloc(*n, sizeof(*argv));
	for (i = 0; i < *n; i++) {
		const char *w = json_string_value(json_array_get(list, i));

		if (w == NULL || (total += strlen(w)) > CMDLINE_MAX) {
			cmdline_free(argv, i);
			return NULL;
		}
		argv[i] = xstrdup(w);
	}
	return argv;
}

static json_t *
console_answer(int status, const char *out, size_t outlen, const char *err)
{
	json_t *a;

	if (outlen > CONSOLE_OUTPUT_MAX)
		outlen = CONSOLE_OUTPUT_MAX;
	a = json_pack("{s:s, s:i, s:s%, s:s}", "type", "console", "status", status, "out", out,
	    outlen, "err", err);
	return a != NULL ? a
	                 : json_pack("{s:s, s:i, s:s, s:s}", "type", "console", "status", 1, "out",
	                       "", "err", "the gateway cannot print the answer");
}

json_t *
console_serve(const struct gw_config *cfg, struct notary *notary, struct registry *reg,
    const char *session_id, json_t *msg, int *pass_fd)
{
	const char *who = json_string_value(json_object_get(msg, "principal"));
	const char *input = json_string_value(json_object_get(msg, "input"));
	struct console_ctx ctx = { .cfg = cfg,
		.notary = notary,
		.reg = reg,
		.session_id = session_id,
		.now = time(NULL),
		.pass_fd = -1 };
	const struct console_cmd *cmd = NULL;
	char *out = NULL, *err = NULL, line[512];
	size_t outlen = 0, errlen = 0, argc = 0, i, used = 0;
	char **argv;
	json_t *answer;
	int status;

	*pass_fd = -1;
	if (who == NULL || (ctx.principal = config_find_principal(cfg, who)) == NULL ||
	    (input != NULL &&
	        json_string_length(json_object_get(msg, "input")) > CONSOLE_INPUT_MAX) ||
	    (argv = console_words(json_object_get(msg, "argv"), &argc)) == NULL) {
		warn_f("session %s: malformed console request refused", session_id);
		return console_answer(1, "", 0, "malformed console request");
	}
	ctx.input = input;
	ctx.inlen = input != NULL ? json_string_length(json_object_get(msg, "input")) : 0;
	for (i = 0; i < CONSOLE_NCMDS && cmd == NULL; i++)
		if (console_cmds[i]->role == ctx.principal->vendor->role &&
		    strcmp(console_cmds[i]->name, argv[0]) == 0)
			cmd = console_cmds[i];
	ctx.out = open_memstream(&out, &outlen);
	ctx.err = open_memstream(&err, &errlen);
	if (cmd == NULL) {
		fprintf(ctx.err, "unknown command \"%.40s\" for %s; ssh %s@GATEWAY help lists them",
		    argv[0], console_role_name(ctx.principal->vendor->role), ctx.principal->id);
		status = 2;
	} else
		status = cmd->exec(&ctx, argv, argc);
	fclose(ctx.out);
	fclose(ctx.err);
	/* What ran, in the audit log: the words as typed (they hold no control character). */
	line[0] = '\0';
	for (i = 0; i < argc && used < sizeof(line); i++)
		used += (size_t)snprintf(
		    line + used, sizeof(line) - used, "%s%s", i ? " " : "", argv[i]);
	console_audit(&ctx, "console_command",
	    audit_pack("{s:s, s:s, s:s, s:i}", "principal", ctx.principal->id, "role",
	        console_role_name(ctx.principal->vendor->role), "command", line, "status", status));
	answer = console_answer(status, out, outlen, err);
	*pass_fd = ctx.pass_fd;
	cmdline_free(argv, argc);
	free(out);
	free(err);
	return answer;
}
