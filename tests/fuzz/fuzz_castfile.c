/* fuzz_castfile.c: libFuzzer harness for reading recordings back: the asciicast event reader
 * (evidence/castfile.c) and the transcript rendered through libvterm (tools/evidence.c), as
 * `gatewayctl transcript`, `search` and `replay` do on files an auditor may have been handed.
 * Checks that every event's bytes lie inside the data it came from and every line is text.
 * The first byte may choose the compressed form (evidence/castread.c): 0x00, the rest as a
 * .cast.zst file as it is (hostile zstd frames); 0x01, the rest compressed into a valid frame
 * (a hostile recording kept compressed); any other, the whole input as a plain .cast. */
#include "tests/fuzz/fuzz.h"

#include <zstd.h>

#include "tools/evidence.h"
#include "tools/transcript.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* evidence.c's only use of the command context is for a configuration, which the harness
 * never asks for: evidence_load_key() and evidence_recording_dir() are not called. */
const struct gw_config *
ctl_config(struct ctl_context *ctx)
{
	(void)ctx;
	abort();
}

static void
fuzz_line(enum transcript_kind kind, double time, const char *text, void *arg)
{
	size_t *total = arg, i;

	if (kind > TRANSCRIPT_NOTE || text == NULL)
		abort();
	/* termsafe: nothing a terminal would act on reaches the auditor's screen. */
	for (i = 0; text[i] != '\0'; i++)
		if ((unsigned char)text[i] < 0x20 || text[i] == 0x7f)
			abort();
	*total += i;
	(void)time;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cast_event ev;
	struct castfile *cf;
	const char *path;
	size_t total = 0;
	volatile unsigned char sink = 0;
	size_t i;
	int rc;

	if (size > 0 && data[0] == 0x00) {
		path = fuzz_file("recording.cast.zst", data + 1, size - 1);
	} else if (size > 0 && data[0] == 0x01) {
		size_t cap = ZSTD_compressBound(size - 1), n;
		void *frame = xmalloc(cap);

		n = ZSTD_compress(frame, cap, data + 1, size - 1, 1);
		if (ZSTD_isError(n))
			abort();
		path = fuzz_file("recording.cast.zst", frame, n);
		free(frame);
	} else {
		path = fuzz_file("recording.cast", data, size);
	}
	if ((cf = castfile_open(path)) != NULL) {
		if (castfile_header(cf) == NULL)
			abort();
		while ((rc = castfile_next(cf, &ev)) > 0) {
			if (memchr(ev.code, '\0', sizeof(ev.code)) == NULL ||
			    (ev.data == NULL && ev.len))
				abort();
			for (i = 0; i < ev.len; i++) /* ASan checks each byte is readable */
				sink ^= ev.data[i];
		}
		castfile_close(cf);
	}
	transcript_render(path, fuzz_line, &total);
	(void)sink;
	return 0;
}
