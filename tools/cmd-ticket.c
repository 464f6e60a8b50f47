/* cmd-ticket.c: `gatewayctl ticket new|verify|show|install|list|revoke`: the owner's side of
 * approval tickets. Writes only the ticket store and the revocation record under state_dir;
 * never signs (owners sign with their own ssh-keygen) and never deletes a ticket. */
#include "tools/gatewayctl.h"

#include <errno.h>
#include <getopt.h>
#include <libconfig.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/xmalloc.h"
#include "evidence/seal.h"
#include "gatewayd/audit.h"
#include "tools/ctlsocket.h"
#include "tools/termsafe.h"

#define TICKET_USAGE                                                                               \
	"new --id ID --vendor V|--person P --target T [--target T ...] --from TIME --to TIME\n"    \
	"             [--approver NAME] --reason TEXT [--max-sessions N] [-o FILE]\n"              \
	"         ticket verify FILE | show ID | install FILE | list [--active]\n"                 \
	"         ticket revoke ID --reason TEXT [--force]\n"                                      \
	"         (TIME: 2027-03-01T07:00:00Z, 2027-03-01, now, or +N[mhd] from now)"

static void
setting_string(config_setting_t *root, const char *key, const char *value)
{
	if (value != NULL)
		config_setting_set_string(config_setting_add(root, key, CONFIG_TYPE_STRING), value);
}

/* The lifetime a new ticket may have: the configuration's, or the default where gatewayctl
 * runs without one (an approver's laptop). -1 when the configuration is there but invalid. */
static long long
ticket_new_max_lifetime(struct ctl_context *ctx)
{
	const struct gw_config *cfg;

	if (access(ctx->config_path, F_OK) != 0 && errno == ENOENT) {
		fprintf(stderr,
		    "note: no %s: checked against the default max_ticket_lifetime (%lld s)\n",
		    ctx->config_path, GW_MAX_TICKET_LIFETIME_DEFAULT);
		return GW_MAX_TICKET_LIFETIME_DEFAULT;
	}
	return (cfg = ctl_config(ctx)) != NULL ? cfg->max_ticket_lifetime : -1;
}

