/* console_requests.c: access requests at the console: a person asks (request, requests), an
 * approver reads the exact ticket text, signs it and approves, or denies. Approving installs
 * the ticket only once its signature verifies as this approver's over exactly that text. */
#include "gatewayd/console.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "gatewayd/audit.h"
#include "gatewayd/registry.h"

static void
console_print_request(FILE *f, const struct gw_request *rq, time_t now, bool person)
{
	char from[GW_TIME_UTC_LEN], until[GW_TIME_UTC_LEN], state[GW_REASON_MAX + 64];

	time_format_utc(rq->not_before, from);
	time_format_utc(rq->not_after, until);
	request_describe(rq, now, state, sizeof(state));
	fprintf(f, "%s  %s%s%s  %s .. %s  %s\n    reason: %s\n", rq->id, person ? "" : rq->person,
	    person ? "" : " -> ", rq->target, from, until, state, rq->reason);
}

/* request TARGET --for DURATION [--from TIME] --reason TEXT */
static int
console_request_exec(struct console_ctx *ctx, char **argv, size_t argc)
{
	static const struct cmdline_option opts[] = { { "--for", false }, { "--from", false },
		{ "--reason", true }, { NULL, false } };
	const char *v[3];
	struct gw_request rq = { .created = ctx->now, .state = REQUEST_PENDING };
	char why[GW_REASON_MAX], *error = NULL;
	long long secs;

	if (argc < 2 || strncmp(argv[1], "--", 2) == 0 ||
	    cmdline_options(argv, argc, 2, opts, v, why, sizeof(why)) != 0) {
		fprintf(ctx->err, "usage: request %s\n", console_cmd_request.usage);
		return 2;
	}
	if (v[0] == NULL || time_parse_duration(v[0], &secs) != 0 || secs <= 0) {
		fprintf(ctx->err, "request: --for takes a duration such as 30m, 2h or 1d\n");
		return 2;
	}
	if (v[2] == NULL || strlen(v[2]) > REQUEST_REASON_MAX) {
		fprintf(ctx->err, "request: --reason TEXT is needed (at most %d bytes)\n",
		    REQUEST_REASON_MAX);
		return 2;
	}
	rq.not_before = ctx->now;
	if (v[1] != NULL && time_parse_when(v[1], ctx->now, &rq.not_before) != 0) {
		fprintf(ctx->err, "request: --from takes 2027-03-01T07:00:00Z, now or +N[mhd]\n");
		return 2;
	}
	if (rq.not_before < ctx->now)
		rq.not_before = ctx->now;
	rq.not_after = rq.not_before + (time_t)secs;
	snprintf(rq.person, sizeof(rq.person), "%s", ctx->principal->id);
	snprintf(rq.vendor, sizeof(rq.vendor), "%s", ctx->principal->vendor->id);
	snprintf(rq.target, sizeof(rq.target), "%.*s", GW_ID_MAX, argv[1]);
	snprintf(rq.reason, sizeof(rq.reason), "%s", v[2]);
	why[0] = '\0';
	if (strlen(argv[1]) > GW_ID_MAX)
		snprintf(why, sizeof(why), "no such target");
	else if (registry_vendor_disabled(ctx->reg, rq.vendor))
		snprintf(why, sizeof(why), "vendor access disabled by the asset owner");
	else
		request_check(ctx->cfg, &rq, ctx->now, why, sizeof(why)); /* why set when not */
	if (why[0] != '\0') {
		fprintf(ctx->err, "request refused: %s\n", why);
		console_audit(ctx, "request_refused",
		    audit_pack("{s:s, s:s, s:s, s:s}", "person", rq.person, "vendor", rq.vendor,
		        "target", rq.target, "reason", why));
		return 1;
	}
	if (requeststore_create(ctx->cfg->state_dir, &rq, &error) != 0) {
		error_f("cannot store a request of %s: %s", rq.person, error);
		free(error);
		fprintf(ctx->err, "request: the gateway cannot store requests now\n");
		return 1;
	}
	if (console_audit(ctx, "request_created",
	        audit_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:s}", "request", rq.id, "person",
	            rq.person, "vendor", rq.vendor, "target", rq.target, "not_before",
	            (json_int_t)rq.not_before, "not_after", (json_int_t)rq.not_after, "reason",
	            rq.reason)) != 0) {
		/* No request without its evidence: it is withdrawn as denied by the gateway. */
		rq.state = REQUEST_DENIED;
		snprintf(rq.decided_by, sizeof(rq.decided_by), "gateway");
		snprintf(rq.deny_reason, sizeof(rq.deny_reason), "audit log cannot be written");
		if (requeststore_save(ctx->cfg->state_dir, &rq, false, &error) != 0)
			free(error);
		fprintf(ctx->err, "request: the gateway cannot record requests now\n");
		return 1;
	}
	fprintf(ctx->out, "request: %s\n", rq.id);
	console_print_request(ctx->out, &rq, ctx->now, true);
	return 0;
}

