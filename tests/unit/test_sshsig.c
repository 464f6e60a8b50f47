/* test_sshsig.c: SSHSIG verification against signatures made by the stock ssh-keygen
 * (data/tickets, see make-ticket-fixtures.sh) for every supported key type. */
#include "unit.h"
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"
#include "policy_fixture.h"

struct sig_case {
	const char *ticket;
	const char *key; /* expected signer */
};

static const struct sig_case good[] = {
	{ "t-ed25519", "lead-ed25519" },
	{ "t-ecdsa256", "lead-ecdsa256" },
	{ "t-ecdsa384", "lead-ecdsa384" },
	{ "t-ecdsa521", "lead-ecdsa521" },
	{ "t-rsa", "lead-rsa" },
	{ "t-rsa-sha256", "lead-rsa" },
};

static enum sshsig_result
verify_fixture(
    const char *ticket, const char *text_override, unsigned char **signer, size_t *signer_len)
{
	char *rel, *text, *sig;
	size_t len, siglen;
	enum sshsig_result r;

	xasprintf(&rel, "tickets/%s.ticket", ticket);
	text = fixture_read(rel, &len);
	free(rel);
	xasprintf(&rel, "tickets/%s.ticket.sig", ticket);
	sig = fixture_read(rel, &siglen);
	free(rel);
	ck_assert_ptr_nonnull(text);
	ck_assert_ptr_nonnull(sig);
	if (text_override != NULL) {
		free(text);
		text = xstrdup(text_override);
		len = strlen(text);
	}
	r = sshsig_verify(sig, siglen, text, len, TICKET_NAMESPACE, signer, signer_len);
	free(text);
	free(sig);
	return r;
}

START_TEST(test_sshsig_accepts_ssh_keygen_signature_and_names_signer)
{
	const struct sig_case *c = &good[_i];
	unsigned char *signer, *blob;
	size_t signer_len, blob_len;
	char *pub, *rel, *fp_want, fp[GW_FP_LEN];

	ck_assert_int_eq(verify_fixture(c->ticket, NULL, &signer, &signer_len), SSHSIG_OK);
	pub = fixture_pub(c->key);
	ck_assert_int_eq(sshkey_blob_from_line(pub, &blob, &blob_len), 0);
	ck_assert_uint_eq(signer_len, blob_len);
	ck_assert(memcmp(signer, blob, blob_len) == 0);
	/* The fingerprint is the one ssh-keygen -l prints. */
	xasprintf(&rel, "tickets/%s.fp", c->key);
	fp_want = fixture_read(rel, NULL);
	fp_want[strcspn(fp_want, "\n")] = '\0';
	sshkey_fingerprint(blob, blob_len, fp);
	ck_assert_str_eq(fp, fp_want);
	free(rel);
	free(fp_want);
	free(pub);
	free(blob);
	free(signer);
}
END_TEST

START_TEST(test_sshsig_refuses_one_altered_byte)
{
	unsigned char *signer;
	size_t n;

	ck_assert_int_eq(verify_fixture("t-altered", NULL, &signer, &n), SSHSIG_BAD_SIGNATURE);
	ck_assert_ptr_null(signer);
}
END_TEST

START_TEST(test_sshsig_refuses_every_single_byte_change)
{
	char *text, *sig;
	size_t len, siglen, i;
	unsigned char *signer;
	size_t n;

	text = fixture_read("tickets/t-ecdsa256.ticket", &len);
	sig = fixture_read("tickets/t-ecdsa256.ticket.sig", &siglen);
	for (i = 0; i < len; i++) {
		text[i] ^= 0x01;
		ck_assert_msg(sshsig_verify(sig, siglen, text, len, TICKET_NAMESPACE, &signer,
		                  &n) != SSHSIG_OK,
		    "byte %zu changed but accepted", i);
		text[i] ^= 0x01;
	}
	free(text);
	free(sig);
}
END_TEST

