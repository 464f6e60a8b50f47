/* verify.c: checks a recording's hash chain and signed checkpoints, or an audit log's
 * chained, signed lines, and says where they stop being trustworthy. Never changes the
 * file and never trusts a value from it before its signature has been checked. */
#include "evidence/verify.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <jansson.h>

#include "common/xmalloc.h"
#include "evidence/castread.h"

#define RECORDING_SIGNED_PREFIX "gatewayd-recording-v1\n"
#define AUDIT_SIGNED_PREFIX     "gatewayd-audit-v1\n"

static void
verdict_set(struct verdict *v, enum verdict_kind kind, long record, const char *detail)
{
	v->kind = kind;
	v->record = record;
	snprintf(v->detail, sizeof(v->detail), "%s", detail);
}

/* Reads one line without its newline; 0 at the end or for a last line without one
 * (a write cut off by a crash), which *partial then tells. */
static ssize_t
verify_getline(FILE *f, char **line, size_t *cap, int *partial)
{
	ssize_t n = getline(line, cap, f);

	*partial = 0;
	if (n <= 0)
		return 0;
	if ((*line)[n - 1] != '\n') {
		*partial = 1;
		return 0;
	}
	(*line)[--n] = '\0';
	return n;
}

/* The state between two checkpoints. */
struct chain_state {
	const struct sealkey *key;
	unsigned char chain[SEAL_HASH_LEN];      /* c(i) of the last record read */
	unsigned char verified[SEAL_HASH_LEN];   /* c() just after the last valid checkpoint */
	unsigned char (*digests)[SEAL_HASH_LEN]; /* records read since then */
	size_t ndigests, cap;
	long first;  /* the record number of digests[0] */
	bool x_last; /* the record before this one was the seal */
	bool sealed;
};

static void
chain_push(struct chain_state *cs, const unsigned char digest[SEAL_HASH_LEN])
{
	if (cs->ndigests == cs->cap) {
		cs->cap = cs->cap == 0 ? 256 : 2 * cs->cap;
		cs->digests = xreallocarray(cs->digests, cs->cap, sizeof(*cs->digests));
	}
	memcpy(cs->digests[cs->ndigests++], digest, SEAL_HASH_LEN);
}

/* Whether a JSON string holds no NUL: C code reads it only up to the first one. */
static bool
verify_plain_string(const json_t *s)
{
	return json_is_string(s) && strlen(json_string_value(s)) == json_string_length(s);
}

/* A checkpoint line is covered by the chain of the next checkpoint only: the bytes of the last
 * one by nothing but its signed fields. So a checkpoint must be exactly what the recorder
 * writes for those fields, [ELAPSED,"h",{"n":..,"time":..,"chain":..,"records":[..],"sig":..}]
 * in compact JSON, or an edit to the last line (a member added, spacing, escapes, a NUL that
 * hides text from the signature) would verify as intact. */
static bool
verify_checkpoint_canonical(const char *line, size_t len, json_t *cp)
{
	static const char *const keys[] = { "n", "time", "chain", "records", "sig" };
	const char *p = line + 1;
	void *it = json_object_iter(cp);
	json_t *item;
	size_t k, n;
	char *text;
	bool ok;

	if (len < 2 || line[0] != '[')
		return false;
	while (p < line + len && ((*p >= '0' && *p <= '9') || *p == '.'))
		p++;
	n = (size_t)(line + len - p);
	if (n < 6 || memcmp(p, ",\"h\",", 5) != 0)
		return false;
	for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++, it = json_object_iter_next(cp, it))
		if (it == NULL || strcmp(json_object_iter_key(it), keys[k]) != 0)
			return false;
	if (it != NULL || !json_is_integer(json_object_get(cp, "n")) ||
	    !verify_plain_string(json_object_get(cp, "time")) ||
	    !verify_plain_string(json_object_get(cp, "chain")) ||
	    !verify_plain_string(json_object_get(cp, "sig")))
		return false;
	json_array_foreach (json_object_get(cp, "records"), k, item)
		if (!verify_plain_string(item))
			return false;
	if ((text = json_dumps(cp, JSON_COMPACT)) == NULL)
		return false;
	ok = strlen(text) == n - 6 && memcmp(p + 5, text, n - 6) == 0 && line[len - 1] == ']';
	free(text);
	return ok;
}

/* Checks checkpoint record i; returns 0 when it covers exactly the records read since the
 * last one, else fills v. */
