/* notary.c: owns the seal key and the audit appender of the listener, and the rule by which it
 * signs session processes' checkpoints. Never signs a checkpoint that rewinds or forks a chain
 * it signed before or that does not descend from the session's own header, and never lets a
 * session process pick the time or another session's name. */
#include "gatewayd/notary.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "gatewayd/audit.h"
#include "tools/bundle.h"

#define NOTARY_SESSION_ID_MAX 64
#define NOTARY_RECORDINGS_MAX 10000 /* recordings of one connection the notary keeps pages for */
#define NOTARY_STAMP_MAX      31

struct notary {
	struct sealkey *key;
	struct audit *log; /* opened on the first event; NULL until then or after a failure */
	notary_observer_fn observer;
	void *observer_arg;
};

/* What the notary signed last for one recording. */
struct notary_page {
	char *name;               /* "<session_id>.<channel>.cast" */
	unsigned long n;          /* records the last signature covered */
	char chain[SEAL_HEX_LEN]; /* the chain head it signed */
	bool sealed;              /* its last signature was the seal's */
};

struct notary_book {
	char session_id[NOTARY_SESSION_ID_MAX + 1];
	struct notary_page *pages;
	size_t npages;
};

struct notary *
notary_new(struct sealkey *key)
{
	struct notary *n;

	if (key == NULL)
		return NULL;
	n = xcalloc(1, sizeof(*n));
	n->key = key;
	return n;
}

void
notary_free(struct notary *n)
{
	if (n == NULL)
		return;
	audit_close(n->log);
	sealkey_free(n->key);
	free(n);
}

const char *
notary_key_id(const struct notary *n)
{
	return sealkey_id(n->key);
}

void
notary_set_observer(struct notary *n, notary_observer_fn fn, void *arg)
{
	n->observer = fn;
	n->observer_arg = arg;
}

int
notary_audit(struct notary *n, const char *path, const char *event, json_t *fields)
{
	int saved;

	if (n == NULL || path == NULL) {
		json_decref(fields);
		errno = EINVAL;
		return -1;
	}
	if (n->log != NULL && strcmp(audit_path(n->log), path) != 0) { /* audit_log reloaded */
		audit_close(n->log);
		n->log = NULL;
	}
	if (n->log == NULL && (n->log = audit_open(path, n->key)) == NULL) {
		saved = errno;
		json_decref(fields);
		errno = saved;
		return -1;
	}
	if (audit_event(n->log, event, fields) != 0)
		return -1;
	if (n->observer != NULL)
		n->observer(n->observer_arg, event, audit_last_line(n->log));
	return 0;
}

int
notary_sign_bundle(struct notary *n, const char *audit_path, const char *session,
    const char *principal, const char *text, char sig[SEAL_SIG_B64_LEN])
{
	unsigned char digest[SEAL_HASH_LEN];
	char hex[SEAL_HEX_LEN];

	seal_digest(text, strlen(text), digest);
	seal_hex(digest, SEAL_HASH_LEN, hex);
	if (notary_audit(n, audit_path, "bundle_signed",
	        json_pack("{s:s, s:s, s:s}", "session", session, "principal", principal,
	            "manifest_sha256", hex)) != 0) {
		crit_f("audit log %s cannot be written: %m (a bundle of %s not signed)", audit_path,
		    principal);
		return -1;
	}
	if (bundle_manifest_sign(n->key, text, sig) != 0) {
		error_f("the seal key cannot sign the bundle of %s", principal);
		return -1;
	}
	return 0;
}

struct notary_book *
notary_book_new(const char *session_id)
{
	struct notary_book *b = xcalloc(1, sizeof(*b));

	snprintf(b->session_id, sizeof(b->session_id), "%s", session_id);
	return b;
}

/* What the audit log says of a recording's last signature: the cross-check of
 * `gatewayctl audit verify --recordings`. A failed write is logged here, where it is known. */
static void
notary_audit_page(struct notary *n, const char *audit_path, const struct notary_book *b,
    const char *event, const struct notary_page *p)
{
	json_t *fields = json_pack("{s:s, s:s, s:I, s:s}", "session", b->session_id, "recording",
	    p->name, "records", (json_int_t)p->n, "chain", p->chain);

	if (fields == NULL || notary_audit(n, audit_path, event, fields) != 0)
		crit_f("audit log %s cannot be written: %m (event %s of %s lost)", audit_path,
		    event, p->name);
}

