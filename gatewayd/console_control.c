/* console_control.c: an approver's live control at the console, the control socket's verbs held
 * to the approver's scope: its vendors' sessions on its targets (sessions, kill), its vendors
 * (vendor disable/enable) and the tickets it could have approved (ticket revoke). */
#include "gatewayd/console.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "gatewayd/audit.h"
#include "gatewayd/control.h"
#include "gatewayd/registry.h"
#include "gatewayd/store.h"

static const char *
console_field(json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v != NULL ? v : "-";
}

/* The live sessions in the approver's scope, as the listener's registry lists them, and
 * with a shared store those of the other gateways (each naming its "gateway"). */
static json_t *
console_sessions_in_scope(struct console_ctx *ctx)
{
	const struct gw_approver *a = console_approver(ctx);
	json_t *all = registry_list(ctx->reg), *mine = json_array(), *o;
	size_t i;

	o = store_sessions_elsewhere(registry_store(ctx->reg));
	json_array_extend(all, o);
	json_decref(o);
	json_array_foreach (all, i, o)
		if (approver_may_approve(a, console_field(o, "vendor"), console_field(o, "target")))
			json_array_append(mine, o);
	json_decref(all);
	return mine;
}

static int
console_sessions_exec(struct console_ctx *ctx, char **argv, size_t argc)
{
	json_t *mine, *o;
	size_t i;

	if (argc != 1) {
		fprintf(ctx->err, "usage: sessions\n");
		return 2;
	}
	mine = console_sessions_in_scope(ctx);
	json_array_foreach (mine, i, o)
		fprintf(ctx->out, "%s  %s -> %s  since %s  ticket %s  in %lld out %lld bytes%s%s\n",
		    console_field(o, "id"), console_field(o, "person"), console_field(o, "target"),
		    console_field(o, "started"), console_field(o, "ticket"),
		    (long long)json_integer_value(json_object_get(o, "bytes_in")),
		    (long long)json_integer_value(json_object_get(o, "bytes_out")),
		    json_object_get(o, "gateway") ? "  on gateway " : "",
		    json_object_get(o, "gateway") ? console_field(o, "gateway") : "");
	if (json_array_size(mine) == 0)
		fprintf(ctx->out, "no live sessions in your scope\n");
	json_decref(mine);
	return 0;
}

const struct console_cmd console_cmd_sessions = {
	.name = "sessions",
	.role = GW_ROLE_APPROVER,
	.usage = "   (live sessions of your vendors on your targets)",
	.exec = console_sessions_exec,
};

/* The session an id or unambiguous prefix names among those in scope: 0 with id (and, when
 * gateway is not NULL, the other gateway it runs on, "" for this one), or -1 with the
 * candidates on err. */
static int
console_resolve_session(struct console_ctx *ctx, const char *verb, const char *prefix,
    char id[GW_ID_MAX + 1], char gateway[GW_ID_MAX + 1])
{
	json_t *mine = console_sessions_in_scope(ctx), *o;
	char msg[1024];
	int rc = registry_resolve_session(mine, prefix, id, msg, sizeof(msg));
	size_t i;

	if (rc == 0 && gateway != NULL) {
		gateway[0] = '\0';
		json_array_foreach (mine, i, o)
			if (strcmp(console_field(o, "id"), id) == 0 &&
			    json_object_get(o, "gateway"))
				snprintf(gateway, GW_ID_MAX + 1, "%s", console_field(o, "gateway"));
	}
	json_decref(mine);
	if (rc != 0)
		fprintf(ctx->err, "%s: %s\n", verb, msg);
	return rc;
}