const struct console_cmd console_cmd_request = {
	.name = "request",
	.role = GW_ROLE_VENDOR,
	.usage = "TARGET --for DURATION [--from TIME] --reason TEXT",
	.exec = console_request_exec,
};

/* The requests a principal may see: a person its own, an approver those in its scope. */
static int
console_list(struct console_ctx *ctx, bool all)
{
	const struct gw_approver *a = console_approver(ctx);
	struct gw_request *rqs;
	size_t n, i, shown = 0;
	bool person = ctx->principal->vendor->role == GW_ROLE_VENDOR;

	if (requeststore_list(ctx->cfg->state_dir, &rqs, &n) != 0) {
		fprintf(ctx->err, "requests: the gateway cannot read its requests now\n");
		return 1;
	}
	for (i = 0; i < n; i++) {
		const struct gw_request *rq = &rqs[i];

		if (person ? strcmp(rq->person, ctx->principal->id) != 0
		           : (a == NULL || !approver_may_approve(a, rq->vendor, rq->target) ||
		                 (!all &&
		                     (rq->state != REQUEST_PENDING || ctx->now >= rq->not_after))))
			continue;
		console_print_request(ctx->out, rq, ctx->now, person);
		shown++;
	}
	if (shown == 0)
		fprintf(ctx->out, "no requests\n");
	free(rqs);
	return 0;
}

static int
console_requests_exec(struct console_ctx *ctx, char **argv, size_t argc)
{
	if (argc != 1) {
		fprintf(ctx->err, "usage: requests\n");
		return 2;
	}
	return console_list(ctx, true);
}

const struct console_cmd console_cmd_requests = {
	.name = "requests",
	.role = GW_ROLE_VENDOR,
	.usage = "",
	.exec = console_requests_exec,
};

static int
console_approver_requests_exec(struct console_ctx *ctx, char **argv, size_t argc)
{
	if (argc > 2 || (argc == 2 && strcmp(argv[1], "--all") != 0)) {
		fprintf(ctx->err, "usage: requests [--all]\n");
		return 2;
	}
	return console_list(ctx, argc == 2);
}

const struct console_cmd console_cmd_approver_requests = {
	.name = "requests",
	.role = GW_ROLE_APPROVER,
	.usage = "[--all]   (pending ones in your scope; --all: every state)",
	.exec = console_approver_requests_exec,
};

/* The request id names one in the approver's scope: else "no such request", whether it
 * exists or not (an approver learns nothing of other vendors' work). */
static int
console_find(struct console_ctx *ctx, const char *id, struct gw_request *rq)
{
	const struct gw_approver *a = console_approver(ctx);

	if (a == NULL || requeststore_load(ctx->cfg->state_dir, id, rq) != 0 ||
	    !approver_may_approve(a, rq->vendor, rq->target)) {
		fprintf(ctx->err, "no request %.64s in your scope\n", id);
		return -1;
	}
	return 0;
}

static int
console_approver_request_exec(struct console_ctx *ctx, char **argv, size_t argc)
{
	struct gw_request rq;
	char *text;
	size_t len;

	if (argc != 3 || strcmp(argv[1], "show") != 0) {
		fprintf(ctx->err, "usage: request show ID\n");
		return 2;
	}
	if (console_find(ctx, argv[2], &rq) != 0)
		return 1;
	if (request_ticket_text(&rq, &text, &len) != 0) {
		fprintf(ctx->err, "request show: the ticket text cannot be made\n");
		return 1;
	}
	fwrite(text, 1, len, ctx->out); /* exactly the bytes approve verifies */
	free(text);
	return 0;
}

const struct console_cmd console_cmd_approver_request = {
	.name = "request",
	.role = GW_ROLE_APPROVER,
	.usage = "show ID   (the exact ticket text to sign)",
	.exec = console_approver_request_exec,
};

