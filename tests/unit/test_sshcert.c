/* test_sshcert.c: OpenSSH certificates made by the stock ssh-keygen -s (data/certs, see
 * make-cert-fixtures.sh): parsing, CA signature, the admission checks, revocation lists,
 * and hostile blobs (altered, truncated, padded). */
#include "unit.h"
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"
#include "policy_fixture.h"

/* The wire blob of "TYPE BASE64 comment" in data/certs/NAME. */
static unsigned char *
cert_blob(const char *name, size_t *len)
{
	char *rel, *text, *b64;
	unsigned char *blob;
	size_t tlen, off, blen;
	int n;

	xasprintf(&rel, "certs/%s", name);
	text = fixture_read(rel, &tlen);
	free(rel);
	ck_assert_ptr_nonnull(text);
	off = strcspn(text, " ") + 1;
	ck_assert_uint_lt(off, tlen);
	blen = strcspn(text + off, " \n");
	b64 = xstrndup(text + off, blen);
	free(text);
	blob = xmalloc(blen);
	n = EVP_DecodeBlock(blob, (const unsigned char *)b64, (int)blen);
	ck_assert_int_gt(n, 0);
	/* EVP_DecodeBlock counts the padding as zero bytes. */
	*len = (size_t)n - (b64[blen - 1] == '=') - (b64[blen - 2] == '=');
	free(b64);
	return blob;
}

static void
parse_fixture(const char *name, struct sshcert *c)
{
	unsigned char *blob;
	size_t len;
	char err[128];

	blob = cert_blob(name, &len);
	ck_assert_msg(sshcert_parse(blob, len, c, err, sizeof(err)) == 0, "%s: %s", name, err);
	free(blob);
}

static int
check_at(const char *name, const char *person, const char *addr, const char *when, char *why,
    size_t whylen)
{
	struct sshcert c;
	int rc;

	parse_fixture(name, &c);
	rc = sshcert_check(&c, person, addr, fixture_time(when), why, whylen);
	sshcert_free(&c);
	return rc;
}

static const struct {
	const char *cert, *ca, *key;
	uint64_t serial;
	const char *key_id;
} good[] = {
	{ "good-ed25519-cert.pub", "ca-ed25519.pub", "alice.pub", 42, "alice-key" },
	{ "good-ecdsa-cert.pub", "ca-ecdsa.pub", "alice-ecdsa.pub", 43, "alice-ecdsa" },
	{ "good-rsa-cert.pub", "ca-rsa.pub", "alice-rsa.pub", 44, "alice-rsa" },
};

START_TEST(test_parse_reads_fields_and_verifies_ca_signature)
{
	unsigned char *ca, *key;
	size_t calen, keylen;
	struct sshcert c;

	parse_fixture(good[_i].cert, &c);
	ca = cert_blob(good[_i].ca, &calen);
	key = cert_blob(good[_i].key, &keylen);
	ck_assert(c.signature_valid);
	ck_assert_uint_eq(c.serial, good[_i].serial);
	ck_assert_str_eq(c.key_id, good[_i].key_id);
	ck_assert_uint_eq(c.type, SSHCERT_TYPE_USER);
	ck_assert_uint_eq(c.ca_key_len, calen);
	ck_assert_mem_eq(c.ca_key, ca, calen);
	ck_assert_uint_eq(c.key_len, keylen);
	ck_assert_mem_eq(c.key, key, keylen);
	ck_assert_uint_eq(c.valid_after, (uint64_t)fixture_time("2027-01-01"));
	ck_assert_uint_eq(c.valid_before, (uint64_t)fixture_time("2028-01-01"));
	ck_assert_ptr_null(c.force_command);
	ck_assert_ptr_null(c.unknown_critical);
	free(ca);
	free(key);
	sshcert_free(&c);
}
END_TEST

START_TEST(test_parse_reads_every_principal)
{
	struct sshcert c;

	parse_fixture("good-ed25519-cert.pub", &c);
	ck_assert_uint_eq(c.nprincipals, 2);
	ck_assert_str_eq(c.principals[0], "acme.alice");
	ck_assert_str_eq(c.principals[1], "acme.bob");
	sshcert_free(&c);
}
END_TEST

START_TEST(test_check_admits_named_person_inside_validity)
{
	char why[128] = "";

	ck_assert_int_eq(
	    check_at(good[_i].cert, "acme.alice", "127.0.0.1", "2027-06-01", why, sizeof(why)), 0);
}
END_TEST

START_TEST(test_check_refuses_not_yet_valid)
{
	char why[128];

	ck_assert_int_ne(check_at("good-ed25519-cert.pub", "acme.alice", "127.0.0.1",
	                     "2026-12-31T23:59:59Z", why, sizeof(why)),
	    0);
	ck_assert_ptr_nonnull(strstr(why, "not yet valid"));
}
END_TEST

