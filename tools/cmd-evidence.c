/* cmd-evidence.c: `gatewayctl evidence export|verify`: the evidence bundle of one vendor's
 * period for an assessor (bundle-*.c, docs/evidence-bundle.md). Options only; no evidence logic. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tools/bundle.h"
#include "tools/evidence.h"

static int
evidence_export(struct ctl_context *ctx, int argc, char **argv)
{
	static const struct option opts[] = { { "vendor", required_argument, NULL, 'v' },
		{ "target", required_argument, NULL, 't' },
		{ "from", required_argument, NULL, 'F' }, { "to", required_argument, NULL, 'T' },
		{ "output", required_argument, NULL, 'o' },
		{ "player", required_argument, NULL, 'P' }, { "zip", no_argument, NULL, 'z' },
		{ 0 } };
	struct recording_filter f = { 0 };
	struct bundle_spec spec = { .player_dir = bundle_player_dir(),
		.player_fds = ctx->player_fds };
	bool player = false;
	const struct gw_config *cfg;
	char top[256], from[32], to[32];
	int ch;

	optind = 0; /* glibc: re-initialise, the dispatcher parsed with "+" */
	while ((ch = getopt_long(argc, argv, "v:t:F:T:o:P:z", opts, NULL)) != -1) {
		if (ch == 'o')
			spec.dir = optarg;
		else if (ch == 'P') {
			spec.player_dir = optarg;
			player = true;
		} else if (ch == 'z')
			spec.zip = true;
		else if (ch == '?' || evidence_filter_option(&f, ch, optarg) != 0)
			return -1;
	}
	/* An auditor's console: a tar on the ssh channel, of a vendor in the auditor's scope. */
	if (ctx->auditor != NULL && (spec.dir != NULL || spec.zip || player)) {
		fprintf(stderr,
		    "-o, --zip, --player: the console streams the bundle as a tar to "
		    "standard output (ssh ... > bundle.tar)\n");
		return 2;
	}
	if (ctx->auditor != NULL)
		spec.dir = "-";
	if (f.vendor == NULL || f.from == 0 || f.to == 0 || spec.dir == NULL || optind != argc ||
	    f.from >= f.to)
		return -1;
	if (ctx->auditor != NULL && !auditor_may_read(ctx->auditor, f.vendor)) {
		fprintf(stderr, "no vendor %s in your scope\n", f.vendor);
		return 2;
	}
	if ((cfg = ctl_config(ctx)) == NULL)
		return 2;
	/* -o -: a tar archive on stdout, its one folder named after what it holds. */
	if (strcmp(spec.dir, "-") == 0) {
		if (spec.zip)
			return -1;
		strftime(from, sizeof(from), "%Y%m%dT%H%M%SZ", gmtime(&f.from));
		strftime(to, sizeof(to), "%Y%m%dT%H%M%SZ", gmtime(&f.to));
		snprintf(top, sizeof(top), "%.64s-%s-%s", f.vendor, from, to);
		spec.dir = top;
		spec.tar = stdout;
	}
	spec.vendor = f.vendor;
	spec.target = f.target;
	spec.from = f.from;
	spec.to = f.to;
	spec.display_tz = cfg->display_tz;
	return bundle_export(ctx, &spec);
}

static int
evidence_verify(int argc, char **argv)
{
	static const struct option opts[] = { { "key", required_argument, NULL, 'k' }, { 0 } };
	const char *keyfile = NULL;
	int ch;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "k:", opts, NULL)) != -1) {
		if (ch != 'k')
			return -1;
		keyfile = optarg;
	}
	if (optind + 1 != argc)
		return -1;
	return bundle_verify(argv[optind], keyfile);
}

static int
cmd_evidence_exec(struct ctl_context *ctx, int argc, char **argv)
{
	int rc = -1;

	/* The verb goes first; each verb parses its own options after it. */
	if (argc >= 2 && strcmp(argv[1], "export") == 0)
		rc = evidence_export(ctx, argc - 1, argv + 1);
	else if (argc >= 2 && strcmp(argv[1], "verify") == 0 && ctx->auditor != NULL) {
		fprintf(stderr,
		    "evidence verify: on the assessor's own machine, with the tar "
		    "unpacked (gatewayctl evidence verify DIR --key FILE)\n");
		return 2;
	} else if (argc >= 2 && strcmp(argv[1], "verify") == 0)
		rc = evidence_verify(argc - 1, argv + 1);
	if (rc >= 0)
		return rc;
	fprintf(stderr, "usage: gatewayctl evidence %s\n", cmd_evidence_entry.usage);
	return 2;
}

const struct ctl_command cmd_evidence_entry = {
	.name = "evidence",
	.usage = "export --vendor V [--target T] --from DATE --to DATE -o DIR|- [--zip] [--player "
	         "DIR] | "
	         "verify DIR [--key FILE]",
	.exec = cmd_evidence_exec,
};
