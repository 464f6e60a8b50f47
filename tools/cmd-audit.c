/* cmd-audit.c: `gatewayctl audit verify [--key FILE] [FILE]`: checks the audit log's
 * chain and signatures (default: audit_log from -f CONFIG). Reads only. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "evidence/verify.h"
#include "tools/evidence.h"

static int
cmd_audit_exec(struct ctl_context *ctx, int argc, char **argv)
{
	static const struct option opts[] = { { "key", required_argument, NULL, 'k' }, { 0 } };
	const struct gw_config *cfg;
	const char *keyfile = NULL, *path;
	struct sealkey *key;
	struct verdict v;
	char line[512];
	int ch;

	optind = 0; /* glibc: re-initialise, the dispatcher parsed with "+" */
	while ((ch = getopt_long(argc, argv, "k:", opts, NULL)) != -1) {
		if (ch != 'k')
			goto usage;
		keyfile = optarg;
	}
	if (optind >= argc || optind + 2 < argc || strcmp(argv[optind], "verify") != 0)
		goto usage;
	if (optind + 1 < argc)
		path = argv[optind + 1];
	else if ((cfg = ctl_config(ctx)) != NULL)
		path = cfg->audit_log;
	else
		return 2;
	if ((key = evidence_load_key(ctx, keyfile)) == NULL)
		return 2;
	verify_audit_log(path, key, &v);
	sealkey_free(key);
	if (v.kind == VERDICT_INTACT)
		printf("%s: intact (%ld events)\n", path, v.record < 0 ? 0 : v.record);
	else {
		verdict_format(&v, line, sizeof(line));
		printf("%s: %s\n", path, line);
	}
	return v.kind == VERDICT_INTACT ? 0 : 1;
usage:
	fprintf(stderr, "usage: gatewayctl audit %s\n", cmd_audit_entry.usage);
	return 2;
}

const struct ctl_command cmd_audit_entry = {
	.name = "audit",
	.usage = "verify [--key FILE] [FILE]",
	.exec = cmd_audit_exec,
};