static int
console_kill_exec(struct console_ctx *ctx, char **argv, size_t argc)
{
	static const struct cmdline_option opts[] = { { "--reason", true }, { NULL, false } };
	struct control_request req = { .op = CONTROL_KILL, .by = CONTROL_BY_SESSION };
	char why[GW_REASON_MAX], reason[GW_REASON_MAX + 128], gateway[GW_ID_MAX + 1];
	const char *v[1];
	int n;

	if (argc < 2 || cmdline_options(argv, argc, 2, opts, v, why, sizeof(why)) != 0 ||
	    (v[0] != NULL && (strlen(v[0]) > REQUEST_REASON_MAX || !request_text_is_valid(v[0])))) {
		fprintf(ctx->err, "usage: kill %s\n", console_cmd_kill.usage);
		return 2;
	}
	if (console_resolve_session(ctx, "kill", argv[1], req.name, gateway) != 0)
		return 1;
	snprintf(reason, sizeof(reason), "killed by approver %s at the console%s%s",
	    config_principal_name(ctx->principal), v[0] != NULL ? ": " : "",
	    v[0] != NULL ? v[0] : "");
	if (gateway[0] != '\0' && strcmp(gateway, store_gateway(registry_store(ctx->reg))) != 0)
		n = store_kill_elsewhere(registry_store(ctx->reg), gateway, &req,
		        "session ended by the asset owner", reason) == 0;
	else
		n = registry_kill(ctx->reg, &req, "session ended by the asset owner", reason);
	console_audit(ctx, "control",
	    audit_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:s?}", "peer_user", ctx->principal->id,
	        "action", "kill", "by", "session", "name", req.name, "result",
	        n > 0 ? "ok" : "no_match", "sessions", n, "reason", v[0]));
	fprintf(n > 0 ? ctx->out : ctx->err, "%s session %s\n",
	    n > 0 ? "killed" : "kill: could not tell", req.name);
	return n > 0 ? 0 : 1;
}

const struct console_cmd console_cmd_kill = {
	.name = "kill",
	.role = GW_ROLE_APPROVER,
	.usage = "SESSION [--reason TEXT]   (a session id or its unambiguous prefix)",
	.exec = console_kill_exec,
};

static int
console_vendor_exec(struct console_ctx *ctx, char **argv, size_t argc)
{
	struct control_request req = { .by = CONTROL_BY_VENDOR };
	const struct gw_approver *a = console_approver(ctx);
	char *error = NULL, reason[256];
	bool disable;
	int rc, n = 0;

	if (argc != 3 || (strcmp(argv[1], "disable") != 0 && strcmp(argv[1], "enable") != 0)) {
		fprintf(ctx->err, "usage: vendor %s\n", console_cmd_vendor.usage);
		return 2;
	}
	disable = strcmp(argv[1], "disable") == 0;
	if (config_find_vendor(ctx->cfg, argv[2]) == NULL || !approver_has_vendor(a, argv[2])) {
		fprintf(ctx->err, "vendor: no vendor %.64s in your scope\n", argv[2]);
		return 1;
	}
	req.op = disable ? CONTROL_VENDOR_DISABLE : CONTROL_VENDOR_ENABLE;
	snprintf(req.name, sizeof(req.name), "%s", argv[2]);
	if ((rc = registry_set_vendor_disabled(
	         ctx->reg, ctx->cfg->state_dir, req.name, disable, &error)) < 0) {
		error_f("%s", error);
		free(error);
		fprintf(ctx->err, "vendor: the gateway cannot store the vendor's state now\n");
		return 1;
	}
	if (disable) {
		snprintf(reason, sizeof(reason), "vendor disabled by approver %s at the console",
		    config_principal_name(ctx->principal));
		n = registry_kill(ctx->reg, &req,
		    "session ended: vendor access disabled by the asset owner", reason);
	}
	console_audit(ctx, "control",
	    audit_pack("{s:s, s:s, s:s, s:s, s:s, s:i}", "peer_user", ctx->principal->id, "action",
	        disable ? "vendor_disable" : "vendor_enable", "by", "vendor", "name", req.name,
	        "result", rc == 1 ? "unchanged" : "ok", "sessions", n));
	fprintf(ctx->out, "vendor %s %s%s; %d live sessions told to end\n", req.name,
	    rc == 1 ? "was already " : "", disable ? "disabled" : "enabled", n);
	return 0;
}

const struct console_cmd console_cmd_vendor = {
	.name = "vendor",
	.role = GW_ROLE_APPROVER,
	.usage = "disable|enable VENDOR",
	.exec = console_vendor_exec,
};