START_TEST(test_sshsig_refuses_wrong_namespace)
{
	unsigned char *signer;
	size_t n;

	ck_assert_int_eq(
	    verify_fixture("t-wrong-namespace", NULL, &signer, &n), SSHSIG_WRONG_NAMESPACE);
}
END_TEST

START_TEST(test_sshsig_refuses_signature_of_another_text)
{
	unsigned char *signer;
	size_t n;

	ck_assert_int_eq(
	    verify_fixture("t-rsa", "id = \"t-rsa\";\n", &signer, &n), SSHSIG_BAD_SIGNATURE);
}
END_TEST

START_TEST(test_sshsig_refuses_garbage_and_truncation)
{
	static const char *const bad[] = {
		"",
		"not a signature",
		"-----BEGIN SSH SIGNATURE-----\n-----END SSH SIGNATURE-----\n",
		"-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\n-----END SSH SIGNATURE-----\n",
		"-----BEGIN SSH SIGNATURE-----\nU1NIU0lHAAAAAg==\n-----END SSH SIGNATURE-----\n",
		("-----BEGIN SSH SIGNATURE-----\nU1NIU0lHAAAAAf////8=\n-----END SSH "
		 "SIGNATURE-----\n"),
	};
	char *sig;
	size_t siglen, i, cut;
	unsigned char *signer;
	size_t n;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_int_eq(
		    sshsig_verify(bad[i], strlen(bad[i]), "x", 1, TICKET_NAMESPACE, &signer, &n),
		    SSHSIG_MALFORMED);
	/* Every truncation of a real signature's armor body is refused. */
	sig = fixture_read("tickets/t-ed25519.ticket.sig", &siglen);
	for (cut = 30; cut < siglen - 30; cut++) {
		char *t = xstrdup(sig);

		memmove(t + cut, t + siglen - 29, 30); /* keep the END line */
		ck_assert(sshsig_verify(t, strlen(t), "x", 1, TICKET_NAMESPACE, &signer, &n) !=
		    SSHSIG_OK);
		free(t);
	}
	free(sig);
}
END_TEST

START_TEST(test_sshkey_line_parsing)
{
	unsigned char *blob;
	size_t len;
	char *pub = fixture_pub("lead-ecdsa384"), *swapped;

	ck_assert_int_eq(sshkey_blob_from_line(pub, &blob, &len), 0);
	free(blob);
	/* The type on the line must match the type in the blob. */
	xasprintf(&swapped, "ssh-ed25519 %s", strchr(pub, ' ') + 1);
	ck_assert_int_eq(sshkey_blob_from_line(swapped, &blob, &len), -1);
	ck_assert_ptr_null(blob);
	ck_assert_int_eq(sshkey_blob_from_line("ssh-ed25519", &blob, &len), -1);
	ck_assert_int_eq(sshkey_blob_from_line("ssh-ed25519 !!!!", &blob, &len), -1);
	ck_assert_int_eq(
	    sshkey_blob_from_line("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA==", &blob, &len), -1);
	free(swapped);
	free(pub);
}
END_TEST

Suite *
unit_suite(void)
{
	Suite *s = suite_create("sshsig");
	TCase *tc = tcase_create("sshsig");

	tcase_add_loop_test(tc, test_sshsig_accepts_ssh_keygen_signature_and_names_signer, 0,
	    (int)(sizeof(good) / sizeof(good[0])));
	tcase_add_test(tc, test_sshsig_refuses_one_altered_byte);
	tcase_add_test(tc, test_sshsig_refuses_every_single_byte_change);
	tcase_add_test(tc, test_sshsig_refuses_wrong_namespace);
	tcase_add_test(tc, test_sshsig_refuses_signature_of_another_text);
	tcase_add_test(tc, test_sshsig_refuses_garbage_and_truncation);
	tcase_add_test(tc, test_sshkey_line_parsing);
	suite_add_tcase(s, tc);
	return s;
}
