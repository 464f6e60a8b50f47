/* fuzz_verify.c: libFuzzer harness for the auditor's verifier (verify.c): the input is
 * verified both as a recording and as an audit log, against the public half of the key that
 * sealed the seed corpus (tests/fuzz/seal-key.pub). Checks that every verdict is in range,
 * counts no more records than the bytes it read have lines, and formats; and that "intact" means
 * unchanged (R8): an intact recording is one of the sealed seeds, an intact audit log a prefix
 * of a seed log (a hash chain cannot tell a log cut at a line end from a shorter one). Both are
 * judged on the bytes the verifier read: a zstd frame of an original is that original. */
#include "tests/fuzz/fuzz.h"

#include <limits.h>

#include "evidence/castread.h"
#include "evidence/pcapread.h"
#include "evidence/verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sealkey *fuzz_key;

/* The corpus files named seed-*: a sealed recording and an audit log that must verify intact
 * (other corpus files, e.g. regress-*, must not be trusted as originals). */
#define FUZZ_SEEDS_MAX 16
/* More than any seed holds: a compressed input that expands past it is no original. */
#define FUZZ_PLAIN_MAX (4 * 1024 * 1024)
static char *fuzz_sealed[FUZZ_SEEDS_MAX], *fuzz_logs[FUZZ_SEEDS_MAX];
static size_t fuzz_nsealed, fuzz_nlogs;

/* A recording without the elapsed time of its last line: the one field of the file no
 * signature covers (the final checkpoint's event time; docs/fuzzing.md). */
static char *
fuzz_without_last_time(const char *text, size_t len)
{
	const char *last = len > 1 ? memrchr(text, '\n', len - 1) : NULL;
	const char *start = last ? last + 1 : text, *comma;
	char *out;

	if ((comma = memchr(start, ',', len - (size_t)(start - text))) == NULL || *start != '[')
		return xstrndup(text, len);
	xasprintf(&out, "%.*s[%.*s", (int)(start - text), text, (int)(len - (size_t)(comma - text)),
	    comma);
	return out;
}

/* A sealed recording or an audit log among the seeds is an original for the oracle. */
static void
fuzz_load_seed(const char *path, const char *text, size_t len)
{
	struct verdict v;

	verify_recording(path, fuzz_key, &v);
	if (v.kind == VERDICT_INTACT && fuzz_nsealed < FUZZ_SEEDS_MAX)
		fuzz_sealed[fuzz_nsealed++] = fuzz_without_last_time(text, len);
	verify_audit_log(path, fuzz_key, &v);
	if (v.kind == VERDICT_INTACT && v.records > 0 && fuzz_nlogs < FUZZ_SEEDS_MAX)
		fuzz_logs[fuzz_nlogs++] = xstrndup(text, len);
}

static void
fuzz_load_seeds(void)
{
	fuzz_seeds("verify", fuzz_load_seed);
	if (fuzz_nsealed == 0 || fuzz_nlogs == 0)
		abort(); /* the oracle needs a sealed recording and an audit log among the seeds */
}

static bool
fuzz_is_sealed_seed(const uint8_t *data, size_t size)
{
	char *norm;
	bool found = false;
	size_t i;

	if (memchr(data, '\0', size) != NULL)
		return false; /* the seeds have none */
	norm = fuzz_without_last_time((const char *)data, size);
	for (i = 0; i < fuzz_nsealed && !found; i++)
		found = strcmp(norm, fuzz_sealed[i]) == 0;
	free(norm);
	return found;
}

static bool
fuzz_is_log_prefix(const uint8_t *data, size_t size)
{
	size_t i;

	for (i = 0; i < fuzz_nlogs; i++)
		if (size <= strlen(fuzz_logs[i]) && memcmp(data, fuzz_logs[i], size) == 0 &&
		    (size == 0 || fuzz_logs[i][size - 1] == '\n'))
			return true;
	return false;
}

/* plain: the bytes the verifier read (fuzz_plain), or NULL when they are not known: the
 * records are then not bounded by their lines. */
static void
fuzz_check_verdict(const struct verdict *v, const uint8_t *plain, size_t size)
{
	unsigned long lines = plain != NULL ? 1 : ULONG_MAX;
	char text[512];
	size_t i;

	for (i = 0; plain != NULL && i < size; i++)
		lines += plain[i] == '\n';
	if (plain != NULL && pcapread_is_pcapng(plain, size)) /* blocks of 12 bytes at least */
		lines = size / 12 + 1;
	if (v->kind > VERDICT_UNREADABLE || v->record < -1 || v->records > lines ||
	    (v->record >= 0 && (unsigned long)v->record > v->records) ||
	    memchr(v->checkpoint, '\0', sizeof(v->checkpoint)) == NULL ||
	    memchr(v->ended, '\0', sizeof(v->ended)) == NULL ||
	    memchr(v->reason, '\0', sizeof(v->reason)) == NULL ||
	    memchr(v->detail, '\0', sizeof(v->detail)) == NULL)
		abort();
	verdict_format(v, text, sizeof(text));
	if (text[0] == '\0')
		abort();
}

/* The bytes the verifier reads of path: data itself, or what its zstd frames hold when castread
 * takes it as compressed (then also *owned, for the caller to free); NULL past FUZZ_PLAIN_MAX or
 * when it does not decode. */
static const uint8_t *
fuzz_plain(const char *path, const uint8_t *data, size_t size, size_t *len, uint8_t **owned)
{
	struct castread *cr;
	uint8_t *buf;
	size_t n = 0, r;
	bool ok;

	*owned = NULL;
	*len = size;
	if (!castread_has_magic(data, size))
		return data;
	if ((cr = castread_open(path)) == NULL)
		return NULL;
	buf = xmalloc(FUZZ_PLAIN_MAX + 1);
	while (n < FUZZ_PLAIN_MAX &&
	    (r = fread(buf + n, 1, FUZZ_PLAIN_MAX - n, castread_file(cr))) > 0)
		n += r;
	ok = n < FUZZ_PLAIN_MAX && castread_state(cr, NULL) == CASTREAD_OK;
	castread_close(cr);
	if (!ok) {
		free(buf);
		return NULL;
	}
	*len = n;
	*owned = buf;
	return buf;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct verdict v;
	const char *path;
	const uint8_t *plain;
	uint8_t *owned;
	size_t plain_len;

	if (fuzz_key == NULL) {
		char *keypath;

		xasprintf(&keypath, "%s/fuzz/seal-key.pub", FUZZ_TESTS_DIR);
		if ((fuzz_key = sealkey_load_public(keypath)) == NULL)
			abort();
		free(keypath);
		fuzz_load_seeds();
	}
	path = fuzz_file("evidence", data, size);
	plain = fuzz_plain(path, data, size, &plain_len, &owned);
	verify_recording(path, fuzz_key, &v);
	fuzz_check_verdict(&v, plain, plain_len);
	if (v.kind == VERDICT_INTACT && (plain == NULL || !fuzz_is_sealed_seed(plain, plain_len)))
		abort(); /* a changed recording verified as intact */
	verify_audit_log(path, fuzz_key, &v);
	fuzz_check_verdict(&v, plain, plain_len);
	if (v.kind == VERDICT_INTACT && (plain == NULL || !fuzz_is_log_prefix(plain, plain_len)))
		abort(); /* a changed audit log verified as intact */
	free(owned);
	return 0;
}
