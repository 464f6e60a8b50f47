/* test_request.c: the console's pure parts: a command's words (cmdline_split, cmdline_options),
 * the text a person may type as a reason, whether a request may be made (grant, lifetime,
 * windows) and the ticket text it proposes, which must parse back as that ticket. */
#include "unit.h"
#include "policy_fixture.h"

static char **
split_ok(const char *line, size_t *argc)
{
	char **argv, why[128];

	ck_assert_msg(cmdline_split(line, strlen(line), &argv, argc, why, sizeof(why)) == 0,
	    "\"%s\" refused: %s", line, why);
	return argv;
}

static void
split_refused(const char *line, size_t len, const char *because)
{
	char **argv, why[128] = "";
	size_t argc;

	ck_assert_msg(cmdline_split(line, len, &argv, &argc, why, sizeof(why)) == -1,
	    "\"%s\" accepted", line);
	ck_assert_msg(strstr(why, because) != NULL, "why: %s", why);
}

START_TEST(test_split_words_and_quotes)
{
	size_t argc;
	char **argv = split_ok("request  plc-07 --reason 'WO 1' \"a b\"c", &argc);

	ck_assert_uint_eq(argc, 5);
	ck_assert_str_eq(argv[0], "request");
	ck_assert_str_eq(argv[1], "plc-07");
	ck_assert_str_eq(argv[3], "WO 1");
	ck_assert_str_eq(argv[4], "a bc");
	cmdline_free(argv, argc);
}
END_TEST

START_TEST(test_split_refusals)
{
	char big[CMDLINE_MAX + 2], many[CMDLINE_WORDS_MAX * 2 + 4];
	size_t i;

	split_refused("deny x --reason a\x1b[31m", 22, "control character");
	split_refused("deny x --reason a\nb", 19, "control character");
	split_refused("deny 'x", 7, "unterminated");
	split_refused("   ", 3, "empty");
	split_refused("a\0b", 3, "control character");
	memset(big, 'a', sizeof(big));
	split_refused(big, sizeof(big), "longer than");
	for (i = 0; i < CMDLINE_WORDS_MAX + 1; i++) {
		many[2 * i] = 'w';
		many[2 * i + 1] = ' ';
	}
	split_refused(many, 2 * (CMDLINE_WORDS_MAX + 1), "more than");
}
END_TEST

START_TEST(test_options_join_free_text)
{
	static const struct cmdline_option opts[] = { { "--for", false }, { "--reason", true },
		{ NULL, false } };
	const char *v[2];
	char why[128];
	size_t argc;
	/* what ssh sends for: request plc-07 --reason "WO-4711 firmware update" --for 2h */
	char **argv = split_ok("request plc-07 --reason WO-4711 firmware update --for 2h", &argc);

	ck_assert_int_eq(cmdline_options(argv, argc, 2, opts, v, why, sizeof(why)), 0);
	ck_assert_str_eq(v[0], "2h");
	ck_assert_str_eq(v[1], "WO-4711 firmware update");
	cmdline_free(argv, argc);
	argv = split_ok("request plc-07 --for 2h --for 3h", &argc);
	ck_assert_int_eq(cmdline_options(argv, argc, 2, opts, v, why, sizeof(why)), -1);
	ck_assert_ptr_nonnull(strstr(why, "twice"));
	cmdline_free(argv, argc);
	argv = split_ok("request plc-07 --reason", &argc);
	ck_assert_int_eq(cmdline_options(argv, argc, 2, opts, v, why, sizeof(why)), -1);
	ck_assert_ptr_nonnull(strstr(why, "needs a value"));
	cmdline_free(argv, argc);
	argv = split_ok("request plc-07 --force 1", &argc);
	ck_assert_int_eq(cmdline_options(argv, argc, 2, opts, v, why, sizeof(why)), -1);
	cmdline_free(argv, argc);
}
END_TEST

START_TEST(test_reason_text)
{
	ck_assert(request_text_is_valid("WO-4711 Störung an Förderband 3"));
	ck_assert(!request_text_is_valid("a\x1b[2Jb"));
	ck_assert(!request_text_is_valid("a\x7f"));
	ck_assert(!request_text_is_valid("a\xc2\x9b"
	                                 "2J"));            /* C1 CSI */
	ck_assert(!request_text_is_valid("a\xc0\xaf"));     /* overlong */
	ck_assert(!request_text_is_valid("a\xed\xa0\x80")); /* surrogate */
	ck_assert(!request_text_is_valid("a\xe2\x82"));     /* cut */
	ck_assert(!request_text_is_valid("\xff"));
}
END_TEST