static int
cmd_ticket_new(struct ctl_context *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "id", required_argument, NULL, 'i' },
		{ "vendor", required_argument, NULL, 'v' },
		{ "person", required_argument, NULL, 'p' },
		{ "target", required_argument, NULL, 't' },
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 'u' },
		{ "approver", required_argument, NULL, 'a' },
		{ "reason", required_argument, NULL, 'r' },
		{ "max-sessions", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	const char *id = NULL, *vendor = NULL, *person = NULL, *approver = NULL, *reason = NULL;
	const char *from = NULL, *to = NULL, *out = NULL, *max = NULL;
	const char *targetv[TICKET_TARGETS_MAX];
	char when[GW_TIME_UTC_LEN], what[GW_REASON_MAX], *text = NULL, *errors = NULL, *end;
	config_setting_t *root, *targets;
	time_t now = time(NULL), t_from, t_to;
	struct gw_ticket *check;
	size_t textlen = 0, ntargets = 0, i;
	long long max_lifetime;
	config_t lc;
	FILE *f;
	int ch, rc = 1;

	config_init(&lc);
	root = config_root_setting(&lc);
	while ((ch = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		switch (ch) {
		case 'i':
			id = optarg;
			break;
		case 'v':
			vendor = optarg;
			break;
		case 'p':
			person = optarg;
			break;
		case 'f':
			from = optarg;
			break;
		case 'u':
			to = optarg;
			break;
		case 'a':
			approver = optarg;
			break;
		case 'r':
			reason = optarg;
			break;
		case 'm':
			max = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 't':
			if (ntargets == TICKET_TARGETS_MAX)
				goto usage;
			targetv[ntargets++] = optarg;
			break;
		default:
			goto usage;
		}
	}
	if (optind != argc || id == NULL || from == NULL || to == NULL)
		goto usage;
	if (!ticket_id_is_valid(id)) {
		fputs("gatewayctl ticket new: \"", stderr);
		termsafe_print(stderr, id);
		fprintf(stderr,
		    "\" is not a valid ticket id: at most %d letters, digits, '.', '_' and '-', "
		    "starting with a letter or digit\n",
		    GW_ID_MAX);
		goto done;
	}
	if (time_parse_when(from, now, &t_from) != 0 || time_parse_when(to, now, &t_to) != 0) {
		fprintf(stderr,
		    "gatewayctl ticket new: --from and --to take 2027-03-01T07:00:00Z, "
		    "2027-03-01, now or +N[mhd]\n");
		goto done;
	}
	/* libconfig writes the file, so quoting and escaping are never done by hand. */
	setting_string(root, "id", id);
	setting_string(root, "vendor", vendor);
	setting_string(root, "person", person);
	targets = config_setting_add(root, "targets", CONFIG_TYPE_ARRAY);
	for (i = 0; i < ntargets; i++)
		config_setting_set_string_elem(targets, -1, targetv[i]);
	time_format_utc(t_from, when);
	setting_string(root, "not_before", when);
	time_format_utc(t_to, when);
	setting_string(root, "not_after", when);
	setting_string(root, "approver", approver);
	setting_string(root, "reason", reason);
	/* Out-of-range or non-numeric counts become 0, which the parse-back below refuses. */
	if (max != NULL) {
		long n = strtol(max, &end, 10);

		config_setting_set_int(config_setting_add(root, "max_sessions", CONFIG_TYPE_INT),
		    *end == '\0' && n > 0 && n <= 1000000 ? (int)n : 0);
	}
	f = open_memstream(&text, &textlen);
	config_write(&lc, f);
	fclose(f);
	/* The written text must be a ticket the gateway accepts: parse it back. Errors name no
	 * file: none is written when there are any. */
	if (ticket_parse(text, textlen, "gatewayctl ticket new", &check, &errors) != 0) {
		fputs(errors, stderr);
		goto done;
	}
	if ((max_lifetime = ticket_new_max_lifetime(ctx)) < 0 ||
	    ticket_check_lifetime(check, max_lifetime, what, sizeof(what)) != DENY_NONE) {
		if (max_lifetime >= 0)
			fprintf(stderr, "gatewayctl ticket new: %s; nothing written\n", what);
		ticket_free(check);
		goto done;
	}
	ticket_free(check);
	if (out == NULL) {
		fwrite(text, 1, textlen, stdout);
	} else if ((f = fopen(out, "wx")) == NULL || fwrite(text, 1, textlen, f) != textlen ||
	    fclose(f) != 0) {
		fprintf(stderr, "gatewayctl ticket new: %s: %s\n", out, strerror(errno));
		goto done;
	} else {
		fprintf(stderr, "wrote %s; sign it with:\n  ssh-keygen -Y sign -n %s -f KEY %s\n",
		    out, TICKET_NAMESPACE, out);
	}
	rc = 0;
	goto done;
usage:
	fprintf(stderr, "usage: gatewayctl ticket %s\n", TICKET_USAGE);
	rc = 2;
done:
	config_destroy(&lc);
	free(text);
	free(errors);
	return rc;
}

/* Reads FILE and FILE.sig; parses and verifies. NULL after printing why. */
static struct gw_ticket *
ticket_load_file(const struct gw_config *cfg, const char *path, char **text, size_t *len,
    char **sig, size_t *siglen)
{
	struct gw_ticket *t;
	char *sigpath, *errors = NULL;

	*sig = NULL;
	*siglen = 0;
	if (file_read_bounded(path, TICKET_TEXT_MAX, text, len) != 0) {
		fprintf(stderr, "gatewayctl ticket: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	if (ticket_parse(*text, *len, path, &t, &errors) != 0) {
		fputs(errors, stderr);
		free(errors);
		free(*text);
		*text = NULL;
		return NULL;
	}
	xasprintf(&sigpath, "%s.sig", path);
	if (file_read_bounded(sigpath, TICKET_SIG_MAX, sig, siglen) != 0)
		*sig = NULL;
	free(sigpath);
	ticket_verify(t, *text, *len, *sig, *siglen, cfg);
	return t;
}

/* Prints what the gateway makes of t now; returns whether it admits now (signature, interval,
 * revocation, sessions and, for each of its targets, the approvals the policy requires). */
static bool
ticket_print(const struct ticket_set *set, const struct gw_ticket *t, time_t now,
    const struct gw_config *cfg)
{
	char a[GW_TIME_UTC_LEN], b[GW_TIME_UTC_LEN], what[GW_REASON_MAX];
	const char *short_for = NULL;
	unsigned needed, short_of = 0;
	size_t i;

	printf("ticket %s\n", t->id);
	if (t->person != NULL)
		printf("  covers:    person %s (vendor %s)\n", t->person, t->vendor);
	else
		printf("  covers:    every person of vendor %s\n", t->vendor);
	printf("  targets:  ");
	for (i = 0; i < t->ntargets; i++)
		printf(" %s", t->targets[i]);
	time_format_utc(t->not_before, a);
	time_format_utc(t->not_after, b);
	printf("\n  valid:     %s to %s\n", a, b);
	/* The reason may be a vendor's words (a requested ticket): shown, never acted on. */
	printf("  approver:  %s\n  reason:    ",
	    t->approver != NULL ? t->approver : "(not named: any approver in scope)");
	termsafe_print(stdout, t->reason);
	putchar('\n');
	if (t->max_sessions != 0)
		printf("  sessions:  %u of %u used\n", t->used_sessions, t->max_sessions);
	if (t->status == TICKET_VALID) {
		for (i = 0; i < t->napprovers; i++)
			printf("  signature: good, by approver %s (%s)\n", t->approvers[i],
			    t->approver_fps[i]);
	} else {
		printf("  signature: REFUSED (%s): ", ticket_status_name(t->status));
		termsafe_print(stdout, t->problem);
		putchar('\n');
	}
	for (i = 0; i < t->ntargets; i++) {
		needed = config_approvals_needed(cfg, t->vendor, t->targets[i]);
		printf("  approvals: %zu of %u required for %s\n", t->napprovers, needed,
		    t->targets[i]);
		if (t->napprovers < needed && needed > short_of) {
			short_of = needed;
			short_for = t->targets[i];
		}
	}
	if (config_find_vendor(cfg, t->vendor) == NULL)
		printf("  warning:   vendor %s is not configured\n", t->vendor);
	else if (t->person != NULL && config_find_person(cfg, t->person) == NULL)
		printf("  warning:   person %s is not configured\n", t->person);
	for (i = 0; i < t->ntargets; i++)
		if (config_find_grant(cfg, t->vendor, t->targets[i]) == NULL)
			printf("  warning:   no grant gives vendor %s target %s\n", t->vendor,
			    t->targets[i]);
	if (ticket_check_now(cfg, t, set, now, what, sizeof(what)) != DENY_NONE) {
		printf("  now:       NOT VALID: ");
		termsafe_print(stdout, what);
		putchar('\n');
		return false;
	}
	if (short_for != NULL) {
		printf("  now:       NOT VALID: %s needs %u approvals\n", short_for, short_of);
		return false;
	}
	printf("  now:       VALID\n");
	return true;
}

/* "a, b (2 approvals)" of a valid ticket. */
static void
ticket_print_signed(const struct gw_ticket *t)
{
	size_t i;

	printf("ticket %s: signed by ", t->id);
	for (i = 0; i < t->napprovers; i++)
		printf("%s%s", i > 0 ? ", " : "", t->approvers[i]);
	printf(" (%zu approval%s)\n", t->napprovers, t->napprovers == 1 ? "" : "s");
}

/* The revocations (and installed tickets) of the store; NULL after printing why. */
static struct ticket_set *
ticket_store(const struct gw_config *cfg)
{
	struct ticket_set *set;
	char *errors = NULL;

	if (ticketstore_load(cfg->state_dir, cfg, NULL, &set, &errors) != 0) {
		fputs(errors, stderr);
		free(errors);
		return NULL;
	}
	if (errors != NULL)
		fputs(errors, stderr);
	free(errors);
	return set;
}

/* An owner's ticket action as an audit event (R10), sealed like every other audit line and
 * naming the user who ran gatewayctl; fields are consumed. */
static int
ticket_audit(const struct gw_config *cfg, const char *event, json_t *fields)
{
	const struct passwd *pw = getpwuid(getuid());
	struct sealkey *key;
	char *path;
	int rc = -1;

	if (fields == NULL ||
	    audit_set_text(fields, "by", pw != NULL ? pw->pw_name : "?",
	        strlen(pw != NULL ? pw->pw_name : "?")) != 0) {
		json_decref(fields); /* audit_pack() failed: no hollow event */
		return -1;
	}
	xasprintf(&path, "%s/recording_key", cfg->state_dir);
	if ((key = sealkey_load_or_create(path)) != NULL)
		rc = audit_event_once(cfg->audit_log, key, event, fields);
	else
		json_decref(fields);
	sealkey_free(key);
	free(path);
	return rc;
}

/* The approvers of a valid ticket as a JSON array, for audit events. */
static json_t *
ticket_approvers_json(const struct gw_ticket *t)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < t->napprovers; i++)
		json_array_append_new(a, json_string(t->approvers[i]));
	return a;
}

