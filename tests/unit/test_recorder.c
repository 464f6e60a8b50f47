/* test_recorder.c: the recording file: asciicast v2 header and events, every byte kept,
 * buffering bounds, sealing, and failing closed when the disk refuses. */
#include "unit.h"
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/statfs.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/magic.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "evidence/b64.h"
#include "evidence/recchain.h"
#include "evidence/recorder.h"
#include "evidence/seal.h"
#include "evidence/verify.h"

#define SID "0123456789abcdef0123456789abcdef"

static char dir[64];
static struct sealkey *key;
static struct recorder_signer signer; /* of key */

static void
setup(void)
{
	char path[128];

	strcpy(dir, "/tmp/test_recorder.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/recording_key", dir);
	ck_assert_ptr_nonnull(key = sealkey_load_or_create(path));
	signer = recorder_signer_local(key);
	unlink(path);
	strcat(path, ".pub");
	unlink(path);
}

static void
teardown(void)
{
	char cmd[128];

	sealkey_free(key);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static struct recording_meta
meta_example(void)
{
	struct recording_meta m = {
		.session_id = SID,
		.channel = 1,
		.person = "acme.alice",
		.vendor = "acme",
		.target = "plc-07",
		.target_user = "service",
		.client_addr = "192.0.2.7",
		.client_port = 50022,
		.key_fp = "SHA256:abc",
		.ticket_id = "T-1",
		.approvers = "owner.bob,owner.carol",
		.term = "xterm-256color",
		.width = 120,
		.height = 40,
		.started = 1795000000,
	};
	return m;
}

static struct recording *
open_example(void)
{
	struct recording_meta m = meta_example();
	struct recording *rec = recorder_open(dir, &m, &signer);

	ck_assert_ptr_nonnull(rec);
	return rec;
}

/* The recording's whole text, NUL-terminated. */
static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *text = NULL;
	size_t cap = 0;
	ssize_t n;

	ck_assert_ptr_nonnull(f);
	n = getdelim(&text, &cap, '\0', f);
	ck_assert(n > 0);
	fclose(f);
	return text;
}

/* Reads every line of the recording as JSON; lines[0] is the header. */
static json_t *
read_lines(const char *path)
{
	json_t *lines = json_array();
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	json_error_t err;

	ck_assert_ptr_nonnull(f);
	while (getline(&line, &cap, f) > 0) {
		json_t *v = json_loads(line, JSON_ALLOW_NUL, &err);

		ck_assert_msg(v != NULL, "line is not JSON: %s", err.text);
		json_array_append_new(lines, v);
	}
	free(line);
	fclose(f);
	return lines;
}

/* Concatenates the bytes of stream events with text code tc and raw code rc. */
static size_t
stream_bytes(json_t *lines, const char *tc, const char *rc, unsigned char *out, size_t max)
{
	size_t i, n = 0;
	json_t *ev;

	json_array_foreach (lines, i, ev) {
		const char *code, *data;
		size_t len;

		if (i == 0)
			continue;
		code = json_string_value(json_array_get(ev, 1));
		data = json_string_value(json_array_get(ev, 2));
		len = json_string_length(json_array_get(ev, 2));
		if (strcmp(code, tc) == 0) {
			ck_assert_uint_le(n + len, max);
			memcpy(out + n, data, len);
			n += len;
		} else if (strcmp(code, rc) == 0) {
			unsigned char *tmp = malloc(len + 4);
			int d = EVP_DecodeBlock(tmp, (const unsigned char *)data, (int)len);
			size_t pad =
			    (len > 0 && data[len - 1] == '=') + (len > 1 && data[len - 2] == '=');

			ck_assert_int_ge(d, 0);
			ck_assert_uint_le(n + (size_t)d - pad, max);
			memcpy(out + n, tmp, (size_t)d - pad);
			n += (size_t)d - pad;
			free(tmp);
		}
	}
	return n;
}

