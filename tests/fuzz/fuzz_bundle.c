/* fuzz_bundle.c: libFuzzer harness for the checks of an evidence bundle from anywhere
 * (tools/bundle-manifest.c, bundle-slice.c): the input is the bundle's MANIFEST and its
 * audit.log at once. MANIFEST.sig is never a signature of it, so the MANIFEST must fail; the
 * slice's check answers 0 or -1. (Whether a signed line can be forged is fuzz_verify's.) */
#include "tests/fuzz/fuzz.h"

#include "tools/bundle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sealkey *fuzz_key;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char sig[] = "AAAA\n";
	json_t *info;
	size_t i, lines = 0;
	int rc;

	if (fuzz_key == NULL) {
		char *keypath;

		xasprintf(&keypath, "%s/fuzz/seal-key.pub", FUZZ_TESTS_DIR);
		if ((fuzz_key = sealkey_load_public(keypath)) == NULL)
			abort();
		free(keypath);
		/* The verdict lines are the product, not the harness's concern. */
		if (freopen("/dev/null", "w", stdout) == NULL)
			abort();
	}
	for (i = 0; i < size; i++)
		lines += data[i] == '\n';
	fuzz_file("MANIFEST", data, size);
	fuzz_file("MANIFEST.sig", (const uint8_t *)sig, sizeof(sig) - 1);
	fuzz_file(BUNDLE_AUDIT, data, size);
	if (bundle_manifest_verify(fuzz_dir(), fuzz_key) == 0)
		abort(); /* a MANIFEST without its signature verified */
	info = json_pack("{s:{s:s, s:i, s:I}}", "audit", "before",
	    "0000000000000000000000000000000000000000000000000000000000000000", "first_line", 1,
	    "lines", (json_int_t)lines);
	rc = bundle_slice_verify(fuzz_dir(), info, fuzz_key);
	if (rc != 0 && rc != -1)
		abort();
	json_decref(info);
	return 0;
}
