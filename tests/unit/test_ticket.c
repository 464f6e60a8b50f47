/* test_ticket.c: ticket parsing (hostile text refused with FILE:LINE reasons) and
 * verification of signer and approver scope against the policy's approvers. */
#include "unit.h"
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy/policy.h"
#include "policy_fixture.h"

struct verify_case {
	const char *ticket;
	enum ticket_status status;
	const char *problem;   /* substring of the precise reason */
	const char *approvers; /* the verified approvers, comma-separated; NULL: not checked */
};

static const struct verify_case verify_cases[] = {
	{ "t-ed25519", TICKET_VALID, "", "lead-ed25519" },
	{ "t-ecdsa256", TICKET_VALID, "", "lead-ecdsa256" },
	{ "t-ecdsa384", TICKET_VALID, "", "lead-ecdsa384" },
	{ "t-ecdsa521", TICKET_VALID, "", "lead-ecdsa521" },
	{ "t-rsa", TICKET_VALID, "", "lead-rsa" },
	{ "t-rsa-sha256", TICKET_VALID, "", "lead-rsa" },
	{ "t-person", TICKET_VALID, "", "lead-ed25519" },
	{ "t-unsigned", TICKET_UNSIGNED, "has no signature", "" },
	{ "t-altered", TICKET_BAD_SIGNATURE, "altered", "" },
	{ "t-wrong-namespace", TICKET_WRONG_NAMESPACE, "namespace", "" },
	{ "t-outsider", TICKET_UNKNOWN_SIGNER, "no approver's key", "" },
	{ "t-wrong-signer", TICKET_WRONG_SIGNER, "signed by approver area-b", "" },
	{ "t-out-of-scope", TICKET_OUT_OF_SCOPE, "may not approve vendor acme on target plc-07",
	    "" },
	/* Dual control: .sig files with several approvers' blocks, tickets naming no approver. */
	{ "t-dual-unsigned", TICKET_UNSIGNED, "has no signature", "" },
	{ "t-dual-one", TICKET_VALID, "", "dual-a" },
	{ "t-dual", TICKET_VALID, "", "dual-a,dual-b" },
	{ "t-dual-three", TICKET_VALID, "", "dual-a,dual-b,dual-c" },
	{ "t-dual-same", TICKET_VALID, "", "dual-a" },
	{ "t-dual-out", TICKET_OUT_OF_SCOPE, "approver dual-out may not approve vendor acme", "" },
	{ "t-dual-altered", TICKET_BAD_SIGNATURE, "ticket t-dual-altered (signature 2 of 2)", "" },
	{ "t-dual-stranger", TICKET_UNKNOWN_SIGNER, "no approver's key (signature 2 of 2)", "" },
	{ "t-dual-legacy", TICKET_VALID, "", "dual-a,dual-b" },
	{ "t-dual-legacy-missing", TICKET_WRONG_SIGNER,
	    "names approver dual-b but was signed by approver dual-a", "" },
};

/* t's approvers, comma-separated (a static buffer). */
static const char *
joined_approvers(const struct gw_ticket *t)
{
	static char buf[512];
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < t->napprovers; i++)
		n += (size_t)snprintf(
		    buf + n, sizeof(buf) - n, "%s%s", i ? "," : "", t->approvers[i]);
	return buf;
}

START_TEST(test_ticket_verify_status)
{
	const struct verify_case *c = &verify_cases[_i];
	struct gw_config *cfg = fixture_config();
	struct gw_ticket *t = fixture_ticket(cfg, c->ticket);

	ck_assert_msg(t->status == c->status, "%s: status %s (%s)", c->ticket,
	    ticket_status_name(t->status), t->problem);
	ck_assert_msg(
	    strstr(t->problem, c->problem) != NULL, "%s: problem \"%s\"", c->ticket, t->problem);
	if (c->approvers != NULL)
		ck_assert_str_eq(joined_approvers(t), c->approvers);
	ticket_free(t);
	config_free(cfg);
}
END_TEST

