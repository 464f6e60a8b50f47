/* fuzz_verify.c: libFuzzer harness for the auditor's verifier (verify.c): the input is
 * verified both as a recording and as an audit log, against the public half of the key that
 * sealed the seed corpus (tests/fuzz/seal-key.pub). Checks that every verdict is in range,
 * counts no more records than the input has lines, and formats. */
#include "tests/fuzz/fuzz.h"

#include "gatewayd/verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sealkey *fuzz_key;

static void
fuzz_check_verdict(const struct verdict *v, const uint8_t *data, size_t size)
{
	unsigned long lines = 1;
	char text[512];
	size_t i;

	for (i = 0; i < size; i++)
		lines += data[i] == '\n';
	if (v->kind > VERDICT_UNREADABLE || v->record < -1 || v->records > lines ||
	    (v->record >= 0 && (unsigned long)v->record > v->records) ||
	    memchr(v->checkpoint, '\0', sizeof(v->checkpoint)) == NULL ||
	    memchr(v->ended, '\0', sizeof(v->ended)) == NULL ||
	    memchr(v->reason, '\0', sizeof(v->reason)) == NULL ||
	    memchr(v->detail, '\0', sizeof(v->detail)) == NULL)
		abort();
	verdict_format(v, text, sizeof(text));
	if (text[0] == '\0')
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct verdict v;
	const char *path;

	if (fuzz_key == NULL) {
		char *keypath;

		xasprintf(&keypath, "%s/fuzz/seal-key.pub", FUZZ_TESTS_DIR);
		if ((fuzz_key = sealkey_load_public(keypath)) == NULL)
			abort();
		free(keypath);
	}
	path = fuzz_file("evidence", data, size);
	verify_recording(path, fuzz_key, &v);
	fuzz_check_verdict(&v, data, size);
	verify_audit_log(path, fuzz_key, &v);
	fuzz_check_verdict(&v, data, size);
	return 0;
}
