/* test_guard.c: the pre-authentication limits: max_startups' random early drop, failure
 * counting, delays and lockouts as pure functions, and the listener's table with the requests
 * a session process can make of it. */
#include "unit.h"
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gatewayd/guard.h"

static const struct gw_lockout lim = { .failures = 3,
	.person_failures = 5,
	.window = 60,
	.duration = 100,
	.delay_ms = 250,
	.max_delay_ms = 2000 };
static const struct gw_startups startups = { .start = 10, .rate = 30, .full = 100 };

/* ---- pure arithmetic ---- */

START_TEST(test_startups_below_start_never_dropped)
{
	ck_assert(!guard_startups_drop(&startups, 9, 0));
}
END_TEST

START_TEST(test_startups_at_full_always_dropped)
{
	ck_assert(guard_startups_drop(&startups, 100, 99));
	ck_assert(guard_startups_drop(&startups, 500, 99));
}
END_TEST

START_TEST(test_startups_at_start_dropped_at_rate)
{
	ck_assert(guard_startups_drop(&startups, 10, 29));
	ck_assert(!guard_startups_drop(&startups, 10, 30));
}
END_TEST

START_TEST(test_startups_drop_rises_linearly_to_full)
{
	/* halfway from 10 to 100: 30 + 70 / 2 = 65 % */
	ck_assert(guard_startups_drop(&startups, 55, 64));
	ck_assert(!guard_startups_drop(&startups, 55, 65));
}
END_TEST

START_TEST(test_count_locks_at_limit)
{
	struct guard_count c = { 0 };

	ck_assert(!guard_count_fail(&c, 3, &lim, 1000));
	ck_assert(!guard_count_fail(&c, 3, &lim, 1001));
	ck_assert(guard_count_fail(&c, 3, &lim, 1002));
	ck_assert(guard_count_locked(&c, 1002));
	ck_assert(guard_count_locked(&c, 1101));
}
END_TEST

START_TEST(test_lockout_ends_after_duration)
{
	struct guard_count c = { 0 };

	guard_count_fail(&c, 1, &lim, 1000);
	ck_assert(!guard_count_locked(&c, 1100));
}
END_TEST

START_TEST(test_failures_while_locked_do_not_extend_it)
{
	struct guard_count c = { 0 };

	guard_count_fail(&c, 1, &lim, 1000);
	ck_assert(!guard_count_fail(&c, 1, &lim, 1050));
	ck_assert(!guard_count_locked(&c, 1100));
}
END_TEST

START_TEST(test_count_starts_afresh_after_lockout)
{
	struct guard_count c = { 0 };

	guard_count_fail(&c, 2, &lim, 1000);
	ck_assert(guard_count_fail(&c, 2, &lim, 1001));
	ck_assert(!guard_count_fail(&c, 2, &lim, 1101));
	ck_assert_uint_eq(c.failures, 1);
}
END_TEST

START_TEST(test_failures_outside_window_forgotten)
{
	struct guard_count c = { 0 };

	guard_count_fail(&c, 3, &lim, 1000);
	guard_count_fail(&c, 3, &lim, 1001);
	ck_assert(!guard_count_fail(&c, 3, &lim, 1060));
	ck_assert_uint_eq(c.failures, 1);
}
END_TEST

START_TEST(test_limit_zero_never_locks)
{
	struct guard_count c = { 0 };
	int i;

	for (i = 0; i < 1000; i++)
		ck_assert(!guard_count_fail(&c, 0, &lim, 1000));
}
END_TEST

START_TEST(test_forgive_takes_back_failures_not_below_zero)
{
	struct guard_count c = { 0 };

	guard_count_fail(&c, 3, &lim, 1000);
	guard_count_fail(&c, 3, &lim, 1000);
	guard_count_forgive(&c, 1);
	ck_assert_uint_eq(c.failures, 1);
	guard_count_forgive(&c, 5);
	ck_assert_uint_eq(c.failures, 0);
}
END_TEST

START_TEST(test_delay_doubles_per_failure_up_to_cap)
{
	ck_assert_uint_eq(guard_delay_ms(&lim, 0), 0);
	ck_assert_uint_eq(guard_delay_ms(&lim, 1), 250);
	ck_assert_uint_eq(guard_delay_ms(&lim, 2), 500);
	ck_assert_uint_eq(guard_delay_ms(&lim, 4), 2000);
	ck_assert_uint_eq(guard_delay_ms(&lim, 5), 2000);
	ck_assert_uint_eq(guard_delay_ms(&lim, 4000000000u), 2000);
}
END_TEST

