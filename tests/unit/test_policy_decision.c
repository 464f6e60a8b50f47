/* test_policy_decision.c: the access decision (R1) as a table: each row is a request at a
 * time against the fixture config, fixture tickets (real ssh-keygen signatures),
 * revocations and used-session counts, with the expected verdict, reason and end. */
#include "unit.h"
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"
#include "policy_fixture.h"

#define MAX_TICKETS 3

struct decision_case {
	const char *name;
	const char *person;
	const char *target;
	const char *now;
	const char *tickets[MAX_TICKETS];
	const char *revoked;     /* ticket id revoked, or NULL */
	unsigned used;           /* sessions used under every ticket */
	unsigned max_sessions;   /* set on every ticket when non-zero */
	enum deny_reason reason; /* DENY_NONE: allowed */
	const char *ends_at;     /* when allowed */
	const char *vendor_msg;  /* substring */
	const char *audit_msg;   /* substring */
};

/* Fixture tickets: acme on plc-07, 2027-03-01 06:00-18:00Z. acme's window: Mon-Fri
 * 07:00-18:00 Europe/Berlin (06:00-17:00Z in March 2027). 2027-03-01 is a Monday. */
static const struct decision_case cases[] = {
	{ "signed ticket inside the window admits until the window ends", "acme.alice", "plc-07",
	    "2027-03-01T09:00:00Z", { "t-ed25519" }, NULL, 0, 0, DENY_NONE, "2027-03-01T17:00:00Z",
	    "access granted", "ticket t-ed25519 (approver lead-ed25519" },
	{ "ecdsa-signed ticket admits", "acme.bob", "plc-07", "2027-03-01T09:00:00Z",
	    { "t-ecdsa384" }, NULL, 0, 0, DENY_NONE, "2027-03-01T17:00:00Z", "access granted", "" },
	{ "rsa-signed ticket admits", "acme.bob", "plc-07", "2027-03-01T09:00:00Z", { "t-rsa" },
	    NULL, 0, 0, DENY_NONE, "2027-03-01T17:00:00Z", "access granted", "" },
	{ "person ticket admits its person", "acme.alice", "plc-07", "2027-03-01T09:00:00Z",
	    { "t-person" }, NULL, 0, 0, DENY_NONE, "2027-03-01T17:00:00Z", "access granted", "" },
	{ "person ticket does not admit a colleague", "acme.bob", "plc-07", "2027-03-01T09:00:00Z",
	    { "t-person" }, NULL, 0, 0, DENY_NO_TICKET, NULL,
	    "no approval ticket covers plc-07 now", "no ticket names acme.bob" },
	{ "ticket end before window end ends the session", "beta.carol", "plc-07",
	    "2027-03-01T09:00:00Z", { "t-ecdsa256-beta" }, NULL, 0, 0, DENY_NONE,
	    "2027-03-01T18:00:00Z", "access granted", "" },
	{ "account expiry before ticket end ends the session", "gone.erin", "plc-07",
	    "2027-03-01T09:00:00Z", { "t-ecdsa256-gone" }, NULL, 0, 0, DENY_NONE,
	    "2027-03-01T12:00:00Z", "access granted", "" },
	{ "no ticket at all", "acme.alice", "plc-07", "2027-03-01T09:00:00Z", { NULL }, NULL, 0, 0,
	    DENY_NO_TICKET, NULL, "no approval ticket covers plc-07 now", "" },
	{ "wrong target", "acme.alice", "hmi-02", "2027-03-01T09:00:00Z", { "t-ed25519" }, NULL, 0,
	    0, DENY_NO_TICKET, NULL, "no approval ticket covers hmi-02 now", "" },
	{ "wrong vendor", "beta.carol", "plc-07", "2027-03-01T09:00:00Z", { "t-ed25519" }, NULL, 0,
	    0, DENY_NO_TICKET, NULL, "no approval ticket covers plc-07 now", "vendor beta" },
	{ "ticket not yet valid", "beta.carol", "plc-07", "2027-03-01T05:59:59Z",
	    { "t-ecdsa256-beta" }, NULL, 0, 0, DENY_TICKET_NOT_YET_VALID, NULL,
	    "valid from 2027-03-01T06:00:00Z", "ticket t-ecdsa256 is valid from" },
	{ "window opening in one second is named", "acme.alice", "plc-07", "2027-03-01T05:59:59Z",
	    { "t-ed25519" }, NULL, 0, 0, DENY_OUTSIDE_WINDOW, NULL,
	    "next window opens Mon 07:00 Europe/Berlin", "next opens at 2027-03-01T06:00:00Z" },
	{ "ticket expired", "beta.carol", "plc-07", "2027-03-01T18:00:00Z", { "t-ecdsa256-beta" },
	    NULL, 0, 0, DENY_TICKET_EXPIRED, NULL, "no approval ticket covers plc-07 now",
	    "expired at 2027-03-01T18:00:00Z" },
	{ "one altered byte", "acme.alice", "plc-07", "2027-03-01T09:00:00Z", { "t-altered" }, NULL,
	    0, 0, DENY_TICKET_BAD_SIGNATURE, NULL, "refused by the gateway", "altered" },
	{ "unsigned ticket", "acme.alice", "plc-07", "2027-03-01T09:00:00Z", { "t-unsigned" }, NULL,
	    0, 0, DENY_TICKET_UNSIGNED, NULL, "refused by the gateway", "has no signature" },
	{ "non-approver signer", "acme.alice", "plc-07", "2027-03-01T09:00:00Z", { "t-outsider" },
	    NULL, 0, 0, DENY_TICKET_UNKNOWN_SIGNER, NULL, "refused by the gateway",
	    "no approver's key" },
	{ "signed by another approver than named", "acme.alice", "plc-07", "2027-03-01T09:00:00Z",
	    { "t-wrong-signer" }, NULL, 0, 0, DENY_TICKET_WRONG_SIGNER, NULL,
	    "refused by the gateway", "signed by approver area-b" },
	{ "approver outside scope", "acme.alice", "plc-07", "2027-03-01T09:00:00Z",
	    { "t-out-of-scope" }, NULL, 0, 0, DENY_TICKET_OUT_OF_SCOPE, NULL,
	    "refused by the gateway", "may not approve vendor acme on target plc-07" },
	{ "wrong namespace", "acme.alice", "plc-07", "2027-03-01T09:00:00Z",
	    { "t-wrong-namespace" }, NULL, 0, 0, DENY_TICKET_WRONG_NAMESPACE, NULL,
	    "refused by the gateway", "namespace" },
	{ "revoked", "acme.alice", "plc-07", "2027-03-01T09:00:00Z", { "t-ed25519" }, "t-ed25519",
	    0, 0, DENY_TICKET_REVOKED, NULL, "ticket t-ed25519 was revoked", "work cancelled" },
	{ "max sessions used up", "acme.alice", "plc-07", "2027-03-01T09:00:00Z", { "t-ed25519" },
	    NULL, 2, 2, DENY_TICKET_USED_UP, NULL, "no sessions left", "allows 2 sessions and 2" },
	{ "sessions left admit", "acme.alice", "plc-07", "2027-03-01T09:00:00Z", { "t-ed25519" },
	    NULL, 1, 2, DENY_NONE, "2027-03-01T17:00:00Z", "access granted", "" },
	{ "valid ticket wins over a refused one", "acme.alice", "plc-07", "2027-03-01T09:00:00Z",
	    { "t-altered", "t-rsa", "t-outsider" }, NULL, 0, 0, DENY_NONE, "2027-03-01T17:00:00Z",
	    "access granted", "ticket t-rsa" },
	{ "revoked ticket does not hide a valid one", "acme.alice", "plc-07",
	    "2027-03-01T09:00:00Z", { "t-ed25519", "t-rsa" }, "t-ed25519", 0, 0, DENY_NONE,
	    "2027-03-01T17:00:00Z", "access granted", "ticket t-rsa" },
	{ "outside window: monday before 07:00 Berlin", "acme.alice", "plc-07",
	    "2027-03-01T05:30:00Z", { "t-ed25519" }, NULL, 0, 0, DENY_OUTSIDE_WINDOW, NULL,
	    "outside access window; next window opens Mon 07:00 Europe/Berlin",
	    "2027-03-01T06:00:00Z" },
	{ "outside window on saturday names monday", "acme.alice", "plc-07", "2027-03-06T10:00:00Z",
	    { "t-ed25519" }, NULL, 0, 0, DENY_OUTSIDE_WINDOW, NULL,
	    "next window opens Mon 07:00 Europe/Berlin", "next opens at 2027-03-08T06:00:00Z" },
	{ "window checked before tickets", "acme.alice", "plc-07", "2027-03-01T17:30:00Z",
	    { "t-ed25519" }, NULL, 0, 0, DENY_OUTSIDE_WINDOW, NULL, "next window opens Tue 07:00",
	    "" },
	{ "vendor without windows", "nowin.dave", "plc-07", "2027-03-01T09:00:00Z", { NULL }, NULL,
	    0, 0, DENY_NO_WINDOW, NULL, "no access window", "vendor nowin has no access window" },
	{ "unknown person reveals nothing", "acme.mallory", "plc-07", "2027-03-01T09:00:00Z",
	    { "t-ed25519" }, NULL, 0, 0, DENY_UNKNOWN_PERSON, NULL, "access denied", "" },
	{ "disabled vendor", "off.frank", "plc-07", "2027-03-01T09:00:00Z", { NULL }, NULL, 0, 0,
	    DENY_VENDOR_DISABLED, NULL, "disabled", "" },
	{ "expired vendor", "gone.erin", "plc-07", "2027-03-01T12:00:00Z", { "t-ecdsa256-gone" },
	    NULL, 0, 0, DENY_VENDOR_EXPIRED, NULL, "expired", "" },
	{ "unknown target", "acme.alice", "plc-99", "2027-03-01T09:00:00Z", { "t-ed25519" }, NULL,
	    0, 0, DENY_UNKNOWN_TARGET, NULL, "no such target, or not granted to you", "" },
	{ "ungranted target", "beta.carol", "hmi-02", "2027-03-01T09:00:00Z", { NULL }, NULL, 0, 0,
	    DENY_NO_GRANT, NULL, "no such target, or not granted to you", "" },
	/* Dual control: rtu-09 needs 2 approvals, and so does vendor dual's grant on plc-07. */
	{ "one approval where the target needs two", "acme.alice", "rtu-09", "2027-03-01T09:00:00Z",
	    { "t-dual-one" }, NULL, 0, 0, DENY_TICKET_NEEDS_APPROVALS, NULL,
	    "approval ticket t-dual-one has 1 of 2 approvals",
	    "ticket t-dual-one has 1 of the 2 approvals rtu-09 needs (signed by dual-a)" },
	{ "two approvers admit where the target needs two", "acme.alice", "rtu-09",
	    "2027-03-01T09:00:00Z", { "t-dual" }, NULL, 0, 0, DENY_NONE, "2027-03-01T17:00:00Z",
	    "access granted", "ticket t-dual (approvers dual-a,dual-b," },
	{ "one approval where one is needed", "acme.alice", "plc-07", "2027-03-01T09:00:00Z",
	    { "t-dual-one" }, NULL, 0, 0, DENY_NONE, "2027-03-01T17:00:00Z", "access granted",
	    "(approver dual-a," },
	{ "the same approver twice is one approval", "acme.alice", "rtu-09", "2027-03-01T09:00:00Z",
	    { "t-dual-same" }, NULL, 0, 0, DENY_TICKET_NEEDS_APPROVALS, NULL,
	    "has 1 of 2 approvals", "(signed by dual-a)" },
	{ "a grant needing two refuses one", "dual.gina", "plc-07", "2027-03-01T09:00:00Z",
	    { "t-dual-one@dual" }, NULL, 0, 0, DENY_TICKET_NEEDS_APPROVALS, NULL,
	    "has 1 of 2 approvals", "2 approvals plc-07 needs" },
	{ "a grant needing two admits two", "dual.gina", "plc-07", "2027-03-01T09:00:00Z",
	    { "t-dual@dual" }, NULL, 0, 0, DENY_NONE, "2027-03-01T18:00:00Z", "access granted",
	    "dual-a,dual-b" },
	{ "a ticket with the approvals wins over one without", "acme.alice", "rtu-09",
	    "2027-03-01T09:00:00Z", { "t-dual-one", "t-dual" }, NULL, 0, 0, DENY_NONE,
	    "2027-03-01T17:00:00Z", "access granted", "ticket t-dual (" },
};

