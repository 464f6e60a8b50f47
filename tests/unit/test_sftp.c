/* test_sftp.c: the sftp inspection module, fed real SFTP v3 packet sequences built
 * here: framing, the file-transfer grant, refusals answered to the vendor, evidence
 * events with SHA-256, and hostile input. */
#include "unit.h"
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gatewayd/sftp.h"

/* ---- packets ---- */

struct pk {
	uint8_t b[SFTP_MAX_PACKET + 64];
	size_t len;
};

static void
pk_u32(struct pk *p, uint32_t v)
{
	p->b[p->len++] = v >> 24;
	p->b[p->len++] = v >> 16;
	p->b[p->len++] = v >> 8;
	p->b[p->len++] = v;
}

static void
pk_u64(struct pk *p, uint64_t v)
{
	pk_u32(p, v >> 32);
	pk_u32(p, (uint32_t)v);
}

static void
pk_bytes(struct pk *p, const void *s, size_t n)
{
	pk_u32(p, n);
	memcpy(p->b + p->len, s, n);
	p->len += n;
}

static void
pk_str(struct pk *p, const char *s)
{
	pk_bytes(p, s, strlen(s));
}

static struct pk *
pk_new(uint8_t type)
{
	struct pk *p = calloc(1, sizeof(*p));

	p->len = 4;
	p->b[p->len++] = type;
	return p;
}

/* Fills in the length field. */
static struct pk *
pk_end(struct pk *p)
{
	uint32_t n = p->len - 4;

	p->b[0] = n >> 24;
	p->b[1] = n >> 16;
	p->b[2] = n >> 8;
	p->b[3] = n;
	return p;
}

static struct pk *
pk_init(void)
{
	struct pk *p = pk_new(1);

	pk_u32(p, 3);
	return pk_end(p);
}

static struct pk *
pk_version(const char *ext1, const char *ext2)
{
	struct pk *p = pk_new(2);

	pk_u32(p, 3);
	if (ext1 != NULL) {
		pk_str(p, ext1);
		pk_str(p, "1");
	}
	if (ext2 != NULL) {
		pk_str(p, ext2);
		pk_str(p, "1");
	}
	return pk_end(p);
}

/* A request of one path argument: realpath, stat, remove, opendir, ... */
static struct pk *
pk_path_req(uint8_t type, uint32_t id, const char *path)
{
	struct pk *p = pk_new(type);

	pk_u32(p, id);
	pk_str(p, path);
	return pk_end(p);
}

static struct pk *
pk_open(uint32_t id, const char *path, uint32_t pflags)
{
	struct pk *p = pk_new(3);

	pk_u32(p, id);
	pk_str(p, path);
	pk_u32(p, pflags);
	pk_u32(p, 0x04); /* permissions */
	pk_u32(p, 0644);
	return pk_end(p);
}

static struct pk *
pk_handle_req(uint8_t type, uint32_t id, const char *handle)
{
	return pk_path_req(type, id, handle);
}

static struct pk *
pk_write(uint32_t id, const char *handle, uint64_t off, const void *data, size_t n)
{
	struct pk *p = pk_new(6);

	pk_u32(p, id);
	pk_str(p, handle);
	pk_u64(p, off);
	pk_bytes(p, data, n);
	return pk_end(p);
}

static struct pk *
pk_read(uint32_t id, const char *handle, uint64_t off, uint32_t len)
{
	struct pk *p = pk_new(5);

	pk_u32(p, id);
	pk_str(p, handle);
	pk_u64(p, off);
	pk_u32(p, len);
	return pk_end(p);
}

static struct pk *
pk_two_paths(uint8_t type, uint32_t id, const char *ext, const char *a, const char *b)
{
	struct pk *p = pk_new(type);

	pk_u32(p, id);
	if (ext != NULL)
		pk_str(p, ext);
	pk_str(p, a);
	pk_str(p, b);
	return pk_end(p);
}

static struct pk *
pk_status(uint32_t id, uint32_t code)
{
	struct pk *p = pk_new(101);

	pk_u32(p, id);
	pk_u32(p, code);
	pk_str(p, "");
	pk_str(p, "");
	return pk_end(p);
}

static struct pk *
pk_handle(uint32_t id, const char *handle)
{
	return pk_path_req(102, id, handle);
}

static struct pk *
pk_data(uint32_t id, const void *data, size_t n)
{
	struct pk *p = pk_new(103);

	pk_u32(p, id);
	pk_bytes(p, data, n);
	return pk_end(p);
}

static struct pk *
pk_name(uint32_t id, const char *name)
{
	struct pk *p = pk_new(104);

	pk_u32(p, id);
	pk_u32(p, 1);
	pk_str(p, name);
	pk_str(p, name);
	pk_u32(p, 0);
	return pk_end(p);
}

/* ---- harness: a watch, its events, and everything it queued ---- */

struct outbuf {
	uint8_t *b;
	size_t len;
};

struct harness {
	struct sftp_watch *w;
	json_t *events;
	struct outbuf to_target, to_vendor;
	size_t chunk; /* feed size; 0: whole packets */
	bool fail_evidence;
};

static const char *prefixes_home[] = { "/home/alice" };

static int
harness_event(const struct sftp_event *ev, void *arg)
{
	struct harness *h = arg;
	json_t *o = sftp_event_to_json(ev);

	json_object_del(o, "time");
	json_array_append_new(h->events, o);
	return h->fail_evidence ? -1 : 0;
}

static struct harness *
harness_new_policy(const struct sftp_policy *pol)
{
	struct harness *h = calloc(1, sizeof(*h));

	h->events = json_array();
	ck_assert_ptr_nonnull(h->w = sftp_watch_new(pol, harness_event, h));
	return h;
}

static struct harness *
harness_new(bool upload, bool download, const char **prefixes, size_t nprefixes, uint64_t max_size)
{
	struct sftp_policy pol = {
		.upload = upload,
		.download = download,
		.path_prefixes = prefixes,
		.nprefixes = nprefixes,
		.max_file_size = max_size,
	};

	return harness_new_policy(&pol);
}

/* Uploads and downloads granted, uploads atomic, on target plc-07. */
static struct harness *
harness_new_atomic(uint64_t max_size)
{
	struct sftp_policy pol = {
		.upload = true,
		.download = true,
		.max_file_size = max_size,
		.atomic_uploads = true,
		.target = "plc-07",
	};

	return harness_new_policy(&pol);
}

static void
harness_free(struct harness *h)
{
	sftp_watch_free(h->w);
	json_decref(h->events);
	free(h->to_target.b);
	free(h->to_vendor.b);
	free(h);
}

