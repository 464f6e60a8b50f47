/* verify.c: checks a recording's hash chain and signed checkpoints, or an audit log's
 * chained, signed lines, and says where they stop being trustworthy. Never changes the
 * file and never trusts a value from it before its signature has been checked. */
#include "evidence/verify.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <jansson.h>

#include "common/xmalloc.h"
#include "evidence/castread.h"
#include "evidence/pcapfmt.h"
#include "evidence/pcapread.h"

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

/* A record that is not a checkpoint, of digest: chained, and listed for the next checkpoint;
 * end: it is the seal ("x" event, pcapng end block). */
static void
chain_record(struct chain_state *cs, const unsigned char digest[SEAL_HASH_LEN], bool end)
{
	seal_chain_step(cs->chain, digest);
	cs->x_last = end;
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

/* Whether cp has exactly the members keys, in that order ("n" an integer, "records" an array
 * of strings, every other a string, no string with a NUL), and text is cp as the recorder writes
 * it (compact JSON). The last checkpoint's bytes are covered by nothing but its signed fields:
 * any other spelling (a member added, spacing, escapes, a NUL that hides text from the
 * signature) must not verify. */
static bool
verify_checkpoint_exact(
    json_t *cp, const char *const *keys, size_t nkeys, const char *text, size_t len)
{
	void *it = json_object_iter(cp);
	const char *name;
	json_t *item;
	size_t k;
	char *dump;
	bool ok;

	for (k = 0; k < nkeys; k++, it = json_object_iter_next(cp, it))
		if (it == NULL || strcmp(json_object_iter_key(it), keys[k]) != 0)
			return false;
	if (it != NULL)
		return false;
	json_object_foreach (cp, name, item) {
		if (strcmp(name, "n") == 0) {
			if (!json_is_integer(item))
				return false;
		} else if (strcmp(name, "records") == 0) {
			size_t i;
			json_t *d;

			if (!json_is_array(item))
				return false;
			json_array_foreach (item, i, d)
				if (!verify_plain_string(d))
					return false;
		} else if (!verify_plain_string(item))
			return false;
	}
	if ((dump = json_dumps(cp, JSON_COMPACT)) == NULL)
		return false;
	ok = strlen(dump) == len && memcmp(text, dump, len) == 0;
	free(dump);
	return ok;
}

/* An asciicast checkpoint line: [ELAPSED,"h",{"n":..,"time":..,"chain":..,"records":[..],
 * "sig":..}] exactly. */
static bool
verify_checkpoint_canonical(const char *line, size_t len, json_t *cp)
{
	static const char *const keys[] = { "n", "time", "chain", "records", "sig" };
	const char *p = line + 1;
	size_t n;

	if (len < 2 || line[0] != '[' || line[len - 1] != ']')
		return false;
	while (p < line + len && ((*p >= '0' && *p <= '9') || *p == '.'))
		p++;
	n = (size_t)(line + len - p);
	if (n < 6 || memcmp(p, ",\"h\",", 5) != 0)
		return false;
	return verify_checkpoint_exact(cp, keys, sizeof(keys) / sizeof(keys[0]), p + 5, n - 6);
}

/* Checks checkpoint record i, whose fields verify_checkpoint_exact has checked and whose stamp
 * (the record's own time as written) is signed too; returns 0 when it covers exactly the
 * records read since the last one, else fills v. */
static int
verify_checkpoint_signed(struct chain_state *cs, long i, json_t *cp, const char *stamp,
    size_t stamp_len, struct verdict *v)
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
	    !json_is_array(list) || sig == NULL || stamp_len > 64) {
		verdict_set(v, VERDICT_TAMPERED, i, "malformed checkpoint");
		return -1;
	}
	len = xasprintf(&msg, RECORDING_SIGNED_PREFIX "%lld\n%s\n%s\n%.*s\n", (long long)n, when,
	    chain, (int)stamp_len, stamp);
	if (!sealkey_verify(cs->key, msg, (size_t)len, sig)) {
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

/* A checkpoint record that verified: it is chained, and the next one starts after it. */
static void
verify_checkpoint_passed(
    struct chain_state *cs, long i, const unsigned char digest[SEAL_HASH_LEN], struct verdict *v)
{
	seal_chain_step(cs->chain, digest);
	memcpy(cs->verified, cs->chain, SEAL_HASH_LEN);
	cs->ndigests = 0;
	cs->first = i + 1;
	cs->sealed = cs->x_last;
	v->record = i;
}

/* Checks asciicast checkpoint line i. */
static int
verify_checkpoint(struct chain_state *cs, long i, const char *line, size_t line_len, json_t *cp,
    struct verdict *v)
{
	if (!verify_checkpoint_canonical(line, line_len, cp)) {
		verdict_set(v, VERDICT_TAMPERED, i, "malformed checkpoint");
		return -1;
	}
	/* The line's elapsed time as written (verify_checkpoint_canonical: digits and '.'). */
	return verify_checkpoint_signed(cs, i, cp, line + 1, strcspn(line + 1, ","), v);
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
verify_record(struct chain_state *cs, long i, const char *line, size_t len, struct verdict *v)
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
		if (verify_checkpoint(cs, i, line, len, json_array_get(ev, 2), v) != 0)
			rc = -1;
		else
			verify_checkpoint_passed(cs, i, digest, v);
	} else {
		json_t *x = json_array_get(ev, 2);

		chain_record(cs, digest, strcmp(code, "x") == 0);
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
		return verify_record(cs, i, line, len, v);
	if (verify_header(line, len, cs->key, v) != 0)
		return -1;
	seal_digest(line, len, digest);
	chain_record(cs, digest, false);
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

/* The header block (record 3) and record 0, its JSON: a gatewayd pcapng file sealed with key,
 * in either format (*v2: records of several blocks). */
static int
pcapng_header(const struct pcapread *r, const struct pcap_block *b, struct chain_state *cs,
    bool *v2, struct verdict *v)
{
	const char *text, *id, *format;
	size_t len;
	json_t *h, *g;
	int rc = 0;

	if ((text = pcapread_tagged(r, b, PCAP_TAG_HEADER, &len)) == NULL) {
		verdict_set(v, VERDICT_UNREADABLE, 0, "not a gatewayd pcapng recording");
		return -1;
	}
	h = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
	g = json_object_get(h, "gatewayd");
	id = json_string_value(json_object_get(g, "key"));
	format = json_string_value(json_object_get(g, "format"));
	*v2 = format != NULL && strcmp(format, PCAP_FORMAT) == 0;
	if ((!*v2 && (format == NULL || strcmp(format, PCAP_FORMAT_V1) != 0)) || id == NULL) {
		verdict_set(v, VERDICT_UNREADABLE, 0, "not a gatewayd pcapng recording");
		rc = -1;
	} else if (strcmp(id, sealkey_id(cs->key)) != 0) {
		verdict_set(v, VERDICT_UNKNOWN_KEY, 0, "sealed by another key");
		snprintf(v->detail, sizeof(v->detail), "sealed by key %.64s, not %s", id,
		    sealkey_id(cs->key));
		rc = -1;
	}
	json_decref(h);
	return rc;
}

/* Whether packet block b continues its record in pcapng-v2 (pcapfmt.h): it carries payload
 * and its TCP flags are exactly ACK. Read from where gatewayd puts them; a block changed so as
 * to move a record's end changes the records, which the signed digests then refuse. */
static bool
pcapng_continues(const struct pcapread *r, const struct pcap_block *b)
{
	return b->type == PCAP_EPB && b->len > PCAP_EPB_FRAME_AT + PCAP_FRAME_FLAGS_AT + 4 &&
	    pcapread_u32(r, b->raw + 20) > PCAP_ETH_LEN + PCAP_IP_LEN + PCAP_TCP_LEN &&
	    b->raw[PCAP_EPB_FRAME_AT + PCAP_FRAME_FLAGS_AT] == PCAP_TCP_ACK;
}

/* The end of pcapng-v2 record *i, whose blocks run has hashed. */
static void
pcapng_run_end(struct seal_hash *run, struct chain_state *cs, long *i, struct verdict *v)
{
	unsigned char digest[SEAL_HASH_LEN];

	seal_hash_end(run, digest);
	chain_record(cs, digest, false);
	v->records++;
	(*i)++;
}

/* A block after the header that is a record of its own: record i. */
static int
pcapng_record(const struct pcapread *r, const struct pcap_block *b, struct chain_state *cs, long i,
    struct verdict *v)
{
	static const char *const keys[] = { "n", "time", "stamp", "chain", "records", "sig" };
	unsigned char digest[SEAL_HASH_LEN];
	const char *text;
	size_t len;
	json_t *j;
	int rc = 0;

	seal_digest(b->raw, b->len, digest);
	if (b->type == PCAP_EPB) {
		chain_record(cs, digest, false);
		return 0;
	}
	if ((text = pcapread_tagged(r, b, PCAP_TAG_CHECKPOINT, &len)) != NULL) {
		j = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
		if (!json_is_object(j) ||
		    !verify_checkpoint_exact(j, keys, sizeof(keys) / sizeof(keys[0]), text, len)) {
			verdict_set(v, VERDICT_TAMPERED, i, "malformed checkpoint");
			rc = -1;
		} else {
			const char *stamp = json_string_value(json_object_get(j, "stamp"));

			rc = verify_checkpoint_signed(cs, i, j, stamp, strlen(stamp), v);
			if (rc == 0)
				verify_checkpoint_passed(cs, i, digest, v);
		}
		json_decref(j);
		return rc;
	}
	if ((text = pcapread_tagged(r, b, PCAP_TAG_END, &len)) != NULL) {
		j = json_loadb(text, len, 0, NULL);
		chain_record(cs, digest, true);
		snprintf(v->ended, sizeof(v->ended), "%s",
		    json_string_value(json_object_get(j, "ended")) ?: "");
		snprintf(v->reason, sizeof(v->reason), "%s",
		    json_string_value(json_object_get(j, "reason")) ?: "");
		json_decref(j);
		return 0;
	}
	verdict_set(v, VERDICT_TAMPERED, i, "not a block gatewayd writes");
	return -1;
}

/* A pcapng recording (docs/recording-format.md, "Forwarded connections (pcapng)"): record 0 is
 * the header block's JSON, records 1 to 3 the first three blocks, then each record one block
 * (pcapng-v1) or the blocks of one write (pcapng-v2: run holds the digest of the one being read).
 * Returns the records read, or -1 with the verdict set; *partial tells whether the file ends
 * inside a block (a record cut off between its blocks is no more part of the prefix). */
static long
verify_pcapng(FILE *f, struct chain_state *cs, struct verdict *v, int *partial)
{
	unsigned char first[2][SEAL_HASH_LEN], digest[SEAL_HASH_LEN];
	static const uint32_t want[2] = { PCAP_SHB, PCAP_IDB };
	struct pcapread *r = pcapread_new(f);
	struct seal_hash *run = seal_hash_new();
	struct pcap_block b;
	enum pcapread_status st;
	bool v2 = false, run_open = false;
	const char *json;
	size_t len;
	long i = 1;

	*partial = 0;
	while ((st = pcapread_next(r, &b)) == PCAPREAD_BLOCK) {
		/* The section header and the interface, chained once record 0 is known. */
		if (i <= 2) {
			if (b.type != want[i - 1]) {
				verdict_set(
				    v, VERDICT_UNREADABLE, -1, "not a gatewayd pcapng recording");
				break;
			}
			seal_digest(b.raw, b.len, first[i - 1]);
			i++;
		} else if (i == 3) {
			if (pcapng_header(r, &b, cs, &v2, v) != 0)
				break;
			json = pcapread_tagged(r, &b, PCAP_TAG_HEADER, &len);
			seal_digest(json, len, digest);
			chain_record(cs, digest, false);
			chain_record(cs, first[0], false);
			chain_record(cs, first[1], false);
			seal_digest(b.raw, b.len, digest);
			chain_record(cs, digest, false);
			v->records = 4;
			i++;
		} else if (cs->sealed) {
			verdict_set(v, VERDICT_TAMPERED, i, "record after the seal");
			break;
		} else if (v2 && b.type == PCAP_EPB) {
			seal_hash_add(run, b.raw, b.len);
			if (!(run_open = pcapng_continues(r, &b)))
				pcapng_run_end(run, cs, &i, v);
		} else {
			if (run_open) /* the writer ends a record before a block of ours */
				pcapng_run_end(run, cs, &i, v);
			run_open = false;
			v->records++;
			if (pcapng_record(r, &b, cs, i, v) != 0)
				break;
			i++;
		}
	}
	if (st == PCAPREAD_BAD) {
		if (i <= 3) /* before the header: nothing of ours */
			verdict_set(v, VERDICT_UNREADABLE, -1, pcapread_error(r));
		else
			verdict_set(v, VERDICT_TAMPERED, i, pcapread_error(r));
	}
	pcapread_free(r);
	seal_hash_free(run);
	if (st == PCAPREAD_BLOCK || st == PCAPREAD_BAD)
		return -1;
	*partial = st == PCAPREAD_CUT;
	return i <= 3 ? 0 : i;
}

/* Whether path is a pcapng file rather than asciicast. */
static bool
verify_is_pcapng(FILE *f)
{
	unsigned char magic[12];
	size_t n = fread(magic, 1, sizeof(magic), f);

	rewind(f);
	return pcapread_is_pcapng(magic, n);
}

void
verify_recording(const char *path, const struct sealkey *key, struct verdict *v)
{
	struct chain_state cs = { .key = key };
	bool live = verify_is_live(path);
	int partial;
	long n;
	FILE *f;

	if ((f = fopen(path, "re")) != NULL && verify_is_pcapng(f)) {
		memset(v, 0, sizeof(*v));
		v->record = -1;
		n = verify_pcapng(f, &cs, v, &partial);
		fclose(f);
		if (n == 0 && !partial) {
			verdict_set(v, VERDICT_UNREADABLE, -1, "no gatewayd header");
			n = -1;
		} else if (n == 0)
			n = 1; /* cut off before its header: a recording that has only begun */
	} else {
		if (f != NULL)
			fclose(f);
		n = verify_walk(path, verify_recording_line, &cs, v, &partial);
	}
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
