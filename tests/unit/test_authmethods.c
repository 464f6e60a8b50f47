/* test_authmethods.c: AuthenticationMethods-style lists: parsing, which method may come
 * next, and when a login is complete. */
#include "unit.h"
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"

static struct gw_auth_methods
parsed(const char *text)
{
	struct gw_auth_methods m;
	char why[128];

	ck_assert_msg(auth_methods_parse(text, &m, why, sizeof(why)) == 0, "%s: %s", text, why);
	return m;
}

START_TEST(test_single_method)
{
	struct gw_auth_methods m = parsed("publickey");

	ck_assert_uint_eq(m.nchains, 1);
	ck_assert_uint_eq(m.len[0], 1);
	ck_assert_uint_eq(m.chain[0][0], GW_AUTH_PUBLICKEY);
}
END_TEST

START_TEST(test_chain_and_alternatives)
{
	struct gw_auth_methods m = parsed("publickey,keyboard-interactive  keyboard-interactive");

	ck_assert_uint_eq(m.nchains, 2);
	ck_assert_uint_eq(m.len[0], 2);
	ck_assert_uint_eq(m.chain[0][1], GW_AUTH_KBDINT);
	ck_assert_uint_eq(m.len[1], 1);
}
END_TEST

START_TEST(test_parse_refuses_unknown_and_empty)
{
	static const char *const bad[] = { "", "  ", "password", "publickey,", ",publickey",
		"publickey,,keyboard-interactive", "publickey;keyboard-interactive", "PublicKey",
		"publickey,publickey,publickey,publickey,publickey",
		("publickey publickey publickey publickey publickey publickey publickey publickey "
		 "publickey") };
	struct gw_auth_methods m;
	char why[128];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(
		    auth_methods_parse(bad[i], &m, why, sizeof(why)) == -1, "[%s]", bad[i]);
}
END_TEST

START_TEST(test_second_factor_follows_key)
{
	struct gw_auth_methods m = parsed("publickey,keyboard-interactive");
	unsigned done[2] = { GW_AUTH_PUBLICKEY, GW_AUTH_KBDINT };

	ck_assert_uint_eq(auth_methods_next(&m, done, 0), GW_AUTH_PUBLICKEY);
	ck_assert(!auth_methods_satisfied(&m, done, 1));
	ck_assert_uint_eq(auth_methods_next(&m, done, 1), GW_AUTH_KBDINT);
	ck_assert(auth_methods_satisfied(&m, done, 2));
	ck_assert_uint_eq(auth_methods_next(&m, done, 2), 0);
}
END_TEST

START_TEST(test_order_is_enforced)
{
	struct gw_auth_methods m = parsed("publickey,keyboard-interactive");
	unsigned done[2] = { GW_AUTH_KBDINT, GW_AUTH_PUBLICKEY };

	ck_assert_uint_eq(auth_methods_next(&m, done, 0) & GW_AUTH_KBDINT, 0);
	ck_assert(!auth_methods_satisfied(&m, done, 2));
	ck_assert_uint_eq(auth_methods_next(&m, done, 1), 0);
}
END_TEST

START_TEST(test_alternatives_offer_each_first_method)
{
	struct gw_auth_methods m = parsed("publickey,keyboard-interactive keyboard-interactive");
	unsigned done[1] = { GW_AUTH_KBDINT };

	ck_assert_uint_eq(auth_methods_next(&m, done, 0), GW_AUTH_PUBLICKEY | GW_AUTH_KBDINT);
	ck_assert(auth_methods_satisfied(&m, done, 1));
}
END_TEST

Suite *
unit_suite(void)
{
	Suite *s = suite_create("authmethods");
	TCase *tc = tcase_create("methods");

	tcase_add_test(tc, test_single_method);
	tcase_add_test(tc, test_chain_and_alternatives);
	tcase_add_test(tc, test_parse_refuses_unknown_and_empty);
	tcase_add_test(tc, test_second_factor_follows_key);
	tcase_add_test(tc, test_order_is_enforced);
	tcase_add_test(tc, test_alternatives_offer_each_first_method);
	suite_add_tcase(s, tc);
	return s;
}
