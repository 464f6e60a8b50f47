/* cmd-history.c: `gatewayctl history [filters]`: past channels from the recordings in time order:
 * start, session, channel, kind, vendor, person, target, ticket, approver, command, end, end
 * reason, the verify verdict and the file. Reads only; what a vendor chose is printed termsafe. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "evidence/verify.h"
#include "tools/evidence.h"
#include "tools/termsafe.h"

enum { HISTORY_COLUMNS = 14 };
static const char *const history_titles[HISTORY_COLUMNS] = { "start", "session", "channel", "kind",
	"vendor", "person", "target", "ticket", "approver", "command", "end", "reason", "verify",
	"file" };

/* One recording's row, kept until all are read so they print in time order. */
struct history_row {
	long channel;
	char *cells[HISTORY_COLUMNS]; /* NULL prints as "-" */
};

struct history {
	const struct sealkey *key;
	struct history_row *rows;
	size_t n, cap;
};

static const char *
meta_string(const json_t *meta, const char *key)
{
	return json_string_value(json_object_get(meta, key));
}

/* Recordings from before the header named the kind: a shell has no command, the subsystem is
 * the command "sftp". */
static const char *
history_kind(const json_t *meta)
{
	const char *command = meta_string(meta, "command");

	if (meta_string(meta, "kind") != NULL)
		return meta_string(meta, "kind");
	return command == NULL ? "shell" : strcmp(command, "sftp") == 0 ? "sftp" : "exec";
}

static void
history_recording(const char *path, const json_t *meta, void *arg)
{
	struct history *h = arg;
	struct history_row *row;
	struct verdict v;
	char channel[24], *target;
	size_t i;

	verify_recording(path, h->key, &v);
	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 64;
		h->rows = xreallocarray(h->rows, h->cap, sizeof(*h->rows));
	}
	row = &h->rows[h->n++];
	row->channel = (long)json_integer_value(json_object_get(meta, "channel"));
	snprintf(channel, sizeof(channel), "%ld", row->channel);
	xasprintf(&target, "%s@%s",
	    meta_string(meta, "target_user") != NULL ? meta_string(meta, "target_user") : "-",
	    meta_string(meta, "target") != NULL ? meta_string(meta, "target") : "-");
	const char *cells[HISTORY_COLUMNS] = { meta_string(meta, "started"),
		meta_string(meta, "session_id"), channel, history_kind(meta),
		meta_string(meta, "vendor"), meta_string(meta, "person"), target,
		meta_string(meta, "ticket_id"), meta_string(meta, "approver"),
		meta_string(meta, "command"), v.ended[0] != '\0' ? v.ended : NULL,
		v.reason[0] != '\0' ? v.reason : NULL, verdict_kind_name(v.kind), path };
	for (i = 0; i < HISTORY_COLUMNS; i++)
		row->cells[i] = cells[i] != NULL ? xstrdup(cells[i]) : NULL;
	free(target);
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
	struct recording_filter filter = { 0 };
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
	termsafe_print_row(stdout, history_titles, HISTORY_COLUMNS);
	for (i = 0; i < h.n; i++) {
		termsafe_print_row(stdout, (const char *const *)h.rows[i].cells, HISTORY_COLUMNS);
		for (j = 0; j < HISTORY_COLUMNS; j++)
			free(h.rows[i].cells[j]);
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
