/* test_ticket.c: ticket parsing (hostile text refused with FILE:LINE reasons) and
 * verification of signer and approver scope against the policy's approvers. */
#include "unit.h"
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"
#include "policy_fixture.h"

struct verify_case {
	const char *ticket;
	enum ticket_status status;
	const char *problem; /* substring of the precise reason */
};

static const struct verify_case verify_cases[] = {
	{ "t-ed25519", TICKET_VALID, "" },
	{ "t-ecdsa256", TICKET_VALID, "" },
	{ "t-ecdsa384", TICKET_VALID, "" },
	{ "t-ecdsa521", TICKET_VALID, "" },
	{ "t-rsa", TICKET_VALID, "" },
	{ "t-rsa-sha256", TICKET_VALID, "" },
	{ "t-person", TICKET_VALID, "" },
	{ "t-unsigned", TICKET_UNSIGNED, "has no signature" },
	{ "t-altered", TICKET_BAD_SIGNATURE, "altered" },
	{ "t-wrong-namespace", TICKET_WRONG_NAMESPACE, "namespace" },
	{ "t-outsider", TICKET_UNKNOWN_SIGNER, "no approver's key" },
	{ "t-wrong-signer", TICKET_WRONG_SIGNER, "signed by approver area-b" },
	{ "t-out-of-scope", TICKET_OUT_OF_SCOPE, "may not approve vendor acme on target plc-07" },
};

START_TEST(test_ticket_verify_status)
{
	const struct verify_case *c = &verify_cases[_i];
	struct gw_config *cfg = fixture_config();
	struct gw_ticket *t = fixture_ticket(cfg, c->ticket);

	ck_assert_msg(t->status == c->status, "%s: status %s (%s)", c->ticket,
	    ticket_status_name(t->status), t->problem);
	ck_assert_msg(
	    strstr(t->problem, c->problem) != NULL, "%s: problem \"%s\"", c->ticket, t->problem);
	ticket_free(t);
	config_free(cfg);
}
END_TEST

START_TEST(test_ticket_verify_names_signer_fingerprint)
{
	struct gw_config *cfg = fixture_config();
	struct gw_ticket *t = fixture_ticket(cfg, "t-outsider");
	char *fp = fixture_read("tickets/outsider.fp", NULL);

	fp[strcspn(fp, "\n")] = '\0';
	ck_assert_str_eq(t->signer, fp);
	ck_assert(strstr(t->problem, fp) != NULL);
	free(fp);
	ticket_free(t);
	config_free(cfg);
}
END_TEST

START_TEST(test_ticket_unknown_approver_named)
{
	static const char text[] =
	    "id = \"t-1\"; vendor = \"acme\"; targets = [\"plc-07\"];\n"
	    "not_before = \"2027-03-01\"; not_after = \"2027-03-02\"; approver = \"nobody\";\n"
	    "reason = \"x\";\n";
	struct gw_config *cfg = fixture_config();
	char *sig = fixture_read("tickets/t-ed25519.ticket.sig", NULL), *errors;
	struct gw_ticket *t;

	ck_assert_int_eq(ticket_parse(text, strlen(text), "t", &t, &errors), 0);
	ticket_verify(t, text, strlen(text), sig, strlen(sig), cfg);
	/* The signature is over other text: refused before the approver is even looked at. */
	ck_assert_int_eq(t->status, TICKET_BAD_SIGNATURE);
	free(sig);
	ticket_free(t);
	config_free(cfg);
}
END_TEST

