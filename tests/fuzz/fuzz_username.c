/* fuzz_username.c: libFuzzer harness for the SSH user name "PERSON+TARGET" (username.c),
 * the first bytes a stranger sends. Checks that an accepted name splits back into itself
 * and that both halves obey name_is_valid(). */
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *name = fuzz_string(data, size), joined[2 * GW_ID_MAX + 2];
	struct gw_username u;
	const char *why = NULL;

	if (username_parse(name, &u, &why) == 0) {
		if (!name_is_valid(u.person) || (u.target[0] != '\0' && !name_is_valid(u.target)))
			abort();
		snprintf(
		    joined, sizeof(joined), "%s%s%s", u.person, u.target[0] ? "+" : "", u.target);
		if (strcmp(joined, name) != 0)
			abort();
	} else if (why == NULL || *why == '\0') {
		abort(); /* every refusal has a reason for the vendor */
	}
	free(name);
	return 0;
}
