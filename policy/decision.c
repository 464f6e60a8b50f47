/* decision.c: the access decision (R1), a pure function of its inputs.
 * Default deny; every refusal carries a short vendor text and a precise audit text. */
#include "policy/policy.h"

#include <stdio.h>
#include <string.h>

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

void
policy_decide(const struct gw_config *cfg, const struct access_request *req, struct decision *d)
{
	const struct gw_person *p;
	const struct gw_target *t;
	const struct gw_grant *g;

	memset(d, 0, sizeof(*d));
	if ((p = config_find_person(cfg, req->person)) == NULL) {
		decision_deny(d, DENY_UNKNOWN_PERSON, "access denied");
		snprintf(d->audit_msg, sizeof(d->audit_msg), "person %s is not configured", req->person);
		return;
	}
	if (!p->vendor->enabled) {
		decision_deny(d, DENY_VENDOR_DISABLED, "vendor account is disabled");
		snprintf(d->audit_msg, sizeof(d->audit_msg), "vendor %s is disabled", p->vendor->id);
		return;
	}
	if (p->vendor->expires != 0 && req->now >= p->vendor->expires) {
		decision_deny(d, DENY_VENDOR_EXPIRED, "vendor account has expired");
		snprintf(d->audit_msg, sizeof(d->audit_msg), "vendor %s expired at %lld", p->vendor->id,
		    (long long)p->vendor->expires);
		return;
	}
	/* Unknown and ungranted targets read the same to the vendor: no probing of the plant. */
	if ((t = config_find_target(cfg, req->target)) == NULL) {
		decision_deny(d, DENY_UNKNOWN_TARGET, "no such target, or not granted to you");
		snprintf(d->audit_msg, sizeof(d->audit_msg), "target %s is not registered", req->target);
		return;
	}
	if ((g = config_find_grant(cfg, p->vendor->id, t->name)) == NULL) {
		decision_deny(d, DENY_NO_GRANT, "no such target, or not granted to you");
		snprintf(d->audit_msg, sizeof(d->audit_msg), "no grant gives vendor %s target %s",
		    p->vendor->id, t->name);
		return;
	}
	d->allow = true;
	d->reason = DENY_NONE;
	d->channels = g->channels;
	d->ends_at = p->vendor->expires;
	snprintf(d->vendor_msg, sizeof(d->vendor_msg), "access granted");
	snprintf(d->audit_msg, sizeof(d->audit_msg), "grant for vendor %s covers target %s",
	    p->vendor->id, t->name);
}
