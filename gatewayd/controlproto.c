/* controlproto.c: the control socket's request syntax, parsed from untrusted bytes.
 * Pure (no I/O, no state) so it can be fuzzed; never accepts a request it cannot name
 * exactly (unknown keys, duplicate keys, NULs and over-long names are refused). */
#include "gatewayd/control.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "gatewayd/gatewayd.h"

static const struct {
	const char *name;
	enum control_op op;
	bool needs_selector;        /* kill: one of session, vendor, person */
	enum control_selector only; /* the one selector allowed, or CONTROL_BY_NONE */
} control_ops[] = {
	{ "sessions", CONTROL_SESSIONS, false, CONTROL_BY_NONE },
	{ "kill", CONTROL_KILL, true, CONTROL_BY_NONE },
	{ "vendor_disable", CONTROL_VENDOR_DISABLE, true, CONTROL_BY_VENDOR },
	{ "vendor_enable", CONTROL_VENDOR_ENABLE, true, CONTROL_BY_VENDOR },
	{ "watch", CONTROL_WATCH, true, CONTROL_BY_SESSION },
	{ "reload", CONTROL_RELOAD, false, CONTROL_BY_NONE },
	{ "vendors", CONTROL_VENDORS, false, CONTROL_BY_NONE },
};
#define CONTROL_NOPS (sizeof(control_ops) / sizeof(control_ops[0]))

static const char *const control_selectors[] = { [CONTROL_BY_NONE] = "",
	[CONTROL_BY_SESSION] = "session",
	[CONTROL_BY_VENDOR] = "vendor",
	[CONTROL_BY_PERSON] = "person",
	[CONTROL_BY_TICKET] = "ticket" };

const char *
control_op_name(enum control_op op)
{
	size_t i;

	for (i = 0; i < CONTROL_NOPS; i++)
		if (control_ops[i].op == op)
			return control_ops[i].name;
	return "?";
}

const char *
control_selector_name(enum control_selector by)
{
	return by <= CONTROL_BY_TICKET ? control_selectors[by] : "?";
}