/* A further approver's signature for the installed ticket t: the installed signatures and the
 * file's must verify together before the file's are added. */
static int
ticket_add_signature(const struct gw_config *cfg, const struct ticket_set *set, struct gw_ticket *t,
    const char *text, size_t len, const char *oldtext, size_t oldtextlen, const char *oldsig,
    size_t oldlen, const char *sig, size_t siglen)
{
	char *both, *error = NULL, what[GW_REASON_MAX];
	enum deny_reason r;
	int rc = 1;

	if (oldtextlen != len || memcmp(oldtext, text, len) != 0) {
		fprintf(stderr,
		    "gatewayctl ticket install: a different ticket %s is already installed; "
		    "tickets are never replaced, issue one with a new id\n",
		    t->id);
		return 1;
	}
	/* Bytes, not strings: a NUL in either file must reach the verifier, which refuses it. */
	both = xmalloc(oldlen + 1 + siglen);
	memcpy(both, oldsig, oldlen);
	both[oldlen] = '\n';
	memcpy(both + oldlen + 1, sig, siglen);
	ticket_verify(t, text, len, both, oldlen + 1 + siglen, cfg);
	free(both);
	r = ticket_check_now(cfg, t, set, time(NULL), what, sizeof(what));
	if (t->status != TICKET_VALID || r == DENY_TICKET_EXPIRED || r == DENY_TICKET_REVOKED) {
		fprintf(
		    stderr, "gatewayctl ticket install: not adding the signature of %s: ", t->id);
		termsafe_print(stderr, what);
		fputc('\n', stderr);
		return 1;
	}
	if (ticketstore_add_signature(cfg->state_dir, t->id, text, len, sig, siglen, &error) != 0) {
		fprintf(stderr, "gatewayctl ticket install: %s\n", error);
		free(error);
		return 1;
	}
	ticket_print_signed(t);
	rc = 0;
	if (ticket_audit(cfg, "ticket_signed",
	        audit_pack("{s:s, s:o}", "ticket", t->id, "approvers", ticket_approvers_json(t))) !=
	    0) {
		fprintf(stderr,
		    "gatewayctl ticket install: signature added, but the audit event could not be "
		    "written to %s\n",
		    cfg->audit_log);
		rc = 1;
	}
	return rc;
}

