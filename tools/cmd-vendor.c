/* cmd-vendor.c: `gatewayctl vendor list|disable|enable VENDOR`: a disabled vendor's live
 * sessions end and new ones are refused until enabled; gatewayd keeps this across restarts.
 * The list shows every configured vendor with what keeps it out, if anything. */
#include <stdio.h>
#include <string.h>

#include "tools/ctlsocket.h"

/* The listener's state names, as an owner reads them. */
static const char *
vendor_state_text(const char *state)
{
	static const struct {
		const char *name, *text;
	} states[] = {
		{ "enabled", "enabled" },
		{ "disabled_by_owner", "disabled by owner" },
		{ "disabled_in_config", "disabled in config" },
		{ "expired", "expired" },
	};
	size_t i;

	for (i = 0; state != NULL && i < sizeof(states) / sizeof(states[0]); i++)
		if (strcmp(state, states[i].name) == 0)
			return states[i].text;
	return "?";
}

static int
cmd_vendor_list(struct ctl_context *ctx)
{
	json_t *reply, *v;
	size_t i;

	if ((reply = ctl_control_call(ctx, json_pack("{s:s}", "cmd", "vendors"))) == NULL)
		return 1;
	printf("%-24s %-20s %s\n", "VENDOR", "STATE", "SESSIONS");
	/* Vendor ids are checked names (gatewayd's configuration): safe on a terminal. */
	json_array_foreach (json_object_get(reply, "vendors"), i, v)
		printf("%-24s %-20s %lld\n", json_string_value(json_object_get(v, "vendor")) ?: "?",
		    vendor_state_text(json_string_value(json_object_get(v, "state"))),
		    (long long)json_integer_value(json_object_get(v, "sessions")));
	json_decref(reply);
	return 0;
}

static int
cmd_vendor_exec(struct ctl_context *ctx, int argc, char **argv)
{
	json_t *reply;
	bool disable;

	if (argc == 2 && strcmp(argv[1], "list") == 0)
		return cmd_vendor_list(ctx);
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
	.usage = "list | disable|enable VENDOR",
	.exec = cmd_vendor_exec,
};
