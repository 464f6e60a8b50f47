/* test_pcapread.c: the pcapng block reader on files it must not trust: either byte order from
 * the section header, and a refusal for every length that does not hold. */
#include "unit.h"
#include <stdio.h>
#include <string.h>

#include "evidence/pcapfmt.h"
#include "evidence/pcapread.h"

static void
put32(unsigned char *p, uint32_t v, bool big)
{
	if (big) {
		p[0] = (unsigned char)(v >> 24);
		p[1] = (unsigned char)(v >> 16);
		p[2] = (unsigned char)(v >> 8);
		p[3] = (unsigned char)v;
	} else
		pcap_put32(p, v);
}

/* A minimal section header (28 bytes) then a 16-byte block of type 99 holding 0xdeadbeef. */
static size_t
two_blocks(unsigned char *buf, bool big)
{
	memset(buf, 0, 44);
	put32(buf, PCAP_SHB, big);
	put32(buf + 4, 28, big);
	put32(buf + 8, PCAP_BYTE_ORDER_MAGIC, big);
	buf[big ? 13 : 12] = 1; /* major version 1 */
	put32(buf + 16, 0xffffffff, big);
	put32(buf + 20, 0xffffffff, big);
	put32(buf + 24, 28, big);
	put32(buf + 28, 99, big);
	put32(buf + 32, 16, big);
	put32(buf + 36, 0xdeadbeef, big);
	put32(buf + 40, 16, big);
	return 44;
}

static enum pcapread_status
read_all(const unsigned char *buf, size_t len, int *blocks, uint32_t *last_word)
{
	FILE *f = fmemopen((void *)buf, len, "r");
	struct pcapread *r;
	struct pcap_block b;
	enum pcapread_status st;

	ck_assert_ptr_nonnull(f);
	r = pcapread_new(f);
	*blocks = 0;
	while ((st = pcapread_next(r, &b)) == PCAPREAD_BLOCK) {
		(*blocks)++;
		if (b.type == 99)
			*last_word = pcapread_u32(r, b.body);
	}
	pcapread_free(r);
	fclose(f);
	return st;
}

START_TEST(either_byte_order_reads)
{
	unsigned char buf[64];
	uint32_t word = 0;
	int n, big;

	for (big = 0; big <= 1; big++) {
		size_t len = two_blocks(buf, big);

		ck_assert(pcapread_is_pcapng(buf, len));
		ck_assert_int_eq(read_all(buf, len, &n, &word), PCAPREAD_END);
		ck_assert_int_eq(n, 2);
		ck_assert_uint_eq(word, 0xdeadbeef);
	}
}
END_TEST

START_TEST(file_ending_inside_a_block_is_cut)
{
	unsigned char buf[64];
	uint32_t word;
	int n;

	ck_assert_int_eq(read_all(buf, two_blocks(buf, false) - 5, &n, &word), PCAPREAD_CUT);
	ck_assert_int_eq(n, 1);
}
END_TEST

START_TEST(lengths_that_do_not_hold_are_refused)
{
	static const uint32_t bad[] = { 8, 18, PCAP_BLOCK_MAX + 4, 0xfffffffc };
	unsigned char buf[64];
	uint32_t word;
	size_t i;
	int n;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		two_blocks(buf, false);
		put32(buf + 32, bad[i], false);
		ck_assert_int_eq(read_all(buf, 44, &n, &word), PCAPREAD_BAD);
	}
	two_blocks(buf, false);
	put32(buf + 40, 20, false); /* the trailing length differs */
	ck_assert_int_eq(read_all(buf, 44, &n, &word), PCAPREAD_BAD);
	two_blocks(buf, false);
	put32(buf + 8, 0x12345678, false); /* no byte-order magic */
	ck_assert(!pcapread_is_pcapng(buf, 44));
	ck_assert_int_eq(read_all(buf, 44, &n, &word), PCAPREAD_BAD);
	two_blocks(buf, false);
	put32(buf, 99, false); /* no section header first */
	ck_assert_int_eq(read_all(buf, 44, &n, &word), PCAPREAD_BAD);
}
END_TEST

Suite *
unit_suite(void)
{
	Suite *s = suite_create("pcapread");
	TCase *tc = tcase_create("pcapread");

	tcase_add_test(tc, either_byte_order_reads);
	tcase_add_test(tc, file_ending_inside_a_block_is_cut);
	tcase_add_test(tc, lengths_that_do_not_hold_are_refused);
	suite_add_tcase(s, tc);
	return s;
}