START_TEST(file_is_created_private)
{
	struct recording *rec = open_example();
	char want[128];
	struct stat st;

	snprintf(want, sizeof(want), "%s/%s.1.cast", dir, SID);
	ck_assert_str_eq(recorder_path(rec), want);
	ck_assert_int_eq(stat(recorder_path(rec), &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	recorder_free(rec);
}
END_TEST

START_TEST(header_is_asciicast_v2_with_metadata)
{
	struct recording *rec = open_example();
	char path[256];
	json_t *lines, *h, *g;

	snprintf(path, sizeof(path), "%s", recorder_path(rec));
	recorder_free(rec);
	lines = read_lines(path);
	h = json_array_get(lines, 0);
	ck_assert_int_eq(json_integer_value(json_object_get(h, "version")), 2);
	ck_assert_int_eq(json_integer_value(json_object_get(h, "width")), 120);
	ck_assert_int_eq(json_integer_value(json_object_get(h, "height")), 40);
	ck_assert_int_eq(json_integer_value(json_object_get(h, "timestamp")), 1795000000);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(h, "env"), "TERM")),
	    "xterm-256color");
	g = json_object_get(h, "gatewayd");
	ck_assert_str_eq(json_string_value(json_object_get(g, "session_id")), SID);
	ck_assert_int_eq(json_integer_value(json_object_get(g, "channel")), 1);
	ck_assert_str_eq(json_string_value(json_object_get(g, "person")), "acme.alice");
	ck_assert_str_eq(json_string_value(json_object_get(g, "vendor")), "acme");
	ck_assert_str_eq(json_string_value(json_object_get(g, "target")), "plc-07");
	ck_assert_str_eq(json_string_value(json_object_get(g, "target_user")), "service");
	ck_assert_str_eq(json_string_value(json_object_get(g, "client_addr")), "192.0.2.7");
	ck_assert_int_eq(json_integer_value(json_object_get(g, "client_port")), 50022);
	ck_assert_str_eq(json_string_value(json_object_get(g, "key_fp")), "SHA256:abc");
	ck_assert_str_eq(json_string_value(json_object_get(g, "ticket_id")), "T-1");
	ck_assert_str_eq(json_string_value(json_object_get(g, "approver")), "owner.bob");
	ck_assert_uint_eq(json_array_size(json_object_get(g, "approvers")), 2);
	ck_assert_str_eq(
	    json_string_value(json_array_get(json_object_get(g, "approvers"), 1)), "owner.carol");
	ck_assert_str_eq(
	    json_string_value(json_object_get(g, "started")), "2026-11-18T11:06:40.000Z");
	ck_assert_ptr_null(json_object_get(g, "command"));
	json_decref(lines);
}
END_TEST

START_TEST(existing_file_is_refused)
{
	struct recording_meta m = meta_example();
	struct recording *rec = open_example();

	ck_assert_ptr_null(recorder_open(dir, &m, &signer));
	ck_assert_int_eq(errno, EEXIST);
	recorder_free(rec);
}
END_TEST

START_TEST(session_id_that_is_not_hex_is_refused)
{
	static const char *const bad[] = { "../../etc/passwd", "", "abc/def", "0123g", NULL };
	struct recording_meta m = meta_example();
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		m.session_id = bad[i];
		ck_assert_ptr_null(recorder_open(dir, &m, &signer));
		ck_assert_int_eq(errno, EINVAL);
	}
	ck_assert_int_eq(rmdir(dir), 0); /* nothing was created */
	ck_assert_int_eq(mkdir(dir, 0700), 0);
}
END_TEST

