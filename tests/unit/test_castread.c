/* test_castread.c: a recording reads back the same, plain or kept compressed (castread.c,
 * castpack.c), and a damaged compressed file is a verdict (tampered or truncated), never a
 * crash and never "intact". Real recordings, real zstd, no mocks. */
#include "unit.h"
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/xmalloc.h"
#include "evidence/castfile.h"
#include "evidence/castpack.h"
#include "evidence/castread.h"
#include "evidence/recorder.h"
#include "evidence/verify.h"

static char dir[64], plain[192], packed[200];
static struct sealkey *key;
static struct recorder_signer signer;

/* A sealed recording with a few checkpoints, some raw bytes and enough text to compress. */
static void
write_recording(void)
{
	struct recording_meta m = { .session_id = "0123456789abcdef0123456789abcdef",
		.person = "acme.alice",
		.vendor = "acme",
		.target = "plc-07",
		.width = 80,
		.height = 24,
		.started = 1795000000 };
	struct recording *rec = recorder_open(dir, &m, &signer);
	char line[128];
	int i;

	ck_assert_ptr_nonnull(rec);
	snprintf(plain, sizeof(plain), "%s", recorder_path(rec));
	for (i = 0; i < 200; i++) {
		snprintf(
		    line, sizeof(line), "PLC-07 status: cycle %d ok, temp 41.%d C\r\n", i, i % 10);
		ck_assert_int_eq(recorder_write_output(rec, line, strlen(line)), 0);
		ck_assert_int_eq(recorder_write_input(rec, "\xff\x01", 2), 0);
		if (i % 50 == 49)
			ck_assert_int_eq(recorder_flush(rec), 0);
	}
	ck_assert_int_eq(recorder_seal(rec, "vendor disconnected"), 0);
	recorder_free(rec);
	snprintf(packed, sizeof(packed), "%s.zst", plain);
}

