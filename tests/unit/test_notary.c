/* test_notary.c: the listener as notary: it signs a session's checkpoint only as an extension of
 * the chain head it signed last for that recording (stepped by itself over the new records,
 * from a header that names the session), and always at its own time; and it hands its observer
 * each line the audit log took, never one it did not. */
#include "unit.h"
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/xmalloc.h"
#include "evidence/recorder.h"
#include "evidence/seal.h"
#include "evidence/verify.h"
#include "gatewayd/notary.h"
#include "tools/bundle.h"

#define SID    "0123456789abcdef0123456789abcdef"
#define OTHER  "fedcba9876543210fedcba9876543210"
#define REC    SID ".0.cast"
#define HEAD_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define HEAD_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define HEAD_C "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"

static char dir[64];
static struct sealkey *pub; /* the public half, as an auditor has it */
static struct notary *notary;
static struct notary_book *book;
static char sig[SEAL_SIG_B64_LEN], when[SEAL_TIME_LEN];
static char audit_dir[64], audit_path[128];
static bool final; /* the next request is the seal's */

/* A recording as a session process writes it: its header, the digests of the records not yet
 * signed, the chain, and the head signed last. */
static struct model {
	char header[512];
	unsigned char pending[64][SEAL_HASH_LEN];
	size_t npending;
	unsigned long n;
	unsigned char chain[SEAL_HASH_LEN];
	char head[SEAL_HEX_LEN], signed_head[SEAL_HEX_LEN];
	bool signed_once;
} rec;

static void
model_record(const char *line)
{
	seal_digest(line, strlen(line), rec.pending[rec.npending]);
	seal_chain_step(rec.chain, rec.pending[rec.npending++]);
	rec.n++;
	seal_hex(rec.chain, SEAL_HASH_LEN, rec.head);
}

/* A new recording of session sid whose header is its first record. */
static void
model_open(const char *sid)
{
	memset(&rec, 0, sizeof(rec));
	snprintf(rec.header, sizeof(rec.header),
	    "{\"version\":2,\"gatewayd\":{\"session_id\":\"%s\",\"channel\":0,\"key\":\"%s\"}}",
	    sid, notary_key_id(notary));
	model_record(rec.header);
}

