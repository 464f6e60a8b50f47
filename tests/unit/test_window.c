/* test_window.c: access windows: containment, end and next opening, across DST changes
 * (Europe/Berlin gap and overlap), midnight and leap day. Instants are written in UTC. */
#include "unit.h"
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"
#include "policy_fixture.h"

#define MON      (1u << 1)
#define TUE      (1u << 2)
#define FRI      (1u << 5)
#define SAT      (1u << 6)
#define SUN      (1u << 0)
#define WEEKDAYS (0x3eu)
#define ALL      (0x7fu)
#define HM(h, m) ((h)*60 + (m))

struct containment_case {
	const char *name;
	struct gw_window w;
	const char *at;
	bool inside;
	const char *ends; /* when inside: end of coverage (limit far away) */
};

/* Berlin: 2025-03-30 02:00 CET -> 03:00 CEST (01:00Z); 2025-10-26 03:00 CEST -> 02:00 CET (01:00Z).
 */
static const struct containment_case containment[] = {
	{ "weekday window inside", { WEEKDAYS, HM(7, 0), HM(18, 0), "Europe/Berlin", 0, 0 },
	    "2025-03-31T06:00:00Z", true, "2025-03-31T16:00:00Z" },
	{ "weekday window before opening", { WEEKDAYS, HM(7, 0), HM(18, 0), "Europe/Berlin", 0, 0 },
	    "2025-03-31T04:59:59Z", false, NULL },
	{ "weekday window opens at 07:00 CEST",
	    { WEEKDAYS, HM(7, 0), HM(18, 0), "Europe/Berlin", 0, 0 }, "2025-03-31T05:00:00Z", true,
	    "2025-03-31T16:00:00Z" },
	{ "weekday window closed at 18:00",
	    { WEEKDAYS, HM(7, 0), HM(18, 0), "Europe/Berlin", 0, 0 }, "2025-03-31T16:00:00Z", false,
	    NULL },
	{ "weekday window closed on saturday",
	    { WEEKDAYS, HM(7, 0), HM(18, 0), "Europe/Berlin", 0, 0 }, "2025-03-29T10:00:00Z", false,
	    NULL },
	{ "winter offset before the change", { ALL, HM(7, 0), HM(18, 0), "Europe/Berlin", 0, 0 },
	    "2025-03-29T06:00:00Z", true, "2025-03-29T17:00:00Z" },
	{ "spring day opens at 07:00 CEST", { ALL, HM(7, 0), HM(18, 0), "Europe/Berlin", 0, 0 },
	    "2025-03-30T05:00:00Z", true, "2025-03-30T16:00:00Z" },
	{ "gap: 02:30 start opens at the jump", { SUN, HM(2, 30), HM(4, 0), "Europe/Berlin", 0, 0 },
	    "2025-03-30T01:00:00Z", true, "2025-03-30T02:00:00Z" },
	{ "gap: closed before the jump", { SUN, HM(2, 30), HM(4, 0), "Europe/Berlin", 0, 0 },
	    "2025-03-30T00:59:59Z", false, NULL },
	{ "gap: end inside the gap closes at the jump",
	    { SUN, HM(1, 0), HM(2, 30), "Europe/Berlin", 0, 0 }, "2025-03-30T00:59:59Z", true,
	    "2025-03-30T01:00:00Z" },
	{ "overlap: 02:30 start is the first 02:30",
	    { SUN, HM(2, 30), HM(5, 0), "Europe/Berlin", 0, 0 }, "2025-10-26T00:30:00Z", true,
	    "2025-10-26T04:00:00Z" },
	{ "overlap: closed just before the first 02:30",
	    { SUN, HM(2, 30), HM(5, 0), "Europe/Berlin", 0, 0 }, "2025-10-26T00:29:59Z", false,
	    NULL },
	{ "overlap: 02:30 end is the first 02:30",
	    { SUN, HM(1, 0), HM(2, 30), "Europe/Berlin", 0, 0 }, "2025-10-26T00:29:59Z", true,
	    "2025-10-26T00:30:00Z" },
	{ "overlap: repeated hour does not reopen",
	    { SUN, HM(1, 0), HM(2, 30), "Europe/Berlin", 0, 0 }, "2025-10-26T01:15:00Z", false,
	    NULL },
	{ "overlap: day is 25 hours long", { SUN, HM(0, 0), HM(24, 0), "Europe/Berlin", 0, 0 },
	    "2025-10-26T22:59:59Z", true, "2025-10-26T23:00:00Z" },
	{ "spring: day is 23 hours long", { SUN, HM(0, 0), HM(24, 0), "Europe/Berlin", 0, 0 },
	    "2025-03-29T23:00:00Z", true, "2025-03-30T22:00:00Z" },
	{ "midnight: inside after midnight", { FRI, HM(22, 0), HM(6, 0), "UTC", 0, 0 },
	    "2025-04-05T03:00:00Z", true, "2025-04-05T06:00:00Z" },
	{ "midnight: inside before midnight", { FRI, HM(22, 0), HM(6, 0), "UTC", 0, 0 },
	    "2025-04-04T23:00:00Z", true, "2025-04-05T06:00:00Z" },
	{ "midnight: day not listed", { FRI, HM(22, 0), HM(6, 0), "UTC", 0, 0 },
	    "2025-04-05T22:30:00Z", false, NULL },
	{ "midnight: closed at the end", { FRI, HM(22, 0), HM(6, 0), "UTC", 0, 0 },
	    "2025-04-05T06:00:00Z", false, NULL },
	{ "midnight across spring change", { SAT, HM(22, 0), HM(6, 0), "Europe/Berlin", 0, 0 },
	    "2025-03-29T21:00:00Z", true, "2025-03-30T04:00:00Z" },
	{ "leap day: tuesday 2028-02-29", { TUE, HM(0, 0), HM(24, 0), "UTC", 0, 0 },
	    "2028-02-29T12:00:00Z", true, "2028-03-01T00:00:00Z" },
	{ "leap day: monday night runs into it", { MON, HM(20, 0), HM(8, 0), "UTC", 0, 0 },
	    "2028-02-29T07:59:59Z", true, "2028-02-29T08:00:00Z" },
	{ "leap day: absolute window covers it", { 0, 0, 0, NULL, 1835395200, 1835481600 },
	    "2028-02-29T23:59:59Z", true, "2028-03-01T00:00:00Z" },
	{ "absolute window end is exclusive", { 0, 0, 0, NULL, 1835395200, 1835481600 },
	    "2028-03-01T00:00:00Z", false, NULL },
	{ "chained whole days run to saturday", { WEEKDAYS, HM(0, 0), HM(24, 0), "UTC", 0, 0 },
	    "2025-03-31T12:00:00Z", true, "2025-04-05T00:00:00Z" },
};

