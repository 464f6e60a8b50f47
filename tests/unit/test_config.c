/* test_config.c: config_load on the files in tests/data/: a complete valid file is read
 * into the model with its defaults; each kind of mistake is reported as FILE:LINE: problem;
 * config_load_text gives a session process the same model from the text alone. */
#include "unit.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/xmalloc.h"
#include "policy/policy.h"

static char dir[64];
static char keyfile[96];
static char confpath[96];

static void
setup(void)
{
	FILE *f;

	strcpy(dir, "/tmp/test_config.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(keyfile, sizeof(keyfile), "%s/key", dir);
	snprintf(confpath, sizeof(confpath), "%s/gatewayd.conf", dir);
	ck_assert_ptr_nonnull(f = fopen(keyfile, "w"));
	fputs("not parsed by the loader\n", f);
	fclose(f);
	ck_assert_int_eq(chmod(keyfile, 0600), 0);
}

static void
teardown(void)
{
	unlink(keyfile);
	unlink(confpath);
	rmdir(dir);
}

/* Copies tests/data/NAME to confpath with @KEY@ replaced by the 0600 key file; returns
 * the line number of the line marked "# error-here", 0 when there is none. */
static int
prepare(const char *name)
{
	char src[512], line[1024], *at;
	FILE *in, *out;
	int lineno = 0, marked = 0;

	snprintf(src, sizeof(src), "%s/%s", TEST_DATA_DIR, name);
	ck_assert_msg((in = fopen(src, "r")) != NULL, "cannot open %s", src);
	ck_assert_ptr_nonnull(out = fopen(confpath, "w"));
	while (fgets(line, sizeof(line), in) != NULL) {
		lineno++;
		if (strstr(line, "# error-here") != NULL)
			marked = lineno;
		if ((at = strstr(line, "@KEY@")) != NULL) {
			*at = '\0';
			fprintf(out, "%s%s%s", line, keyfile, at + strlen("@KEY@"));
		} else {
			fputs(line, out);
		}
	}
	fclose(in);
	fclose(out);
	return marked;
}

/* Loading NAME fails with an error at its marked line that mentions PROBLEM. */
static void
expect_error(const char *name, const char *problem)
{
	struct gw_config *cfg = NULL;
	char *errors = NULL, *where;
	int line = prepare(name);

	ck_assert_msg(line > 0, "%s has no # error-here mark", name);
	ck_assert_int_eq(config_load(confpath, &cfg, &errors), -1);
	ck_assert_ptr_null(cfg);
	ck_assert_ptr_nonnull(errors);
	xasprintf(&where, "%s:%d: ", confpath, line);
	ck_assert_msg(strstr(errors, where) != NULL, "%s: expected an error at %s, got:\n%s", name,
	    where, errors);
	ck_assert_msg(
	    strstr(errors, problem) != NULL, "%s: expected \"%s\" in:\n%s", name, problem, errors);
	free(where);
	free(errors);
}

START_TEST(test_good_config_loads_model)
{
	struct gw_config *cfg = NULL;
	char *errors = NULL;
	const struct gw_person *p;
	const struct gw_target *t;
	const struct gw_grant *g;

	prepare("good.conf");
	ck_assert_msg(config_load(confpath, &cfg, &errors) == 0, "errors: %s", errors);
	ck_assert_ptr_null(errors);
	ck_assert_uint_eq(cfg->nlisten, 1);
	ck_assert_int_eq(cfg->listen[0].port, 2222);
	ck_assert_uint_eq(cfg->nvendors, 1);
	ck_assert_uint_eq(cfg->ntargets, 3);
	ck_assert_uint_eq(cfg->ngrants, 2);
	ck_assert_ptr_nonnull(p = config_find_person(cfg, "acme.alice"));
	ck_assert_str_eq(p->vendor->id, "acme");
	ck_assert_uint_eq(p->nkeys, 1);
	ck_assert(p->vendor->enabled);
	ck_assert_int_eq(p->vendor->expires, 1830297599); /* 2027-12-31T23:59:59Z */
	ck_assert_ptr_nonnull(t = config_find_target(cfg, "plc-07"));
	ck_assert_int_eq(t->port, 2201);
	ck_assert_str_eq(t->key_file, keyfile);
	ck_assert_ptr_null(t->password_file);
	ck_assert_ptr_nonnull(g = config_find_grant(cfg, "acme", "hmi-02"));
	ck_assert_uint_eq(g->channels, GW_CHAN_SHELL | GW_CHAN_EXEC | GW_CHAN_UPLOAD);
	ck_assert_uint_eq(g->nforwards, 2);
	ck_assert_str_eq(g->forwards[1].target, "rtu-11");
	ck_assert_int_eq(g->forwards[1].port, 502);
	ck_assert(t->ssh);
	ck_assert_ptr_nonnull(t = config_find_target(cfg, "rtu-11"));
	ck_assert(!t->ssh);
	ck_assert_ptr_null(t->user);
	/* By address: rtu-11's is its own; plc-07 and hmi-02 share 10.0.0.7, so neither is named.
	 */
	ck_assert_ptr_eq(config_find_target_by_address(cfg, "10.0.0.11"), t);
	ck_assert_ptr_null(config_find_target_by_address(cfg, "10.0.0.7"));
	ck_assert_ptr_null(config_find_target_by_address(cfg, "10.0.0.99"));
	ck_assert_ptr_null(config_find_person(cfg, "acme.bob"));
	ck_assert_ptr_null(config_find_target(cfg, "plc-99"));
	ck_assert_str_eq(cfg->front_user, "gatewayd-front"); /* the default */
	config_free(cfg);
}
END_TEST

/* Reports are in the site's zone: UTC unless display_tz names another of the tzdata. */
START_TEST(test_display_tz_defaults_to_utc_and_is_checked)
{
	struct gw_config *cfg = NULL;
	char *errors = NULL;

	prepare("good.conf");
	ck_assert_int_eq(config_load(confpath, &cfg, &errors), 0);
	ck_assert_str_eq(cfg->display_tz, "UTC");
	config_free(cfg);
	expect_error("bad_display_tz.conf", "\"Mars/Olympus_Mons\" is not a time zone");
}
END_TEST

/* Sealed recordings stay plain unless recording_compression says "zstd"; anything else is an
 * error at its line. */
START_TEST(test_recording_compression_defaults_to_none_and_is_checked)
{
	struct gw_config *cfg = NULL;
	char *errors = NULL;

	prepare("good.conf");
	ck_assert_int_eq(config_load(confpath, &cfg, &errors), 0);
	ck_assert_int_eq(cfg->recording_compression, GW_COMPRESSION_NONE);
	config_free(cfg);
	expect_error("bad_recording_compression.conf",
	    "\"recording_compression\" must be \"none\" or \"zstd\"");
}
END_TEST

/* The store is state_dir's files unless a "postgresql" store names its database; a wrong kind,
 * a missing conninfo or a store_unavailable other than refuse/cached is an error at its line. */
START_TEST(test_store_defaults_to_files_and_is_checked)
{
	struct gw_config *cfg = NULL;
	char *errors = NULL;

	prepare("good.conf");
	ck_assert_int_eq(config_load(confpath, &cfg, &errors), 0);
	ck_assert_int_eq(cfg->store.kind, GW_STORE_FILES);
	ck_assert_ptr_null(cfg->store.conninfo);
	ck_assert(!cfg->store.cached);
	config_free(cfg);
	expect_error("bad_store_kind.conf", "must be \"files\" or \"postgresql\"");
	expect_error("bad_store_no_conninfo.conf", "a \"postgresql\" store needs \"conninfo\"");
	expect_error("bad_store_unavailable.conf", "must be \"refuse\" or \"cached\"");
}
END_TEST

START_TEST(test_target_inherits_global_connect_timeout)
{
	struct gw_config *cfg = NULL;
	char *errors = NULL;

	prepare("good.conf");
	ck_assert_int_eq(config_load(confpath, &cfg, &errors), 0);
	ck_assert_int_eq(config_find_target(cfg, "plc-07")->connect_timeout, 7);
	ck_assert_int_eq(config_find_target(cfg, "hmi-02")->connect_timeout, 3);
	config_free(cfg);
}
END_TEST

START_TEST(test_client_alive_defaults_to_15s_times_3)
{
	struct gw_config *cfg = NULL;
	char *errors = NULL;

	prepare("good.conf");
	ck_assert_int_eq(config_load(confpath, &cfg, &errors), 0);
	ck_assert_int_eq(cfg->client_alive_interval, 15);
	ck_assert_int_eq(cfg->client_alive_count_max, 3);
	config_free(cfg);
}
END_TEST

START_TEST(test_grant_without_allow_is_shell_and_exec)
{
	struct gw_config *cfg = NULL;
	char *errors = NULL;

	prepare("good.conf");
	ck_assert_int_eq(config_load(confpath, &cfg, &errors), 0);
	ck_assert_uint_eq(cfg->grants[1].channels, GW_CHAN_DEFAULT);
	config_free(cfg);
}
END_TEST

START_TEST(test_missing_file_reported)
{
	struct gw_config *cfg = NULL;
	char *errors = NULL;

	ck_assert_int_eq(config_load("/nonexistent/gatewayd.conf", &cfg, &errors), -1);
	ck_assert_ptr_nonnull(strstr(errors, "/nonexistent/gatewayd.conf:0: "));
	free(errors);
}
END_TEST

START_TEST(test_unknown_key_reported)
{
	expect_error("bad_unknown_key.conf", "unknown setting \"colour\"");
}
END_TEST

START_TEST(test_duplicate_target_reported)
{
	expect_error("bad_duplicate_target.conf", "duplicate target \"plc-07\"");
}
END_TEST

START_TEST(test_bad_fingerprint_reported)
{
	expect_error("bad_fingerprint.conf", "bad fingerprint");
}
END_TEST

START_TEST(test_unreadable_key_file_reported)
{
	expect_error("bad_missing_key_file.conf", "cannot be read");
}
END_TEST

/* A session process parses the text its listener read and applied, and cannot open the files
 * it names (gatewayd/monitor_sandbox.c): the same model, without those files. */
START_TEST(test_text_parses_to_the_same_model_without_the_files_it_names)
{
	struct gw_config *file_cfg = NULL, *text_cfg = NULL;
	char *errors = NULL, *text = NULL;

	prepare("good.conf");
	ck_assert_msg(
	    config_load_keep(confpath, &file_cfg, &text, &errors) == 0, "errors: %s", errors);
	ck_assert_int_eq(unlink(keyfile), 0);
	ck_assert_int_eq(config_load(confpath, &text_cfg, &errors), -1);
	ck_assert_ptr_nonnull(strstr(errors, "cannot be read"));
	free(errors);
	ck_assert_msg(
	    config_load_text(confpath, text, &text_cfg, &errors) == 0, "errors: %s", errors);
	ck_assert_str_eq(text_cfg->path, confpath);
	ck_assert_uint_eq(text_cfg->ntargets, file_cfg->ntargets);
	ck_assert_str_eq(text_cfg->targets[0].key_file, file_cfg->targets[0].key_file);
	ck_assert_uint_eq(text_cfg->nvendors, file_cfg->nvendors);
	ck_assert_uint_eq(text_cfg->ngrants, file_cfg->ngrants);
	free(text);
	config_free(file_cfg);
	config_free(text_cfg);
}
END_TEST

START_TEST(test_text_with_include_refused)
{
	struct gw_config *cfg = NULL;
	char *errors = NULL;

	ck_assert_int_eq(
	    config_load_text(confpath, "max_sessions = 3;\n@include \"/etc\"\n", &cfg, &errors),
	    -1);
	ck_assert_ptr_null(cfg);
	ck_assert_ptr_nonnull(strstr(errors, ":2: @include is not supported"));
	free(errors);
}
END_TEST

START_TEST(test_key_file_readable_by_others_reported)
{
	ck_assert_int_eq(chmod(keyfile, 0644), 0);
	expect_error("bad_key_mode.conf", "must be readable by the gateway only");
}
END_TEST

START_TEST(test_syntax_error_reported)
{
	expect_error("bad_syntax.conf", "syntax error");
}
END_TEST

START_TEST(test_person_outside_vendor_reported)
{
	expect_error("bad_person_prefix.conf", "person id \"other.alice\"");
}
END_TEST

START_TEST(test_grant_unknown_target_reported)
{
	expect_error("bad_grant_unknown_target.conf", "unknown target \"plc-99\"");
}
END_TEST

START_TEST(test_unknown_channel_kind_reported)
{
	expect_error("bad_channel_kind.conf", "unknown channel kind \"teleport\"");
}
END_TEST

START_TEST(test_forwarding_grant_reported)
{
	expect_error("bad_forwarding_grant.conf",
	    "\"port_forwarding\" is not granted in allow: list each destination in forward");
	expect_error("bad_forward_target.conf",
	    "forward \"hmi-02:502\" names \"hmi-02\", which is not among this grant's targets");
	expect_error("bad_forward_port.conf", "forward \"plc-07:70000\" must be TARGET:PORT");
	expect_error("bad_target_no_ssh.conf",
	    "target plc-07 has ssh = false: \"user\" applies only to an SSH target");
}
END_TEST

START_TEST(test_target_without_credential_reported)
{
	expect_error("bad_no_credential.conf", "exactly one of key_file and password_file");
}
END_TEST

START_TEST(test_unknown_auth_method_reported)
{
	expect_error(
	    "bad_auth_methods.conf", "bad auth_methods \"publickey,password\": unknown method");
}
END_TEST

START_TEST(test_bad_cert_authority_reported)
{
	expect_error("bad_cert_authority.conf", "cert_authorities entry 1 is not an OpenSSH");
}
END_TEST

START_TEST(test_port_out_of_range_reported)
{
	expect_error("bad_port_range.conf", "must be between 1 and 65535");
}
END_TEST

START_TEST(test_limits_have_defaults)
{
	struct gw_config *cfg = NULL;
	char *errors = NULL;

	prepare("good.conf");
	ck_assert_int_eq(config_load(confpath, &cfg, &errors), 0);
	ck_assert_int_eq(cfg->max_startups.start, 10);
	ck_assert_int_eq(cfg->max_startups.rate, 30);
	ck_assert_int_eq(cfg->max_startups.full, 100);
	ck_assert_int_eq(cfg->lockout.failures, 10);
	ck_assert_int_eq(cfg->lockout.window, 600);
	ck_assert_int_eq(cfg->lockout.duration, 900);
	ck_assert_int_eq(cfg->idle_timeout, 0);
	ck_assert_int_eq(config_find_vendor(cfg, "acme")->idle_timeout, -1);
	ck_assert_int_eq(cfg->max_recording_bytes, 1LL << 30);
	ck_assert_int_eq(cfg->recording_min_free, 256LL << 20);
	ck_assert_int_eq(cfg->max_ticket_lifetime, 7 * 86400);
	ck_assert_int_eq(config_find_vendor(cfg, "acme")->max_recording_bytes, -1);
	config_free(cfg);
}
END_TEST

START_TEST(test_limits_load_as_written)
{
	struct gw_config *cfg = NULL;
	char *errors = NULL;

	prepare("good_limits.conf");
	ck_assert_msg(config_load(confpath, &cfg, &errors) == 0, "errors: %s", errors);
	ck_assert_int_eq(cfg->max_startups.start, 3);
	ck_assert_int_eq(cfg->max_startups.rate, 50);
	ck_assert_int_eq(cfg->max_startups.full, 9);
	ck_assert_int_eq(cfg->lockout.failures, 4);
	ck_assert_int_eq(cfg->lockout.person_failures, 7);
	ck_assert_int_eq(cfg->lockout.window, 60);
	ck_assert_int_eq(cfg->lockout.duration, 30);
	ck_assert_int_eq(cfg->lockout.delay_ms, 100);
	ck_assert_int_eq(cfg->lockout.max_delay_ms, 800);
	ck_assert_int_eq(cfg->idle_timeout, 300);
	ck_assert_int_eq(cfg->max_ticket_lifetime, 86400);
	ck_assert_int_eq(config_find_vendor(cfg, "acme")->idle_timeout, 0);
	/* max_startups' start is 3: the per-source cap defaults to just below it */
	ck_assert_int_eq(cfg->per_source.max_startups, 2);
	ck_assert_int_eq(cfg->per_source.ipv4_prefix, 32);
	ck_assert_int_eq(cfg->per_source.ipv6_prefix, 56);
	ck_assert_int_eq(cfg->per_source.grace_penalty, 5);
	ck_assert_int_eq(cfg->per_source.max_penalty, 600);
	ck_assert_int_eq(cfg->per_source.nexempt, 2);
	ck_assert_str_eq(cfg->per_source.exempt[1], "2001:db8::7");
	ck_assert_int_eq(cfg->max_recording_bytes, 8LL << 30);
	ck_assert_int_eq(cfg->recording_min_free, 0);
	ck_assert_int_eq(config_find_vendor(cfg, "acme")->max_recording_bytes, 20000000);
	config_free(cfg);
}
END_TEST

START_TEST(test_notify_unset_by_default)
{
	struct gw_config *cfg = NULL;
	char *errors = NULL;

	prepare("good.conf");
	ck_assert_int_eq(config_load(confpath, &cfg, &errors), 0);
	ck_assert_ptr_null(cfg->notify_command);
	ck_assert_int_eq(cfg->notify_timeout, 10);
	config_free(cfg);
}
END_TEST

START_TEST(test_notify_loads_as_written)
{
	struct gw_config *cfg = NULL;
	char *errors = NULL;

	prepare("good_notify.conf");
	ck_assert_msg(config_load(confpath, &cfg, &errors) == 0, "errors: %s", errors);
	ck_assert_int_eq(cfg->nnotify_command, 3);
	ck_assert_str_eq(cfg->notify_command[0], "/bin/true");
	ck_assert_str_eq(cfg->notify_command[2], "ot-security@plant");
	ck_assert_ptr_null(cfg->notify_command[3]); /* an argv for execve */
	ck_assert_int_eq(cfg->notify_timeout, 3);
	config_free(cfg);
}
END_TEST

START_TEST(test_notify_command_not_absolute_reported)
{
	expect_error("bad_notify_command.conf", "first entry is the program's absolute path");
}
END_TEST

START_TEST(test_notify_command_not_executable_reported)
{
	expect_error("bad_notify_not_executable.conf", "is not an executable file");
}
END_TEST

START_TEST(test_max_startups_syntax_reported)
{
	expect_error("bad_max_startups.conf", "\"max_startups\" must be \"start:rate:full\"");
}
END_TEST

START_TEST(test_per_source_cap_not_below_max_startups_reported)
{
	expect_error("bad_per_source_cap.conf",
	    "\"per_source.max_startups\" must be below max_startups' start (4)");
}
END_TEST

START_TEST(test_per_source_exempt_not_an_address_reported)
{
	expect_error("bad_per_source_exempt.conf", "entry \"vendor-nat.example\" is not ADDRESS");
}
END_TEST

START_TEST(test_max_channels_range_reported)
{
	expect_error("bad_max_channels.conf", "\"max_channels\" must be between 1 and 100");
}
END_TEST

START_TEST(test_max_ticket_lifetime_range_reported)
{
	expect_error("bad_max_ticket_lifetime.conf",
	    "\"max_ticket_lifetime\" must be between 60 and 316224000");
}
END_TEST

START_TEST(test_approvals_range_reported)
{
	expect_error("bad_approvals.conf", "\"approvals\" must be between 1 and 5");
}
END_TEST

START_TEST(test_unknown_lockout_key_reported)
{
	expect_error("bad_lockout_key.conf", "unknown setting \"duraton\"");
}
END_TEST

START_TEST(test_recording_quota_that_is_no_size_reported)
{
	expect_error("bad_max_recording_bytes.conf",
	    "\"max_recording_bytes\" must be a number of bytes, 0 or more");
}
END_TEST

Suite *
unit_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("load");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_good_config_loads_model);
	tcase_add_test(tc, test_recording_quota_that_is_no_size_reported);
	tcase_add_test(tc, test_target_inherits_global_connect_timeout);
	tcase_add_test(tc, test_client_alive_defaults_to_15s_times_3);
	tcase_add_test(tc, test_grant_without_allow_is_shell_and_exec);
	tcase_add_test(tc, test_missing_file_reported);
	tcase_add_test(tc, test_unknown_key_reported);
	tcase_add_test(tc, test_duplicate_target_reported);
	tcase_add_test(tc, test_bad_fingerprint_reported);
	tcase_add_test(tc, test_unknown_auth_method_reported);
	tcase_add_test(tc, test_bad_cert_authority_reported);
	tcase_add_test(tc, test_store_defaults_to_files_and_is_checked);
	tcase_add_test(tc, test_unreadable_key_file_reported);
	tcase_add_test(tc, test_key_file_readable_by_others_reported);
	tcase_add_test(tc, test_text_parses_to_the_same_model_without_the_files_it_names);
	tcase_add_test(tc, test_text_with_include_refused);
	tcase_add_test(tc, test_syntax_error_reported);
	tcase_add_test(tc, test_person_outside_vendor_reported);
	tcase_add_test(tc, test_grant_unknown_target_reported);
	tcase_add_test(tc, test_unknown_channel_kind_reported);
	tcase_add_test(tc, test_forwarding_grant_reported);
	tcase_add_test(tc, test_target_without_credential_reported);
	tcase_add_test(tc, test_port_out_of_range_reported);
	tcase_add_test(tc, test_limits_have_defaults);
	tcase_add_test(tc, test_limits_load_as_written);
	tcase_add_test(tc, test_max_startups_syntax_reported);
	tcase_add_test(tc, test_notify_unset_by_default);
	tcase_add_test(tc, test_notify_loads_as_written);
	tcase_add_test(tc, test_notify_command_not_absolute_reported);
	tcase_add_test(tc, test_notify_command_not_executable_reported);
	tcase_add_test(tc, test_unknown_lockout_key_reported);
	tcase_add_test(tc, test_per_source_cap_not_below_max_startups_reported);
	tcase_add_test(tc, test_per_source_exempt_not_an_address_reported);
	tcase_add_test(tc, test_max_channels_range_reported);
	tcase_add_test(tc, test_max_ticket_lifetime_range_reported);
	tcase_add_test(tc, test_approvals_range_reported);
	tcase_add_test(tc, test_display_tz_defaults_to_utc_and_is_checked);
	tcase_add_test(tc, test_recording_compression_defaults_to_none_and_is_checked);
	suite_add_tcase(s, tc);
	return s;
}
