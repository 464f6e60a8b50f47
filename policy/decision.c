/* decision.c: the access decision (R1), a pure function of config, tickets, revocations,
 * used-session counts, the time and the request. Default deny; every refusal carries a
 * short vendor text and a precise audit text. Never does I/O, never reads the clock. */
#include "policy/policy.h"

#include <stdio.h>
#include <string.h>

#define DECISION_HORIZON (400 * 86400) /* how far ahead "next window opens" looks */

const char *
deny_reason_name(enum deny_reason r)
{
	switch (r) {
	case DENY_NONE:
		return "allowed";
	case DENY_UNKNOWN_PERSON:
		return "unknown_person";
	case DENY_VENDOR_DISABLED:
		return "vendor_disabled";
	case DENY_VENDOR_EXPIRED:
		return "vendor_expired";
	case DENY_UNKNOWN_TARGET:
		return "unknown_target";
	case DENY_NO_GRANT:
		return "no_grant";
	case DENY_NO_WINDOW:
		return "no_window";
	case DENY_OUTSIDE_WINDOW:
		return "outside_window";
	case DENY_NO_TICKET:
		return "no_ticket";
	case DENY_TICKET_NOT_YET_VALID:
		return "ticket_not_yet_valid";
	case DENY_TICKET_EXPIRED:
		return "ticket_expired";
	case DENY_TICKET_REVOKED:
		return "ticket_revoked";
	case DENY_TICKET_USED_UP:
		return "ticket_used_up";
	case DENY_TICKET_UNSIGNED:
		return "ticket_unsigned";
	case DENY_TICKET_BAD_SIGNATURE:
		return "ticket_bad_signature";
	case DENY_TICKET_WRONG_NAMESPACE:
		return "ticket_wrong_namespace";
	case DENY_TICKET_UNSUPPORTED_SIGNATURE:
		return "ticket_unsupported_signature";
	case DENY_TICKET_UNKNOWN_SIGNER:
		return "ticket_unknown_signer";
	case DENY_TICKET_WRONG_SIGNER:
		return "ticket_wrong_signer";
	case DENY_TICKET_UNKNOWN_APPROVER:
		return "ticket_unknown_approver";
	case DENY_TICKET_OUT_OF_SCOPE:
		return "ticket_approver_out_of_scope";
	case DENY_TICKET_TOO_LONG:
		return "ticket_lifetime_too_long";
	case DENY_TICKET_NEEDS_APPROVALS:
		return "ticket_needs_approvals";
	case DENY_NO_FORWARD:
		return "forward_not_granted";
	}
	return "unknown";
}

static void
decision_deny(struct decision *d, enum deny_reason r, const char *vendor_msg)
{
	d->allow = false;
	d->reason = r;
	snprintf(d->vendor_msg, sizeof(d->vendor_msg), "%s", vendor_msg);
}

static enum deny_reason
deny_for_status(enum ticket_status s)
{
	switch (s) {
	case TICKET_VALID:
		return DENY_NONE;
	case TICKET_UNSIGNED:
		return DENY_TICKET_UNSIGNED;
	case TICKET_BAD_SIGNATURE:
		return DENY_TICKET_BAD_SIGNATURE;
	case TICKET_WRONG_NAMESPACE:
		return DENY_TICKET_WRONG_NAMESPACE;
	case TICKET_UNSUPPORTED_SIGNATURE:
		return DENY_TICKET_UNSUPPORTED_SIGNATURE;
	case TICKET_UNKNOWN_SIGNER:
		return DENY_TICKET_UNKNOWN_SIGNER;
	case TICKET_WRONG_SIGNER:
		return DENY_TICKET_WRONG_SIGNER;
	case TICKET_UNKNOWN_APPROVER:
		return DENY_TICKET_UNKNOWN_APPROVER;
	case TICKET_OUT_OF_SCOPE:
		return DENY_TICKET_OUT_OF_SCOPE;
	}
	return DENY_TICKET_BAD_SIGNATURE;
}

/* How close a refused ticket came to admitting: the refusal reported is the closest one,
 * since it is the one the vendor or owner can act on. */
static int
deny_rank(enum deny_reason r)
{
	switch (r) {
	case DENY_TICKET_NEEDS_APPROVALS: /* valid in every other respect */
		return 6;
	case DENY_TICKET_USED_UP:
		return 5;
	case DENY_TICKET_NOT_YET_VALID:
		return 4;
	case DENY_TICKET_EXPIRED:
		return 3;
	case DENY_TICKET_REVOKED:
		return 2;
	default:
		return 1;
	}
}