/* A fixture ticket re-issued for another vendor ("t-ecdsa256-beta", "t-dual@dual"): only its
 * signature status is kept, as if that vendor's ticket had verified the same way. */
static struct gw_ticket *
case_ticket(const struct gw_config *cfg, const char *name)
{
	const char *dash = strrchr(name, '-'), *at = strchr(name, '@');
	struct gw_ticket *t;
	char *id;

	if (at != NULL) {
		id = xstrndup(name, (size_t)(at - name));
		t = fixture_ticket(cfg, id);
		free(id);
		free(t->vendor);
		t->vendor = xstrdup(at + 1);
		return t;
	}
	if (strcmp(name, "t-ecdsa256-beta") != 0 && strcmp(name, "t-ecdsa256-gone") != 0)
		return fixture_ticket(cfg, name);
	t = fixture_ticket(cfg, "t-ecdsa256");
	free(t->vendor);
	t->vendor = xstrdup(dash + 1);
	return t;
}

START_TEST(test_policy_decide)
{
	const struct decision_case *c = &cases[_i];
	struct gw_config *cfg = fixture_config();
	struct ticket_set *set = ticketset_new();
	struct access_request req = { c->person, c->target, fixture_time(c->now), 0 };
	struct decision d;
	size_t i;

	for (i = 0; i < MAX_TICKETS && c->tickets[i] != NULL; i++) {
		struct gw_ticket *t = case_ticket(cfg, c->tickets[i]);

		t->used_sessions = c->used;
		if (c->max_sessions != 0)
			t->max_sessions = c->max_sessions;
		ticketset_add_ticket(set, t);
	}
	if (c->revoked != NULL)
		ticketset_add_revocation(
		    set, c->revoked, fixture_time("2027-03-01T08:00:00Z"), "work cancelled");
	policy_decide(cfg, set, &req, &d);
	ck_assert_msg(d.reason == c->reason, "%s: reason %s (%s)", c->name,
	    deny_reason_name(d.reason), d.audit_msg);
	ck_assert_msg(d.allow == (c->reason == DENY_NONE), "%s: allow", c->name);
	if (c->ends_at != NULL)
		ck_assert_msg(d.ends_at == fixture_time(c->ends_at), "%s: ends_at %lld", c->name,
		    (long long)d.ends_at);
	ck_assert_msg(strstr(d.vendor_msg, c->vendor_msg) != NULL, "%s: vendor text \"%s\"",
	    c->name, d.vendor_msg);
	ck_assert_msg(strstr(d.audit_msg, c->audit_msg) != NULL, "%s: audit text \"%s\"", c->name,
	    d.audit_msg);
	ticketset_free(set);
	config_free(cfg);
}
END_TEST

