/* store_notice.c: parses the notifications of other gateways (store_notice.h). They come from
 * the database: bounded, every field checked before the listener acts on it. */
#include "gatewayd/store_notice.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The next space-separated word of *p (advanced past it and one space) into out; false when
 * there is none or it does not fit. */
static bool
notice_word(const char **p, const char *end, char *out, size_t outlen)
{
	const char *sp = memchr(*p, ' ', (size_t)(end - *p));
	size_t n = (sp ? sp : end) - *p;

	if (n == 0 || n >= outlen)
		return false;
	memcpy(out, *p, n);
	out[n] = '\0';
	*p += n + (sp != NULL);
	return true;
}

/* Printable ASCII without spaces: a lockout's key (an address, a prefix, a person id). */
static bool
notice_key_is_valid(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if (*s <= ' ' || *s > '~')
			return false;
	return true;
}

/* Printable text, no control characters: what a vendor may be told. */
static bool
notice_text_is_valid(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < ' ' || *s == 0x7f)
			return false;
	return true;
}

static bool
notice_string(json_t *o, const char *key, char *out, size_t outlen)
{
	const char *v = json_string_value(json_object_get(o, key));

	if (v == NULL || strlen(v) >= outlen || !notice_text_is_valid(v))
		return false;
	snprintf(out, outlen, "%s", v);
	return true;
}

static int
notice_kill(const char *p, const char *end, struct store_notice *out)
{
	char by[16];
	json_t *o;
	int rc = -1;

	if (!notice_word(&p, end, out->gateway, sizeof(out->gateway)) ||
	    (strcmp(out->gateway, "*") != 0 && !ticket_id_is_valid(out->gateway)) ||
	    (o = json_loadb(p, (size_t)(end - p), JSON_REJECT_DUPLICATES, NULL)) == NULL)
		return -1;
	/* The name of the kind the selector says, as a control request's: a whole session id. */
	if (notice_string(o, "by", by, sizeof(by)) &&
	    notice_string(o, "name", out->id, GW_ID_MAX + 1) &&
	    notice_string(o, "message", out->message, sizeof(out->message)) &&
	    notice_string(o, "reason", out->reason, sizeof(out->reason)) &&
	    control_selector_from_name(by, &out->by) &&
	    control_name_is_valid(out->by, out->id, false))
		rc = 0;
	json_decref(o);
	return rc;
}

int
store_notice_parse(const char *payload, size_t len, struct store_notice *out)
{
	const char *p = payload, *end = payload + len;
	char kind[16], word[24], *stop;

	memset(out, 0, sizeof(*out));
	if (len > STORE_NOTICE_MAX || memchr(payload, '\0', len) != NULL ||
	    !notice_word(&p, end, kind, sizeof(kind)) ||
	    !notice_word(&p, end, out->origin, sizeof(out->origin)) ||
	    !ticket_id_is_valid(out->origin))
		return -1;
	if (strcmp(kind, "ticket") == 0 || strcmp(kind, "request") == 0) {
		out->kind = kind[0] == 't' ? NOTICE_TICKET : NOTICE_REQUEST;
		return notice_word(&p, end, out->id, GW_ID_MAX + 1) && p == end &&
		        ticket_id_is_valid(out->id)
		    ? 0
		    : -1;
	}
	if (strcmp(kind, "revocation") == 0) {
		out->kind = NOTICE_REVOCATION;
		return 0;
	}
	if (strcmp(kind, "vendor") == 0) {
		out->kind = NOTICE_VENDOR;
		if (!notice_word(&p, end, word, sizeof(word)) ||
		    (strcmp(word, "0") != 0 && strcmp(word, "1") != 0))
			return -1;
		out->disabled = word[0] == '1';
		/* A vendor id, as the configuration admits it: a name without '.'. */
		return notice_word(&p, end, out->id, GW_ID_MAX + 1) && p == end &&
		        name_is_valid(out->id) && strchr(out->id, '.') == NULL
		    ? 0
		    : -1;
	}
	if (strcmp(kind, "lockout") == 0) {
		long long until;

		out->kind = NOTICE_LOCKOUT;
		if (!notice_word(&p, end, out->scope, sizeof(out->scope)) ||
		    (strcmp(out->scope, "source") != 0 && strcmp(out->scope, "person") != 0) ||
		    !notice_word(&p, end, word, sizeof(word)))
			return -1;
		until = strtoll(word, &stop, 10);
		if (*stop != '\0' || until <= 0)
			return -1;
		out->until = (time_t)until;
		return notice_word(&p, end, out->id, sizeof(out->id)) && p == end &&
		        notice_key_is_valid(out->id)
		    ? 0
		    : -1;
	}
	if (strcmp(kind, "kill") == 0) {
		out->kind = NOTICE_KILL;
		return notice_kill(p, end, out);
	}
	return -1;
}
