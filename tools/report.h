/* report.h: the report of a period (docs/evidence-bundle.md): sessions, tickets, refusals and
 * lockouts, transfers and owners' actions, built once from a gathered bundle as a JSON model
 * and written as the bundle's index.html, as text for a terminal, or as the JSON itself. */
#ifndef GW_TOOLS_REPORT_H
#define GW_TOOLS_REPORT_H

#include <stdio.h>

#include <jansson.h>

#include "tools/bundle.h"

#define REPORT_FORMAT "gatewayd-report-v1"

/* How a cell shows. Every cell of the model is termsafe text (or an integer, or null for
 * "-"), so a terminal, a page and a JSON reader all get what a vendor chose as visible text. */
enum report_cell {
	REPORT_TEXT,
	REPORT_TIME,    /* RFC 3339 UTC, shown in display_tz and UTC */
	REPORT_LINK,    /* on a page, a link to the row's "recording" page when it has one */
	REPORT_VERDICT, /* on a page, marked good or bad by the row's "verified" */
};

struct report_column {
	const char *key, *title;
	enum report_cell kind;
};

/* One table of the report: the model's member key, an array of row objects. */
struct report_section {
	const char *key, *html_id, *title;
	const struct report_column *columns; /* ends with a NULL key */
};

/* The sections in the order every format shows them. */
extern const struct report_section report_sections[];
extern const size_t report_nsections;

/* report-model.c: the model of what b gathered (the keys are documented in
 * docs/evidence-bundle.md); the caller json_decref()s it. */
json_t *report_model_build(const struct bundle *b);
/* A cell as text: the string, the integer in decimal, or "-" when null, absent or empty; buf
 * holds a number's digits. */
const char *report_cell_text(const json_t *row, const char *key, char *buf, size_t len);

/* report-html.c: the page's body (the head and end are html_head/html_tail's). */
void report_html_body(FILE *f, const json_t *model);
/* report-text.c: the summary line, then each section as aligned columns. */
void report_text_write(FILE *f, const json_t *model);

#endif
