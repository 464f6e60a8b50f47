/* bundle-report.c: a bundle's index.html: the period's sessions, tickets, refusals and lockouts,
 * file transfers and owners' live actions, from the copied recordings and the disclosed audit
 * lines only, and the IEC 62443-2-4 areas they serve. Every vendor byte is escaped. */
#include "tools/bundle.h"

#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "tools/evidence.h"

static bool
report_is(const json_t *ev, const char *event)
{
	return strcmp(bundle_str(ev, "event"), event) == 0;
}

/* The access_decision that admitted a recording's session, NULL when not in the slice. */
static const json_t *
report_decision(const struct bundle *b, const struct bundle_recording *r)
{
	const char *sid = bundle_str(r->meta, "session_id");
	const json_t *ev;
	size_t i;

	json_array_foreach (b->events, i, ev)
		if (report_is(ev, "access_decision") &&
		    strcmp(bundle_str(ev, "session"), sid) == 0 &&
		    json_is_true(json_object_get(ev, "allow")))
			return ev;
	return NULL;
}

const char *
bundle_session_ticket(const struct bundle *b, const struct bundle_recording *r)
{
	const char *t = bundle_str(r->meta, "ticket_id");

	if (*t == '\0')
		t = bundle_str(r->meta, "ticket");
	if (*t == '\0')
		t = bundle_str(report_decision(b, r), "ticket");
	return *t != '\0' ? t : "-";
}

const char *
bundle_session_approvers(
    const struct bundle *b, const struct bundle_recording *r, char *buf, size_t len)
{
	const json_t *list = json_object_get(r->meta, "approvers"), *a;
	const char *one = bundle_str(r->meta, "approver");
	size_t i, n = 0;

	buf[0] = '\0';
	json_array_foreach (list, i, a)
		if (json_is_string(a) && n < len)
			n += (size_t)snprintf(
			    buf + n, len - n, "%s%s", n ? ", " : "", json_string_value(a));
	if (buf[0] != '\0')
		return buf;
	if (*one == '\0')
		one = bundle_str(report_decision(b, r), "approver");
	return *one != '\0' ? one : "-";
}

static void
report_cell(FILE *f, const char *text)
{
	fputs("<td>", f);
	html_put_text(f, *text ? text : "-");
	fputs("</td>", f);
}

static void
report_time_cell(FILE *f, const struct bundle *b, const char *ts)
{
	fputs("<td>", f);
	html_put_time(f, b->spec->display_tz, bundle_parse_ts(ts));
	fputs("</td>", f);
}

static void
report_session_link(FILE *f, const struct bundle *b, const char *sid)
{
	size_t i;

	fputs("<td>", f);
	for (i = 0; i < b->nrecs; i++)
		if (strcmp(bundle_str(b->recs[i].meta, "session_id"), sid) == 0) {
			fputs("<a href=\"sessions/", f);
			html_put_text(f, b->recs[i].name);
			fputs(".html\">", f);
			html_put_text(f, sid);
			fputs("</a></td>", f);
			return;
		}
	html_put_text(f, *sid ? sid : "-");
	fputs("</td>", f);
}

/* The end of a recording's session: its seal's, else the audit log's session_end. */
static void
report_end(FILE *f, const struct bundle *b, const struct bundle_recording *r)
{
	const char *sid = bundle_str(r->meta, "session_id");
	const char *reason = r->verdict.reason;
	time_t end = bundle_parse_ts(r->verdict.ended);
	const json_t *ev;
	size_t i;

	if (end == -1)
		json_array_foreach (b->events, i, ev)
			if (report_is(ev, "session_end") &&
			    strcmp(bundle_str(ev, "session"), sid) == 0) {
				end = bundle_parse_ts(bundle_str(ev, "ts"));
				reason = bundle_str(ev, "reason");
			}
	fputs("<td>", f);
	html_put_time(f, b->spec->display_tz, end);
	fputs("</td>", f);
	report_cell(f, reason);
}

