/* test_bundle.c: which audit lines an evidence bundle discloses (tools/bundle-slice.c), as a
 * table: each line of a made-up log with whether acme's bundle shows it or only its hash; and
 * that a report reads the same lines, or every line when it names no vendor. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/xmalloc.h"
#include "tests/unit/unit.h"
#include "tools/bundle.h"

#define S_ACME   "11111111111111111111111111111111"
#define S_GLOBEX "22222222222222222222222222222222"
#define S_NOBODY "33333333333333333333333333333333"
#define S_PLC08  "44444444444444444444444444444444"

struct row {
	const char *line; /* without ts: the table adds one inside the period */
	bool shown;       /* acme's bundle (all targets) shows it */
	bool shown_plc07; /* acme's bundle for target plc-07 shows it */
};

static const struct row rows[] = {
	{ "\"event\":\"gateway_start\",\"file\":\"/etc/gatewayd/gatewayd.conf\"", true, true },
	{ "\"event\":\"auth_failure\",\"user\":\"acme.alice+plc-07\",\"session\":\"" S_ACME "\"",
	    true, true },
	{ "\"event\":\"access_decision\",\"person\":\"acme.alice\",\"vendor\":\"acme\","
	  "\"target\":\"plc-07\",\"session\":\"" S_ACME "\"",
	    true, true },
	/* Names no vendor, but its session is acme's. */
	{ "\"event\":\"recording_sealed\",\"session\":\"" S_ACME "\"", true, true },
	{ "\"event\":\"auth_failure\",\"user\":\"globex.bob\",\"session\":\"" S_GLOBEX "\"", false,
	    false },
	{ "\"event\":\"access_decision\",\"person\":\"globex.bob\",\"vendor\":\"globex\","
	  "\"target\":\"plc-07\",\"session\":\"" S_GLOBEX "\"",
	    false, false },
	{ "\"event\":\"recording_sealed\",\"session\":\"" S_GLOBEX "\"", false, false },
	/* A login name of no vendor: not acme's to see. */
	{ "\"event\":\"auth_failure\",\"user\":\"root\",\"session\":\"" S_NOBODY "\"", false,
	    false },
	/* acme's session on another target: only in the bundle of all targets. */
	{ "\"event\":\"session_start\",\"person\":\"acme.alice\",\"vendor\":\"acme\","
	  "\"target\":\"plc-08\",\"session\":\"" S_PLC08 "\"",
	    true, false },
	{ "\"event\":\"recording_sealed\",\"session\":\"" S_PLC08 "\"", true, false },
	{ "\"event\":\"control\",\"action\":\"kill\",\"by\":\"vendor\",\"name\":\"acme\"", true,
	    true },
	{ "\"event\":\"control\",\"action\":\"kill\",\"by\":\"vendor\",\"name\":\"globex\"", false,
	    false },
	{ "\"event\":\"control\",\"action\":\"kill\",\"by\":\"person\",\"name\":\"acme.alice\"",
	    true, true },
	{ "\"event\":\"control\",\"action\":\"kill\",\"by\":\"session\",\"name\":\"" S_ACME "\"",
	    true, true },
	{ "\"event\":\"control\",\"action\":\"kill\",\"by\":\"session\",\"name\":\"" S_GLOBEX "\"",
	    false, false },
	{ "\"event\":\"control\",\"result\":\"bad_request\"", false, false },
	{ "\"event\":\"ticket_installed\",\"ticket\":\"t1\",\"vendor\":\"acme\"", true, true },
	{ "\"event\":\"ticket_installed\",\"ticket\":\"t2\",\"vendor\":\"globex\"", false, false },
	/* A vendor whose id begins like acme's is another vendor. */
	{ "\"event\":\"ticket_installed\",\"ticket\":\"t3\",\"vendor\":\"acme2\"", false, false },
	{ "\"event\":\"auth_failure\",\"user\":\"acme2.eve\"", false, false },
	{ "\"event\":\"config_reload\",\"result\":\"applied\"", true, true },
};
#define NROWS (sizeof(rows) / sizeof(rows[0]))

static const char before[] = "{\"ts\":\"2026-03-01T09:59:59.000Z\",\"event\":\"gateway_start\"}";

/* The log: a line before the period, then the table's lines, then one after it. */
static char *
write_log(const char *dir)
{
	char *path;
	FILE *f;
	size_t i;

	xasprintf(&path, "%s/source.log", dir);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fprintf(f, "%s\n", before);
	for (i = 0; i < NROWS; i++)
		fprintf(f, "{\"ts\":\"2026-03-01T10:00:%02zu.000Z\",%s}\n", i, rows[i].line);
	fputs("{\"ts\":\"2026-03-01T11:00:00.000Z\",\"event\":\"gateway_start\"}\n", f);
	fclose(f);
	return path;
}

