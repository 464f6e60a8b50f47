/* cmd-sessions.c: `gatewayctl sessions [--json]`: the live sessions, from gatewayd's control
 * socket (id, person, vendor, target, source, started, ends at, ticket, bytes in/out);
 * `sessions --history [filters]` is `gatewayctl history`: the ended ones. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "tools/ctlsocket.h"

static const char *
sessions_str(const json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v != NULL ? v : "-";
}

static int
cmd_sessions_exec(struct ctl_context *ctx, int argc, char **argv)
{
	static const struct option opts[] = { { "json", no_argument, NULL, 'j' }, { 0 } };
	json_t *reply, *list, *o;
	char source[80];
	bool as_json = false;
	size_t i;
	int ch;

	if (argc > 1 && strcmp(argv[1], "--history") == 0)
		return cmd_history_entry.exec(ctx, argc - 1, argv + 1);
	optind = 0;
	while ((ch = getopt_long(argc, argv, "j", opts, NULL)) != -1) {
		if (ch != 'j')
			goto usage;
		as_json = true;
	}
	if (optind != argc)
		goto usage;
	if ((reply = ctl_control_call(ctx, json_pack("{s:s}", "cmd", "sessions"))) == NULL)
		return 1;
	list = json_object_get(reply, "sessions");
	if (as_json) {
		json_dumpf(list, stdout, JSON_INDENT(2));
		putchar('\n');
	} else {
		printf("%-32s %-20s %-12s %-16s %-22s %-20s %-20s %-16s %12s %12s\n", "ID",
		    "PERSON", "VENDOR", "TARGET", "SOURCE", "STARTED", "ENDS AT", "TICKET",
		    "BYTES IN", "BYTES OUT");
		json_array_foreach (list, i, o) {
			snprintf(source, sizeof(source), "%s:%lld", sessions_str(o, "source"),
			    (long long)json_integer_value(json_object_get(o, "source_port")));
			printf("%-32s %-20s %-12s %-16s %-22s %-20s %-20s %-16s %12lld %12lld\n",
			    sessions_str(o, "id"), sessions_str(o, "person"),
			    sessions_str(o, "vendor"), sessions_str(o, "target"), source,
			    sessions_str(o, "started"), sessions_str(o, "ends_at"),
			    sessions_str(o, "ticket"),
			    (long long)json_integer_value(json_object_get(o, "bytes_in")),
			    (long long)json_integer_value(json_object_get(o, "bytes_out")));
		}
	}
	json_decref(reply);
	return 0;
usage:
	fprintf(stderr, "usage: gatewayctl sessions %s\n", cmd_sessions_entry.usage);
	return 2;
}

const struct ctl_command cmd_sessions_entry = {
	.name = "sessions",
	.usage = "[--json] | --history [--person P] [--vendor V] [--target T] [--from D] [--to D]",
	.exec = cmd_sessions_exec,
};