START_TEST(every_output_byte_is_kept_across_split_writes)
{
	/* UTF-8 text, a euro sign split over two writes, invalid bytes, NUL, escapes. */
	static const unsigned char a[] = "caf\xc3\xa9 \x1b[1m\xe2\x82";
	static const unsigned char b[] = "\xac ok\xff\xfe\x00"
	                                 "bin\xc3";
	static const unsigned char c[] = "\x28 \"q\"\n";
	unsigned char want[64], got[64];
	struct recording *rec = open_example();
	char path[256];
	json_t *lines;
	size_t n = 0;

	snprintf(path, sizeof(path), "%s", recorder_path(rec));
	ck_assert_int_eq(recorder_write_output(rec, a, sizeof(a) - 1), 0);
	ck_assert_int_eq(recorder_write_output(rec, b, sizeof(b)), 0); /* with its NUL */
	ck_assert_int_eq(recorder_write_output(rec, c, sizeof(c) - 1), 0);
	ck_assert_int_eq(recorder_seal(rec, "test"), 0);
	recorder_free(rec);
	memcpy(want + n, a, sizeof(a) - 1), n += sizeof(a) - 1;
	memcpy(want + n, b, sizeof(b)), n += sizeof(b);
	memcpy(want + n, c, sizeof(c) - 1), n += sizeof(c) - 1;
	lines = read_lines(path);
	ck_assert_uint_eq(stream_bytes(lines, "o", "ob", got, sizeof(got)), n);
	ck_assert_mem_eq(got, want, n);
	json_decref(lines);
}
END_TEST