static struct gw_request
request_for(const char *person, const char *target, const char *from, long long secs)
{
	struct gw_request rq = { .state = REQUEST_PENDING };

	snprintf(rq.person, sizeof(rq.person), "%s", person);
	snprintf(rq.vendor, sizeof(rq.vendor), "%.*s", (int)strcspn(person, "."), person);
	snprintf(rq.target, sizeof(rq.target), "%s", target);
	snprintf(rq.reason, sizeof(rq.reason), "WO-4711 firmware update");
	snprintf(rq.id, sizeof(rq.id), "req-20270301-abcdef");
	rq.not_before = fixture_time(from);
	rq.not_after = rq.not_before + secs;
	rq.created = rq.not_before;
	return rq;
}

static void
check_refused(const struct gw_config *cfg, struct gw_request rq, time_t now, const char *because)
{
	char why[GW_REASON_MAX] = "";

	ck_assert_int_eq(request_check(cfg, &rq, now, why, sizeof(why)), -1);
	ck_assert_msg(strstr(why, because) != NULL, "why: %s", why);
}

START_TEST(test_request_check)
{
	struct gw_config *cfg = fixture_config();
	/* Monday 2027-03-01, 09:00 UTC = 10:00 in Berlin: inside acme's window */
	time_t now = fixture_time("2027-03-01T09:00:00Z");
	struct gw_request rq = request_for("acme.alice", "plc-07", "2027-03-01T09:00:00Z", 7200);
	char why[GW_REASON_MAX];

	ck_assert_int_eq(request_check(cfg, &rq, now, why, sizeof(why)), 0);
	check_refused(cfg, request_for("beta.carol", "hmi-02", "2027-03-01T09:00:00Z", 3600), now,
	    "no grant for target hmi-02");
	check_refused(cfg, request_for("acme.alice", "nosuch", "2027-03-01T09:00:00Z", 3600), now,
	    "no grant");
	check_refused(cfg, request_for("acme.alice", "plc-07", "2027-03-01T09:00:00Z", 8 * 86400),
	    now, "at most 168 hours");
	check_refused(cfg, request_for("off.frank", "plc-07", "2027-03-01T09:00:00Z", 3600), now,
	    "disabled or expired");
	check_refused(cfg, request_for("nowin.dave", "plc-07", "2027-03-01T09:00:00Z", 3600), now,
	    "no access window");
	/* Saturday: acme's windows are mon-fri */
	check_refused(cfg, request_for("acme.alice", "plc-07", "2027-03-06T09:00:00Z", 7200), now,
	    "no access window");
	/* an interval that reaches into Monday's window from Sunday night is fine */
	rq = request_for("acme.alice", "plc-07", "2027-03-07T22:00:00Z", 12 * 3600);
	ck_assert_int_eq(request_check(cfg, &rq, now, why, sizeof(why)), 0);
	rq = request_for("acme.alice", "plc-07", "2027-03-01T09:00:00Z", 3600);
	snprintf(rq.reason, sizeof(rq.reason), "bad\x1b[31m");
	check_refused(cfg, rq, now, "control characters");
	config_free(cfg);
}
END_TEST

START_TEST(test_ticket_text_parses_back)
{
	struct gw_request rq = request_for("acme.alice", "plc-07", "2027-03-01T09:00:00Z", 7200);
	struct gw_ticket *t = NULL;
	char *text, *errors = NULL;
	size_t len;

	snprintf(rq.reason, sizeof(rq.reason), "quote \" and \\ backslash");
	ck_assert_int_eq(request_ticket_text(&rq, &text, &len), 0);
	ck_assert_msg(ticket_parse(text, len, "request", &t, &errors) == 0, "%s", errors);
	ck_assert_str_eq(t->id, rq.id);
	ck_assert_str_eq(t->person, "acme.alice");
	ck_assert_str_eq(t->vendor, "acme");
	ck_assert_uint_eq(t->ntargets, 1);
	ck_assert_str_eq(t->targets[0], "plc-07");
	ck_assert_str_eq(t->reason, rq.reason);
	ck_assert_int_eq(t->not_before, rq.not_before);
	ck_assert_int_eq(t->not_after, rq.not_after);
	ticket_free(t);
	free(text);
}
END_TEST

Suite *
unit_suite(void)
{
	Suite *s = suite_create("request");
	TCase *tc = tcase_create("request");

	tcase_add_test(tc, test_split_words_and_quotes);
	tcase_add_test(tc, test_split_refusals);
	tcase_add_test(tc, test_options_join_free_text);
	tcase_add_test(tc, test_reason_text);
	tcase_add_test(tc, test_request_check);
	tcase_add_test(tc, test_ticket_text_parses_back);
	suite_add_tcase(s, tc);
	return s;
}