static int
ticket_install(const struct gw_config *cfg, const struct gw_ticket *t, const char *text, size_t len,
    const char *sig, size_t siglen)
{
	char *error = NULL;
	int rc;

	if (ticketstore_install(cfg->state_dir, t->id, text, len, sig, siglen, &error) != 0) {
		fprintf(stderr, "gatewayctl ticket install: %s\n", error);
		free(error);
		return 1;
	}
	printf("installed ticket %s in %s/tickets\n", t->id, cfg->state_dir);
	ticket_print_signed(t);
	rc = 0;
	if (ticket_audit(cfg, "ticket_installed",
	        audit_pack("{s:s, s:s, s:s?, s:s?, s:o, s:s, s:I, s:I}", "ticket", t->id, "vendor",
	            t->vendor, "person", t->person, "approver",
	            t->approver != NULL ? t->approver : t->approvers[0], "approvers",
	            ticket_approvers_json(t), "signer", t->signer, "not_before",
	            (json_int_t)t->not_before, "not_after", (json_int_t)t->not_after)) != 0) {
		fprintf(stderr,
		    "gatewayctl ticket install: installed, but the audit event "
		    "could not be written to %s\n",
		    cfg->audit_log);
		rc = 1;
	}
	return rc;
}

static int
cmd_ticket_verify(struct ctl_context *ctx, const char *path, bool install)
{
	const struct gw_config *cfg = ctl_config(ctx);
	struct ticket_set *set;
	struct gw_ticket *t;
	const struct gw_ticket *stored;
	char *text = NULL, *sig = NULL, *oldtext = NULL, *oldsig = NULL, *error = NULL;
	char what[GW_REASON_MAX];
	size_t len, siglen, oldtextlen, oldlen;
	time_t now = time(NULL);
	enum deny_reason r;
	bool valid;
	int rc = 1;

	if (cfg == NULL || (set = ticket_store(cfg)) == NULL)
		return 1;
	if ((t = ticket_load_file(cfg, path, &text, &len, &sig, &siglen)) == NULL) {
		ticketset_free(set);
		return 1;
	}
	/* Installed already: the file brings a further approver's signature. */
	if (install && sig != NULL &&
	    ticketstore_read(
	        cfg->state_dir, t->id, &oldtext, &oldtextlen, &oldsig, &oldlen, &error) == 0) {
		rc = ticket_add_signature(
		    cfg, set, t, text, len, oldtext, oldtextlen, oldsig, oldlen, sig, siglen);
		goto out;
	}
	/* Its uses are counted in the store (one per admitted connection): an installed ticket's
	 * file shows them. Ids are never reused, so the same id is the same ticket. */
	if ((stored = ticketset_find_ticket(set, t->id)) != NULL)
		t->used_sessions = stored->used_sessions;
	valid = ticket_print(set, t, now, cfg);
	r = ticket_check_now(cfg, t, set, now, what, sizeof(what));
	if (!install)
		rc = valid ? 0 : 1;
	else if (t->status != TICKET_VALID || r == DENY_TICKET_EXPIRED ||
	    r == DENY_TICKET_REVOKED || r == DENY_TICKET_TOO_LONG)
		fprintf(stderr, "gatewayctl ticket install: not installing %s: %s\n", t->id, what);
	else
		rc = ticket_install(cfg, t, text, len, sig, siglen);
out:
	free(error);
	free(oldtext);
	free(oldsig);
	free(text);
	free(sig);
	ticket_free(t);
	ticketset_free(set);
	return rc;
}

