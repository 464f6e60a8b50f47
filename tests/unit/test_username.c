/* test_username.c: username_parse and name_is_valid on hostile user names: the SSH user name
 * "PERSON+TARGET" is the first thing an attacker controls, so every edge is a test. */
#include "unit.h"
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"

/* Parsing NAME fails with a reason for the vendor. */
static void
expect_refused(const char *name)
{
	struct gw_username u;
	const char *why = NULL;

	ck_assert_msg(username_parse(name, &u, &why) == -1, "\"%s\" was accepted", name);
	ck_assert_ptr_nonnull(why);
	ck_assert_str_ne(why, "");
}

START_TEST(test_person_and_target)
{
	struct gw_username u;
	const char *why = NULL;

	ck_assert_int_eq(username_parse("acme.alice+plc-07", &u, &why), 0);
	ck_assert_str_eq(u.person, "acme.alice");
	ck_assert_str_eq(u.target, "plc-07");
}
END_TEST

START_TEST(test_person_alone_has_empty_target)
{
	struct gw_username u;
	const char *why = NULL;

	ck_assert_int_eq(username_parse("acme.alice", &u, &why), 0);
	ck_assert_str_eq(u.person, "acme.alice");
	ck_assert_str_eq(u.target, "");
}
END_TEST

START_TEST(test_longest_parts_accepted)
{
	char name[GW_USERNAME_MAX + 1];
	struct gw_username u;
	const char *why = NULL;

	memset(name, 'a', GW_ID_MAX);
	name[GW_ID_MAX] = '+';
	memset(name + GW_ID_MAX + 1, 'b', GW_ID_MAX);
	name[2 * GW_ID_MAX + 1] = '\0';
	ck_assert_int_eq(username_parse(name, &u, &why), 0);
	ck_assert_uint_eq(strlen(u.person), GW_ID_MAX);
	ck_assert_uint_eq(strlen(u.target), GW_ID_MAX);
}
END_TEST

START_TEST(test_overlong_name_refused)
{
	char name[GW_USERNAME_MAX + 2];

	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	expect_refused(name);
}
END_TEST

START_TEST(test_overlong_person_refused)
{
	char name[GW_ID_MAX + 8];

	memset(name, 'a', GW_ID_MAX + 1);
	strcpy(name + GW_ID_MAX + 1, "+plc");
	expect_refused(name);
}
END_TEST

START_TEST(test_overlong_target_refused)
{
	char name[GW_ID_MAX + 8];

	strcpy(name, "a.b+");
	memset(name + 4, 'c', GW_ID_MAX + 1);
	name[GW_ID_MAX + 5] = '\0';
	expect_refused(name);
}
END_TEST

START_TEST(test_empty_parts_refused)
{
	expect_refused("");
	expect_refused("+plc-07");
	expect_refused("acme.alice+");
	expect_refused("+");
}
END_TEST

START_TEST(test_uppercase_refused)
{
	expect_refused("Acme.alice+plc-07");
	expect_refused("acme.alice+PLC-07");
}
END_TEST

START_TEST(test_shell_metacharacters_refused)
{
	static const char *const names[] = { "acme.alice+plc;id", "acme.alice+plc`id`",
		"acme.alice+$(id)", "acme alice+plc", "acme.alice+plc|id", "acme/../alice+plc",
		"acme.alice+plc\n", "acme.alice+plc&", "acme.alice+plc>x", "acme.alice+plc'",
		"acme.alice\"+plc", "acme.alice+plc*", "acme.alice+pl\\c" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		expect_refused(names[i]);
}
END_TEST

START_TEST(test_leading_punctuation_refused)
{
	expect_refused("-acme.alice+plc-07");
	expect_refused("acme.alice+-plc-07");
	expect_refused(".acme.alice+plc-07");
	expect_refused("acme.alice+_plc");
}
END_TEST

START_TEST(test_two_plus_signs_refused)
{
	expect_refused("acme.alice+plc-07+plc-08");
	expect_refused("acme.alice++plc-07");
}
END_TEST

START_TEST(test_non_ascii_refused)
{
	expect_refused("acme.al\xc3\xaf"
	               "ce+plc-07");
	expect_refused("acme.alice+plc\x7f");
}
END_TEST

START_TEST(test_name_is_valid_edges)
{
	char s[GW_ID_MAX + 2];

	ck_assert(name_is_valid("a"));
	ck_assert(name_is_valid("0"));
	ck_assert(name_is_valid("plc-07.hall_2"));
	ck_assert(name_is_valid("a-"));
	ck_assert(!name_is_valid(""));
	ck_assert(!name_is_valid("-a"));
	ck_assert(!name_is_valid("A"));
	ck_assert(!name_is_valid("a+b"));
	ck_assert(!name_is_valid("a b"));
	memset(s, 'a', GW_ID_MAX);
	s[GW_ID_MAX] = '\0';
	ck_assert(name_is_valid(s));
	s[GW_ID_MAX] = 'a';
	s[GW_ID_MAX + 1] = '\0';
	ck_assert(!name_is_valid(s));
}
END_TEST

Suite *
unit_suite(void)
{
	Suite *s = suite_create("username");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, test_person_and_target);
	tcase_add_test(tc, test_person_alone_has_empty_target);
	tcase_add_test(tc, test_longest_parts_accepted);
	tcase_add_test(tc, test_overlong_name_refused);
	tcase_add_test(tc, test_overlong_person_refused);
	tcase_add_test(tc, test_overlong_target_refused);
	tcase_add_test(tc, test_empty_parts_refused);
	tcase_add_test(tc, test_uppercase_refused);
	tcase_add_test(tc, test_shell_metacharacters_refused);
	tcase_add_test(tc, test_leading_punctuation_refused);
	tcase_add_test(tc, test_two_plus_signs_refused);
	tcase_add_test(tc, test_non_ascii_refused);
	tcase_add_test(tc, test_name_is_valid_edges);
	suite_add_tcase(s, tc);
	return s;
}
