/* report-model.c: the report's model, built from what bundle_gather() found: one row per
 * recording, ticket, refusal or lockout, file transfer and owner's live action, and the counts
 * of the summary. Every string a vendor, a target or a log line chose goes in as termsafe text,
 * so no format has to escape it for a terminal again. Writes nothing. */
#include "tools/report.h"

#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "tools/evidence.h"
#include "tools/termsafe.h"

static const struct report_column session_columns[] = {
	{ "recording", "Session (channel)", REPORT_LINK },
	{ "person", "Person", REPORT_TEXT },
	{ "source", "Source", REPORT_TEXT },
	{ "target", "Target", REPORT_TEXT },
	{ "command", "Command", REPORT_TEXT },
	{ "start", "Start", REPORT_TIME },
	{ "end", "End", REPORT_TIME },
	{ "end_reason", "End reason", REPORT_TEXT },
	{ "ticket", "Ticket", REPORT_TEXT },
	{ "approvers", "Approvers", REPORT_TEXT },
	{ "bytes_out", "Bytes out", REPORT_TEXT },
	{ "bytes_in", "Bytes in", REPORT_TEXT },
	{ "verdict", "Recording verdict", REPORT_VERDICT },
	{ 0 },
};
static const struct report_column ticket_columns[] = {
	{ "ticket", "Ticket", REPORT_TEXT },
	{ "approvers", "Approvers", REPORT_TEXT },
	{ "signer", "Signer keys", REPORT_TEXT },
	{ "valid_from", "Valid from", REPORT_TIME },
	{ "valid_to", "Valid to", REPORT_TIME },
	{ "reason", "Reason", REPORT_TEXT },
	{ "check", "Check", REPORT_TEXT },
	{ 0 },
};
/* Refusals and owners' actions: who did what, when, on which session. */
static const struct report_column event_columns[] = {
	{ "time", "Time", REPORT_TIME },
	{ "event", "Event", REPORT_TEXT },
	{ "who", "Person or login", REPORT_TEXT },
	{ "session", "Session", REPORT_LINK },
	{ "target", "Target", REPORT_TEXT },
	{ "what", "What", REPORT_TEXT },
	{ 0 },
};
static const struct report_column transfer_columns[] = {
	{ "time", "Time", REPORT_TIME },
	{ "session", "Session", REPORT_LINK },
	{ "op", "Operation", REPORT_TEXT },
	{ "path", "Path", REPORT_TEXT },
	{ "bytes_written", "Bytes written", REPORT_TEXT },
	{ "bytes_read", "Bytes read", REPORT_TEXT },
	{ "sha256", "SHA-256", REPORT_TEXT },
	{ "note", "Note", REPORT_TEXT },
	{ 0 },
};

const struct report_section report_sections[] = {
	{ "sessions", "session-table", "Sessions", session_columns },
	{ "tickets", "ticket-table", "Approval tickets", ticket_columns },
	{ "refusals", "refusal-table", "Refusals and lockouts", event_columns },
	{ "transfers", "transfer-table", "File transfers", transfer_columns },
	{ "actions", "control-table", "Owners' live actions (kills, vendor disable, revocations)",
	    event_columns },
};
const size_t report_nsections = sizeof(report_sections) / sizeof(report_sections[0]);

static bool
model_is(const json_t *ev, const char *event)
{
	return strcmp(bundle_str(ev, "event"), event) == 0;
}

/* s as termsafe text; null when there is none. */
static void
model_text(json_t *row, const char *key, const char *s)
{
	char *text;

	if (s == NULL || *s == '\0') {
		json_object_set_new(row, key, json_null());
		return;
	}
	text = termsafe_str(s);
	json_object_set_new(row, key, json_string(text));
	free(text);
}

/* Member from of an event or a header (from its exact bytes when they were not UTF-8). */
static void
model_member(json_t *row, const char *key, const json_t *ev, const char *from)
{
	char *text = evidence_meta_text(ev, from);

	json_object_set_new(row, key, text != NULL && *text ? json_string(text) : json_null());
	free(text);
}

static void
model_time(json_t *row, const char *key, time_t t)
{
	char text[32];
	struct tm tm;

	if (t <= 0) {
		json_object_set_new(row, key, json_null());
		return;
	}
	gmtime_r(&t, &tm);
	strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_object_set_new(row, key, json_string(text));
}