void
notary_book_close(struct notary *n, const char *audit_path, struct notary_book *b)
{
	size_t i;

	if (b == NULL)
		return;
	for (i = 0; i < b->npages; i++)
		if (!b->pages[i].sealed)
			notary_audit_page(n, audit_path, b, "recording_unsealed", &b->pages[i]);
	notary_book_free(b);
}

void
notary_book_free(struct notary_book *b)
{
	size_t i;

	if (b == NULL)
		return;
	for (i = 0; i < b->npages; i++)
		free(b->pages[i].name);
	free(b->pages);
	free(b);
}

char **
notary_book_sealed(const struct notary_book *b)
{
	char **names = NULL;
	size_t i, n = 0;

	for (i = 0; b != NULL && i < b->npages; i++) {
		size_t len = strlen(b->pages[i].name);

		/* Casts only: a tunnel's pcapng stays as it is, for tshark to read where it lies.
		 */
		if (!b->pages[i].sealed || len < 5 ||
		    strcmp(b->pages[i].name + len - 5, ".cast") != 0)
			continue;
		names = xreallocarray(names, n + 2, sizeof(*names));
		names[n++] = xstrdup(b->pages[i].name);
		names[n] = NULL;
	}
	return names;
}

const struct sealkey *
notary_seal_key(const struct notary *n)
{
	return n->key;
}

/* "<session_id>.<digits>.cast" or ".pcapng" (a tunnel's): a session process signs only its own
 * session's files. */
static bool
notary_name_is_ours(const struct notary_book *b, const char *name)
{
	size_t len = strlen(b->session_id), i;

	if (strncmp(name, b->session_id, len) != 0 || name[len] != '.')
		return false;
	for (i = len + 1; name[i] >= '0' && name[i] <= '9'; i++)
		;
	return i > len + 1 && i - len - 1 <= 10 &&
	    (strcmp(name + i, ".cast") == 0 || strcmp(name + i, ".pcapng") == 0);
}

static bool
notary_hex_is_valid(const char *hex)
{
	unsigned char raw[SEAL_HASH_LEN];

	return seal_unhex(hex, raw) == 0;
}

static bool
notary_stamp_is_valid(const char *stamp)
{
	size_t i;

	for (i = 0; stamp[i] != '\0'; i++)
		if ((stamp[i] < '0' || stamp[i] > '9') && stamp[i] != '.')
			return false;
	return i > 0 && i <= NOTARY_STAMP_MAX;
}

static struct notary_page *
notary_page_find(struct notary_book *b, const char *name)
{
	size_t i;

	for (i = 0; i < b->npages; i++)
		if (strcmp(b->pages[i].name, name) == 0)
			return &b->pages[i];
	return NULL;
}

/* The first request of a recording carries its header (record 0): it must be a recording of
 * this session, of the channel its name says, sealed with this notary's key. */
static const char *
notary_header_refusal(
    const struct notary *n, const struct notary_book *b, const struct checkpoint_req *req)
{
	unsigned char digest[SEAL_HASH_LEN];
	const char *channel = req->recording + strlen(b->session_id) + 1;
	json_t *h, *g;
	const char *why = NULL;

	if (req->header == NULL || req->nrecords == 0)
		return "the first checkpoint comes without the header";
	seal_digest(req->header, req->header_len, digest);
	if (memcmp(digest, req->records[0], SEAL_HASH_LEN) != 0)
		return "the header is not the first record";
	h = json_loadb(req->header, req->header_len, JSON_REJECT_DUPLICATES, NULL);
	g = json_object_get(h, "gatewayd");
	if (!json_is_string(json_object_get(g, "session_id")) ||
	    strcmp(json_string_value(json_object_get(g, "session_id")), b->session_id) != 0)
		why = "the header names another session";
	else if (!json_is_integer(json_object_get(g, "channel")) ||
	    json_integer_value(json_object_get(g, "channel")) != strtoll(channel, NULL, 10))
		why = "the header names another channel";
	else if (!json_is_string(json_object_get(g, "key")) ||
	    strcmp(json_string_value(json_object_get(g, "key")), sealkey_id(n->key)) != 0)
		why = "the header names another key";
	json_decref(h);
	return why;
}