START_TEST(test_ticket_parse_fields)
{
	static const char text[] =
	    "id = \"wo-4711\";\nperson = \"acme.alice\";\n"
	    "targets = [ \"plc-07\", \"hmi-02\" ];\nnot_before = \"2027-03-01T06:00:00Z\";\n"
	    "not_after = \"2027-03-01T18:00:00Z\";\napprover = \"lead-a\";\n"
	    "reason = \"WO-4711\";\nmax_sessions = 3;\n";
	struct gw_ticket *t;
	char *errors;

	ck_assert_int_eq(ticket_parse(text, strlen(text), "t", &t, &errors), 0);
	ck_assert_str_eq(t->id, "wo-4711");
	ck_assert_str_eq(t->person, "acme.alice");
	ck_assert_str_eq(t->vendor, "acme");
	ck_assert_uint_eq(t->ntargets, 2);
	ck_assert(ticket_names_target(t, "hmi-02"));
	ck_assert(!ticket_names_target(t, "plc-7"));
	ck_assert_int_eq(t->not_before, fixture_time("2027-03-01T06:00:00Z"));
	ck_assert_int_eq(t->not_after, fixture_time("2027-03-01T18:00:00Z"));
	ck_assert_uint_eq(t->max_sessions, 3);
	ck_assert_int_eq(t->status, TICKET_UNSIGNED);
	ticket_free(t);
}
END_TEST

struct parse_case {
	const char *name;
	const char *text;
	const char *error;
};

#define BASE_REST                                                                                  \
	"targets = [\"plc-07\"]; not_before = \"2027-03-01\"; "                                    \
	"not_after = \"2027-03-02\"; approver = \"a\"; reason = \"r\";\n"

static const struct parse_case parse_cases[] = {
	{ "missing id", "vendor = \"acme\";\n" BASE_REST, "missing required setting \"id\"" },
	{ "id with slash", "id = \"../x\"; vendor = \"acme\";\n" BASE_REST,
	    "ticket id \"../x\" is not valid" },
	{ "id with leading dash", "id = \"-WO-1\"; vendor = \"acme\";\n" BASE_REST,
	    "ticket id \"-WO-1\" is not valid" },
	{ "non-ASCII id", "id = \"wo-\xc3\xa9\"; vendor = \"acme\";\n" BASE_REST,
	    "ticket id \"(non-ASCII)\" is not valid" },
	{ "both vendor and person",
	    "id = \"t\"; vendor = \"acme\"; person = \"acme.a\";\n" BASE_REST, "exactly one of" },
	{ "neither vendor nor person", "id = \"t\";\n" BASE_REST, "exactly one of" },
	{ "person without vendor part", "id = \"t\"; person = \"alice\";\n" BASE_REST,
	    "person must be VENDOR.NAME" },
	{ "unknown setting", "id = \"t\"; vendor = \"acme\"; admin = true;\n" BASE_REST,
	    "t:1: unknown setting \"admin\"" },
	{ "empty targets",
	    "id = \"t\"; vendor = \"acme\"; targets = []; not_before = \"2027-03-01\";"
	    " not_after = \"2027-03-02\"; approver = \"a\"; reason = \"r\";",
	    "\"targets\" must be" },
	{ "interval backwards",
	    "id = \"t\"; vendor = \"acme\"; targets = [\"plc-07\"]; "
	    "not_before = \"2027-03-02\"; not_after = \"2027-03-01\"; approver = \"a\"; reason = "
	    "\"r\";",
	    "not_after must be later" },
	{ "february 30",
	    "id = \"t\"; vendor = \"acme\"; targets = [\"plc-07\"]; "
	    "not_before = \"2027-02-30\"; not_after = \"2027-03-03\"; approver = \"a\"; reason = "
	    "\"r\";",
	    "\"not_before\" must be a UTC time" },
	{ "zero max sessions", "id = \"t\"; vendor = \"acme\"; max_sessions = 0;\n" BASE_REST,
	    "\"max_sessions\" must be" },
	{ "control character in reason",
	    "id = \"t\"; vendor = \"acme\"; targets = [\"plc-07\"]; "
	    "not_before = \"2027-03-01\"; not_after = \"2027-03-02\"; approver = \"a\"; "
	    "reason = \"a\\nb\";",
	    "control characters" },
	{ "include directive", "@include \"/etc/passwd\"\nid = \"t\";", "@include" },
	{ "syntax error", "id = \"t\"\nvendor = ;", "t:2:" },
};

