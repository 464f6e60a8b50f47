/* gatewayctl.c: dispatches `gatewayctl [-f CONFIG] COMMAND ...` to the command table.
 * Never talks to a vendor; reads config, recordings and the audit log, or the control socket. */
#include "tools/gatewayctl.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"

static const struct ctl_command *const ctl_commands[] = {
	&cmd_config_entry,
	&cmd_recording_entry,
	&cmd_audit_entry,
	&cmd_keys_entry,
	&cmd_replay_entry,
	&cmd_transcript_entry,
	&cmd_transfers_entry,
	&cmd_search_entry,
	&cmd_history_entry,
	&cmd_ticket_entry,
	&cmd_sessions_entry,
	&cmd_kill_entry,
	&cmd_vendor_entry,
	&cmd_watch_entry,
	&cmd_reload_entry,
	&cmd_evidence_entry,
	&cmd_report_entry,
	&cmd_approve_entry,
};
#define CTL_NCOMMANDS (sizeof(ctl_commands) / sizeof(ctl_commands[0]))

const struct gw_config *
ctl_config(struct ctl_context *ctx)
{
	char *errors = NULL;

	if (ctx->config != NULL)
		return ctx->config;
	if (config_load(ctx->config_path, &ctx->config, &errors) != 0) {
		fputs(errors, stderr);
		free(errors);
		return NULL;
	}
	return ctx->config;
}

/* Asked for (--help): stdout. After a mistake: stderr. */
static void
ctl_usage(FILE *f)
{
	size_t i;

	fprintf(f,
	    "usage: gatewayctl [-f CONFIG] [-S CONTROL_SOCKET] COMMAND [ARGS]\n"
	    "       gatewayctl --help | COMMAND --help\n"
	    "commands:\n");
	for (i = 0; i < CTL_NCOMMANDS; i++)
		fprintf(f, "  %s %s\n", ctl_commands[i]->name, ctl_commands[i]->usage);
}

/* Whether the command's arguments ask for its usage: no command acts when one is "--help". */
static bool
ctl_wants_help(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0)
			return true;
	return false;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = { { "help", no_argument, NULL, 'h' }, { 0 } };
	struct ctl_context ctx = { .config_path = "/etc/gatewayd/gatewayd.conf" };
	size_t i;
	int ch, rc;

	log_init("gatewayctl", 1, 0, 0);
	while ((ch = getopt_long(argc, argv, "+f:S:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			ctx.config_path = optarg;
			break;
		case 'S':
			ctx.control_socket = optarg;
			break;
		case 'h':
			ctl_usage(stdout);
			return 0;
		default:
			ctl_usage(stderr);
			return 2;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		ctl_usage(stderr);
		return 2;
	}
	for (i = 0; i < CTL_NCOMMANDS; i++) {
		if (strcmp(ctl_commands[i]->name, argv[0]) == 0) {
			if (ctl_wants_help(argc, argv)) {
				printf("usage: gatewayctl %s %s\n", ctl_commands[i]->name,
				    ctl_commands[i]->usage);
				return 0;
			}
			optind = 1;
			rc = ctl_commands[i]->exec(&ctx, argc, argv);
			config_free(ctx.config);
			return rc;
		}
	}
	fprintf(stderr, "gatewayctl: unknown command \"%s\"\n", argv[0]);
	ctl_usage(stderr);
	return 2;
}
