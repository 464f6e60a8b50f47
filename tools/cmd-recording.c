/* cmd-recording.c: `gatewayctl recording verify [--key FILE] FILE...`: one verdict per
 * recording. Reads only; exits non-zero unless every file is intact and sealed. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evidence/verify.h"
#include "tools/evidence.h"
#include "tools/termsafe.h"

static int
cmd_recording_exec(struct ctl_context *ctx, int argc, char **argv)
{
	static const struct option opts[] = { { "key", required_argument, NULL, 'k' }, { 0 } };
	const char *keyfile = NULL;
	struct sealkey *key;
	struct verdict v;
	char line[512], *path;
	int ch, i, rc = 0;

	optind = 0; /* glibc: re-initialise, the dispatcher parsed with "+" */
	while ((ch = getopt_long(argc, argv, "k:", opts, NULL)) != -1) {
		if (ch != 'k')
			goto usage;
		keyfile = optarg;
	}
	if (optind + 2 > argc || strcmp(argv[optind], "verify") != 0)
		goto usage;
	if ((key = evidence_load_key(ctx, keyfile)) == NULL)
		return 2;
	for (i = optind + 1; i < argc; i++) {
		if ((path = evidence_recording_path(ctx, argv[i])) == NULL) {
			rc = 1;
			continue;
		}
		verify_recording(path, key, &v);
		free(path);
		verdict_format(&v, line, sizeof(line));
		termsafe_print(stdout, argv[i]);
		fputs(": ", stdout);
		termsafe_print(stdout, line);
		putchar('\n');
		if (v.kind != VERDICT_INTACT)
			rc = 1;
	}
	sealkey_free(key);
	return rc;
usage:
	fprintf(stderr, "usage: gatewayctl recording %s\n", cmd_recording_entry.usage);
	return 2;
}

const struct ctl_command cmd_recording_entry = {
	.name = "recording",
	.usage = "verify [--key FILE] FILE...",
	.exec = cmd_recording_exec,
};