/* Whether rq can still be decided; why on err when not. */
static bool
console_open(struct console_ctx *ctx, const struct gw_request *rq, const char *verb)
{
	if (rq->state == REQUEST_DENIED)
		fprintf(
		    ctx->err, "%s: request %s was denied by %s\n", verb, rq->id, rq->decided_by);
	else if (ctx->now >= rq->not_after)
		fprintf(ctx->err, "%s: request %s has expired\n", verb, rq->id);
	else if (rq->state == REQUEST_APPROVED)
		fprintf(ctx->err, "%s: request %s is already approved\n", verb, rq->id);
	else
		return true;
	return false;
}

/* The signature's approvals, once installed: how many distinct approvers signed and how many
 * the target needs; -1 when the installed ticket does not verify. */
static int
console_approvals(struct console_ctx *ctx, const struct gw_request *rq, char *signers, size_t len,
    unsigned *have, unsigned *need, json_t **names)
{
	struct gw_ticket *t;
	char *errors = NULL;
	int rc = -1;

	if (ticketstore_load_ticket(ctx->cfg->state_dir, ctx->cfg, rq->id, &t, &errors) != 0) {
		error_f("ticket %s: %s", rq->id, errors ? errors : "cannot be read");
		free(errors);
		return -1;
	}
	if (t->status == TICKET_VALID) {
		size_t i, n = 0;

		signers[0] = '\0';
		*names = json_array();
		for (i = 0; i < t->napprovers; i++) {
			json_array_append_new(*names, json_string(t->approvers[i]));
			if (n < len)
				n += (size_t)snprintf(signers + n, len - n, "%s%s",
				    i > 0 ? ", " : "", t->approvers[i]);
		}
		*have = (unsigned)t->napprovers;
		*need = 1;
		for (i = 0; i < t->ntargets; i++)
			if (config_approvals_needed(ctx->cfg, t->vendor, t->targets[i]) > *need)
				*need = config_approvals_needed(ctx->cfg, t->vendor, t->targets[i]);
		rc = 0;
	} else
		error_f("ticket %s: %s", rq->id, t->problem);
	ticket_free(t);
	return rc;
}

static int
console_approve_exec(struct console_ctx *ctx, char **argv, size_t argc)
{
	const struct gw_approver *a = console_approver(ctx);
	struct gw_request rq;
	unsigned char *signer = NULL;
	size_t len, signer_len;
	char *text = NULL, *error = NULL, fp[GW_FP_LEN];
	enum sshsig_result r;
	unsigned have, need;
	json_t *names = NULL;
	int status = 1;

	if (argc != 2) {
		fprintf(ctx->err, "usage: approve ID < SIGNATURE\n");
		return 2;
	}
	if (console_find(ctx, argv[1], &rq) != 0 || !console_open(ctx, &rq, "approve"))
		return 1;
	if (request_ticket_text(&rq, &text, &len) != 0) {
		fprintf(ctx->err, "approve: the ticket text cannot be made\n");
		return 1;
	}
	r = sshsig_verify(ctx->input != NULL ? ctx->input : "", ctx->inlen, text, len,
	    TICKET_NAMESPACE, &signer, &signer_len);
	if (r != SSHSIG_OK) {
		fprintf(ctx->err,
		    "approve: standard input is not a valid signature of request %s's ticket text "
		    "(%s); sign exactly what `request show %s` prints with "
		    "ssh-keygen -Y sign -n %s\n",
		    rq.id, sshsig_result_text(r), rq.id, TICKET_NAMESPACE);
		goto out;
	}
	sshkey_fingerprint(signer, signer_len, fp);
	if (signer_len != a->key_blob_len || memcmp(signer, a->key_blob, signer_len) != 0) {
		fprintf(ctx->err, "approve: the signature is by key %s, not by approver %s's key\n",
		    fp, a->name);
		goto out;
	}
	if (ticketstore_install(
	        ctx->cfg->state_dir, rq.id, text, len, ctx->input, ctx->inlen, &error) != 0) {
		error_f("approve %s: %s", rq.id, error);
		fprintf(ctx->err, "approve: the ticket cannot be installed: %s\n", error);
		goto out;
	}
	if (console_approvals(
	        ctx, &rq, rq.decided_by, sizeof(rq.decided_by), &have, &need, &names) != 0) {
		fprintf(ctx->err, "approve: the installed ticket does not verify (see the log)\n");
		goto out;
	}
	/* As gatewayctl ticket install writes them: the first signature installs, a further
	 * approver's signs (dual control). */
	if (have <= 1)
		console_audit(ctx, "ticket_installed",
		    audit_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:I, s:I, s:s, s:s}", "ticket",
		        rq.id, "vendor", rq.vendor, "person", rq.person, "approver", a->name,
		        "approvers", names, "signer", fp, "not_before", (json_int_t)rq.not_before,
		        "not_after", (json_int_t)rq.not_after, "by", ctx->principal->id, "request",
		        rq.id));
	else
		console_audit(ctx, "ticket_signed",
		    audit_pack("{s:s, s:o, s:s, s:s}", "ticket", rq.id, "approvers", names, "by",
		        ctx->principal->id, "request", rq.id));
	rq.decided_at = ctx->now;
	if (have >= need)
		rq.state = REQUEST_APPROVED;
	free(error);
	error = NULL;
	if (requeststore_save(ctx->cfg->state_dir, &rq, false, &error) != 0)
		error_f("request %s: %s", rq.id, error);
	console_audit(ctx, "request_approved",
	    audit_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:i}", "request", rq.id, "ticket",
	        rq.id, "approver", a->name, "key_fp", fp, "person", rq.person, "target", rq.target,
	        "approvals", (int)have, "needed", (int)need));
	fprintf(ctx->out, "approved: request %s (%u of %u approvals); ticket %s installed\n", rq.id,
	    have, need, rq.id);
	status = 0;