/* t->signer is the first block's key; each approver comes with the key that signed. */
START_TEST(test_ticket_verify_names_each_approvers_key)
{
	struct gw_config *cfg = fixture_config();
	struct gw_ticket *t = fixture_ticket(cfg, "t-dual");
	char *a = fixture_read("tickets/dual-a.fp", NULL),
	     *b = fixture_read("tickets/dual-b.fp", NULL);

	a[strcspn(a, "\n")] = '\0';
	b[strcspn(b, "\n")] = '\0';
	ck_assert_str_eq(t->signer, a);
	ck_assert_uint_eq(t->napprovers, 2);
	ck_assert_str_eq(t->approver_fps[0], a);
	ck_assert_str_eq(t->approver_fps[1], b);
	ck_assert_ptr_null(t->approver);
	free(a);
	free(b);
	ticket_free(t);
	config_free(cfg);
}
END_TEST

/* n copies of the fixture's one-block signature, with sep between them (caller frees). */
static char *
repeated_signature(const char *id, int n, const char *sep)
{
	char *rel, *one, *all = xstrdup(""), *next;
	int i;

	xasprintf(&rel, "tickets/%s.ticket.sig", id);
	one = fixture_read(rel, NULL);
	ck_assert_ptr_nonnull(one);
	for (i = 0; i < n; i++) {
		xasprintf(&next, "%s%s%s", all, i ? sep : "", one);
		free(all);
		all = next;
	}
	free(rel);
	free(one);
	return all;
}

START_TEST(test_ticket_verify_bounds_the_blocks)
{
	static const struct {
		int n;
		const char *sep;
		enum ticket_status status;
	} cases[] = {
		{ 8, "", TICKET_VALID },
		{ 9, "", TICKET_BAD_SIGNATURE },
		{ 2, "\n\n  \n", TICKET_VALID },
		{ 2, "junk\n", TICKET_BAD_SIGNATURE },
		{ 0, "", TICKET_BAD_SIGNATURE },
	};
	struct gw_config *cfg = fixture_config();
	char *text, *sig, *errors;
	struct gw_ticket *t;
	size_t len, i;

	text = fixture_read("tickets/t-dual-one.ticket", &len);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sig = repeated_signature("t-dual-one", cases[i].n, cases[i].sep);
		ck_assert_int_eq(ticket_parse(text, len, "t", &t, &errors), 0);
		ticket_verify(t, text, len, sig, strlen(sig), cfg);
		ck_assert_msg(t->status == cases[i].status, "%d blocks sep \"%s\": %s (%s)",
		    cases[i].n, cases[i].sep, ticket_status_name(t->status), t->problem);
		if (t->status == TICKET_VALID)
			ck_assert_str_eq(joined_approvers(t), "dual-a");
		else
			ck_assert_uint_eq(t->napprovers, 0);
		ticket_free(t);
		free(sig);
	}
	free(text);
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

/* The second block of a fixture's .sig (caller frees). */
static char *
second_block(const char *id)
{
	char *rel, *sig, *b;
	const char *at;

	xasprintf(&rel, "tickets/%s.ticket.sig", id);
	sig = fixture_read(rel, NULL);
	free(rel);
	at = strstr(sig + 1, "-----BEGIN SSH SIGNATURE-----");
	ck_assert_ptr_nonnull(at);
	b = xstrdup(at);
	free(sig);
	return b;
}

/* Removes the temporary store made for ticket id. */
static void
store_remove(const char *state, const char *id)
{
	static const char *const suffixes[] = { ".ticket", ".ticket.sig" };
	char *path;
	size_t i;

	for (i = 0; i < 2; i++) {
		xasprintf(&path, "%s/tickets/%s%s", state, id, suffixes[i]);
		unlink(path);
		free(path);
	}
	xasprintf(&path, "%s/tickets", state);
	rmdir(path);
	free(path);
	rmdir(state);
}