START_TEST(test_check_refuses_expired_at_valid_before)
{
	char why[128];

	ck_assert_int_ne(check_at("good-ed25519-cert.pub", "acme.alice", "127.0.0.1", "2028-01-01",
	                     why, sizeof(why)),
	    0);
	ck_assert_ptr_nonnull(strstr(why, "expired"));
}
END_TEST

START_TEST(test_check_refuses_person_not_among_principals)
{
	char why[128];

	ck_assert_int_ne(check_at("good-ed25519-cert.pub", "acme.carol", "127.0.0.1", "2027-06-01",
	                     why, sizeof(why)),
	    0);
	ck_assert_ptr_nonnull(strstr(why, "principals"));
}
END_TEST

START_TEST(test_check_refuses_empty_principals)
{
	char why[128];

	ck_assert_int_ne(check_at("noprincipal-cert.pub", "acme.alice", "127.0.0.1", "2027-06-01",
	                     why, sizeof(why)),
	    0);
}
END_TEST

START_TEST(test_check_refuses_host_certificate)
{
	char why[128];

	ck_assert_int_ne(
	    check_at("host-cert.pub", "acme.alice", "127.0.0.1", "2027-06-01", why, sizeof(why)),
	    0);
	ck_assert_ptr_nonnull(strstr(why, "not a user certificate"));
}
END_TEST

START_TEST(test_check_refuses_force_command)
{
	char why[128];

	ck_assert_int_ne(
	    check_at("force-cert.pub", "acme.alice", "127.0.0.1", "2027-06-01", why, sizeof(why)),
	    0);
	ck_assert_ptr_nonnull(strstr(why, "force-command"));
}
END_TEST

START_TEST(test_check_refuses_unknown_critical_option)
{
	char why[128];

	ck_assert_int_ne(check_at("unknowncrit-cert.pub", "acme.alice", "127.0.0.1", "2027-06-01",
	                     why, sizeof(why)),
	    0);
	ck_assert_ptr_nonnull(strstr(why, "verify-later@example.com"));
}
END_TEST

START_TEST(test_check_source_address_admits_listed_network)
{
	char why[128];

	ck_assert_int_eq(
	    check_at("source-cert.pub", "acme.alice", "10.1.200.3", "2027-06-01", why, sizeof(why)),
	    0);
	ck_assert_int_eq(
	    check_at("source-cert.pub", "acme.alice", "::1", "2027-06-01", why, sizeof(why)), 0);
}
END_TEST

START_TEST(test_check_source_address_refuses_other_address)
{
	char why[128];

	ck_assert_int_ne(
	    check_at("source-cert.pub", "acme.alice", "10.2.0.1", "2027-06-01", why, sizeof(why)),
	    0);
	ck_assert_ptr_nonnull(strstr(why, "source-address"));
	ck_assert_int_ne(
	    check_at("source-cert.pub", "acme.alice", "127.0.0.1", "2027-06-01", why, sizeof(why)),
	    0);
}
END_TEST

START_TEST(test_source_allows_prefixes_and_rejects_malformed_lists)
{
	ck_assert_int_eq(sshcert_source_allows("192.168.1.0/25", "192.168.1.127"), 1);
	ck_assert_int_eq(sshcert_source_allows("192.168.1.0/25", "192.168.1.128"), 0);
	ck_assert_int_eq(sshcert_source_allows("0.0.0.0/0", "8.8.8.8"), 1);
	ck_assert_int_eq(sshcert_source_allows("2001:db8::/32", "2001:db8:1::1"), 1);
	ck_assert_int_eq(sshcert_source_allows("2001:db8::/32", "10.0.0.1"), 0);
	ck_assert_int_eq(sshcert_source_allows("10.0.0.1", "10.0.0.1"), 1);
	ck_assert_int_eq(sshcert_source_allows("10.0.0.0/33", "10.0.0.1"), -1);
	ck_assert_int_eq(sshcert_source_allows("10.0.0.0/", "10.0.0.1"), -1);
	ck_assert_int_eq(sshcert_source_allows("10.0.0.1,", "10.0.0.1"), -1);
	ck_assert_int_eq(sshcert_source_allows("example.com", "10.0.0.1"), -1);
	ck_assert_int_eq(sshcert_source_allows("10.0.0.0/8", "unknown"), 0);
}
END_TEST

START_TEST(test_altered_certificate_fails_signature)
{
	unsigned char *blob;
	struct sshcert c;
	size_t len;
	char err[128], why[128];

	blob = cert_blob("good-ed25519-cert.pub", &len);
	blob[len - 100] ^= 1; /* inside the signed part, before the CA key and signature */
	if (sshcert_parse(blob, len, &c, err, sizeof(err)) == 0) {
		ck_assert(!c.signature_valid);
		ck_assert_int_ne(sshcert_check(&c, "acme.alice", "127.0.0.1",
		                     fixture_time("2027-06-01"), why, sizeof(why)),
		    0);
		sshcert_free(&c);
	}
	free(blob);
}
END_TEST

