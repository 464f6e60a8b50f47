/* fingerprint.c: pinned target host keys in OpenSSH's "SHA256:<base64>" form.
 * Comparison only; computing a key's fingerprint belongs to the target leg. */
#include "policy/policy.h"

#include <string.h>

#define SHA256_B64_LEN 43 /* 32 bytes, unpadded base64 */

bool
fingerprint_is_valid(const char *fp)
{
	size_t i;

	if (strncmp(fp, "SHA256:", 7) != 0 || strlen(fp) != 7 + SHA256_B64_LEN)
		return false;
	for (i = 7; fp[i] != '\0'; i++) {
		char c = fp[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		        c == '+' || c == '/'))
			return false;
	}
	return true;
}

bool
fingerprint_matches(const struct gw_target *t, const char *fp)
{
	size_t i;

	if (!fingerprint_is_valid(fp))
		return false;
	for (i = 0; i < t->nfingerprints; i++)
		if (strcmp(t->fingerprints[i], fp) == 0)
			return true;
	return false;
}
