/* cmd-report.c: `gatewayctl report`: for a quick look, the evidence bundle's report of a period
 * (report.h) on standard output, as text, JSON or the bundle's index.html, of one vendor or of
 * all; from the gateway's recordings and audit log, or copies of them. Options only; reads only. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tools/evidence.h"
#include "tools/report.h"

enum report_format { REPORT_AS_TEXT, REPORT_AS_JSON, REPORT_AS_HTML };

static int
report_print(const json_t *model, enum report_format format)
{
	switch (format) {
	case REPORT_AS_JSON:
		if (json_dumpf(model, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0)
			return -1;
		putchar('\n');
		break;
	case REPORT_AS_HTML:
		html_head(stdout, bundle_str(model, "title"), "");
		report_html_body(stdout, model);
		html_tail(stdout);
		break;
	case REPORT_AS_TEXT:
		report_text_write(stdout, model);
		break;
	}
	return fflush(stdout) == 0 ? 0 : -1;
}

/* An auditor's console: the gateway's own evidence, of one vendor the auditor may read (the
 * report's audit lines are filtered by one vendor or none); its only one by default. */
static int
report_scope(
    const struct gw_auditor *a, struct recording_filter *f, const char *dir, const char *audit)
{
	if (dir != NULL || audit != NULL) {
		fprintf(stderr, "--dir, --audit: the console reads the gateway's own evidence\n");
		return -1;
	}
	if (f->vendor == NULL && a->nvendors == 1 && strcmp(a->vendors[0], "*") != 0)
		f->vendor = a->vendors[0];
	if (f->vendor == NULL && !auditor_may_read(a, "*")) {
		fprintf(stderr, "give --vendor V: a report covers one of your vendors\n");
		return -1;
	}
	if (f->vendor != NULL && !auditor_may_read(a, f->vendor)) {
		fprintf(stderr, "no vendor %s in your scope\n", f->vendor);
		return -1;
	}
	return 0;
}

static int
cmd_report_exec(struct ctl_context *ctx, int argc, char **argv)
{
	static const struct option opts[] = { { "vendor", required_argument, NULL, 'v' },
		{ "target", required_argument, NULL, 't' },
		{ "since", required_argument, NULL, 'S' }, { "from", required_argument, NULL, 'F' },
		{ "to", required_argument, NULL, 'T' }, { "dir", required_argument, NULL, 'd' },
		{ "recordings", required_argument, NULL, 'd' },
		{ "audit", required_argument, NULL, 'a' }, { "key", required_argument, NULL, 'k' },
		{ "format", required_argument, NULL, 'o' }, { 0 } };
	static const char *const formats[] = {
		[REPORT_AS_TEXT] = "text", [REPORT_AS_JSON] = "json", [REPORT_AS_HTML] = "html"
	};
	struct recording_filter f = { 0 };
	const char *dir = NULL, *audit = NULL, *keyfile = NULL;
	enum report_format format = REPORT_AS_TEXT;
	const struct gw_config *cfg = NULL;
	struct bundle_spec spec = { .display_tz = "UTC" };
	struct bundle b = { .spec = &spec };
	struct sealkey *key;
	json_t *model;
	size_t i;
	int ch, rc;

	optind = 0; /* glibc: re-initialise, the dispatcher parsed with "+" */
	while ((ch = getopt_long(argc, argv, "v:t:S:F:T:d:a:k:o:", opts, NULL)) != -1) {
		if (ch == 'd')
			dir = optarg;
		else if (ch == 'a')
			audit = optarg;
		else if (ch == 'k')
			keyfile = optarg;
		else if (ch == 'o') {
			for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
				if (strcmp(optarg, formats[i]) == 0)
					break;
			if (i == sizeof(formats) / sizeof(formats[0]))
				goto usage;
			format = (enum report_format)i;
		} else if (ch == '?' || evidence_filter_option(&f, ch, optarg) != 0)
			goto usage;
	}
	/* Without a period: the last 24 hours. A period ends now unless --to says otherwise. */
	if (f.from == 0)
		(void)evidence_filter_option(&f, 'S', "24h");
	if (f.to == 0)
		f.to = time(NULL) + 1;
	if (optind != argc || f.from >= f.to)
		goto usage;
	if (ctx->auditor != NULL && report_scope(ctx->auditor, &f, dir, audit) != 0)
		return 2;
	/* Off the gateway, --dir and --audit name copies, and the configuration is not needed. */
	if ((dir == NULL || audit == NULL || access(ctx->config_path, R_OK) == 0) &&
	    (cfg = ctl_config(ctx)) == NULL)
		return 2;
	if ((key = evidence_load_key(ctx, keyfile)) == NULL)
		return 2;
	spec.vendor = f.vendor;
	spec.target = f.target;
	spec.from = f.from;
	spec.to = f.to;
	if (cfg != NULL)
		spec.display_tz = cfg->display_tz;
	b.cfg = cfg;
	b.events = json_array();
	rc = bundle_gather(&b, dir != NULL ? dir : cfg->recording_dir,
	    audit != NULL ? audit : cfg->audit_log, key, NULL);
	if (rc == 0) {
		model = report_model_build(&b);
		rc = report_print(model, format);
		json_decref(model);
	}
	bundle_free(&b);
	sealkey_free(key);
	return rc == 0 ? 0 : 1;
usage:
	fprintf(stderr, "usage: gatewayctl report %s\n", cmd_report_entry.usage);
	return 2;
}

const struct ctl_command cmd_report_entry = {
	.name = "report",
	.usage = "[--vendor V] [--target T] [--since N(s|m|h|d)] [--from TIME] [--to TIME] "
	         "[--format text|json|html] [--key FILE] [--dir DIR --audit FILE]",
	.exec = cmd_report_exec,
};