/* A further approver's block joins the installed ticket; nothing else is ever added. */
START_TEST(test_ticketstore_add_signature)
{
	struct gw_config *cfg = fixture_config();
	char state[] = "/tmp/gw-ticketstore-test.XXXXXX", *text, *other, *sig, *b, *error = NULL;
	char *errors = NULL, *stored, *storedtext;
	size_t len, otherlen, siglen, storedlen, storedtextlen;
	struct gw_ticket *t;

	ck_assert_ptr_nonnull(mkdtemp(state));
	text = fixture_read("tickets/t-dual-one.ticket", &len);
	other = fixture_read("tickets/t-dual-same.ticket", &otherlen);
	sig = fixture_read("tickets/t-dual-one.ticket.sig", &siglen);
	/* dual-b's block over t-dual's text, then dual-b's over t-dual-one's text. */
	b = second_block("t-dual");
	ck_assert_int_eq(
	    ticketstore_install(state, "t-dual-one", text, len, sig, siglen, &error), 0);
	ck_assert_int_eq(
	    ticketstore_add_signature(state, "t-dual", text, len, sig, siglen, &error), -1);
	ck_assert_str_eq(error, "ticket t-dual is not installed");
	free(error);
	ck_assert_int_eq(
	    ticketstore_add_signature(state, "t-dual-one", text, len, b, strlen(b), &error), -1);
	ck_assert_msg(strstr(error, "signature 1 not added") != NULL, "%s", error);
	free(error);
	ck_assert_int_eq(
	    ticketstore_add_signature(state, "t-dual-one", other, otherlen, sig, siglen, &error),
	    -1);
	ck_assert_msg(strstr(error, "a different ticket t-dual-one is already installed") != NULL,
	    "%s", error);
	free(error);
	/* The same block again changes nothing, added or installed again. */
	ck_assert_int_eq(
	    ticketstore_add_signature(state, "t-dual-one", text, len, sig, siglen, &error), 0);
	ck_assert_int_eq(
	    ticketstore_install(state, "t-dual-one", text, len, sig, siglen, &error), 0);
	ck_assert_int_eq(ticketstore_read(state, "t-dual-one", &storedtext, &storedtextlen, &stored,
	                     &storedlen, &error),
	    0);
	ck_assert_uint_eq(storedlen, siglen);
	free(stored);
	free(storedtext);
	ck_assert_int_eq(ticketstore_load_ticket(state, cfg, "t-dual-one", &t, &errors), 0);
	ck_assert_str_eq(joined_approvers(t), "dual-a");
	ticket_free(t);
	store_remove(state, "t-dual-one");
	free(b);
	free(sig);
	free(other);
	free(text);
	config_free(cfg);
}
END_TEST

/* Two approvers' signatures added one by one make a ticket of two approvals. */
START_TEST(test_ticketstore_add_second_approver)
{
	struct gw_config *cfg = fixture_config();
	char state[] = "/tmp/gw-ticketstore-test.XXXXXX", *text, *sig, *b, *error = NULL;
	char *errors = NULL, *first;
	size_t len, siglen;
	struct gw_ticket *t;

	ck_assert_ptr_nonnull(mkdtemp(state));
	text = fixture_read("tickets/t-dual.ticket", &len);
	sig = fixture_read("tickets/t-dual.ticket.sig", &siglen);
	b = second_block("t-dual");
	first = xstrndup(sig, siglen - strlen(b));
	ck_assert_int_eq(
	    ticketstore_install(state, "t-dual", text, len, first, strlen(first), &error), 0);
	ck_assert_int_eq(ticketstore_load_ticket(state, cfg, "t-dual", &t, &errors), 0);
	ck_assert_str_eq(joined_approvers(t), "dual-a");
	ticket_free(t);
	ck_assert_int_eq(
	    ticketstore_add_signature(state, "t-dual", text, len, b, strlen(b), &error), 0);
	ck_assert_int_eq(ticketstore_load_ticket(state, cfg, "t-dual", &t, &errors), 0);
	ck_assert_int_eq(t->status, TICKET_VALID);
	ck_assert_str_eq(joined_approvers(t), "dual-a,dual-b");
	ticket_free(t);
	store_remove(state, "t-dual");
	free(first);
	free(b);
	free(sig);
	free(text);
	config_free(cfg);
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
	tcase_add_test(tc, test_ticket_verify_names_each_approvers_key);
	tcase_add_test(tc, test_ticket_verify_bounds_the_blocks);
	tcase_add_test(tc, test_ticketstore_add_signature);
	tcase_add_test(tc, test_ticketstore_add_second_approver);
	tcase_add_test(tc, test_ticket_unknown_approver_named);
	tcase_add_test(tc, test_ticket_parse_fields);
	tcase_add_test(tc, test_ticket_id_upper_case_accepted);
	tcase_add_loop_test(
	    tc, test_ticket_parse_refuses, 0, (int)(sizeof(parse_cases) / sizeof(parse_cases[0])));
	tcase_add_test(tc, test_ticket_covers_vendor_or_person);
	suite_add_tcase(s, tc);
	return s;
}
