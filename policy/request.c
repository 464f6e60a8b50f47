/* request.c: a person's access request and the ticket it proposes: whether it may be made
 * (grant, windows, lifetime, reason), its state as shown, and the canonical ticket text an
 * approver signs. Pure: no I/O, no clock (now is given). */
#include "policy/policy.h"

#include <libconfig.h>
#include <stdio.h>
#include <string.h>

#include "common/xmalloc.h"

/* Text a person typed, shown later on approvers' terminals: valid UTF-8 without C0 or C1
 * control characters or DEL. */
bool
request_text_is_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n, k;

	while (*p != '\0') {
		if (*p < 0x80) {
			if (*p < 0x20 || *p == 0x7f)
				return false;
			p++;
			continue;
		}
		n = (*p & 0xe0) == 0xc0 ? 1 : (*p & 0xf0) == 0xe0 ? 2 : (*p & 0xf8) == 0xf0 ? 3 : 0;
		if (n == 0 || (n == 1 && *p < 0xc2) || (*p == 0xc2 && p[1] < 0xa0))
			return false; /* not a lead byte, overlong, or a C1 control */
		for (k = 1; k <= n; k++)
			if ((p[k] & 0xc0) != 0x80)
				return false;
		if ((n == 2 && *p == 0xe0 && p[1] < 0xa0) ||
		    (n == 2 && *p == 0xed && p[1] >= 0xa0) ||
		    (n == 3 && *p == 0xf0 && p[1] < 0x90) || (n == 3 && *p > 0xf4))
			return false;
		p += n + 1;
	}
	return true;
}

int
request_check(
    const struct gw_config *cfg, const struct gw_request *rq, time_t now, char *why, size_t whylen)
{
	const struct gw_person *p = config_find_person(cfg, rq->person);
	const struct gw_grant *g;
	const struct gw_window_set *levels[3];
	const struct gw_window *w;
	time_t ends;
	size_t n = 0;

	if (p == NULL || p->vendor->role != GW_ROLE_VENDOR) {
		snprintf(why, whylen, "only a vendor's person may request access");
		return -1;
	}
	if (!p->vendor->enabled ||
	    (p->vendor->expires != 0 && rq->not_before >= p->vendor->expires)) {
		snprintf(
		    why, whylen, "vendor %s has no access (disabled or expired)", p->vendor->id);
		return -1;
	}
	if (config_find_target(cfg, rq->target) == NULL ||
	    (g = config_find_grant(cfg, p->vendor->id, rq->target)) == NULL) {
		snprintf(why, whylen, "%s has no grant for target %s", p->vendor->id, rq->target);
		return -1;
	}
	if (rq->not_after <= rq->not_before || rq->not_after <= now) {
		snprintf(why, whylen, "the requested interval is empty or past");
		return -1;
	}
	if (rq->not_after - rq->not_before > cfg->max_ticket_lifetime) {
		/* The ticket it proposes could never admit (max_ticket_lifetime). */
		snprintf(why, whylen, "a request covers at most %lld hours (max_ticket_lifetime)",
		    cfg->max_ticket_lifetime / 3600);
		return -1;
	}
	if (rq->reason[0] == '\0' || !request_text_is_valid(rq->reason)) {
		snprintf(why, whylen, "the reason must be printable text (no control characters)");
		return -1;
	}
	levels[n++] = &p->vendor->windows;
	levels[n++] = &p->windows;
	levels[n++] = &g->windows;
	if (!window_levels_contain(levels, n, rq->not_before, rq->not_after, &ends) &&
	    window_levels_next_open(levels, n, rq->not_before, rq->not_after, &w) == 0) {
		snprintf(why, whylen,
		    "no access window of %s is open between the requested start and end", p->id);
		return -1;
	}
	return 0;
}

const char *
request_state_name(enum request_state s)
{
	switch (s) {
	case REQUEST_PENDING:
		return "pending";
	case REQUEST_APPROVED:
		return "approved";
	case REQUEST_DENIED:
		return "denied";
	}
	return "unknown";
}

int
request_state_parse(const char *name, enum request_state *out)
{
	static const enum request_state all[] = { REQUEST_PENDING, REQUEST_APPROVED,
		REQUEST_DENIED };
	size_t i;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (strcmp(name, request_state_name(all[i])) == 0) {
			*out = all[i];
			return 0;
		}
	return -1;
}

void
request_describe(const struct gw_request *rq, time_t now, char *buf, size_t len)
{
	char until[GW_TIME_UTC_LEN];

	time_format_utc(rq->not_after, until);
	if (rq->state == REQUEST_DENIED)
		snprintf(buf, len, "denied by %s: %s", rq->decided_by, rq->deny_reason);
	else if (now >= rq->not_after)
		snprintf(buf, len, "expired");
	else if (rq->state == REQUEST_APPROVED)
		snprintf(buf, len, "approved until %s by %s", until, rq->decided_by);
	else if (rq->decided_by[0] != '\0')
		snprintf(
		    buf, len, "pending (approved by %s, more approvals needed)", rq->decided_by);
	else
		snprintf(buf, len, "pending");
}

static void
request_text_string(config_setting_t *root, const char *key, const char *value)
{
	config_setting_set_string(config_setting_add(root, key, CONFIG_TYPE_STRING), value);
}

int
request_ticket_text(const struct gw_request *rq, char **text, size_t *len)
{
	char when[GW_TIME_UTC_LEN];
	config_setting_t *root;
	config_t lc;
	FILE *f;

	/* libconfig writes the text, as `gatewayctl ticket new` does: one canonical form. */
	config_init(&lc);
	root = config_root_setting(&lc);
	request_text_string(root, "id", rq->id);
	request_text_string(root, "person", rq->person); /* a person's ticket: its vendor follows */
	config_setting_set_string_elem(
	    config_setting_add(root, "targets", CONFIG_TYPE_ARRAY), -1, rq->target);
	time_format_utc(rq->not_before, when);
	request_text_string(root, "not_before", when);
	time_format_utc(rq->not_after, when);
	request_text_string(root, "not_after", when);
	request_text_string(root, "reason", rq->reason);
	*text = NULL;
	*len = 0;
	if ((f = open_memstream(text, len)) == NULL) {
		config_destroy(&lc);
		return -1;
	}
	config_write(&lc, f);
	config_destroy(&lc);
	return fclose(f) == 0 ? 0 : -1;
}