enum deny_reason
ticket_check_lifetime(const struct gw_ticket *t, long long max, char *what, size_t len)
{
	char a[GW_TIME_UTC_LEN], b[GW_TIME_UTC_LEN];
	long long lifetime = (long long)t->not_after - (long long)t->not_before;

	if (lifetime <= max)
		return DENY_NONE;
	time_format_utc(t->not_before, a);
	time_format_utc(t->not_after, b);
	snprintf(what, len,
	    "ticket %s is valid for %lld s (%s to %s), longer than max_ticket_lifetime %lld s",
	    t->id, lifetime, a, b, max);
	return DENY_TICKET_TOO_LONG;
}

enum deny_reason
ticket_check_now(const struct gw_config *cfg, const struct gw_ticket *t,
    const struct ticket_set *set, time_t now, char *what, size_t len)
{
	const struct gw_revocation *rv;
	char a[GW_TIME_UTC_LEN], b[GW_TIME_UTC_LEN];
	enum deny_reason r;

	if (t->status != TICKET_VALID) {
		snprintf(what, len, "%s", t->problem);
		return deny_for_status(t->status);
	}
	/* A flaw of the ticket itself, like its signature: no later check makes it admit. */
	if ((r = ticket_check_lifetime(t, cfg->max_ticket_lifetime, what, len)) != DENY_NONE)
		return r;
	if ((rv = ticketset_find_revocation(set, t->id)) != NULL) {
		time_format_utc(rv->at, a);
		snprintf(what, len, "ticket %s was revoked at %s: %s", t->id, a, rv->reason);
		return DENY_TICKET_REVOKED;
	}
	if (now < t->not_before) {
		time_format_utc(t->not_before, a);
		snprintf(what, len, "ticket %s is valid from %s", t->id, a);
		return DENY_TICKET_NOT_YET_VALID;
	}
	if (now >= t->not_after) {
		time_format_utc(t->not_after, b);
		snprintf(what, len, "ticket %s expired at %s", t->id, b);
		return DENY_TICKET_EXPIRED;
	}
	if (t->max_sessions != 0 && t->used_sessions >= t->max_sessions) {
		snprintf(what, len, "ticket %s allows %u sessions and %u were used", t->id,
		    t->max_sessions, t->used_sessions);
		return DENY_TICKET_USED_UP;
	}
	return DENY_NONE;
}

/* The ticket's verified approvers, comma-separated, whole names only; for a refused ticket
 * without any, the approver its text names. */
static void
decision_join_approvers(const struct gw_ticket *t, char *buf, size_t len)
{
	size_t i, n = 0;

	snprintf(buf, len, "%s", t->napprovers == 0 && t->approver != NULL ? t->approver : "");
	for (i = 0; i < t->napprovers; i++) {
		if (n + (n > 0) + strlen(t->approvers[i]) >= len)
			break;
		n += (size_t)snprintf(buf + n, len - n, "%s%s", n > 0 ? "," : "", t->approvers[i]);
	}
}

/* Whether ticket t, valid now, carries the approvals target needs; what says why not. */
static enum deny_reason
decision_approvals(
    const struct gw_ticket *t, unsigned needed, const char *target, char *what, size_t len)
{
	char who[GW_APPROVALS_MAX * (GW_ID_MAX + 2)];

	if (t->napprovers >= needed)
		return DENY_NONE;
	decision_join_approvers(t, who, sizeof(who));
	snprintf(what, len, "ticket %s has %zu of the %u approvals %s needs (signed by %.180s)",
	    t->id, t->napprovers, needed, target, who);
	return DENY_TICKET_NEEDS_APPROVALS;
}

