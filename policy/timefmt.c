/* timefmt.c: the single UTC time syntax shared by the config and tickets.
 * Pure calendar arithmetic; never consults the local time zone. */
#include "policy/policy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
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

int
time_parse_duration(const char *s, long long *secs)
{
	char *end;
	long n;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	n = strtol(s, &end, 10);
	if (errno != 0 || n > 100000 || end[0] == '\0' || end[1] != '\0')
		return -1;
	switch (*end) {
	case 'm':
		*secs = n * 60LL;
		return 0;
	case 'h':
		*secs = n * 3600LL;
		return 0;
	case 'd':
		*secs = n * 86400LL;
		return 0;
	}
	return -1;
}

int
time_parse_when(const char *s, time_t now, time_t *out)
{
	long long secs;

	if (strcmp(s, "now") == 0) {
		*out = now;
		return 0;
	}
	if (s[0] != '+')
		return time_parse_utc(s, out);
	if (time_parse_duration(s + 1, &secs) != 0)
		return -1;
	*out = now + (time_t)secs;
	return 0;
}
