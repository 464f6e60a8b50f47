/* test_report.c: the report's model (tools/report-model.c) and its text and page: what a made-up
 * period of two recordings and a few audit events becomes, and that no ESC a vendor chose
 * reaches the terminal or the page as a byte. */
#include <stdlib.h>
#include <string.h>

#include "tests/unit/unit.h"
#include "tools/report.h"

/* evidence.c's only use of the command context is for a configuration, which the model never
 * asks for (its cells read headers and events only). */
const struct gw_config *
ctl_config(struct ctl_context *ctx)
{
	(void)ctx;
	abort();
}

#define S1 "11111111111111111111111111111111"
#define S2 "22222222222222222222222222222222"

static const char *const events[] = {
	"{\"ts\":\"2026-03-01T10:00:01.000Z\",\"event\":\"access_decision\",\"allow\":true,"
	"\"person\":\"acme.alice\",\"target\":\"plc-07\",\"ticket\":\"t-1\",\"approver\":\"owner\","
	"\"session\":\"" S1 "\"}",
	"{\"ts\":\"2026-03-01T10:00:02.000Z\",\"event\":\"access_decision\",\"allow\":false,"
	"\"person\":\"acme.al\\u001b[7mice\",\"target\":\"plc-08\",\"reason\":\"no_grant\"}",
	"{\"ts\":\"2026-03-01T10:00:03.000Z\",\"event\":\"auth_failure\",\"user\":\"root\","
	"\"reason\":\"no such person\"}",
	"{\"ts\":\"2026-03-01T10:00:04.000Z\",\"event\":\"file_operation\",\"op\":\"close\","
	"\"path\":\"/tmp/\\u001b]0;x\\u0007.bin\",\"bytes_written\":3000,\"bytes_read\":0,"
	"\"sha256\":\"ab12\",\"session\":\"" S1 "\"}",
	"{\"ts\":\"2026-03-01T10:00:05.000Z\",\"event\":\"control\",\"action\":\"kill\","
	"\"by\":\"session\",\"name\":\"" S2 "\",\"result\":\"ok\"}",
	"{\"ts\":\"2026-03-01T10:00:06.000Z\",\"event\":\"session_end\",\"reason\":\"killed\","
	"\"session\":\"" S2 "\"}",
};

struct fixture {
	struct bundle_spec spec;
	struct bundle b;
	struct bundle_recording recs[2];
	json_t *model;
};

/* acme.alice's exec (intact, seal's end) and a session of globex whose recording was changed. */
static void
fixture_make(struct fixture *fx)
{
	size_t i;

	memset(fx, 0, sizeof(*fx));
	fx->spec =
	    (struct bundle_spec){ .from = 1772359200, .to = 1772362800, .display_tz = "UTC" };
	fx->b.spec = &fx->spec;
	fx->b.recs = fx->recs;
	fx->b.nrecs = 2;
	fx->b.events = json_array();
	for (i = 0; i < sizeof(events) / sizeof(events[0]); i++)
		json_array_append_new(fx->b.events, json_loads(events[i], 0, NULL));
	fx->recs[0].name = S1 ".0.cast";
	fx->recs[0].meta =
	    json_pack("{s:s, s:i, s:s, s:s, s:s, s:s}", "session_id", S1, "channel", 0, "vendor",
	        "acme", "person", "acme.alice", "target", "plc-07", "command", "echo \033[31mred");
	fx->recs[0].start = 1772359201;
	fx->recs[0].verdict.kind = VERDICT_INTACT;
	snprintf(fx->recs[0].verdict.ended, sizeof(fx->recs[0].verdict.ended),
	    "2026-03-01T10:00:09.000Z");
	snprintf(fx->recs[0].verdict.reason, sizeof(fx->recs[0].verdict.reason), "closed");
	fx->recs[0].bytes_out = 9;
	fx->recs[1].name = S2 ".0.cast";
	fx->recs[1].meta = json_pack("{s:s, s:i, s:s, s:s}", "session_id", S2, "channel", 0,
	    "vendor", "globex", "person", "globex.bob");
	fx->recs[1].start = 1772359205;
	fx->recs[1].verdict.kind = VERDICT_TAMPERED;
	fx->recs[1].verdict.record = 2;
	fx->model = report_model_build(&fx->b);
}

static void
fixture_free(struct fixture *fx)
{
	json_decref(fx->recs[0].meta);
	json_decref(fx->recs[1].meta);
	json_decref(fx->b.events);
	json_decref(fx->model);
}

static json_int_t
summary(const struct fixture *fx, const char *key)
{
	return json_integer_value(json_object_get(json_object_get(fx->model, "summary"), key));
}

static const json_t *
row(const struct fixture *fx, const char *section, size_t i)
{
	return json_array_get(json_object_get(fx->model, section), i);
}