static int
verify_checkpoint(struct chain_state *cs, long i, const char *line, size_t line_len, json_t *cp,
    const struct sealkey *key, struct verdict *v)
{
	unsigned char signed_chain[SEAL_HASH_LEN], fold[SEAL_HASH_LEN], d[SEAL_HASH_LEN];
	json_t *list = json_object_get(cp, "records"), *item;
	const char *when = json_string_value(json_object_get(cp, "time"));
	const char *chain = json_string_value(json_object_get(cp, "chain"));
	const char *sig = json_string_value(json_object_get(cp, "sig"));
	json_int_t n = json_integer_value(json_object_get(cp, "n"));
	char *msg;
	size_t k;
	int len;

	if (when == NULL || strlen(when) >= SEAL_TIME_LEN || seal_unhex(chain, signed_chain) != 0 ||
	    !json_is_array(list) || sig == NULL ||
	    !verify_checkpoint_canonical(line, line_len, cp)) {
		verdict_set(v, VERDICT_TAMPERED, i, "malformed checkpoint");
		return -1;
	}
	/* The line's elapsed time as written (verify_checkpoint_canonical: digits and '.'). */
	len = xasprintf(&msg, RECORDING_SIGNED_PREFIX "%lld\n%s\n%s\n%.*s\n", (long long)n, when,
	    chain, (int)strcspn(line + 1, ","), line + 1);
	if (!sealkey_verify(key, msg, (size_t)len, sig)) {
		free(msg);
		verdict_set(v, VERDICT_BAD_SIGNATURE, i, "checkpoint signature does not verify");
		return -1;
	}
	free(msg);
	/* The signature holds; the listed digests are authentic if they fold to it. */
	memcpy(fold, cs->verified, SEAL_HASH_LEN);
	json_array_foreach (list, k, item) {
		if (seal_unhex(json_string_value(item), d) != 0)
			break;
		seal_chain_step(fold, d);
	}
	if (k != json_array_size(list) || memcmp(fold, signed_chain, SEAL_HASH_LEN) != 0) {
		verdict_set(v, VERDICT_TAMPERED, cs->first,
		    "signed checkpoint does not follow the previous one");
		return -1;
	}
	json_array_foreach (list, k, item) {
		seal_unhex(json_string_value(item), d);
		if (k >= cs->ndigests || memcmp(d, cs->digests[k], SEAL_HASH_LEN) != 0) {
			verdict_set(v, VERDICT_TAMPERED, cs->first + (long)k,
			    k >= cs->ndigests ? "record missing"
			                      : "record differs from the signed one");
			return -1;
		}
	}
	if (cs->ndigests != json_array_size(list)) {
		verdict_set(
		    v, VERDICT_TAMPERED, cs->first + (long)k, "record not covered by checkpoint");
		return -1;
	}
	if (n != i) {
		verdict_set(v, VERDICT_TAMPERED, i, "checkpoint moved");
		return -1;
	}
	snprintf(v->checkpoint, sizeof(v->checkpoint), "%s", when);
	v->signed_n = (unsigned long)n;
	snprintf(v->signed_chain, sizeof(v->signed_chain), "%s", chain);
	return 0;
}

/* Checks the header: ours, and sealed with the key we were given. */
static int
verify_header(const char *line, size_t len, const struct sealkey *key, struct verdict *v)
{
	json_t *h = json_loadb(line, len, 0, NULL);
	const char *id = json_string_value(json_object_get(json_object_get(h, "gatewayd"), "key"));
	int rc = 0;

	if (h == NULL || json_integer_value(json_object_get(h, "version")) != 2 || id == NULL) {
		verdict_set(v, VERDICT_UNREADABLE, 0, "not a gatewayd asciicast v2 recording");
		rc = -1;
	} else if (strcmp(id, sealkey_id(key)) != 0) {
		verdict_set(v, VERDICT_UNKNOWN_KEY, 0, "sealed by another key");
		snprintf(v->detail, sizeof(v->detail), "sealed by key %.64s, not %s", id,
		    sealkey_id(key));
		rc = -1;
	}
	json_decref(h);
	return rc;
}

static int
verify_record(struct chain_state *cs, long i, const char *line, size_t len,
    const struct sealkey *key, struct verdict *v)
{
	unsigned char digest[SEAL_HASH_LEN];
	json_t *ev = json_loadb(line, len, JSON_ALLOW_NUL, NULL);
	const char *code = json_string_value(json_array_get(ev, 1));
	int rc = 0;

	seal_digest(line, len, digest);
	if (cs->sealed) {
		verdict_set(v, VERDICT_TAMPERED, i, "record after the seal");
		rc = -1;
	} else if (!json_is_array(ev) || json_array_size(ev) != 3 || code == NULL ||
	    !json_is_number(json_array_get(ev, 0))) {
		verdict_set(v, VERDICT_TAMPERED, i, "not an asciicast event");
		rc = -1;
	} else if (strcmp(code, "h") == 0) {
		if (verify_checkpoint(cs, i, line, len, json_array_get(ev, 2), key, v) != 0)
			rc = -1;
		else {
			seal_chain_step(cs->chain, digest);
			memcpy(cs->verified, cs->chain, SEAL_HASH_LEN);
			cs->ndigests = 0;
			cs->first = i + 1;
			cs->sealed = cs->x_last;
			v->record = i;
		}
	} else {
		json_t *x = json_array_get(ev, 2);

		seal_chain_step(cs->chain, digest);
		chain_push(cs, digest);
		cs->x_last = strcmp(code, "x") == 0;
		if (cs->x_last) {
			snprintf(v->ended, sizeof(v->ended), "%s",
			    json_string_value(json_object_get(x, "ended")) ?: "");
			snprintf(v->reason, sizeof(v->reason), "%s",
			    json_string_value(json_object_get(x, "reason")) ?: "");
		}
	}
	json_decref(ev);
	return rc;
}

