/* fuzz_window.c: libFuzzer harness for access windows: their syntax in the configuration
 * (config.c) and their evaluation across time zones and DST (window.c). Input: 8 bytes of
 * "now", then the text of a vendor's windows list. Checks that a contained instant ends
 * after now and no later than asked, and that a next opening lies ahead and is contained. */
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_TIME_MAX 4102444800LL /* 2100-01-01: beyond any plant's policy */
#define FUZZ_DAY      86400

static const char fuzz_config_text[] =
    "listen = ( { address = \"127.0.0.1\"; port = 2222; } );\n"
    "host_keys = [ \"/nonexistent/hostkey\" ];\n"
    "state_dir = \"/nonexistent\"; recording_dir = \"/nonexistent\";\n"
    "audit_log = \"/nonexistent/audit.log\";\n"
    "vendors = ( { id = \"acme\"; persons = ( { id = \"acme.alice\"; } );\n"
    "  windows = (\n%.*s\n); } );\n";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct gw_window_set *levels[1];
	const struct gw_window *w = NULL;
	struct gw_config *cfg = NULL;
	char *text, *errors = NULL, buf[128];
	time_t now, ends = 0, next, limit, horizon;
	uint64_t raw = 0;
	int len;

	if (size < 8 || size > 4096 || memchr(data, '\0', size) != NULL)
		return -1;
	memcpy(&raw, data, 8);
	now = (time_t)(raw % (uint64_t)FUZZ_TIME_MAX);
	len = xasprintf(&text, fuzz_config_text, (int)(size - 8), (const char *)data + 8);
	if (config_load(fuzz_file("gatewayd.conf", (const uint8_t *)text, (size_t)len), &cfg,
	        &errors) != 0) {
		free(text);
		free(errors);
		return 0;
	}
	levels[0] = &cfg->vendors[0].windows;
	limit = now + 30 * FUZZ_DAY;
	if (window_levels_contain(levels, 1, now, limit, &ends) && (ends <= now || ends > limit))
		abort();
	horizon = now + 14 * FUZZ_DAY;
	if ((next = window_levels_next_open(levels, 1, now, horizon, &w)) != 0) {
		if (next <= now || next > horizon || w == NULL ||
		    !window_levels_contain(levels, 1, next, next + FUZZ_DAY, &ends))
			abort();
		window_format_open(w, next, now, buf, sizeof(buf));
		if (buf[0] == '\0')
			abort();
	}
	free(text);
	config_free(cfg);
	return 0;
}