static void
setup(void)
{
	char path[128];
	struct sealkey *key;

	strcpy(dir, "/tmp/test_notary.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/recording_key", dir);
	ck_assert_ptr_nonnull(key = sealkey_load_or_create(path));
	ck_assert_ptr_nonnull(pub = sealkey_load_public(path));
	unlink(path);
	strcat(path, ".pub");
	unlink(path);
	rmdir(dir);
	ck_assert_ptr_nonnull(notary = notary_new(key));
	book = notary_book_new(SID);
	model_open(SID);
	strcpy(audit_dir, "/tmp/test_notary_audit.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(audit_dir));
	snprintf(audit_path, sizeof(audit_path), "%s/audit.log", audit_dir);
	final = false;
}

static void
teardown(void)
{
	notary_book_free(book);
	notary_free(notary);
	sealkey_free(pub);
	unlink(audit_path);
	rmdir(audit_dir);
}

/* The audit log's text so far ("" when nothing was written). */
static char *
audit_text(void)
{
	static char text[8192];
	FILE *f = fopen(audit_path, "r");
	size_t n = 0;

	if (f != NULL) {
		n = fread(text, 1, sizeof(text) - 1, f);
		fclose(f);
	}
	text[n] = '\0';
	return text;
}

/* Asks for a checkpoint of file name covering n records up to chain, after prev, with the
 * model's pending records (and its header the first time). */
static int
ask(const char *name, unsigned long n, const char *chain, const char *prev)
{
	struct checkpoint_req req = { .recording = name,
		.n = n,
		.chain = chain,
		.prev = prev,
		.stamp = "1.250000",
		.records = (const unsigned char(*)[SEAL_HASH_LEN])rec.pending,
		.nrecords = rec.npending,
		.header = rec.signed_once ? NULL : rec.header,
		.header_len = strlen(rec.header),
		.final = final };

	sig[0] = when[0] = '\0';
	return notary_sign(notary, book, &req, audit_path, sig, when);
}

/* The honest request: the model's own count, head and head signed last. */
static int
ask_next(void)
{
	int rc = ask(REC, rec.n, rec.head, rec.signed_head);

	if (rc == 0) {
		memcpy(rec.signed_head, rec.head, sizeof(rec.head));
		rec.npending = 0;
		rec.signed_once = true;
		model_record("[1.25,\"h\",{}]"); /* the checkpoint line, chained but not listed */
	}
	return rc;
}

/* Whether sig is the key's signature of the checkpoint (n, when, chain) as verify.c checks it. */
static bool
signed_as(unsigned long n, const char *chain)
{
	char msg[512];
	int len = snprintf(msg, sizeof(msg), "gatewayd-recording-v1\n%lu\n%s\n%s\n%s\n", n, when,
	    chain, "1.250000");

	return sealkey_verify(pub, msg, (size_t)len, sig);
}

START_TEST(an_extension_is_signed_at_the_notarys_time)
{
	char before[SEAL_TIME_LEN], after[SEAL_TIME_LEN], head[SEAL_HEX_LEN];

	seal_format_now(before);
	model_record("[0.1,\"o\",\"a\"]");
	model_record("[0.2,\"o\",\"b\"]");
	memcpy(head, rec.head, sizeof(head));
	ck_assert_int_eq(ask_next(), 0);
	ck_assert(signed_as(3, head));
	model_record("[1.3,\"o\",\"c\"]");
	memcpy(head, rec.head, sizeof(head));
	ck_assert_int_eq(ask_next(), 0);
	seal_format_now(after);
	ck_assert(signed_as(5, head)); /* 3 before, the checkpoint line and "c" */
	/* RFC 3339 UTC with milliseconds: the text order is the time order. */
	ck_assert_str_ge(when, before);
	ck_assert_str_le(when, after);
}
END_TEST

START_TEST(a_resign_of_an_earlier_n_is_refused)
{
	char first[SEAL_HEX_LEN];

	model_record("[0.1,\"o\",\"a\"]");
	memcpy(first, rec.head, sizeof(first));
	ck_assert_int_eq(ask_next(), 0);
	/* The same count again, and less, after the head signed last. */
	ck_assert_int_eq(ask(REC, 2, rec.head, rec.signed_head), -1);
	ck_assert_int_eq(ask(REC, 1, first, rec.signed_head), -1);
	/* Nor by starting the recording over. */
	ck_assert_int_eq(ask(REC, 2, first, ""), -1);
	ck_assert_str_eq(sig, "");
	/* The refusals changed nothing: the honest extension still goes. */
	model_record("[1.3,\"o\",\"b\"]");
	ck_assert_int_eq(ask_next(), 0);
}
END_TEST

START_TEST(a_wrong_prev_is_refused)
{
	model_record("[0.1,\"o\",\"a\"]");
	ck_assert_int_eq(ask_next(), 0);
	model_record("[1.3,\"o\",\"b\"]");
	ck_assert_int_eq(ask(REC, rec.n, rec.head, HEAD_C), -1);
	ck_assert_int_eq(ask(REC, rec.n, rec.head, ""), -1);
	ck_assert_int_eq(ask(REC, rec.n, rec.head, "not hex"), -1);
	ck_assert_str_eq(sig, "");
	ck_assert_int_eq(ask_next(), 0);
}
END_TEST

START_TEST(a_first_request_with_a_prev_is_refused)
{
	model_record("[0.1,\"o\",\"a\"]");
	ck_assert_int_eq(ask(REC, rec.n, rec.head, HEAD_A), -1);
	ck_assert_str_eq(sig, "");
}
END_TEST

START_TEST(a_chain_its_records_do_not_give_is_refused)
{
	/* What a forger wants signed: any head, say another session's, at the right count. */
	model_record("[0.1,\"o\",\"a\"]");
	ck_assert_int_eq(ask(REC, rec.n, HEAD_B, ""), -1);
	ck_assert_int_eq(ask(REC, rec.n + 1, rec.head, ""), -1);
	ck_assert_int_eq(ask_next(), 0);
	model_record("[1.3,\"o\",\"b\"]");
	ck_assert_int_eq(ask(REC, rec.n, HEAD_B, rec.signed_head), -1);
	ck_assert_int_eq(ask_next(), 0);
}
END_TEST

START_TEST(another_sessions_recording_is_refused)
{
	model_record("[0.1,\"o\",\"a\"]");
	ck_assert_int_eq(ask(OTHER ".0.cast", rec.n, rec.head, ""), -1);
	ck_assert_int_eq(ask(SID ".0.cast.x", rec.n, rec.head, ""), -1);
	ck_assert_int_eq(ask("../" SID ".0.cast", rec.n, rec.head, ""), -1);
	ck_assert_int_eq(ask(SID ".1.cast", rec.n, rec.head, ""), -1); /* header: channel 0 */
	/* A file named for this session whose header names another. */
	model_open(OTHER);
	model_record("[0.1,\"o\",\"a\"]");
	ck_assert_int_eq(ask(REC, rec.n, rec.head, ""), -1);
	model_open(SID);
	model_record("[0.1,\"o\",\"a\"]");
	ck_assert_int_eq(ask_next(), 0);
}
END_TEST

/* The seal's checkpoint goes to the audit log with the head and count it covers, and nothing
 * can be signed after it. */
START_TEST(the_seal_is_audited_and_ends_the_signing)
{
	char expect[256];

	model_record("[0.1,\"o\",\"a\"]");
	ck_assert_int_eq(ask_next(), 0);
	ck_assert_ptr_null(strstr(audit_text(), "recording_sealed"));
	model_record("[0.3,\"x\",{}]");
	final = true;
	snprintf(expect, sizeof(expect), "\"recording\":\"%s\",\"records\":%lu,\"chain\":\"%s\"",
	    REC, rec.n, rec.head);
	ck_assert_int_eq(ask_next(), 0);
	ck_assert_ptr_nonnull(strstr(audit_text(), "\"event\":\"recording_sealed\""));
	ck_assert_ptr_nonnull(strstr(audit_text(), expect));
	final = false;
	model_record("[0.4,\"o\",\"after the seal\"]");
	ck_assert_int_eq(ask_next(), -1);
	/* Closing the book names no sealed recording again. */
	notary_book_close(notary, audit_path, book);
	book = NULL;
	ck_assert_ptr_null(strstr(audit_text(), "recording_unsealed"));
}
END_TEST

/* An auditor's bundle: the MANIFEST's signature is over the bundle prefix and the text alone, so
 * it verifies as a bundle's and as nothing else; the audit log names it first. */
START_TEST(a_bundle_manifest_is_audited_then_signed_with_its_prefix)
{
	static const char manifest[] = "0123  audit.log\n";
	unsigned char digest[SEAL_HASH_LEN];
	char hex[SEAL_HEX_LEN], expect[256], *msg;
	int len;

	ck_assert_int_eq(
	    notary_sign_bundle(notary, audit_path, SID, "auditor.ann", manifest, sig), 0);
	seal_digest(manifest, strlen(manifest), digest);
	seal_hex(digest, SEAL_HASH_LEN, hex);
	ck_assert_ptr_nonnull(strstr(audit_text(), "\"event\":\"bundle_signed\""));
	ck_assert_ptr_nonnull(strstr(audit_text(), "\"principal\":\"auditor.ann\""));
	ck_assert_ptr_nonnull(strstr(audit_text(), "\"session\":\"" SID "\""));
	snprintf(expect, sizeof(expect), "\"manifest_sha256\":\"%s\"", hex);
	ck_assert_msg(strstr(audit_text(), expect) != NULL, "no %s in %s", expect, audit_text());
	len = xasprintf(&msg, BUNDLE_SIG_PREFIX "%s", manifest);
	ck_assert(sealkey_verify(pub, msg, (size_t)len, sig));
	free(msg);
	ck_assert(!sealkey_verify(pub, manifest, strlen(manifest), sig));
	/* An audit log that cannot be written: no signature. */
	ck_assert_int_eq(
	    notary_sign_bundle(notary, "/nonexistent/audit.log", SID, "auditor.ann", manifest, sig),
	    -1);
}
END_TEST

/* A session process gone before its seal: the audit log says how far the notary signed. */
START_TEST(an_unsealed_recording_is_named_when_its_session_ends)
{
	char expect[256];

	model_record("[0.1,\"o\",\"a\"]");
	snprintf(expect, sizeof(expect), "\"recording\":\"%s\",\"records\":%lu,\"chain\":\"%s\"",
	    REC, rec.n, rec.head);
	ck_assert_int_eq(ask_next(), 0);
	notary_book_close(notary, audit_path, book);
	book = NULL;
	ck_assert_ptr_nonnull(strstr(audit_text(), "\"event\":\"recording_unsealed\""));
	ck_assert_ptr_nonnull(strstr(audit_text(), expect));
}
END_TEST

/* The one appender: lines that verify, and a rotated log followed to the new file. */
START_TEST(the_audit_log_verifies_and_follows_a_rotation)
{
	char d[64] = "/tmp/test_notary_log.XXXXXX", log[128], old[128];
	struct verdict v;

	ck_assert_ptr_nonnull(mkdtemp(d));
	snprintf(log, sizeof(log), "%s/audit.log", d);
	snprintf(old, sizeof(old), "%s/audit.log.1", d);
	ck_assert_int_eq(notary_audit(notary, log, "one", json_pack("{s:s}", "session", SID)), 0);
	ck_assert_int_eq(notary_audit(notary, log, "two", NULL), 0);
	ck_assert_int_eq(rename(log, old), 0);
	ck_assert_int_eq(notary_audit(notary, log, "three", NULL), 0);
	verify_audit_log(old, pub, &v);
	ck_assert_int_eq(v.kind, VERDICT_INTACT);
	ck_assert_uint_eq(v.records, 2);
	verify_audit_log(log, pub, &v);
	ck_assert_int_eq(v.kind, VERDICT_INTACT);
	ck_assert_uint_eq(v.records, 1);
	/* Another path (a reload changed audit_log): the next event goes there. */
	ck_assert_int_eq(notary_audit(notary, old, "four", NULL), 0);
	verify_audit_log(old, pub, &v);
	ck_assert_int_eq(v.kind, VERDICT_INTACT);
	ck_assert_uint_eq(v.records, 3);
	unlink(log);
	unlink(old);
	rmdir(d);
}
END_TEST

/* What an observer (the listener's notifier) was handed. */
static char observed[4096], observed_event[32];
static int nobserved;

static void
observe(void *arg, const char *event, const char *line)
{
	(void)arg;
	nobserved++;
	snprintf(observed_event, sizeof(observed_event), "%s", event);
	snprintf(observed, sizeof(observed), "%s", line);
}

/* The observer sees each event once it is in the log, as the line the log holds; an event
 * that could not be appended is never observed. */
START_TEST(the_observer_gets_the_appended_line_and_nothing_unwritten)
{
	char d[64] = "/tmp/test_notary_obs.XXXXXX", log[128], bad[160], text[4096];
	FILE *f;
	size_t n;

	ck_assert_ptr_nonnull(mkdtemp(d));
	snprintf(log, sizeof(log), "%s/audit.log", d);
	snprintf(bad, sizeof(bad), "%s/no-such-dir/audit.log", d);
	notary_set_observer(notary, observe, NULL);
	nobserved = 0;
	ck_assert_int_eq(
	    notary_audit(notary, log, "session_cut", json_pack("{s:s}", "session", SID)), 0);
	ck_assert_int_eq(nobserved, 1);
	ck_assert_str_eq(observed_event, "session_cut");
	ck_assert_ptr_nonnull(f = fopen(log, "r"));
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	ck_assert_uint_gt(n, 1);
	ck_assert_int_eq(text[n - 1], '\n');
	text[n - 1] = '\0';
	ck_assert_str_eq(observed, text);
	ck_assert_int_eq(notary_audit(notary, bad, "session_cut", NULL), -1);
	ck_assert_int_eq(nobserved, 1);
	notary_set_observer(notary, NULL, NULL);
	unlink(log);
	rmdir(d);
}
END_TEST

Suite *
unit_suite(void)
{
	Suite *s = suite_create("notary");
	TCase *tc = tcase_create("sign");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, an_extension_is_signed_at_the_notarys_time);
	tcase_add_test(tc, a_resign_of_an_earlier_n_is_refused);
	tcase_add_test(tc, a_wrong_prev_is_refused);
	tcase_add_test(tc, a_first_request_with_a_prev_is_refused);
	tcase_add_test(tc, a_chain_its_records_do_not_give_is_refused);
	tcase_add_test(tc, another_sessions_recording_is_refused);
	tcase_add_test(tc, the_seal_is_audited_and_ends_the_signing);
	tcase_add_test(tc, an_unsealed_recording_is_named_when_its_session_ends);
	tcase_add_test(tc, a_bundle_manifest_is_audited_then_signed_with_its_prefix);
	suite_add_tcase(s, tc);
	tc = tcase_create("audit");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, the_audit_log_verifies_and_follows_a_rotation);
	tcase_add_test(tc, the_observer_gets_the_appended_line_and_nothing_unwritten);
	suite_add_tcase(s, tc);
	return s;
}
