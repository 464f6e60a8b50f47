/* fuzz_store_notice.c: libFuzzer harness for the notices of other gateways sharing a store
 * (store_notice_parse, gatewayd/store_notice.c), which arrive from the database. Checks that an
 * accepted notice holds only bounded, valid names of the kind it says. */
#include "tests/fuzz/fuzz.h"

#include "gatewayd/store_notice.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct store_notice nt;

	if (store_notice_parse((const char *)data, size, &nt) != 0)
		return 0;
	if (size > STORE_NOTICE_MAX || !ticket_id_is_valid(nt.origin) ||
	    memchr(nt.id, '\0', sizeof(nt.id)) == NULL ||
	    memchr(nt.message, '\0', sizeof(nt.message)) == NULL ||
	    memchr(nt.reason, '\0', sizeof(nt.reason)) == NULL)
		abort();
	switch (nt.kind) {
	case NOTICE_TICKET:
	case NOTICE_REQUEST:
		if (!ticket_id_is_valid(nt.id))
			abort();
		break;
	case NOTICE_VENDOR:
		if (!name_is_valid(nt.id))
			abort();
		break;
	case NOTICE_LOCKOUT:
		if (nt.until <= 0 || nt.id[0] == '\0' ||
		    (strcmp(nt.scope, "source") != 0 && strcmp(nt.scope, "person") != 0))
			abort();
		break;
	case NOTICE_KILL:
		if (strlen(nt.id) > GW_ID_MAX || control_selector_name(nt.by) == NULL ||
		    (strcmp(nt.gateway, "*") != 0 && !ticket_id_is_valid(nt.gateway)))
			abort();
		break;
	case NOTICE_REVOCATION:
		break;
	}
	return 0;
}