START_TEST(test_window_containment)
{
	const struct containment_case *c = &containment[_i];
	struct gw_window w = c->w;
	struct gw_window_set set = { &w, 1, 0 };
	const struct gw_window_set *levels[] = { &set };
	time_t ends = 0, limit = fixture_time("2030-01-01T00:00:00Z");
	bool in = window_levels_contain(levels, 1, fixture_time(c->at), limit, &ends);

	ck_assert_msg(
	    in == c->inside, "%s: expected %s", c->name, c->inside ? "inside" : "outside");
	if (c->inside)
		ck_assert_msg(ends == fixture_time(c->ends), "%s: ends %lld, expected %s", c->name,
		    (long long)ends, c->ends);
}
END_TEST

struct next_case {
	const char *name;
	struct gw_window w;
	const char *at;
	const char *opens;
	const char *text;
};

static const struct next_case next_open[] = {
	{ "saturday: next is monday 07:00 CEST",
	    { WEEKDAYS, HM(7, 0), HM(18, 0), "Europe/Berlin", 0, 0 }, "2025-03-29T10:00:00Z",
	    "2025-03-31T05:00:00Z", "Mon 07:00 Europe/Berlin" },
	{ "friday evening: next is monday 07:00 CET",
	    { WEEKDAYS, HM(7, 0), HM(18, 0), "Europe/Berlin", 0, 0 }, "2025-10-24T17:00:00Z",
	    "2025-10-27T06:00:00Z", "Mon 07:00 Europe/Berlin" },
	{ "gap: next opening is the jump, shown as 03:00",
	    { SUN, HM(2, 30), HM(4, 0), "Europe/Berlin", 0, 0 }, "2025-03-29T12:00:00Z",
	    "2025-03-30T01:00:00Z", "Sun 03:00 Europe/Berlin" },
	{ "absolute window far ahead names the date", { 0, 0, 0, NULL, 1835395200, 1835481600 },
	    "2028-01-01T00:00:00Z", "2028-02-29T00:00:00Z", "2028-02-29 00:00 UTC" },
};

START_TEST(test_window_next_open)
{
	const struct next_case *c = &next_open[_i];
	struct gw_window w = c->w;
	struct gw_window_set set = { &w, 1, 0 };
	const struct gw_window_set *levels[] = { &set };
	const struct gw_window *opener;
	time_t at = fixture_time(c->at), next;
	char text[96];

	next = window_levels_next_open(levels, 1, at, at + 400 * 86400, &opener);
	ck_assert_msg(next == fixture_time(c->opens), "%s: opens %lld", c->name, (long long)next);
	ck_assert_ptr_eq(opener, &w);
	window_format_open(opener, next, at, text, sizeof(text));
	ck_assert_str_eq(text, c->text);
}
END_TEST

