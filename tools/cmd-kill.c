/* cmd-kill.c: `gatewayctl kill SESSION | --vendor V | --person P`: the selected live
 * sessions are cut (returns once they confirmed it) and gone within a second, the vendor told
 * "session ended by the asset owner". */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "tools/ctlsocket.h"

static int
cmd_kill_exec(struct ctl_context *ctx, int argc, char **argv)
{
	static const struct option opts[] = { { "vendor", required_argument, NULL, 'v' },
		{ "person", required_argument, NULL, 'p' }, { 0 } };
	const char *key = NULL, *name = NULL;
	json_t *reply;
	int ch;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "v:p:", opts, NULL)) != -1) {
		if ((ch != 'v' && ch != 'p') || key != NULL)
			goto usage;
		key = ch == 'v' ? "vendor" : "person";
		name = optarg;
	}
	if (key == NULL && optind + 1 == argc) {
		key = "session";
		name = argv[optind];
	} else if (optind != argc)
		goto usage;
	if (key == NULL)
		goto usage;
	if ((reply = ctl_control_call(ctx, json_pack("{s:s, s:s}", "cmd", "kill", key, name))) ==
	    NULL)
		return 1;
	return ctl_report_cut(reply);
usage:
	fprintf(stderr, "usage: gatewayctl kill %s\n", cmd_kill_entry.usage);
	return 2;
}

const struct ctl_command cmd_kill_entry = {
	.name = "kill",
	.usage = "SESSION | --vendor VENDOR | --person PERSON",
	.exec = cmd_kill_exec,
};
