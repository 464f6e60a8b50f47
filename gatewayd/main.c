/* main.c: gatewayd's entry: options, configuration check (-t), and the listener.
 * Holds the process-wide state (the live configuration snapshot) and nothing else. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "gatewayd/gatewayd.h"
#include "gatewayd/store.h"

/* Asked for (-h, --help): stdout. After a mistake: stderr. */
static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: gatewayd [-d] [-D] [-t] [-f CONFIG] | --migrate [-f CONFIG] | -h\n"
	    "  -f CONFIG  configuration file (default /etc/gatewayd/gatewayd.conf)\n"
	    "  -t         check the configuration and exit (0 valid, 1 invalid)\n"
	    "  --migrate  create or upgrade the shared store's schema (store = postgresql) and "
	    "exit\n"
	    "  -D         stay in the foreground, log to stderr\n"
	    "  -d         debug logging\n"
	    "  -h, --help this text\n");
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = { { "help", no_argument, NULL, 'h' },
		{ "migrate", no_argument, NULL, 'M' }, { 0 } };
	const char *path = "/etc/gatewayd/gatewayd.conf";
	struct gw_config *cfg = NULL;
	bool test_only = false, foreground = false, debug = false, migrate = false;
	char *errors = NULL, *warnings, err[512];
	int ch, rc, version;

	while ((ch = getopt_long(argc, argv, "dDtf:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			debug = true;
			foreground = true;
			break;
		case 'D':
			foreground = true;
			break;
		case 't':
			test_only = true;
			break;
		case 'f':
			path = optarg;
			break;
		case 'M':
			migrate = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	log_init("gatewayd", foreground || test_only || migrate, !test_only && !migrate, debug);
	if (config_load(path, &cfg, &errors) != 0) {
		fputs(errors, stderr);
		free(errors);
		return 1;
	}
	if (migrate) {
		rc = store_migrate(cfg, &version, err, sizeof(err));
		if (rc == 0)
			printf("%s: the store's schema is at version %d\n", path, version);
		else
			fprintf(stderr, "%s: migration failed: %s\n", path, err);
		config_free(cfg);
		return rc == 0 ? 0 : 1;
	}
	if (test_only) {
		/* The daemon would refuse to start without them: so does the check. */
		if (frontproc_check(cfg, err, sizeof(err)) != 0) {
			fprintf(stderr, "%s: %s\n", path, err);
			config_free(cfg);
			return 1;
		}
		/* Valid, but perhaps not what was meant: windows that can never open. */
		if ((warnings = config_warn_windows(cfg, time(NULL))) != NULL)
			fputs(warnings, stderr);
		free(warnings);
		printf("%s: configuration valid\n", path);
		config_free(cfg);
		return 0;
	}
	rc = listener_run(path, cfg, foreground);
	return rc;
}