out:
	free(error);
	free(signer);
	free(text);
	return status;
}

const struct console_cmd console_cmd_approve = {
	.name = "approve",
	.role = GW_ROLE_APPROVER,
	.input = true,
	.usage = "ID < SIGNATURE   (ssh-keygen -Y sign -n gatewayd-ticket of `request show ID`)",
	.exec = console_approve_exec,
};

static int
console_deny_exec(struct console_ctx *ctx, char **argv, size_t argc)
{
	static const struct cmdline_option opts[] = { { "--reason", true }, { NULL, false } };
	const struct gw_approver *a = console_approver(ctx);
	struct gw_request rq;
	char why[GW_REASON_MAX], *error = NULL;
	const char *v[1];

	if (argc < 2 || cmdline_options(argv, argc, 2, opts, v, why, sizeof(why)) != 0 ||
	    v[0] == NULL) {
		fprintf(ctx->err, "usage: deny %s\n", console_cmd_deny.usage);
		return 2;
	}
	if (strlen(v[0]) > REQUEST_REASON_MAX || !request_text_is_valid(v[0])) {
		fprintf(ctx->err, "deny: the reason must be printable text of at most %d bytes\n",
		    REQUEST_REASON_MAX);
		return 2;
	}
	if (console_find(ctx, argv[1], &rq) != 0 || !console_open(ctx, &rq, "deny"))
		return 1;
	/* A ticket that has some of its approvals already is revoked: no later signature
	 * completes what was denied. */
	if (rq.decided_by[0] != '\0' &&
	    revocation_append(ctx->cfg->state_dir, rq.id, ctx->now, "request denied", &error) !=
	        0) {
		error_f("request %s: %s", rq.id, error);
		free(error);
		fprintf(ctx->err, "deny: the gateway cannot revoke the ticket now\n");
		return 1;
	}
	rq.state = REQUEST_DENIED;
	rq.decided_at = ctx->now;
	snprintf(rq.decided_by, sizeof(rq.decided_by), "%s", a->name);
	snprintf(rq.deny_reason, sizeof(rq.deny_reason), "%s", v[0]);
	if (requeststore_save(ctx->cfg->state_dir, &rq, false, &error) != 0) {
		error_f("request %s: %s", rq.id, error);
		free(error);
		fprintf(ctx->err, "deny: the gateway cannot store the decision now\n");
		return 1;
	}
	console_audit(ctx, "request_denied",
	    audit_pack("{s:s, s:s, s:s, s:s, s:s}", "request", rq.id, "approver", a->name, "person",
	        rq.person, "target", rq.target, "reason", rq.deny_reason));
	fprintf(ctx->out, "denied: request %s\n", rq.id);
	return 0;
}

const struct console_cmd console_cmd_deny = {
	.name = "deny",
	.role = GW_ROLE_APPROVER,
	.usage = "ID --reason TEXT",
	.exec = console_deny_exec,
};
