/* cmd-sessions.c: `gatewayctl sessions [--json]`: the live sessions, from gatewayd's control
 * socket (id, person, vendor, target, source, started, ends at, ticket, bytes in/out);
 * `sessions --history [filters]` is `gatewayctl history`: the ended ones. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/ctlsocket.h"
#include "tools/evidence.h"
#include "tools/termsafe.h"

/* The member as termsafe text ("-" when absent); the caller frees it. */
static char *
sessions_str(const json_t *o, const char *key)
{
	return termsafe_str(json_string_value(json_object_get(o, key)));
}

static int
cmd_sessions_exec(struct ctl_context *ctx, int argc, char **argv)
{
	static const struct option opts[] = { { "json", no_argument, NULL, 'j' }, { 0 } };
	json_t *reply, *list, *o;
	char source[80];
	bool as_json = false, shared = false;
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
		json_dumpf(list, stdout, JSON_INDENT(2) | JSON_ENSURE_ASCII);
		putchar('\n');
	} else {
		/* Gateways sharing a store list each other's sessions: then say whose. */
		json_array_foreach (list, i, o)
			shared |= json_object_get(o, "gateway") != NULL;
		if (shared)
			printf("%-12s ", "GATEWAY");
		printf("%-32s %-20s %-12s %-16s %-22s %-20s %-20s %-16s %12s %12s %7s %9s\n", "ID",
		    "PERSON", "VENDOR", "TARGET", "SOURCE", "STARTED", "ENDS AT", "TICKET",
		    "BYTES IN", "BYTES OUT", "TUNNELS", "PACKETS");
		json_array_foreach (list, i, o) {
			const char *addr = json_string_value(json_object_get(o, "source"));
			char *f[8];
			size_t k;

			f[0] = sessions_str(o, "id"), f[1] = sessions_str(o, "person");
			f[2] = sessions_str(o, "vendor"), f[3] = sessions_str(o, "target");
			f[4] = sessions_str(o, "started"), f[5] = sessions_str(o, "ends_at");
			f[6] = sessions_str(o, "ticket");
			snprintf(source, sizeof(source), "%s:%lld", addr != NULL ? addr : "-",
			    (long long)json_integer_value(json_object_get(o, "source_port")));
			f[7] = termsafe_str(source);
			if (shared) {
				char *g = sessions_str(o, "gateway");

				printf("%-12s ", g);
				free(g);
			}
			printf(
			    "%-32s %-20s %-12s %-16s %-22s %-20s %-20s %-16s %12lld %12lld %7lld "
			    "%9lld\n",
			    f[0], f[1], f[2], f[3], f[7], f[4], f[5], f[6],
			    (long long)json_integer_value(json_object_get(o, "bytes_in")),
			    (long long)json_integer_value(json_object_get(o, "bytes_out")),
			    (long long)json_integer_value(json_object_get(o, "tunnels")),
			    (long long)json_integer_value(json_object_get(o, "packets")));
			for (k = 0; k < 8; k++)
				free(f[k]);
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
	.usage = "[--json] | --history " EVIDENCE_FILTER_USAGE " [--key FILE]",
	.exec = cmd_sessions_exec,
};
