/* test_recspace.c: when the recording disk ends a session or refuses a new one: the quota
 * (global, a vendor's own, none), the free-space reserve and its floor, as a table. */
#include "unit.h"
#include <string.h>

#include "gatewayd/recspace.h"

#define MB 1000000LL

static struct gw_config cfg = {
	.recording_dir = "/rec",
	.max_recording_bytes = 100 * MB,
	.recording_min_free = 40 * MB,
};

START_TEST(live_session_verdicts_follow_the_table)
{
	static struct gw_vendor global = { .max_recording_bytes = -1 };
	static struct gw_vendor own = { .max_recording_bytes = 10 * MB };
	static struct gw_vendor unlimited = { .max_recording_bytes = 0 };
	static const struct {
		const struct gw_vendor *vendor;
		unsigned long long recorded;
		long long free_bytes; /* -1: not read this time */
		enum recspace_verdict want;
		const char *reason; /* part of the evidence's reason */
	} rows[] = {
		{ &global, 99 * MB, 1000 * MB, RECSPACE_OK, NULL },
		{ &global, 100 * MB, 1000 * MB, RECSPACE_QUOTA,
		    "recording quota reached (100000000 bytes recorded, max_recording_bytes "
		    "100000000)" },
		{ &own, 10 * MB, -1, RECSPACE_QUOTA, "max_recording_bytes 10000000" },
		{ &unlimited, 5000 * MB, -1, RECSPACE_OK, NULL },
		/* Between the floor (half the reserve) and the reserve a live session goes on. */
		{ &unlimited, 1, 20 * MB, RECSPACE_OK, NULL },
		{ &unlimited, 1, 20 * MB - 1, RECSPACE_DISK_FULL,
		    "recording disk full (19999999 bytes free in /rec, below half of "
		    "recording_min_free 40000000)" },
		/* The quota is named first: it is the session's own doing. */
		{ &global, 100 * MB, 0, RECSPACE_QUOTA, "recording quota reached" },
	};
	char msg[160], reason[192];
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		enum recspace_verdict got = recspace_check_session(&cfg, rows[i].vendor,
		    rows[i].recorded, rows[i].free_bytes, msg, sizeof(msg), reason, sizeof(reason));

		ck_assert_msg(
		    got == rows[i].want, "row %zu: verdict %d, want %d", i, got, rows[i].want);
		if (rows[i].reason != NULL)
			ck_assert_msg(strstr(reason, rows[i].reason) != NULL,
			    "row %zu: reason \"%s\"", i, reason);
		if (got == RECSPACE_DISK_FULL)
			ck_assert_str_eq(
			    msg, "session ended: the gateway cannot record: recording disk full");
	}
}
END_TEST

START_TEST(new_session_needs_the_reserve)
{
	struct gw_config off = cfg;
	char detail[160];

	ck_assert(recspace_admits(&cfg, 40 * MB, detail, sizeof(detail)));
	ck_assert(!recspace_admits(&cfg, 40 * MB - 1, detail, sizeof(detail)));
	ck_assert_str_eq(detail, "39999999 bytes free in /rec, below recording_min_free 40000000");
	ck_assert(!recspace_admits(&cfg, -1, detail, sizeof(detail))); /* unknown: fail closed */
	off.recording_min_free = 0;
	ck_assert(recspace_admits(&off, 0, detail, sizeof(detail)));
}
END_TEST

START_TEST(free_space_is_read_from_the_directory)
{
	ck_assert_int_gt(recspace_free("/tmp"), 0);
	ck_assert_int_eq(recspace_free("/nonexistent/dir"), -1);
}
END_TEST

Suite *
unit_suite(void)
{
	Suite *s = suite_create("recspace");
	TCase *tc = tcase_create("recspace");

	tcase_add_test(tc, live_session_verdicts_follow_the_table);
	tcase_add_test(tc, new_session_needs_the_reserve);
	tcase_add_test(tc, free_space_is_read_from_the_directory);
	suite_add_tcase(s, tc);
	return s;
}