/* An installed ticket, verified as the gateway verifies it. */
static int
cmd_ticket_show(struct ctl_context *ctx, const char *id)
{
	const struct gw_config *cfg = ctl_config(ctx);
	struct ticket_set *set;
	struct gw_ticket *t;
	char *errors = NULL;
	int rc = 1;

	if (cfg == NULL || (set = ticket_store(cfg)) == NULL)
		return 1;
	if (ticketstore_load_ticket(cfg->state_dir, cfg, id, &t, &errors) != 0) {
		fputs(errors, stderr);
	} else {
		rc = ticket_print(set, t, time(NULL), cfg) ? 0 : 1;
		ticket_free(t);
	}
	free(errors);
	ticketset_free(set);
	return rc;
}

static int
ticket_compare(const void *a, const void *b)
{
	return strcmp((*(struct gw_ticket *const *)a)->id, (*(struct gw_ticket *const *)b)->id);
}

static int
cmd_ticket_list(struct ctl_context *ctx, bool active_only)
{
	const struct gw_config *cfg = ctl_config(ctx);
	char a[GW_TIME_UTC_LEN], b[GW_TIME_UTC_LEN], what[GW_REASON_MAX];
	struct ticket_set *set;
	time_t now = time(NULL);
	size_t i, j;

	if (cfg == NULL || (set = ticket_store(cfg)) == NULL)
		return 1;
	qsort(set->tickets, set->ntickets, sizeof(*set->tickets), ticket_compare);
	for (i = 0; i < set->ntickets; i++) {
		const struct gw_ticket *t = set->tickets[i];
		enum deny_reason r = ticket_check_now(cfg, t, set, now, what, sizeof(what));

		if (active_only && r != DENY_NONE)
			continue;
		time_format_utc(t->not_before, a);
		time_format_utc(t->not_after, b);
		printf("%s\t%s\t%s\t", t->id, r == DENY_NONE ? "active" : deny_reason_name(r),
		    t->person ? t->person : t->vendor);
		for (j = 0; j < t->ntargets; j++)
			printf("%s%s", j ? "," : "", t->targets[j]);
		printf("\t%s\t%s\t", a, b);
		for (j = 0; j < t->napprovers; j++)
			printf("%s%s", j ? "," : "", t->approvers[j]);
		printf("%s\t%u/", t->napprovers == 0 ? "-" : "", t->used_sessions);
		if (t->max_sessions != 0)
			printf("%u\n", t->max_sessions);
		else
			printf("-\n");
	}
	ticketset_free(set);
	return 0;
}