static void
report_sessions(FILE *f, const struct bundle *b)
{
	char verdict[512], approvers[512], bytes[64];
	size_t i;

	fputs("<h2 id=\"sessions\">Sessions</h2>\n<table id=\"session-table\"><tr><th>Session "
	      "(channel)</th><th>Person</th><th>Source</th><th>Target</th><th>Start</th>"
	      "<th>End</th><th>End reason</th><th>Ticket</th><th>Approvers</th><th>Bytes "
	      "out / in</th><th>Recording verdict</th></tr>\n",
	    f);
	for (i = 0; i < b->nrecs; i++) {
		const struct bundle_recording *r = &b->recs[i];

		fputs("<tr><td><a href=\"sessions/", f);
		html_put_text(f, r->name);
		fputs(".html\">", f);
		html_put_text(f, r->name);
		fputs("</a></td>", f);
		report_cell(f, bundle_str(r->meta, "person"));
		report_cell(f, bundle_str(r->meta, "client_addr"));
		report_cell(f, bundle_str(r->meta, "target"));
		fputs("<td>", f);
		html_put_time(f, b->spec->display_tz, r->start);
		fputs("</td>", f);
		report_end(f, b, r);
		report_cell(f, bundle_session_ticket(b, r));
		report_cell(f, bundle_session_approvers(b, r, approvers, sizeof(approvers)));
		snprintf(bytes, sizeof(bytes), "%llu / %llu", r->bytes_out, r->bytes_in);
		report_cell(f, bytes);
		verdict_format(&r->verdict, verdict, sizeof(verdict));
		fprintf(f, "<td class=\"%s\">", bundle_verdict_good(&r->verdict) ? "ok" : "bad");
		html_put_text(f, verdict);
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
	if (b->nrecs == 0)
		fputs("<p>No session of this vendor started in the period.</p>\n", f);
}

/* One row per ticket the period's events name: who signed it and when it is valid, from the
 * gateway's installed copy (verified again here), else from the ticket_installed event. */
static void
report_ticket_row(FILE *f, const struct bundle *b, const char *id, const json_t *installed)
{
	struct gw_ticket *t = NULL;
	char *err = NULL;

	if (b->cfg != NULL && ticketstore_load_ticket(b->cfg->state_dir, b->cfg, id, &t, &err) != 0)
		t = NULL;
	free(err);
	fputs("<tr>", f);
	report_cell(f, id);
	report_cell(f, t != NULL ? t->approver : bundle_str(installed, "approver"));
	report_cell(f, t != NULL ? t->signer : bundle_str(installed, "signer"));
	fputs("<td>", f);
	html_put_time(f, b->spec->display_tz,
	    t != NULL ? t->not_before
	              : (time_t)json_integer_value(json_object_get(installed, "not_before")));
	fputs("</td><td>", f);
	html_put_time(f, b->spec->display_tz,
	    t != NULL ? t->not_after
	              : (time_t)json_integer_value(json_object_get(installed, "not_after")));
	fputs("</td>", f);
	report_cell(f, t != NULL ? t->reason : "");
	report_cell(f,
	    t != NULL ? (t->status == TICKET_VALID ? "signature valid" : t->problem)
	              : "not installed on the gateway now");
	fputs("</tr>\n", f);
	ticket_free(t);
}

static void
report_tickets(FILE *f, const struct bundle *b)
{
	json_t *seen = json_object(), *installed;
	const json_t *ev;
	const char *id;
	size_t i;

	installed = json_object();
	json_array_foreach (b->events, i, ev)
		if (report_is(ev, "ticket_installed"))
			json_object_set(installed, bundle_str(ev, "ticket"), (json_t *)ev);
	fputs("<h2 id=\"tickets\">Approval tickets</h2>\n<table id=\"ticket-table\"><tr><th>Ticket"
	      "</th><th>Approver</th><th>Signer key</th><th>Valid from</th><th>Valid to</th>"
	      "<th>Reason</th><th>Check</th></tr>\n",
	    f);
	json_array_foreach (b->events, i, ev) {
		if (report_is(ev, "access_decision") ||
		    strncmp(bundle_str(ev, "event"), "ticket_", 7) == 0)
			id = bundle_str(ev, "ticket");
		else
			continue;
		if (*id == '\0' || json_object_get(seen, id) != NULL)
			continue;
		json_object_set_new(seen, id, json_true());
		report_ticket_row(f, b, id, json_object_get(installed, id));
	}
	fputs("</table>\n", f);
	json_decref(seen);
	json_decref(installed);
}

/* A table of the events for which want() holds: time, event, who, target, and what. */
static int
report_events(FILE *f, const struct bundle *b, const char *id, const char *title,
    bool (*want)(const json_t *ev), const char *const *what)
{
	const json_t *ev;
	size_t i, k;
	int n = 0, shown;

	fprintf(f,
	    "<h2>%s</h2>\n<table id=\"%s\"><tr><th>Time</th><th>Event</th><th>Person or "
	    "login</th><th>Session</th><th>Target</th><th>What</th></tr>\n",
	    title, id);
	json_array_foreach (b->events, i, ev) {
		if (!want(ev))
			continue;
		n++;
		fputs("<tr>", f);
		report_time_cell(f, b, bundle_str(ev, "ts"));
		report_cell(f, bundle_str(ev, "event"));
		report_cell(f,
		    *bundle_str(ev, "person") ? bundle_str(ev, "person") : bundle_str(ev, "user"));
		report_session_link(f, b, bundle_str(ev, "session"));
		report_cell(f, bundle_str(ev, "target"));
		fputs("<td>", f);
		for (k = 0, shown = 0; what[k] != NULL; k++)
			if (*bundle_str(ev, what[k])) {
				fputs(shown++ ? "; " : "", f);
				html_put_text(f, what[k]);
				fputs(": ", f);
				html_put_text(f, bundle_str(ev, what[k]));
			}
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
	return n;
}

static bool
report_refusal(const json_t *ev)
{
	return (report_is(ev, "access_decision") && !json_is_true(json_object_get(ev, "allow"))) ||
	    report_is(ev, "session_refused") || report_is(ev, "channel_refused") ||
	    report_is(ev, "auth_failure") || report_is(ev, "lockout") ||
	    report_is(ev, "file_denied") || report_is(ev, "login_timeout");
}

static bool
report_control(const json_t *ev)
{
	return report_is(ev, "control") || report_is(ev, "session_cut") ||
	    report_is(ev, "ticket_revoked");
}

static void
report_transfers(FILE *f, const struct bundle *b)
{
	char *path, *path2;
	const json_t *ev;
	char bytes[64];
	size_t i;

	fputs("<h2 id=\"transfers\">File transfers</h2>\n<table id=\"transfer-table\"><tr><th>"
	      "Time</th><th>Session</th><th>Operation</th><th>Path</th><th>Bytes written / "
	      "read</th><th>SHA-256</th><th>Note</th></tr>\n",
	    f);
	json_array_foreach (b->events, i, ev) {
		if (!report_is(ev, "file_operation") && !report_is(ev, "file_denied"))
			continue;
		fputs("<tr>", f);
		report_time_cell(f, b, bundle_str(ev, "ts"));
		report_session_link(f, b, bundle_str(ev, "session"));
		report_cell(f, bundle_str(ev, "op"));
		/* Paths that are not UTF-8 are in path_base64: shown from their exact bytes. */
		path = evidence_meta_text(ev, "path");
		path2 = evidence_meta_text(ev, "path2");
		fputs("<td>", f);
		html_put_text(f, path);
		if (path2 != NULL) {
			fputs(" &rarr; ", f);
			html_put_text(f, path2);
		}
		fputs("</td>", f);
		free(path);
		free(path2);
		bytes[0] = '\0';
		if (json_object_get(ev, "bytes_written") != NULL)
			snprintf(bytes, sizeof(bytes), "%lld / %lld",
			    (long long)json_integer_value(json_object_get(ev, "bytes_written")),
			    (long long)json_integer_value(json_object_get(ev, "bytes_read")));
		report_cell(f, bytes);
		report_cell(f, bundle_str(ev, "sha256"));
		report_cell(f,
		    *bundle_str(ev, "reason") ? bundle_str(ev, "reason")
		                              : bundle_str(ev, "status"));
		fputs("</tr>\n", f);
	}
	fputs("</table>\n", f);
}

static void
report_summary(FILE *f, const struct bundle *b, int refusals, int actions)
{
	size_t i, bad = 0;

	for (i = 0; i < b->nrecs; i++)
		if (!bundle_verdict_good(&b->recs[i].verdict))
			bad++;
	fprintf(f,
	    "<h2 id=\"summary\">Summary</h2>\n<p>%zu recorded session channel(s), %zu of them "
	    "failing their own verification; %zu audit event(s) of this vendor in the period; "
	    "%d refusal(s) or lockout(s); %d owner action(s).</p>\n"
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
	    b->nrecs, bad, json_array_size(b->events), refusals, actions);
}

int
bundle_report_write(const struct bundle *b)
{
	static const char *const refusal_what[] = { "reason", "detail", "scope", "source", "until",
		NULL };
	static const char *const control_what[] = { "action", "by", "name", "peer_user", "result",
		"reason", NULL };
	char *path, *body = NULL, title[256], from[SEAL_TIME_LEN], to[SEAL_TIME_LEN];
	struct timespec ts = { 0 };
	size_t len = 0;
	int refusals, actions, rc;
	FILE *f, *mem;

	ts.tv_sec = b->spec->from;
	seal_format_time(from, &ts);
	ts.tv_sec = b->spec->to;
	seal_format_time(to, &ts);
	snprintf(title, sizeof(title), "Evidence: vendor %s%s%s, %s to %s", b->spec->vendor,
	    b->spec->target ? ", target " : "", b->spec->target ? b->spec->target : "", from, to);
	/* The summary counts what the tables list: the tables are written first, aside. */
	mem = open_memstream(&body, &len);
	report_sessions(mem, b);
	report_tickets(mem, b);
	refusals = report_events(
	    mem, b, "refusal-table", "Refusals and lockouts", report_refusal, refusal_what);
	report_transfers(mem, b);
	actions = report_events(mem, b, "control-table",
	    "Owners' live actions (kills, vendor disable, revocations)", report_control,
	    control_what);
	fclose(mem);
	xasprintf(&path, "%s/index.html", b->spec->dir);
	if ((f = html_open(path, title, "")) == NULL) {
		free(path);
		free(body);
		return -1;
	}
	fputs("<h1>", f);
	html_put_text(f, title);
	fputs("</h1>\n<p>Times are shown in ", f);
	html_put_text(f, b->spec->display_tz);
	fputs(" and, in brackets, in UTC.</p>\n", f);
	report_summary(f, b, refusals, actions);
	fputs(body, f);
	free(body);
	rc = html_close(f, path);
	free(path);
	return rc;
}