static void
outbuf_add(struct outbuf *o, const uint8_t *p, size_t n)
{
	if (n == 0)
		return;
	o->b = realloc(o->b, o->len + n + 1);
	memcpy(o->b + o->len, p, n);
	o->len += n;
}

static void
harness_drain(struct harness *h)
{
	const uint8_t *p;
	size_t n;

	n = sftp_watch_pending_to_target(h->w, &p);
	outbuf_add(&h->to_target, p, n);
	sftp_watch_consume_to_target(h->w, n);
	n = sftp_watch_pending_to_vendor(h->w, &p);
	outbuf_add(&h->to_vendor, p, n);
	sftp_watch_consume_to_vendor(h->w, n);
}

/* Feeds one packet in h->chunk pieces; returns 0, or -1 when the watch refused the stream. */
static int
harness_feed(struct harness *h, bool from_vendor, struct pk *p)
{
	size_t off = 0, n;
	ssize_t took;

	while (off < p->len) {
		n = h->chunk == 0 || h->chunk > p->len - off ? p->len - off : h->chunk;
		took = from_vendor ? sftp_watch_from_vendor(h->w, p->b + off, n)
		                   : sftp_watch_from_target(h->w, p->b + off, n);
		if (took < 0) {
			free(p);
			return -1;
		}
		ck_assert_uint_eq((size_t)took, n);
		off += n;
		harness_drain(h);
	}
	free(p);
	return 0;
}

static void
vendor(struct harness *h, struct pk *p)
{
	ck_assert_msg(harness_feed(h, true, p) == 0, "refused: %s", sftp_watch_error(h->w));
}

static void
target(struct harness *h, struct pk *p)
{
	ck_assert_msg(harness_feed(h, false, p) == 0, "refused: %s", sftp_watch_error(h->w));
}

#define HOME_ID 0xffffffffu /* the gateway's own REALPATH "." */

/* INIT, VERSION, the gateway's REALPATH "." answered with home. */
static void
harness_start(struct harness *h, const char *home)
{
	vendor(h, pk_init());
	target(h, pk_version("posix-rename@openssh.com", NULL));
	target(h, pk_name(HOME_ID, home));
}

static json_t *
last_event(struct harness *h)
{
	size_t n = json_array_size(h->events);

	ck_assert_uint_gt(n, 0);
	return json_array_get(h->events, n - 1);
}

static const char *
ev_str(json_t *ev, const char *key)
{
	return json_string_value(json_object_get(ev, key));
}