START_TEST(test_policy_decide_names_ticket_and_approver)
{
	struct gw_config *cfg = fixture_config();
	struct ticket_set *set = ticketset_new();
	struct access_request req = { "acme.alice", "plc-07", fixture_time("2027-03-01T09:00:00Z"),
		0 };
	struct decision d;

	ticketset_add_ticket(set, fixture_ticket(cfg, "t-rsa"));
	policy_decide(cfg, set, &req, &d);
	ck_assert(d.allow);
	ck_assert_str_eq(d.ticket_id, "t-rsa");
	ck_assert_str_eq(d.approvers, "lead-rsa");
	ck_assert_uint_eq(d.channels, GW_CHAN_DEFAULT);
	ticketset_free(set);
	config_free(cfg);
}
END_TEST

/* The fixture ticket is valid for 12 h: at the limit it admits, one second over it does not. */
START_TEST(test_policy_decide_ticket_longer_than_max_lifetime_denies)
{
	struct gw_config *cfg = fixture_config();
	struct ticket_set *set = ticketset_new();
	struct access_request req = { "acme.alice", "plc-07", fixture_time("2027-03-01T09:00:00Z"),
		0 };
	struct decision d;

	ticketset_add_ticket(set, fixture_ticket(cfg, "t-ed25519"));
	cfg->max_ticket_lifetime = 12 * 3600;
	policy_decide(cfg, set, &req, &d);
	ck_assert_msg(d.allow, "at the limit: %s", d.audit_msg);
	cfg->max_ticket_lifetime = 12 * 3600 - 1;
	policy_decide(cfg, set, &req, &d);
	ck_assert(!d.allow);
	ck_assert_int_eq(d.reason, DENY_TICKET_TOO_LONG);
	ck_assert_str_eq(deny_reason_name(d.reason), "ticket_lifetime_too_long");
	ck_assert_str_eq(d.vendor_msg,
	    "approval ticket t-ed25519 for plc-07 is valid for longer than this gateway allows");
	ck_assert_str_eq(d.audit_msg,
	    "ticket t-ed25519 is valid for 43200 s (2027-03-01T06:00:00Z to "
	    "2027-03-01T18:00:00Z), longer than max_ticket_lifetime 43199 s");
	ck_assert_str_eq(d.ticket_id, "t-ed25519");
	ticketset_free(set);
	config_free(cfg);
}
END_TEST

