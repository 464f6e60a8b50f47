/* test_windowcheck.c: config_warn_windows, the configuration check's warnings about windows
 * that can never open, each naming the line of the windows (or of the vendor without any). */
#include "unit.h"
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"
#include "policy_fixture.h"

/* One setting a line: the warnings name these lines. 2027-03-01 is a Monday. */
static const char windowcheck_config[] =
    "listen = ( { address = \"127.0.0.1\"; port = 2222; } );\n"         /* 1 */
    "host_keys = [ \"/nonexistent/hostkey\" ];\n"                       /* 2 */
    "state_dir = \"/nonexistent\"; recording_dir = \"/nonexistent\";\n" /* 3 */
    "audit_log = \"/nonexistent/audit.log\";\n"                         /* 4 */
    "vendors = (\n"                                                     /* 5 */
    "  { id = \"acme\";\n"                                              /* 6 */
    "    windows = ( { days = [ \"mon-fri\" ]; start = \"07:00\"; end = \"18:00\"; "
    "tz = \"Europe/Berlin\"; } );\n"         /* 7 */
    "    persons = ( { id = \"acme.day\";\n" /* 8 */
    "                  windows = ( { days = [ \"tue\" ]; start = \"09:00\"; end = \"12:00\"; "
    "tz = \"Europe/Berlin\"; } ); },\n"        /* 9 */
    "                { id = \"acme.night\";\n" /* 10 */
    "                  windows = ( { days = [ \"sat\" ]; start = \"10:00\"; end = \"12:00\"; "
    "tz = \"Europe/Berlin\"; } ); } ); },\n"                           /* 11 */
    "  { id = \"nowin\"; persons = ( { id = \"nowin.dave\"; } ); },\n" /* 12 */
    "  { id = \"past\"; persons = ( { id = \"past.erin\"; } );\n"      /* 13 */
    "    windows = ( { from = \"2020-01-01T00:00:00Z\"; to = \"2020-01-02T00:00:00Z\"; } ); },\n"
    "  { id = \"later\"; persons = ( { id = \"later.fay\"; } );\n" /* 15 */
    "    windows = ( { from = \"2027-06-01T06:00:00Z\"; to = \"2027-06-01T14:00:00Z\"; } ); }\n"
    ");\n" /* 17 */
    "targets = ( { name = \"plc-07\"; address = \"127.0.0.1\"; user = \"op\"; key_file = \"%s\";\n"
    "  host_key_fingerprints = [ \"SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\" ]; } );\n"
    "grants = ( { vendor = \"acme\"; targets = [ \"plc-07\" ];\n" /* 20 */
    "             windows = ( { days = [ \"sun\" ]; start = \"00:00\"; end = \"24:00\"; "
    "tz = \"UTC\"; } ); },\n" /* 21 */
    "           { vendor = \"later\"; targets = [ \"plc-07\" ]; } );\n";

START_TEST(test_windows_that_never_open_are_named_with_their_line)
{
	struct gw_config *cfg = NULL;
	char *key = fixture_write("target-key", "not a real key\n"), *text, *path, *errors = NULL;
	char *warnings, *expected;

	chmod(key, 0600);
	xasprintf(&text, windowcheck_config, key);
	path = fixture_write("windowcheck.conf", text);
	ck_assert_msg(config_load(path, &cfg, &errors) == 0, "%s", errors);
	warnings = config_warn_windows(cfg, fixture_time("2027-03-01T09:00:00Z"));
	xasprintf(&expected,
	    "%s:11: warning: the windows of person acme.night never overlap those of vendor acme: "
	    "acme.night can never connect\n"
	    "%s:12: warning: vendor nowin has no access windows: none of its persons can ever "
	    "connect\n"
	    "%s:14: warning: the access windows of vendor past never open again\n"
	    "%s:21: warning: the windows of the grant of vendor acme (target plc-07) never overlap "
	    "the vendor's: it never admits\n",
	    path, path, path, path);
	ck_assert_ptr_nonnull(warnings);
	ck_assert_str_eq(warnings, expected);
	free(warnings);
	/* Once June has passed, the later vendor's only window is in the past too. */
	warnings = config_warn_windows(cfg, fixture_time("2027-07-01T00:00:00Z"));
	ck_assert_ptr_nonnull(strstr(warnings, "vendor later never open again"));
	free(warnings);
	free(expected);
	config_free(cfg);
	free(text);
	free(path);
	free(key);
}
END_TEST

START_TEST(test_windows_that_open_give_no_warning)
{
	struct gw_config *cfg = fixture_config();
	char *warnings = config_warn_windows(cfg, fixture_time("2027-03-01T09:00:00Z"));

	/* Of the fixture's vendors only nowin has no window; the others' levels all open. */
	ck_assert_ptr_nonnull(warnings);
	ck_assert_ptr_nonnull(strstr(warnings, "warning: vendor nowin has no access windows"));
	ck_assert_ptr_eq(strchr(warnings, '\n'), warnings + strlen(warnings) - 1);
	free(warnings);
	config_free(cfg);
}
END_TEST

Suite *
unit_suite(void)
{
	Suite *s = suite_create("windowcheck");
	TCase *tc = tcase_create("windowcheck");

	tcase_add_test(tc, test_windows_that_never_open_are_named_with_their_line);
	tcase_add_test(tc, test_windows_that_open_give_no_warning);
	suite_add_tcase(s, tc);
	return s;
}