static void
sha256_hex(const void *data, size_t n, char out[65])
{
	uint8_t md[32];
	unsigned int mdlen;
	int i;

	ck_assert_int_eq(EVP_Digest(data, n, md, &mdlen, EVP_sha256(), NULL), 1);
	for (i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
}

static uint32_t
get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* ---- tests ---- */

START_TEST(test_init_and_version_pass_whole)
{
	struct harness *h = harness_new(true, true, NULL, 0, 0);

	vendor(h, pk_init());
	ck_assert_uint_eq(h->to_target.len, 9);
	target(h, pk_version(NULL, NULL));
	ck_assert_uint_eq(h->to_vendor.len, 9);
	ck_assert_uint_eq(h->to_vendor.b[4], 2);
	harness_free(h);
}
END_TEST

START_TEST(test_gateway_asks_home_and_keeps_answer_to_itself)
{
	struct harness *h = harness_new(true, true, NULL, 0, 0);
	const uint8_t *q = NULL;

	vendor(h, pk_init());
	target(h, pk_version(NULL, NULL));
	ck_assert_uint_eq(h->to_target.len, 9 + 14);
	ck_assert_uint_eq(h->to_target.b[9 + 4], 16);
	ck_assert_uint_eq(get_u32(h->to_target.b + 9 + 5), HOME_ID);
	target(h, pk_name(HOME_ID, "/home/alice"));
	ck_assert_uint_eq(h->to_vendor.len, 9);
	ck_assert_uint_eq(sftp_watch_pending_to_vendor(h->w, &q), 0);
	harness_free(h);
}
END_TEST

START_TEST(test_vendor_requests_held_until_home_known)
{
	struct harness *h = harness_new(true, true, prefixes_home, 1, 0);
	struct pk *p = pk_open(2, "prog.bin", 0x1a);
	size_t plen = p->len;

	vendor(h, pk_init());
	target(h, pk_version(NULL, NULL));
	ck_assert_int_eq(sftp_watch_from_vendor(h->w, p->b, p->len), 0);
	target(h, pk_name(HOME_ID, "/home/alice"));
	ck_assert_int_eq(sftp_watch_from_vendor(h->w, p->b, p->len), (ssize_t)p->len);
	free(p);
	harness_drain(h);
	ck_assert_uint_eq(h->to_target.len, 9 + 14 + plen);
	harness_free(h);
}
END_TEST

START_TEST(test_version_hides_copy_data)
{
	struct harness *h = harness_new(true, true, NULL, 0, 0);

	vendor(h, pk_init());
	target(h, pk_version("copy-data", "posix-rename@openssh.com"));
	ck_assert_ptr_null(memmem(h->to_vendor.b, h->to_vendor.len, "copy-data", 9));
	ck_assert_ptr_nonnull(memmem(h->to_vendor.b, h->to_vendor.len, "posix-rename", 12));
	ck_assert_uint_eq(get_u32(h->to_vendor.b), h->to_vendor.len - 4);
	harness_free(h);
}
END_TEST

START_TEST(test_relative_path_resolved_against_home)
{
	struct harness *h = harness_new(true, true, prefixes_home, 1, 0);
	size_t before;

	harness_start(h, "/home/alice");
	before = h->to_target.len;
	vendor(h, pk_open(2, "plc/prog.bin", 0x1a));
	ck_assert_uint_gt(h->to_target.len, before);
	target(h, pk_handle(2, "H1"));
	ck_assert_str_eq(ev_str(last_event(h), "event"), "sftp-open");
	ck_assert_str_eq(ev_str(last_event(h), "path"), "/home/alice/plc/prog.bin");
	ck_assert_str_eq(ev_str(last_event(h), "mode"), "0644");
	harness_free(h);
}
END_TEST

START_TEST(test_relative_path_refused_when_target_hides_home)
{
	struct harness *h = harness_new(true, true, prefixes_home, 1, 0);
	size_t t;

	vendor(h, pk_init());
	target(h, pk_version(NULL, NULL));
	target(h, pk_status(HOME_ID, 2));
	t = h->to_target.len;
	vendor(h, pk_open(2, "prog.bin", 0x1a));
	ck_assert_uint_eq(h->to_target.len, t);
	ck_assert_str_eq(
	    ev_str(last_event(h), "reason"), "relative path before the home directory is known");
	harness_free(h);
}
END_TEST

/* Uploads data in three writes and returns the close event. */
static json_t *
upload(struct harness *h, const char *data, size_t n, bool in_order)
{
	size_t third = n / 3;

	vendor(h, pk_open(2, "/home/alice/up.bin", 0x1a));
	target(h, pk_handle(2, "H1"));
	if (in_order) {
		vendor(h, pk_write(3, "H1", 0, data, third));
		vendor(h, pk_write(4, "H1", third, data + third, third));
	} else {
		vendor(h, pk_write(4, "H1", third, data + third, third));
		vendor(h, pk_write(3, "H1", 0, data, third));
	}
	vendor(h, pk_write(5, "H1", 2 * third, data + 2 * third, n - 2 * third));
	target(h, pk_status(3, 0));
	target(h, pk_status(4, 0));
	target(h, pk_status(5, 0));
	vendor(h, pk_handle_req(4, 6, "H1"));
	target(h, pk_status(6, 0));
	return json_array_get(h->events, json_array_size(h->events) - 1);
}

START_TEST(test_sequential_upload_hash_matches_openssl)
{
	struct harness *h = harness_new(true, false, prefixes_home, 1, 0);
	static const char data[] = "PROGRAM plc07\nLD X0\nOUT Y0\nEND\n";
	char want[65];
	json_t *ev;

	harness_start(h, "/home/alice");
	ev = upload(h, data, sizeof(data) - 1, true);
	sha256_hex(data, sizeof(data) - 1, want);
	ck_assert_str_eq(ev_str(ev, "event"), "sftp-close");
	ck_assert_str_eq(ev_str(ev, "sha256"), want);
	ck_assert_int_eq(
	    json_integer_value(json_object_get(ev, "bytes_written")), sizeof(data) - 1);
	ck_assert_str_eq(ev_str(ev, "path"), "/home/alice/up.bin");
	harness_free(h);
}
END_TEST

START_TEST(test_out_of_order_writes_have_no_hash)
{
	struct harness *h = harness_new(true, false, prefixes_home, 1, 0);
	static const char data[] = "0123456789abcdefghijklmnopqrstuvwxyz";
	json_t *ev;

	harness_start(h, "/home/alice");
	ev = upload(h, data, sizeof(data) - 1, false);
	ck_assert_ptr_null(json_object_get(ev, "sha256"));
	ck_assert_str_eq(ev_str(ev, "note"), "not sequential, no hash");
	ck_assert_int_eq(
	    json_integer_value(json_object_get(ev, "bytes_written")), sizeof(data) - 1);
	harness_free(h);
}
END_TEST

START_TEST(test_failed_write_voids_hash)
{
	struct harness *h = harness_new(true, false, prefixes_home, 1, 0);

	harness_start(h, "/home/alice");
	vendor(h, pk_open(2, "/home/alice/up.bin", 0x1a));
	target(h, pk_handle(2, "H1"));
	vendor(h, pk_write(3, "H1", 0, "abc", 3));
	target(h, pk_status(3, 4));
	vendor(h, pk_handle_req(4, 4, "H1"));
	ck_assert_str_eq(ev_str(last_event(h), "note"), "a write failed, no hash");
	harness_free(h);
}
END_TEST

START_TEST(test_pipelined_download_hash_matches_openssl)
{
	struct harness *h = harness_new(false, true, prefixes_home, 1, 0);
	char data[3000], want[65];
	json_t *ev;
	size_t i;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (char)(i * 7);
	harness_start(h, "/home/alice");
	vendor(h, pk_open(2, "/home/alice/log.txt", 0x01));
	target(h, pk_handle(2, "R"));
	vendor(h, pk_read(3, "R", 0, 1024));
	vendor(h, pk_read(4, "R", 1024, 1024));
	vendor(h, pk_read(5, "R", 2048, 1024));
	vendor(h, pk_read(6, "R", 3072, 1024));
	target(h, pk_data(3, data, 1024));
	target(h, pk_data(4, data + 1024, 1024));
	target(h, pk_data(5, data + 2048, sizeof(data) - 2048));
	target(h, pk_status(6, 1)); /* EOF */
	vendor(h, pk_handle_req(4, 7, "R"));
	ev = last_event(h);
	sha256_hex(data, sizeof(data), want);
	ck_assert_str_eq(ev_str(ev, "sha256"), want);
	ck_assert_int_eq(json_integer_value(json_object_get(ev, "bytes_read")), sizeof(data));
	harness_free(h);
}
END_TEST

/* The vendor got exactly one STATUS for id with code and nothing reached the target. */
static void
assert_refused(
    struct harness *h, size_t target_before, size_t vendor_before, uint32_t id, uint32_t code)
{
	const uint8_t *s = h->to_vendor.b + vendor_before;

	ck_assert_uint_eq(h->to_target.len, target_before);
	ck_assert_uint_eq(get_u32(s) + 4, h->to_vendor.len - vendor_before);
	ck_assert_uint_eq(s[4], 101);
	ck_assert_uint_eq(get_u32(s + 5), id);
	ck_assert_uint_eq(get_u32(s + 9), code);
	ck_assert_ptr_nonnull(memmem(s, h->to_vendor.len - vendor_before, "gatewayd: ", 10));
	ck_assert_str_eq(ev_str(last_event(h), "event"), "sftp-denied");
}

START_TEST(test_upload_refused_when_only_download_granted)
{
	struct harness *h = harness_new(false, true, NULL, 0, 0);
	size_t t, v;

	harness_start(h, "/home/alice");
	t = h->to_target.len;
	v = h->to_vendor.len;
	vendor(h, pk_open(42, "/home/alice/x.bin", 0x1a));
	assert_refused(h, t, v, 42, 3);
	ck_assert_str_eq(ev_str(last_event(h), "reason"), "upload not granted");
	ck_assert_str_eq(ev_str(last_event(h), "op"), "open");
	harness_free(h);
}
END_TEST

START_TEST(test_mutations_refused_when_only_download_granted)
{
	static const uint8_t types[] = { 13, 14, 15 }; /* remove, mkdir, rmdir */
	struct harness *h = harness_new(false, true, NULL, 0, 0);
	size_t i, t, v;
	struct pk *p;

	harness_start(h, "/home/alice");
	for (i = 0; i < sizeof(types); i++) {
		t = h->to_target.len;
		v = h->to_vendor.len;
		p = pk_new(types[i]);
		pk_u32(p, 10 + i);
		pk_str(p, "/home/alice/d");
		if (types[i] == 14)
			pk_u32(p, 0);
		vendor(h, pk_end(p));
		assert_refused(h, t, v, 10 + i, 3);
	}
	t = h->to_target.len;
	v = h->to_vendor.len;
	vendor(h, pk_two_paths(18, 20, NULL, "/home/alice/a", "/home/alice/b"));
	assert_refused(h, t, v, 20, 3);
	harness_free(h);
}
END_TEST

START_TEST(test_download_refused_when_only_upload_granted)
{
	struct harness *h = harness_new(true, false, NULL, 0, 0);
	size_t t, v;

	harness_start(h, "/home/alice");
	t = h->to_target.len;
	v = h->to_vendor.len;
	vendor(h, pk_open(7, "/etc/passwd", 0x01));
	assert_refused(h, t, v, 7, 3);
	ck_assert_str_eq(ev_str(last_event(h), "reason"), "download not granted");
	harness_free(h);
}
END_TEST

START_TEST(test_path_outside_prefix_refused)
{
	struct harness *h = harness_new(true, true, prefixes_home, 1, 0);
	size_t t, v;

	harness_start(h, "/home/alice");
	t = h->to_target.len;
	v = h->to_vendor.len;
	vendor(h, pk_path_req(17, 5, "/home/alice2/secret"));
	assert_refused(h, t, v, 5, 3);
	ck_assert_str_eq(ev_str(last_event(h), "reason"), "outside the allowed paths");
	t = h->to_target.len;
	v = h->to_vendor.len;
	vendor(h, pk_path_req(11, 6, "/etc"));
	assert_refused(h, t, v, 6, 3);
	harness_free(h);
}
END_TEST

START_TEST(test_dotdot_refused_with_prefixes)
{
	struct harness *h = harness_new(true, true, prefixes_home, 1, 0);
	size_t t, v;

	harness_start(h, "/home/alice");
	t = h->to_target.len;
	v = h->to_vendor.len;
	vendor(h, pk_open(5, "/home/alice/link/../x", 0x01));
	assert_refused(h, t, v, 5, 3);
	harness_free(h);
}
END_TEST

START_TEST(test_realpath_with_dotdot_is_a_name_query)
{
	struct harness *h = harness_new(true, true, prefixes_home, 1, 0);
	size_t t;

	harness_start(h, "/home/alice");
	t = h->to_target.len;
	vendor(h, pk_path_req(16, 5, "/home/alice/.."));
	ck_assert_uint_gt(h->to_target.len, t);
	harness_free(h);
}
END_TEST

START_TEST(test_hardlink_from_outside_prefix_refused)
{
	struct harness *h = harness_new(true, true, prefixes_home, 1, 0);
	size_t t, v;

	harness_start(h, "/home/alice");
	t = h->to_target.len;
	v = h->to_vendor.len;
	vendor(h, pk_two_paths(200, 5, "hardlink@openssh.com", "/etc/shadow", "/home/alice/s"));
	assert_refused(h, t, v, 5, 3);
	harness_free(h);
}
END_TEST

START_TEST(test_copy_data_refused)
{
	struct harness *h = harness_new(true, true, NULL, 0, 0);
	size_t t, v;
	struct pk *p;

	harness_start(h, "/home/alice");
	t = h->to_target.len;
	v = h->to_vendor.len;
	p = pk_new(200);
	pk_u32(p, 9);
	pk_str(p, "copy-data");
	pk_str(p, "H1");
	pk_u64(p, 0);
	pk_u64(p, 0);
	pk_str(p, "H2");
	pk_u64(p, 0);
	vendor(h, pk_end(p));
	assert_refused(h, t, v, 9, 3);
	harness_free(h);
}
END_TEST

START_TEST(test_unknown_extension_refused)
{
	struct harness *h = harness_new(true, true, NULL, 0, 0);
	size_t t, v;

	harness_start(h, "/home/alice");
	t = h->to_target.len;
	v = h->to_vendor.len;
	vendor(h, pk_path_req(200, 9, "exec-anything@example.com"));
	assert_refused(h, t, v, 9, 3);
	ck_assert_str_eq(ev_str(last_event(h), "reason"), "extension not allowed");
	harness_free(h);
}
END_TEST

START_TEST(test_rename_reported_with_status)
{
	struct harness *h = harness_new(true, true, prefixes_home, 1, 0);
	json_t *ev;

	harness_start(h, "/home/alice");
	vendor(h, pk_two_paths(200, 5, "posix-rename@openssh.com", "a.tmp", "/home/alice/a"));
	target(h, pk_status(5, 0));
	ev = last_event(h);
	ck_assert_str_eq(ev_str(ev, "event"), "sftp-rename");
	ck_assert_str_eq(ev_str(ev, "path"), "/home/alice/a.tmp");
	ck_assert_str_eq(ev_str(ev, "path2"), "/home/alice/a");
	ck_assert_str_eq(ev_str(ev, "status"), "ok");
	harness_free(h);
}
END_TEST

START_TEST(test_write_beyond_max_size_refused)
{
	struct harness *h = harness_new(true, false, NULL, 0, 10);
	size_t t, v;

	harness_start(h, "/home/alice");
	vendor(h, pk_open(2, "/tmp/f", 0x1a));
	target(h, pk_handle(2, "H1"));
	vendor(h, pk_write(3, "H1", 0, "0123456789", 10));
	t = h->to_target.len;
	v = h->to_vendor.len;
	vendor(h, pk_write(4, "H1", 10, "x", 1));
	assert_refused(h, t, v, 4, 4);
	ck_assert_str_eq(ev_str(last_event(h), "reason"), "write beyond the maximum file size");
	harness_free(h);
}
END_TEST

/* The string at *off in a packet, as a C string (test sizes only). */
static char *
pk_get_str(const uint8_t *p, size_t *off)
{
	uint32_t n = get_u32(p + *off);
	char *s = strndup((const char *)p + *off + 4, n);

	*off += 4 + n;
	return s;
}

/* The status code and message of the STATUS for id at vendor offset v. */
static uint32_t
vendor_status(struct harness *h, size_t v, uint32_t id, char **msg)
{
	const uint8_t *s = h->to_vendor.b + v;
	size_t off = 13;

	ck_assert_uint_ge(h->to_vendor.len - v, 17);
	ck_assert_uint_eq(s[4], 101);
	ck_assert_uint_eq(get_u32(s + 5), id);
	*msg = pk_get_str(s, &off);
	return get_u32(s + 9);
}

/* Opens path for an atomic upload (answered with handle H1); returns the temporary name
 * the target was asked to create. */
static char *
atomic_open(struct harness *h, const char *path, uint32_t pflags)
{
	size_t t = h->to_target.len, off = 9;
	char *tmp;

	vendor(h, pk_open(2, path, pflags));
	ck_assert_uint_eq(h->to_target.b[t + 4], 3);
	tmp = pk_get_str(h->to_target.b + t, &off);
	/* CREAT|EXCL added: the gateway never writes into a file it did not create */
	ck_assert_uint_eq(get_u32(h->to_target.b + t + off), pflags | 0x28);
	target(h, pk_handle(2, "H1"));
	return tmp;
}

/* Where the last packet queued to the target starts. */
static size_t
last_to_target_at(struct harness *h)
{
	size_t p = 0, last = 0;

	while (p < h->to_target.len) {
		last = p;
		p += 4 + get_u32(h->to_target.b + p);
	}
	return last;
}

/* The last packet queued to the target: its type, id and first string. */
static uint8_t
last_to_target(struct harness *h, uint32_t *id, char **str)
{
	size_t last = last_to_target_at(h), off = 9;

	*id = get_u32(h->to_target.b + last + 5);
	*str = pk_get_str(h->to_target.b + last, &off);
	return h->to_target.b[last + 4];
}

START_TEST(test_atomic_upload_renamed_into_place_on_close)
{
	struct harness *h = harness_new_atomic(0);
	char *tmp, *ext, *a, *b, *msg;
	size_t v, last, off;
	uint32_t id;

	harness_start(h, "/home/alice");
	tmp = atomic_open(h, "/home/alice/fw.bin", 0x1a);
	ck_assert_msg(strncmp(tmp, "/home/alice/.fw.bin.gwtmp-", 26) == 0, "temp %s", tmp);
	vendor(h, pk_write(3, "H1", 0, "abc", 3));
	target(h, pk_status(3, 0));
	v = h->to_vendor.len;
	vendor(h, pk_handle_req(4, 4, "H1"));
	target(h, pk_status(4, 0));
	/* the vendor's CLOSE answer waits; the target is asked to rename, on the same id */
	ck_assert_uint_eq(h->to_vendor.len, v);
	ck_assert_uint_eq(last_to_target(h, &id, &ext), 200);
	ck_assert_uint_eq(id, 4);
	last = last_to_target_at(h);
	off = 9 + 4 + strlen(ext);
	a = pk_get_str(h->to_target.b + last, &off);
	b = pk_get_str(h->to_target.b + last, &off);
	ck_assert_str_eq(ext, "posix-rename@openssh.com");
	ck_assert_str_eq(a, tmp);
	ck_assert_str_eq(b, "/home/alice/fw.bin");
	target(h, pk_status(4, 0));
	ck_assert_uint_eq(vendor_status(h, v, 4, &msg), 0);
	ck_assert_str_eq(ev_str(last_event(h), "event"), "sftp-rename");
	ck_assert_str_eq(ev_str(last_event(h), "status"), "ok");
	free(tmp), free(a), free(b), free(ext), free(msg);
	harness_free(h);
}
END_TEST

START_TEST(test_atomic_upload_too_large_removed_and_close_fails)
{
	struct harness *h = harness_new_atomic(5000000);
	static char big[200000];
	char *tmp, *msg, *path;
	size_t v;
	uint32_t id, i;

	harness_start(h, "/home/alice");
	tmp = atomic_open(h, "/home/alice/fw.bin", 0x0a); /* scp: WRITE|CREAT */
	for (i = 0; i < 25; i++) {
		vendor(h, pk_write(10 + i, "H1", i * sizeof(big), big, sizeof(big)));
		target(h, pk_status(10 + i, 0));
	}
	v = h->to_vendor.len;
	vendor(h, pk_write(5, "H1", 5000000, big, 1));
	ck_assert_uint_eq(vendor_status(h, v, 5, &msg), 4);
	ck_assert_str_eq(
	    msg, "gatewayd: upload refused: fw.bin is larger than max_file_size 5 MB for plc-07");
	free(msg);
	ck_assert_str_eq(ev_str(last_event(h), "event"), "sftp-denied");
	ck_assert_int_eq(
	    json_integer_value(json_object_get(last_event(h), "bytes_written")), 5000000);
	/* a later write below the limit is refused too, and not reported again */
	v = h->to_vendor.len;
	vendor(h, pk_write(6, "H1", 0, big, 10));
	ck_assert_uint_eq(vendor_status(h, v, 6, &msg), 4);
	free(msg);
	ck_assert_str_eq(ev_str(last_event(h), "event"), "sftp-denied");
	ck_assert_uint_eq(json_array_size(h->events), 2); /* open, denied, no repeat */
	vendor(h, pk_handle_req(4, 7, "H1"));
	target(h, pk_status(7, 0));
	ck_assert_uint_eq(last_to_target(h, &id, &path), 13); /* REMOVE of the temporary file */
	ck_assert_uint_eq(id, 7);
	ck_assert_str_eq(path, tmp);
	v = h->to_vendor.len;
	target(h, pk_status(7, 0));
	ck_assert_uint_eq(vendor_status(h, v, 7, &msg), 4);
	ck_assert_str_eq(
	    msg, "gatewayd: upload refused: fw.bin is larger than max_file_size 5 MB for plc-07");
	ck_assert_str_eq(ev_str(last_event(h), "event"), "sftp-remove");
	free(msg), free(path), free(tmp);
	harness_free(h);
}
END_TEST

START_TEST(test_atomic_upload_with_gap_refused)
{
	struct harness *h = harness_new_atomic(0);
	char *tmp, *msg;
	size_t v;

	harness_start(h, "/home/alice");
	tmp = atomic_open(h, "fw.bin", 0x1a);
	ck_assert_msg(strncmp(tmp, ".fw.bin.gwtmp-", 14) == 0, "temp %s", tmp);
	v = h->to_vendor.len;
	vendor(h, pk_write(3, "H1", 4096, "x", 1));
	ck_assert_uint_eq(vendor_status(h, v, 3, &msg), 4);
	ck_assert_ptr_nonnull(strstr(msg, "resumed uploads are not possible"));
	free(msg), free(tmp);
	harness_free(h);
}
END_TEST

START_TEST(test_append_and_plain_write_stay_in_place)
{
	struct harness *h = harness_new_atomic(0);
	size_t t, off = 9;
	char *path;

	harness_start(h, "/home/alice");
	t = h->to_target.len;
	vendor(h, pk_open(2, "/home/alice/log", 0x06)); /* WRITE|APPEND */
	path = pk_get_str(h->to_target.b + t, &off);
	ck_assert_str_eq(path, "/home/alice/log");
	free(path);
	t = h->to_target.len;
	off = 9;
	vendor(h, pk_open(3, "/home/alice/cfg", 0x02)); /* WRITE into an existing file */
	path = pk_get_str(h->to_target.b + t, &off);
	ck_assert_str_eq(path, "/home/alice/cfg");
	free(path);
	harness_free(h);
}
END_TEST

START_TEST(test_atomic_upload_without_posix_rename_keeps_old_file)
{
	struct harness *h = harness_new_atomic(0);
	char *tmp, *msg, *path;
	size_t v;
	uint32_t id;

	vendor(h, pk_init());
	target(h, pk_version(NULL, NULL));
	target(h, pk_name(HOME_ID, "/home/alice"));
	tmp = atomic_open(h, "/home/alice/fw.bin", 0x1a);
	vendor(h, pk_handle_req(4, 4, "H1"));
	target(h, pk_status(4, 0));
	ck_assert_uint_eq(last_to_target(h, &id, &path), 18); /* plain RENAME */
	free(path);
	target(h, pk_status(4, 4)); /* OpenSSH's RENAME never replaces a file */
	ck_assert_uint_eq(last_to_target(h, &id, &path), 13);
	ck_assert_str_eq(path, tmp);
	v = h->to_vendor.len;
	target(h, pk_status(4, 0));
	ck_assert_uint_eq(vendor_status(h, v, 4, &msg), 4);
	ck_assert_ptr_nonnull(strstr(msg, "remove the old file first"));
	free(msg), free(path), free(tmp);
	harness_free(h);
}
END_TEST

START_TEST(test_hang_up_closes_and_removes_open_upload)
{
	struct harness *h = harness_new_atomic(0);
	char *tmp, *path;
	uint32_t id;

	harness_start(h, "/home/alice");
	tmp = atomic_open(h, "/home/alice/fw.bin", 0x1a);
	ck_assert_int_eq(sftp_watch_abandon(h->w), 0);
	harness_drain(h);
	ck_assert_uint_eq(last_to_target(h, &id, &path), 4); /* the gateway's own CLOSE */
	ck_assert_str_eq(path, "H1");
	free(path);
	ck_assert(json_is_true(json_object_get(last_event(h), "unclosed")));
	ck_assert_str_eq(ev_str(last_event(h), "path2"), tmp);
	ck_assert(sftp_watch_uploads_closing(h->w));
	target(h, pk_status(id, 0));
	ck_assert_uint_eq(last_to_target(h, &id, &path), 13); /* then REMOVE of the temporary */
	ck_assert_str_eq(path, tmp);
	target(h, pk_status(id, 0));
	ck_assert(!sftp_watch_uploads_closing(h->w));
	ck_assert_str_eq(ev_str(last_event(h), "event"), "sftp-remove");
	free(path), free(tmp);
	harness_free(h);
}
END_TEST

/* The sentence a refusal sends names op, path and target, with no control character. */
START_TEST(test_refusal_message_names_path_and_target)
{
	struct harness *h;
	const char *prefixes[] = { "/srv" };
	struct sftp_policy pol = {
		.upload = true, .path_prefixes = prefixes, .nprefixes = 1, .target = "plc-07"
	};
	char *msg;
	size_t v;

	h = harness_new_policy(&pol);
	harness_start(h, "/home/alice");
	v = h->to_vendor.len;
	vendor(h, pk_path_req(17, 5, "/etc/pass\033]0;x\007wd"));
	ck_assert_uint_eq(vendor_status(h, v, 5, &msg), 3);
	ck_assert_str_eq(
	    msg, "gatewayd: stat /etc/pass?]0;x?wd refused on plc-07: outside the allowed paths");
	free(msg);
	harness_free(h);
}
END_TEST

START_TEST(test_stream_start_init_shape)
{
	static const uint8_t init[] = { 0, 0, 0, 5, 1, 0, 0, 0, 6 };
	static const uint8_t text[] = "ls -l\n";
	static const uint8_t binary[] = { 0, 0, 0, 5, 2 };

	ck_assert_int_eq(sftp_stream_starts_init(init, 0), 0);
	ck_assert_int_eq(sftp_stream_starts_init(init, 4), 0);
	ck_assert_int_eq(sftp_stream_starts_init(init, SFTP_INIT_SHAPE), 1);
	ck_assert_int_eq(sftp_stream_starts_init(text, 1), -1);
	ck_assert_int_eq(sftp_stream_starts_init(binary, sizeof(binary)), -1);
}
END_TEST

START_TEST(test_init_found_across_chunks)
{
	static const uint8_t stream[] = { 'e', 'x', 'e', 'c', '\n', 0, 0, 0, 0, 0, 0, 5, 1, 0, 0, 0,
		3, 'x' };
	unsigned state = 0;
	size_t i;

	/* one byte at a time, the INIT after a run of zeros that partly matches it */
	for (i = 0; i < 16; i++)
		ck_assert(!sftp_scan_init(&state, stream + i, 1));
	ck_assert(sftp_scan_init(&state, stream + 16, 1));
	state = 0;
	ck_assert(!sftp_scan_init(&state, stream, 10));
	ck_assert(sftp_scan_init(&state, stream + 10, sizeof(stream) - 10));
	state = 0;
	ck_assert(!sftp_scan_init(&state, (const uint8_t *)"plain text", 10));
}
END_TEST

/* The scan in chunks finds INIT exactly where a plain search of the whole stream does, on
 * streams made of INIT's own bytes and text, cut at random points. */
START_TEST(test_init_scan_matches_plain_search)
{
	static const uint8_t init[] = { 0, 0, 0, 5, 1, 0, 0, 0, 3 };
	static const uint8_t alphabet[] = { 0, 0, 0, 5, 1, 3, 'a' };
	uint8_t stream[200];
	unsigned state, seed = 12345;
	size_t i, off, len, want, got;
	int round;

	for (round = 0; round < 20000; round++) {
		for (i = 0; i < sizeof(stream); i++) {
			seed = seed * 1103515245 + 12345;
			stream[i] = alphabet[(seed >> 16) % sizeof(alphabet)];
		}
		want = sizeof(stream);
		for (i = 0; i + sizeof(init) <= sizeof(stream); i++)
			if (memcmp(stream + i, init, sizeof(init)) == 0) {
				want = i + sizeof(init); /* the chunk ending here reports it */
				break;
			}
		state = 0;
		got = sizeof(stream);
		for (off = 0; off < sizeof(stream); off += len) {
			seed = seed * 1103515245 + 12345;
			len = 1 + (seed >> 16) % 40;
			if (len > sizeof(stream) - off)
				len = sizeof(stream) - off;
			if (sftp_scan_init(&state, stream + off, len)) {
				got = off + len;
				break;
			}
		}
		/* found in the chunk that holds INIT's last byte, or in neither */
		if (want == sizeof(stream))
			ck_assert_uint_eq(got, sizeof(stream));
		else
			ck_assert(got >= want && got - len < want);
	}
}
END_TEST

START_TEST(test_unknown_handle_refused)
{
	struct harness *h = harness_new(true, true, NULL, 0, 0);
	size_t t, v;

	harness_start(h, "/home/alice");
	t = h->to_target.len;
	v = h->to_vendor.len;
	vendor(h, pk_write(3, "guessed", 0, "x", 1));
	assert_refused(h, t, v, 3, 3);
	ck_assert_str_eq(ev_str(last_event(h), "reason"), "unknown handle");
	harness_free(h);
}
END_TEST

START_TEST(test_too_many_handles_refused)
{
	struct harness *h = harness_new(true, true, NULL, 0, 0);
	char handle[16];
	size_t t, v;
	uint32_t i;

	harness_start(h, "/home/alice");
	for (i = 0; i < SFTP_MAX_HANDLES; i++) {
		vendor(h, pk_open(100 + i, "/tmp/f", 0x01));
		snprintf(handle, sizeof(handle), "h%u", i);
		target(h, pk_handle(100 + i, handle));
	}
	t = h->to_target.len;
	v = h->to_vendor.len;
	vendor(h, pk_open(99, "/tmp/f", 0x01));
	assert_refused(h, t, v, 99, 3);
	ck_assert_str_eq(ev_str(last_event(h), "reason"), "too many open files");
	vendor(h, pk_handle_req(4, 98, "h0"));
	vendor(h, pk_open(97, "/tmp/f", 0x01));
	ck_assert_str_ne(ev_str(last_event(h), "event"), "sftp-denied");
	harness_free(h);
}
END_TEST

START_TEST(test_oversized_packet_ends_stream)
{
	struct harness *h = harness_new(true, true, NULL, 0, 0);
	uint8_t hdr[5] = { 0, 0, 0, 0, 6 };
	uint32_t n = SFTP_MAX_PACKET + 1;

	harness_start(h, "/home/alice");
	hdr[0] = n >> 24;
	hdr[1] = n >> 16;
	hdr[2] = n >> 8;
	hdr[3] = n;
	ck_assert_int_eq(sftp_watch_from_vendor(h->w, hdr, sizeof(hdr)), -1);
	ck_assert_str_eq(sftp_watch_error(h->w), "sftp packet too large");
	ck_assert_int_eq(sftp_watch_from_vendor(h->w, hdr, 1), -1);
	harness_free(h);
}
END_TEST

START_TEST(test_truncated_string_length_ends_stream)
{
	struct harness *h = harness_new(true, true, NULL, 0, 0);
	struct pk *p;
	size_t t;

	harness_start(h, "/home/alice");
	t = h->to_target.len;
	p = pk_new(3);
	pk_u32(p, 5);
	pk_u32(p, 1000); /* a path said to be 1000 bytes in a 20-byte packet */
	pk_u32(p, 0);
	ck_assert_int_eq(harness_feed(h, true, pk_end(p)), -1);
	ck_assert_str_eq(sftp_watch_error(h->w), "malformed sftp request");
	ck_assert_uint_eq(h->to_target.len, t);
	harness_free(h);
}
END_TEST

START_TEST(test_packet_without_id_ends_stream)
{
	struct harness *h = harness_new(true, true, NULL, 0, 0);
	static const uint8_t tiny[] = { 0, 0, 0, 2, 17, 0 };

	harness_start(h, "/home/alice");
	ck_assert_int_eq(sftp_watch_from_vendor(h->w, tiny, sizeof(tiny)), -1);
	ck_assert_str_eq(sftp_watch_error(h->w), "sftp packet too short");
	harness_free(h);
}
END_TEST

START_TEST(test_stream_must_start_with_init)
{
	struct harness *h = harness_new(true, true, NULL, 0, 0);

	ck_assert_int_eq(harness_feed(h, true, pk_path_req(16, 1, ".")), -1);
	ck_assert_uint_eq(h->to_target.len, 0);
	harness_free(h);
}
END_TEST

START_TEST(test_answer_to_no_request_ends_stream)
{
	struct harness *h = harness_new(true, true, NULL, 0, 0);

	harness_start(h, "/home/alice");
	ck_assert_int_eq(harness_feed(h, false, pk_handle(77, "H")), -1);
	ck_assert_str_eq(sftp_watch_error(h->w), "sftp answer to no request");
	harness_free(h);
}
END_TEST

START_TEST(test_evidence_failure_ends_stream)
{
	struct harness *h = harness_new(true, true, NULL, 0, 0);

	harness_start(h, "/home/alice");
	vendor(h, pk_open(2, "/tmp/f", 0x1a));
	h->fail_evidence = true;
	ck_assert_int_eq(harness_feed(h, false, pk_handle(2, "H")), -1);
	ck_assert_str_eq(sftp_watch_error(h->w), "sftp evidence could not be written");
	harness_free(h);
}
END_TEST

START_TEST(test_channel_end_reports_unclosed_files)
{
	struct harness *h = harness_new(true, true, NULL, 0, 0);
	json_t *ev;

	harness_start(h, "/home/alice");
	vendor(h, pk_open(2, "/tmp/f", 0x1a));
	target(h, pk_handle(2, "H"));
	vendor(h, pk_write(3, "H", 0, "abc", 3));
	ck_assert_int_eq(sftp_watch_end(h->w), 0);
	ev = last_event(h);
	ck_assert_str_eq(ev_str(ev, "event"), "sftp-close");
	ck_assert(json_is_true(json_object_get(ev, "unclosed")));
	ck_assert_int_eq(json_integer_value(json_object_get(ev, "bytes_written")), 3);
	harness_free(h);
}
END_TEST

/* A whole session: both outputs and the events, for comparing feed sizes. */
static void
session_script(struct harness *h)
{
	static const char data[] = "firmware image v2.1";

	harness_start(h, "/home/alice");
	upload(h, data, sizeof(data) - 1, true);
	vendor(h, pk_open(10, "/etc/x", 0x01));
	vendor(h, pk_two_paths(200, 11, "posix-rename@openssh.com", "up.bin", "v2.bin"));
	target(h, pk_status(11, 0));
}

START_TEST(test_byte_by_byte_feed_equals_whole)
{
	struct harness *whole = harness_new(true, true, prefixes_home, 1, 0);
	struct harness *bytes = harness_new(true, true, prefixes_home, 1, 0);

	bytes->chunk = 1;
	session_script(whole);
	session_script(bytes);
	ck_assert_uint_eq(whole->to_target.len, bytes->to_target.len);
	ck_assert_mem_eq(whole->to_target.b, bytes->to_target.b, whole->to_target.len);
	ck_assert_uint_eq(whole->to_vendor.len, bytes->to_vendor.len);
	ck_assert_mem_eq(whole->to_vendor.b, bytes->to_vendor.b, whole->to_vendor.len);
	ck_assert(json_equal(whole->events, bytes->events));
	ck_assert_uint_ge(json_array_size(whole->events), 4);
	harness_free(whole);
	harness_free(bytes);
}
END_TEST

START_TEST(test_input_taken_only_while_queue_below_high_mark)
{
	struct harness *h = harness_new(true, true, NULL, 0, 0);
	struct pk *p;
	uint8_t *stream, *chunk = calloc(1, 200000);
	size_t plen, n = 6, i, off = 0;
	ssize_t took;
	const uint8_t *q;

	harness_start(h, "/home/alice");
	vendor(h, pk_open(2, "/tmp/f", 0x1a));
	target(h, pk_handle(2, "H"));
	p = pk_write(0, "H", 0, chunk, 200000);
	plen = p->len;
	stream = malloc(n * plen);
	for (i = 0; i < n; i++) {
		p->b[8] = i + 3; /* the id's low byte */
		memcpy(stream + i * plen, p->b, plen);
		/* offsets are all 0: not sequential, but the grant allows it */
	}
	took = sftp_watch_from_vendor(h->w, stream, n * plen);
	ck_assert_int_lt(took, (ssize_t)(n * plen));
	ck_assert_uint_ge(sftp_watch_pending_to_target(h->w, &q), SFTP_QUEUE_HIGH);
	ck_assert_uint_le(
	    sftp_watch_pending_to_target(h->w, &q), SFTP_QUEUE_HIGH + 4 + SFTP_MAX_PACKET);
	harness_drain(h);
	off = (size_t)took;
	while (off < n * plen) {
		took = sftp_watch_from_vendor(h->w, stream + off, n * plen - off);
		ck_assert_int_gt(took, 0);
		off += (size_t)took;
		harness_drain(h);
	}
	free(p);
	free(stream);
	free(chunk);
	harness_free(h);
}
END_TEST

START_TEST(test_vendor_input_waits_while_request_table_full)
{
	struct harness *h = harness_new(true, true, NULL, 0, 0);
	struct pk *p;
	uint32_t id;
	size_t before;
	const uint8_t *q;

	harness_start(h, "/home/alice");
	vendor(h, pk_open(1, "/tmp/f", 0x1a));
	target(h, pk_handle(1, "H"));
	for (id = 2; id < 2 + SFTP_MAX_REQUESTS; id++)
		vendor(h, pk_write(id, "H", (uint64_t)(id - 2) * 4, "data", 4));
	before = h->to_target.len;
	p = pk_write(id, "H", (uint64_t)(id - 2) * 4, "data", 4);
	ck_assert_int_eq(sftp_watch_from_vendor(h->w, p->b, p->len), 0);
	ck_assert_uint_eq(sftp_watch_pending_to_vendor(h->w, &q), 0); /* no refusal */
	target(h, pk_status(2, 0));
	ck_assert_int_eq(sftp_watch_from_vendor(h->w, p->b, p->len), (ssize_t)p->len);
	harness_drain(h);
	ck_assert_uint_eq(h->to_target.len, before + p->len);
	free(p);
	harness_free(h);
}
END_TEST

START_TEST(test_prefix_must_be_absolute)
{
	static const char *rel[] = { "home/alice" };
	struct sftp_policy pol = { .upload = true, .path_prefixes = rel, .nprefixes = 1 };

	ck_assert_ptr_null(sftp_watch_new(&pol, NULL, NULL));
}
END_TEST

Suite *
unit_suite(void)
{
	Suite *s = suite_create("sftp");
	TCase *tc = tcase_create("sftp");

	tcase_add_test(tc, test_init_and_version_pass_whole);
	tcase_add_test(tc, test_version_hides_copy_data);
	tcase_add_test(tc, test_relative_path_resolved_against_home);
	tcase_add_test(tc, test_gateway_asks_home_and_keeps_answer_to_itself);
	tcase_add_test(tc, test_vendor_requests_held_until_home_known);
	tcase_add_test(tc, test_relative_path_refused_when_target_hides_home);
	tcase_add_test(tc, test_sequential_upload_hash_matches_openssl);
	tcase_add_test(tc, test_out_of_order_writes_have_no_hash);
	tcase_add_test(tc, test_failed_write_voids_hash);
	tcase_add_test(tc, test_pipelined_download_hash_matches_openssl);
	tcase_add_test(tc, test_upload_refused_when_only_download_granted);
	tcase_add_test(tc, test_mutations_refused_when_only_download_granted);
	tcase_add_test(tc, test_download_refused_when_only_upload_granted);
	tcase_add_test(tc, test_path_outside_prefix_refused);
	tcase_add_test(tc, test_dotdot_refused_with_prefixes);
	tcase_add_test(tc, test_realpath_with_dotdot_is_a_name_query);
	tcase_add_test(tc, test_hardlink_from_outside_prefix_refused);
	tcase_add_test(tc, test_copy_data_refused);
	tcase_add_test(tc, test_unknown_extension_refused);
	tcase_add_test(tc, test_rename_reported_with_status);
	tcase_add_test(tc, test_write_beyond_max_size_refused);
	tcase_add_test(tc, test_atomic_upload_renamed_into_place_on_close);
	tcase_add_test(tc, test_atomic_upload_too_large_removed_and_close_fails);
	tcase_add_test(tc, test_atomic_upload_with_gap_refused);
	tcase_add_test(tc, test_append_and_plain_write_stay_in_place);
	tcase_add_test(tc, test_atomic_upload_without_posix_rename_keeps_old_file);
	tcase_add_test(tc, test_hang_up_closes_and_removes_open_upload);
	tcase_add_test(tc, test_refusal_message_names_path_and_target);
	tcase_add_test(tc, test_stream_start_init_shape);
	tcase_add_test(tc, test_init_found_across_chunks);
	tcase_add_test(tc, test_init_scan_matches_plain_search);
	tcase_add_test(tc, test_unknown_handle_refused);
	tcase_add_test(tc, test_too_many_handles_refused);
	tcase_add_test(tc, test_oversized_packet_ends_stream);
	tcase_add_test(tc, test_truncated_string_length_ends_stream);
	tcase_add_test(tc, test_packet_without_id_ends_stream);
	tcase_add_test(tc, test_stream_must_start_with_init);
	tcase_add_test(tc, test_answer_to_no_request_ends_stream);
	tcase_add_test(tc, test_evidence_failure_ends_stream);
	tcase_add_test(tc, test_channel_end_reports_unclosed_files);
	tcase_add_test(tc, test_byte_by_byte_feed_equals_whole);
	tcase_add_test(tc, test_input_taken_only_while_queue_below_high_mark);
	tcase_add_test(tc, test_vendor_input_waits_while_request_table_full);
	tcase_add_test(tc, test_prefix_must_be_absolute);
	suite_add_tcase(s, tc);
	return s;
}