/* ---- the shared table ---- */

START_TEST(test_penalties_add_up_to_their_cap)
{
	struct guard_count c = { 0 };

	guard_count_penalise(&c, 30, 100, 1000);
	ck_assert_int_eq(c.locked_until, 1030);
	guard_count_penalise(&c, 30, 100, 1010);
	ck_assert_int_eq(c.locked_until, 1060);
	guard_count_penalise(&c, 90, 100, 1010);
	ck_assert_int_eq(c.locked_until, 1110);  /* held to 100 s from now */
	guard_count_penalise(&c, 30, 100, 2000); /* the last one ran out: from now */
	ck_assert_int_eq(c.locked_until, 2030);
}
END_TEST

START_TEST(test_source_key_is_the_address_or_its_ipv6_64)
{
	static char *exempt[] = { "198.51.100.0/24", "2001:db8:ffff::/48" };
	struct gw_per_source ps = { .ipv4_prefix = 32, .ipv6_prefix = 64 };
	char key[GUARD_KEY_LEN];

	ck_assert(!guard_source_key(&ps, "192.0.2.7", key));
	ck_assert_str_eq(key, "192.0.2.7");
	ck_assert(!guard_source_key(&ps, "2001:db8:1:2:a:b:c:d", key));
	ck_assert_str_eq(key, "2001:db8:1:2::/64");
	ps.ipv4_prefix = 24;
	ps.ipv6_prefix = 60;
	ck_assert(!guard_source_key(&ps, "192.0.2.7", key));
	ck_assert_str_eq(key, "192.0.2.0/24");
	ck_assert(!guard_source_key(&ps, "2001:db8:1:2ff::1", key));
	ck_assert_str_eq(key, "2001:db8:1:2f0::/60");
	ps.exempt = exempt;
	ps.nexempt = 2;
	ck_assert(guard_source_key(&ps, "198.51.100.9", key));
	ck_assert_str_eq(key, "198.51.100.9");
	ck_assert(guard_source_key(&ps, "2001:db8:ffff:1::1", key));
	ck_assert(!guard_source_key(&ps, "198.51.101.9", key));
	ck_assert(!guard_source_key(&ps, "unknown", key));
	ck_assert_str_eq(key, "unknown");
}
END_TEST

static struct gw_config cfg;
static struct guard *g;

static void
table_setup(void)
{
	memset(&cfg, 0, sizeof(cfg));
	cfg.lockout = lim;
	cfg.lockout.delay_ms = cfg.lockout.max_delay_ms = 0;
	cfg.max_startups = (struct gw_startups){ .start = 3, .rate = 100, .full = 3 };
	ck_assert_ptr_nonnull(g = guard_new());
}

static void
table_teardown(void)
{
	guard_free(g);
}

static void
fail_n(const char *source, const char *person, int n, time_t now)
{
	struct guard_failure f;

	while (n-- > 0)
		guard_record_failure(g, &cfg, source, person, now, &f);
}

START_TEST(test_locked_source_dropped_before_fork)
{
	fail_n("192.0.2.1", "acme.alice", 3, 1000);
	ck_assert_int_eq(guard_admit(g, &cfg, "192.0.2.1", 0, 1001), GUARD_DROP_LOCKED);
}
END_TEST

START_TEST(test_other_source_admitted_while_one_is_locked)
{
	fail_n("192.0.2.1", "acme.alice", 3, 1000);
	ck_assert_int_eq(guard_admit(g, &cfg, "192.0.2.2", 0, 1001), GUARD_ADMIT);
	ck_assert(!guard_locked(g, "192.0.2.2", "acme.alice", 1001));
}
END_TEST

START_TEST(test_lockout_reported_once_with_count)
{
	struct guard_failure f;

	fail_n("192.0.2.1", "", 2, 1000);
	guard_record_failure(g, &cfg, "192.0.2.1", "", 1000, &f);
	ck_assert(f.source_locked);
	ck_assert(!f.person_locked);
	ck_assert_uint_eq(f.source_failures, 3);
	ck_assert_int_eq(f.until, 1100);
	guard_record_failure(g, &cfg, "192.0.2.1", "", 1001, &f);
	ck_assert(!f.source_locked);
}
END_TEST

