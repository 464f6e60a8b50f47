/* cmd-kill.c: `gatewayctl kill SESSION | --vendor V | --person P [--reason TEXT]`: the selected
 * live sessions are cut (returns once they confirmed it) and gone within a second, the vendor
 * told "session ended by the asset owner" and the reason. SESSION may be any unambiguous
 * prefix of a session id; gatewayd resolves it against the live sessions. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "tools/ctlsocket.h"

static int
cmd_kill_exec(struct ctl_context *ctx, int argc, char **argv)
{
	static const struct option opts[] = { { "vendor", required_argument, NULL, 'v' },
		{ "person", required_argument, NULL, 'p' },
		{ "reason", required_argument, NULL, 'r' }, { 0 } };
	const char *key = NULL, *name = NULL, *reason = NULL;
	json_t *request, *reply;
	int ch;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "v:p:r:", opts, NULL)) != -1) {
		if (ch == 'r' && reason == NULL) {
			reason = optarg;
			continue;
		}
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
	/* A reason that is no UTF-8 text cannot be sent; it must not be dropped silently. */
	if ((request = json_pack("{s:s, s:s}", "cmd", "kill", key, name)) == NULL ||
	    (reason != NULL && json_object_set_new(request, "reason", json_string(reason)) != 0)) {
		fprintf(stderr, "gatewayctl kill: names and --reason must be UTF-8 text\n");
		json_decref(request);
		return 2;
	}
	if ((reply = ctl_control_call(ctx, request)) == NULL)
		return 1;
	return ctl_report_cut(reply);
usage:
	fprintf(stderr, "usage: gatewayctl kill %s\n", cmd_kill_entry.usage);
	return 2;
}

const struct ctl_command cmd_kill_entry = {
	.name = "kill",
	.usage = "SESSION | --vendor VENDOR | --person PERSON [--reason TEXT]",
	.exec = cmd_kill_exec,
};
