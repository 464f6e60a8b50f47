/* bundle-page.c: a bundle's sessions/<recording>.html: the recording in the asciinema player
 * (embedded in the page, so it plays offline from file://), its transcript, its transfers and
 * its session's audit events. The evidence is the raw recording beside it, not this page. */
#include "tools/bundle.h"

#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "tools/evidence.h"
#include "tools/transcript.h"

/* JSON text that is safe inside <script>: "<" only ever occurs in strings, as \u003c. */
static void
page_script_json(FILE *f, json_t *j)
{
	char *text = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(9)), *p;

	for (p = text; p != NULL && *p; p++) {
		if (*p == '<')
			fputs("\\u003c", f);
		else
			fputc(*p, f);
	}
	fputc('\n', f);
	free(text);
	json_decref(j);
}

static void
page_cast_line(void *arg, json_t *line)
{
	page_script_json(arg, line);
}

/* What the player plays (evidence_player_cast); the output events written: the player
 * refuses a recording without any. */
static int
page_cast(FILE *f, const struct bundle_recording *r)
{
	int n = evidence_player_cast(r->path, page_cast_line, f);

	return n > 0 ? n : 0;
}

/* The player with the recording in the page; a channel that showed nothing (a file
 * transfer) says so instead. */
static void
page_player(FILE *f, const struct bundle_recording *r)
{
	char *cast = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&cast, &len);
	int n = page_cast(mem, r);

	fclose(mem);
	if (n == 0) {
		fputs(
		    "<p id=\"no-output\">This channel shows no terminal output (a file transfer, "
		    "or a command that printed nothing): its transfers and events are below.</p>\n",
		    f);
		free(cast);
		return;
	}
	fprintf(f, "<script type=\"text/plain\" id=\"cast\">%s</script>\n", cast);
	free(cast);
	/* autoPlay with no idle gaps: a browser (or a test's virtual time) shows the session's
	 * screen within seconds; the controls seek anywhere. */
	fputs("<script src=\"../player/asciinema-player.min.js\"></script>\n<script>\n"
	      "AsciinemaPlayer.create({ data: document.getElementById('cast').textContent },\n"
	      "  document.getElementById('player'), { autoPlay: true, idleTimeLimit: 0.5, "
	      "fit: 'width' });\n</script>\n",
	    f);
}

/* As `gatewayctl transcript` prints it; the text is termsafe already, and escaped for HTML. */
static void
page_transcript_line(enum transcript_kind kind, double time, const char *text, void *arg)
{
	static const char *const marks[] = {
		[TRANSCRIPT_SCREEN] = "",
		[TRANSCRIPT_INPUT] = "",
		[TRANSCRIPT_PIECE] = "   [line continues]",
		[TRANSCRIPT_UNENDED] = "   [input ends here, no newline]",
		[TRANSCRIPT_NOTE] = "",
	};
	FILE *f = arg;

	if (kind == TRANSCRIPT_SCREEN)
		fputs("            | ", f);
	else
		fprintf(f, "<span class=\"%s\">[%9.3f] %s ",
		    kind == TRANSCRIPT_NOTE ? "note" : "typed", time,
		    kind == TRANSCRIPT_NOTE ? "!" : "&gt;");
	html_put_text(f, text);
	fputs(marks[kind], f);
	fputs(kind == TRANSCRIPT_SCREEN ? "\n" : "</span>\n", f);
}

static void
page_facts(FILE *f, const struct bundle *b, const struct bundle_recording *r)
{
	static const char *const keys[][2] = { { "Person", "person" }, { "Vendor", "vendor" },
		{ "Source address", "client_addr" }, { "Key", "key_fp" }, { "Target", "target" },
		{ "Target user", "target_user" }, { "Command", "command" } };
	char verdict[512], approvers[512];
	size_t i;

	fputs("<table id=\"facts\">\n", f);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		/* A value that was not UTF-8 (an exec command) is in key_base64: shown from it. */
		char *text = evidence_meta_text(r->meta, keys[i][1]);

		fprintf(f, "<tr><th>%s</th><td>", keys[i][0]);
		html_put_text(f, text != NULL && *text ? text : "-");
		fputs("</td></tr>\n", f);
		free(text);
	}
	fputs("<tr><th>Start</th><td>", f);
	html_put_time(f, b->spec->display_tz, r->start);
	fputs("</td></tr>\n<tr><th>End</th><td>", f);
	html_put_time(f, b->spec->display_tz, bundle_parse_ts(r->verdict.ended));
	fputs(" ", f);
	html_put_text(f, r->verdict.reason);
	fputs("</td></tr>\n<tr><th>Ticket</th><td>", f);
	html_put_text(f, bundle_session_ticket(b, r));
	fputs("</td></tr>\n<tr><th>Approvers</th><td>", f);
	html_put_text(f, bundle_session_approvers(b, r, approvers, sizeof(approvers)));
	fprintf(f, "</td></tr>\n<tr><th>Bytes out / in</th><td>%llu / %llu</td></tr>\n",
	    r->bytes_out, r->bytes_in);
	verdict_format(&r->verdict, verdict, sizeof(verdict));
	fputs("<tr><th>Recording</th><td><a href=\"../recordings/", f);
	html_put_text(f, r->name);
	fputs("\">", f);
	html_put_text(f, r->name);
	fputs("</a>: ", f);
	html_put_text(f, verdict);
	fputs("</td></tr>\n</table>\n", f);
}