/* A tunnel is decided like a session to its destination, and its grant must list the
 * destination; it uses none of the ticket's sessions (issue 18). */
START_TEST(test_policy_decide_forward)
{
	struct gw_config *cfg = fixture_config();
	struct ticket_set *set = ticketset_new();
	struct gw_ticket *t = fixture_ticket(cfg, "t-ed25519");
	struct access_request req = { "acme.alice", "plc-07", fixture_time("2027-03-01T09:00:00Z"),
		502 };
	struct decision d;

	t->max_sessions = 1;
	t->used_sessions = 1;
	ticketset_add_ticket(set, t);
	policy_decide(cfg, set, &req, &d);
	ck_assert_msg(d.allow, "granted destination: %s", d.audit_msg);
	ck_assert_str_eq(d.ticket_id, "t-ed25519");
	req.forward_port = 0; /* the same ticket, used up, refuses a second session */
	policy_decide(cfg, set, &req, &d);
	ck_assert_int_eq(d.reason, DENY_TICKET_USED_UP);
	req.forward_port = 503;
	policy_decide(cfg, set, &req, &d);
	ck_assert(!d.allow);
	ck_assert_int_eq(d.reason, DENY_NO_FORWARD);
	ck_assert_str_eq(deny_reason_name(d.reason), "forward_not_granted");
	ck_assert_str_eq(d.vendor_msg, "forwarding to this destination is not granted");
	ck_assert_str_eq(d.audit_msg,
	    "the grant of vendor acme for target plc-07 does not list forward \"plc-07:503\"");
	/* Listed for another target of the grant only: hmi-02:502 is not plc-07:502. */
	req.target = "hmi-02";
	req.forward_port = 502;
	policy_decide(cfg, set, &req, &d);
	ck_assert_int_eq(d.reason, DENY_NO_FORWARD);
	/* Listed, but no ticket covers rtu-09: a tunnel needs its destination's approval. */
	req.target = "rtu-09";
	req.forward_port = 102;
	policy_decide(cfg, set, &req, &d);
	ck_assert_int_eq(d.reason, DENY_NO_TICKET);
	/* Another vendor's grant lists no forward at all. */
	req.person = "beta.carol";
	req.target = "plc-07";
	req.forward_port = 502;
	policy_decide(cfg, set, &req, &d);
	ck_assert_int_eq(d.reason, DENY_NO_FORWARD);
	ticketset_free(set);
	config_free(cfg);
}
END_TEST

