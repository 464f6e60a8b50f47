/* test_policy_config.c: the loader's handling of windows, approvers and the vendor-side
 * algorithm lists: every mistake is a FILE:LINE error, never a silently wider or narrower policy.
 */
#include "unit.h"
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"
#include "policy_fixture.h"

static const char head[] =
    "listen = ( { address = \"127.0.0.1\"; port = 2222; } );\n"
    "host_keys = [ \"/k\" ]; state_dir = \"/s\"; recording_dir = \"/r\"; audit_log = \"/a\";\n"
    "targets = ( { name = \"plc-07\"; address = \"127.0.0.1\"; user = \"op\"; key_file = "
    "\"@KEYFILE@\";\n"
    "  host_key_fingerprints = [ \"SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\" ]; } );\n";

struct config_case {
	const char *name;
	const char *body;  /* @KEY@: an approver key line */
	const char *error; /* NULL: valid */
};

#define VENDOR(w) "vendors = ( { id = \"acme\"; windows = ( " w " ); } );\n"

static const struct config_case cases[] = {
	{ "recurring window",
	    VENDOR("{ days = [\"mon-fri\", \"sun\"]; start = \"07:00\"; end = \"18:00\"; tz = "
	           "\"Europe/Berlin\"; }"),
	    NULL },
	{ "window over midnight",
	    VENDOR("{ days = [\"fri-mon\"]; start = \"22:00\"; end = \"06:00\"; tz = \"UTC\"; }"),
	    NULL },
	{ "absolute window", VENDOR("{ from = \"2027-03-01\"; to = \"2027-03-02T12:00:00Z\"; }"),
	    NULL },
	{ "unknown time zone",
	    VENDOR(
	        "{ days = [\"mon\"]; start = \"07:00\"; end = \"18:00\"; tz = \"Mars/Olympus\"; }"),
	    ":5: \"Mars/Olympus\" is not a time zone" },
	{ "bad day",
	    VENDOR("{ days = [\"monday\"]; start = \"07:00\"; end = \"18:00\"; tz = \"UTC\"; }"),
	    "bad day \"monday\"" },
	{ "bad clock",
	    VENDOR("{ days = [\"mon\"]; start = \"7:00\"; end = \"18:00\"; tz = \"UTC\"; }"),
	    "\"start\" must be a time of day" },
	{ "start 24:00",
	    VENDOR("{ days = [\"mon\"]; start = \"24:00\"; end = \"18:00\"; tz = \"UTC\"; }"),
	    "\"start\" must be a time of day" },
	{ "equal start and end",
	    VENDOR("{ days = [\"mon\"]; start = \"07:00\"; end = \"07:00\"; tz = \"UTC\"; }"),
	    "start and end are equal" },
	{ "unknown window key",
	    VENDOR("{ days = [\"mon\"]; start = \"07:00\"; end = \"18:00\"; tz = \"UTC\"; zone = "
	           "\"x\"; }"),
	    "unknown setting \"zone\"" },
	{ "mixed window kinds",
	    VENDOR("{ days = [\"mon\"]; start = \"07:00\"; end = \"18:00\"; tz = \"UTC\"; from = "
	           "\"2027-03-01\"; to = \"2027-03-02\"; }"),
	    "either recurring" },
	{ "absolute window backwards", VENDOR("{ from = \"2027-03-02\"; to = \"2027-03-01\"; }"),
	    "\"to\" must be later" },
	{ "approver",
	    VENDOR("{ from = \"2027-03-01\"; to = \"2027-03-02\"; }") "approvers = ( { name = "
	                                                              "\"lead\"; key = \"@KEY@\"; "
	                                                              "vendors = [\"acme\"]; "
	                                                              "targets = [\"*\"]; } );\n",
	    NULL },
	{ "approver with bad key",
	    VENDOR("{ from = \"2027-03-01\"; to = \"2027-03-02\"; }") "approvers = ( { name = "
	                                                              "\"lead\"; key = "
	                                                              "\"ssh-ed25519 AAAA@KEY@\"; "
	                                                              "vendors = [\"acme\"]; "
	                                                              "targets = [\"*\"]; } );\n",
	    "approver key is not an OpenSSH" },
	{ "approver scope names unknown target",
	    VENDOR(
	        "{ from = \"2027-03-01\"; to = \"2027-03-02\"; }") "approvers = ( { name = "
	                                                           "\"lead\"; key = \"@KEY@\"; "
	                                                           "vendors = [\"acme\"]; targets "
	                                                           "= [\"plc-7\"]; } );\n",
	    "unknown target \"plc-7\"" },
	{ "approver without scope",
	    VENDOR("{ from = \"2027-03-01\"; to = \"2027-03-02\"; }") "approvers = ( { name = "
	                                                              "\"lead\"; key = \"@KEY@\"; "
	                                                              "} );\n",
	    "approver needs \"vendors\"" },
	{ "vendor session cap",
	    "vendors = ( { id = \"acme\"; max_sessions = 2; windows = ( { from = \"2027-03-01\"; "
	    "to = \"2027-03-02\"; } ); } );\n",
	    NULL },
	{ "negative vendor session cap",
	    "vendors = ( { id = \"acme\"; max_sessions = -1; windows = ( { from = \"2027-03-01\"; "
	    "to = \"2027-03-02\"; } ); } );\n",
	    "\"max_sessions\" must be between 0 and" },
	{ "control socket and admin group",
	    VENDOR("{ from = \"2027-03-01\"; to = \"2027-03-02\"; }") "control_socket = "
	                                                              "\"/run/gatewayd/"
	                                                              "control.sock\"; admin_group "
	                                                              "= \"root\";\n",
	    NULL },
	{ "relative control socket",
	    VENDOR("{ from = \"2027-03-01\"; to = \"2027-03-02\"; }") "control_socket = "
	                                                              "\"control.sock\";\n",
	    "\"control_socket\" must be an absolute path" },
	{ "unknown admin group",
	    VENDOR("{ from = \"2027-03-01\"; to = \"2027-03-02\"; }") "admin_group = "
	                                                              "\"no-such-group-gw\";\n",
	    "no group \"no-such-group-gw\"" },
	{ "front user",
	    VENDOR(
	        "{ from = \"2027-03-01\"; to = \"2027-03-02\"; }") "front_user = \"gw-front_2\";\n",
	    NULL },
	{ "front user with a slash",
	    VENDOR("{ from = \"2027-03-01\"; to = \"2027-03-02\"; }") "front_user = \"../root\";\n",
	    ":6: \"front_user\" must be a system user name" },
	{ "empty front user",
	    VENDOR("{ from = \"2027-03-01\"; to = \"2027-03-02\"; }") "front_user = \"\";\n",
	    ":6: \"front_user\" must not be empty" },
	{ "approvals fewer approvers may give",
	    VENDOR("{ from = \"2027-03-01\"; to = \"2027-03-02\"; }") "grants = ( { vendor = "
	                                                              "\"acme\"; targets = [ "
	                                                              "\"plc-07\" ]; approvals = "
	                                                              "2; } );\n"
	                                                              "approvers = ( { name = "
	                                                              "\"lead\"; key = \"@KEY@\"; "
	                                                              "vendors = [\"acme\"]; "
	                                                              "targets = "
	                                                              "[\"*\"]; } );\n",
	    ":6: vendor acme on target plc-07 needs 2 approvals, but approvers in scope: 1" },
	{ "two approvers share a key",
	    VENDOR(
	        "{ from = \"2027-03-01\"; to = \"2027-03-02\"; }") "approvers = ( { name = \"a\"; "
	                                                           "key = \"@KEY@\"; vendors = "
	                                                           "[\"*\"]; targets = [\"*\"]; "
	                                                           "},\n"
	                                                           "  { name = \"b\"; key = "
	                                                           "\"@KEY@\"; vendors = [\"*\"]; "
	                                                           "targets = [\"*\"]; } );\n",
	    "share a key" },
	{ "algorithm lists",
	    VENDOR("{ from = \"2027-03-01\"; to = \"2027-03-02\"; }") "kex_algorithms = "
	                                                              "\"curve25519-sha256\"; "
	                                                              "ciphers = "
	                                                              "\"aes256-gcm@openssh.com,"
	                                                              "aes128-ctr\";\n"
	                                                              "macs = "
	                                                              "\"hmac-sha2-512-etm@openssh."
	                                                              "com\"; hostkey_algorithms = "
	                                                              "\"ssh-ed25519\";\n",
	    NULL },
	{ "algorithm list with a space",
	    VENDOR("{ from = \"2027-03-01\"; to = \"2027-03-02\"; }") "ciphers = \"aes128-ctr, "
	                                                              "aes256-ctr\";\n",
	    ":6: \"ciphers\" must be algorithm names" },
	{ "algorithm list with an OpenSSH edit",
	    VENDOR("{ from = \"2027-03-01\"; to = \"2027-03-02\"; }") "macs = \"+hmac-sha1\";\n",
	    ":6: \"macs\" must be algorithm names" },
	/* libconfig 1.5 exit()s on an @include of a directory: that would end the listener. */
	{ "include of a directory",
	    VENDOR("{ from = \"2027-03-01\"; to = \"2027-03-02\"; }") "  @include \"/etc\"\n",
	    ":6: @include is not supported" },
	{ "empty algorithm in a list",
	    VENDOR("{ from = \"2027-03-01\"; to = \"2027-03-02\"; }") "kex_algorithms = "
	                                                              "\"curve25519-sha256,,diffie-"
	                                                              "hellman-group16-sha512\";\n",
	    ":6: \"kex_algorithms\" must be algorithm names" },
};

