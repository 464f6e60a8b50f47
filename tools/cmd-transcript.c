/* cmd-transcript.c: `gatewayctl transcript FILE`: the screen as a person saw it (through
 * libvterm), interleaved with the lines typed, the gateway's notes and their times. Reads only;
 * every line is termsafe (tools/evidence.h). */
#include <stdio.h>

#include "tools/evidence.h"

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
	(void)ctx;
	if (argc != 2) {
		fprintf(stderr, "usage: gatewayctl transcript %s\n", cmd_transcript_entry.usage);
		return 2;
	}
	return transcript_render(argv[1], transcript_print, NULL) == 0 ? 0 : 1;
}

const struct ctl_command cmd_transcript_entry = {
	.name = "transcript",
	.usage = "FILE",
	.exec = cmd_transcript_exec,
};