START_TEST(text_is_quoted_exactly_as_jansson_quotes_it)
{
	unsigned char text[256];
	char path[256], *line = NULL, want[2048];
	struct recording *rec = open_example();
	size_t n = 0, cap = 0, w;
	json_t *s;
	FILE *f;
	int c;

	for (c = 0; c < 0x80; c++) /* every ASCII byte, NUL and controls included */
		text[n++] = (unsigned char)c;
	memcpy(text + n, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xe2\x80\xa8", 19);
	n += 19;
	snprintf(path, sizeof(path), "%s", recorder_path(rec));
	ck_assert_int_eq(recorder_write_output(rec, text, n), 0);
	recorder_free(rec);
	s = json_stringn((const char *)text, n);
	ck_assert_ptr_nonnull(s);
	w = json_dumpb(s, want, sizeof(want), JSON_ENCODE_ANY);
	json_decref(s);
	ck_assert_uint_gt(w, 0);
	want[w] = '\0';
	ck_assert_ptr_nonnull(f = fopen(path, "r"));
	ck_assert_int_gt(getline(&line, &cap, f), 0); /* the header */
	ck_assert_int_gt(getline(&line, &cap, f), 0);
	fclose(f);
	ck_assert_ptr_nonnull(strstr(line, ",\"o\","));
	ck_assert_str_eq(strstr(line, ",\"o\",") + 5, strcat(want, "]\n"));
	free(line);
}
END_TEST

/* The word-at-a-time paths (rec_plain8) at every alignment: text made of plain runs, escapes
 * and multi-byte characters in random order is still quoted exactly as jansson quotes it. */
START_TEST(text_quoting_matches_jansson_at_every_alignment)
{
	static const char *const pieces[] = { "a", "xyzw1234", "Quick brown fox ", "\"", "\\", "\n",
		"\r\n", "\t", "\x01", "\x1b[0m", "\x7f", "caf\xc3\xa9", "\xe2\x82\xac",
		"\xf0\x9f\x98\x80", "0123456789abcdef0123456789" };
	unsigned char text[2048];
	char path[256], *line = NULL, want[16384];
	size_t n, cap = 0, w, k, compared = 0;
	unsigned seed = 42;
	int round;

	for (round = 0; round < 300; round++) {
		struct recording *rec = open_example();
		json_t *js;
		FILE *f;

		n = 0;
		for (k = (size_t)(rand_r(&seed) % 60); k > 0; k--) {
			const char *piece =
			    pieces[rand_r(&seed) % (sizeof(pieces) / sizeof(pieces[0]))];

			memcpy(text + n, piece, strlen(piece));
			n += strlen(piece);
		}
		if (n == 0)
			text[n++] = 'z';
		snprintf(path, sizeof(path), "%s", recorder_path(rec));
		ck_assert_int_eq(recorder_write_output(rec, text, n), 0);
		recorder_free(rec);
		ck_assert_ptr_nonnull(js = json_stringn((const char *)text, n));
		w = json_dumpb(js, want, sizeof(want) - 3, JSON_ENCODE_ANY);
		json_decref(js);
		want[w] = '\0';
		ck_assert_ptr_nonnull(f = fopen(path, "r"));
		ck_assert_int_gt(getline(&line, &cap, f), 0); /* the header */
		ck_assert_int_gt(getline(&line, &cap, f), 0);
		fclose(f);
		unlink(path);
		if (strstr(line, ",\"o\",") == NULL)
			continue; /* dearer as text than as base64: written raw */
		ck_assert_str_eq(strstr(line, ",\"o\",") + 5, strcat(want, "]\n"));
		compared++;
	}
	free(line);
	ck_assert_uint_gt(compared, 250);
}
END_TEST

START_TEST(streams_have_their_own_codes)
{
	struct recording *rec = open_example();
	unsigned char got[16];
	char path[256];
	json_t *lines;

	snprintf(path, sizeof(path), "%s", recorder_path(rec));
	ck_assert_int_eq(recorder_write_input(rec, "ls\r", 3), 0);
	ck_assert_int_eq(recorder_write_output(rec, "a.txt", 5), 0);
	ck_assert_int_eq(recorder_write_stderr(rec, "oops", 4), 0);
	ck_assert_int_eq(recorder_write_resize(rec, 100, 30), 0);
	ck_assert_int_eq(recorder_write_note(rec, "exit status 0"), 0);
	ck_assert_int_eq(recorder_flush(rec), 0);
	recorder_free(rec);
	lines = read_lines(path);
	ck_assert_uint_eq(stream_bytes(lines, "i", "ib", got, sizeof(got)), 3);
	ck_assert_mem_eq(got, "ls\r", 3);
	ck_assert_uint_eq(stream_bytes(lines, "e", "eb", got, sizeof(got)), 4);
	ck_assert_uint_eq(stream_bytes(lines, "r", "rb", got, sizeof(got)), 6);
	ck_assert_mem_eq(got, "100x30", 6);
	ck_assert_uint_eq(stream_bytes(lines, "n", "nb", got, sizeof(got)), 13);
	json_decref(lines);
}
END_TEST

START_TEST(event_times_are_elapsed_seconds_in_order)
{
	struct recording *rec = open_example();
	char path[256];
	json_t *lines;
	double t1, t2;
	regex_t re;
	char *text;

	snprintf(path, sizeof(path), "%s", recorder_path(rec));
	ck_assert_int_eq(recorder_write_output(rec, "a", 1), 0);
	usleep(20000);
	ck_assert_int_eq(recorder_write_output(rec, "b", 1), 0);
	ck_assert_int_eq(recorder_flush(rec), 0);
	recorder_free(rec);
	lines = read_lines(path);
	t1 = json_number_value(json_array_get(json_array_get(lines, 1), 0));
	t2 = json_number_value(json_array_get(json_array_get(lines, 2), 0));
	ck_assert(t1 >= 0 && t1 < 0.5);
	ck_assert(t2 - t1 >= 0.019);
	json_decref(lines);
	/* As asciinema writes them: whole seconds, a point, six digits (microseconds). */
	ck_assert_int_eq(
	    regcomp(&re,
	        "^\\[[0-9]+\\.[0-9]{6},\"o\",\"a\"\\]\n\\[[0-9]+\\.[0-9]{6},\"o\",\"b\"\\]\n",
	        REG_EXTENDED | REG_NEWLINE),
	    0);
	text = slurp(path); /* the pattern's ^ matches at the start of any line */
	ck_assert_int_eq(regexec(&re, text, 0, NULL, 0), 0);
	regfree(&re);
	free(text);
}
END_TEST

START_TEST(events_are_written_at_once_and_signed_at_flush)
{
	struct recording *rec = open_example();
	struct stat st0, st1;

	ck_assert_int_ne(recorder_pending_since(rec), 0); /* the header */
	ck_assert_int_eq(recorder_flush(rec), 0);
	ck_assert_int_eq(recorder_pending_since(rec), 0);
	ck_assert_int_eq(stat(recorder_path(rec), &st0), 0);
	ck_assert_int_eq(recorder_write_output(rec, "x", 1), 0);
	/* In the file before the caller relays it; its checkpoint waits for the flush. */
	ck_assert_int_ne(recorder_pending_since(rec), 0);
	ck_assert_int_eq(stat(recorder_path(rec), &st1), 0);
	ck_assert_int_gt(st1.st_size, st0.st_size);
	st0 = st1;
	ck_assert_int_eq(recorder_flush(rec), 0);
	ck_assert_int_eq(recorder_pending_since(rec), 0);
	ck_assert_int_eq(stat(recorder_path(rec), &st1), 0);
	ck_assert_int_gt(st1.st_size, st0.st_size);
	recorder_free(rec);
}
END_TEST

START_TEST(a_large_buffer_is_written_without_flush)
{
	struct recording *rec = open_example();
	static char big[200 * 1024];
	struct stat st;

	memset(big, 'x', sizeof(big));
	ck_assert_int_eq(recorder_write_output(rec, big, sizeof(big)), 0);
	ck_assert_int_eq(stat(recorder_path(rec), &st), 0);
	ck_assert_int_gt(st.st_size, 128 * 1024);
	recorder_free(rec);
}
END_TEST

START_TEST(seal_writes_end_record_then_checkpoint)
{
	struct recording *rec = open_example();
	char path[256];
	json_t *lines, *last;

	snprintf(path, sizeof(path), "%s", recorder_path(rec));
	ck_assert_int_eq(recorder_write_output(rec, "bye", 3), 0);
	ck_assert_int_eq(recorder_seal(rec, "window ended"), 0);
	ck_assert_int_eq(recorder_write_output(rec, "late", 4), -1);
	recorder_free(rec);
	lines = read_lines(path);
	last = json_array_get(lines, json_array_size(lines) - 1);
	ck_assert_str_eq(json_string_value(json_array_get(last, 1)), "h"); /* signs the seal */
	last = json_array_get(lines, json_array_size(lines) - 2);
	ck_assert_str_eq(json_string_value(json_array_get(last, 1)), "x");
	ck_assert_str_eq(
	    json_string_value(json_object_get(json_array_get(last, 2), "reason")), "window ended");
	ck_assert_ptr_nonnull(json_object_get(json_array_get(last, 2), "ended"));
	json_decref(lines);
}
END_TEST

START_TEST(a_long_recording_leaves_the_page_cache)
{
	struct recording *rec = open_example();
	static unsigned char chunk[256 * 1024];
	unsigned char resident[RECCHAIN_WINDOW / 4096];
	size_t i, kept = 0;
	struct statfs fs;
	void *map;
	int fd;

	for (i = 0; i < sizeof(chunk); i++)
		chunk[i] = (unsigned char)(i * 7919 >> 3); /* binary: written as base64 */
	ck_assert_int_ge((fd = open(recorder_path(rec), O_RDONLY)), 0);
	/* The first window goes to the disk when the file passes it; wait for that here. */
	for (i = 0; i < RECCHAIN_WINDOW / sizeof(chunk); i++)
		ck_assert_int_eq(recorder_write_output(rec, chunk, sizeof(chunk)), 0);
	ck_assert_int_eq(fdatasync(fd), 0);
	/* Passing the second window lets the first go from the cache. */
	for (i = 0; i < RECCHAIN_WINDOW / sizeof(chunk); i++)
		ck_assert_int_eq(recorder_write_output(rec, chunk, sizeof(chunk)), 0);
	ck_assert_ptr_ne(
	    (map = mmap(NULL, RECCHAIN_WINDOW, PROT_READ, MAP_SHARED, fd, 0)), MAP_FAILED);
	ck_assert_int_eq(mincore(map, RECCHAIN_WINDOW, resident), 0);
	for (i = 0; i < sizeof(resident); i++)
		kept += resident[i] & 1;
	munmap(map, RECCHAIN_WINDOW);
	ck_assert_int_eq(fstatfs(fd, &fs), 0);
	if (fs.f_type != TMPFS_MAGIC) /* tmpfs pages are the file: nothing to let go */
		ck_assert_uint_eq(kept, 0);
	close(fd);
	ck_assert_int_eq(recorder_seal(rec, "done"), 0);
	recorder_free(rec);
}
END_TEST

START_TEST(a_full_file_system_fails_the_recording)
{
	struct rlimit rl = { .rlim_cur = 8192, .rlim_max = 8192 };
	struct recording *rec = open_example();
	static char big[16 * 1024];

	signal(SIGXFSZ, SIG_IGN);
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
	memset(big, 'y', sizeof(big));
	recorder_write_output(rec, big, sizeof(big)); /* may be buffered */
	ck_assert_int_eq(recorder_flush(rec), -1);
	ck_assert_int_eq(errno, EFBIG);
	ck_assert_int_eq(recorder_write_output(rec, "z", 1), -1);
	ck_assert_int_eq(recorder_seal(rec, "x"), -1);
	recorder_free(rec);
}
END_TEST

START_TEST(an_unwritable_directory_creates_nothing)
{
	struct recording_meta m = meta_example();

	ck_assert_ptr_null(recorder_open("/nonexistent/dir", &m, &signer));
	ck_assert_int_eq(errno, ENOENT);
}
END_TEST

/* ---- the disk budget: about 1.4 bytes on disk per recorded byte, whatever the bytes ---- */

/* What the bound allows besides 1.4 bytes a byte (recorder.c: REC_CREDIT_MAX, the allowance
 * every recording starts with, and REC_CREDIT_PER_S), and the seal with its checkpoint. */
#define BOUND_ALLOWANCE (64 * 1024)
#define BOUND_PER_S     512
#define BOUND_SEAL      1024

/* Writes n bytes made by fill in pieces of piece bytes (alternating input and output when
 * alternate), seals, and checks that the file holds exactly those bytes, verifies intact,
 * and is no larger than the bound. Returns the events written. */
static size_t
check_bound(void (*fill)(unsigned char *, size_t), size_t n, size_t piece, bool alternate)
{
	unsigned char *in = malloc(n), *got = malloc(n);
	struct recording *rec = open_example();
	struct timespec t0, t1;
	struct verdict v;
	char path[256];
	json_t *lines;
	struct stat st;
	off_t header;
	size_t off, w, nin = 0, nout = 0;
	double secs, bound;

	fill(in, n);
	snprintf(path, sizeof(path), "%s", recorder_path(rec));
	ck_assert_int_eq(stat(path, &st), 0);
	header = st.st_size;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (off = 0; off < n; off += w) {
		w = n - off < piece ? n - off : piece;
		if (alternate && (off / piece) % 2 == 1) {
			unit_assert_zero(recorder_write_input(rec, in + off, w));
			nin += w;
		} else {
			unit_assert_zero(recorder_write_output(rec, in + off, w));
			nout += w;
		}
	}
	ck_assert_int_eq(recorder_seal(rec, "test"), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	recorder_free(rec);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9 + 1;
	ck_assert_int_eq(stat(path, &st), 0);
	bound = 1.4 * (double)n + BOUND_ALLOWANCE + BOUND_PER_S * secs + BOUND_SEAL;
	ck_assert_msg((double)(st.st_size - header) <= bound,
	    "%zu bytes in pieces of %zu took %lld bytes on disk, bound %.0f", n, piece,
	    (long long)(st.st_size - header), bound);
	verify_recording(path, key, &v);
	ck_assert_int_eq(v.kind, VERDICT_INTACT);
	lines = read_lines(path);
	ck_assert_uint_eq(stream_bytes(lines, "o", "ob", got, n), nout);
	ck_assert_uint_eq(stream_bytes(lines, "i", "ib", got + nout, n - nout), nin);
	if (!alternate)
		ck_assert_mem_eq(got, in, n);
	w = json_array_size(lines);
	json_decref(lines);
	unlink(path);
	free(in);
	free(got);
	return w;
}

static void
fill_zero(unsigned char *p, size_t n)
{
	memset(p, 0, n);
}

static void
fill_controls(unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (unsigned char)(1 + i % 0x1f); /* 0x01-0x1f, each "\u00XX" or "\n" in JSON */
}

static void
fill_invalid_utf8(unsigned char *p, size_t n)
{
	static const unsigned char bad[] = { 0xff, 0x00, 0xc0, 0x80, 0xed, 0xa0, 0x80, 0x1b };
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = bad[i % sizeof(bad)];
}

static void
fill_text(unsigned char *p, size_t n)
{
	static const char line[] = "PLC-07 cycle 12 ms, inputs 0x3f\r\n";
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (unsigned char)line[i % (sizeof(line) - 1)];
}

START_TEST(zero_bytes_cost_at_most_the_bound)
{
	check_bound(fill_zero, 4 << 20, 32 * 1024, false);
	check_bound(fill_zero, 1 << 20, 1000, false);
}
END_TEST

START_TEST(control_bytes_cost_at_most_the_bound)
{
	check_bound(fill_controls, 4 << 20, 32 * 1024, false);
	check_bound(fill_controls, 1 << 20, 7, false);
}
END_TEST

START_TEST(invalid_utf8_costs_at_most_the_bound)
{
	check_bound(fill_invalid_utf8, 4 << 20, 32 * 1024, false);
	check_bound(fill_invalid_utf8, 1 << 20, 3, false);
}
END_TEST

/* One byte per event is 20 bytes of frame and 67 of digest for one byte: such events wait and
 * merge until they pay for themselves. */
START_TEST(one_byte_events_cost_at_most_the_bound)
{
	check_bound(fill_zero, 400000, 1, false);
	check_bound(fill_text, 400000, 1, false);
	check_bound(fill_text, 400000, 1, true); /* input and output in turn */
}
END_TEST

/* A window change between every two keystrokes would force each keystroke out as its own
 * event: a waiting size is replaced by the next one instead, and the last size is kept. */
START_TEST(resizes_between_one_byte_events_cost_at_most_the_bound)
{
	struct recording *rec = open_example();
	char path[256];
	struct stat st;
	off_t header;
	json_t *lines, *ev;
	const char *last = NULL;
	size_t i, n = 200000;

	snprintf(path, sizeof(path), "%s", recorder_path(rec));
	ck_assert_int_eq(stat(path, &st), 0);
	header = st.st_size;
	for (i = 0; i < n; i++) {
		unit_assert_zero(recorder_write_input(rec, "x", 1));
		unit_assert_zero(recorder_write_resize(rec, 80 + (int)(i % 2), 24));
	}
	ck_assert_int_eq(recorder_write_resize(rec, 132, 43), 0);
	ck_assert_int_eq(recorder_seal(rec, "test"), 0);
	recorder_free(rec);
	ck_assert_int_eq(stat(path, &st), 0);
	/* A few seconds at most under ASan: 10 s of time allowance. */
	ck_assert_int_le(
	    st.st_size - header, 1.4 * n + BOUND_ALLOWANCE + BOUND_PER_S * 10 + BOUND_SEAL);
	lines = read_lines(path);
	json_array_foreach (lines, i, ev)
		if (i > 0 && strcmp(json_string_value(json_array_get(ev, 1)), "r") == 0)
			last = json_string_value(json_array_get(ev, 2));
	ck_assert_str_eq(last, "132x43");
	json_decref(lines);
}
END_TEST

/* What a person types and sees stays one event per write while the budget allows: the
 * replay keeps every keystroke's time. */
START_TEST(a_typing_person_keeps_an_event_per_keystroke)
{
	struct recording *rec = open_example();
	char path[256];
	json_t *lines;
	size_t i, events = 0;

	snprintf(path, sizeof(path), "%s", recorder_path(rec));
	for (i = 0; i < 200; i++) {
		ck_assert_int_eq(recorder_write_input(rec, "l", 1), 0);
		ck_assert_int_eq(recorder_write_output(rec, "\x1b[1ml\x1b[0m", 9), 0);
	}
	ck_assert_int_eq(recorder_seal(rec, "test"), 0);
	recorder_free(rec);
	lines = read_lines(path);
	for (i = 1; i < json_array_size(lines); i++) {
		const char *code = json_string_value(json_array_get(json_array_get(lines, i), 1));

		ck_assert_str_ne(code, "ob"); /* asciinema shows the escapes */
		events += strcmp(code, "i") == 0 || strcmp(code, "o") == 0;
	}
	ck_assert_uint_eq(events, 400);
	json_decref(lines);
}
END_TEST

/* The recorder's own base64 writes what OpenSSL writes, at every length and alignment: the
 * verifier and every reader decode it with OpenSSL. */
START_TEST(raw_bytes_are_base64_as_openssl_writes_it)
{
	static unsigned char in[70000 + 7]; /* the longest piece at the largest offset */
	static char ours[B64_LEN(sizeof(in)) + 1], theirs[B64_LEN(sizeof(in)) + 1];
	unsigned seed = 7;
	size_t i, n, lens[] = { 65536, 65537, 65538, 69999 };

	for (i = 0; i < sizeof(in); i++) {
		seed = seed * 1103515245 + 12345;
		in[i] = (unsigned char)(seed >> 16);
	}
	for (n = 0; n < 300 + sizeof(lens) / sizeof(lens[0]); n++) {
		size_t len = n < 300 ? n : lens[n - 300], off = n % 7;

		ck_assert_uint_eq(b64_encode(ours, in + off, len), B64_LEN(len));
		ck_assert_int_eq(EVP_EncodeBlock((unsigned char *)theirs, in + off, (int)len),
		    (int)B64_LEN(len));
		ck_assert(memcmp(ours, theirs, B64_LEN(len)) == 0);
	}
}
END_TEST

Suite *
unit_suite(void)
{
	Suite *s = suite_create("recorder");
	TCase *tc = tcase_create("recorder");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, file_is_created_private);
	tcase_add_test(tc, header_is_asciicast_v2_with_metadata);
	tcase_add_test(tc, existing_file_is_refused);
	tcase_add_test(tc, session_id_that_is_not_hex_is_refused);
	tcase_add_test(tc, every_output_byte_is_kept_across_split_writes);
	tcase_add_test(tc, streams_have_their_own_codes);
	tcase_add_test(tc, event_times_are_elapsed_seconds_in_order);
	tcase_add_test(tc, events_are_written_at_once_and_signed_at_flush);
	tcase_add_test(tc, text_is_quoted_exactly_as_jansson_quotes_it);
	tcase_add_test(tc, text_quoting_matches_jansson_at_every_alignment);
	tcase_add_test(tc, a_large_buffer_is_written_without_flush);
	tcase_add_test(tc, a_long_recording_leaves_the_page_cache);
	tcase_add_test(tc, seal_writes_end_record_then_checkpoint);
	tcase_add_test(tc, a_full_file_system_fails_the_recording);
	tcase_add_test(tc, an_unwritable_directory_creates_nothing);
	tcase_add_test(tc, zero_bytes_cost_at_most_the_bound);
	tcase_add_test(tc, control_bytes_cost_at_most_the_bound);
	tcase_add_test(tc, invalid_utf8_costs_at_most_the_bound);
	tcase_add_test(tc, one_byte_events_cost_at_most_the_bound);
	tcase_add_test(tc, resizes_between_one_byte_events_cost_at_most_the_bound);
	tcase_add_test(tc, a_typing_person_keeps_an_event_per_keystroke);
	tcase_add_test(tc, raw_bytes_are_base64_as_openssl_writes_it);
	suite_add_tcase(s, tc);
	return s;
}
