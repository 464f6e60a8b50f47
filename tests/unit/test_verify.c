/* test_verify.c: every kind of damage to a recording or audit log gets its own verdict:
 * intact, truncated, tampered at the right record, bad signature, unknown key. */
#include "unit.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/xmalloc.h"
#include "evidence/recorder.h"
#include "evidence/verify.h"
#include "gatewayd/audit.h"

#define MAXLINES 64

static char dir[64], path[128], other[128];
static struct sealkey *key, *stranger;
static struct recorder_signer signer; /* of key */

static struct recording *
open_recording(const char *sid)
{
	struct recording_meta m = {
		.session_id = sid,
		.person = "acme.alice",
		.target = "plc-07",
		.width = 80,
		.height = 24,
		.started = 1795000000,
	};
	struct recording *rec = recorder_open(dir, &m, &signer);

	ck_assert_ptr_nonnull(rec);
	return rec;
}

/* header, o, i, o, h, o, o, x, h: two checkpoints, records 0..8 */
static void
write_recording(const char *sid, char *out, size_t outlen, bool seal)
{
	struct recording *rec = open_recording(sid);

	snprintf(out, outlen, "%s", recorder_path(rec));
	ck_assert_int_eq(recorder_write_output(rec, "$ ", 2), 0);
	ck_assert_int_eq(recorder_write_input(rec, "ls\r", 3), 0);
	ck_assert_int_eq(recorder_write_output(rec, "a.txt\r\n", 7), 0);
	ck_assert_int_eq(recorder_flush(rec), 0);
	ck_assert_int_eq(recorder_write_output(rec, "b.txt\r\n", 7), 0);
	ck_assert_int_eq(recorder_write_output(rec, "$ ", 2), 0);
	if (seal)
		ck_assert_int_eq(recorder_seal(rec, "vendor disconnected"), 0);
	recorder_free(rec);
}

