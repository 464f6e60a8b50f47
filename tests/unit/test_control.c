/* test_control.c: control_parse_request, the control socket's parser, on well-formed and
 * hostile requests: every request must name exactly one action on well-formed names. */
#include <check.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "gatewayd/control.h"
#include "unit.h"

#define ID "0123456789abcdef0123456789abcdef"

static int
parse(const char *text, struct control_request *r, char *err, size_t errlen)
{
	return control_parse_request(text, strlen(text), r, err, errlen);
}

/* Parsing TEXT fails with a reason containing WHY. */
static void
expect_refused(const char *text, const char *why)
{
	struct control_request r;
	char err[160] = "";

	ck_assert_msg(parse(text, &r, err, sizeof(err)) == -1, "accepted: %s", text);
	ck_assert_msg(
	    strstr(err, why) != NULL, "for %s: error \"%s\" lacks \"%s\"", text, err, why);
	ck_assert_int_eq(r.by, CONTROL_BY_NONE);
	ck_assert_str_eq(r.name, "");
}

START_TEST(test_sessions_request)
{
	struct control_request r;
	char err[160];

	ck_assert_int_eq(parse("{\"cmd\":\"sessions\"}\n", &r, err, sizeof(err)), 0);
	ck_assert_int_eq(r.op, CONTROL_SESSIONS);
	ck_assert_int_eq(r.by, CONTROL_BY_NONE);
}
END_TEST

START_TEST(test_kill_by_each_selector)
{
	static const struct {
		const char *text;
		enum control_selector by;
		const char *name;
	} cases[] = {
		{ "{\"cmd\":\"kill\",\"session\":\"" ID "\"}", CONTROL_BY_SESSION, ID },
		{ "{\"cmd\":\"kill\",\"vendor\":\"acme\"}", CONTROL_BY_VENDOR, "acme" },
		{ "{\"cmd\":\"kill\",\"person\":\"acme.alice\"}", CONTROL_BY_PERSON, "acme.alice" },
		{ "{\"cmd\":\"kill\",\"ticket\":\"wo-4711\"}", CONTROL_BY_TICKET, "wo-4711" },
		{ "{\"cmd\":\"kill\",\"ticket\":\"WO-2026-118\"}", CONTROL_BY_TICKET,
		    "WO-2026-118" },
	};
	struct control_request r;
	char err[160];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_int_eq(parse(cases[i].text, &r, err, sizeof(err)), 0);
		ck_assert_int_eq(r.op, CONTROL_KILL);
		ck_assert_int_eq(r.by, cases[i].by);
		ck_assert_str_eq(r.name, cases[i].name);
	}
}
END_TEST

START_TEST(test_vendor_and_watch_requests)
{
	struct control_request r;
	char err[160];

	ck_assert_int_eq(
	    parse("{\"cmd\":\"vendor_disable\",\"vendor\":\"acme\"}", &r, err, sizeof(err)), 0);
	ck_assert_int_eq(r.op, CONTROL_VENDOR_DISABLE);
	ck_assert_int_eq(
	    parse("{\"vendor\":\"acme\",\"cmd\":\"vendor_enable\"}", &r, err, sizeof(err)), 0);
	ck_assert_int_eq(r.op, CONTROL_VENDOR_ENABLE);
	ck_assert_str_eq(r.name, "acme");
	ck_assert_int_eq(
	    parse("{\"cmd\":\"watch\",\"session\":\"" ID "\"}", &r, err, sizeof(err)), 0);
	ck_assert_int_eq(r.op, CONTROL_WATCH);
	ck_assert_str_eq(r.name, ID);
}
END_TEST

START_TEST(test_not_json_refused)
{
	expect_refused("", "empty");
	expect_refused("\n", "empty");
	expect_refused("sessions", "not JSON");
	expect_refused("{\"cmd\":\"sessions\"", "not JSON");
	expect_refused("[\"sessions\"]", "JSON object");
	expect_refused("\"sessions\"", "not JSON");
}
END_TEST

START_TEST(test_unknown_command_and_keys_refused)
{
	expect_refused("{\"cmd\":\"shutdown\"}", "unknown command");
	expect_refused("{\"cmd\":\"sessions\",\"all\":true}", "unknown key");
	expect_refused("{\"cmd\":\"sessions\",\"vendor\":\"acme\"}", "takes no arguments");
	expect_refused("{\"cmd\":1}", "\"cmd\" missing");
	expect_refused("{\"vendor\":\"acme\"}", "\"cmd\" missing");
}
END_TEST

START_TEST(test_duplicate_keys_refused)
{
	expect_refused("{\"cmd\":\"kill\",\"vendor\":\"acme\",\"vendor\":\"beta\"}", "not JSON");
	expect_refused("{\"cmd\":\"sessions\",\"cmd\":\"kill\"}", "not JSON");
}
END_TEST

