/* bench_recorder: the recorders' CPU per byte, apart from the relay: MiB recorded (chained,
 * written to a file in /tmp) per CPU second, of session output for each content, and of a tunnel.
 */
#include <stdbool.h>
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

/* Records mb MiB of content into dir, as session output or (tunnel) as a download through a
 * tunnel; prints MiB per CPU second. The header's fields are the fewest each recorder takes: their
 * cost is once per file. */
static int
bench_one(
    const char *dir, const struct recorder_signer *signer, const char *content, bool tunnel, int mb)
{
	struct recording_meta m = { .session_id = SID, .channel = 1, .kind = "exec" };
	struct tunnel_meta t = {
		.session_id = SID, .channel = 2, .dest_addr = "127.0.0.1", .dest_port = 502
	};
	size_t n = (size_t)mb << 20, off, w;
	unsigned char *buf = malloc(n);
	struct recording *rec = NULL;
	struct pcaprec *pr = NULL;
	double t0, secs;
	char *path = NULL;
	int fd, rc = 0;

	if (buf == NULL)
		return -1;
	fill(content, buf, n);
	m.started = t.started = time(NULL);
	if (tunnel)
		pr = (fd = pcaprec_create_file(dir, SID, t.channel, &path)) == -1
		    ? NULL
		    : pcaprec_open_fd(fd, path, &t, signer);
	else
		rec = recorder_open(dir, &m, signer);
	if (pr == NULL && rec == NULL) {
		perror("bench_recorder: opening the recording");
		free(path);
		free(buf);
		return -1;
	}
	t0 = cpu_now();
	for (off = 0; off < n && rc == 0; off += w) {
		w = n - off < PIECE ? n - off : PIECE;
		rc = tunnel ? pcaprec_write_server(pr, buf + off, w)
		            : recorder_write_output(rec, buf + off, w);
	}
	if (rc == 0)
		rc = tunnel ? pcaprec_seal(pr, "bench") : recorder_seal(rec, "bench");
	secs = cpu_now() - t0;
	if (rc == 0)
		printf("%-9s %6d MiB %8.3f CPU-s %8.1f MiB/CPU-s %5.2f bytes on disk per byte\n",
		    tunnel ? "tunnel" : content, mb, secs, mb / secs,
		    (double)(tunnel ? pcaprec_size(pr) : recorder_size(rec)) / (double)n);
	else
		perror("bench_recorder: recording");
	unlink(tunnel ? pcaprec_path(pr) : recorder_path(rec));
	if (tunnel)
		pcaprec_free(pr);
	else
		recorder_free(rec);
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
		rc = bench_one(dir, &signer, contents[i], false, mb);
	if (rc == 0) /* a download of random bytes through `ssh -L` */
		rc = bench_one(dir, &signer, "random", true, mb);
	sealkey_free(key);
	unlink(keypath);
	strcat(keypath, ".pub");
	unlink(keypath);
	rmdir(dir);
	return rc == 0 ? 0 : 1;
}