/* s with every tok replaced by val (test text only; no format strings from data). */
static char *
subst(const char *s, const char *tok, const char *val)
{
	const char *p;
	char *out = xstrdup(""), *next;

	while ((p = strstr(s, tok)) != NULL) {
		xasprintf(&next, "%s%.*s%s", out, (int)(p - s), s, val);
		free(out);
		out = next;
		s = p + strlen(tok);
	}
	xasprintf(&next, "%s%s", out, s);
	free(out);
	return next;
}

START_TEST(test_config_windows_and_approvers)
{
	const struct config_case *c = &cases[_i];
	char *pub = fixture_pub("lead-ed25519"), *keyfile, *h, *b, *text, *path, *errors = NULL;
	struct gw_config *cfg = NULL;
	int rc;

	keyfile = fixture_write("target-key", "x\n");
	chmod(keyfile, 0600);
	h = subst(head, "@KEYFILE@", keyfile);
	b = subst(c->body, "@KEY@", pub);
	xasprintf(&text, "%s%s", h, b);
	path = fixture_write("c.conf", text);
	rc = config_load(path, &cfg, &errors);
	if (c->error == NULL) {
		ck_assert_msg(rc == 0, "%s: %s", c->name, errors);
		ck_assert_uint_eq(cfg->vendors[0].windows.n, 1);
	} else {
		ck_assert_msg(rc == -1, "%s: accepted", c->name);
		ck_assert_msg(strstr(errors, c->error) != NULL, "%s: errors %s", c->name, errors);
		ck_assert_msg(
		    strncmp(errors, path, strlen(path)) == 0, "%s: not FILE:LINE", c->name);
	}
	config_free(cfg);
	free(errors);
	free(pub);
	free(keyfile);
	free(h);
	free(b);
	free(text);
	free(path);
}
END_TEST