/* One line of a file to check: 0 goes on, -1 stops (the verdict says why). */
typedef int (*verify_line_fn)(long i, const char *line, size_t len, void *arg, struct verdict *v);

/* Passes every line of path to check, numbered from 0, until one is refused. Returns the
 * count of lines passed, or -1 when the file is unreadable or a line was refused (with the
 * verdict set); *partial tells whether the last line lacked its newline (2: the compressed
 * file ends inside a frame). A compressed file is read through castread: data that does not
 * decode is tampered at the first record it did not give whole (or at the record a check
 * stopped at first); a file cut off inside a frame ends like a plain file cut off there,
 * even when that happens between two lines: the file is not whole. */
static long
verify_walk(const char *path, verify_line_fn check, void *arg, struct verdict *v, int *partial)
{
	struct castread *cr;
	const char *why;
	char *line = NULL, detail[sizeof(v->detail)];
	size_t cap = 0;
	ssize_t n;
	long i;
	FILE *f;

	memset(v, 0, sizeof(*v));
	v->record = -1;
	*partial = 0;
	if ((cr = castread_open(path)) == NULL) {
		verdict_set(v, VERDICT_UNREADABLE, -1, strerror(errno));
		return -1;
	}
	f = castread_file(cr);
	for (i = 0; (n = verify_getline(f, &line, &cap, partial)) > 0 ||
	     (n == 0 && !*partial && !feof(f) && !ferror(f));
	     i++) {
		v->records++;
		if (check(i, line, (size_t)n, arg, v) != 0) {
			i = -1;
			break;
		}
	}
	/* A compressed file whose bytes a check refused: damage the chain saw, or damage to the
	 * compressed data (its checksum comes at the end of the frame)? The latter is said as
	 * such, at the record where the check stopped. */
	if (i < 0)
		castread_drain(cr);
	switch (castread_state(cr, &why)) {
	case CASTREAD_OK:
		if (i >= 0 && ferror(f)) {
			verdict_set(v, VERDICT_UNREADABLE, -1, strerror(EIO));
			i = -1;
		}
		break;
	case CASTREAD_CUT:
		/* A cut alone leaves a valid prefix: a refused record in it was altered. */
		if (i >= 0) {
			*partial = 2;
			break;
		}
		/* fall through */
	case CASTREAD_CORRUPT:
		snprintf(detail, sizeof(detail), "compressed data does not decode: %s", why);
		verdict_set(
		    v, VERDICT_TAMPERED, i >= 0 ? i : (v->record >= 0 ? v->record : 0), detail);
		i = -1;
		break;
	}
	free(line);
	castread_close(cr);
	return i;
}

static int
verify_recording_line(long i, const char *line, size_t len, void *arg, struct verdict *v)
{
	struct chain_state *cs = arg;
	unsigned char digest[SEAL_HASH_LEN];

	if (i > 0)
		return verify_record(cs, i, line, len, cs->key, v);
	if (verify_header(line, len, cs->key, v) != 0)
		return -1;
	seal_digest(line, len, digest);
	seal_chain_step(cs->chain, digest);
	chain_push(cs, digest);
	return 0;
}

/* Whether a recorder still holds the file (recorder_open's flock). Asked before reading: a
 * session that ends meanwhile is read with its seal, one that crashed has no lock. */
static bool
verify_is_live(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	bool live;

	if (fd < 0)
		return false;
	live = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
	close(fd);
	return live;
}

void
verify_recording(const char *path, const struct sealkey *key, struct verdict *v)
{
	struct chain_state cs = { .key = key };
	bool live = verify_is_live(path);
	int partial;
	long n;

	n = verify_walk(path, verify_recording_line, &cs, v, &partial);
	if (n == 0 && partial == 2)
		verdict_set(v, VERDICT_TRUNCATED, -1, "compressed file cut off");
	else if (n == 0)
		verdict_set(v, VERDICT_UNREADABLE, -1, "empty file");
	else if (n > 0 && cs.sealed && !partial)
		verdict_set(v, VERDICT_INTACT, v->record, "sealed");
	else if (n > 0 && live)
		verdict_set(v, VERDICT_LIVE, v->record, "still recording");
	else if (n > 0)
		verdict_set(v, VERDICT_TRUNCATED, v->record,
		    partial == 2 ? "compressed file cut off" : "no seal");
	free(cs.digests);
}

