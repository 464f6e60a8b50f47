/* audit.h: the audit log (R10): one JSON object per line, UTC timestamps, naming the
 * person. Shared by many session processes; each append is whole and ordered. */
#ifndef GW_AUDIT_H
#define GW_AUDIT_H

#include <jansson.h>

struct sealkey;

/* Opens (creating 0600) the log for appending; also logs to syslog. key (gatewayd/seal.h,
 * loaded once before fork) signs every line and must outlive the log. NULL + errno on
 * error. */
struct audit *audit_open(const char *path, const struct sealkey *key);
void audit_close(struct audit *a);

/* Appends {"ts": "...Z", "event": EVENT, ...fields, "prev": hash of the line before,
 * "sig": signature}. Steals the reference to
 * fields (may be NULL). Returns 0, or -1 when the event could not be written:
 * callers refuse or end sessions then (fail closed). */
int audit_event(struct audit *a, const char *event, json_t *fields);

/* One event by a writer that keeps no log open (the listener, gatewayctl): opens path,
 * appends, closes. Steals fields; returns 0, or -1 with errno. */
int audit_event_once(
    const char *path, const struct sealkey *key, const char *event, json_t *fields);

#endif
