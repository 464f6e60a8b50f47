/* test_audit.c: the audit log: one whole JSON line per event with a UTC millisecond
 * timestamp, never interleaved when many processes append at once. */
#include "unit.h"
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "evidence/seal.h"
#include "gatewayd/audit.h"

static char path[64];
static struct sealkey *key;

static void
setup(void)
{
	char keypath[80];
	int fd;

	strcpy(path, "/tmp/test_audit.XXXXXX");
	ck_assert_int_ge(fd = mkstemp(path), 0);
	close(fd);
	snprintf(keypath, sizeof(keypath), "%s.key", path);
	ck_assert_ptr_nonnull(key = sealkey_load_or_create(keypath));
	unlink(keypath);
	strcat(keypath, ".pub");
	unlink(keypath);
	unlink(path);
}

static void
teardown(void)
{
	sealkey_free(key);
	unlink(path);
}

/* Every line of the log as JSON. */
static json_t *
read_log(void)
{
	json_t *lines = json_array();
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	json_error_t err;

	ck_assert_ptr_nonnull(f);
	while (getline(&line, &cap, f) > 0) {
		json_t *v = json_loads(line, 0, &err);

		ck_assert_msg(v != NULL, "not JSON: %s: %s", err.text, line);
		json_array_append_new(lines, v);
	}
	free(line);
	fclose(f);
	return lines;
}

START_TEST(log_is_created_private)
{
	struct audit *a = audit_open(path, key);
	struct stat st;

	ck_assert_ptr_nonnull(a);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	audit_close(a);
}
END_TEST

START_TEST(event_line_has_timestamp_event_and_fields)
{
	struct audit *a = audit_open(path, key);
	json_t *lines, *ev;
	regex_t re;

	ck_assert_int_eq(audit_event(a, "auth.success",
	                     json_pack("{s:s,s:s}", "person", "acme.alice", "method", "publickey")),
	    0);
	audit_close(a);
	lines = read_log();
	ck_assert_uint_eq(json_array_size(lines), 1);
	ev = json_array_get(lines, 0);
	ck_assert_int_eq(
	    regcomp(&re, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$",
	        REG_EXTENDED),
	    0);
	ck_assert_int_eq(regexec(&re, json_string_value(json_object_get(ev, "ts")), 0, NULL, 0), 0);
	regfree(&re);
	ck_assert_str_eq(json_string_value(json_object_get(ev, "event")), "auth.success");
	ck_assert_str_eq(json_string_value(json_object_get(ev, "person")), "acme.alice");
	ck_assert_str_eq(json_string_value(json_object_get(ev, "method")), "publickey");
	json_decref(lines);
}
END_TEST

START_TEST(fields_cannot_override_timestamp_or_event)
{
	struct audit *a = audit_open(path, key);
	json_t *lines, *ev;

	ck_assert_int_eq(
	    audit_event(a, "kill", json_pack("{s:s,s:s}", "ts", "forged", "event", "forged")), 0);
	audit_close(a);
	lines = read_log();
	ev = json_array_get(lines, 0);
	ck_assert_str_ne(json_string_value(json_object_get(ev, "ts")), "forged");
	ck_assert_str_eq(json_string_value(json_object_get(ev, "event")), "kill");
	json_decref(lines);
}
END_TEST

START_TEST(event_without_fields_is_written)
{
	struct audit *a = audit_open(path, key);
	json_t *lines;

	ck_assert_int_eq(audit_event(a, "config.reload", NULL), 0);
	audit_close(a);
	lines = read_log();
	ck_assert_uint_eq(json_array_size(lines), 1);
	json_decref(lines);
}
END_TEST

