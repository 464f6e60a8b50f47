/* bundle-html.c: what the bundle's pages share: escaping (every byte a vendor chose goes through
 * html_put_text), times in the site's zone and in UTC, and the page frame. Writes nothing else. */
#include "tools/bundle.h"

#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"

void
html_put_text(FILE *f, const char *s)
{
	for (; s != NULL && *s; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&#39;", f);
			break;
		default:
			fputc(*s, f);
		}
	}
}

bool
bundle_format_time(const char *tz, time_t t, char local[64], char utc[64])
{
	struct tm tm;

	if (t <= 0) {
		snprintf(local, 64, "-");
		snprintf(utc, 64, "-");
		return false;
	}
	time_format_in_zone(tz, t, "%Y-%m-%d %H:%M:%S %Z", local, 64);
	gmtime_r(&t, &tm);
	strftime(utc, 64, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return true;
}

void
html_put_time(FILE *f, const char *tz, time_t t)
{
	char local[64], utc[64];

	if (!bundle_format_time(tz, t, local, utc)) {
		fputs("-", f);
		return;
	}
	html_put_text(f, local);
	fputs(" <small>(", f);
	html_put_text(f, utc);
	fputs(")</small>", f);
}

void
html_head(FILE *f, const char *title, const char *root)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>", f);
	html_put_text(f, title);
	fprintf(f,
	    "</title>\n<link rel=\"stylesheet\" href=\"%splayer/asciinema-player.css\">\n"
	    "<style>body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse;"
	    "margin-bottom:1.5em}td,th{border:1px solid #999;padding:2px 6px;text-align:left;"
	    "vertical-align:top;font-size:90%%}pre{background:#f4f4f4;padding:6px;overflow:auto}"
	    ".bad{color:#b00;font-weight:bold}.ok{color:#070}</style>\n</head><body>\n",
	    root);
}

void
html_tail(FILE *f)
{
	fputs("</body></html>\n", f);
}

FILE *
html_open(struct bundle_out *o, const char *name, const char *title, const char *root)
{
	FILE *f;

	if ((f = bundle_out_open(o, name)) != NULL)
		html_head(f, title, root);
	return f;
}

int
html_close(struct bundle_out *o, FILE *f)
{
	html_tail(f);
	return bundle_out_close(o, f);
}

time_t
bundle_parse_ts(const char *ts)
{
	struct tm tm = { 0 };
	const char *end;

	if (ts == NULL || (end = strptime(ts, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL)
		return -1;
	if (*end == '.')
		end += strspn(end + 1, "0123456789") + 1;
	if (strcmp(end, "Z") != 0)
		return -1;
	return timegm(&tm);
}

const char *
bundle_str(const json_t *ev, const char *key)
{
	const char *s = json_string_value(json_object_get(ev, key));

	return s != NULL ? s : "";
}