/* Live sessions under the revoked ticket are cut through gatewayd, which answers once they
 * confirmed it. Without gatewayd they still end: each reads the revocation itself. */
static int
ticket_cut_sessions(struct ctl_context *ctx, const char *id)
{
	struct ctl_conn c;
	json_t *reply = NULL;
	const char *error;

	if (ctl_conn_open(ctx, &c) != 0) {
		fprintf(stderr,
		    "note: live sessions under ticket %s end when they read the revocation\n", id);
		return 0;
	}
	if (ctl_conn_send(&c, json_pack("{s:s, s:s}", "cmd", "kill", "ticket", id)) == 0)
		reply = ctl_conn_recv(&c);
	ctl_conn_close(&c);
	if (reply == NULL) {
		fprintf(stderr, "gatewayctl ticket revoke: no reply from gatewayd\n");
		return 1;
	}
	if (json_is_true(json_object_get(reply, "ok")))
		return ctl_report_cut(reply);
	error = json_string_value(json_object_get(reply, "error"));
	/* No live session under the ticket is the usual case, not an error. */
	if (error == NULL || strncmp(error, "no live session", 15) != 0) {
		fprintf(stderr, "gatewayctl ticket revoke: %s\n", error ? error : "refused");
		json_decref(reply);
		return 1;
	}
	json_decref(reply);
	return 0;
}

