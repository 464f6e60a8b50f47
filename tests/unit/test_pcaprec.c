/* test_pcaprec.c: a forwarded connection recorded as pcapng: frames a dissector accepts
 * (checksums, sequence numbers, segment sizes), every byte kept in order, and the verdicts of
 * verify_recording for a sealed, damaged, cut, foreign-signed and live recording. */
#include "unit.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "evidence/pcapfmt.h"
#include "evidence/pcaprec.h"
#include "evidence/pcapread.h"
#include "evidence/verify.h"

#define SID "0123456789abcdef0123456789abcdef"

static char dir[64];
static struct sealkey *key, *stranger;
static struct recorder_signer signer; /* of key */
static unsigned char big[5000];

static struct pcaprec *
open_tunnel(unsigned channel, const struct recorder_signer *s)
{
	struct tunnel_meta m = {
		.session_id = SID,
		.channel = channel,
		.person = "acme.alice",
		.vendor = "acme",
		.target = "plc-07",
		.dest_addr = "10.1.2.7",
		.dest_port = 502,
		.orig_addr = "127.0.0.1",
		.orig_port = 41234,
		.client_addr = "203.0.113.9",
		.client_port = 40000,
		.approvers = "owner.bob,ot-sec",
		.started = 1795000000,
	};
	struct pcaprec *r;
	char *path;
	int fd;

	ck_assert_int_ne(fd = pcaprec_create_file(dir, SID, channel, &path), -1);
	ck_assert_ptr_nonnull(r = pcaprec_open_fd(fd, path, &m, s));
	free(path);
	return r;
}

/* Records 0-3 header, SHB, IDB, header block; 4-6 handshake; 7 "req", 8 "rsp"; 9 the client's
 * ACK, 10 checkpoint; 11 the 5000 bytes (blocks 10-13: one write, one record), 12 the server's
 * ACK, 13 checkpoint; 14 "bye", 15-16 FINs, 17 ACK, 18 end, 19 final checkpoint. */
static void
write_tunnel(unsigned channel, char *path, size_t len, bool seal)
{
	struct pcaprec *r = open_tunnel(channel, &signer);

	snprintf(path, len, "%s", pcaprec_path(r));
	ck_assert_int_eq(pcaprec_write_client(r, "req", 3), 0);
	ck_assert_int_eq(pcaprec_write_server(r, "rsp", 3), 0);
	ck_assert_int_eq(pcaprec_flush(r), 0);
	ck_assert_int_eq(pcaprec_write_client(r, big, sizeof(big)), 0);
	ck_assert_int_eq(pcaprec_flush(r), 0);
	ck_assert_int_eq(pcaprec_write_server(r, "bye", 3), 0);
	if (seal)
		ck_assert_int_eq(pcaprec_seal(r, "vendor disconnected"), 0);
	pcaprec_free(r);
}