START_TEST(test_reload_request)
{
	struct control_request r;
	char err[160];

	ck_assert_int_eq(parse("{\"cmd\":\"reload\"}\n", &r, err, sizeof(err)), 0);
	ck_assert_int_eq(r.op, CONTROL_RELOAD);
	ck_assert_int_eq(r.by, CONTROL_BY_NONE);
	expect_refused("{\"cmd\":\"reload\",\"vendor\":\"acme\"}", "takes no arguments");
}
END_TEST

START_TEST(test_ticket_selector_only_for_kill)
{
	expect_refused("{\"cmd\":\"kill\",\"ticket\":\"../etc\"}", "not a valid ticket");
	expect_refused("{\"cmd\":\"kill\",\"ticket\":\"wo-1\",\"vendor\":\"acme\"}",
	    "one of session, vendor, person, ticket");
	expect_refused("{\"cmd\":\"vendor_disable\",\"ticket\":\"wo-1\"}", "takes \"vendor\"");
}
END_TEST

START_TEST(test_kill_needs_exactly_one_selector)
{
	expect_refused("{\"cmd\":\"kill\"}", "needs one of");
	expect_refused("{\"cmd\":\"kill\",\"vendor\":\"acme\",\"person\":\"acme.alice\"}",
	    "one of session, vendor, person");
}
END_TEST

START_TEST(test_wrong_selector_for_command_refused)
{
	expect_refused("{\"cmd\":\"watch\",\"vendor\":\"acme\"}", "takes \"session\"");
	expect_refused(
	    "{\"cmd\":\"vendor_disable\",\"person\":\"acme.alice\"}", "takes \"vendor\"");
	expect_refused("{\"cmd\":\"vendor_disable\"}", "needs vendor");
}
END_TEST

START_TEST(test_malformed_names_refused)
{
	expect_refused("{\"cmd\":\"watch\",\"session\":\"0123\"}", "not a valid session");
	expect_refused("{\"cmd\":\"kill\",\"session\":\"0123456789ABCDEF0123456789ABCDEF\"}",
	    "not a valid session");
	expect_refused("{\"cmd\":\"kill\",\"session\":\"0123g\"}", "not a valid session");
	expect_refused("{\"cmd\":\"kill\",\"session\":\"" ID "0\"}", "not a valid");
	expect_refused("{\"cmd\":\"kill\",\"vendor\":\"../etc\"}", "not a valid vendor");
	expect_refused("{\"cmd\":\"kill\",\"vendor\":\"\"}", "not a valid vendor");
	expect_refused("{\"cmd\":\"kill\",\"vendor\":\"ac me\"}", "not a valid vendor");
	expect_refused("{\"cmd\":\"kill\",\"vendor\":\"ACME\"}", "not a valid vendor");
	expect_refused("{\"cmd\":\"kill\",\"person\":\"acme.al\\u0000ice\"}", "not JSON");
	expect_refused("{\"cmd\":\"kill\",\"vendor\":7}", "must be a string");
}
END_TEST

START_TEST(test_overlong_name_refused)
{
	char text[256], name[GW_ID_MAX + 2];

	memset(name, 'a', GW_ID_MAX + 1);
	name[GW_ID_MAX + 1] = '\0';
	snprintf(text, sizeof(text), "{\"cmd\":\"kill\",\"vendor\":\"%s\"}", name);
	expect_refused(text, "not a valid name");
	name[GW_ID_MAX] = '\0'; /* the longest id passes */
	snprintf(text, sizeof(text), "{\"cmd\":\"kill\",\"vendor\":\"%s\"}", name);
	{
		struct control_request r;
		char err[160];

		ck_assert_int_eq(parse(text, &r, err, sizeof(err)), 0);
		ck_assert_str_eq(r.name, name);
	}
}
END_TEST

START_TEST(test_overlong_request_refused)
{
	static const char head[] = "{\"cmd\":\"sessions\"", tail[] = "}";
	size_t n = CONTROL_REQUEST_MAX + 8;
	char *text = malloc(n);
	struct control_request r;
	char err[160] = "";

	/* Valid JSON, but longer than a request may be: whitespace padding. */
	memset(text, ' ', n);
	memcpy(text, head, sizeof(head) - 1);
	memcpy(text + n - 1, tail, 1);
	ck_assert_int_eq(control_parse_request(text, n, &r, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "longer than"));
	free(text);
}
END_TEST

