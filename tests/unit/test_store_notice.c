/* test_store_notice.c: store_notice_parse, the notices gateways sharing a store send each
 * other: each kind well-formed, and what a hostile or broken database could hand over refused. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gatewayd/store_notice.h"
#include "unit.h"

#define ID "0123456789abcdef0123456789abcdef"

static int
parse(const char *text, struct store_notice *nt)
{
	return store_notice_parse(text, strlen(text), nt);
}

START_TEST(test_each_kind_parsed)
{
	struct store_notice nt;

	ck_assert_int_eq(parse("ticket gw-a WO-4711", &nt), 0);
	ck_assert_int_eq(nt.kind, NOTICE_TICKET);
	ck_assert_str_eq(nt.origin, "gw-a");
	ck_assert_str_eq(nt.id, "WO-4711");
	ck_assert_int_eq(parse("request b req-20261203-0a0b0c", &nt), 0);
	ck_assert_int_eq(nt.kind, NOTICE_REQUEST);
	ck_assert_int_eq(parse("revocation b -", &nt), 0);
	ck_assert_int_eq(nt.kind, NOTICE_REVOCATION);
	ck_assert_int_eq(parse("vendor a 1 acme", &nt), 0);
	ck_assert_int_eq(nt.kind, NOTICE_VENDOR);
	ck_assert(nt.disabled);
	ck_assert_str_eq(nt.id, "acme");
	ck_assert_int_eq(parse("vendor a 0 acme", &nt), 0);
	ck_assert(!nt.disabled);
	ck_assert_int_eq(parse("lockout a source 1796000000 2001:db8:1:2::/64", &nt), 0);
	ck_assert_int_eq(nt.kind, NOTICE_LOCKOUT);
	ck_assert_str_eq(nt.scope, "source");
	ck_assert_int_eq((long long)nt.until, 1796000000LL);
	ck_assert_str_eq(nt.id, "2001:db8:1:2::/64");
	ck_assert_int_eq(parse("kill a b {\"by\":\"session\",\"name\":\"" ID "\",\"message\":\"m\","
	                       "\"reason\":\"killed by the asset owner (root, uid 0)\"}",
	                     &nt),
	    0);
	ck_assert_int_eq(nt.kind, NOTICE_KILL);
	ck_assert_str_eq(nt.gateway, "b");
	ck_assert_int_eq(nt.by, CONTROL_BY_SESSION);
	ck_assert_str_eq(nt.id, ID);
	ck_assert_int_eq(parse("kill a * {\"by\":\"vendor\",\"name\":\"acme\",\"message\":\"m\","
	                       "\"reason\":\"r\"}",
	                     &nt),
	    0);
	ck_assert_str_eq(nt.gateway, "*");
	ck_assert_int_eq(nt.by, CONTROL_BY_VENDOR);
}
END_TEST

START_TEST(test_hostile_notices_refused)
{
	static const char *const bad[] = {
		"",
		"ticket",
		"ticket a",
		"ticket a ../../etc/passwd",
		"ticket a WO-1 extra",
		"ticket a/b WO-1",
		"teleport a x",
		"vendor a 2 acme",
		"vendor a 1 acme.alice", /* a person, not a vendor */
		"lockout a group 1796000000 x",
		"lockout a source -5 x",
		"lockout a source 12abc x",
		"lockout a person 1796000000 has\x01control",
		"kill a b not-json",
		"kill a b {\"by\":\"session\",\"name\":\"abc\",\"message\":\"m\",\"reason\":\"r\"}",
		"kill a b "
		"{\"by\":\"everyone\",\"name\":\"acme\",\"message\":\"m\",\"reason\":\"r\"}",
		"kill a b {\"by\":\"vendor\",\"name\":\"acme\",\"message\":\"\\u001b[2J\","
		"\"reason\":\"r\"}",
		"kill a b {\"by\":\"vendor\",\"by\":\"person\",\"name\":\"acme\",\"message\":\"m\","
		"\"reason\":\"r\"}",
		"kill a ../b "
		"{\"by\":\"vendor\",\"name\":\"acme\",\"message\":\"m\",\"reason\":\"r\"}",
	};
	struct store_notice nt;
	size_t i;
	char big[STORE_NOTICE_MAX + 64];

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(parse(bad[i], &nt) == -1, "accepted: %s", bad[i]);
	/* Past PostgreSQL's bound, and a NUL inside: not a notice. */
	memset(big, 'a', sizeof(big));
	memcpy(big, "ticket a ", 9);
	ck_assert_int_eq(store_notice_parse(big, sizeof(big), &nt), -1);
	ck_assert_int_eq(store_notice_parse("ticket a\0b WO-1", 15, &nt), -1);
}
END_TEST

Suite *
unit_suite(void)
{
	Suite *s = suite_create("store_notice");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, test_each_kind_parsed);
	tcase_add_test(tc, test_hostile_notices_refused);
	suite_add_tcase(s, tc);
	return s;
}