START_TEST(test_policy_decide_names_every_approver)
{
	struct gw_config *cfg = fixture_config();
	struct ticket_set *set = ticketset_new();
	struct access_request req = { "acme.alice", "rtu-09", fixture_time("2027-03-01T09:00:00Z"),
		0 };
	struct decision d;

	ticketset_add_ticket(set, fixture_ticket(cfg, "t-dual-three"));
	policy_decide(cfg, set, &req, &d);
	ck_assert(d.allow);
	ck_assert_str_eq(d.approvers, "dual-a,dual-b,dual-c");
	ticketset_free(set);
	config_free(cfg);
}
END_TEST

/* The larger of the target's and the grant's requirement; 1 when neither says. */
START_TEST(test_config_approvals_needed)
{
	struct gw_config *cfg = fixture_config();

	ck_assert_uint_eq(config_approvals_needed(cfg, "acme", "plc-07"), 1);
	ck_assert_uint_eq(config_approvals_needed(cfg, "acme", "rtu-09"), 2);
	ck_assert_uint_eq(config_approvals_needed(cfg, "dual", "plc-07"), 2);
	ck_assert_uint_eq(config_approvals_needed(cfg, "beta", "plc-07"), 1);
	ck_assert_uint_eq(config_approvals_needed(cfg, "acme", "no-such"), 1);
	config_free(cfg);
}
END_TEST

