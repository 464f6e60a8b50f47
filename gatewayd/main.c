/* main.c: gatewayd's entry: options, configuration check (-t), and the listener.
 * Holds the process-wide state (the live configuration snapshot) and nothing else. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "gatewayd/gatewayd.h"

static void
usage(void)
{
	fprintf(stderr,
	    "usage: gatewayd [-d] [-D] [-t] [-f CONFIG]\n"
	    "  -f CONFIG  configuration file (default /etc/gatewayd/gatewayd.conf)\n"
	    "  -t         check the configuration and exit (0 valid, 1 invalid)\n"
	    "  -D         stay in the foreground, log to stderr\n"
	    "  -d         debug logging\n");
}

int
main(int argc, char **argv)
{
	const char *path = "/etc/gatewayd/gatewayd.conf";
	struct gw_config *cfg = NULL;
	bool test_only = false, foreground = false, debug = false;
	char *errors = NULL, err[512];
	int ch, rc;

	while ((ch = getopt(argc, argv, "dDtf:h")) != -1) {
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
		default:
			usage();
			return 2;
		}
	}
	if (optind != argc) {
		usage();
		return 2;
	}
	log_init("gatewayd", foreground || test_only, !test_only, debug);
	if (config_load(path, &cfg, &errors) != 0) {
		fputs(errors, stderr);
		free(errors);
		return 1;
	}
	if (test_only) {
		/* The daemon would refuse to start without them: so does the check. */
		if (frontproc_check(cfg, err, sizeof(err)) != 0) {
			fprintf(stderr, "%s: %s\n", path, err);
			config_free(cfg);
			return 1;
		}
		printf("%s: configuration valid\n", path);
		config_free(cfg);
		return 0;
	}
	rc = listener_run(path, cfg, foreground);
	return rc;
}
