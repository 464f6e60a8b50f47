/* fuzz_sshcert.c: libFuzzer harness for OpenSSH user certificates (sshcert.c), the blob a
 * stranger offers in public-key authentication. The input is parsed as a certificate blob,
 * and also read as revocation list text and as a source-address list. Checks that a parsed
 * certificate is bounded and that sshcert_check() admits only a validly signed user
 * certificate naming the person, at a time inside its validity. */
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_PERSON "acme.alice"
#define FUZZ_ADDR   "127.0.0.1"
#define FUZZ_NOW    1800000000 /* 2027-01-15, inside the fixtures' validity */

static bool
fuzz_bounded(const char *s)
{
	return s == NULL || strlen(s) <= SSHCERT_TEXT_MAX;
}

static void
fuzz_check_cert(const struct sshcert *c)
{
	char why[256], what[256];
	size_t i;
	bool named = false;

	if (memchr(c->key_type, '\0', sizeof(c->key_type)) == NULL || c->key == NULL ||
	    c->key_len == 0 || c->ca_key == NULL || c->ca_key_len == 0 ||
	    c->nprincipals > SSHCERT_PRINCIPALS_MAX || !fuzz_bounded(c->key_id) ||
	    !fuzz_bounded(c->force_command) || !fuzz_bounded(c->source_address))
		abort();
	for (i = 0; i < c->nprincipals; i++) {
		if (!fuzz_bounded(c->principals[i]))
			abort();
		named |= strcmp(c->principals[i], FUZZ_PERSON) == 0;
	}
	if (sshcert_check(c, FUZZ_PERSON, FUZZ_ADDR, FUZZ_NOW, why, sizeof(why)) == 0) {
		if (!c->signature_valid || c->type != SSHCERT_TYPE_USER || !named ||
		    c->unknown_critical != NULL || (uint64_t)FUZZ_NOW < c->valid_after ||
		    (uint64_t)FUZZ_NOW >= c->valid_before)
			abort();
	} else if (why[0] == '\0') {
		abort();
	}
	/* A well-formed list never makes the answer "malformed". */
	if (sshcert_revoked("# none\nserial 1\nkey-id nobody\n", c, what, sizeof(what)) < 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sshcert seed;
	static bool have_seed;
	struct sshcert c;
	char err[256], what[256], *text;

	if (!have_seed) {
		size_t len;
		char *blob = fuzz_data("fuzz/corpus/sshcert/good-ed25519-cert.blob", &len);

		if (sshcert_parse((const unsigned char *)blob, len, &seed, err, sizeof(err)) != 0)
			abort();
		free(blob);
		have_seed = true;
	}
	memset(&c, 0, sizeof(c));
	err[0] = '\0';
	if (sshcert_parse(data, size, &c, err, sizeof(err)) == 0) {
		fuzz_check_cert(&c);
		sshcert_free(&c);
	} else if (err[0] == '\0') {
		abort();
	}

	text = fuzz_string(data, size);
	what[0] = '\0';
	if (sshcert_revoked(text, &seed, what, sizeof(what)) != 0 && what[0] == '\0')
		abort(); /* revoked or malformed: the line must be named */
	if (sshcert_source_allows(text, FUZZ_ADDR) > 1)
		abort();
	free(text);
	return 0;
}
