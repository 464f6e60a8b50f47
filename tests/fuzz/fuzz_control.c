/* fuzz_control.c: libFuzzer harness for the control socket's request parser
 * (controlproto.c), the bytes a local client sends the listener. Checks that any input gives
 * either a refusal with a reason and nothing else, or a request naming a well-formed session
 * id, vendor or person, as the daemon relies on. Run with scripts/fuzz.sh control. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gatewayd/control.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct control_request r;
	char err[160];

	err[0] = '\0';
	if (control_parse_request((const char *)data, size, &r, err, sizeof(err)) != 0) {
		if (err[0] == '\0' || r.by != CONTROL_BY_NONE || r.name[0] != '\0')
			abort(); /* a refusal always says why and leaves nothing behind */
		return 0;
	}
	switch (r.by) {
	case CONTROL_BY_NONE:
		if (r.op != CONTROL_SESSIONS || r.name[0] != '\0')
			abort();
		break;
	case CONTROL_BY_SESSION:
		if (!control_session_id_is_valid(r.name))
			abort();
		break;
	case CONTROL_BY_VENDOR:
	case CONTROL_BY_PERSON:
		if (!name_is_valid(r.name) || strlen(r.name) > GW_ID_MAX)
			abort();
		break;
	}
	return 0;
}
