/* cmd-history.c: `gatewayctl history [filters]`: past channels from the recordings in time order:
 * start, session, channel, kind, vendor, person, target, ticket, approvers, command, end, end
 * reason, the verify verdict and the file. Reads only; what a vendor chose is printed termsafe. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "evidence/verify.h"
#include "tools/evidence.h"
#include "tools/termsafe.h"

/* Cells 6 and 7 print as one column, target_user@target. */
enum { HISTORY_CELLS = 15 };

/* One recording's row, kept until all are read so they print in time order. */
struct history_row {
	long channel;
	char *cells[HISTORY_CELLS]; /* termsafe text; NULL prints as "-" */
};

struct history {
	const struct sealkey *key;
	struct history_row *rows;
	size_t n, cap;
};

/* Recordings from before the header named the kind: a shell has no command, the subsystem is
 * the command "sftp". */
static const char *
history_kind(const json_t *meta)
{
	const char *kind = json_string_value(json_object_get(meta, "kind"));
	const char *command = json_string_value(json_object_get(meta, "command"));

	if (kind != NULL)
		return kind;
	if (command == NULL && json_object_get(meta, "command_base64") == NULL)
		return "shell";
	return command != NULL && strcmp(command, "sftp") == 0 ? "sftp" : "exec";
}

/* "owner,safety": the header's approvers, or its one approver (recordings before issue 16). */
static char *
history_approvers(const json_t *meta)
{
	const json_t *list = json_object_get(meta, "approvers"), *a;
	char *joined = NULL, *next, *text;
	size_t i;

	json_array_foreach (list, i, a) {
		if (!json_is_string(a))
			continue;
		xasprintf(
		    &next, "%s%s%s", joined ? joined : "", joined ? "," : "", json_string_value(a));
		free(joined);
		joined = next;
	}
	if (joined == NULL)
		return evidence_meta_text(meta, "approver");
	text = termsafe_str(joined);
	free(joined);
	return text;
}

static void
history_recording(const char *path, const json_t *meta, void *arg)
{
	struct history *h = arg;
	struct history_row *row;
	struct verdict v;
	char **c;

	verify_recording(path, h->key, &v);
	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 64;
		h->rows = xreallocarray(h->rows, h->cap, sizeof(*h->rows));
	}
	row = &h->rows[h->n++];
	row->channel = (long)json_integer_value(json_object_get(meta, "channel"));
	c = row->cells;
	c[0] = evidence_meta_text(meta, "started");
	c[1] = evidence_meta_text(meta, "session_id");
	xasprintf(&c[2], "%ld", row->channel);
	c[3] = termsafe_str(history_kind(meta));
	c[4] = evidence_meta_text(meta, "vendor");
	c[5] = evidence_meta_text(meta, "person");
	c[6] = evidence_meta_text(meta, "target_user");
	c[7] = evidence_meta_text(meta, "target");
	c[8] = evidence_meta_text(meta, "ticket_id");
	c[9] = history_approvers(meta);
	c[10] = evidence_meta_text(meta, "command");
	c[11] = v.ended[0] != '\0' ? termsafe_str(v.ended) : NULL;
	c[12] = v.reason[0] != '\0' ? termsafe_str(v.reason) : NULL;
	c[13] = xstrdup(verdict_kind_name(v.kind));
	c[14] = termsafe_str(path);
}

static int
history_cmp_cell(const char *a, const char *b)
{
	return strcmp(a != NULL ? a : "", b != NULL ? b : "");
}

/* "started" is RFC 3339 UTC of one fixed width: its text order is time order. */
static int
history_cmp(const void *pa, const void *pb)
{
	const struct history_row *a = pa, *b = pb;
	int c;

	if ((c = history_cmp_cell(a->cells[0], b->cells[0])) != 0 ||
	    (c = history_cmp_cell(a->cells[1], b->cells[1])) != 0)
		return c;
	return (a->channel > b->channel) - (a->channel < b->channel);
}

static int
cmd_history_exec(struct ctl_context *ctx, int argc, char **argv)
{
	static const struct option opts[] = { EVIDENCE_FILTER_OPTIONS,
		{ "key", required_argument, NULL, 'k' }, { 0 } };
	struct recording_filter filter = { .scope = ctx->auditor, .tunnels = true };
	const char *dirname = NULL, *keyfile = NULL, *dir;
	struct history h = { 0 };
	struct sealkey *key;
	size_t i, j;
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
	if (optind != argc)
		goto usage;
	if ((dir = evidence_recording_dir(ctx, dirname)) == NULL ||
	    (key = evidence_load_key(ctx, keyfile)) == NULL)
		return 2;
	h.key = key;
	rc = evidence_foreach_recording(dir, &filter, history_recording, &h);
	qsort(h.rows, h.n, sizeof(*h.rows), history_cmp);
	printf("start\tsession\tchannel\tkind\tvendor\tperson\ttarget\tticket\tapprover\tcommand\t"
	       "end\treason\tverify\tfile\n");
	for (i = 0; i < h.n; i++) {
		for (j = 0; j < HISTORY_CELLS; j++) {
			printf("%s%s", h.rows[i].cells[j] != NULL ? h.rows[i].cells[j] : "-",
			    j == 6                      ? "@"
			        : j + 1 < HISTORY_CELLS ? "\t"
			                                : "\n");
			free(h.rows[i].cells[j]);
		}
	}
	free(h.rows);
	sealkey_free(key);
	return rc == 0 ? 0 : 1;
usage:
	fprintf(stderr, "usage: gatewayctl history %s\n", cmd_history_entry.usage);
	return 2;
}

const struct ctl_command cmd_history_entry = {
	.name = "history",
	.usage = EVIDENCE_FILTER_USAGE " [--key FILE]",
	.exec = cmd_history_exec,
};
