/* timefmt.c: the single UTC time syntax shared by the config and tickets.
 * Pure calendar arithmetic; never consults the local time zone. */
#include "policy/policy.h"

#include <stdio.h>
#include <string.h>

int
time_parse_utc(const char *s, time_t *out)
{
	struct tm tm, want, back;
	const char *end;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (end == NULL || *end != '\0') {
		memset(&tm, 0, sizeof(tm));
		end = strptime(s, "%Y-%m-%d", &tm);
		if (end == NULL || *end != '\0')
			return -1;
	}
	want = tm;
	t = timegm(&tm);
	/* timegm() normalises 2027-02-30 into March; a date that moved was not a date. */
	if (gmtime_r(&t, &back) == NULL || back.tm_mday != want.tm_mday ||
	    back.tm_mon != want.tm_mon || back.tm_hour != want.tm_hour ||
	    back.tm_min != want.tm_min || back.tm_sec != want.tm_sec)
		return -1;
	*out = t;
	return 0;
}

void
time_format_utc(time_t t, char buf[GW_TIME_UTC_LEN])
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || tm.tm_year + 1900 > 9999 || tm.tm_year + 1900 < 0 ||
	    strftime(buf, GW_TIME_UTC_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, GW_TIME_UTC_LEN, "%s", "(out of range)");
}
