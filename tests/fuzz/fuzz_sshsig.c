/* fuzz_sshsig.c: libFuzzer harness for the OpenSSH formats sshsig.c decodes by hand: the
 * armored SSHSIG signature (input, over the fixed text of tests/unit/data/tickets/
 * t-ed25519.ticket) and the public key line (the same input as a C string). Checks that a
 * verifying signature names a signer key that decodes and that results are in range. */
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *fuzz_msg;
static size_t fuzz_msg_len;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *signer = NULL, *blob = NULL;
	size_t signer_len = 0, blob_len = 0;
	char fp[GW_FP_LEN], *line;
	enum sshsig_result r;

	if (fuzz_msg == NULL)
		fuzz_msg = fuzz_data("unit/data/tickets/t-ed25519.ticket", &fuzz_msg_len);
	r = sshsig_verify((const char *)data, size, fuzz_msg, fuzz_msg_len, TICKET_NAMESPACE,
	    &signer, &signer_len);
	if (r == SSHSIG_OK) {
		if (signer == NULL || signer_len == 0)
			abort();
		sshkey_fingerprint(signer, signer_len, fp);
		if (!fingerprint_is_valid(fp))
			abort();
	} else if ((unsigned)r > SSHSIG_BAD_SIGNATURE || sshsig_result_text(r) == NULL) {
		abort();
	}
	free(signer);

	line = fuzz_string(data, size);
	if (sshkey_blob_from_line(line, &blob, &blob_len) == 0) {
		if (blob == NULL || blob_len == 0)
			abort();
		sshkey_fingerprint(blob, blob_len, fp);
		if (!fingerprint_is_valid(fp))
			abort();
	}
	free(blob);
	free(line);
	return 0;
}