START_TEST(test_window_levels_intersect)
{
	struct gw_window vw = { WEEKDAYS, HM(7, 0), HM(18, 0), "Europe/Berlin", 0, 0 };
	struct gw_window gw = { ALL, HM(12, 0), HM(13, 0), "Europe/Berlin", 0, 0 };
	struct gw_window_set vendor = { &vw, 1, 0 }, none = { NULL, 0, 0 }, grant = { &gw, 1, 0 };
	const struct gw_window_set *levels[] = { &vendor, &none, &grant };
	const struct gw_window *opener;
	time_t ends, at = fixture_time("2025-03-31T08:00:00Z"); /* 10:00 CEST */

	ck_assert(!window_levels_contain(levels, 3, at, at + 86400, &ends));
	ck_assert_int_eq(window_levels_next_open(levels, 3, at, at + 86400, &opener),
	    fixture_time("2025-03-31T10:00:00Z"));
	ck_assert_ptr_eq(opener, &gw);
	at = fixture_time("2025-03-31T10:30:00Z");
	ck_assert(window_levels_contain(levels, 3, at, at + 86400, &ends));
	ck_assert_int_eq(ends, fixture_time("2025-03-31T11:00:00Z"));
}
END_TEST

START_TEST(test_window_end_capped_at_limit)
{
	struct gw_window w = { ALL, HM(0, 0), HM(24, 0), "UTC", 0, 0 };
	struct gw_window_set set = { &w, 1, 0 };
	const struct gw_window_set *levels[] = { &set };
	time_t ends, at = fixture_time("2025-03-31T08:00:00Z");

	ck_assert(window_levels_contain(levels, 1, at, at + 3600, &ends));
	ck_assert_int_eq(ends, at + 3600);
}
END_TEST

START_TEST(test_window_vendor_without_windows_is_never_inside)
{
	struct gw_window gw = { ALL, HM(0, 0), HM(24, 0), "UTC", 0, 0 };
	struct gw_window_set none = { NULL, 0, 0 }, grant = { &gw, 1, 0 };
	const struct gw_window_set *levels[] = { &none, &grant };
	const struct gw_window *opener;
	time_t ends, at = fixture_time("2025-03-31T08:00:00Z");

	ck_assert(!window_levels_contain(levels, 2, at, at + 3600, &ends));
	ck_assert_int_eq(window_levels_next_open(levels, 2, at, at + 86400, &opener), 0);
}
END_TEST

START_TEST(test_window_restores_tz)
{
	struct gw_window w = { ALL, HM(7, 0), HM(18, 0), "Europe/Berlin", 0, 0 };
	struct gw_window_set set = { &w, 1, 0 };
	const struct gw_window_set *levels[] = { &set };
	time_t ends;

	setenv("TZ", "America/New_York", 1);
	window_levels_contain(levels, 1, fixture_time("2025-03-31T08:00:00Z"), 0, &ends);
	ck_assert_str_eq(getenv("TZ"), "America/New_York");
	unsetenv("TZ");
	window_levels_contain(levels, 1, fixture_time("2025-03-31T08:00:00Z"), 0, &ends);
	ck_assert_ptr_null(getenv("TZ"));
}
END_TEST

/* What vendors and approvers read: the site's clock, with UTC beside it (display_tz). */
START_TEST(test_time_format_site)
{
	time_t t, now;
	char buf[96];

	ck_assert_int_eq(time_parse_utc("2027-03-01T08:03:00Z", &t), 0);
	ck_assert_int_eq(time_parse_utc("2027-03-01T06:00:00Z", &now), 0);
	time_format_site("Europe/Berlin", t, now, buf, sizeof(buf));
	ck_assert_str_eq(buf, "09:03 CET / 08:03Z");
	ck_assert_int_eq(time_parse_utc("2027-07-01T22:30:00Z", &t), 0);
	time_format_site("Europe/Berlin", t, now, buf, sizeof(buf));
	ck_assert_str_eq(buf, "2027-07-02 00:30 CEST / 22:30Z");
	ck_assert_ptr_null(getenv("TZ")); /* the zone switch leaves the process's TZ as it was */
}
END_TEST

START_TEST(test_window_tz_names_checked_against_tzdata)
{
	ck_assert(window_tz_is_valid("Europe/Berlin"));
	ck_assert(window_tz_is_valid("UTC"));
	ck_assert(!window_tz_is_valid("Europe/Atlantis"));
	ck_assert(!window_tz_is_valid("../../etc/passwd"));
	ck_assert(!window_tz_is_valid("/etc/localtime"));
	ck_assert(!window_tz_is_valid("Europe"));
	ck_assert(!window_tz_is_valid("CET-1CEST,M3.5.0,M10.5.0/3"));
}
END_TEST

Suite *
unit_suite(void)
{
	Suite *s = suite_create("window");
	TCase *tc = tcase_create("window");

	tcase_add_loop_test(
	    tc, test_window_containment, 0, (int)(sizeof(containment) / sizeof(containment[0])));
	tcase_add_loop_test(
	    tc, test_window_next_open, 0, (int)(sizeof(next_open) / sizeof(next_open[0])));
	tcase_add_test(tc, test_window_levels_intersect);
	tcase_add_test(tc, test_window_end_capped_at_limit);
	tcase_add_test(tc, test_window_vendor_without_windows_is_never_inside);
	tcase_add_test(tc, test_window_restores_tz);
	tcase_add_test(tc, test_window_tz_names_checked_against_tzdata);
	tcase_add_test(tc, test_time_format_site);
	suite_add_tcase(s, tc);
	return s;
}
