/* test_tarstream.c: the ustar writer the streamed evidence bundle uses: header fields where GNU
 * tar reads them, the checksum, long names split at a '/', what does not fit refused. */
#include "unit.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tools/tarstream.h"

/* The header's checksum as tar computes it: its own field counted as spaces. */
static unsigned
header_sum(const unsigned char *h)
{
	unsigned sum = 0;
	size_t i;

	for (i = 0; i < TAR_BLOCK; i++)
		sum += i >= 148 && i < 156 ? ' ' : h[i];
	return sum;
}

START_TEST(test_tarstream_file_member_fields)
{
	unsigned char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream((char **)&buf, &len);

	ck_assert_int_eq(tar_put_file(f, "b/MANIFEST", "hello\n", 6, 1764720000), 0);
	ck_assert_int_eq(tar_end(f), 0);
	fclose(f);
	/* header, one data block, two zero blocks */
	ck_assert_uint_eq(len, 4 * TAR_BLOCK);
	ck_assert_str_eq((char *)buf, "b/MANIFEST");
	ck_assert_str_eq((char *)buf + 100, "0000644");
	ck_assert_str_eq((char *)buf + 124, "00000000006");
	ck_assert_str_eq((char *)buf + 136, "15113676600"); /* 1764720000 in octal */
	ck_assert_int_eq(buf[156], '0');
	ck_assert_mem_eq(buf + 257,
	    "ustar\0"
	    "00",
	    8);
	ck_assert_uint_eq(strtoul((char *)buf + 148, NULL, 8), header_sum(buf));
	ck_assert_mem_eq(buf + TAR_BLOCK, "hello\n\0", 7);
	for (size_t i = TAR_BLOCK + 6; i < len; i++)
		ck_assert_uint_eq(buf[i], 0);
	free(buf);
}
END_TEST

START_TEST(test_tarstream_dir_member_ends_in_slash)
{
	unsigned char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream((char **)&buf, &len);

	ck_assert_int_eq(tar_put_dir(f, "b/sessions", 0), 0);
	fclose(f);
	ck_assert_uint_eq(len, TAR_BLOCK);
	ck_assert_str_eq((char *)buf, "b/sessions/");
	ck_assert_int_eq(buf[156], '5');
	ck_assert_str_eq((char *)buf + 100, "0000755");
	ck_assert_uint_eq(strtoul((char *)buf + 148, NULL, 8), header_sum(buf));
	free(buf);
}
END_TEST

START_TEST(test_tarstream_long_name_split_into_prefix)
{
	unsigned char h[TAR_BLOCK];
	char name[160];

	/* 60 bytes of folder, then a 90-byte file name: 151 in all. */
	memset(name, 'd', 60);
	name[60] = '/';
	memset(name + 61, 'f', 90);
	name[151] = '\0';
	ck_assert_int_eq(tar_header_fill(h, name, '0', 0644, 0, 0), 0);
	ck_assert_int_eq(strnlen((char *)h + 345, 155), 60);
	ck_assert_mem_eq(h + 345, name, 60);
	ck_assert_int_eq(strnlen((char *)h, 100), 90);
	ck_assert_mem_eq(h, name + 61, 90);
}
END_TEST

START_TEST(test_tarstream_refuses_what_does_not_fit)
{
	unsigned char h[TAR_BLOCK];
	char name[300];

	/* A 101-byte last component cannot be split. */
	memset(name, 'f', 101);
	name[101] = '\0';
	errno = 0;
	ck_assert_int_eq(tar_header_fill(h, name, '0', 0644, 0, 0), -1);
	ck_assert_int_eq(errno, EINVAL);
	/* Nor a folder part longer than the prefix's 155 bytes. */
	memset(name, 'd', 200);
	name[200] = '/';
	strcpy(name + 201, "f");
	ck_assert_int_eq(tar_header_fill(h, name, '0', 0644, 0, 0), -1);
	ck_assert_int_eq(tar_header_fill(h, "", '0', 0644, 0, 0), -1);
	/* 8 GiB needs a twelfth octal digit ustar has not. */
	ck_assert_int_eq(tar_header_fill(h, "big", '0', 0644, (size_t)8 << 30, 0), -1);
	ck_assert_int_eq(tar_header_fill(h, "big", '0', 0644, ((size_t)8 << 30) - 1, 0), 0);
}
END_TEST

Suite *
unit_suite(void)
{
	Suite *s = suite_create("tarstream");
	TCase *tc = tcase_create("ustar");

	tcase_add_test(tc, test_tarstream_file_member_fields);
	tcase_add_test(tc, test_tarstream_dir_member_ends_in_slash);
	tcase_add_test(tc, test_tarstream_long_name_split_into_prefix);
	tcase_add_test(tc, test_tarstream_refuses_what_does_not_fit);
	suite_add_tcase(s, tc);
	return s;
}
