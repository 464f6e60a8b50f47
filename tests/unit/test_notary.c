/* test_notary.c: the listener as notary: it signs a session's checkpoint only as an extension of
 * the chain head it signed last for that recording, and always at its own time. */
#include "unit.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "evidence/recorder.h"
#include "evidence/seal.h"
#include "gatewayd/notary.h"

#define SID   "0123456789abcdef0123456789abcdef"
#define OTHER "fedcba9876543210fedcba9876543210"
#define REC   SID ".0.cast"
#define HEAD_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define HEAD_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define HEAD_C "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"

static char dir[64];
static struct sealkey *pub; /* the public half, as an auditor has it */
static struct notary *notary;
static struct notary_book *book;
static char sig[SEAL_SIG_B64_LEN], when[SEAL_TIME_LEN];

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
}

static void
teardown(void)
{
	notary_book_free(book);
	notary_free(notary);
	sealkey_free(pub);
}

/* Asks for a checkpoint of recording name covering n records up to chain, after prev. */
static int
ask(const char *name, unsigned long n, const char *chain, const char *prev)
{
	struct checkpoint_req req = {
		.recording = name, .n = n, .chain = chain, .prev = prev, .stamp = "1.250000"
	};

	sig[0] = when[0] = '\0';
	return notary_sign(notary, book, &req, sig, when);
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
	char before[SEAL_TIME_LEN], after[SEAL_TIME_LEN];

	seal_format_now(before);
	ck_assert_int_eq(ask(REC, 3, HEAD_A, ""), 0);
	ck_assert(signed_as(3, HEAD_A));
	ck_assert_int_eq(ask(REC, 9, HEAD_B, HEAD_A), 0);
	seal_format_now(after);
	ck_assert(signed_as(9, HEAD_B));
	/* RFC 3339 UTC with milliseconds: the text order is the time order. */
	ck_assert_str_ge(when, before);
	ck_assert_str_le(when, after);
}
END_TEST

START_TEST(a_resign_of_an_earlier_n_is_refused)
{
	ck_assert_int_eq(ask(REC, 5, HEAD_A, ""), 0);
	ck_assert_int_eq(ask(REC, 5, HEAD_B, HEAD_A), -1);
	ck_assert_int_eq(ask(REC, 4, HEAD_B, HEAD_A), -1);
	ck_assert_int_eq(ask(REC, 2, HEAD_B, ""), -1); /* nor by starting the recording again */
	ck_assert_str_eq(sig, "");
	/* The refusals changed nothing: the honest extension still goes. */
	ck_assert_int_eq(ask(REC, 6, HEAD_B, HEAD_A), 0);
	ck_assert(signed_as(6, HEAD_B));
}
END_TEST

START_TEST(a_wrong_prev_is_refused)
{
	ck_assert_int_eq(ask(REC, 5, HEAD_A, ""), 0);
	ck_assert_int_eq(ask(REC, 6, HEAD_B, HEAD_C), -1);
	ck_assert_int_eq(ask(REC, 7, HEAD_C, HEAD_B), -1);
	ck_assert_int_eq(ask(REC, 6, HEAD_B, "not hex"), -1);
	ck_assert_str_eq(sig, "");
}
END_TEST

START_TEST(a_first_request_with_a_prev_is_refused)
{
	ck_assert_int_eq(ask(REC, 5, HEAD_B, HEAD_A), -1);
	ck_assert_str_eq(sig, "");
	ck_assert_int_eq(ask(REC, 0, HEAD_A, ""), -1); /* nor one that covers nothing */
}
END_TEST

START_TEST(another_sessions_recording_is_refused)
{
	ck_assert_int_eq(ask(OTHER ".0.cast", 5, HEAD_A, ""), -1);
	ck_assert_int_eq(ask(SID ".0.cast.x", 5, HEAD_A, ""), -1);
	ck_assert_int_eq(ask("../" SID ".0.cast", 5, HEAD_A, ""), -1);
	ck_assert_int_eq(ask(SID "..cast", 5, HEAD_A, ""), -1);
	/* Each of the session's recordings has its own chain. */
	ck_assert_int_eq(ask(SID ".0.cast", 5, HEAD_A, ""), 0);
	ck_assert_int_eq(ask(SID ".1.cast", 2, HEAD_B, ""), 0);
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
	tcase_add_test(tc, another_sessions_recording_is_refused);
	suite_add_tcase(s, tc);
	return s;
}