static void
setup(void)
{
	char kp[128];
	size_t i;

	strcpy(dir, "/tmp/test_pcaprec.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(kp, sizeof(kp), "%s/key", dir);
	ck_assert_ptr_nonnull(key = sealkey_load_or_create(kp));
	signer = recorder_signer_local(key);
	snprintf(kp, sizeof(kp), "%s/stranger", dir);
	ck_assert_ptr_nonnull(stranger = sealkey_load_or_create(kp));
	for (i = 0; i < sizeof(big); i++)
		big[i] = (unsigned char)(i * 31 + 7);
}

static void
teardown(void)
{
	char cmd[128];

	sealkey_free(key);
	sealkey_free(stranger);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static struct verdict
verdict_of(const char *p)
{
	struct verdict v;

	verify_recording(p, key, &v);
	return v;
}

/* The file offset and length of block k (record k + 1). */
static void
block_at(const char *p, int k, long *off, long *len)
{
	struct pcap_block b;
	struct pcapread *r;
	FILE *f = fopen(p, "r");
	int i;

	ck_assert_ptr_nonnull(f);
	r = pcapread_new(f);
	*off = 0;
	for (i = 0; i <= k; i++) {
		ck_assert_int_eq(pcapread_next(r, &b), PCAPREAD_BLOCK);
		if (i < k)
			*off += (long)b.len;
	}
	*len = (long)b.len;
	pcapread_free(r);
	fclose(f);
}

static void
flip_byte(const char *p, long off)
{
	int fd = open(p, O_RDWR);
	unsigned char c;

	ck_assert_int_eq(pread(fd, &c, 1, off), 1);
	c ^= 0x01;
	ck_assert_int_eq(pwrite(fd, &c, 1, off), 1);
	close(fd);
}

/* Where text first appears in the file. */
static long
find(const char *p, const char *text)
{
	static char buf[65536];
	FILE *f = fopen(p, "r");
	size_t n;
	char *at;

	ck_assert_ptr_nonnull(f);
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	ck_assert_ptr_nonnull(at = memmem(buf, n, text, strlen(text)));
	return at - buf;
}

static uint16_t
be16(const unsigned char *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
be32(const unsigned char *p)
{
	return (uint32_t)be16(p) << 16 | be16(p + 2);
}

static uint16_t
checksum(uint32_t sum, const unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += be16(p + i);
	if (n % 2)
		sum += (uint32_t)p[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

START_TEST(sealed_tunnel_is_intact)
{
	char path[256];
	struct verdict v;

	write_tunnel(0, path, sizeof(path), true);
	v = verdict_of(path);
	ck_assert_int_eq(v.kind, VERDICT_INTACT);
	ck_assert_str_eq(v.reason, "vendor disconnected");
	ck_assert_uint_eq(v.records, 20);
	ck_assert_int_eq(v.record, 19);
}
END_TEST

/* Every frame: valid IPv4 and TCP checksums, at most 1460 payload bytes, each side's payload
 * in sequence and equal to what was written; a 5000-byte write is four segments. */
START_TEST(frames_carry_every_byte_in_sequence_with_valid_checksums)
{
	unsigned char got[2][6000], pseudo[12];
	size_t glen[2] = { 0, 0 }, n, hl;
	uint32_t next[2] = { 0, 0 };
	struct pcap_block b;
	struct pcapread *r;
	char path[256];
	int side, big_segments = 0;
	FILE *f;

	write_tunnel(0, path, sizeof(path), true);
	ck_assert_ptr_nonnull(f = fopen(path, "r"));
	r = pcapread_new(f);
	while (pcapread_next(r, &b) == PCAPREAD_BLOCK) {
		const unsigned char *fr = b.body + 20, *ip = fr + 14, *tcp;

		if (b.type != PCAP_EPB)
			continue;
		ck_assert_uint_eq(pcapread_u32(r, b.body + 12), pcapread_u32(r, b.body + 16));
		ck_assert_uint_eq(be16(fr + 12), 0x0800);
		ck_assert_uint_eq(checksum(0, ip, 20), 0xffff);
		tcp = ip + 20;
		hl = (size_t)(tcp[12] >> 4) * 4;
		n = be16(ip + 2) - 20 - hl;
		ck_assert_uint_le(n, 1460);
		memcpy(pseudo, ip + 12, 8);
		pseudo[8] = 0;
		pseudo[9] = 6;
		pseudo[10] = (unsigned char)((n + hl) >> 8);
		pseudo[11] = (unsigned char)(n + hl);
		ck_assert_uint_eq(checksum(checksum(0, pseudo, 12), tcp, n + hl), 0xffff);
		side = be16(tcp + 2) == 502 ? 0 : 1;
		ck_assert_uint_eq(be16(tcp + (side == 0 ? 0 : 2)), 41234);
		if (tcp[13] & 0x02) { /* SYN */
			next[side] = be32(tcp + 4) + 1;
			continue;
		}
		ck_assert_uint_eq(be32(tcp + 4), next[side]);
		ck_assert_uint_eq(be32(tcp + 8), next[1 - side]); /* every segment acks all */
		ck_assert_uint_le(glen[side] + n, sizeof(got[side]));
		memcpy(got[side] + glen[side], tcp + hl, n);
		glen[side] += n;
		next[side] += (uint32_t)n + ((tcp[13] & 0x01) ? 1 : 0);
		big_segments += side == 0 && n > 3;
	}
	pcapread_free(r);
	fclose(f);
	ck_assert_uint_eq(glen[0], 3 + sizeof(big));
	ck_assert_mem_eq(got[0], "req", 3);
	ck_assert_mem_eq(got[0] + 3, big, sizeof(big));
	ck_assert_uint_eq(glen[1], 6);
	ck_assert_mem_eq(got[1], "rspbye", 6);
	ck_assert_int_eq(big_segments, 4);
}
END_TEST

START_TEST(counters_follow_the_writes)
{
	struct pcaprec *r = open_tunnel(0, &signer);
	struct stat st;

	ck_assert_int_eq(pcaprec_write_client(r, big, sizeof(big)), 0);
	ck_assert_int_eq(pcaprec_write_server(r, "ok", 2), 0);
	ck_assert_uint_eq(pcaprec_bytes(r, true), sizeof(big));
	ck_assert_uint_eq(pcaprec_bytes(r, false), 2);
	ck_assert_uint_eq(pcaprec_packets(r), 3 + 4 + 1);
	ck_assert_int_ne(pcaprec_pending_since(r), 0);
	ck_assert_int_eq(pcaprec_flush(r), 0);
	ck_assert_int_eq(pcaprec_pending_since(r), 0);
	ck_assert_int_eq(stat(pcaprec_path(r), &st), 0); /* written, not held back */
	ck_assert_uint_eq((unsigned long long)st.st_size, pcaprec_size(r));
	pcaprec_free(r);
}
END_TEST

START_TEST(flipped_payload_byte_is_tampered_at_its_record)
{
	char path[256];
	struct verdict v;
	long off, len;

	write_tunnel(0, path, sizeof(path), true);
	block_at(path, 12, &off, &len); /* record 11: the third segment of the 5000 bytes */
	flip_byte(path, off + 28 + 54 + 100);
	v = verdict_of(path);
	ck_assert_int_eq(v.kind, VERDICT_TAMPERED);
	ck_assert_int_eq(v.record, 11);
}
END_TEST

/* A record's end is read from its blocks' TCP flags: a segment edited to end the write early
 * (PSH added) makes two records where one was signed, and the file does not verify. */
START_TEST(segment_flags_edited_to_split_a_record_is_tampered)
{
	char path[256];
	struct verdict v;
	long off, len;

	write_tunnel(0, path, sizeof(path), true);
	block_at(path, 10, &off, &len); /* the first segment of the 5000 bytes */
	flip_byte(path, off + PCAP_EPB_FRAME_AT + PCAP_FRAME_FLAGS_AT); /* ACK -> not ACK alone */
	v = verdict_of(path);
	ck_assert_int_eq(v.kind, VERDICT_TAMPERED);
	ck_assert_int_eq(v.record, 11);
}
END_TEST

START_TEST(edited_header_is_tampered_at_record_zero)
{
	char path[256];
	struct verdict v;

	write_tunnel(0, path, sizeof(path), true);
	flip_byte(path, find(path, "acme.alice") + 9);
	/* "acme.alicd" in the header block */ /* "acme.alicd" */
	v = verdict_of(path);
	ck_assert_int_eq(v.kind, VERDICT_TAMPERED);
	ck_assert_int_eq(v.record, 0);
}
END_TEST

START_TEST(file_cut_after_a_checkpoint_is_truncated)
{
	char path[256];
	struct verdict v;
	long off, len;

	write_tunnel(0, path, sizeof(path), true);
	block_at(path, 9, &off, &len);                       /* record 10, the first checkpoint */
	ck_assert_int_eq(truncate(path, off + len + 30), 0); /* and part of the next block */
	v = verdict_of(path);
	ck_assert_int_eq(v.kind, VERDICT_TRUNCATED);
	ck_assert_int_eq(v.record, 10);
	ck_assert_str_ne(v.checkpoint, "");
}
END_TEST

/* A signer that names the gateway's key but signs with another. */
static int
sign_with_stranger(void *ctx, const struct checkpoint_req *req, char sig[SEAL_SIG_B64_LEN],
    char time_out[SEAL_TIME_LEN])
{
	(void)ctx;
	seal_format_now(time_out);
	return recorder_checkpoint_sign(stranger, req, time_out, sig);
}

START_TEST(checkpoint_signed_by_another_key_is_bad_signature)
{
	struct recorder_signer forger = { .key_id = sealkey_id(key), .sign = sign_with_stranger };
	struct pcaprec *r = open_tunnel(1, &forger);
	char path[256];
	struct verdict v;

	snprintf(path, sizeof(path), "%s", pcaprec_path(r));
	ck_assert_int_eq(pcaprec_write_client(r, "req", 3), 0);
	ck_assert_int_eq(pcaprec_seal(r, "done"), 0);
	pcaprec_free(r);
	v = verdict_of(path);
	ck_assert_int_eq(v.kind, VERDICT_BAD_SIGNATURE);
	ck_assert_int_eq(v.record, 12); /* 0-6, req, FIN, FIN, ACK, end: the seal's checkpoint */
}
END_TEST

START_TEST(tunnel_sealed_by_another_key_is_unknown_key)
{
	struct recorder_signer other = recorder_signer_local(stranger);
	struct pcaprec *r = open_tunnel(2, &other);
	char path[256];
	struct verdict v;

	snprintf(path, sizeof(path), "%s", pcaprec_path(r));
	ck_assert_int_eq(pcaprec_seal(r, "done"), 0);
	pcaprec_free(r);
	v = verdict_of(path);
	ck_assert_int_eq(v.kind, VERDICT_UNKNOWN_KEY);
}
END_TEST

/* A tunnel recorded by the first format (tests/data/recording-pcapng-v1: one record per block,
 * an upload of 40,000 bytes in 16 KiB writes, made by that recorder) still verifies, record by
 * block: a byte changed in its 8th segment (block 13) is tampered at record 14. */
START_TEST(tunnel_of_the_first_format_still_verifies)
{
	static const char name[] = "00000000000000000000000000000002.0.pcapng";
	struct sealkey *old =
	    sealkey_load_public(TEST_DATA_DIR "/recording-pcapng-v1/recording_key.pub");
	char path[256], cmd[512];
	struct verdict v;
	long off, len;

	ck_assert_ptr_nonnull(old);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(cmd, sizeof(cmd), "cp %s/recording-pcapng-v1/%s %s", TEST_DATA_DIR, name, path);
	ck_assert_int_eq(system(cmd), 0);
	verify_recording(path, old, &v);
	ck_assert_int_eq(v.kind, VERDICT_INTACT);
	ck_assert_uint_eq(v.records, 43);
	ck_assert_str_eq(v.reason, "vendor disconnected");
	block_at(path, 13, &off, &len);
	flip_byte(path, off + PCAP_EPB_FRAME_AT + 54 + 100);
	verify_recording(path, old, &v);
	ck_assert_int_eq(v.kind, VERDICT_TAMPERED);
	ck_assert_int_eq(v.record, 14);
	sealkey_free(old);
}
END_TEST

/* The tunnel is still open: its recorder holds the file. Once it lets go unsealed (a crash),
 * the same bytes are truncated. */
START_TEST(tunnel_still_written_is_live)
{
	struct pcaprec *r = open_tunnel(3, &signer);
	char path[256];
	struct verdict v;

	snprintf(path, sizeof(path), "%s", pcaprec_path(r));
	ck_assert_int_eq(pcaprec_write_client(r, "req", 3), 0);
	ck_assert_int_eq(pcaprec_flush(r), 0);
	v = verdict_of(path);
	ck_assert_int_eq(v.kind, VERDICT_LIVE);
	ck_assert_int_eq(v.record, 9); /* 0-6, req, the server's ACK, the checkpoint */
	pcaprec_free(r);
	v = verdict_of(path);
	ck_assert_int_eq(v.kind, VERDICT_TRUNCATED);
}
END_TEST

START_TEST(bytes_after_a_fin_or_the_seal_are_refused)
{
	struct pcaprec *r = open_tunnel(4, &signer);

	ck_assert_int_eq(pcaprec_write_fin(r, true), 0);
	ck_assert_int_eq(pcaprec_write_client(r, "x", 1), -1);
	ck_assert_int_eq(errno, EPIPE);
	ck_assert_int_eq(pcaprec_write_server(r, "y", 1), 0); /* the other half still open */
	ck_assert_int_eq(pcaprec_seal(r, "done"), 0);
	ck_assert_int_eq(pcaprec_write_server(r, "z", 1), -1);
	pcaprec_free(r);
}
END_TEST

/* A disk that refuses the bytes: the open fails, nothing is relayed. */
START_TEST(unwritable_file_fails_closed)
{
	struct tunnel_meta m = { .session_id = SID, .dest_addr = "plc", .dest_port = 102 };
	int fd = open("/dev/full", O_WRONLY);

	ck_assert_int_ne(fd, -1);
	ck_assert_ptr_null(pcaprec_open_fd(fd, "/dev/full", &m, &signer));
	ck_assert_int_eq(errno, ENOSPC);
}
END_TEST

/* The originator is the vendor's client's to choose: one too long for a header a reader accepts
 * refuses the tunnel. */
START_TEST(oversized_originator_is_refused)
{
	static char huge[70000];
	struct tunnel_meta m = { .session_id = SID, .dest_addr = "plc", .dest_port = 102 };
	char *path;
	int fd;

	memset(huge, 'a', sizeof(huge) - 1);
	m.orig_addr = huge;
	ck_assert_int_ne(fd = pcaprec_create_file(dir, SID, 7, &path), -1);
	ck_assert_ptr_null(pcaprec_open_fd(fd, path, &m, &signer));
	ck_assert_int_eq(errno, EINVAL);
	free(path);
}
END_TEST

static int
refuse(void *ctx, const struct checkpoint_req *req, char sig[SEAL_SIG_B64_LEN],
    char time_out[SEAL_TIME_LEN])
{
	(void)ctx, (void)req, (void)sig, (void)time_out;
	return -1;
}

START_TEST(refused_checkpoint_ends_the_recording)
{
	struct recorder_signer no = { .key_id = sealkey_id(key), .sign = refuse };
	struct pcaprec *r = open_tunnel(5, &no);

	ck_assert_int_eq(pcaprec_write_client(r, "req", 3), 0);
	ck_assert_int_eq(pcaprec_flush(r), -1);
	ck_assert_int_eq(pcaprec_write_client(r, "req", 3), -1);
	pcaprec_free(r);
}
END_TEST

/* Bulk data costs a bounded overhead: frame headers (88 bytes a segment of 1460), an ACK each
 * 32 KiB, a digest (67 bytes) per record (a write, or an ACK) in the next checkpoint: about 1.07
 * bytes a byte (pcapng-v1, a digest per segment: 1.12). */
START_TEST(bulk_overhead_is_bounded)
{
	struct pcaprec *r = open_tunnel(6, &signer);
	static unsigned char chunk[16384];
	int i;

	for (i = 0; i < 64; i++) {
		ck_assert_int_eq(pcaprec_write_server(r, chunk, sizeof(chunk)), 0);
		if (i % 16 == 15)
			ck_assert_int_eq(pcaprec_flush(r), 0);
	}
	ck_assert_int_eq(pcaprec_seal(r, "done"), 0);
	ck_assert_uint_le(pcaprec_size(r), 64 * sizeof(chunk) * 110 / 100);
	ck_assert_int_eq(verdict_of(pcaprec_path(r)).kind, VERDICT_INTACT);
	pcaprec_free(r);
}
END_TEST

Suite *
unit_suite(void)
{
	Suite *s = suite_create("pcaprec");
	TCase *tc = tcase_create("pcaprec");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, sealed_tunnel_is_intact);
	tcase_add_test(tc, frames_carry_every_byte_in_sequence_with_valid_checksums);
	tcase_add_test(tc, counters_follow_the_writes);
	tcase_add_test(tc, flipped_payload_byte_is_tampered_at_its_record);
	tcase_add_test(tc, segment_flags_edited_to_split_a_record_is_tampered);
	tcase_add_test(tc, tunnel_of_the_first_format_still_verifies);
	tcase_add_test(tc, edited_header_is_tampered_at_record_zero);
	tcase_add_test(tc, file_cut_after_a_checkpoint_is_truncated);
	tcase_add_test(tc, checkpoint_signed_by_another_key_is_bad_signature);
	tcase_add_test(tc, tunnel_sealed_by_another_key_is_unknown_key);
	tcase_add_test(tc, tunnel_still_written_is_live);
	tcase_add_test(tc, bytes_after_a_fin_or_the_seal_are_refused);
	tcase_add_test(tc, unwritable_file_fails_closed);
	tcase_add_test(tc, oversized_originator_is_refused);
	tcase_add_test(tc, refused_checkpoint_ends_the_recording);
	tcase_add_test(tc, bulk_overhead_is_bounded);
	suite_add_tcase(s, tc);
	return s;
}