START_TEST(test_locked_source_no_longer_counts_against_the_person)
{
	struct guard_failure f;

	fail_n("192.0.2.1", "acme.alice", 3, 1000); /* source locked; alice at 3 of 5 */
	guard_record_failure(g, &cfg, "192.0.2.1", "acme.alice", 1001, &f);
	ck_assert(f.source_refused);
	fail_n("192.0.2.1", "acme.alice", 10, 1001);
	ck_assert(!guard_locked(g, "", "acme.alice", 1001));
}
END_TEST

START_TEST(test_source_over_its_cap_dropped_others_admitted)
{
	cfg.max_startups = (struct gw_startups){ .start = 10, .rate = 100, .full = 10 };
	cfg.per_source.max_startups = 2;
	ck_assert_int_eq(guard_admit(g, &cfg, "192.0.2.1", 0, 1000), GUARD_ADMIT);
	guard_forked(g, 101);
	ck_assert_int_eq(guard_admit(g, &cfg, "192.0.2.1", 0, 1000), GUARD_ADMIT);
	guard_forked(g, 102);
	ck_assert_int_eq(guard_admit(g, &cfg, "192.0.2.1", 0, 1000), GUARD_DROP_SOURCE);
	ck_assert_int_eq(guard_admit(g, &cfg, "192.0.2.2", 0, 1000), GUARD_ADMIT);
	guard_forked(g, 103);
	guard_reaped(g, 101);
	ck_assert_int_eq(guard_admit(g, &cfg, "192.0.2.1", 0, 1000), GUARD_ADMIT);
	guard_forked(g, 104);
}
END_TEST

START_TEST(test_exempt_source_neither_capped_nor_locked)
{
	static char *exempt[] = { "192.0.2.0/24" };
	int i;

	cfg.max_startups = (struct gw_startups){ .start = 10, .rate = 100, .full = 10 };
	cfg.per_source.max_startups = 1;
	cfg.per_source.exempt = exempt;
	cfg.per_source.nexempt = 1;
	fail_n("192.0.2.1", "", 5, 1000);
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(guard_admit(g, &cfg, "192.0.2.1", 0, 1001), GUARD_ADMIT);
		guard_forked(g, 200 + i);
	}
	/* its persons still count */
	fail_n("192.0.2.1", "acme.alice", 5, 1001);
	ck_assert(guard_locked(g, "", "acme.alice", 1001));
}
END_TEST

START_TEST(test_person_locked_across_sources)
{
	char src[32];
	int i;

	for (i = 0; i < 5; i++) {
		snprintf(src, sizeof(src), "192.0.2.%d", 10 + i);
		fail_n(src, "acme.bob", 1, 1000);
	}
	ck_assert(guard_locked(g, "192.0.2.99", "acme.bob", 1001));
	ck_assert(!guard_locked(g, "192.0.2.99", "acme.alice", 1001));
	/* the person's lockout does not close the door for the source before fork */
	ck_assert_int_eq(guard_admit(g, &cfg, "192.0.2.99", 0, 1001), GUARD_ADMIT);
}
END_TEST

/* A connection of 192.0.2.1 accepted as pid (its startup slot). */
static void
accept_as(pid_t pid)
{
	ck_assert_int_eq(guard_admit(g, &cfg, "192.0.2.1", 0, 1000), GUARD_ADMIT);
	guard_forked(g, pid);
}

static void
conn_fail_n(pid_t pid, const char *person, int n, time_t now)
{
	struct guard_failure f;

	while (n-- > 0)
		guard_conn_failure(g, &cfg, pid, person, now, &f);
}

START_TEST(test_success_forgives_own_failures_of_that_person)
{
	struct guard_failure f;

	accept_as(101);
	conn_fail_n(101, "acme.alice", 2, 1000);
	guard_conn_authenticated(g, &cfg, 101, "acme.alice");
	guard_record_failure(g, &cfg, "192.0.2.1", "acme.alice", 1001, &f);
	ck_assert_uint_eq(f.source_failures, 1);
	ck_assert(!f.source_locked);
}
END_TEST

START_TEST(test_success_does_not_forgive_failures_for_another_person)
{
	struct guard_failure f;

	accept_as(101);
	conn_fail_n(101, "acme.bob", 2, 1000);
	guard_conn_authenticated(g, &cfg, 101, "acme.alice");
	guard_record_failure(g, &cfg, "192.0.2.1", "acme.bob", 1001, &f);
	ck_assert(f.source_locked);
}
END_TEST