START_TEST(concurrent_writers_never_interleave)
{
	enum { WRITERS = 4, EVENTS = 200 };
	char filler[3000];
	json_t *lines;
	int i, j, status;

	memset(filler, 'f', sizeof(filler) - 1);
	filler[sizeof(filler) - 1] = '\0';
	for (i = 0; i < WRITERS; i++) {
		if (fork() == 0) {
			struct audit *a = audit_open(path, key);

			for (j = 0; j < EVENTS; j++)
				if (audit_event(a, "session.start",
				        json_pack("{s:i,s:i,s:s}", "writer", i, "n", j, "filler",
				            filler)) != 0)
					_exit(1);
			audit_close(a);
			_exit(0);
		}
	}
	for (i = 0; i < WRITERS; i++) {
		ck_assert_int_gt(wait(&status), 0);
		ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	lines = read_log();
	ck_assert_uint_eq(json_array_size(lines), WRITERS * EVENTS);
	json_decref(lines);
}
END_TEST

START_TEST(a_full_disk_fails_the_event)
{
	struct audit *a = audit_open("/dev/full", key);

	ck_assert_ptr_nonnull(a);
	ck_assert_int_eq(audit_event(a, "session.start", NULL), -1);
	ck_assert_int_eq(errno, ENOSPC);
	audit_close(a);
}
END_TEST

START_TEST(an_unopenable_log_is_an_error)
{
	ck_assert_ptr_null(audit_open("/nonexistent/dir/audit.log", key));
	ck_assert_int_eq(errno, ENOENT);
}
END_TEST

/* A field the vendor controls is never lost: text when UTF-8, else text and exact bytes. */
START_TEST(utf8_string_is_one_text_field)
{
	json_t *o =
	    audit_pack("{s:s, s:s?, s:i}", "command", "ls -l \xc3\xa9", "none", NULL, "n", 3);

	ck_assert_ptr_nonnull(o);
	ck_assert_str_eq(json_string_value(json_object_get(o, "command")), "ls -l \xc3\xa9");
	ck_assert_ptr_null(json_object_get(o, "command_base64"));
	ck_assert_ptr_null(json_object_get(o, "none"));
	ck_assert_int_eq(json_integer_value(json_object_get(o, "n")), 3);
	json_decref(o);
}
END_TEST

START_TEST(invalid_utf8_gets_escaped_text_and_a_base64_twin)
{
	/* a lone 0xff, an overlong '/', a surrogate, a truncated sequence at the end */
	static const char raw[] = "id\xff \xc0\xaf \xed\xa0\x80 \xe2\x82";
	json_t *o = audit_pack("{s:s}", "command", raw);

	ck_assert_ptr_nonnull(o);
	ck_assert_str_eq(json_string_value(json_object_get(o, "command")),
	    "id\\xff \\xc0\\xaf \\xed\\xa0\\x80 \\xe2\\x82");
	ck_assert_str_eq(
	    json_string_value(json_object_get(o, "command_base64")), "aWT/IMCvIO2ggCDigg==");
	json_decref(o);
}
END_TEST

START_TEST(bytes_with_nul_keep_their_length)
{
	json_t *o = audit_pack("{s:s%}", "path", "a\0\xff", (size_t)3);

	ck_assert_ptr_nonnull(o);
	ck_assert_str_eq(json_string_value(json_object_get(o, "path")), "a\\x00\\xff");
	ck_assert_str_eq(json_string_value(json_object_get(o, "path_base64")), "YQD/");
	json_decref(o);
}
END_TEST

START_TEST(unknown_format_builds_nothing)
{
	ck_assert_ptr_null(audit_pack("{s:x}", "a", 1));
	ck_assert_ptr_null(audit_pack("[s]", "a"));
	ck_assert_ptr_null(audit_pack("{s:s", "a", "b"));
	ck_assert_ptr_null(audit_pack("{s:s}", "a", NULL));
}
END_TEST

Suite *
unit_suite(void)
{
	Suite *s = suite_create("audit");
	TCase *tc = tcase_create("audit");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, log_is_created_private);
	tcase_add_test(tc, event_line_has_timestamp_event_and_fields);
	tcase_add_test(tc, fields_cannot_override_timestamp_or_event);
	tcase_add_test(tc, event_without_fields_is_written);
	tcase_add_test(tc, concurrent_writers_never_interleave);
	tcase_add_test(tc, a_full_disk_fails_the_event);
	tcase_add_test(tc, an_unopenable_log_is_an_error);
	tcase_add_test(tc, utf8_string_is_one_text_field);
	tcase_add_test(tc, invalid_utf8_gets_escaped_text_and_a_base64_twin);
	tcase_add_test(tc, bytes_with_nul_keep_their_length);
	tcase_add_test(tc, unknown_format_builds_nothing);
	suite_add_tcase(s, tc);
	return s;
}