static void
setup(void)
{
	char kp[128];

	strcpy(dir, "/tmp/test_verify.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(kp, sizeof(kp), "%s/key", dir);
	ck_assert_ptr_nonnull(key = sealkey_load_or_create(kp));
	signer = recorder_signer_local(key);
	snprintf(kp, sizeof(kp), "%s/stranger", dir);
	ck_assert_ptr_nonnull(stranger = sealkey_load_or_create(kp));
	write_recording("aa", path, sizeof(path), true);
	write_recording("bb", other, sizeof(other), true);
}

static void
teardown(void)
{
	char cmd[128];

	sealkey_free(key);
	sealkey_free(stranger);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static size_t
read_lines(const char *p, char *lines[MAXLINES])
{
	FILE *f = fopen(p, "r");
	size_t n = 0, cap = 0;
	char *line = NULL;

	ck_assert_ptr_nonnull(f);
	while (n < MAXLINES && getline(&line, &cap, f) > 0) {
		lines[n++] = line;
		line = NULL;
		cap = 0;
	}
	free(line);
	fclose(f);
	return n;
}

static void
write_lines(const char *p, char *lines[], size_t n)
{
	FILE *f = fopen(p, "w");
	size_t i;

	for (i = 0; i < n; i++) {
		fputs(lines[i], f);
		free(lines[i]);
	}
	fclose(f);
}

static struct verdict
verdict_of(const char *p)
{
	struct verdict v;

	verify_recording(p, key, &v);
	return v;
}

START_TEST(sealed_recording_is_intact)
{
	struct verdict v = verdict_of(path);

	ck_assert_int_eq(v.kind, VERDICT_INTACT);
	ck_assert_str_eq(v.reason, "vendor disconnected");
	ck_assert_uint_eq(v.records, 9);
}
END_TEST

START_TEST(flipped_byte_is_tampered_at_its_record)
{
	char *l[MAXLINES];
	size_t n = read_lines(path, l);
	struct verdict v;

	*strstr(l[3], "a.txt") = 'A';
	write_lines(path, l, n);
	v = verdict_of(path);
	ck_assert_int_eq(v.kind, VERDICT_TAMPERED);
	ck_assert_int_eq(v.record, 3);
}
END_TEST

START_TEST(deleted_record_is_tampered_at_its_place)
{
	char *l[MAXLINES];
	size_t n = read_lines(path, l);
	struct verdict v;

	free(l[2]);
	memmove(&l[2], &l[3], (n - 3) * sizeof(l[0]));
	write_lines(path, l, n - 1);
	v = verdict_of(path);
	ck_assert_int_eq(v.kind, VERDICT_TAMPERED);
	ck_assert_int_eq(v.record, 2);
}
END_TEST

START_TEST(swapped_records_are_tampered_at_the_first)
{
	char *l[MAXLINES], *t;
	size_t n = read_lines(path, l);
	struct verdict v;

	t = l[5], l[5] = l[6], l[6] = t;
	write_lines(path, l, n);
	v = verdict_of(path);
	ck_assert_int_eq(v.kind, VERDICT_TAMPERED);
	ck_assert_int_eq(v.record, 5);
}
END_TEST

START_TEST(edited_header_is_tampered_at_record_zero)
{
	char *l[MAXLINES];
	size_t n = read_lines(path, l);
	struct verdict v;

	memcpy(strstr(l[0], "acme.alice"), "acme.mallo", 10);
	write_lines(path, l, n);
	v = verdict_of(path);
	ck_assert_int_eq(v.kind, VERDICT_TAMPERED);
	ck_assert_int_eq(v.record, 0);
}
END_TEST

START_TEST(records_spliced_from_another_recording_are_tampered)
{
	char *l[MAXLINES], *o[MAXLINES];
	size_t n = read_lines(path, l), m = read_lines(other, o), i;
	struct verdict v;

	for (i = 5; i < n && i < m; i++) {
		free(l[i]);
		l[i] = o[i];
		o[i] = NULL;
	}
	for (i = 0; i < m; i++)
		free(o[i]);
	write_lines(path, l, n);
	v = verdict_of(path);
	ck_assert_int_eq(v.kind, VERDICT_TAMPERED);
	ck_assert_int_eq(v.record, 5);
}
END_TEST

START_TEST(cut_off_seal_is_truncated_with_intact_prefix)
{
	char *l[MAXLINES];
	size_t n = read_lines(path, l);
	struct verdict v;

	free(l[n - 1]);
	free(l[n - 2]);
	write_lines(path, l, n - 2);
	v = verdict_of(path);
	ck_assert_int_eq(v.kind, VERDICT_TRUNCATED);
	ck_assert_int_eq(v.record, 4);
	ck_assert_str_ne(v.checkpoint, "");
}
END_TEST

START_TEST(half_written_last_line_is_truncated)
{
	FILE *f = fopen(path, "a");
	struct verdict v;

	fputs("[9.1,\"o\",\"par", f);
	fclose(f);
	v = verdict_of(path);
	ck_assert_int_eq(v.kind, VERDICT_TRUNCATED);
}
END_TEST

START_TEST(unsealed_recording_is_truncated)
{
	char p[128];
	struct verdict v;

	write_recording("cc", p, sizeof(p), false);
	v = verdict_of(p);
	ck_assert_int_eq(v.kind, VERDICT_TRUNCATED);
	ck_assert_int_eq(v.record, 7); /* recorder_free checkpoints what it had */
}
END_TEST

/* The session still records: its recorder holds the file. Once it lets go unsealed (a crash),
 * the same bytes are truncated. */
START_TEST(recording_still_written_is_live)
{
	struct recording *rec = open_recording("dd");
	char line[256];
	struct verdict v;

	ck_assert_int_eq(recorder_write_output(rec, "$ ", 2), 0);
	ck_assert_int_eq(recorder_flush(rec), 0);
	v = verdict_of(recorder_path(rec));
	ck_assert_int_eq(v.kind, VERDICT_LIVE);
	ck_assert_int_eq(v.record, 2); /* header, o, its checkpoint */
	verdict_format(&v, line, sizeof(line));
	ck_assert_msg(
	    strncmp(line, "live (still recording; records 0-2 intact so far", 48) == 0, "%s", line);
	recorder_free(rec);
	snprintf(line, sizeof(line), "%s/dd.0.cast", dir);
	v = verdict_of(line);
	ck_assert_int_eq(v.kind, VERDICT_TRUNCATED);
}
END_TEST

START_TEST(record_appended_after_seal_is_tampered)
{
	FILE *f = fopen(path, "a");
	struct verdict v;

	fputs("[9.1,\"o\",\"rm -rf /\"]\n", f);
	fclose(f);
	v = verdict_of(path);
	ck_assert_int_eq(v.kind, VERDICT_TAMPERED);
	ck_assert_int_eq(v.record, 9);
}
END_TEST

/* Found by fuzz_verify: the seal checkpoint's own bytes are covered by no later checkpoint. */
START_TEST(member_added_to_seal_checkpoint_is_tampered)
{
	char *l[MAXLINES], *edited;
	size_t n = read_lines(path, l);
	struct verdict v;

	xasprintf(&edited, "%.*s\"note\":\"edited\",%s", (int)(strchr(l[8], '{') + 1 - l[8]), l[8],
	    strchr(l[8], '{') + 1);
	free(l[8]);
	l[8] = edited;
	write_lines(path, l, n);
	v = verdict_of(path);
	ck_assert_int_eq(v.kind, VERDICT_TAMPERED);
	ck_assert_int_eq(v.record, 8);
}
END_TEST

START_TEST(nul_escape_in_seal_checkpoint_is_tampered)
{
	char *l[MAXLINES], *edited, *chain;
	size_t n = read_lines(path, l);
	struct verdict v;

	/* "chain":"<64 hex>\u0000..." still reads as the signed 64 hex digits in C. */
	chain = strstr(l[8], "\"chain\":\"") + 9 + 64;
	xasprintf(&edited, "%.*s\\u0000rm -rf /%s", (int)(chain - l[8]), l[8], chain);
	free(l[8]);
	l[8] = edited;
	write_lines(path, l, n);
	v = verdict_of(path);
	ck_assert_int_eq(v.kind, VERDICT_TAMPERED);
	ck_assert_int_eq(v.record, 8);
}
END_TEST

START_TEST(forged_checkpoint_signature_is_bad_signature)
{
	char *l[MAXLINES], *sig;
	size_t n = read_lines(path, l);
	struct verdict v;

	sig = strstr(l[4], "\"sig\":\"") + 7;
	sig[0] = sig[0] == 'A' ? 'B' : 'A';
	write_lines(path, l, n);
	v = verdict_of(path);
	ck_assert_int_eq(v.kind, VERDICT_BAD_SIGNATURE);
	ck_assert_int_eq(v.record, 4);
}
END_TEST

START_TEST(another_key_is_unknown_key)
{
	struct verdict v;

	verify_recording(path, stranger, &v);
	ck_assert_int_eq(v.kind, VERDICT_UNKNOWN_KEY);
}
END_TEST

static void
write_audit(const char *p, int events)
{
	struct audit *a = audit_open(p, key);
	int i;

	ck_assert_ptr_nonnull(a);
	for (i = 0; i < events; i++)
		ck_assert_int_eq(audit_event(a, "auth.success", json_pack("{s:i}", "n", i)), 0);
	audit_close(a);
}

START_TEST(audit_log_chain_is_intact)
{
	char p[128];
	struct verdict v;

	snprintf(p, sizeof(p), "%s/audit.log", dir);
	write_audit(p, 3);
	write_audit(p, 2); /* a second process picks up the chain from the file */
	verify_audit_log(p, key, &v);
	ck_assert_int_eq(v.kind, VERDICT_INTACT);
	ck_assert_int_eq(v.record, 5);
}
END_TEST

/* Writes an audit log of events, lets edit change its lines (and their count), and returns
 * the verdict on what is left. */
static struct verdict
edited_audit_log_verdict(int events, void (*edit)(char **l, size_t *n))
{
	char p[128], *l[MAXLINES];
	struct verdict v;
	size_t n;

	snprintf(p, sizeof(p), "%s/audit.log", dir);
	write_audit(p, events);
	n = read_lines(p, l);
	edit(l, &n);
	write_lines(p, l, n);
	verify_audit_log(p, key, &v);
	return v;
}

static void
drop_second_line(char **l, size_t *n)
{
	free(l[1]);
	memmove(&l[1], &l[2], (*n - 2) * sizeof(l[0]));
	(*n)--;
}

static void
rename_last_event(char **l, size_t *n)
{
	*strstr(l[*n - 1], "auth.success") = 'A';
}

START_TEST(audit_log_deleted_line_is_tampered)
{
	struct verdict v = edited_audit_log_verdict(4, drop_second_line);

	ck_assert_int_eq(v.kind, VERDICT_TAMPERED);
	ck_assert_int_eq(v.record, 2);
}
END_TEST

START_TEST(audit_log_edited_line_is_bad_signature)
{
	struct verdict v = edited_audit_log_verdict(3, rename_last_event);

	ck_assert_int_eq(v.kind, VERDICT_BAD_SIGNATURE);
	ck_assert_int_eq(v.record, 3);
}
END_TEST

/* Spells the signature after "sig":" in line differently, but so that it decodes the same:
 * "=9" for the final "==", or the unused low bits of the last character before them. */
static void
respell_signature(char *line, bool padding)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *sig = strstr(line, "\"sig\":\"") + 7;

	ck_assert_int_eq(sig[86], '=');
	if (padding)
		sig[87] = '9';
	else
		sig[85] = b64[(strchr(b64, sig[85]) - b64) ^ 1];
}

START_TEST(respelled_seal_signature_is_bad_signature)
{
	char *l[MAXLINES];
	size_t n = read_lines(path, l);
	struct verdict v;

	respell_signature(l[4], false);
	write_lines(path, l, n);
	v = verdict_of(path);
	ck_assert_int_eq(v.kind, VERDICT_BAD_SIGNATURE);
	ck_assert_int_eq(v.record, 4);
}
END_TEST

/* The last line: no later line names its digest, so only its signature protects it. */
static void
respell_last_signature(char **l, size_t *n)
{
	respell_signature(l[*n - 1], true);
}

START_TEST(audit_log_respelled_last_signature_is_bad_signature)
{
	struct verdict v = edited_audit_log_verdict(3, respell_last_signature);

	ck_assert_int_eq(v.kind, VERDICT_BAD_SIGNATURE);
	ck_assert_int_eq(v.record, 3);
}
END_TEST

/* A recording written before events were merged under the disk budget (tests/data/
 * recording-v1, made by that recorder) still verifies: the format did not change. */
START_TEST(recording_of_the_first_recorder_still_verifies_intact)
{
	struct sealkey *old = sealkey_load_public(TEST_DATA_DIR "/recording-v1/recording_key.pub");
	struct verdict v;

	ck_assert_ptr_nonnull(old);
	verify_recording(
	    TEST_DATA_DIR "/recording-v1/00000000000000000000000000000001.0.cast", old, &v);
	ck_assert_int_eq(v.kind, VERDICT_INTACT);
	ck_assert_str_eq(v.reason, "vendor disconnected");
	sealkey_free(old);
}
END_TEST

Suite *
unit_suite(void)
{
	Suite *s = suite_create("verify");
	TCase *tc = tcase_create("verify");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, sealed_recording_is_intact);
	tcase_add_test(tc, recording_of_the_first_recorder_still_verifies_intact);
	tcase_add_test(tc, member_added_to_seal_checkpoint_is_tampered);
	tcase_add_test(tc, nul_escape_in_seal_checkpoint_is_tampered);
	tcase_add_test(tc, flipped_byte_is_tampered_at_its_record);
	tcase_add_test(tc, deleted_record_is_tampered_at_its_place);
	tcase_add_test(tc, swapped_records_are_tampered_at_the_first);
	tcase_add_test(tc, edited_header_is_tampered_at_record_zero);
	tcase_add_test(tc, records_spliced_from_another_recording_are_tampered);
	tcase_add_test(tc, cut_off_seal_is_truncated_with_intact_prefix);
	tcase_add_test(tc, half_written_last_line_is_truncated);
	tcase_add_test(tc, unsealed_recording_is_truncated);
	tcase_add_test(tc, recording_still_written_is_live);
	tcase_add_test(tc, record_appended_after_seal_is_tampered);
	tcase_add_test(tc, forged_checkpoint_signature_is_bad_signature);
	tcase_add_test(tc, another_key_is_unknown_key);
	tcase_add_test(tc, audit_log_chain_is_intact);
	tcase_add_test(tc, audit_log_deleted_line_is_tampered);
	tcase_add_test(tc, audit_log_edited_line_is_bad_signature);
	tcase_add_test(tc, respelled_seal_signature_is_bad_signature);
	tcase_add_test(tc, audit_log_respelled_last_signature_is_bad_signature);
	suite_add_tcase(s, tc);
	return s;
}
