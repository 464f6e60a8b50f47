/* fuzz_control.c: libFuzzer harness for the owners' control-socket requests
 * (control_parse_request, gatewayd/controlproto.c): one line from a local client. Checks that
 * an accepted request names a valid operation and a name of the kind its selector says. */
#include "tests/fuzz/fuzz.h"

#include "gatewayd/control.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct control_request r;
	char err[256];

	memset(&r, 0, sizeof(r));
	err[0] = '\0';
	if (control_parse_request((const char *)data, size, &r, err, sizeof(err)) != 0) {
		if (err[0] == '\0')
			abort(); /* every refusal says why */
		return 0;
	}
	if (size > CONTROL_REQUEST_MAX || control_op_name(r.op) == NULL ||
	    control_selector_name(r.by) == NULL || memchr(r.name, '\0', sizeof(r.name)) == NULL)
		abort();
	if (memchr(r.reason, '\0', sizeof(r.reason)) == NULL ||
	    (r.reason[0] != '\0' && r.op != CONTROL_KILL))
		abort();
	if ((r.by == CONTROL_BY_SESSION &&
	        !(r.op == CONTROL_KILL ? control_session_prefix_is_valid(r.name)
	                               : control_session_id_is_valid(r.name))) ||
	    ((r.by == CONTROL_BY_VENDOR || r.by == CONTROL_BY_PERSON) && !name_is_valid(r.name)) ||
	    (r.by == CONTROL_BY_TICKET && !ticket_id_is_valid(r.name)) ||
	    (r.by == CONTROL_BY_NONE && r.name[0] != '\0'))
		abort();
	return 0;
}