/* The access_decision that admitted a recording's session, NULL when not gathered. */
static const json_t *
model_decision(const struct bundle *b, const struct bundle_recording *r)
{
	const char *sid = bundle_str(r->meta, "session_id");
	const json_t *ev;
	size_t i;

	json_array_foreach (b->events, i, ev)
		if (model_is(ev, "access_decision") &&
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
		t = bundle_str(model_decision(b, r), "ticket");
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
		one = bundle_str(model_decision(b, r), "approver");
	return *one != '\0' ? one : "-";
}

/* The gathered recording of a session (its first channel's), NULL when none. */
static const char *
model_recording_of(const struct bundle *b, const char *sid)
{
	size_t i;

	for (i = 0; *sid != '\0' && i < b->nrecs; i++)
		if (strcmp(bundle_str(b->recs[i].meta, "session_id"), sid) == 0)
			return b->recs[i].name;
	return NULL;
}

/* The end of a recording's session: its seal's, else the audit log's session_end. */
static void
model_end(json_t *row, const struct bundle *b, const struct bundle_recording *r)
{
	const char *sid = bundle_str(r->meta, "session_id");
	const char *reason = r->verdict.reason;
	time_t end = bundle_parse_ts(r->verdict.ended);
	const json_t *ev;
	size_t i;

	if (end == -1)
		json_array_foreach (b->events, i, ev)
			if (model_is(ev, "session_end") &&
			    strcmp(bundle_str(ev, "session"), sid) == 0) {
				end = bundle_parse_ts(bundle_str(ev, "ts"));
				reason = bundle_str(ev, "reason");
			}
	model_time(row, "end", end);
	model_text(row, "end_reason", reason);
}

static json_t *
model_session(const struct bundle *b, const struct bundle_recording *r)
{
	char verdict[512], approvers[512];
	const char *s;
	json_t *row = json_object();

	model_text(row, "recording", r->name);
	model_member(row, "session", r->meta, "session_id");
	json_object_set_new(row, "channel", json_copy(json_object_get(r->meta, "channel")));
	model_member(row, "vendor", r->meta, "vendor");
	model_member(row, "person", r->meta, "person");
	model_member(row, "source", r->meta, "client_addr");
	model_member(row, "target", r->meta, "target");
	model_member(row, "command", r->meta, "command");
	model_time(row, "start", r->start);
	model_end(row, b, r);
	s = bundle_session_ticket(b, r);
	model_text(row, "ticket", strcmp(s, "-") != 0 ? s : NULL);
	s = bundle_session_approvers(b, r, approvers, sizeof(approvers));
	model_text(row, "approvers", strcmp(s, "-") != 0 ? s : NULL);
	json_object_set_new(row, "bytes_out", json_integer((json_int_t)r->bytes_out));
	json_object_set_new(row, "bytes_in", json_integer((json_int_t)r->bytes_in));
	verdict_format(&r->verdict, verdict, sizeof(verdict));
	model_text(row, "verdict", verdict);
	json_object_set_new(row, "verdict_kind", json_string(verdict_kind_name(r->verdict.kind)));
	json_object_set_new(row, "verified", json_boolean(bundle_verdict_good(&r->verdict)));
	return row;
}

/* Every approver of a ticket and their keys: the installed copy's verified ones, else what its
 * ticket_installed event says (its approvers, or the approver of events before issue 16). */
static void
model_ticket_approvers(json_t *row, const struct gw_ticket *t, const json_t *installed)
{
	const json_t *list = json_object_get(installed, "approvers"), *a;
	char names[512] = "", keys[TICKET_SIGS_MAX * (GW_FP_LEN + 2)] = "";
	size_t i, n = 0, k = 0;

	if (t == NULL || t->status != TICKET_VALID) {
		json_array_foreach (list, i, a)
			if (json_is_string(a) && n < sizeof(names))
				n += (size_t)snprintf(names + n, sizeof(names) - n, "%s%s",
				    n ? ", " : "", json_string_value(a));
		model_text(row, "approvers", n > 0 ? names : bundle_str(installed, "approver"));
		model_text(row, "signer", t != NULL ? t->signer : bundle_str(installed, "signer"));
		return;
	}
	for (i = 0; i < t->napprovers; i++) {
		if (n < sizeof(names))
			n += (size_t)snprintf(
			    names + n, sizeof(names) - n, "%s%s", i ? ", " : "", t->approvers[i]);
		k += (size_t)snprintf(
		    keys + k, sizeof(keys) - k, "%s%s", i ? ", " : "", t->approver_fps[i]);
	}
	model_text(row, "approvers", names);
	model_text(row, "signer", keys);
}

/* A ticket the period's events name: who signed it and when it is valid, from the gateway's
 * installed copy (verified again here), else from its ticket_installed event. */
static json_t *
model_ticket(const struct bundle *b, const char *id, const json_t *installed)
{
	struct gw_ticket *t = NULL;
	json_t *row = json_object();
	char *err = NULL;

	if (b->cfg != NULL && ticketstore_load_ticket(b->cfg->state_dir, b->cfg, id, &t, &err) != 0)
		t = NULL;
	free(err);
	model_text(row, "ticket", id);
	model_ticket_approvers(row, t, installed);
	model_time(row, "valid_from",
	    t != NULL ? t->not_before
	              : (time_t)json_integer_value(json_object_get(installed, "not_before")));
	model_time(row, "valid_to",
	    t != NULL ? t->not_after
	              : (time_t)json_integer_value(json_object_get(installed, "not_after")));
	model_text(row, "reason", t != NULL ? t->reason : NULL);
	model_text(row, "check",
	    t != NULL ? (t->status == TICKET_VALID ? "signature valid" : t->problem)
	              : "not installed on the gateway now");
	ticket_free(t);
	return row;
}

static json_t *
model_tickets(const struct bundle *b)
{
	json_t *rows = json_array(), *seen = json_object(), *installed = json_object();
	const json_t *ev;
	const char *id;
	size_t i;

	json_array_foreach (b->events, i, ev)
		if (model_is(ev, "ticket_installed"))
			json_object_set(installed, bundle_str(ev, "ticket"), (json_t *)ev);
	json_array_foreach (b->events, i, ev) {
		if (!model_is(ev, "access_decision") &&
		    strncmp(bundle_str(ev, "event"), "ticket_", 7) != 0)
			continue;
		id = bundle_str(ev, "ticket");
		if (*id == '\0' || json_object_get(seen, id) != NULL)
			continue;
		json_object_set_new(seen, id, json_true());
		json_array_append_new(rows, model_ticket(b, id, json_object_get(installed, id)));
	}
	json_decref(seen);
	json_decref(installed);
	return rows;
}

/* Time, session and the session's recording: what every event row starts with. */
static json_t *
model_event_row(const struct bundle *b, const json_t *ev)
{
	json_t *row = json_object();

	model_time(row, "time", bundle_parse_ts(bundle_str(ev, "ts")));
	model_member(row, "session", ev, "session");
	model_text(row, "recording", model_recording_of(b, bundle_str(ev, "session")));
	return row;
}

/* The events for which want() holds: who, target, and the members named in what. */
static json_t *
model_events(const struct bundle *b, bool (*want)(const json_t *ev), const char *const *what)
{
	json_t *rows = json_array(), *row;
	const json_t *ev;
	char *text, *all, *next;
	size_t i, k;

	json_array_foreach (b->events, i, ev) {
		if (!want(ev))
			continue;
		row = model_event_row(b, ev);
		model_member(row, "event", ev, "event");
		model_member(row, "who", ev, *bundle_str(ev, "person") ? "person" : "user");
		model_member(row, "target", ev, "target");
		all = xstrdup("");
		for (k = 0; what[k] != NULL; k++) {
			if ((text = evidence_meta_text(ev, what[k])) != NULL && *text) {
				xasprintf(
				    &next, "%s%s%s: %s", all, *all ? "; " : "", what[k], text);
				free(all);
				all = next;
			}
			free(text);
		}
		json_object_set_new(row, "what", *all ? json_string(all) : json_null());
		free(all);
		json_array_append_new(rows, row);
	}
	return rows;
}

static bool
model_refusal(const json_t *ev)
{
	return (model_is(ev, "access_decision") && !json_is_true(json_object_get(ev, "allow"))) ||
	    model_is(ev, "session_refused") || model_is(ev, "channel_refused") ||
	    model_is(ev, "auth_failure") || model_is(ev, "lockout") ||
	    model_is(ev, "file_denied") || model_is(ev, "login_timeout");
}

static bool
model_control(const json_t *ev)
{
	return model_is(ev, "control") || model_is(ev, "session_cut") ||
	    model_is(ev, "ticket_revoked");
}

static bool
model_transfer(const json_t *ev)
{
	return model_is(ev, "file_operation") || model_is(ev, "file_denied");
}

/* A byte count of a file operation; null when it has none. */
static void
model_count(json_t *row, const char *key, const json_t *ev)
{
	const json_t *n = json_object_get(ev, key);

	json_object_set_new(row, key, json_is_integer(n) ? json_copy((json_t *)n) : json_null());
}

static json_t *
model_transfers(const struct bundle *b)
{
	json_t *rows = json_array(), *row;
	char *path, *path2, *both;
	const json_t *ev;
	size_t i;

	json_array_foreach (b->events, i, ev) {
		if (!model_transfer(ev))
			continue;
		row = model_event_row(b, ev);
		model_member(row, "op", ev, "op");
		/* Paths that are not UTF-8 are in path_base64: shown from their exact bytes. */
		path = evidence_meta_text(ev, "path");
		path2 = evidence_meta_text(ev, "path2");
		if (path2 != NULL) {
			xasprintf(&both, "%s -> %s", path != NULL ? path : "-", path2);
			json_object_set_new(row, "path", json_string(both));
			free(both);
		} else
			json_object_set_new(
			    row, "path", path != NULL && *path ? json_string(path) : json_null());
		free(path);
		free(path2);
		model_count(row, "bytes_written", ev);
		model_count(row, "bytes_read", ev);
		model_member(row, "sha256", ev, "sha256");
		model_member(row, "note", ev, *bundle_str(ev, "reason") ? "reason" : "status");
		json_array_append_new(rows, row);
	}
	return rows;
}

/* The counts the summary gives: of each table, of distinct sessions, of each verdict (in the
 * order of enum verdict_kind, so the summary reads the same every time). */
static json_t *
model_summary(const struct bundle *b, const json_t *model)
{
	json_t *summary = json_object(), *verdicts = json_object(), *ids = json_object();
	size_t i, failing = 0, n;
	int kind;

	for (i = 0; i < b->nrecs; i++) {
		json_object_set_new(ids, bundle_str(b->recs[i].meta, "session_id"), json_true());
		failing += !bundle_verdict_good(&b->recs[i].verdict);
	}
	for (kind = VERDICT_INTACT; kind <= VERDICT_LIVE; kind++) {
		for (i = 0, n = 0; i < b->nrecs; i++)
			n += b->recs[i].verdict.kind == (enum verdict_kind)kind;
		if (n > 0)
			json_object_set_new(verdicts, verdict_kind_name((enum verdict_kind)kind),
			    json_integer((json_int_t)n));
	}
	json_object_set_new(summary, "channels", json_integer((json_int_t)b->nrecs));
	json_object_set_new(summary, "sessions", json_integer((json_int_t)json_object_size(ids)));
	json_object_set_new(summary, "failing", json_integer((json_int_t)failing));
	json_object_set_new(summary, "verdicts", verdicts);
	json_object_set_new(
	    summary, "events", json_integer((json_int_t)json_array_size(b->events)));
	for (i = 1; i < report_nsections; i++)
		json_object_set_new(summary, report_sections[i].key,
		    json_integer((json_int_t)json_array_size(
		        json_object_get(model, report_sections[i].key))));
	json_decref(ids);
	return summary;
}

json_t *
report_model_build(const struct bundle *b)
{
	static const char *const refusal_what[] = { "reason", "detail", "scope", "source", "until",
		NULL };
	static const char *const control_what[] = { "action", "by", "name", "peer_user", "result",
		"reason", NULL };
	const struct bundle_spec *spec = b->spec;
	json_t *model = json_object(), *sessions = json_array(), *period = json_object();
	char *title;
	size_t i;

	model_time(period, "from", spec->from);
	model_time(period, "to", spec->to);
	xasprintf(&title, "Evidence: %s%s%s%s, %s to %s", spec->vendor ? "vendor " : "all vendors",
	    spec->vendor ? spec->vendor : "", spec->target ? ", target " : "",
	    spec->target ? spec->target : "", bundle_str(period, "from"), bundle_str(period, "to"));
	json_object_set_new(model, "format", json_string(REPORT_FORMAT));
	model_text(model, "title", title);
	free(title);
	model_text(model, "vendor", spec->vendor);
	model_text(model, "target", spec->target);
	json_object_update(model, period);
	json_decref(period);
	model_text(model, "display_tz", spec->display_tz);
	json_object_set_new(model, "summary", json_null()); /* first, filled in last */
	for (i = 0; i < b->nrecs; i++)
		json_array_append_new(sessions, model_session(b, &b->recs[i]));
	json_object_set_new(model, "sessions", sessions);
	json_object_set_new(model, "tickets", model_tickets(b));
	json_object_set_new(model, "refusals", model_events(b, model_refusal, refusal_what));
	json_object_set_new(model, "transfers", model_transfers(b));
	json_object_set_new(model, "actions", model_events(b, model_control, control_what));
	json_object_set_new(model, "summary", model_summary(b, model));
	return model;
}

const char *
report_cell_text(const json_t *row, const char *key, char *buf, size_t len)
{
	const json_t *v = json_object_get(row, key);

	if (json_is_integer(v)) {
		snprintf(buf, len, "%lld", (long long)json_integer_value(v));
		return buf;
	}
	return json_is_string(v) && *json_string_value(v) ? json_string_value(v) : "-";
}
