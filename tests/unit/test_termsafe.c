/* test_termsafe.c: what gatewayctl prints of vendor-chosen bytes: escapes a terminal would act
 * on become visible text, printable UTF-8 stays as it was. */
#include "unit.h"
#include <stdlib.h>
#include <string.h>

#include "tools/termsafe.h"

struct termsafe_case {
	const char *name;
	const char *in;
	size_t len;
	const char *want;
};

#define IN(s) s, sizeof(s) - 1
static const struct termsafe_case cases[] = {
	{ "plain text unchanged", IN("ls -l /tmp"), "ls -l /tmp" },
	{ "screen clear shown, not done", IN("\x1b[2J\x1b[Hnothing"), "\\e[2J\\e[Hnothing" },
	{ "line breaks and tab visible", IN("a\r\nb\tc"), "a\\r\\nb\\tc" },
	{ "backslash doubled: a typed \\e is not an escape", IN("\\e"), "\\\\e" },
	{ "DEL and NUL as hex", IN("x\x7f\x00y"), "x\\x7f\\x00y" },
	{ "bell and backspace as hex", IN("\a\b"), "\\x07\\x08" },
	{ "UTF-8 kept", IN("Straße 日本 🙂"), "Straße 日本 🙂" },
	{ "invalid byte as hex",
	    IN("a\xff"
	       "b"),
	    "a\\xffb" },
	{ "C1 CSI in UTF-8 as its bytes",
	    IN("\xc2\x9b"
	       "2J"),
	    "\\xc2\\x9b2J" },
	{ "lone C1 byte as hex",
	    IN("\x9b"
	       "2J"),
	    "\\x9b2J" },
	{ "overlong encoding as hex", IN("\xc0\xaf"), "\\xc0\\xaf" },
	{ "surrogate as hex", IN("\xed\xa0\x80"), "\\xed\\xa0\\x80" },
	{ "cut-off sequence as hex", IN("\xe6\x97"), "\\xe6\\x97" },
	{ "bidi override named",
	    IN("a\xe2\x80\xae"
	       "b"),
	    "a\\u202eb" },
	{ "line separator named", IN("\xe2\x80\xa8"), "\\u2028" },
};

START_TEST(test_termsafe_format_cases)
{
	const struct termsafe_case *c = &cases[_i];
	char *out = termsafe_format(c->in, c->len);

	ck_assert_msg(strcmp(out, c->want) == 0, "%s: want [%s], got [%s]", c->name, c->want, out);
	free(out);
}
END_TEST

START_TEST(test_termsafe_output_has_no_control_byte)
{
	unsigned char all[256];
	char *out;
	size_t i;

	for (i = 0; i < sizeof(all); i++)
		all[i] = (unsigned char)i;
	out = termsafe_format(all, sizeof(all));
	for (i = 0; out[i] != '\0'; i++)
		ck_assert_msg((unsigned char)out[i] >= 0x20 && (unsigned char)out[i] < 0x7f,
		    "byte 0x%02x at %zu", (unsigned char)out[i], i);
	free(out);
}
END_TEST

Suite *
unit_suite(void)
{
	Suite *s = suite_create("termsafe");
	TCase *tc = tcase_create("format");

	tcase_add_loop_test(tc, test_termsafe_format_cases, 0, sizeof(cases) / sizeof(cases[0]));
	tcase_add_test(tc, test_termsafe_output_has_no_control_byte);
	suite_add_tcase(s, tc);
	return s;
}
