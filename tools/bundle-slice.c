/* bundle-slice.c: the audit log's lines of a bundle's period, and their check. A line that does
 * not positively concern the bundle's vendor (or the gateway itself) is written as its SHA-256
 * only: the chain's prev links still verify across it, and nothing of another vendor shows.
 * A report reads the same selection of lines without writing them. */
#include "tools/bundle.h"

#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"

#define SLICE_LINE_MAX (1024 * 1024) /* an audit line longer than this is not the gateway's */

/* The period's lines as read, before deciding which to disclose. */
struct slice {
	char **lines;
	size_t nlines;
	json_t **events; /* parsed; NULL for a line that is not JSON */
	bool *shown;     /* the line is disclosed, not written as its hash */
	json_t *mine;  /* session ids of the vendor's (and target's) sessions: an object as a set */
	json_t *other; /* session ids seen on another target than the one asked for */
};

/* The person or login name "vendor.person[+target]" belongs to vendor (NULL: to any). */
static bool
slice_name_of_vendor(const char *name, const char *vendor)
{
	size_t n;

	if (vendor == NULL || name == NULL)
		return name != NULL;
	n = strlen(vendor);
	return strncmp(name, vendor, n) == 0 && name[n] == '.';
}

/* The event concerns vendor; every event concerns "every vendor" (NULL). */
static bool
slice_is_vendors(const json_t *ev, const char *vendor)
{
	const char *v = json_string_value(json_object_get(ev, "vendor"));

	if (vendor == NULL)
		return true;
	if (v != NULL)
		return strcmp(v, vendor) == 0;
	return slice_name_of_vendor(json_string_value(json_object_get(ev, "person")), vendor) ||
	    slice_name_of_vendor(json_string_value(json_object_get(ev, "user")), vendor);
}

static bool
slice_target_ok(const json_t *ev, const char *target)
{
	const char *t = json_string_value(json_object_get(ev, "target"));

	return target == NULL || t == NULL || strcmp(t, target) == 0;
}

/* First pass: which sessions are the vendor's, and which ran on another target. */
static void
slice_sessions(struct slice *s, const struct bundle_spec *spec)
{
	const char *sid;
	size_t i;

	for (i = 0; i < s->nlines; i++) {
		if ((sid = json_string_value(json_object_get(s->events[i], "session"))) == NULL)
			continue;
		if (slice_is_vendors(s->events[i], spec->vendor))
			json_object_set_new(s->mine, sid, json_true());
		if (!slice_target_ok(s->events[i], spec->target))
			json_object_set_new(s->other, sid, json_true());
	}
}

static bool
slice_session_selected(const struct slice *s, const char *sid)
{
	return json_object_get(s->mine, sid) != NULL && json_object_get(s->other, sid) == NULL;
}

/* Disclosed: a line of a selected session, the vendor's own line of the target, an owner's
 * action on the vendor, its person or one of its sessions, or the gateway's start and reloads.
 * With neither vendor nor target (a report of the whole gateway): every event. */
static bool
slice_discloses(const struct slice *s, const json_t *ev, const struct bundle_spec *spec)
{
	const char *sid = json_string_value(json_object_get(ev, "session"));
	const char *event = json_string_value(json_object_get(ev, "event"));
	const char *by = json_string_value(json_object_get(ev, "by"));
	const char *name = json_string_value(json_object_get(ev, "name"));

	if (ev == NULL || event == NULL)
		return false;
	if (spec->vendor == NULL && spec->target == NULL)
		return true;
	if (sid != NULL)
		return slice_session_selected(s, sid);
	if (strcmp(event, "control") == 0 && by != NULL && name != NULL)
		return (strcmp(by, "vendor") == 0 &&
		           (spec->vendor == NULL || strcmp(name, spec->vendor) == 0)) ||
		    (strcmp(by, "person") == 0 && slice_name_of_vendor(name, spec->vendor)) ||
		    (strcmp(by, "session") == 0 && slice_session_selected(s, name));
	if (json_object_get(ev, "vendor") != NULL || json_object_get(ev, "person") != NULL ||
	    json_object_get(ev, "user") != NULL)
		return slice_is_vendors(ev, spec->vendor) && slice_target_ok(ev, spec->target);
	return strcmp(event, "gateway_start") == 0 || strcmp(event, "config_reload") == 0;
}

static void
slice_free(struct slice *s)
{
	size_t i;

	for (i = 0; i < s->nlines; i++) {
		free(s->lines[i]);
		json_decref(s->events[i]);
	}
	free(s->lines);
	free(s->events);
	free(s->shown);
	json_decref(s->mine);
	json_decref(s->other);
}

/* Reads the lines of [from, to): from the first written at or after from up to the last before
 * to; before gets the SHA-256 of the line before them (zeros at the log's start). */
static int
slice_read(const char *audit_log, const struct bundle_spec *spec, struct slice *s,
    unsigned char before[SEAL_HASH_LEN], long *first)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	long n = 0;
	json_t *ev;
	time_t ts;
	FILE *f;

	memset(before, 0, SEAL_HASH_LEN);
	*first = 0;
	if ((f = fopen(audit_log, "re")) == NULL) {
		fprintf(stderr, "gatewayctl: %s: %m\n", audit_log);
		return -1;
	}
	while ((len = getline(&line, &cap, f)) > 0 && line[len - 1] == '\n') {
		line[--len] = '\0';
		n++;
		ev = len <= SLICE_LINE_MAX ? json_loadb(line, (size_t)len, 0, NULL) : NULL;
		ts = bundle_parse_ts(bundle_str(ev, "ts"));
		if (s->nlines == 0 && (ts == -1 || ts < spec->from)) {
			seal_digest(line, (size_t)len, before);
			json_decref(ev);
			continue;
		}
		if (ts != -1 && ts >= spec->to) {
			json_decref(ev);
			break;
		}
		if (s->nlines == 0)
			*first = n;
		s->lines = xreallocarray(s->lines, s->nlines + 1, sizeof(*s->lines));
		s->events = xreallocarray(s->events, s->nlines + 1, sizeof(*s->events));
		s->shown = xreallocarray(s->shown, s->nlines + 1, sizeof(*s->shown));
		s->lines[s->nlines] = xstrdup(line);
		s->events[s->nlines++] = ev;
	}
	free(line);
	fclose(f);
	return 0;
}

