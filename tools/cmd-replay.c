/* cmd-replay.c: `gatewayctl replay FILE [--speed X] [--idle-limit S]`: writes what the
 * target showed to the terminal with the original timing. Never writes into the file. Raw on
 * purpose, unlike every other command (tools/termsafe.h): reproducing the terminal is its job. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tools/evidence.h"

static void
replay_wait(double seconds)
{
	struct timespec ts;

	if (seconds <= 0)
		return;
	ts.tv_sec = (time_t)seconds;
	ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) != 0)
		;
}

static int
cmd_replay_exec(struct ctl_context *ctx, int argc, char **argv)
{
	static const struct option opts[] = { { "speed", required_argument, NULL, 's' },
		{ "idle-limit", required_argument, NULL, 'i' }, { 0 } };
	double speed = 1, idle = 0, last = 0, gap;
	struct castfile *cf;
	struct cast_event ev;
	char *end, *path;
	int ch, rc;

	optind = 0; /* glibc: re-initialise, the dispatcher parsed with "+" */
	while ((ch = getopt_long(argc, argv, "s:i:", opts, NULL)) != -1) {
		if (ch == 's' && (speed = strtod(optarg, &end)) > 0 && *end == '\0')
			continue;
		if (ch == 'i' && (idle = strtod(optarg, &end)) >= 0 && *end == '\0')
			continue;
		goto usage;
	}
	if (optind + 1 != argc)
		goto usage;
	if ((path = evidence_recording_path(ctx, argv[optind])) == NULL)
		return 1;
	cf = castfile_open(path);
	free(path);
	if (cf == NULL)
		return 1;
	while ((rc = castfile_next(cf, &ev)) > 0) {
		if (strcmp(ev.code, "o") != 0 && strcmp(ev.code, "e") != 0)
			continue;
		gap = ev.time - last;
		last = ev.time;
		if (idle > 0 && gap > idle)
			gap = idle;
		replay_wait(gap / speed);
		fwrite(ev.data, 1, ev.len, stdout);
		fflush(stdout);
	}
	castfile_close(cf);
	if (rc < 0)
		fprintf(stderr, "gatewayctl: %s: malformed event\n", argv[optind]);
	return rc < 0 ? 1 : 0;
usage:
	fprintf(stderr, "usage: gatewayctl replay %s\n", cmd_replay_entry.usage);
	return 2;
}

const struct ctl_command cmd_replay_entry = {
	.name = "replay",
	.usage = "FILE [--speed X] [--idle-limit S]   (raw: the target's escape sequences act on "
	         "this terminal)",
	.exec = cmd_replay_exec,
};