START_TEST(test_policy_decide_without_ticket_set_denies)
{
	struct gw_config *cfg = fixture_config();
	struct access_request req = { "acme.alice", "plc-07", fixture_time("2027-03-01T09:00:00Z"),
		0 };
	struct decision d;

	policy_decide(cfg, NULL, &req, &d);
	ck_assert(!d.allow);
	ck_assert_int_eq(d.reason, DENY_NO_TICKET);
	config_free(cfg);
}
END_TEST

/* Same vendor text for an unknown person whatever the target: nothing to probe. */
START_TEST(test_policy_decide_unknown_person_text_is_constant)
{
	struct gw_config *cfg = fixture_config();
	struct access_request a = { "acme.mallory", "plc-07", fixture_time("2027-03-01T09:00:00Z"),
		0 };
	struct access_request b = { "zzz.nobody", "no-such", fixture_time("2027-03-06T09:00:00Z"),
		0 };
	struct decision da, db;

	policy_decide(cfg, NULL, &a, &da);
	policy_decide(cfg, NULL, &b, &db);
	ck_assert_str_eq(da.vendor_msg, db.vendor_msg);
	config_free(cfg);
}
END_TEST

Suite *
unit_suite(void)
{
	Suite *s = suite_create("policy_decision");
	TCase *tc = tcase_create("decision");

	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_policy_decide, 0, (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, test_policy_decide_names_ticket_and_approver);
	tcase_add_test(tc, test_policy_decide_ticket_longer_than_max_lifetime_denies);
	tcase_add_test(tc, test_policy_decide_names_every_approver);
	tcase_add_test(tc, test_policy_decide_forward);
	tcase_add_test(tc, test_config_approvals_needed);
	tcase_add_test(tc, test_policy_decide_without_ticket_set_denies);
	tcase_add_test(tc, test_policy_decide_unknown_person_text_is_constant);
	suite_add_tcase(s, tc);
	return s;
}
