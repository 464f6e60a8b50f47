/* cmd-vendor.c: `gatewayctl vendor disable|enable VENDOR`: a disabled vendor's live sessions
 * end and new ones are refused until enabled; gatewayd keeps this across restarts. */
#include <stdio.h>
#include <string.h>

#include "tools/ctlsocket.h"

static int
cmd_vendor_exec(struct ctl_context *ctx, int argc, char **argv)
{
	json_t *reply;
	bool disable;

	if (argc != 3 || (strcmp(argv[1], "disable") != 0 && strcmp(argv[1], "enable") != 0)) {
		fprintf(stderr, "usage: gatewayctl vendor %s\n", cmd_vendor_entry.usage);
		return 2;
	}
	disable = strcmp(argv[1], "disable") == 0;
	if ((reply = ctl_control_call(ctx,
	         json_pack("{s:s, s:s}", "cmd", disable ? "vendor_disable" : "vendor_enable",
	             "vendor", argv[2]))) == NULL)
		return 1;
	printf("vendor %s %s%s", argv[2], disable ? "disabled" : "enabled",
	    json_is_true(json_object_get(reply, "changed")) ? "" : " (already)");
	if (disable)
		printf(", %lld live session(s) told to end",
		    (long long)json_integer_value(json_object_get(reply, "killed")));
	putchar('\n');
	json_decref(reply);
	return 0;
}

const struct ctl_command cmd_vendor_entry = {
	.name = "vendor",
	.usage = "disable|enable VENDOR",
	.exec = cmd_vendor_exec,
};
