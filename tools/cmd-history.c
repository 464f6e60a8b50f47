/* cmd-history.c: `gatewayctl history [filters]`: past sessions from the recordings: who,
 * target, ticket, approver, start, end, end reason and the verify verdict. Reads only. */
#include <getopt.h>
#include <stdio.h>

#include "evidence/verify.h"
#include "tools/evidence.h"

static const char *
meta_string(const json_t *meta, const char *key)
{
	const char *s = json_string_value(json_object_get(meta, key));

	return s != NULL ? s : "-";
}

static void
history_recording(const char *path, const json_t *meta, void *arg)
{
	const struct sealkey *key = arg;
	static const char *const kind[] = {
		[VERDICT_INTACT] = "intact",
		[VERDICT_TRUNCATED] = "truncated",
		[VERDICT_TAMPERED] = "tampered",
		[VERDICT_BAD_SIGNATURE] = "bad-signature",
		[VERDICT_UNKNOWN_KEY] = "unknown-key",
		[VERDICT_UNREADABLE] = "unreadable",
	};
	struct verdict v;

	verify_recording(path, key, &v);
	printf("%s\t%s\t%s@%s\t%s\t%s\t%s\t%s\t%s\t%s\n", meta_string(meta, "session_id"),
	    meta_string(meta, "person"), meta_string(meta, "target_user"),
	    meta_string(meta, "target"), meta_string(meta, "ticket_id"),
	    meta_string(meta, "approver"), meta_string(meta, "started"),
	    v.ended[0] != '\0' ? v.ended : "-", v.reason[0] != '\0' ? v.reason : "-", kind[v.kind]);
}

static int
cmd_history_exec(struct ctl_context *ctx, int argc, char **argv)
{
	static const struct option opts[] = { EVIDENCE_FILTER_OPTIONS,
		{ "key", required_argument, NULL, 'k' }, { 0 } };
	struct recording_filter filter = { 0 };
	const char *dirname = NULL, *keyfile = NULL, *dir;
	struct sealkey *key;
	int ch, rc;

	optind = 0; /* glibc: re-initialise, the dispatcher parsed with "+" */
	while ((ch = getopt_long(argc, argv, "p:v:t:F:T:d:k:", opts, NULL)) != -1) {
		if (ch == 'd')
			dirname = optarg;
		else if (ch == 'k')
			keyfile = optarg;
		else if (ch == '?' || evidence_filter_option(&filter, ch, optarg) != 0)
			goto usage;
	}
	if (optind != argc)
		goto usage;
	if ((dir = evidence_recording_dir(ctx, dirname)) == NULL ||
	    (key = evidence_load_key(ctx, keyfile)) == NULL)
		return 2;
	printf("session\tperson\ttarget\tticket\tapprover\tstart\tend\treason\tverify\n");
	rc = evidence_foreach_recording(dir, &filter, history_recording, key);
	sealkey_free(key);
	return rc == 0 ? 0 : 1;
usage:
	fprintf(stderr, "usage: gatewayctl history %s\n", cmd_history_entry.usage);
	return 2;
}

const struct ctl_command cmd_history_entry = {
	.name = "history",
	.usage =
	    "[--person P] [--vendor V] [--target T] [--from D] [--to D] [--dir DIR] [--key FILE]",
	.exec = cmd_history_exec,
};
