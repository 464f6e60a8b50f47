/* fuzz_revocation.c: libFuzzer harness for the revocation record (revocation.c), read
 * on every ticket decision. The input is <state_dir>/revocations; checks that whatever
 * is loaded is well-formed and that a refused file says where. */
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ticket_set *set = ticketset_new();
	char *errors = NULL;
	size_t i;

	fuzz_file("revocations", data, size);
	if (revocation_load(fuzz_dir(), set, &errors) != 0) {
		if (errors == NULL || strstr(errors, "/revocations:") == NULL)
			abort();
	} else if (errors != NULL) {
		abort();
	}
	for (i = 0; i < set->nrevocations; i++)
		if (!ticket_id_is_valid(set->revocations[i].id) ||
		    set->revocations[i].reason[0] == '\0' ||
		    ticketset_find_revocation(set, set->revocations[i].id) == NULL)
			abort();
	free(errors);
	ticketset_free(set);
	return 0;
}
