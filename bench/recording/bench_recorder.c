/* bench_recorder: the recorders' CPU per byte, apart from the relay: MiB recorded (chained,
 * written to a file in /tmp) per CPU second, of session output for each content, and of a tunnel.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "evidence/pcaprec.h"
#include "evidence/recorder.h"
#include "evidence/seal.h"

#define PIECE (32 * 1024) /* what the relay hands the recorder at a time in bulk */
#define SID   "0123456789abcdef0123456789abcdef"

static void
fill(const char *content, unsigned char *p, size_t n)
{
	static const char term[] = "\x1b[1;32mPLC-07\x1b[0m cycle 12 ms\r\n\x1b[K";
	static const char text[] = "PLC-07 cycle 12 ms, inputs 0x3f\r\n";
	const char *line = strcmp(content, "terminal") == 0 ? term : text;
	size_t i, len = strlen(line);
	uint64_t x = 88172645463325252ULL;

	if (strcmp(content, "zeros") == 0)
		memset(p, 0, n);
	else if (strcmp(content, "random") == 0)
		for (i = 0; i < n; i++) { /* xorshift64: random() took longer than the recording */
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			p[i] = (unsigned char)(x >> 32);
		}
	else
		for (i = 0; i < n; i++)
			p[i] = (unsigned char)line[i % len];
}

static double
cpu_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Records mb MiB of content into dir; prints MiB per CPU second. */
static int
bench_content(const char *dir, const struct recorder_signer *signer, const char *content, int mb)
{
	struct recording_meta m = { .session_id = SID,
		.channel = 1,
		.person = "acme.alice",
		.vendor = "acme",
		.target = "plc-07",
		.target_user = "service",
		.client_addr = "192.0.2.7",
		.client_port = 50022,
		.key_fp = "SHA256:bench",
		.ticket_id = "T-1",
		.approvers = "owner.bob",
		.kind = "exec",
		.command = "cat bulk",
		.width = 80,
		.height = 24,
		.started = time(NULL) };
	size_t n = (size_t)mb << 20, off;
	unsigned char *buf = malloc(n);
	struct recording *rec;
	double t0, secs;
	int rc = 0;

	if (buf == NULL)
		return -1;
	fill(content, buf, n);
	if ((rec = recorder_open(dir, &m, signer)) == NULL) {
		perror("bench_recorder: recorder_open");
		free(buf);
		return -1;
	}
	t0 = cpu_now();
	for (off = 0; off < n && rc == 0; off += PIECE)
		rc = recorder_write_output(rec, buf + off, n - off < PIECE ? n - off : PIECE);
	if (rc == 0)
		rc = recorder_seal(rec, "bench");
	secs = cpu_now() - t0;
	if (rc == 0)
		printf("%-9s %6d MiB %8.3f CPU-s %8.1f MiB/CPU-s %5.2f bytes on disk per byte\n",
		    content, mb, secs, mb / secs, (double)recorder_size(rec) / (double)n);
	else
		perror("bench_recorder: recording");
	unlink(recorder_path(rec));
	recorder_free(rec);
	free(buf);
	return rc;
}

/* Records mb MiB of random bytes from the destination of a tunnel (pcapng), as a download
 * through `ssh -L` is; prints MiB per CPU second. */
static int
bench_tunnel(const char *dir, const struct recorder_signer *signer, int mb)
{
	struct tunnel_meta m = { .session_id = SID,
		.channel = 2,
		.person = "acme.alice",
		.vendor = "acme",
		.target = "plc-07",
		.dest_addr = "127.0.0.1",
		.dest_port = 502,
		.orig_addr = "127.0.0.1",
		.orig_port = 50000,
		.client_addr = "192.0.2.7",
		.client_port = 50022,
		.key_fp = "SHA256:bench",
		.ticket_id = "T-1",
		.approvers = "owner.bob",
		.started = time(NULL) };
	size_t n = (size_t)mb << 20, off;
	unsigned char *buf = malloc(n);
	struct pcaprec *r;
	double t0, secs;
	char *path;
	int fd, rc = 0;

	if (buf == NULL)
		return -1;
	fill("random", buf, n);
	if ((fd = pcaprec_create_file(dir, SID, m.channel, &path)) == -1 ||
	    (r = pcaprec_open_fd(fd, path, &m, signer)) == NULL) {
		perror("bench_recorder: pcaprec");
		free(buf);
		return -1;
	}
	t0 = cpu_now();
	for (off = 0; off < n && rc == 0; off += PIECE)
		rc = pcaprec_write_server(r, buf + off, n - off < PIECE ? n - off : PIECE);
	if (rc == 0)
		rc = pcaprec_seal(r, "bench");
	secs = cpu_now() - t0;
	if (rc == 0)
		printf("%-9s %6d MiB %8.3f CPU-s %8.1f MiB/CPU-s %5.2f bytes on disk per byte\n",
		    "tunnel", mb, secs, mb / secs, (double)pcaprec_size(r) / (double)n);
	else
		perror("bench_recorder: tunnel recording");
	unlink(path);
	pcaprec_free(r);
	free(path);
	free(buf);
	return rc;
}

int
main(int argc, char **argv)
{
	static const char *const contents[] = { "zeros", "random", "text", "terminal" };
	char dir[] = "/tmp/bench_recorder.XXXXXX", keypath[64];
	int mb = argc > 1 ? atoi(argv[1]) : 256, rc = 0;
	struct recorder_signer signer;
	struct sealkey *key;
	size_t i;

	if (mb <= 0 || mb > 4096 || mkdtemp(dir) == NULL) {
		fprintf(stderr, "usage: bench_recorder [MIB (1-4096, default 256)]\n");
		return 2;
	}
	snprintf(keypath, sizeof(keypath), "%s/key", dir);
	if ((key = sealkey_load_or_create(keypath)) == NULL) {
		fprintf(stderr, "bench_recorder: cannot make a key in %s\n", dir);
		return 1;
	}
	signer = recorder_signer_local(key);
	for (i = 0; i < sizeof(contents) / sizeof(contents[0]) && rc == 0; i++)
		rc = bench_content(dir, &signer, contents[i], mb);
	if (rc == 0)
		rc = bench_tunnel(dir, &signer, mb);
	sealkey_free(key);
	unlink(keypath);
	strcat(keypath, ".pub");
	unlink(keypath);
	rmdir(dir);
	return rc == 0 ? 0 : 1;
}
