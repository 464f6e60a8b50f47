/* cmd-search.c: `gatewayctl search PATTERN [filters]`: sessions whose typed input or shown
 * output matches an extended regular expression, with session id, time and the line.
 * Reads only; the pattern is never passed to a shell. */
#include <getopt.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>

#include "evidence/seal.h"
#include "tools/evidence.h"

struct search {
	regex_t re;
	const char *session;
	time_t started;
	unsigned long matches;
};

static void
search_line(enum transcript_kind kind, double time, const char *text, void *arg)
{
	struct search *s = arg;
	char when[SEAL_TIME_LEN];
	struct timespec ts;
	double whole = (double)s->started + time;

	if (regexec(&s->re, text, 0, NULL, 0) != 0)
		return;
	ts.tv_sec = (time_t)whole;
	ts.tv_nsec = (long)((whole - (double)ts.tv_sec) * 1e9);
	seal_format_time(when, &ts);
	printf("%s\t%s\t%s\t%s\n", s->session, when, kind == TRANSCRIPT_INPUT ? "typed" : "shown",
	    text);
	s->matches++;
}

static void
search_recording(const char *path, const json_t *meta, void *arg)
{
	struct search *s = arg;
	const char *started = json_string_value(json_object_get(meta, "started"));
	struct tm tm = { 0 };

	s->session = json_string_value(json_object_get(meta, "session_id"));
	if (s->session == NULL)
		s->session = path;
	s->started = started != NULL && strptime(started, "%Y-%m-%dT%H:%M:%S", &tm) != NULL
	    ? timegm(&tm)
	    : 0;
	transcript_render(path, search_line, s);
}

static int
cmd_search_exec(struct ctl_context *ctx, int argc, char **argv)
{
	static const struct option opts[] = { EVIDENCE_FILTER_OPTIONS, { 0 } };
	struct recording_filter filter = { 0 };
	const char *dirname = NULL, *dir;
	struct search s = { 0 };
	int ch;

	optind = 0; /* glibc: re-initialise, the dispatcher parsed with "+" */
	while ((ch = getopt_long(argc, argv, "p:v:t:F:T:d:", opts, NULL)) != -1) {
		if (ch == 'd')
			dirname = optarg;
		else if (ch == '?' || evidence_filter_option(&filter, ch, optarg) != 0)
			goto usage;
	}
	if (optind + 1 != argc)
		goto usage;
	if (regcomp(&s.re, argv[optind], REG_EXTENDED | REG_NOSUB) != 0) {
		fprintf(stderr, "gatewayctl: invalid pattern\n");
		return 2;
	}
	if ((dir = evidence_recording_dir(ctx, dirname)) == NULL ||
	    evidence_foreach_recording(dir, &filter, search_recording, &s) != 0) {
		regfree(&s.re);
		return 2;
	}
	regfree(&s.re);
	return s.matches > 0 ? 0 : 1;
usage:
	fprintf(stderr, "usage: gatewayctl search %s\n", cmd_search_entry.usage);
	return 2;
}

const struct ctl_command cmd_search_entry = {
	.name = "search",
	.usage = "PATTERN [--person P] [--vendor V] [--target T] [--from D] [--to D] [--dir DIR]",
	.exec = cmd_search_exec,
};