static void
decision_ticket_deny(struct decision *d, enum deny_reason r, const struct gw_ticket *t,
    const char *target, unsigned needed, const char *what)
{
	char when[GW_TIME_UTC_LEN];

	switch (r) {
	case DENY_TICKET_NOT_YET_VALID:
		time_format_utc(t->not_before, when);
		snprintf(d->vendor_msg, sizeof(d->vendor_msg),
		    "approval ticket %s for %s is valid from %s", t->id, target, when);
		break;
	case DENY_TICKET_REVOKED:
		snprintf(
		    d->vendor_msg, sizeof(d->vendor_msg), "approval ticket %s was revoked", t->id);
		break;
	case DENY_TICKET_USED_UP:
		snprintf(d->vendor_msg, sizeof(d->vendor_msg),
		    "approval ticket %s has no sessions left", t->id);
		break;
	case DENY_TICKET_EXPIRED:
		snprintf(d->vendor_msg, sizeof(d->vendor_msg), "no approval ticket covers %s now",
		    target);
		break;
	case DENY_TICKET_TOO_LONG:
		snprintf(d->vendor_msg, sizeof(d->vendor_msg),
		    "approval ticket %s for %s is valid for longer than this gateway allows", t->id,
		    target);
		break;
	case DENY_TICKET_NEEDS_APPROVALS:
		snprintf(d->vendor_msg, sizeof(d->vendor_msg),
		    "approval ticket %s has %zu of %u approvals", t->id, t->napprovers, needed);
		break;
	default: /* signature problems are the owner's to fix; the audit text says which */
		snprintf(d->vendor_msg, sizeof(d->vendor_msg),
		    "approval ticket %s for %s was refused by the gateway", t->id, target);
		break;
	}
	d->allow = false;
	d->reason = r;
	snprintf(d->ticket_id, sizeof(d->ticket_id), "%s", t->id);
	decision_join_approvers(t, d->approvers, sizeof(d->approvers));
	snprintf(d->audit_msg, sizeof(d->audit_msg), "%s", what);
}

static bool
decision_window(struct decision *d, const struct gw_person *p, const struct gw_grant *g, time_t now,
    time_t limit, time_t *ends_at)
{
	/* Person and grant windows narrow the vendor's; every configured level must agree. */
	const struct gw_window_set *levels[] = { &p->vendor->windows, &p->windows, &g->windows };
	const size_t n = sizeof(levels) / sizeof(levels[0]);
	const struct gw_window *opener;
	char when[96];
	time_t next;

	if (p->vendor->windows.n == 0) {
		decision_deny(d, DENY_NO_WINDOW, "no access window is configured for you");
		snprintf(d->audit_msg, sizeof(d->audit_msg), "vendor %s has no access window",
		    p->vendor->id);
		return false;
	}
	if (window_levels_contain(levels, n, now, limit, ends_at))
		return true;
	next = window_levels_next_open(levels, n, now, now + DECISION_HORIZON, &opener);
	if (next == 0 || opener == NULL) {
		decision_deny(
		    d, DENY_OUTSIDE_WINDOW, "outside access window; no window opens soon");
		snprintf(d->audit_msg, sizeof(d->audit_msg),
		    "person %s is outside the access windows "
		    "of vendor %s for %s; none opens within %d days",
		    p->id, p->vendor->id, g->targets[0], DECISION_HORIZON / 86400);
		return false;
	}
	window_format_open(opener, next, now, when, sizeof(when));
	snprintf(d->vendor_msg, sizeof(d->vendor_msg),
	    "outside access window; next window opens %s", when);
	d->allow = false;
	d->reason = DENY_OUTSIDE_WINDOW;
	time_format_utc(next, when);
	snprintf(d->audit_msg, sizeof(d->audit_msg),
	    "person %s of vendor %s is outside the access "
	    "windows; next opens at %s",
	    p->id, p->vendor->id, when);
	return false;
}

static bool
grant_forwards(const struct gw_grant *g, const char *target, int port)
{
	size_t i;

	for (i = 0; i < g->nforwards; i++)
		if (g->forwards[i].port == port && strcmp(g->forwards[i].target, target) == 0)
			return true;
	return false;
}

