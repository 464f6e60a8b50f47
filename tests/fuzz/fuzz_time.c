/* fuzz_time.c: libFuzzer harness for the UTC time syntax of config and tickets
 * (timefmt.c). Checks that an accepted time formats back to text that parses to the
 * same instant, so what the audit log prints is what the ticket said. */
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_string(data, size), buf[GW_TIME_UTC_LEN];
	time_t t, back;

	if (time_parse_utc(s, &t) == 0) {
		time_format_utc(t, buf);
		if (strcmp(buf, "(out of range)") != 0 &&
		    (time_parse_utc(buf, &back) != 0 || back != t))
			abort();
	}
	free(s);
	return 0;
}
