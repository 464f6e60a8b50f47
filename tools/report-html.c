/* report-html.c: the report's model as a page: the bundle's index.html, and `gatewayctl report
 * --format html`. Every cell is HTML-escaped; a session links to its page in the bundle's
 * sessions/ folder (there only when the page is part of a bundle). */
#include "tools/report.h"

#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"

static void
html_cell(FILE *f, const json_t *row, const struct report_column *c, const char *tz)
{
	const char *recording = bundle_str(row, "recording");
	char num[32];
	const char *text = report_cell_text(row, c->key, num, sizeof(num));

	if (c->kind == REPORT_VERDICT)
		fprintf(f, "<td class=\"%s\">",
		    json_is_true(json_object_get(row, "verified")) ? "ok" : "bad");
	else
		fputs("<td>", f);
	if (c->kind == REPORT_TIME)
		html_put_time(f, tz, bundle_parse_ts(bundle_str(row, c->key)));
	else if (c->kind == REPORT_LINK && *recording != '\0') {
		fputs("<a href=\"sessions/", f);
		html_put_text(f, recording);
		fputs(".html\">", f);
		html_put_text(f, text);
		fputs("</a>", f);
	} else
		html_put_text(f, text);
	fputs("</td>", f);
}

static void
html_section(FILE *f, const json_t *model, const struct report_section *s)
{
	const char *tz = bundle_str(model, "display_tz");
	const struct report_column *c;
	const json_t *row;
	size_t i;

	fprintf(f, "<h2 id=\"%s\">", s->key);
	html_put_text(f, s->title);
	fprintf(f, "</h2>\n<table id=\"%s\"><tr>", s->html_id);
	for (c = s->columns; c->key != NULL; c++) {
		fputs("<th>", f);
		html_put_text(f, c->title);
		fputs("</th>", f);
	}
	fputs("</tr>\n", f);
	json_array_foreach (json_object_get(model, s->key), i, row) {
		fputs("<tr>", f);
		for (c = s->columns; c->key != NULL; c++)
			html_cell(f, row, c, tz);
		fputs("</tr>\n", f);
	}
	fputs("</table>\n", f);
}

static json_int_t
html_count(const json_t *model, const char *key)
{
	return json_integer_value(json_object_get(json_object_get(model, "summary"), key));
}

static void
html_summary(FILE *f, const json_t *model)
{
	fprintf(f,
	    "<h2 id=\"summary\">Summary</h2>\n<p>%lld recorded session channel(s) of %lld "
	    "session(s), %lld of them failing their own verification; %lld audit event(s) in the "
	    "period; %lld refusal(s) or lockout(s); %lld file transfer(s); %lld owner "
	    "action(s).</p>\n"
	    "<p>This bundle is evidence for these areas of IEC 62443-2-4:</p>\n<ul>\n"
	    "<li><b>Remote access (SP.07)</b>: every session above was decided by the gateway "
	    "before the target was contacted, under the approval ticket and approvers shown, "
	    "recorded keystroke by keystroke (one page per session) and ended for the reason "
	    "shown.</li>\n"
	    "<li><b>Event logging (SP.08)</b>: the audit log's lines of the period "
	    "(<code>audit.log</code>, each signed and chained; other vendors' lines are "
	    "present as their SHA-256 only) and the signed recordings.</li>\n"
	    "<li><b>Account management (SP.09)</b>: each session names its person and key; "
	    "refusals, lockouts, session kills and vendor disables are listed below.</li>\n"
	    "</ul>\n<p>Check it: <code>gatewayctl evidence verify DIR --key "
	    "gateway-key.pub</code> (docs/evidence-bundle.md), with the gateway's public key "
	    "obtained independently of this folder (<code>gatewayctl keys export</code> on the "
	    "gateway).</p>\n",
	    (long long)html_count(model, "channels"), (long long)html_count(model, "sessions"),
	    (long long)html_count(model, "failing"), (long long)html_count(model, "events"),
	    (long long)html_count(model, "refusals"), (long long)html_count(model, "transfers"),
	    (long long)html_count(model, "actions"));
}

void
report_html_body(FILE *f, const json_t *model)
{
	size_t i;

	fputs("<h1>", f);
	html_put_text(f, bundle_str(model, "title"));
	fputs("</h1>\n<p>Times are shown in ", f);
	html_put_text(f, bundle_str(model, "display_tz"));
	fputs(" and, in brackets, in UTC.</p>\n", f);
	html_summary(f, model);
	for (i = 0; i < report_nsections; i++) {
		html_section(f, model, &report_sections[i]);
		if (i == 0 && json_array_size(json_object_get(model, "sessions")) == 0)
			fputs("<p>No session started in the period.</p>\n", f);
	}
}

int
bundle_report_write(const struct bundle *b)
{
	json_t *model = report_model_build(b);
	FILE *f;
	int rc = -1;

	if ((f = html_open(b->out, "index.html", bundle_str(model, "title"), "")) != NULL) {
		report_html_body(f, model);
		rc = html_close(b->out, f);
	}
	json_decref(model);
	return rc;
}