void
policy_decide(const struct gw_config *cfg, const struct ticket_set *tickets,
    const struct access_request *req, struct decision *d)
{
	const struct gw_person *p;
	const struct gw_target *t;
	const struct gw_grant *g;
	const struct gw_ticket *best = NULL, *refused = NULL;
	enum deny_reason refusal = DENY_NONE;
	char what[GW_REASON_MAX], refused_what[GW_REASON_MAX] = "", until[GW_TIME_UTC_LEN];
	time_t ends_at, window_end;
	unsigned needed;
	size_t i;

	memset(d, 0, sizeof(*d));
	if ((p = config_find_person(cfg, req->person)) == NULL) {
		decision_deny(d, DENY_UNKNOWN_PERSON, "access denied");
		snprintf(
		    d->audit_msg, sizeof(d->audit_msg), "person %s is not configured", req->person);
		return;
	}
	if (!p->vendor->enabled) {
		decision_deny(d, DENY_VENDOR_DISABLED, "vendor account is disabled");
		snprintf(
		    d->audit_msg, sizeof(d->audit_msg), "vendor %s is disabled", p->vendor->id);
		return;
	}
	if (p->vendor->expires != 0 && req->now >= p->vendor->expires) {
		decision_deny(d, DENY_VENDOR_EXPIRED, "vendor account has expired");
		snprintf(d->audit_msg, sizeof(d->audit_msg), "vendor %s expired at %lld",
		    p->vendor->id, (long long)p->vendor->expires);
		return;
	}
	/* Unknown and ungranted targets read the same to the vendor: no probing of the plant. */
	if ((t = config_find_target(cfg, req->target)) == NULL) {
		decision_deny(d, DENY_UNKNOWN_TARGET, "no such target, or not granted to you");
		snprintf(
		    d->audit_msg, sizeof(d->audit_msg), "target %s is not registered", req->target);
		return;
	}
	if ((g = config_find_grant(cfg, p->vendor->id, t->name)) == NULL) {
		decision_deny(d, DENY_NO_GRANT, "no such target, or not granted to you");
		snprintf(d->audit_msg, sizeof(d->audit_msg), "no grant gives vendor %s target %s",
		    p->vendor->id, t->name);
		return;
	}
	if (req->forward_port != 0 && !grant_forwards(g, t->name, req->forward_port)) {
		decision_deny(d, DENY_NO_FORWARD, "forwarding to this destination is not granted");
		snprintf(d->audit_msg, sizeof(d->audit_msg),
		    "the grant of vendor %s for target %s does not list forward \"%s:%d\"",
		    p->vendor->id, t->name, t->name, req->forward_port);
		return;
	}
	/* Of the tickets that admit, the one lasting longest; of those that do not, the closest. */
	needed = config_approvals_needed(cfg, p->vendor->id, t->name);
	for (i = 0; tickets != NULL && i < tickets->ntickets; i++) {
		const struct gw_ticket *k = tickets->tickets[i];
		enum deny_reason r;

		if (!ticket_covers(k, p, t->name))
			continue;
		r = ticket_check_now(cfg, k, tickets, req->now, what, sizeof(what));
		if (r == DENY_TICKET_USED_UP && req->forward_port != 0)
			r = DENY_NONE; /* a tunnel is not a session (struct access_request) */
		if (r == DENY_NONE)
			r = decision_approvals(k, needed, t->name, what, sizeof(what));
		if (r == DENY_NONE) {
			if (best == NULL || k->not_after > best->not_after)
				best = k;
		} else if (refused == NULL || deny_rank(r) > deny_rank(refusal)) {
			refused = k;
			refusal = r;
			snprintf(refused_what, sizeof(refused_what), "%s", what);
		}
	}
	ends_at = best != NULL ? best->not_after : 0;
	if (p->vendor->expires != 0 && (ends_at == 0 || p->vendor->expires < ends_at))
		ends_at = p->vendor->expires;
	if (!decision_window(d, p, g, req->now,
	        ends_at != 0 ? ends_at : req->now + DECISION_HORIZON, &window_end))
		return;
	if (best == NULL && refused != NULL) {
		decision_ticket_deny(d, refusal, refused, t->name, needed, refused_what);
		return;
	}
	if (best == NULL) {
		/* The way to one, in words the vendor can paste (docs/console.md). */
		snprintf(d->vendor_msg, sizeof(d->vendor_msg),
		    "no approval ticket covers %s now; request one with: ssh %s@GATEWAY request %s "
		    "--for 2h --reason TEXT",
		    t->name, p->id, t->name);
		d->allow = false;
		d->reason = DENY_NO_TICKET;
		snprintf(d->audit_msg, sizeof(d->audit_msg),
		    "no ticket names %s or vendor %s for "
		    "target %s",
		    p->id, p->vendor->id, t->name);
		return;
	}
	snprintf(d->ends_by, sizeof(d->ends_by), "approval ticket %s", best->id);
	if (p->vendor->expires != 0 && ends_at == p->vendor->expires && ends_at < best->not_after)
		snprintf(d->ends_by, sizeof(d->ends_by), "account expiry");
	if (window_end < ends_at) {
		ends_at = window_end;
		snprintf(d->ends_by, sizeof(d->ends_by), "access window");
	}
	d->allow = true;
	d->reason = DENY_NONE;
	d->channels = g->channels;
	d->ends_at = ends_at;
	snprintf(d->ticket_id, sizeof(d->ticket_id), "%s", best->id);
	decision_join_approvers(best, d->approvers, sizeof(d->approvers));
	snprintf(d->vendor_msg, sizeof(d->vendor_msg), "access granted");
	time_format_utc(ends_at, until);
	snprintf(d->audit_msg, sizeof(d->audit_msg),
	    "vendor %s person %s target %s: grant, window "
	    "and ticket %s (%s %s, %s) admit until %s",
	    p->vendor->id, p->id, t->name, best->id,
	    best->napprovers > 1 ? "approvers" : "approver", d->approvers, best->reason, until);
}
