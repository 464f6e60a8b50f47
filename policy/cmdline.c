/* cmdline.c: splits the command of a console login ("request plc-07 --for 2h") into words,
 * with a POSIX shell's quoting and nothing else: no expansion, no escapes of its own. Pure;
 * the input is the hostile exec string of an SSH channel, so every count and length is bounded. */
#include "policy/policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"

void
cmdline_free(char **argv, size_t argc)
{
	size_t i;

	if (argv == NULL)
		return;
	for (i = 0; i < argc; i++)
		free(argv[i]);
	free(argv);
}

/* Whether c may appear in a word: printable ASCII or a byte of UTF-8 (validated later by
 * what takes the word as text). Control characters never reach a console's output. */
static bool
cmdline_byte_ok(unsigned char c)
{
	return c >= 0x20 && c != 0x7f;
}

int
cmdline_split(
    const char *line, size_t len, char ***argv_out, size_t *argc_out, char *why, size_t whylen)
{
	char **argv = xcalloc(CMDLINE_WORDS_MAX, sizeof(*argv));
	char word[CMDLINE_MAX + 1];
	size_t i = 0, argc = 0, w;
	char quote;
	bool in_word;

	if (len > CMDLINE_MAX) {
		snprintf(why, whylen, "command longer than %d bytes", CMDLINE_MAX);
		goto fail;
	}
	while (i < len) {
		while (i < len && (line[i] == ' ' || line[i] == '\t'))
			i++;
		if (i == len)
			break;
		w = 0;
		in_word = true;
		quote = 0;
		for (; i < len && in_word; i++) {
			unsigned char c = (unsigned char)line[i];

			if (quote == 0 && (c == ' ' || c == '\t')) {
				in_word = false;
				break;
			}
			if (quote == 0 && (c == '\'' || c == '"'))
				quote = (char)c;
			else if (quote != 0 && c == (unsigned char)quote)
				quote = 0;
			else if (!cmdline_byte_ok(c)) {
				snprintf(why, whylen, "control character in the command");
				goto fail;
			} else
				word[w++] = (char)c;
		}
		if (quote != 0) {
			snprintf(why, whylen, "unterminated quote in the command");
			goto fail;
		}
		if (argc == CMDLINE_WORDS_MAX) {
			snprintf(
			    why, whylen, "more than %d words in the command", CMDLINE_WORDS_MAX);
			goto fail;
		}
		argv[argc++] = xstrndup(word, w);
	}
	if (argc == 0) {
		snprintf(why, whylen, "empty command");
		goto fail;
	}
	*argv_out = argv;
	*argc_out = argc;
	return 0;
fail:
	cmdline_free(argv, argc);
	return -1;
}

int
cmdline_options(char **argv, size_t argc, size_t first, const struct cmdline_option *opts,
    const char **values, char *why, size_t whylen)
{
	size_t i = first, k, n;
	char *joined;

	for (k = 0; opts[k].name != NULL; k++)
		values[k] = NULL;
	while (i < argc) {
		for (k = 0; opts[k].name != NULL; k++)
			if (strcmp(argv[i], opts[k].name) == 0)
				break;
		if (opts[k].name == NULL) {
			snprintf(why, whylen, "unknown option or extra word \"%.40s\"", argv[i]);
			return -1;
		}
		if (values[k] != NULL || i + 1 >= argc) {
			snprintf(why, whylen, "%s %s", opts[k].name,
			    values[k] != NULL ? "given twice" : "needs a value");
			return -1;
		}
		/* Free text ("--reason WO-4711 firmware update") keeps the words ssh joined, up to
		 * the next option: the vendor's shell removed the quotes around them. */
		for (n = 1;
		     opts[k].rest && i + 1 + n < argc && strncmp(argv[i + 1 + n], "--", 2) != 0;
		     n++) {
			xasprintf(&joined, "%s %s", argv[i + 1], argv[i + 1 + n]);
			free(argv[i + 1]);
			argv[i + 1] = joined;
		}
		values[k] = argv[i + 1];
		i += 1 + n;
	}
	return 0;
}