static void
check_slice(const char *target, bool plc07)
{
	char dir[] = "/tmp/test_bundle.XXXXXX", *log, *out, line[1024], hex[SEAL_HEX_LEN];
	unsigned char digest[SEAL_HASH_LEN];
	struct bundle_spec spec = {
		.vendor = "acme", .target = target, .from = 1772359200, .to = 1772362800
	}; /* 2026-03-01 10:00 to 11:00 UTC */
	struct bundle_out o = { .dir = dir };
	struct bundle b = { .spec = &spec, .out = &o, .events = json_array() };
	json_t *info = json_object();
	size_t i;
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	spec.dir = dir;
	log = write_log(dir);
	xasprintf(&out, "%s/" BUNDLE_AUDIT, dir);
	ck_assert_int_eq(bundle_slice_write(log, &b, info), 0);
	ck_assert_ptr_nonnull(f = fopen(out, "r"));
	for (i = 0; i < NROWS; i++) {
		char *full;

		ck_assert_ptr_nonnull(fgets(line, sizeof(line), f));
		line[strcspn(line, "\n")] = '\0';
		xasprintf(&full, "{\"ts\":\"2026-03-01T10:00:%02zu.000Z\",%s}", i, rows[i].line);
		seal_digest(full, strlen(full), digest);
		seal_hex(digest, SEAL_HASH_LEN, hex);
		if (plc07 ? rows[i].shown_plc07 : rows[i].shown)
			ck_assert_msg(strcmp(line, full) == 0, "row %zu not shown: %s", i, line);
		else
			ck_assert_msg(strncmp(line, "{\"redacted\":\"", 13) == 0 &&
			        strncmp(line + 13, hex, 64) == 0,
			    "row %zu not redacted to its hash: %s", i, line);
		free(full);
	}
	ck_assert_ptr_null(fgets(line, sizeof(line), f)); /* the line after the period is not in */
	fclose(f);
	ck_assert_int_eq(
	    json_integer_value(json_object_get(json_object_get(info, "audit"), "first_line")), 2);
	/* What the first line follows: the hash of the line before the period. */
	seal_digest(before, strlen(before), digest);
	seal_hex(digest, SEAL_HASH_LEN, hex);
	ck_assert_str_eq(bundle_str(json_object_get(info, "audit"), "before"), hex);
	unlink(out);
	unlink(log);
	rmdir(dir);
	free(out);
	free(log);
	json_decref(info);
	json_decref(b.events);
	bundle_out_free(&o);
}

START_TEST(test_slice_shows_only_the_vendors_lines)
{
	check_slice(NULL, false);
}
END_TEST

START_TEST(test_slice_for_one_target_hides_the_vendors_other_targets)
{
	check_slice("plc-07", true);
}
END_TEST

/* The events a report reads of the table's period: one per row for which shown() holds. */
static void
check_events(const char *vendor, const char *target)
{
	char dir[] = "/tmp/test_bundle.XXXXXX", *log;
	struct bundle_spec spec = {
		.vendor = vendor, .target = target, .from = 1772359200, .to = 1772362800
	};
	struct bundle b = { .spec = &spec, .events = json_array() };
	size_t i, k = 0;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	log = write_log(dir);
	ck_assert_int_eq(bundle_events_read(log, &b), 0);
	for (i = 0; i < NROWS; i++) {
		bool want =
		    vendor == NULL || (target != NULL ? rows[i].shown_plc07 : rows[i].shown);
		char ts[32];

		if (!want)
			continue;
		snprintf(ts, sizeof(ts), "2026-03-01T10:00:%02zu.000Z", i);
		ck_assert_msg(k < json_array_size(b.events), "row %zu missing", i);
		ck_assert_str_eq(bundle_str(json_array_get(b.events, k++), "ts"), ts);
	}
	ck_assert_uint_eq(json_array_size(b.events), k);
	unlink(log);
	ck_assert_int_eq(rmdir(dir), 0); /* nothing else was written */
	free(log);
	json_decref(b.events);
}

START_TEST(test_report_reads_the_lines_the_bundle_shows)
{
	check_events("acme", NULL);
	check_events("acme", "plc-07");
}
END_TEST

START_TEST(test_report_of_every_vendor_reads_every_line)
{
	check_events(NULL, NULL);
}
END_TEST

Suite *
unit_suite(void)
{
	Suite *s = suite_create("bundle");
	TCase *tc = tcase_create("slice");

	tcase_add_test(tc, test_slice_shows_only_the_vendors_lines);
	tcase_add_test(tc, test_slice_for_one_target_hides_the_vendors_other_targets);
	tcase_add_test(tc, test_report_reads_the_lines_the_bundle_shows);
	tcase_add_test(tc, test_report_of_every_vendor_reads_every_line);
	suite_add_tcase(s, tc);
	return s;
}
