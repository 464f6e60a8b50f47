/* cmd-audit.c: `gatewayctl audit verify [--key FILE] [--recordings DIR] [FILE]`: checks the
 * audit log's chain and signatures (default: audit_log from -f CONFIG), and with --recordings
 * the recordings of DIR against it (crosscheck.c). Reads only. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "evidence/verify.h"
#include "tools/crosscheck.h"
#include "tools/evidence.h"
#include "tools/termsafe.h"

static int
cmd_audit_exec(struct ctl_context *ctx, int argc, char **argv)
{
	static const struct option opts[] = { { "key", required_argument, NULL, 'k' },
		{ "recordings", required_argument, NULL, 'r' }, { 0 } };
	const struct gw_config *cfg;
	const char *keyfile = NULL, *path, *dir = NULL;
	struct sealkey *key;
	struct verdict v;
	char line[512];
	int ch, bad = 0;

	optind = 0; /* glibc: re-initialise, the dispatcher parsed with "+" */
	while ((ch = getopt_long(argc, argv, "k:r:", opts, NULL)) != -1) {
		if (ch == 'k')
			keyfile = optarg;
		else if (ch == 'r')
			dir = optarg;
		else
			goto usage;
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
	if (v.kind == VERDICT_INTACT)
		snprintf(line, sizeof(line), "intact (%ld events)", v.record < 0 ? 0 : v.record);
	else
		verdict_format(&v, line, sizeof(line));
	termsafe_print(stdout, path);
	fputs(": ", stdout);
	termsafe_print(stdout, line);
	putchar('\n');
	/* Even a log that fails its chain says which recordings it named: all are listed. */
	if (dir != NULL)
		bad = crosscheck_recordings(path, dir, key);
	sealkey_free(key);
	if (bad < 0)
		return 2;
	return v.kind == VERDICT_INTACT && bad == 0 ? 0 : 1;
usage:
	fprintf(stderr, "usage: gatewayctl audit %s\n", cmd_audit_entry.usage);
	return 2;
}

const struct ctl_command cmd_audit_entry = {
	.name = "audit",
	.usage = "verify [--key FILE] [--recordings DIR] [FILE]",
	.exec = cmd_audit_exec,
};
