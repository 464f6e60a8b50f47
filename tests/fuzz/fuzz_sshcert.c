/* fuzz_sshcert.c: libFuzzer harness for the certificate parser (policy/sshcert.c); not in the
 * default build. Input: a certificate blob as a vendor could offer it. Whatever parses must
 * also survive the admission checks and a revocation list.
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -I. tests/fuzz/fuzz_sshcert.c \
 *     policy/sshcert.c policy/sshsig.c policy/fingerprint.c policy/timefmt.c common/xmalloc.c \
 *     -lcrypto -o fuzz_sshcert
 *   ./fuzz_sshcert tests/unit/data/certs (seeds: decode the *-cert.pub files first) */
#include <stdint.h>
#include <string.h>

#include "policy/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sshcert c;
	char err[128], what[256];

	if (sshcert_parse(data, size, &c, err, sizeof(err)) != 0)
		return 0;
	sshcert_check(&c, "acme.alice", "10.1.2.3", 1800000000, err, sizeof(err));
	sshcert_revoked("serial 1\nkey-id x\n", &c, what, sizeof(what));
	sshcert_free(&c);
	return 0;
}