START_TEST(test_summary_counts_each_table_and_verdict)
{
	struct fixture fx;
	const json_t *verdicts;

	fixture_make(&fx);
	ck_assert_int_eq(summary(&fx, "channels"), 2);
	ck_assert_int_eq(summary(&fx, "sessions"), 2);
	ck_assert_int_eq(summary(&fx, "failing"), 1);
	ck_assert_int_eq(summary(&fx, "events"), 6);
	ck_assert_int_eq(summary(&fx, "tickets"), 1);
	ck_assert_int_eq(summary(&fx, "refusals"), 2);
	ck_assert_int_eq(summary(&fx, "transfers"), 1);
	ck_assert_int_eq(summary(&fx, "actions"), 1);
	verdicts = json_object_get(json_object_get(fx.model, "summary"), "verdicts");
	ck_assert_int_eq(json_integer_value(json_object_get(verdicts, "intact")), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(verdicts, "tampered")), 1);
	ck_assert(json_is_null(json_object_get(fx.model, "vendor")));
	fixture_free(&fx);
}
END_TEST

START_TEST(test_session_row_takes_ticket_from_decision_and_end_from_log)
{
	struct fixture fx;

	fixture_make(&fx);
	/* The header names no ticket: the access decision that admitted the session does. */
	ck_assert_str_eq(bundle_str(row(&fx, "sessions", 0), "ticket"), "t-1");
	ck_assert_str_eq(bundle_str(row(&fx, "sessions", 0), "approvers"), "owner");
	ck_assert_str_eq(bundle_str(row(&fx, "sessions", 0), "end"), "2026-03-01T10:00:09Z");
	ck_assert(json_is_true(json_object_get(row(&fx, "sessions", 0), "verified")));
	/* No seal (tampered): the end is the audit log's session_end. */
	ck_assert_str_eq(bundle_str(row(&fx, "sessions", 1), "end"), "2026-03-01T10:00:06Z");
	ck_assert_str_eq(bundle_str(row(&fx, "sessions", 1), "end_reason"), "killed");
	ck_assert_str_eq(bundle_str(row(&fx, "sessions", 1), "verdict_kind"), "tampered");
	ck_assert(json_is_false(json_object_get(row(&fx, "sessions", 1), "verified")));
	/* A transfer names the recording of its session. */
	ck_assert_str_eq(bundle_str(row(&fx, "transfers", 0), "recording"), S1 ".0.cast");
	ck_assert_int_eq(
	    json_integer_value(json_object_get(row(&fx, "transfers", 0), "bytes_written")), 3000);
	fixture_free(&fx);
}
END_TEST

START_TEST(test_vendor_strings_are_termsafe_in_the_model)
{
	struct fixture fx;

	fixture_make(&fx);
	ck_assert_str_eq(bundle_str(row(&fx, "sessions", 0), "command"), "echo \\e[31mred");
	ck_assert_str_eq(bundle_str(row(&fx, "refusals", 0), "who"), "acme.al\\e[7mice");
	ck_assert_str_eq(bundle_str(row(&fx, "transfers", 0), "path"), "/tmp/\\e]0;x\\x07.bin");
	fixture_free(&fx);
}
END_TEST

/* text: 0 for the terminal, 1 for the page. */
static char *
render(const struct fixture *fx, int page)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	if (page)
		report_html_body(f, fx->model);
	else
		report_text_write(f, fx->model);
	fclose(f);
	return out;
}

START_TEST(test_text_has_summary_line_and_no_escape_byte)
{
	struct fixture fx;
	char *text;

	fixture_make(&fx);
	text = render(&fx, 0);
	ck_assert_ptr_null(strchr(text, '\033'));
	ck_assert_ptr_null(strchr(text, '\007'));
	ck_assert_msg(
	    strncmp(text,
	        "Report: all vendors, from 2026-03-01 10:00:00 UTC (2026-03-01T10:00:00Z) "
	        "to 2026-03-01 11:00:00 UTC (2026-03-01T11:00:00Z): 2 session(s) in 2 "
	        "recorded channel(s), 2 refusal(s) or lockout(s), 1 file transfer(s), 1 "
	        "owner action(s); verdicts: 1 intact, 1 tampered\n",
	        160) == 0,
	    "summary line: %.300s", text);
	ck_assert_ptr_nonnull(strstr(text, "echo \\e[31mred"));
	ck_assert_ptr_nonnull(strstr(text,
	    "Owners' live actions (kills, vendor disable, "
	    "revocations) (1)\n"));
	free(text);
	fixture_free(&fx);
}
END_TEST

START_TEST(test_page_links_sessions_and_has_no_escape_byte)
{
	struct fixture fx;
	char *html;

	fixture_make(&fx);
	html = render(&fx, 1);
	ck_assert_ptr_null(strchr(html, '\033'));
	ck_assert_ptr_nonnull(strstr(html, "<a href=\"sessions/" S1 ".0.cast.html\">" S1 "</a>"));
	ck_assert_ptr_nonnull(strstr(html, "<td class=\"bad\">tampered at record 2"));
	ck_assert_ptr_nonnull(strstr(html, "<table id=\"control-table\">"));
	free(html);
	fixture_free(&fx);
}
END_TEST

Suite *
unit_suite(void)
{
	Suite *s = suite_create("report");
	TCase *tc = tcase_create("model");

	tcase_add_test(tc, test_summary_counts_each_table_and_verdict);
	tcase_add_test(tc, test_session_row_takes_ticket_from_decision_and_end_from_log);
	tcase_add_test(tc, test_vendor_strings_are_termsafe_in_the_model);
	tcase_add_test(tc, test_text_has_summary_line_and_no_escape_byte);
	tcase_add_test(tc, test_page_links_sessions_and_has_no_escape_byte);
	suite_add_tcase(s, tc);
	return s;
}