/* The period's lines, each marked shown or not; the events of those shown into b->events. */
static int
slice_select(const char *audit_log, struct bundle *b, struct slice *s,
    unsigned char before[SEAL_HASH_LEN], long *first)
{
	size_t i;

	if (slice_read(audit_log, b->spec, s, before, first) != 0)
		return -1;
	slice_sessions(s, b->spec);
	for (i = 0; i < s->nlines; i++)
		if ((s->shown[i] = slice_discloses(s, s->events[i], b->spec)))
			json_array_append(b->events, s->events[i]);
	return 0;
}

int
bundle_events_read(const char *audit_log, struct bundle *b)
{
	struct slice s = { .mine = json_object(), .other = json_object() };
	unsigned char before[SEAL_HASH_LEN];
	long first;
	int rc = slice_select(audit_log, b, &s, before, &first);

	slice_free(&s);
	return rc;
}

int
bundle_slice_write(const char *audit_log, struct bundle *b, json_t *info)
{
	struct slice s = { .mine = json_object(), .other = json_object() };
	unsigned char before[SEAL_HASH_LEN], digest[SEAL_HASH_LEN];
	char hex[SEAL_HEX_LEN];
	long first, redacted = 0;
	size_t i;
	FILE *out;

	if (slice_select(audit_log, b, &s, before, &first) != 0) {
		slice_free(&s);
		return -1;
	}
	if ((out = bundle_out_open(b->out, BUNDLE_AUDIT)) == NULL) {
		slice_free(&s);
		return -1;
	}
	for (i = 0; i < s.nlines; i++) {
		if (s.shown[i]) {
			fprintf(out, "%s\n", s.lines[i]);
			continue;
		}
		seal_digest(s.lines[i], strlen(s.lines[i]), digest);
		seal_hex(digest, SEAL_HASH_LEN, hex);
		fprintf(out, "{\"redacted\":\"%s\"}\n", hex);
		redacted++;
	}
	seal_hex(before, SEAL_HASH_LEN, hex);
	json_object_set_new(info, "audit",
	    json_pack("{s:s, s:I, s:I, s:I, s:s}", "log", audit_log, "first_line",
	        (json_int_t)first, "lines", (json_int_t)s.nlines, "redacted", (json_int_t)redacted,
	        "before", hex));
	slice_free(&s);
	return bundle_out_close(b->out, out);
}

/* A redacted line: exactly {"redacted":"<64 hex>"}; its digest in out. */
static bool
slice_redacted(const char *line, size_t len, unsigned char out[SEAL_HASH_LEN])
{
	static const char head[] = "{\"redacted\":\"";
	char hex[SEAL_HEX_LEN];

	if (len != sizeof(head) - 1 + SEAL_HEX_LEN - 1 + 2 ||
	    strncmp(line, head, sizeof(head) - 1) != 0 || strcmp(line + len - 2, "\"}") != 0)
		return false;
	memcpy(hex, line + sizeof(head) - 1, SEAL_HEX_LEN - 1);
	hex[SEAL_HEX_LEN - 1] = '\0';
	return seal_unhex(hex, out) == 0;
}

int
bundle_slice_verify(const char *dir, const json_t *info, const struct sealkey *key)
{
	const json_t *audit = json_object_get(info, "audit");
	const char *before = bundle_str(audit, "before");
	long first = (long)json_integer_value(json_object_get(audit, "first_line"));
	long want = (long)json_integer_value(json_object_get(audit, "lines"));
	unsigned char prev[SEAL_HASH_LEN];
	char *path, *line = NULL, text[256];
	long n = 0, hidden = 0;
	size_t cap = 0;
	ssize_t len;
	struct verdict v;
	int rc = -1;
	FILE *f;

	xasprintf(&path, "%s/" BUNDLE_AUDIT, dir);
	if (seal_unhex(before, prev) != 0) {
		printf("%s: " BUNDLE_INFO " does not say what the first line follows\n", path);
		free(path);
		return -1;
	}
	if ((f = fopen(path, "re")) == NULL) {
		printf("%s: %m\n", path);
		free(path);
		return -1;
	}
	while ((len = getline(&line, &cap, f)) > 0) {
		if (line[len - 1] != '\n') {
			printf("%s: line %ld is cut off\n", path, n + 1);
			goto out;
		}
		line[--len] = '\0';
		n++;
		if (slice_redacted(line, (size_t)len, prev)) {
			hidden++;
			continue;
		}
		if (verify_audit_line(first + n - 1, line, (size_t)len, prev, key, &v) != 0) {
			verdict_format(&v, text, sizeof(text));
			printf("%s: line %ld: %s\n", path, n, text);
			goto out;
		}
		seal_digest(line, (size_t)len, prev);
	}
	if (n != want) {
		printf("%s: %ld lines, " BUNDLE_INFO " says %ld\n", path, n, want);
		goto out;
	}
	printf("%s: intact (%ld lines from line %ld of the log, %ld of them other vendors' as "
	       "their SHA-256)\n",
	    path, n, first, hidden);
	rc = 0;
out:
	free(line);
	fclose(f);
	free(path);
	return rc;
}