START_TEST(test_config_window_fields)
{
	char *keyfile = fixture_write("target-key", "x\n"), *h, *text, *path, *errors = NULL;
	struct gw_config *cfg;
	const struct gw_window *w;

	chmod(keyfile, 0600);
	h = subst(head, "@KEYFILE@", keyfile);
	xasprintf(&text, "%s%s", h,
	    VENDOR("{ days = [\"fri-mon\"]; start = \"22:30\"; end = \"24:00\"; tz = "
	           "\"Europe/Berlin\"; }"));
	path = fixture_write("c.conf", text);
	ck_assert_int_eq(config_load(path, &cfg, &errors), 0);
	w = &cfg->vendors[0].windows.windows[0];
	ck_assert_uint_eq(w->days, (1u << 5) | (1u << 6) | (1u << 0) | (1u << 1));
	ck_assert_int_eq(w->start, 22 * 60 + 30);
	ck_assert_int_eq(w->end, 1440);
	ck_assert_str_eq(w->tz, "Europe/Berlin");
	config_free(cfg);
	free(keyfile);
	free(h);
	free(text);
	free(path);
}
END_TEST

Suite *
unit_suite(void)
{
	Suite *s = suite_create("policy_config");
	TCase *tc = tcase_create("config");

	tcase_add_loop_test(
	    tc, test_config_windows_and_approvers, 0, (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, test_config_window_fields);
	suite_add_tcase(s, tc);
	return s;
}