START_TEST(test_every_truncation_is_refused)
{
	unsigned char *blob, *cut;
	struct sshcert c;
	size_t len, n;
	char err[128];

	blob = cert_blob(good[_i].cert, &len);
	for (n = 0; n < len; n++) {
		cut = xmalloc(n > 0 ? n : 1); /* exact size: ASan sees any read past the end */
		memcpy(cut, blob, n);
		ck_assert_int_eq(sshcert_parse(cut, n, &c, err, sizeof(err)), -1);
		free(cut);
	}
	free(blob);
}
END_TEST

START_TEST(test_trailing_bytes_are_refused)
{
	unsigned char *blob, *longer;
	struct sshcert c;
	size_t len;
	char err[128];

	blob = cert_blob("good-ed25519-cert.pub", &len);
	longer = xcalloc(len + 1, 1);
	memcpy(longer, blob, len);
	ck_assert_int_eq(sshcert_parse(longer, len + 1, &c, err, sizeof(err)), -1);
	free(longer);
	free(blob);
}
END_TEST

START_TEST(test_plain_key_is_not_a_certificate)
{
	unsigned char *blob;
	struct sshcert c;
	size_t len;
	char err[128];

	blob = cert_blob("alice.pub", &len);
	ck_assert_int_eq(sshcert_parse(blob, len, &c, err, sizeof(err)), -1);
	free(blob);
}
END_TEST

START_TEST(test_revoked_by_serial_key_id_or_fingerprint)
{
	struct sshcert c;
	unsigned char *key;
	size_t keylen;
	char fp[GW_FP_LEN], what[256], *list;

	parse_fixture("good-ed25519-cert.pub", &c);
	ck_assert_int_eq(
	    sshcert_revoked("# nothing\n\nserial 41\nkey-id other\n", &c, what, sizeof(what)), 0);
	ck_assert_int_eq(sshcert_revoked("serial 42\n", &c, what, sizeof(what)), 1);
	ck_assert_int_eq(sshcert_revoked("serial 1\nkey-id alice-key", &c, what, sizeof(what)), 1);
	ck_assert_ptr_nonnull(strstr(what, "line 2"));
	key = cert_blob("alice.pub", &keylen);
	sshkey_fingerprint(key, keylen, fp);
	xasprintf(&list, "fingerprint %s\r\n", fp);
	ck_assert_int_eq(sshcert_revoked(list, &c, what, sizeof(what)), 1);
	free(list);
	free(key);
	sshcert_free(&c);
}
END_TEST

START_TEST(test_malformed_revocation_list_is_an_error)
{
	struct sshcert c;
	char what[256];

	parse_fixture("good-ed25519-cert.pub", &c);
	ck_assert_int_eq(sshcert_revoked("serial 4x\n", &c, what, sizeof(what)), -1);
	ck_assert_int_eq(
	    sshcert_revoked("serial 1\nrevoke everything\n", &c, what, sizeof(what)), -1);
	ck_assert_ptr_nonnull(strstr(what, "line 2"));
	ck_assert_int_eq(sshcert_revoked("fingerprint MD5:aa\n", &c, what, sizeof(what)), -1);
	sshcert_free(&c);
}
END_TEST

Suite *
unit_suite(void)
{
	Suite *s = suite_create("sshcert");
	TCase *tc = tcase_create("certificates");

	tcase_add_loop_test(tc, test_parse_reads_fields_and_verifies_ca_signature, 0, 3);
	tcase_add_test(tc, test_parse_reads_every_principal);
	tcase_add_loop_test(tc, test_check_admits_named_person_inside_validity, 0, 3);
	tcase_add_test(tc, test_check_refuses_not_yet_valid);
	tcase_add_test(tc, test_check_refuses_expired_at_valid_before);
	tcase_add_test(tc, test_check_refuses_person_not_among_principals);
	tcase_add_test(tc, test_check_refuses_empty_principals);
	tcase_add_test(tc, test_check_refuses_host_certificate);
	tcase_add_test(tc, test_check_refuses_force_command);
	tcase_add_test(tc, test_check_refuses_unknown_critical_option);
	tcase_add_test(tc, test_check_source_address_admits_listed_network);
	tcase_add_test(tc, test_check_source_address_refuses_other_address);
	tcase_add_test(tc, test_source_allows_prefixes_and_rejects_malformed_lists);
	tcase_add_test(tc, test_altered_certificate_fails_signature);
	tcase_add_loop_test(tc, test_every_truncation_is_refused, 0, 3);
	tcase_add_test(tc, test_trailing_bytes_are_refused);
	tcase_add_test(tc, test_plain_key_is_not_a_certificate);
	tcase_add_test(tc, test_revoked_by_serial_key_id_or_fingerprint);
	tcase_add_test(tc, test_malformed_revocation_list_is_an_error);
	suite_add_tcase(s, tc);
	return s;
}