START_TEST(test_ticket_parse_refuses)
{
	const struct parse_case *c = &parse_cases[_i];
	struct gw_ticket *t;
	char *errors = NULL;

	ck_assert_msg(
	    ticket_parse(c->text, strlen(c->text), "t", &t, &errors) == -1, "%s parsed", c->name);
	ck_assert_ptr_null(t);
	ck_assert_msg(errors != NULL && strstr(errors, c->error) != NULL, "%s: errors \"%s\"",
	    c->name, errors ? errors : "(none)");
	free(errors);
}
END_TEST

START_TEST(test_ticket_covers_vendor_or_person)
{
	struct gw_config *cfg = fixture_config();
	struct gw_ticket *v = fixture_ticket(cfg, "t-ed25519"),
	                 *p = fixture_ticket(cfg, "t-person");
	const struct gw_person *alice = config_find_person(cfg, "acme.alice");
	const struct gw_person *bob = config_find_person(cfg, "acme.bob");
	const struct gw_person *carol = config_find_person(cfg, "beta.carol");

	ck_assert(ticket_covers(v, alice, "plc-07"));
	ck_assert(ticket_covers(v, bob, "plc-07"));
	ck_assert(!ticket_covers(v, carol, "plc-07"));
	ck_assert(!ticket_covers(v, alice, "hmi-02"));
	ck_assert(ticket_covers(p, alice, "plc-07"));
	ck_assert(!ticket_covers(p, bob, "plc-07"));
	ticket_free(v);
	ticket_free(p);
	config_free(cfg);
}
END_TEST

START_TEST(test_ticket_id_upper_case_accepted)
{
	char id[GW_ID_MAX + 2];
	struct gw_ticket *t;
	char *errors = NULL;
	const char *text = "id = \"WO-2026-118\"; vendor = \"acme\";\n" BASE_REST;

	ck_assert(ticket_id_is_valid("WO-2026-118"));
	ck_assert(ticket_id_is_valid("wo-4711"));
	ck_assert(ticket_id_is_valid("Wo.7_B"));
	ck_assert(!ticket_id_is_valid(""));
	ck_assert(!ticket_id_is_valid(".WO"));
	ck_assert(!ticket_id_is_valid("-WO"));
	ck_assert(!ticket_id_is_valid("WO/1"));
	ck_assert(!ticket_id_is_valid("WO 1"));
	memset(id, 'W', GW_ID_MAX);
	id[GW_ID_MAX] = '\0';
	ck_assert(ticket_id_is_valid(id));
	id[GW_ID_MAX] = 'W';
	id[GW_ID_MAX + 1] = '\0';
	ck_assert(!ticket_id_is_valid(id));
	ck_assert_int_eq(ticket_parse(text, strlen(text), "t", &t, &errors), 0);
	ck_assert_str_eq(t->id, "WO-2026-118");
	ticket_free(t);
	free(errors);
}
END_TEST

Suite *
unit_suite(void)
{
	Suite *s = suite_create("ticket");
	TCase *tc = tcase_create("ticket");

	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_ticket_verify_status, 0,
	    (int)(sizeof(verify_cases) / sizeof(verify_cases[0])));
	tcase_add_test(tc, test_ticket_verify_names_signer_fingerprint);
	tcase_add_test(tc, test_ticket_unknown_approver_named);
	tcase_add_test(tc, test_ticket_parse_fields);
	tcase_add_test(tc, test_ticket_id_upper_case_accepted);
	tcase_add_loop_test(
	    tc, test_ticket_parse_refuses, 0, (int)(sizeof(parse_cases) / sizeof(parse_cases[0])));
	tcase_add_test(tc, test_ticket_covers_vendor_or_person);
	suite_add_tcase(s, tc);
	return s;
}