static int
cmd_ticket_revoke(struct ctl_context *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "reason", required_argument, NULL, 'r' },
		{ "force", no_argument, NULL, 'F' },
		{ NULL, 0, NULL, 0 },
	};
	const struct gw_config *cfg;
	const char *reason = NULL, *id;
	char *error = NULL;
	bool force = false;
	int ch, rc = 0, installed;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 'F')
			force = true;
		else if (ch == 'r')
			reason = optarg;
		else
			goto usage;
	}
	if (optind != argc - 1 || reason == NULL)
		goto usage;
	id = argv[optind];
	if (!ticket_id_is_valid(id)) {
		fprintf(stderr, "gatewayctl ticket revoke: \"");
		termsafe_print(stderr, id);
		fprintf(stderr, "\" is not a valid ticket id\n");
		return 1;
	}
	if ((cfg = ctl_config(ctx)) == NULL)
		return 1;
	/* A mistyped id must not look revoked; --force records a revocation ahead of a leaked
	 * ticket's installation, which is then refused. */
	if ((installed = ticketstore_has_ticket(cfg->state_dir, id, &error)) < 0) {
		fprintf(stderr, "gatewayctl ticket revoke: %s\n", error);
		free(error);
		return 1;
	}
	if (installed == 0 && !force) {
		fprintf(stderr,
		    "gatewayctl ticket revoke: ticket %s is not installed in %s/tickets; nothing "
		    "revoked\n  (to revoke it ahead of its installation: --force)\n",
		    id, cfg->state_dir);
		return 1;
	}
	/* The revocation is recorded first: a failing audit log must not keep a ticket alive. */
	if (revocation_append(cfg->state_dir, id, time(NULL), reason, &error) != 0) {
		fprintf(stderr, "gatewayctl ticket revoke: %s\n", error);
		free(error);
		return 1;
	}
	printf("revoked ticket %s%s\n", id,
	    installed ? "" : " (not installed: it will be refused if it ever is)");
	if (ticket_audit(cfg, "ticket_revoked",
	        audit_pack("{s:s, s:s, s:b}", "ticket", id, "reason", reason, "installed",
	            installed != 0)) != 0) {
		fprintf(stderr,
		    "gatewayctl ticket revoke: revoked, but the audit event could not be "
		    "written to %s\n",
		    cfg->audit_log);
		rc = 1;
	}
	if (installed && ticket_cut_sessions(ctx, id) != 0)
		rc = 1;
	return rc;
usage:
	fprintf(stderr, "usage: gatewayctl ticket revoke ID --reason TEXT [--force]\n");
	return 2;
}

static int
cmd_ticket_exec(struct ctl_context *ctx, int argc, char **argv)
{
	const char *sub = argc >= 2 ? argv[1] : "";

	/* Sub-command options start after "ticket SUB"; optind 0 makes glibc's getopt start
	 * over (main's "+" stop-at-first-argument mode would otherwise persist). */
	argc--;
	argv++;
	optind = 0;
	if (strcmp(sub, "new") == 0)
		return cmd_ticket_new(ctx, argc, argv);
	if ((strcmp(sub, "verify") == 0 || strcmp(sub, "install") == 0) && argc == 2)
		return cmd_ticket_verify(ctx, argv[1], strcmp(sub, "install") == 0);
	if (strcmp(sub, "show") == 0 && argc == 2)
		return cmd_ticket_show(ctx, argv[1]);
	if (strcmp(sub, "list") == 0 &&
	    (argc == 1 || (argc == 2 && strcmp(argv[1], "--active") == 0)))
		return cmd_ticket_list(ctx, argc == 2);
	if (strcmp(sub, "revoke") == 0)
		return cmd_ticket_revoke(ctx, argc, argv);
	fprintf(stderr, "usage: gatewayctl ticket %s\n", TICKET_USAGE);
	return 2;
}

const struct ctl_command cmd_ticket_entry = {
	.name = "ticket",
	.usage = TICKET_USAGE,
	.exec = cmd_ticket_exec,
};