static void
setup(void)
{
	char kp[128];

	strcpy(dir, "/tmp/test_castread.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(kp, sizeof(kp), "%s/key", dir);
	ck_assert_ptr_nonnull(key = sealkey_load_or_create(kp));
	signer = recorder_signer_local(key);
	write_recording();
}

static void
teardown(void)
{
	char cmd[128];

	sealkey_free(key);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* Every byte path reads as through castread, and the state at the end. */
static char *
read_all(const char *path, size_t *len, enum castread_state *state)
{
	struct castread *cr = castread_open(path);
	char *buf = NULL, chunk[65536];
	size_t n, cap = 0;

	ck_assert_ptr_nonnull(cr);
	*len = 0;
	while ((n = fread(chunk, 1, sizeof(chunk), castread_file(cr))) > 0) {
		if (*len + n > cap) {
			cap = 2 * (*len + n);
			buf = xreallocarray(buf, cap, 1);
		}
		memcpy(buf + *len, chunk, n);
		*len += n;
	}
	*state = castread_state(cr, NULL);
	castread_close(cr);
	return buf;
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "re");
	char *buf;
	long n;

	ck_assert_ptr_nonnull(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = xmalloc((size_t)n + 1);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static void
spill(const char *path, const char *buf, size_t len)
{
	FILE *f = fopen(path, "we");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(buf, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

static enum verdict_kind
verdict_of(const char *path)
{
	struct verdict v;

	verify_recording(path, key, &v);
	return v.kind;
}

static void
compress(void)
{
	char err[256];

	ck_assert_int_eq(castpack_compress(plain, key, err, sizeof(err)), 0);
	ck_assert_str_eq(err, "");
}

START_TEST(compressed_reads_the_same_bytes_as_plain)
{
	enum castread_state st;
	size_t plen, zlen;
	char *p = read_all(plain, &plen, &st), *z;
	struct stat sb;

	ck_assert_int_eq(st, CASTREAD_OK);
	compress();
	ck_assert_int_ne(access(plain, F_OK), 0); /* the plain file is gone */
	ck_assert_int_eq(stat(packed, &sb), 0);
	ck_assert_int_lt(sb.st_size, (off_t)plen / 2);
	z = read_all(packed, &zlen, &st);
	ck_assert_int_eq(st, CASTREAD_OK);
	ck_assert_uint_eq(zlen, plen);
	ck_assert_int_eq(memcmp(p, z, plen), 0);
	free(p);
	free(z);
}
END_TEST

START_TEST(compressed_recording_verifies_intact)
{
	struct verdict a, b;

	verify_recording(plain, key, &a);
	ck_assert_int_eq(a.kind, VERDICT_INTACT);
	compress();
	verify_recording(packed, key, &b);
	ck_assert_int_eq(b.kind, VERDICT_INTACT);
	ck_assert_uint_eq(b.records, a.records);
	ck_assert_str_eq(b.signed_chain, a.signed_chain);
}
END_TEST

START_TEST(castfile_reads_compressed_events)
{
	struct cast_event ev;
	struct castfile *cf;
	size_t out = 0, in = 0;

	compress();
	ck_assert_ptr_nonnull(cf = castfile_open(packed));
	ck_assert_int_eq(json_integer_value(json_object_get(castfile_header(cf), "width")), 80);
	while (castfile_next(cf, &ev) > 0) {
		if (strcmp(ev.code, "o") == 0)
			out += ev.len;
		else if (strcmp(ev.code, "i") == 0) {
			ck_assert_int_eq(memcmp(ev.data, "\xff\x01", 2), 0);
			in += ev.len;
		}
	}
	castfile_close(cf);
	ck_assert_uint_eq(in, 400);
	ck_assert_uint_gt(out, 200 * 30);
}
END_TEST

START_TEST(plain_twin_shadows_compressed_one)
{
	char *found, stem[200];
	size_t len;
	char *bytes;

	/* A crash between the rename and the unlink: both forms; the plain one is read. */
	bytes = slurp(plain, &len);
	compress();
	spill(plain, bytes, len);
	free(bytes);
	snprintf(stem, sizeof(stem), "%.*s", (int)(strlen(plain) - 5), plain);
	ck_assert_ptr_nonnull(found = castread_find(stem));
	ck_assert_str_eq(found, plain);
	free(found);
	ck_assert(castread_is_shadowed(dir, strrchr(packed, '/') + 1));
	ck_assert(!castread_is_shadowed(dir, strrchr(plain, '/') + 1));
	unlink(plain);
	ck_assert_ptr_nonnull(found = castread_find(stem));
	ck_assert_str_eq(found, packed);
	free(found);
	ck_assert(!castread_is_shadowed(dir, strrchr(packed, '/') + 1));
	ck_assert_uint_eq(castread_suffix_len("a.0.cast.zst.tmp"), 0);
}
END_TEST

START_TEST(cut_compressed_file_is_truncated)
{
	enum castread_state st;
	size_t len, cut, got;
	char *bytes, *back;

	compress();
	bytes = slurp(packed, &len);
	for (cut = 1; cut < len; cut += cut < 64 ? 1 : 97) {
		enum verdict_kind k;

		spill(packed, bytes, cut);
		k = verdict_of(packed);
		ck_assert_msg(k == VERDICT_TRUNCATED || k == VERDICT_TAMPERED ||
		        (cut < 6 && k == VERDICT_UNREADABLE),
		    "cut at %zu of %zu: %s", cut, len, verdict_kind_name(k));
		if (cut > 16) {
			back = read_all(packed, &got, &st);
			ck_assert_int_eq(st, CASTREAD_CUT);
			free(back);
		}
	}
	free(bytes);
}
END_TEST

/* Bytes of the compressed file flipped in turn (the first KiB each, then every 13th):
 * tampered or truncated; "intact" only where zstd ignores the bit (a few padding bits of its
 * entropy tables), and then every decoded byte is the signed one, checked against the plain
 * file. */
START_TEST(flipped_byte_is_tampered_or_truncated)
{
	size_t len, i, plen, got, unchanged = 0;
	enum castread_state st;
	char *bytes, *orig, *back;

	orig = slurp(plain, &plen);
	compress();
	bytes = slurp(packed, &len);
	for (i = 0; i < len; i += i < 1024 ? 1 : 13) {
		enum verdict_kind k;

		bytes[i] ^= 0x20;
		spill(packed, bytes, len);
		bytes[i] ^= 0x20;
		k = verdict_of(packed);
		if (k == VERDICT_INTACT) {
			back = read_all(packed, &got, &st);
			ck_assert_int_eq(st, CASTREAD_OK);
			ck_assert_uint_eq(got, plen);
			ck_assert_msg(memcmp(back, orig, plen) == 0,
			    "byte %zu flipped: intact, yet other bytes", i);
			free(back);
			unchanged++;
			continue;
		}
		ck_assert_msg(k == VERDICT_TAMPERED || k == VERDICT_TRUNCATED,
		    "byte %zu of %zu flipped: %s", i, len, verdict_kind_name(k));
	}
	ck_assert_uint_lt(unchanged, len / 200);
	/* The frame's checksum: the last 4 bytes. */
	bytes[len - 1] ^= 0x01;
	spill(packed, bytes, len);
	ck_assert_int_eq(verdict_of(packed), VERDICT_TAMPERED);
	free(bytes);
	free(orig);
}
END_TEST

START_TEST(compressing_a_recording_that_does_not_verify_keeps_it_plain)
{
	char err[256], *bytes;
	size_t len;

	bytes = slurp(plain, &len);
	bytes[len / 2] ^= 0x01;
	spill(plain, bytes, len);
	free(bytes);
	ck_assert_int_eq(castpack_compress(plain, key, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "does not verify intact"));
	ck_assert_int_eq(access(plain, F_OK), 0);
	ck_assert_int_ne(access(packed, F_OK), 0);
	strcat(packed, ".tmp");
	ck_assert_int_ne(access(packed, F_OK), 0);
}
END_TEST

START_TEST(decompression_bomb_line_is_refused)
{
	char *cmd, *bomb;
	enum castread_state st;
	size_t len;

	/* 64 MiB without a newline compresses to a few KiB: refused past 16 MiB. */
	xasprintf(&bomb, "%s/bomb.cast.zst", dir);
	xasprintf(&cmd, "head -c 67108864 /dev/zero | zstd -q -c >%s", bomb);
	ck_assert_int_eq(system(cmd), 0);
	free(read_all(bomb, &len, &st));
	ck_assert_int_eq(st, CASTREAD_CORRUPT);
	ck_assert_uint_le(len, (size_t)17 << 20);
	ck_assert_int_eq(verdict_of(bomb), VERDICT_TAMPERED);
	free(cmd);
	free(bomb);
}
END_TEST

Suite *
unit_suite(void)
{
	Suite *s = suite_create("castread");
	TCase *tc = tcase_create("castread");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, compressed_reads_the_same_bytes_as_plain);
	tcase_add_test(tc, compressed_recording_verifies_intact);
	tcase_add_test(tc, castfile_reads_compressed_events);
	tcase_add_test(tc, plain_twin_shadows_compressed_one);
	tcase_add_test(tc, cut_compressed_file_is_truncated);
	tcase_add_test(tc, flipped_byte_is_tampered_or_truncated);
	tcase_add_test(tc, compressing_a_recording_that_does_not_verify_keeps_it_plain);
	tcase_add_test(tc, decompression_bomb_line_is_refused);
	suite_add_tcase(s, tc);
	return s;
}
