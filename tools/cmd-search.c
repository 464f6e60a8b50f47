/* cmd-search.c: `gatewayctl search PATTERN [filters]`: recordings whose typed input, shown output,
 * exec command, subsystem or transfer paths match an extended regular expression; each hit with
 * session, time, person, target, the recording's verify verdict, what matched and the line. Reads
 * only; the pattern is never passed to a shell, and matches the termsafe text that is printed. */
#include <getopt.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "evidence/seal.h"
#include "tools/evidence.h"
#include "tools/transcript.h"
#include "tools/termsafe.h"

struct search {
	regex_t re;
	const struct sealkey *key;
	const char *verdict; /* verdict_kind_name of the recording being read, or "unchecked" */
	char *session, *person, *target; /* termsafe */
	time_t started;
	unsigned long matches;
};

static void
search_hit(struct search *s, double time, const char *what, const char *text)
{
	char when[SEAL_TIME_LEN];
	struct timespec ts;
	double whole = (double)s->started + time;

	if (regexec(&s->re, text, 0, NULL, 0) != 0)
		return;
	ts.tv_sec = (time_t)whole;
	ts.tv_nsec = (long)((whole - (double)ts.tv_sec) * 1e9);
	seal_format_time(when, &ts);
	printf("%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s->session, when, s->person, s->target, s->verdict,
	    what, text);
	s->matches++;
}

static void
search_line(enum transcript_kind kind, double time, const char *text, void *arg)
{
	static const char *const what[] = { [TRANSCRIPT_SCREEN] = "shown",
		[TRANSCRIPT_INPUT] = "typed",
		[TRANSCRIPT_UNENDED] = "typed-unended",
		[TRANSCRIPT_NOTE] = "note" };

	search_hit(arg, time, what[kind], text);
}

static void
search_recording(const char *path, const json_t *meta, void *arg)
{
	struct search *s = arg;
	const char *started = json_string_value(json_object_get(meta, "started"));
	const char *kind = json_string_value(json_object_get(meta, "kind"));
	char *user = evidence_meta_text(meta, "target_user");
	char *target = evidence_meta_text(meta, "target");
	char *command = evidence_meta_text(meta, "command");
	char line[512];
	struct tm tm = { 0 };

	if ((s->session = evidence_meta_text(meta, "session_id")) == NULL)
		s->session = termsafe_str(path);
	s->started = started != NULL && strptime(started, "%Y-%m-%dT%H:%M:%S", &tm) != NULL
	    ? timegm(&tm)
	    : 0;
	evidence_verdict(path, s->key, line, sizeof(line), &s->verdict);
	if ((s->person = evidence_meta_text(meta, "person")) == NULL)
		s->person = xstrdup("-");
	xasprintf(&s->target, "%s@%s", user != NULL ? user : "-", target != NULL ? target : "-");
	/* What the channel ran: headers before "kind" existed name the subsystem as "sftp". */
	if (command != NULL)
		search_hit(s, 0,
		    (kind != NULL ? strcmp(kind, "exec") != 0 : strcmp(command, "sftp") == 0)
		        ? "subsystem"
		        : "command",
		    command);
	transcript_render(path, search_line, s);
	free(user);
	free(target);
	free(command);
	free(s->session);
	free(s->person);
	free(s->target);
}

static int
cmd_search_exec(struct ctl_context *ctx, int argc, char **argv)
{
	static const struct option opts[] = { EVIDENCE_FILTER_OPTIONS,
		{ "key", required_argument, NULL, 'k' }, { 0 } };
	struct recording_filter filter = { .scope = ctx->auditor };
	const char *dirname = NULL, *keyfile = NULL, *dir;
	struct search s = { 0 };
	struct sealkey *key;
	int ch, rc;

	optind = 0; /* glibc: re-initialise, the dispatcher parsed with "+" */
	while ((ch = getopt_long(argc, argv, EVIDENCE_FILTER_SHORTOPTS "k:", opts, NULL)) != -1) {
		if (ch == 'd')
			dirname = optarg;
		else if (ch == 'k')
			keyfile = optarg;
		else if (ch == '?' || evidence_filter_option(&filter, ch, optarg) != 0)
			goto usage;
	}
	if (optind + 1 != argc)
		goto usage;
	if (regcomp(&s.re, argv[optind], REG_EXTENDED | REG_NOSUB) != 0) {
		fprintf(stderr, "gatewayctl: invalid pattern\n");
		return 2;
	}
	if ((key = evidence_load_key_if_any(ctx, keyfile)) == NULL && keyfile != NULL) {
		regfree(&s.re);
		return 2;
	}
	s.key = key;
	rc = (dir = evidence_recording_dir(ctx, dirname)) == NULL ||
	        evidence_foreach_recording(dir, &filter, search_recording, &s) != 0
	    ? 2
	    : s.matches > 0 ? 0
	                    : 1;
	sealkey_free(key);
	regfree(&s.re);
	return rc;
usage:
	fprintf(stderr, "usage: gatewayctl search %s\n", cmd_search_entry.usage);
	return 2;
}

const struct ctl_command cmd_search_entry = {
	.name = "search",
	.usage = "PATTERN " EVIDENCE_FILTER_USAGE " [--key FILE]",
	.exec = cmd_search_exec,
};
