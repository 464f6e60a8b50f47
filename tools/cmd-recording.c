/* cmd-recording.c: `gatewayctl recording verify [--key FILE] FILE...`: one verdict per
 * recording, exiting non-zero unless every file is intact and sealed; and `recording export
 * --asciicast`: what a stock player plays of one. Reads recordings only, never changes them. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "evidence/verify.h"
#include "tools/evidence.h"
#include "tools/termsafe.h"

struct recording_export {
	FILE *out;
	int failed;
};

/* One line of the export: JSON with every non-ASCII character escaped and every control byte
 * as \uXXXX (jansson), so even the export printed to a terminal cannot act on it. */
static void
recording_export_line(void *arg, json_t *line)
{
	struct recording_export *x = arg;
	char *text = line != NULL
	    ? json_dumps(line, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(9))
	    : NULL;

	if (text == NULL || fprintf(x->out, "%s\n", text) < 0)
		x->failed = 1;
	free(text);
	json_decref(line);
}

/* The file arg names: a path, or else a recording of recording_dir by its session id or file
 * name, as on the auditor's console (evidence_recording_path: where only that is allowed). */
static char *
recording_export_path(struct ctl_context *ctx, const char *arg)
{
	const char *dir;
	char *path;

	if (ctx->auditor != NULL || strchr(arg, '/') != NULL || access(arg, F_OK) == 0)
		return evidence_recording_path(ctx, arg);
	if ((dir = evidence_recording_dir(ctx, NULL)) == NULL)
		return NULL;
	if ((path = evidence_recording_in_dir(dir, arg)) == NULL && errno == ENOENT) {
		fputs("gatewayctl: no recording ", stderr);
		termsafe_print(stderr, arg);
		fputs(" in ", stderr);
		termsafe_print(stderr, dir);
		fputc('\n', stderr);
	}
	return path;
}

/* `recording export --asciicast SESSION|FILE [-o OUT]`: the recording (plain or compressed)
 * as plain asciicast v2 that `asciinema play` and `asciinema cat` read; OUT is created anew
 * (never overwritten), standard output without it. The evidence stays the recording: the
 * export carries no checkpoint and verifies nothing, its verdict goes to standard error. */
static int
recording_export(struct ctl_context *ctx, const char *arg, const char *outpath, const char *keyfile)
{
	struct recording_export x = { .out = stdout };
	const char *kind;
	struct sealkey *key;
	char line[512], *path;
	int fd, n;

	if (outpath != NULL && ctx->auditor != NULL) {
		fputs("-o: the console writes the export to your terminal only\n", stderr);
		return 2;
	}
	if ((path = recording_export_path(ctx, arg)) == NULL)
		return 1;
	key = evidence_load_key_if_any(ctx, keyfile);
	evidence_verdict(path, key, line, sizeof(line), &kind);
	sealkey_free(key);
	if (outpath != NULL) {
		fd = open(outpath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0 || (x.out = fdopen(fd, "w")) == NULL) {
			fprintf(stderr, "gatewayctl: %s: %s\n", outpath, strerror(errno));
			if (fd >= 0)
				close(fd);
			free(path);
			return 1;
		}
	}
	n = evidence_player_cast(path, recording_export_line, &x);
	if (outpath != NULL && fclose(x.out) != 0)
		x.failed = 1;
	else if (outpath == NULL && fflush(stdout) != 0)
		x.failed = 1;
	if (n < 0 || x.failed) {
		fprintf(stderr, "gatewayctl: the export of %s failed\n", arg);
		if (outpath != NULL)
			unlink(outpath);
		free(path);
		return 1;
	}
	fputs("verify: ", stderr);
	termsafe_print(stderr, line);
	fprintf(stderr, "\nexported %d output events\n", n);
	free(path);
	return 0;
}

static int
cmd_recording_exec(struct ctl_context *ctx, int argc, char **argv)
{
	static const struct option opts[] = { { "key", required_argument, NULL, 'k' },
		{ "asciicast", no_argument, NULL, 'a' }, { "output", required_argument, NULL, 'o' },
		{ 0 } };
	const char *keyfile = NULL, *outpath = NULL;
	struct sealkey *key;
	struct verdict v;
	char line[512], *path;
	int ch, i, rc = 0, asciicast = 0;

	optind = 0; /* glibc: re-initialise, the dispatcher parsed with "+" */
	while ((ch = getopt_long(argc, argv, "k:o:", opts, NULL)) != -1) {
		if (ch == 'k')
			keyfile = optarg;
		else if (ch == 'a')
			asciicast = 1;
		else if (ch == 'o')
			outpath = optarg;
		else
			goto usage;
	}
	if (optind + 2 == argc && strcmp(argv[optind], "export") == 0 && asciicast)
		return recording_export(ctx, argv[optind + 1], outpath, keyfile);
	if (optind + 2 > argc || strcmp(argv[optind], "verify") != 0 || asciicast ||
	    outpath != NULL)
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
	.usage = "verify [--key FILE] FILE... | export --asciicast [--key FILE] [-o OUT] "
	         "SESSION|FILE",
	.exec = cmd_recording_exec,
};
