/* fuzz_guard.c: libFuzzer harness for a session process's lockout requests as the listener
 * answers them (guard_answer, gatewayd/guard.c): one message from a link. Checks that no
 * request counts against any source but the one recorded at accept, and that each request
 * that wants an answer gets one. */
#include "tests/fuzz/fuzz.h"

#include <jansson.h>

#include "gatewayd/guard.h"
#include "gatewayd/registry_msg.h"

#define FUZZ_PID 100

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct gw_lockout l = { .failures = 1,
		.person_failures = 1,
		.window = 60,
		.duration = 100,
		.delay_ms = 10,
		.max_delay_ms = 40 };
	struct gw_config cfg;
	struct guard *g;
	json_t *msg, *answer;
	const char *type;
	bool wants;

	if ((msg = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL)) == NULL)
		return 0;
	if (!json_is_object(msg)) {
		json_decref(msg);
		return 0;
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.lockout = l;
	cfg.max_startups = (struct gw_startups){ .start = 10, .rate = 30, .full = 100 };
	g = guard_new();
	if (guard_admit(g, &cfg, "192.0.2.1", 22, 1000) != GUARD_ADMIT)
		abort();
	guard_forked(g, FUZZ_PID);
	type = registry_msg_type(msg);
	wants = strcmp(type, "guard_locked") == 0 || strcmp(type, "guard_failure") == 0 ||
	    strcmp(type, "guard_authenticated") == 0;
	answer = guard_answer(g, &cfg, FUZZ_PID, msg);
	if (wants != (answer != NULL))
		abort();
	if (answer != NULL && strcmp(registry_msg_type(answer), type) != 0)
		abort();
	/* Whatever it named, only its own source can have been counted. */
	if (guard_locked(g, "192.0.2.2", "", time(NULL)) ||
	    guard_locked(g, "10.0.0.1", "", time(NULL)))
		abort();
	json_decref(answer);
	json_decref(msg);
	guard_free(g);
	return 0;
}