START_TEST(test_embedded_nul_and_second_line_refused)
{
	static const char nul[] = "{\"cmd\":\"sessions\"}\0{\"cmd\":\"kill\"}";
	struct control_request r;
	char err[160] = "";

	ck_assert_int_eq(control_parse_request(nul, sizeof(nul) - 1, &r, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "one request per line"));
	expect_refused("{\"cmd\":\"sessions\"}\n{\"cmd\":\"kill\",\"vendor\":\"acme\"}\n",
	    "one request per line");
}
END_TEST

START_TEST(test_only_len_bytes_are_read)
{
	/* No NUL terminator after len: the parser must stay inside the buffer (ASan checks). */
	static const char text[] = "{\"cmd\":\"sessions\"}";
	char *exact = malloc(sizeof(text) - 1);
	struct control_request r;
	char err[160];

	memcpy(exact, text, sizeof(text) - 1);
	ck_assert_int_eq(control_parse_request(exact, sizeof(text) - 1, &r, err, sizeof(err)), 0);
	free(exact);
}
END_TEST

/* A kill names a session by any prefix of its id (the listener resolves it); watch needs it all. */
START_TEST(test_kill_takes_session_id_prefix)
{
	struct control_request r;
	char err[160];

	ck_assert_int_eq(parse("{\"cmd\":\"kill\",\"session\":\"0a\"}", &r, err, sizeof(err)), 0);
	ck_assert_int_eq(r.by, CONTROL_BY_SESSION);
	ck_assert_str_eq(r.name, "0a");
	ck_assert_str_eq(r.reason, "");
	expect_refused("{\"cmd\":\"kill\",\"session\":\"\"}", "not a valid session");
	expect_refused("{\"cmd\":\"watch\",\"session\":\"0a\"}", "not a valid session");
}
END_TEST

START_TEST(test_kill_reason)
{
	struct control_request r;
	char err[160], text[CONTROL_REASON_MAX + 64], reason[CONTROL_REASON_MAX + 1];

	ck_assert_int_eq(parse("{\"cmd\":\"kill\",\"vendor\":\"acme\",\"reason\":\"WO-7 is done\"}",
	                     &r, err, sizeof(err)),
	    0);
	ck_assert_str_eq(r.reason, "WO-7 is done");
	expect_refused("{\"cmd\":\"kill\",\"vendor\":\"acme\",\"reason\":\"a\\u001b[2Jb\"}",
	    "control characters");
	expect_refused("{\"cmd\":\"kill\",\"vendor\":\"acme\",\"reason\":\"\"}", "1 to");
	expect_refused("{\"cmd\":\"kill\",\"vendor\":\"acme\",\"reason\":7}", "1 to");
	expect_refused(
	    "{\"cmd\":\"vendor_disable\",\"vendor\":\"acme\",\"reason\":\"x\"}", "takes no reason");
	memset(reason, 'r', CONTROL_REASON_MAX - 1);
	reason[CONTROL_REASON_MAX - 1] = '\0';
	snprintf(
	    text, sizeof(text), "{\"cmd\":\"kill\",\"vendor\":\"acme\",\"reason\":\"%s\"}", reason);
	ck_assert_int_eq(parse(text, &r, err, sizeof(err)), 0);
	ck_assert_str_eq(r.reason, reason);
	reason[CONTROL_REASON_MAX - 1] = 'r';
	reason[CONTROL_REASON_MAX] = '\0';
	snprintf(
	    text, sizeof(text), "{\"cmd\":\"kill\",\"vendor\":\"acme\",\"reason\":\"%s\"}", reason);
	expect_refused(text, "1 to");
}
END_TEST

Suite *
unit_suite(void)
{
	Suite *s = suite_create("control");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, test_sessions_request);
	tcase_add_test(tc, test_kill_by_each_selector);
	tcase_add_test(tc, test_vendor_and_watch_requests);
	tcase_add_test(tc, test_not_json_refused);
	tcase_add_test(tc, test_unknown_command_and_keys_refused);
	tcase_add_test(tc, test_duplicate_keys_refused);
	tcase_add_test(tc, test_reload_request);
	tcase_add_test(tc, test_ticket_selector_only_for_kill);
	tcase_add_test(tc, test_kill_needs_exactly_one_selector);
	tcase_add_test(tc, test_wrong_selector_for_command_refused);
	tcase_add_test(tc, test_malformed_names_refused);
	tcase_add_test(tc, test_overlong_name_refused);
	tcase_add_test(tc, test_overlong_request_refused);
	tcase_add_test(tc, test_embedded_nul_and_second_line_refused);
	tcase_add_test(tc, test_only_len_bytes_are_read);
	tcase_add_test(tc, test_kill_takes_session_id_prefix);
	tcase_add_test(tc, test_kill_reason);
	suite_add_tcase(s, tc);
	return s;
}