/* The notary rule. A checkpoint is signed only as an extension of the chain head this notary
 * signed last for that recording of that session: "prev" names that head ("" only for a
 * recording's first checkpoint, whose header must name this session), and the notary itself
 * steps the chain from it over the digests of the records since (so n only grows, and the
 * chain signed is one that descends from this session's header, not one the process merely
 * claims). The time in the signed message is the notary's own clock. So no process but the
 * listener can re-sign any session's past, nor backdate, nor sign another session's records:
 * a session process that is taken over can at most misrecord its own session from then on
 * (its own recordings, after their last signed checkpoint). */
static const char *
notary_refusal(const struct notary *n, struct notary_book *b, const struct checkpoint_req *req,
    struct notary_page **page)
{
	unsigned char chain[SEAL_HASH_LEN];
	char hex[SEAL_HEX_LEN];
	unsigned long covered;
	const char *why;
	size_t i;

	if (req->recording == NULL || req->chain == NULL || req->prev == NULL ||
	    req->stamp == NULL || (req->nrecords > 0 && req->records == NULL))
		return "incomplete request";
	if (!notary_name_is_ours(b, req->recording))
		return "not a recording of this session";
	if (!notary_hex_is_valid(req->chain) || !notary_stamp_is_valid(req->stamp) ||
	    (req->prev[0] != '\0' && !notary_hex_is_valid(req->prev)))
		return "malformed request";
	if (req->nrecords == 0)
		return "covers no new record";
	if ((*page = notary_page_find(b, req->recording)) == NULL) {
		if (req->prev[0] != '\0')
			return "names a previous checkpoint the notary never signed";
		if (b->npages >= NOTARY_RECORDINGS_MAX)
			return "too many recordings in one session";
		if ((why = notary_header_refusal(n, b, req)) != NULL)
			return why;
		memset(chain, 0, sizeof(chain));
		covered = 0;
	} else {
		if ((*page)->sealed)
			return "the recording is sealed";
		if (strcmp(req->prev, (*page)->chain) != 0)
			return "does not extend the chain head signed last";
		seal_unhex((*page)->chain, chain);
		covered = (*page)->n;
	}
	for (i = 0; i < req->nrecords; i++)
		seal_chain_step(chain, req->records[i]);
	seal_hex(chain, SEAL_HASH_LEN, hex);
	if (req->n != covered + req->nrecords)
		return "the record count is not the one signed last plus the new records";
	if (strcmp(hex, req->chain) != 0)
		return "the chain head is not the one its records give";
	return NULL;
}

int
notary_sign(struct notary *n, struct notary_book *b, const struct checkpoint_req *req,
    const char *audit_path, char sig[SEAL_SIG_B64_LEN], char time_out[SEAL_TIME_LEN])
{
	struct notary_page *page = NULL;
	const char *why;

	if ((why = notary_refusal(n, b, req, &page)) != NULL) {
		warn_f("session %s: checkpoint of %s at record %lu refused: %s", b->session_id,
		    req->recording != NULL ? req->recording : "-", req->n, why);
		return -1;
	}
	seal_format_now(time_out);
	if (recorder_checkpoint_sign(n->key, req, time_out, sig) != 0) {
		error_f("session %s: the seal key cannot sign", b->session_id);
		return -1;
	}
	if (page == NULL) {
		b->pages = xreallocarray(b->pages, b->npages + 1, sizeof(*b->pages));
		page = &b->pages[b->npages++];
		memset(page, 0, sizeof(*page));
		page->name = xstrdup(req->recording);
	}
	page->n = req->n;
	snprintf(page->chain, sizeof(page->chain), "%s", req->chain);
	/* The anchor: the site's log collector keeps a copy that root on this machine cannot
	 * re-sign (docs/evidence.md, "Anchors"). */
	info_f("anchor %s n=%lu chain=%s time=%s", page->name, page->n, page->chain, time_out);
	if (req->final) {
		page->sealed = true;
		notary_audit_page(n, audit_path, b, "recording_sealed", page);
	}
	return 0;
}