static int
console_ticket_exec(struct console_ctx *ctx, char **argv, size_t argc)
{
	static const struct cmdline_option opts[] = { { "--reason", true }, { NULL, false } };
	struct control_request req = { .op = CONTROL_KILL, .by = CONTROL_BY_TICKET };
	const struct gw_approver *a = console_approver(ctx);
	char why[GW_REASON_MAX], reason[GW_REASON_MAX + 128], *error = NULL;
	struct gw_ticket *t = NULL;
	const char *v[1];
	bool in_scope;
	size_t i;
	int n;

	if (argc < 3 || strcmp(argv[1], "revoke") != 0 ||
	    cmdline_options(argv, argc, 3, opts, v, why, sizeof(why)) != 0 || v[0] == NULL ||
	    strlen(v[0]) > REQUEST_REASON_MAX || !request_text_is_valid(v[0])) {
		fprintf(ctx->err, "usage: ticket %s\n", console_cmd_ticket.usage);
		return 2;
	}
	/* Only an installed ticket the approver could have approved: every target in scope. */
	in_scope = ticketstore_load_ticket(ctx->cfg->state_dir, ctx->cfg, argv[2], &t, &error) == 0;
	for (i = 0; in_scope && i < t->ntargets; i++)
		in_scope = approver_may_approve(a, t->vendor, t->targets[i]);
	ticket_free(t);
	free(error);
	error = NULL;
	if (!in_scope) {
		fprintf(
		    ctx->err, "ticket revoke: no installed ticket %.64s in your scope\n", argv[2]);
		return 1;
	}
	snprintf(reason, sizeof(reason), "%s (approver %s at the console)", v[0],
	    config_principal_name(ctx->principal));
	if (revocation_append(ctx->cfg->state_dir, argv[2], ctx->now, reason, &error) != 0) {
		error_f("revoking %s: %s", argv[2], error);
		free(error);
		fprintf(ctx->err, "ticket revoke: the gateway cannot store the revocation now\n");
		return 1;
	}
	console_audit(ctx, "ticket_revoked",
	    audit_pack(
	        "{s:s, s:s, s:s}", "ticket", argv[2], "reason", v[0], "by", ctx->principal->id));
	snprintf(req.name, sizeof(req.name), "%s", argv[2]);
	snprintf(reason, sizeof(reason), "ticket %s revoked by approver %s", argv[2],
	    config_principal_name(ctx->principal));
	n = registry_kill(ctx->reg, &req, "session ended: its approval ticket was revoked", reason);
	fprintf(ctx->out, "revoked ticket %s; %d live sessions told to end\n", argv[2], n);
	return 0;
}

const struct console_cmd console_cmd_ticket = {
	.name = "ticket",
	.role = GW_ROLE_APPROVER,
	.usage = "revoke ID --reason TEXT",
	.exec = console_ticket_exec,
};

static int
console_watch_exec(struct console_ctx *ctx, char **argv, size_t argc)
{
	char id[GW_ID_MAX + 1], gateway[GW_ID_MAX + 1];
	int sv[2];

	if (argc != 2) {
		fprintf(ctx->err, "usage: watch %s\n", console_cmd_watch.usage);
		return 2;
	}
	if (console_resolve_session(ctx, "watch", argv[1], id, gateway) != 0)
		return 1;
	/* The stream comes from the session's own process: on its gateway only. */
	if (gateway[0] != '\0' && strcmp(gateway, store_gateway(registry_store(ctx->reg))) != 0) {
		fprintf(ctx->err, "watch: session %s runs on gateway %s: watch it there\n", id,
		    gateway);
		return 1;
	}
	/* The watched session writes its stream into one end; the approver's session process
	 * gets the other with the answer and relays it to the approver's terminal. */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		error_f("watch: socketpair: %s", strerror(errno));
		fprintf(ctx->err, "watch: the gateway cannot open a stream now\n");
		return 1;
	}
	if (registry_watch(ctx->reg, id, sv[0]) != 0) {
		close(sv[1]);
		fprintf(ctx->err, "watch: no live session %s\n", id);
		return 1;
	}
	ctx->pass_fd = sv[1];
	console_audit(ctx, "control",
	    audit_pack("{s:s, s:s, s:s, s:s, s:s}", "peer_user", ctx->principal->id, "action",
	        "watch", "by", "session", "name", id, "result", "ok"));
	return 0;
}

const struct console_cmd console_cmd_watch = {
	.name = "watch",
	.role = GW_ROLE_APPROVER,
	.usage = "SESSION   (over ssh -t: a live, read-only view of its terminal)",
	.exec = console_watch_exec,
};
