/* cmd-reload.c: `gatewayctl reload`: gatewayd re-reads its configuration, as on SIGHUP, and
 * says whether it took it: errors name FILE:LINE and exit 1 (the running configuration stays). */
#include <stdio.h>

#include "tools/ctlsocket.h"

static int
cmd_reload_exec(struct ctl_context *ctx, int argc, char **argv)
{
	json_t *reply;

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: gatewayctl reload\n");
		return 2;
	}
	/* Without -S the socket is found in the configuration: errors in it are printed here,
	 * and gatewayd, never asked, runs on with the configuration it has. */
	if (ctx->control_socket == NULL && ctl_config(ctx) == NULL) {
		fprintf(stderr,
		    "gatewayctl reload: not sent: the configuration has errors; gatewayd "
		    "runs on with the one it has\n");
		return 1;
	}
	/* A refused reload: ctl_control_call prints gatewayd's errors. */
	if ((reply = ctl_control_call(ctx, json_pack("{s:s}", "cmd", "reload"))) == NULL)
		return 1;
	printf("configuration reloaded; %lld live session(s) decide again under it\n",
	    (long long)json_integer_value(json_object_get(reply, "sessions")));
	json_decref(reply);
	return 0;
}

const struct ctl_command cmd_reload_entry = {
	.name = "reload",
	.usage = "",
	.exec = cmd_reload_exec,
};