bool
control_session_prefix_is_valid(const char *s)
{
	size_t i, n = strnlen(s, SESSION_ID_LEN + 1);

	if (n == 0 || n > SESSION_ID_LEN)
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

bool
control_session_id_is_valid(const char *s)
{
	return strnlen(s, SESSION_ID_LEN + 1) == SESSION_ID_LEN &&
	    control_session_prefix_is_valid(s);
}

static int __attribute__((format(printf, 3, 4)))
control_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

bool
control_selector_from_name(const char *name, enum control_selector *by)
{
	enum control_selector b;

	for (b = CONTROL_BY_SESSION; b <= CONTROL_BY_TICKET; b++)
		if (strcmp(name, control_selectors[b]) == 0) {
			*by = b;
			return true;
		}
	return false;
}

/* Tickets are named by ticket ids, which may hold upper case. */
bool
control_name_is_valid(enum control_selector by, const char *v, bool session_prefix)
{
	switch (by) {
	case CONTROL_BY_SESSION:
		return session_prefix ? control_session_prefix_is_valid(v)
		                      : control_session_id_is_valid(v);
	case CONTROL_BY_TICKET:
		return ticket_id_is_valid(v);
	default:
		return name_is_valid(v);
	}
}

/* The selector member of o, checked against what the op allows. */
static int
control_parse_selector(json_t *o, size_t op, struct control_request *out, char *err, size_t errlen)
{
	enum control_selector by, found = CONTROL_BY_NONE;
	const char *v = NULL;
	json_t *m;

	for (by = CONTROL_BY_SESSION; by <= CONTROL_BY_TICKET; by++) {
		if ((m = json_object_get(o, control_selectors[by])) == NULL)
			continue;
		if (found != CONTROL_BY_NONE)
			return control_fail(
			    err, errlen, "name one of session, vendor, person, ticket");
		if (control_ops[op].only != CONTROL_BY_NONE && by != control_ops[op].only)
			return control_fail(err, errlen, "\"%s\" takes \"%s\", not \"%s\"",
			    control_ops[op].name, control_selectors[control_ops[op].only],
			    control_selectors[by]);
		if (!json_is_string(m))
			return control_fail(
			    err, errlen, "\"%s\" must be a string", control_selectors[by]);
		found = by;
		v = json_string_value(m);
		if (strlen(v) != json_string_length(m) || strlen(v) > GW_ID_MAX)
			return control_fail(
			    err, errlen, "\"%s\" is not a valid name", control_selectors[by]);
		/* A kill may name a session by a prefix of its id (the listener resolves it). */
		if (!control_name_is_valid(by, v, control_ops[op].op == CONTROL_KILL))
			return control_fail(
			    err, errlen, "\"%s\" is not a valid %s", v, control_selectors[by]);
	}
	if (found == CONTROL_BY_NONE && control_ops[op].needs_selector)
		return control_fail(err, errlen, "\"%s\" needs %s", control_ops[op].name,
		    control_ops[op].only != CONTROL_BY_NONE
		        ? control_selectors[control_ops[op].only]
		        : "one of session, vendor, person, ticket");
	out->by = found;
	if (v != NULL)
		snprintf(out->name, sizeof(out->name), "%s", v);
	return 0;
}

/* A kill's reason: the owner's words, shown to the vendor and kept in the evidence. */
static int
control_parse_reason(json_t *o, size_t op, struct control_request *out, char *err, size_t errlen)
{
	json_t *m = json_object_get(o, "reason");
	const char *v;
	size_t i;

	if (m == NULL)
		return 0;
	if (control_ops[op].op != CONTROL_KILL)
		return control_fail(err, errlen, "\"%s\" takes no reason", control_ops[op].name);
	if ((v = json_string_value(m)) == NULL || *v == '\0' ||
	    strlen(v) != json_string_length(m) || strlen(v) >= CONTROL_REASON_MAX)
		return control_fail(err, errlen, "\"reason\" must be a string of 1 to %d bytes",
		    CONTROL_REASON_MAX - 1);
	for (i = 0; v[i] != '\0'; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			return control_fail(
			    err, errlen, "\"reason\" must not contain control characters");
	snprintf(out->reason, sizeof(out->reason), "%s", v);
	return 0;
}

int
control_parse_request(
    const char *buf, size_t len, struct control_request *out, char *err, size_t errlen)
{
	json_error_t jerr;
	const char *key, *cmd;
	json_t *o, *v;
	size_t i, op = CONTROL_NOPS;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (len > 0 && buf[len - 1] == '\n')
		len--;
	if (len == 0)
		return control_fail(err, errlen, "empty request");
	if (len >= CONTROL_REQUEST_MAX)
		return control_fail(
		    err, errlen, "request longer than %d bytes", CONTROL_REQUEST_MAX - 1);
	if (memchr(buf, '\0', len) != NULL || memchr(buf, '\n', len) != NULL)
		return control_fail(err, errlen, "one request per line");
	if ((o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL)
		return control_fail(err, errlen, "not JSON: %s", jerr.text);
	if (!json_is_object(o)) {
		control_fail(err, errlen, "a request is a JSON object");
		goto out;
	}
	json_object_foreach (o, key, v) {
		if (strcmp(key, "cmd") != 0 && strcmp(key, "session") != 0 &&
		    strcmp(key, "vendor") != 0 && strcmp(key, "person") != 0 &&
		    strcmp(key, "ticket") != 0 && strcmp(key, "reason") != 0) {
			control_fail(err, errlen, "unknown key \"%.32s\"", key);
			goto out;
		}
	}
	if ((cmd = json_string_value(json_object_get(o, "cmd"))) == NULL) {
		control_fail(err, errlen, "\"cmd\" missing or not a string");
		goto out;
	}
	for (i = 0; i < CONTROL_NOPS; i++)
		if (strcmp(cmd, control_ops[i].name) == 0)
			op = i;
	if (op == CONTROL_NOPS) {
		control_fail(err, errlen, "unknown command \"%.32s\"", cmd);
		goto out;
	}
	out->op = control_ops[op].op;
	if (!control_ops[op].needs_selector && json_object_size(o) != 1) {
		control_fail(err, errlen, "\"%s\" takes no arguments", cmd);
		goto out;
	}
	if ((rc = control_parse_selector(o, op, out, err, errlen)) == 0)
		rc = control_parse_reason(o, op, out, err, errlen);
out:
	json_decref(o);
	if (rc != 0)
		memset(out, 0, sizeof(*out));
	return rc;
}