/* The session's audit events; transfers (file operations) also in a table of their own. */
static void
page_events(FILE *f, const struct bundle *b, const struct bundle_recording *r, bool transfers)
{
	const char *sid = bundle_str(r->meta, "session_id");
	const json_t *ev;
	json_t *rest;
	char *text;
	size_t i;

	fprintf(f,
	    "<h2>%s</h2>\n<table id=\"%s\"><tr><th>Time</th><th>Event</th><th>Fields</th>"
	    "</tr>\n",
	    transfers ? "File transfers" : "Audit events of this session",
	    transfers ? "transfer-table" : "event-table");
	json_array_foreach (b->events, i, ev) {
		bool file = strncmp(bundle_str(ev, "event"), "file_", 5) == 0;

		if (strcmp(bundle_str(ev, "session"), sid) != 0 || (transfers && !file))
			continue;
		rest = json_deep_copy(ev);
		json_object_del(rest, "ts");
		json_object_del(rest, "event");
		json_object_del(rest, "prev");
		json_object_del(rest, "sig");
		text = json_dumps(rest, JSON_COMPACT);
		fputs("<tr><td>", f);
		html_put_time(f, b->spec->display_tz, bundle_parse_ts(bundle_str(ev, "ts")));
		fputs("</td><td>", f);
		html_put_text(f, bundle_str(ev, "event"));
		fputs("</td><td><code>", f);
		html_put_text(f, text);
		fputs("</code></td></tr>\n", f);
		free(text);
		json_decref(rest);
	}
	fputs("</table>\n", f);
}

int
bundle_page_write(const struct bundle *b, const struct bundle_recording *r)
{
	char *name, title[256];
	FILE *f;

	xasprintf(&name, "sessions/%s.html", r->name);
	snprintf(title, sizeof(title), "Session %s", r->name);
	f = html_open(b->out, name, title, "../");
	free(name);
	if (f == NULL)
		return -1;
	fputs("<p><a href=\"../index.html\">&larr; the period's report</a></p>\n<h1>", f);
	html_put_text(f, title);
	fputs("</h1>\n", f);
	page_facts(f, b, r);
	if (bundle_recording_is_tunnel(r)) {
		/* A forwarded connection: its bytes are a protocol's, for Wireshark, not a screen.
		 */
		fputs("<p id=\"tunnel\">A forwarded connection (docs/forwarding.md): its recording "
		      "is "
		      "<code>recordings/",
		    f);
		html_put_text(f, r->name);
		fputs("</code>, a pcapng file: open it with Wireshark or <code>tshark -r</code>; "
		      "<code>gatewayctl recording verify</code> checks it.</p>\n",
		    f);
		page_events(f, b, r, false);
		return html_close(b->out, f);
	}
	fputs("<div style=\"display:flex;gap:1em;align-items:flex-start\">\n"
	      "<div id=\"player\" style=\"flex:1;min-width:0\"></div>\n"
	      "<div style=\"flex:1;min-width:0\"><h2>Transcript</h2><pre id=\"transcript\">",
	    f);
	if (transcript_render(r->path, page_transcript_line, f) != 0)
		fputs("(the recording cannot be read to its end)\n", f);
	fputs("</pre></div></div>\n", f);
	page_player(f, r);
	page_events(f, b, r, true);
	page_events(f, b, r, false);
	fputs("<p><small>Player: asciinema-player (Apache License 2.0, <a "
	      "href=\"../player/LICENSE\">player/LICENSE</a>).</small></p>\n",
	    f);
	return html_close(b->out, f);
}
