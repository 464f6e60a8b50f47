/* test_evidence.c: how an auditor's console names a recording (tools/evidence.c,
 * evidence_recording_path): a file of recording_dir whose header names a vendor in scope. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/unit.h"
#include "tools/evidence.h"

#define S1 "11111111111111111111111111111111"
#define S2 "22222222222222222222222222222222"

/* The console's context carries the loaded configuration; nothing reads a file for it. */
const struct gw_config *
ctl_config(struct ctl_context *ctx)
{
	return ctx->config;
}

static char dir[] = "/tmp/test_evidence.XXXXXX";
static struct gw_config cfg;
static char *acme_only[] = { "acme" }, *everyone[] = { "*" };
static struct gw_auditor auditor = { .name = "ann", .vendors = acme_only, .nvendors = 1 };
static struct ctl_context ctx = { .config = &cfg, .auditor = &auditor };

static void
write_recording(const char *name, const char *vendor)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fprintf(f,
	    "{\"version\":2,\"width\":80,\"height\":24,\"timestamp\":1772359200,"
	    "\"gatewayd\":{\"vendor\":\"%s\"}}\n",
	    vendor);
	fclose(f);
}

static void
setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
	cfg.recording_dir = dir;
	/* acme's session S1 with channels 2 and 10 (the first is the lowest number, not the first
	 * name), globex's S2 */
	write_recording(S1 ".10.cast", "acme");
	write_recording(S1 ".2.cast", "acme");
	write_recording(S2 ".0.cast", "globex");
}

static void
teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -r %s", dir);
	ck_assert_int_eq(system(cmd), 0);
	strcpy(dir + strlen(dir) - 6, "XXXXXX");
}

/* arg, and the file it names in dir (NULL: refused). */
static const struct {
	const char *arg, *file;
} cases[] = {
	{ S1, S1 ".2.cast" },
	{ S1 ".10", S1 ".10.cast" },
	{ S1 ".10.cast", S1 ".10.cast" },
	{ S1 ".10.cast.zst", S1 ".10.cast" }, /* either spelling: the form kept is found */
	{ S1 ".10.cast.zs", NULL },
	{ S1 ".2", S1 ".2.cast" },
	{ S1 ".3", NULL }, /* no such channel */
	{ S2, NULL },      /* globex: out of scope */
	{ S2 ".0.cast", NULL },
	{ "abcdef", NULL }, /* no such session */
	{ "../../etc/passwd", NULL },
	{ "/etc/passwd", NULL },
	{ S1 "/../" S2, NULL },
	{ S1 ".2.cast/..", NULL },
	{ S1 ".", NULL },
	{ S1 ".x", NULL },
	{ S1 ".2.castx", NULL },
	{ S1 ".2.cast.", NULL },
	{ S1 "..2", NULL },
	{ "ABCDEF", NULL }, /* session ids are lower-case hex */
	{ "", NULL },
	{ "*", NULL },
};

START_TEST(test_recording_path_cases)
{
	char *path = evidence_recording_path(&ctx, cases[_i].arg), want[256];

	if (cases[_i].file == NULL) {
		ck_assert_msg(path == NULL, "%s: accepted as %s", cases[_i].arg, path);
		return;
	}
	snprintf(want, sizeof(want), "%s/%s", dir, cases[_i].file);
	ck_assert_msg(path != NULL, "%s: refused", cases[_i].arg);
	ck_assert_str_eq(path, want);
	free(path);
}
END_TEST

START_TEST(test_everyone_reads_every_vendor)
{
	char *path;

	auditor.vendors = everyone;
	path = evidence_recording_path(&ctx, S2);
	auditor.vendors = acme_only;
	ck_assert_ptr_nonnull(path);
	free(path);
}
END_TEST

/* gatewayctl on the gateway host: its FILE arguments are paths, as before. */
START_TEST(test_without_auditor_a_path_is_a_path)
{
	struct ctl_context local = { .config = &cfg };
	char *path = evidence_recording_path(&local, "../x/y.cast");

	ck_assert_str_eq(path, "../x/y.cast");
	free(path);
}
END_TEST

Suite *
unit_suite(void)
{
	Suite *s = suite_create("evidence");
	TCase *tc = tcase_create("recording_path");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_recording_path_cases, 0, sizeof(cases) / sizeof(cases[0]));
	tcase_add_test(tc, test_everyone_reads_every_vendor);
	tcase_add_test(tc, test_without_auditor_a_path_is_a_path);
	suite_add_tcase(s, tc);
	return s;
}
