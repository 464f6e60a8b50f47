/* audit.h: the audit log (R10): one JSON object per line, UTC timestamps, naming the
 * person. In gatewayd only the listener appends (notary.h); gatewayctl may too: each append is
 * whole and ordered. */
#ifndef GW_AUDIT_H
#define GW_AUDIT_H

#include <stddef.h>

#include <jansson.h>

struct sealkey;

/* Opens (creating 0600) the log for appending, write-only; also logs to syslog. key
 * (evidence/seal.h) signs every line and must outlive the log. NULL + errno on error. */
struct audit *audit_open(const char *path, const struct sealkey *key);
void audit_close(struct audit *a);
/* The path the log was opened with. */
const char *audit_path(const struct audit *a);
/* The line the last successful audit_event() appended, without its newline; NULL before the
 * first. Valid until the next audit_event() or audit_close(). */
const char *audit_last_line(const struct audit *a);

/* Appends {"ts": "...Z", "event": EVENT, ...fields, "prev": hash of the line before,
 * "sig": signature}. Steals the reference to
 * fields (may be NULL). Returns 0, or -1 when the event could not be written:
 * callers refuse or end sessions then (fail closed). */
int audit_event(struct audit *a, const char *event, json_t *fields);

/* One event by a writer that keeps no log open (the listener, gatewayctl): opens path,
 * appends, closes. Steals fields; returns 0, or -1 with errno. */
int audit_event_once(
    const char *path, const struct sealkey *key, const char *event, json_t *fields);

/* ---- building the fields of an event ----
 *
 * Every string an event carries goes in through audit_set_text(), because most of them come
 * from the vendor or the target (user names, commands, subsystem names, certificate key ids,
 * PAM and target messages) and jansson refuses a string that is not UTF-8 (json_pack() then
 * returns NULL and the event would lose every field). A valid UTF-8 string without NUL becomes
 * the field as it is. Any other byte string becomes two fields: NAME, the text with each byte
 * that is NUL or not part of valid UTF-8 written as "\xHH" (readable, but ambiguous: a vendor
 * can type "\xff"), and NAME_base64, the exact bytes (standard base64), which is what counts.
 *
 * audit_pack() is json_pack() for events and the way to write a call site: replace
 * json_pack( with audit_pack( and keep the format. Formats: "{", "}", keys "s"; values "s"
 * (string), "s?" (string or NULL: the field is left out), "s%" (const char *, size_t: bytes
 * that may hold NUL), "i" (int), "I" (json_int_t), "b" (int, as true/false), "o" (json_t *,
 * stolen), "O" (json_t *, shared); spaces, "," and ":" are ignored. It returns NULL only for a
 * format it does not know or out of memory: an event that cannot be built is never written
 * hollow, session_audit() and the listener refuse instead (fail closed). */

/* Sets obj[name] from len bytes at s (see above); 0, or -1 when obj is not an object. */
int audit_set_text(json_t *obj, const char *name, const char *s, size_t len);
/* A new object of event fields, as json_pack(fmt, ...) with every string through
 * audit_set_text(); NULL on a bad format or out of memory. */
json_t *audit_pack(const char *fmt, ...);

#endif