START_TEST(test_success_does_not_forgive_other_connections_failures)
{
	struct guard_failure f;

	fail_n("192.0.2.1", "acme.alice", 2, 1000);
	accept_as(101);
	guard_conn_authenticated(g, &cfg, 101, "acme.alice");
	guard_record_failure(g, &cfg, "192.0.2.1", "acme.alice", 1001, &f);
	ck_assert(f.source_locked);
}
END_TEST

START_TEST(test_startups_full_drops_until_one_authenticates)
{
	int i;

	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(guard_admit(g, &cfg, "192.0.2.1", 0, 1000), GUARD_ADMIT);
		guard_forked(g, 1000 + i);
	}
	ck_assert_uint_eq(guard_unauthenticated(g), 3);
	ck_assert_int_eq(guard_admit(g, &cfg, "192.0.2.1", 0, 1000), GUARD_DROP_STARTUPS);
	guard_reaped(g, 1001);
	ck_assert_int_eq(guard_admit(g, &cfg, "192.0.2.1", 0, 1000), GUARD_ADMIT);
	guard_forked(g, -1); /* fork failed: the slot is free again */
	ck_assert_uint_eq(guard_unauthenticated(g), 2);
}
END_TEST

START_TEST(test_authenticated_connection_frees_its_startup_slot)
{
	accept_as(101);
	ck_assert_uint_eq(guard_unauthenticated(g), 1);
	guard_conn_authenticated(g, &cfg, 101, "acme.alice");
	ck_assert_uint_eq(guard_unauthenticated(g), 0);
	/* authenticated: it has nothing more to try */
	ck_assert(guard_conn_locked(g, &cfg, 101, "acme.alice", 1001));
}
END_TEST

START_TEST(test_connection_past_the_grace_time_is_ended_and_its_source_penalised)
{
	struct guard_expired x[4];
	pid_t pid;
	int status;

	cfg.max_startups = (struct gw_startups){ .start = 10, .rate = 100, .full = 10 };
	cfg.per_source.grace_penalty = 30;
	cfg.per_source.max_penalty = 600;
	cfg.login_grace_time = 3600;
	ck_assert_int_eq(guard_admit(g, &cfg, "192.0.2.1", 0, time(NULL)), GUARD_ADMIT);
	ck_assert((pid = fork()) != -1);
	if (pid == 0) {
		pause(); /* a client that never authenticates */
		_exit(0);
	}
	guard_forked(g, pid);
	ck_assert_uint_eq(guard_expire(g, &cfg, x, 4), 0); /* within the grace time */
	ck_assert_int_gt(guard_expire_due_ms(g, &cfg), 3000000);
	cfg.login_grace_time = 0;
	ck_assert_int_eq(guard_expire_due_ms(g, &cfg), 0);
	ck_assert_uint_eq(guard_expire(g, &cfg, x, 4), 1);
	ck_assert_int_eq(x[0].pid, pid);
	ck_assert_str_eq(x[0].addr, "192.0.2.1");
	ck_assert_int_ge(x[0].refused_until, time(NULL) + 29);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	ck_assert_uint_eq(guard_unauthenticated(g), 0);
	ck_assert_int_eq(guard_expire_due_ms(g, &cfg), -1);
	ck_assert_int_eq(guard_admit(g, &cfg, "192.0.2.1", 0, time(NULL)), GUARD_DROP_LOCKED);
	ck_assert_int_eq(guard_admit(g, &cfg, "192.0.2.2", 0, time(NULL)), GUARD_ADMIT);
	guard_forked(g, -1);
}
END_TEST

START_TEST(test_connection_failures_count_against_its_accepted_source)
{
	accept_as(101);
	conn_fail_n(101, "", 3, 1000);
	ck_assert_int_eq(guard_admit(g, &cfg, "192.0.2.1", 0, 1001), GUARD_DROP_LOCKED);
	ck_assert(guard_conn_locked(g, &cfg, 101, "", 1001));
}
END_TEST

