/* fuzz_audit.c: libFuzzer harness for the fields of audit events (audit.c), the one way every
 * event is built: arbitrary bytes as every kind of string value of audit_pack() and through
 * audit_set_text(), then the event written and read back. Checks that each field it was given
 * is present, as the same text when the bytes were UTF-8, and otherwise with a "_base64" twin
 * that decodes to exactly those bytes; an event is never built without a field. */
#include "tests/fuzz/fuzz.h"

#include <jansson.h>

#include "evidence/seal.h"
#include "gatewayd/audit.h"

#define FUZZ_AUDIT_FIELDS 6

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sealkey *fuzz_key;

/* Whether obj holds the len bytes at s under name, as audit.h promises. */
static void
fuzz_check_field(const json_t *obj, const char *name, const char *s, size_t len)
{
	const json_t *text = json_object_get(obj, name), *twin;
	/* Text is valid UTF-8 without NUL (audit.h). */
	json_t *plain = memchr(s, 0, len) == NULL ? json_stringn(s, len) : NULL;
	char twin_name[64];
	unsigned char *raw = NULL;
	size_t rawlen;

	if (!json_is_string(text))
		abort(); /* the field is never lost */
	snprintf(twin_name, sizeof(twin_name), "%s_base64", name);
	twin = json_object_get(obj, twin_name);
	if (plain != NULL) { /* valid UTF-8: the text itself, no twin */
		if (!json_equal(plain, text) || twin != NULL)
			abort();
		json_decref(plain);
		return;
	}
	if (!json_is_string(twin) ||
	    base64_decode(json_string_value(twin), json_string_length(twin), &raw, &rawlen) != 0 ||
	    rawlen != len || memcmp(raw, s, len) != 0)
		abort();
	free(raw);
}

/* The event as written to the log, parsed back. */
static json_t *
fuzz_write_and_read(json_t *fields)
{
	static const char *path;
	struct audit *a;
	char *line = NULL;
	size_t n;
	json_t *ev;

	if (path == NULL)
		path = fuzz_file("audit.log", (const uint8_t *)"", 0);
	unlink(path);
	if ((a = audit_open(path, fuzz_key)) == NULL || audit_event(a, "fuzz", fields) != 0)
		abort();
	audit_close(a);
	if (file_read_bounded(path, 1 << 24, &line, &n) != 0 ||
	    (ev = json_loads(line, 0, NULL)) == NULL)
		abort();
	free(line);
	return ev;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[FUZZ_AUDIT_FIELDS] = { "user", "command", "subsystem",
		"reason", "cert_key_id", "path" };
	const char *v[FUZZ_AUDIT_FIELDS];
	size_t len[FUZZ_AUDIT_FIELDS], i, at = 0, n;
	char *buf = fuzz_string(data, size), *c[FUZZ_AUDIT_FIELDS];
	const char *key_path;
	json_t *obj, *ev;

	if (fuzz_key == NULL) {
		/* Registered with fuzz.h for removal, then made by the seal module itself. */
		unlink(fuzz_file("key.pub", (const uint8_t *)"", 0));
		key_path = fuzz_file("key", (const uint8_t *)"", 0);
		unlink(key_path);
		if ((fuzz_key = sealkey_load_or_create(key_path)) == NULL)
			abort();
	}
	/* Fields split at 0x00 bytes (a string in C ends there); the last takes the rest, NULs
	 * included, as "s%" does. */
	for (i = 0; i < FUZZ_AUDIT_FIELDS; i++) {
		v[i] = buf + at;
		n = i + 1 < FUZZ_AUDIT_FIELDS ? strnlen(buf + at, size - at) : size - at;
		len[i] = n;
		at += at + n < size ? n + 1 : n;
	}
	for (i = 0; i < FUZZ_AUDIT_FIELDS - 1; i++)
		c[i] = xstrndup(v[i], len[i]); /* one allocation each: ASan sees overreads */
	obj = audit_pack("{s:s, s:s, s:s?, s:s, s:s, s:s%, s:i, s:I, s:b}", names[0], c[0],
	    names[1], c[1], names[2], c[2], names[3], c[3], names[4], c[4], names[5], v[5], len[5],
	    "attempt", (int)size, "bytes", (json_int_t)size, "allow", size & 1);
	if (obj == NULL)
		abort(); /* a valid format never fails */
	for (i = 0; i < FUZZ_AUDIT_FIELDS; i++)
		fuzz_check_field(obj, names[i], i + 1 < FUZZ_AUDIT_FIELDS ? c[i] : v[i], len[i]);
	ev = fuzz_write_and_read(obj);
	for (i = 0; i < FUZZ_AUDIT_FIELDS; i++)
		fuzz_check_field(ev, names[i], i + 1 < FUZZ_AUDIT_FIELDS ? c[i] : v[i], len[i]);
	if (json_integer_value(json_object_get(ev, "bytes")) != (json_int_t)size)
		abort();
	json_decref(ev);
	for (i = 0; i < FUZZ_AUDIT_FIELDS - 1; i++)
		free(c[i]);
	free(buf);
	return 0;
}
