/* cmd-keys.c: `gatewayctl keys export`: prints the public half of the gateway's recording
 * key (PEM) for auditors, creating the key on first use. Never prints the private key. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "evidence/seal.h"
#include "tools/gatewayctl.h"

static int
cmd_keys_exec(struct ctl_context *ctx, int argc, char **argv)
{
	const struct gw_config *cfg;
	struct sealkey *key;
	char *path;
	int rc;

	if (argc != 2 || strcmp(argv[1], "export") != 0) {
		fprintf(stderr, "usage: gatewayctl keys %s\n", cmd_keys_entry.usage);
		return 2;
	}
	if ((cfg = ctl_config(ctx)) == NULL)
		return 2;
	xasprintf(&path, "%s/recording_key", cfg->state_dir);
	key = sealkey_load_or_create(path);
	free(path);
	if (key == NULL)
		return 1;
	rc = sealkey_write_public(key, stdout);
	fprintf(stderr, "key id %s\n", sealkey_id(key));
	sealkey_free(key);
	return rc == 0 ? 0 : 1;
}

const struct ctl_command cmd_keys_entry = {
	.name = "keys",
	.usage = "export",
	.exec = cmd_keys_exec,
};