START_TEST(test_request_cannot_name_another_source)
{
	json_t *req, *answer;
	int i;

	accept_as(101);
	for (i = 0; i < 3; i++) {
		req = json_pack("{s:s, s:s, s:s}", "type", "guard_failure", "person", "", "source",
		    "192.0.2.200");
		ck_assert_ptr_nonnull(answer = guard_answer(g, &cfg, 101, req));
		json_decref(answer);
		json_decref(req);
	}
	ck_assert(guard_locked(g, "192.0.2.1", "", time(NULL)));
	ck_assert(!guard_locked(g, "192.0.2.200", "", time(NULL)));
}
END_TEST

START_TEST(test_unknown_connection_is_locked_and_its_failure_ends_it)
{
	struct guard_failure f;

	ck_assert(guard_conn_locked(g, &cfg, 999, "acme.alice", 1000));
	guard_conn_failure(g, &cfg, 999, "acme.alice", 1000, &f);
	ck_assert(f.source_refused);
	/* and it counted against nobody */
	fail_n("192.0.2.1", "acme.alice", 4, 1000);
	ck_assert(!guard_locked(g, "", "acme.alice", 1000));
}
END_TEST

START_TEST(test_locked_entries_outlive_a_flood_of_new_ones)
{
	char src[32];
	int i;

	fail_n("192.0.2.1", "", 3, 1000);
	fail_n("192.0.2.2", "", 2, 1000);
	for (i = 0; i < 5000; i++) {
		snprintf(src, sizeof(src), "10.0.%d.%d", i >> 8, i & 255);
		fail_n(src, "", 1, 1001 + i / 1000);
	}
	ck_assert(guard_locked(g, "192.0.2.1", "", 1010));
	/* the unlocked, least recently seen entry was evicted: its count starts afresh */
	fail_n("192.0.2.2", "", 1, 1010);
	ck_assert(!guard_locked(g, "192.0.2.2", "", 1010));
}
END_TEST

Suite *
unit_suite(void)
{
	Suite *s = suite_create("guard");
	TCase *pure = tcase_create("arithmetic"), *table = tcase_create("table");

	tcase_add_test(pure, test_startups_below_start_never_dropped);
	tcase_add_test(pure, test_startups_at_full_always_dropped);
	tcase_add_test(pure, test_startups_at_start_dropped_at_rate);
	tcase_add_test(pure, test_startups_drop_rises_linearly_to_full);
	tcase_add_test(pure, test_count_locks_at_limit);
	tcase_add_test(pure, test_lockout_ends_after_duration);
	tcase_add_test(pure, test_failures_while_locked_do_not_extend_it);
	tcase_add_test(pure, test_count_starts_afresh_after_lockout);
	tcase_add_test(pure, test_failures_outside_window_forgotten);
	tcase_add_test(pure, test_limit_zero_never_locks);
	tcase_add_test(pure, test_forgive_takes_back_failures_not_below_zero);
	tcase_add_test(pure, test_delay_doubles_per_failure_up_to_cap);
	tcase_add_test(pure, test_penalties_add_up_to_their_cap);
	tcase_add_test(pure, test_source_key_is_the_address_or_its_ipv6_64);
	suite_add_tcase(s, pure);

	tcase_add_checked_fixture(table, table_setup, table_teardown);
	tcase_add_test(table, test_locked_source_dropped_before_fork);
	tcase_add_test(table, test_other_source_admitted_while_one_is_locked);
	tcase_add_test(table, test_lockout_reported_once_with_count);
	tcase_add_test(table, test_person_locked_across_sources);
	tcase_add_test(table, test_locked_source_no_longer_counts_against_the_person);
	tcase_add_test(table, test_source_over_its_cap_dropped_others_admitted);
	tcase_add_test(table, test_exempt_source_neither_capped_nor_locked);
	tcase_add_test(table, test_success_forgives_own_failures_of_that_person);
	tcase_add_test(table, test_success_does_not_forgive_failures_for_another_person);
	tcase_add_test(table, test_success_does_not_forgive_other_connections_failures);
	tcase_add_test(table, test_startups_full_drops_until_one_authenticates);
	tcase_add_test(table, test_authenticated_connection_frees_its_startup_slot);
	tcase_add_test(table, test_connection_failures_count_against_its_accepted_source);
	tcase_add_test(table, test_request_cannot_name_another_source);
	tcase_add_test(
	    table, test_connection_past_the_grace_time_is_ended_and_its_source_penalised);
	tcase_add_test(table, test_unknown_connection_is_locked_and_its_failure_ends_it);
	tcase_add_test(table, test_locked_entries_outlive_a_flood_of_new_ones);
	suite_add_tcase(s, table);
	return s;
}