int
verify_audit_line(long i, const char *line, size_t len, const unsigned char prev[SEAL_HASH_LEN],
    const struct sealkey *key, struct verdict *v)
{
	json_t *obj = json_loadb(line, len, 0, NULL);
	const char *sig = json_string_value(json_object_get(obj, "sig"));
	const char *named = json_string_value(json_object_get(obj, "prev"));
	char hex[SEAL_HEX_LEN], *suffix = NULL, *msg = NULL;
	size_t slen;
	int mlen, rc = -1;

	if (sig == NULL || named == NULL) {
		verdict_set(v, VERDICT_TAMPERED, i, "not a chained audit event");
		goto out;
	}
	/* The signature is the last member: what was signed is the line without it. */
	slen = (size_t)xasprintf(&suffix, ",\"sig\":\"%s\"}", sig);
	if (slen > len || memcmp(line + len - slen, suffix, slen) != 0) {
		verdict_set(v, VERDICT_TAMPERED, i, "signature is not the last member");
		goto out;
	}
	mlen = xasprintf(&msg, AUDIT_SIGNED_PREFIX "%.*s}", (int)(len - slen), line);
	if (!sealkey_verify(key, msg, (size_t)mlen, sig)) {
		verdict_set(v, VERDICT_BAD_SIGNATURE, i, "event signature does not verify");
		goto out;
	}
	seal_hex(prev, SEAL_HASH_LEN, hex);
	if (strcmp(named, hex) != 0) {
		verdict_set(v, VERDICT_TAMPERED, i, "does not follow the line before it");
		goto out;
	}
	rc = 0;
out:
	free(suffix);
	free(msg);
	json_decref(obj);
	return rc;
}

struct audit_walk {
	const struct sealkey *key;
	unsigned char prev[SEAL_HASH_LEN]; /* digest of the line before */
};

static int
verify_audit_walk_line(long i, const char *line, size_t len, void *arg, struct verdict *v)
{
	struct audit_walk *w = arg;

	if (verify_audit_line(i + 1, line, len, w->prev, w->key, v) != 0)
		return -1;
	seal_digest(line, len, w->prev);
	v->record = i + 1;
	return 0;
}

void
verify_audit_log(const char *path, const struct sealkey *key, struct verdict *v)
{
	struct audit_walk w = { .key = key };
	int partial;

	if (verify_walk(path, verify_audit_walk_line, &w, v, &partial) < 0)
		return;
	if (partial)
		verdict_set(v, VERDICT_TRUNCATED, v->record, "last line cut off");
	else
		verdict_set(v, VERDICT_INTACT, v->record, "chain holds");
}

void
verdict_format(const struct verdict *v, char *out, size_t len)
{
	switch (v->kind) {
	case VERDICT_INTACT:
		snprintf(out, len, "intact (%lu records, sealed %s: %s)", v->records, v->ended,
		    v->reason);
		break;
	case VERDICT_TRUNCATED:
		if (v->record < 0)
			snprintf(out, len, "truncated (no checkpoint: nothing verifiable)");
		else
			snprintf(out, len, "truncated (records 0-%ld intact, last checkpoint %s)",
			    v->record, v->checkpoint);
		break;
	case VERDICT_TAMPERED:
		snprintf(out, len, "tampered at record %ld (%s)", v->record, v->detail);
		break;
	case VERDICT_BAD_SIGNATURE:
		snprintf(out, len, "bad signature at record %ld (%s)", v->record, v->detail);
		break;
	case VERDICT_UNKNOWN_KEY:
		snprintf(out, len, "unknown key (%s)", v->detail);
		break;
	case VERDICT_UNREADABLE:
		snprintf(out, len, "unreadable (%s)", v->detail);
		break;
	case VERDICT_LIVE:
		if (v->record < 0)
			snprintf(out, len, "live (still recording; no checkpoint yet)");
		else
			snprintf(out, len,
			    "live (still recording; records 0-%ld intact so far, last checkpoint "
			    "%s)",
			    v->record, v->checkpoint);
		break;
	}
}

const char *
verdict_kind_name(enum verdict_kind kind)
{
	static const char *const names[] = {
		[VERDICT_INTACT] = "intact",
		[VERDICT_TRUNCATED] = "truncated",
		[VERDICT_TAMPERED] = "tampered",
		[VERDICT_BAD_SIGNATURE] = "bad-signature",
		[VERDICT_UNKNOWN_KEY] = "unknown-key",
		[VERDICT_UNREADABLE] = "unreadable",
		[VERDICT_LIVE] = "live",
	};

	return names[kind];
}
