/* fuzz_console.c: libFuzzer harness for a console login's exec command (cmdline_split and
 * cmdline_options, policy/cmdline.c): bytes any authenticated person sends. Checks that the
 * words it accepts are bounded, hold no control character, and that options never read past
 * the words. */
#include "tests/fuzz/fuzz.h"

#include "policy/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct cmdline_option opts[] = { { "--for", false }, { "--from", false },
		{ "--reason", true }, { NULL, false } };
	const char *v[3];
	char why[128], **argv;
	size_t argc, i, total = 0;
	const char *p;

	why[0] = '\0';
	if (cmdline_split((const char *)data, size, &argv, &argc, why, sizeof(why)) != 0) {
		if (why[0] == '\0')
			abort(); /* every refusal says why */
		return 0;
	}
	if (argc == 0 || argc > CMDLINE_WORDS_MAX)
		abort();
	for (i = 0; i < argc; i++) {
		for (p = argv[i]; *p != '\0'; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				abort();
		total += strlen(argv[i]);
	}
	if (total > size)
		abort();
	if (cmdline_options(argv, argc, 1, opts, v, why, sizeof(why)) == 0)
		for (i = 0; i < 3; i++)
			if (v[i] != NULL && strlen(v[i]) > size)
				abort();
	for (i = 0; i < argc; i++)
		(void)request_text_is_valid(argv[i]);
	cmdline_free(argv, argc);
	return 0;
}
