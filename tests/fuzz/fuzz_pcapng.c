/* fuzz_pcapng.c: libFuzzer harness for pcapng recordings as an auditor receives them: the block
 * reader (evidence/pcapread.c) and verify_recording over it, against the public halves of the
 * keys that sealed the seed corpus (tests/fuzz/pcapng-key.pub the pcapng-v1 seeds,
 * pcapng-v2-key.pub the "-v2" ones; the private halves were deleted). Checks
 * that every block lies inside the bytes read and within the bound, that verdicts are in range,
 * and that "intact" means unchanged: an intact file is one of the sealed seeds byte for byte
 * (no byte of a sealed pcapng recording is outside its chain and signatures). */
#include "tests/fuzz/fuzz.h"

#include "evidence/pcapfmt.h"
#include "evidence/pcapread.h"
#include "evidence/verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_SEEDS_MAX 16
static const char *const fuzz_key_names[] = { "pcapng-key.pub", "pcapng-v2-key.pub" };
#define FUZZ_KEYS (sizeof(fuzz_key_names) / sizeof(fuzz_key_names[0]))
static struct sealkey *fuzz_keys[FUZZ_KEYS];
static char *fuzz_sealed[FUZZ_SEEDS_MAX];
static size_t fuzz_sealed_len[FUZZ_SEEDS_MAX], fuzz_nsealed;

/* A seed that verifies intact is one of the oracle's originals. */
static void
fuzz_load_seed(const char *path, const char *text, size_t len)
{
	struct verdict v;
	size_t k;

	for (k = 0; k < FUZZ_KEYS; k++) {
		verify_recording(path, fuzz_keys[k], &v);
		if (v.kind == VERDICT_INTACT)
			break;
	}
	if (v.kind == VERDICT_INTACT && fuzz_nsealed < FUZZ_SEEDS_MAX) {
		fuzz_sealed[fuzz_nsealed] = xmalloc(len);
		memcpy(fuzz_sealed[fuzz_nsealed], text, len);
		fuzz_sealed_len[fuzz_nsealed++] = len;
	}
}

static bool
fuzz_is_sealed_seed(const uint8_t *data, size_t size)
{
	size_t i;

	for (i = 0; i < fuzz_nsealed; i++)
		if (fuzz_sealed_len[i] == size && memcmp(fuzz_sealed[i], data, size) == 0)
			return true;
	return false;
}

/* Every block the reader returns: inside the bytes of the file, in bounds, its body inside it. */
static void
fuzz_blocks(const char *path, size_t size)
{
	volatile unsigned char sink = 0;
	const unsigned char *cd;
	struct pcap_block b;
	struct pcapread *r;
	size_t total = 0, i, n;
	uint32_t pen;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL)
		abort();
	r = pcapread_new(f);
	while (pcapread_next(r, &b) == PCAPREAD_BLOCK) {
		if (b.len < 12 || b.len % 4 != 0 || b.len > PCAP_BLOCK_MAX || b.body != b.raw + 8 ||
		    b.body_len != b.len - 12 || (total += b.len) > size)
			abort();
		for (i = 0; i < b.len; i++) /* ASan checks each byte is readable */
			sink ^= b.raw[i];
		if (pcapread_custom(r, &b, &pen, &cd, &n) == 0 &&
		    (cd < b.body || cd + n > b.body + b.body_len))
			abort();
	}
	if (pcapread_error(r) == NULL)
		abort();
	pcapread_free(r);
	fclose(f);
	(void)sink;
}

/* Verifies path with key: the verdict must be in range and say something; intact only for a
 * sealed seed byte for byte. */
static void
fuzz_verify(const char *path, const struct sealkey *key, const uint8_t *data, size_t size)
{
	struct verdict v;
	char text[512];

	verify_recording(path, key, &v);
	/* A record is one block or more, each of at least 12 bytes, or record 0 (the header's
	 * JSON). */
	if (v.kind > VERDICT_LIVE || v.record < -1 || v.records > size / 12 + 1 ||
	    (v.record >= 0 && (unsigned long)v.record > v.records) ||
	    memchr(v.checkpoint, '\0', sizeof(v.checkpoint)) == NULL ||
	    memchr(v.ended, '\0', sizeof(v.ended)) == NULL ||
	    memchr(v.reason, '\0', sizeof(v.reason)) == NULL ||
	    memchr(v.detail, '\0', sizeof(v.detail)) == NULL)
		abort();
	verdict_format(&v, text, sizeof(text));
	if (text[0] == '\0')
		abort();
	if (v.kind == VERDICT_INTACT && !fuzz_is_sealed_seed(data, size))
		abort(); /* a changed recording verified as intact */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path;
	size_t k;

	if (fuzz_keys[0] == NULL) {
		char *keypath;

		for (k = 0; k < FUZZ_KEYS; k++) {
			xasprintf(&keypath, "%s/fuzz/%s", FUZZ_TESTS_DIR, fuzz_key_names[k]);
			if ((fuzz_keys[k] = sealkey_load_public(keypath)) == NULL)
				abort();
			free(keypath);
		}
		fuzz_seeds("pcapng", fuzz_load_seed);
		if (fuzz_nsealed < 2)
			abort(); /* the oracle needs a sealed recording of each format among the
			            seeds */
	}
	path = fuzz_file("tunnel.pcapng", data, size);
	fuzz_blocks(path, size);
	for (k = 0; k < FUZZ_KEYS; k++)
		fuzz_verify(path, fuzz_keys[k], data, size);
	return 0;
}
