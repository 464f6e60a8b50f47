/* fuzz_sftp.c: libFuzzer harness for the sftp inspection module; not in the default
 * build. Input: a policy byte, then records (direction byte, 16-bit length, bytes)
 * fed to the vendor or target side after a scripted INIT/VERSION/home exchange.
 * Checks that everything queued either way is whole, bounded packets (atomic uploads'
 * rewritten OPENs and the gateway's own renames and removals included), that the INIT
 * scanner fed the input in pieces finds what memmem finds in the whole, and
 * that the INIT-shape test of a stream's start never changes its mind as bytes come.
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -I. \
 *     tests/fuzz/fuzz_sftp.c gatewayd/sftp.c common/xmalloc.c -ljansson -lcrypto -o fuzz_sftp
 *   ./fuzz_sftp tests/fuzz/corpus/sftp */
#include <stdlib.h>
#include <string.h>

#include "gatewayd/sftp.h"

static int
fuzz_event(const struct sftp_event *ev, void *arg)
{
	json_t *o = sftp_event_to_json(ev);
	char *s = json_dumps(o, JSON_COMPACT);

	(void)arg;
	if (s == NULL)
		abort(); /* every event must render */
	free(s);
	json_decref(o);
	return 0;
}

/* Drains a queue, checking it is a run of whole packets within the bound. */
static void
fuzz_drain(struct sftp_watch *w, bool to_target)
{
	const uint8_t *p;
	size_t n =
	    to_target ? sftp_watch_pending_to_target(w, &p) : sftp_watch_pending_to_vendor(w, &p);
	size_t off = 0, plen;

	if (n > SFTP_QUEUE_HIGH + 4 + SFTP_MAX_PACKET)
		abort();
	while (off < n) {
		if (n - off < 5)
			abort();
		plen = (size_t)p[off] << 24 | (size_t)p[off + 1] << 16 | (size_t)p[off + 2] << 8 |
		    p[off + 3];
		if (plen > SFTP_MAX_PACKET || plen < 5 || plen > n - off - 4)
			abort();
		off += 4 + plen;
	}
	if (to_target)
		sftp_watch_consume_to_target(w, n);
	else
		sftp_watch_consume_to_vendor(w, n);
}

static int
fuzz_feed(struct sftp_watch *w, bool vendor, const uint8_t *p, size_t n)
{
	ssize_t took;

	while (n > 0) {
		took = vendor ? sftp_watch_from_vendor(w, p, n) : sftp_watch_from_target(w, p, n);
		if (took < 0)
			return -1;
		fuzz_drain(w, true);
		fuzz_drain(w, false);
		if (took == 0)
			return 0; /* held: the rest is dropped, as a vendor hang-up would */
		p += took;
		n -= (size_t)took;
	}
	return 0;
}

/* The scanner, fed the input in pieces cut at each record's length byte, agrees with
 * memmem on the whole; the start-shape answer, once given, holds for longer prefixes. */
static void
fuzz_init_detectors(const uint8_t *p, size_t n)
{
	static const uint8_t init[] = { 0, 0, 0, 5, 1, 0, 0, 0, 3 };
	unsigned state = 0;
	bool found = false;
	size_t off = 0, piece;
	int first = 0, now;

	while (off < n && !found) {
		piece = 1 + p[off] % 61; /* up to 61: the edges and the middle of sftp_scan_init */
		if (piece > n - off)
			piece = n - off;
		found = sftp_scan_init(&state, p + off, piece);
		off += piece;
	}
	/* found: the INIT ends at off; not found: off is n */
	if (found != (memmem(p, off, init, sizeof(init)) != NULL))
		abort();
	for (off = 0; off <= n && off <= 16; off++) {
		now = sftp_stream_starts_init(p, off);
		if (first != 0 && now != first)
			abort();
		first = now;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *prefixes[] = { "/home/v", "/srv/plc/" };
	static const uint8_t init[] = { 0, 0, 0, 5, 1, 0, 0, 0, 3 };
	static const uint8_t version[] = { 0, 0, 0, 5, 2, 0, 0, 0, 3 };
	static const uint8_t home[] = { 0, 0, 0, 28, 104, 255, 255, 255, 255, 0, 0, 0, 1, 0, 0, 0,
		7, '/', 'h', 'o', 'm', 'e', '/', 'v', 0, 0, 0, 0, 0, 0, 0, 0 };
	struct sftp_policy pol = { 0 };
	struct sftp_watch *w;
	uint8_t policy;
	size_t n;

	if (size < 1)
		return 0;
	pol.upload = data[0] & 1;
	pol.download = data[0] & 2;
	pol.path_prefixes = data[0] & 4 ? prefixes : NULL;
	pol.nprefixes = data[0] & 4 ? 2 : 0;
	pol.max_file_size = data[0] & 8 ? 4096 : 0;
	pol.allow_unknown_extensions = data[0] & 16;
	pol.atomic_uploads = data[0] & 64;
	pol.target = "plc-07";
	fuzz_init_detectors(data + 1, size - 1);
	policy = data[0];
	w = sftp_watch_new(&pol, fuzz_event, NULL);
	data++;
	size--;
	if (!(data[-1] & 32) &&
	    (fuzz_feed(w, true, init, sizeof(init)) == -1 ||
	        fuzz_feed(w, false, version, sizeof(version)) == -1 ||
	        fuzz_feed(w, false, home, sizeof(home)) == -1))
		abort();
	while (size >= 3) {
		n = (size_t)data[1] << 8 | data[2];
		if (n > size - 3)
			n = size - 3;
		if (fuzz_feed(w, !(data[0] & 1), data + 3, n) == -1)
			break;
		data += 3 + n;
		size -= 3 + n;
	}
	/* the vendor hangs up: open uploads are discarded by the gateway's own requests */
	if (policy & 128) {
		sftp_watch_abandon(w);
		fuzz_drain(w, true);
		fuzz_drain(w, false);
	}
	sftp_watch_end(w);
	sftp_watch_free(w);
	return 0;
}
