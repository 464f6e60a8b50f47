/* seal.c: timestamps, hash chains and the recording key shared by recordings and the
 * audit log. Never writes key material anywhere but the key file it creates. */
#include "gatewayd/seal.h"

#include <stdio.h>

void
seal_format_time(char out[SEAL_TIME_LEN], const struct timespec *ts)
{
	struct tm tm;
	size_t n;

	gmtime_r(&ts->tv_sec, &tm);
	n = strftime(out, SEAL_TIME_LEN, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, SEAL_TIME_LEN - n, ".%03dZ", (int)(ts->tv_nsec / 1000000L % 1000));
}

void
seal_format_now(char out[SEAL_TIME_LEN])
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	seal_format_time(out, &ts);
}
