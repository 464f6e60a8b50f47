/* cmd-config.c: `gatewayctl config check|targets`: validate the configuration, list targets.
 * Reads the file only; prints no secrets (credential paths, never their contents). */
#include "tools/gatewayctl.h"

#include <stdio.h>
#include <string.h>

static int
cmd_config_exec(struct ctl_context *ctx, int argc, char **argv)
{
	const struct gw_config *cfg;
	size_t i;

	if (argc != 2 || (strcmp(argv[1], "check") != 0 && strcmp(argv[1], "targets") != 0)) {
		fprintf(stderr, "usage: gatewayctl config %s\n", cmd_config_entry.usage);
		return 2;
	}
	if ((cfg = ctl_config(ctx)) == NULL)
		return 1;
	if (strcmp(argv[1], "check") == 0) {
		printf("%s: valid (%zu vendors, %zu targets, %zu grants)\n", cfg->path,
		    cfg->nvendors, cfg->ntargets, cfg->ngrants);
		return 0;
	}
	for (i = 0; i < cfg->ntargets; i++)
		if (cfg->targets[i].ssh)
			printf("%s\t%s:%d\t%s\n", cfg->targets[i].name, cfg->targets[i].address,
			    cfg->targets[i].port, cfg->targets[i].user);
		else /* a device without SSH (docs/forwarding.md) */
			printf("%s\t%s\tforwarding only\n", cfg->targets[i].name,
			    cfg->targets[i].address);
	return 0;
}

const struct ctl_command cmd_config_entry = {
	.name = "config",
	.usage = "check|targets",
	.exec = cmd_config_exec,
};
