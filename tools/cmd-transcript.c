/* cmd-transcript.c: `gatewayctl transcript [--key FILE] FILE`: the recording's verify verdict,
 * then the screen as a person saw it (through libvterm), interleaved with the lines typed, the
 * gateway's notes and their times. Reads only; every line is termsafe (tools/evidence.h). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "tools/evidence.h"
#include "tools/transcript.h"
#include "tools/termsafe.h"

static void
transcript_print(enum transcript_kind kind, double time, const char *text, void *arg)
{
	(void)arg;
	switch (kind) {
	case TRANSCRIPT_SCREEN:
		printf("            | %s\n", text);
		break;
	case TRANSCRIPT_INPUT:
		printf("[%9.3f] > %s\n", time, text);
		break;
	case TRANSCRIPT_PIECE:
		printf("[%9.3f] > %s   [line continues]\n", time, text);
		break;
	case TRANSCRIPT_UNENDED:
		printf("[%9.3f] > %s   [input ends here, no newline]\n", time, text);
		break;
	case TRANSCRIPT_NOTE:
		printf("[%9.3f] ! %s\n", time, text);
		break;
	}
}

static int
cmd_transcript_exec(struct ctl_context *ctx, int argc, char **argv)
{
	static const struct option opts[] = { { "key", required_argument, NULL, 'k' }, { 0 } };
	const char *keyfile = NULL, *kind;
	struct sealkey *key;
	char verdict[512], *path;
	int ch, rc;

	optind = 0; /* glibc: re-initialise, the dispatcher parsed with "+" */
	while ((ch = getopt_long(argc, argv, "k:", opts, NULL)) != -1) {
		if (ch != 'k')
			goto usage;
		keyfile = optarg;
	}
	if (optind + 1 != argc)
		goto usage;
	if ((path = evidence_recording_path(ctx, argv[optind])) == NULL)
		return 1;
	if ((key = evidence_load_key_if_any(ctx, keyfile)) == NULL && keyfile != NULL) {
		free(path);
		return 2;
	}
	/* First, so nobody reads a tampered or cut-off transcript as the session. */
	evidence_verdict(path, key, verdict, sizeof(verdict), &kind);
	sealkey_free(key);
	fputs("verify: ", stdout);
	termsafe_print(stdout, verdict);
	putchar('\n');
	rc = transcript_render(path, transcript_print, NULL) == 0 ? 0 : 1;
	free(path);
	return rc;
usage:
	fprintf(stderr, "usage: gatewayctl transcript %s\n", cmd_transcript_entry.usage);
	return 2;
}

const struct ctl_command cmd_transcript_entry = {
	.name = "transcript",
	.usage = "[--key FILE] FILE",
	.exec = cmd_transcript_exec,
};
