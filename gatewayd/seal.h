/* seal.h: what makes evidence tamper-evident: UTC timestamps, SHA-256 hash chains and
 * the gateway's Ed25519 recording key. The private key never leaves the process. */
#ifndef GW_SEAL_H
#define GW_SEAL_H

#include <stddef.h>
#include <time.h>

#define SEAL_TIME_LEN 32 /* "2026-11-23T14:28:43.123Z" and its NUL, with room */

/* Formats ts (CLOCK_REALTIME) as RFC 3339 UTC with milliseconds. */
void seal_format_time(char out[SEAL_TIME_LEN], const struct timespec *ts);
/* The same for now. */
void seal_format_now(char out[SEAL_TIME_LEN]);

#endif
