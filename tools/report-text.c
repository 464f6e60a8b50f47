/* report-text.c: the report's model for a terminal (`gatewayctl report`, the default format):
 * one summary line, then each section as columns aligned with spaces. The model holds termsafe
 * text only, so nothing a vendor chose reaches the terminal as a control sequence. */
#include "tools/report.h"

#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"

/* A cell's text: a time in display_tz and, in brackets, UTC. */
static char *
text_cell(const json_t *row, const struct report_column *c, const char *tz)
{
	char num[32], local[64], utc[64], *s;

	if (c->kind != REPORT_TIME)
		return xstrdup(report_cell_text(row, c->key, num, sizeof(num)));
	if (!bundle_format_time(tz, bundle_parse_ts(bundle_str(row, c->key)), local, utc))
		return xstrdup("-");
	xasprintf(&s, "%s (%s)", local, utc);
	return s;
}

/* Characters, not bytes: UTF-8 continuation bytes take no column. */
static size_t
text_width(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

static void
text_section(FILE *f, const json_t *model, const struct report_section *s)
{
	const json_t *rows = json_object_get(model, s->key), *row;
	const char *tz = bundle_str(model, "display_tz");
	size_t ncols, nrows = json_array_size(rows), i, j, *width;
	char **cells;

	for (ncols = 0; s->columns[ncols].key != NULL; ncols++)
		;
	fprintf(f, "\n%s (%zu)\n", s->title, nrows);
	if (nrows == 0) {
		fputs("  (none)\n", f);
		return;
	}
	/* Row 0 holds the titles. */
	cells = xcalloc((nrows + 1) * ncols, sizeof(*cells));
	width = xcalloc(ncols, sizeof(*width));
	for (j = 0; j < ncols; j++)
		cells[j] = xstrdup(s->columns[j].title);
	json_array_foreach (rows, i, row)
		for (j = 0; j < ncols; j++)
			cells[(i + 1) * ncols + j] = text_cell(row, &s->columns[j], tz);
	for (i = 0; i < (nrows + 1) * ncols; i++)
		if (text_width(cells[i]) > width[i % ncols])
			width[i % ncols] = text_width(cells[i]);
	for (i = 0; i < (nrows + 1) * ncols; i++) {
		j = i % ncols;
		fprintf(f, "%s%s", j == 0 ? "  " : "", cells[i]);
		if (j + 1 == ncols)
			fputc('\n', f);
		else
			fprintf(f, "%*s", (int)(width[j] - text_width(cells[i]) + 2), "");
		free(cells[i]);
	}
	free(cells);
	free(width);
}

static json_int_t
text_count(const json_t *model, const char *key)
{
	return json_integer_value(json_object_get(json_object_get(model, "summary"), key));
}

/* Who, the period, how many of each, and the recordings' verdicts, on one line. */
static void
text_summary(FILE *f, const json_t *model)
{
	const char *tz = bundle_str(model, "display_tz"), *word;
	char local[64], utc[64];
	const json_t *n;
	size_t k = 0;

	fprintf(f, "Report: %s%s",
	    json_is_string(json_object_get(model, "vendor")) ? "vendor " : "",
	    json_is_string(json_object_get(model, "vendor")) ? bundle_str(model, "vendor")
	                                                     : "all vendors");
	if (json_is_string(json_object_get(model, "target")))
		fprintf(f, ", target %s", bundle_str(model, "target"));
	bundle_format_time(tz, bundle_parse_ts(bundle_str(model, "from")), local, utc);
	fprintf(f, ", from %s (%s)", local, utc);
	bundle_format_time(tz, bundle_parse_ts(bundle_str(model, "to")), local, utc);
	fprintf(f,
	    " to %s (%s): %lld session(s) in %lld recorded channel(s), %lld refusal(s) or "
	    "lockout(s), %lld file transfer(s), %lld owner action(s); verdicts: ",
	    local, utc, (long long)text_count(model, "sessions"),
	    (long long)text_count(model, "channels"), (long long)text_count(model, "refusals"),
	    (long long)text_count(model, "transfers"), (long long)text_count(model, "actions"));
	json_object_foreach (
	    json_object_get(json_object_get(model, "summary"), "verdicts"), word, n)
		fprintf(f, "%s%lld %s", k++ ? ", " : "", (long long)json_integer_value(n), word);
	fputs(k ? "\n" : "none\n", f);
}

void
report_text_write(FILE *f, const json_t *model)
{
	size_t i;

	text_summary(f, model);
	fprintf(f, "Times in %s and, in brackets, UTC.\n", bundle_str(model, "display_tz"));
	for (i = 0; i < report_nsections; i++)
		text_section(f, model, &report_sections[i]);
}
