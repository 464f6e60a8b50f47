/* recorder.c: writes one session channel as an asciicast v2 file, keeping every byte,
 * hash-chained and checkpointed with signatures, at most about 1.4 bytes on disk per byte
 * (docs/recording-format.md). Never drops or rewrites a byte, nor reorders one within its
 * stream; once a write fails the recording refuses every further event so the caller ends
 * the channel (fail closed, R9). */
#include "evidence/recorder.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "common/xmalloc.h"
#include "evidence/b64.h"
#include "evidence/recchain.h"
#include "evidence/seal.h"

#define REC_PIECE              (64 * 1024) /* input bytes per event at most */
#define REC_CHECKPOINT_RECORDS 1024        /* records listed per checkpoint before a spill signs */
#define REC_SIGNED_PREFIX      "gatewayd-recording-v1\n"
#define REC_STAMP_LEN          32 /* an event's elapsed seconds as text */

/* The disk budget (docs/recording-format.md, "Size"): a recording may hold 7/5 of the bytes
 * it recorded plus a small allowance; events that would overdraw it wait and merge with the
 * next bytes of their stream, so a flood of tiny events cannot multiply a vendor's bytes on
 * the gateway's disk. Credit is counted in fifths of a byte. */
#define REC_CREDIT_PER_BYTE 7           /* fifths of a byte each recorded byte earns */
#define REC_CREDIT_MAX      (64 * 1024) /* bytes: the time allowance fills up to this */
#define REC_CREDIT_PER_S    512         /* bytes a second: room for a person's keystrokes */
#define REC_DIGEST_COST     67          /* a record's digest in a checkpoint: 64 hex, "", comma */

/* The three byte streams; each has a text code (valid UTF-8, what asciinema shows or
 * skips) and a raw code (base64 of bytes that are not UTF-8, skipped by asciinema). */
enum rec_stream { STREAM_OUTPUT, STREAM_STDERR, STREAM_INPUT, STREAM_COUNT };
static const char *const stream_text_code[STREAM_COUNT] = { "o", "e", "i" };
static const char *const stream_raw_code[STREAM_COUNT] = { "ob", "eb", "ib" };

struct recording {
	struct rec_file file;
	char *path;
	struct timespec t0; /* CLOCK_MONOTONIC at open: event times are relative to it */
	char *buf;          /* encoded lines not yet written */
	size_t len, cap;
	size_t line_start;   /* where the line being encoded begins in buf */
	struct rec_chain ch; /* lines so far, the header is record 0; pending_since also counts
	                      * bytes waiting unencoded */
	int error;           /* errno of the failure that ended the recording, 0 while usable */
	bool sealed;
	bool sealing; /* the next checkpoint is the seal's */
	/* Bytes recorded but not yet encoded: one event per stream in waiting, written in the
	 * order their first bytes came, when the budget affords them or at the next flush. */
	struct rec_pending {
		unsigned char *buf; /* REC_PIECE bytes and room for an incomplete UTF-8 end */
		size_t len;
		char stamp[REC_STAMP_LEN]; /* elapsed time of its first byte */
		unsigned long seq;         /* arrival order of its first byte */
		bool tail; /* only the incomplete UTF-8 end of an event written before */
	} pending[STREAM_COUNT];
	/* The last terminal size asked for, not yet written: later ones replace it (a vendor can
	 * send window changes as fast as bytes; only the size matters to a replay). */
	struct rec_resize {
		char size[32]; /* "WxH" */
		char stamp[REC_STAMP_LEN];
		unsigned long seq;
		bool waiting;
	} resize;
	unsigned long next_seq;
	long long credit;          /* fifths of a byte the file may still grow by */
	struct timespec credit_at; /* when the time allowance was last added */
	unsigned long long size;   /* bytes of the lines made so far */
};

/* What a byte adds to the length of a JSON string literal (recorder_quote_text): 0 as it
 * is, 1 for a two-character escape, 5 for \u00XX; REC_NOT_ASCII for a byte of a multi-byte
 * character, whose validity utf8_sequence decides. */
#define REC_NOT_ASCII 0xff
static const unsigned char rec_escape_extra[256] = {
	[0x00 ... 0x07] = 5,
	['\b'] = 1,
	['\t'] = 1,
	['\n'] = 1,
	[0x0b] = 5,
	['\f'] = 1,
	['\r'] = 1,
	[0x0e ... 0x1f] = 5,
	['"'] = 1,
	['\\'] = 1,
	[0x80 ... 0xff] = REC_NOT_ASCII,
};

/* Whether none of the 8 bytes at p needs a look: no control character, quote, backslash or
 * byte above ASCII. Text is mostly such runs; a word at a time is what makes it cheap. */
static bool
rec_plain8(const unsigned char *p)
{
	const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
	uint64_t w, q, b;

	memcpy(&w, p, sizeof(w));
	q = w ^ (ones * '"');
	b = w ^ (ones * '\\');
	/* The classic tests for a byte above 0x7f, below 0x20, or zero in q (a quote) or b (a
	 * backslash): none has false negatives; a false positive only takes the slow path. */
	return ((w & high) | ((w - ones * 0x20) & ~w & high) | ((q - ones) & ~q & high) |
	           ((b - ones) & ~b & high)) == 0;
}

/* What quoting adds to the 8 bytes at p when none is above ASCII, else -1. A run of control
 * bytes (zeros, terminal escapes) is then priced a word at a time: tested byte by byte, with
 * rec_plain8 retried at each, the scan of bulk zeros was a fifth of the monitor's time. */
static int
rec_ascii8_extra(const unsigned char *p)
{
	uint64_t w;
	int i, extra = 0;

	memcpy(&w, p, sizeof(w));
	if ((w & 0x8080808080808080ULL) != 0)
		return -1;
	for (i = 0; i < 8; i++)
		extra += rec_escape_extra[p[i]];
	return extra;
}

/* Length of the valid UTF-8 sequence at p (RFC 3629: no overlongs, no surrogates,
 * nothing above U+10FFFF); 0 when p holds a valid but incomplete start; -1 if invalid. */
static int
utf8_sequence(const unsigned char *p, size_t n)
{
	unsigned char lo = 0x80, hi = 0xbf;
	int need, i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		need = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		need = 3;
		if (p[0] == 0xe0)
			lo = 0xa0;
		else if (p[0] == 0xed)
			hi = 0x9f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		need = 4;
		if (p[0] == 0xf0)
			lo = 0x90;
		else if (p[0] == 0xf4)
			hi = 0x8f;
	} else
		return -1;
	for (i = 1; i < need; i++) {
		if ((size_t)i >= n)
			return 0;
		if (p[i] < lo || p[i] > hi)
			return -1;
		lo = 0x80;
		hi = 0xbf;
	}
	return need;
}

static void
recorder_reserve(struct recording *rec, size_t more)
{
	if (rec->cap - rec->len >= more)
		return;
	rec->cap = rec->len + more;
	rec->buf = xreallocarray(rec->buf, 1, rec->cap);
}

static int
recorder_fail(struct recording *rec, int err)
{
	if (rec->error == 0)
		rec->error = err;
	errno = rec->error;
	return -1;
}

static int
recorder_write_buffer(struct recording *rec)
{
	if (recchain_write_file(&rec->file, rec->buf, rec->len) != 0)
		return recorder_fail(rec, errno);
	rec->len = 0;
	return 0;
}

/* The elapsed seconds of an event written now, as the file shows them: whole seconds, a
 * point and six digits, rounded to the microsecond. Integer digits, not snprintf("%.6f"): every
 * keystroke's event formats one, and printf's floating-point path run cold was a measurable
 * part of a key's way through the monitor. */
static void
recorder_stamp(const struct recording *rec, char out[REC_STAMP_LEN])
{
	struct timespec now;
	long long ns;
	unsigned long long us, sec;
	char digits[24];
	size_t n = 0, i;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ns = (long long)(now.tv_sec - rec->t0.tv_sec) * 1000000000LL +
	    (now.tv_nsec - rec->t0.tv_nsec);
	us = ns > 0 ? ((unsigned long long)ns + 500) / 1000 : 0;
	sec = us / 1000000;
	do {
		digits[n++] = (char)('0' + sec % 10);
		sec /= 10;
	} while (sec > 0);
	for (i = 0; i < n; i++)
		out[i] = digits[n - 1 - i];
	out[n++] = '.';
	us %= 1000000;
	for (i = 6; i > 0; i--, us /= 10)
		out[n + i - 1] = (char)('0' + us % 10);
	out[n + 6] = '\0';
}

/* Starts the line "[elapsed,"code"," in the buffer, with room for body more bytes; stamp is
 * the elapsed text (NULL: now). */
static void
recorder_begin_event(struct recording *rec, const char *stamp, const char *code, size_t body)
{
	char now[REC_STAMP_LEN];
	size_t ls, lc;

	if (stamp == NULL) {
		recorder_stamp(rec, now);
		stamp = now;
	}
	ls = strlen(stamp);
	lc = strlen(code);
	recorder_reserve(rec, body + ls + lc + 64);
	rec->line_start = rec->len;
	rec->buf[rec->len++] = '[';
	memcpy(rec->buf + rec->len, stamp, ls);
	rec->len += ls;
	memcpy(rec->buf + rec->len, ",\"", 2);
	memcpy(rec->buf + rec->len + 2, code, lc);
	rec->len += 2 + lc;
	memcpy(rec->buf + rec->len, "\",", 2);
	rec->len += 2;
}

static int recorder_event_json(
    struct recording *rec, const char *stamp, const char *code, json_t *value, bool listed);

/* Chains the line that starts at line_start; a listed line is covered by the next
 * checkpoint, a checkpoint line only by the chain. */
static void
recorder_chain_line(struct recording *rec, bool listed)
{
	recchain_add(&rec->ch, rec->buf + rec->line_start, rec->len - rec->line_start, listed);
	rec->buf[rec->len++] = '\n';
	/* Every line is paid from the budget; a listed line also pays at once for its digest in
	 * the next checkpoint, or a burst of tiny events would leave the checkpoint as a debt. */
	rec->size += rec->len - rec->line_start;
	rec->credit -= 5 * (long long)(rec->len - rec->line_start + (listed ? REC_DIGEST_COST : 0));
}

/* Whether bytes wait unencoded (they make the next flush due like an unsigned record). */
static bool
recorder_waiting(const struct recording *rec)
{
	int st;

	for (st = 0; st < STREAM_COUNT; st++)
		if (rec->pending[st].len > 0)
			return true;
	return rec->resize.waiting;
}

int
recorder_checkpoint_sign(const struct sealkey *key, const struct checkpoint_req *req,
    const char *time, char sig[SEAL_SIG_B64_LEN])
{
	char *msg;
	int n, rc;

	n = xasprintf(
	    &msg, REC_SIGNED_PREFIX "%lu\n%s\n%s\n%s\n", req->n, time, req->chain, req->stamp);
	rc = sealkey_sign(key, msg, (size_t)n, sig);
	free(msg);
	return rc;
}

static int
recorder_sign_local(void *ctx, const struct checkpoint_req *req, char sig[SEAL_SIG_B64_LEN],
    char time_out[SEAL_TIME_LEN])
{
	seal_format_now(time_out);
	return recorder_checkpoint_sign(ctx, req, time_out, sig);
}

struct recorder_signer
recorder_signer_local(const struct sealkey *key)
{
	/* The callback never writes through ctx: the cast only fits the generic signature. */
	struct recorder_signer s = { .key_id = sealkey_id(key),
		.sign = recorder_sign_local,
		.ctx = (void *)(uintptr_t)key };

	return s;
}

/* Appends the signed checkpoint covering every record since the previous one. */
static int
recorder_checkpoint(struct recording *rec)
{
	char now[SEAL_TIME_LEN], chain[SEAL_HEX_LEN], sig[SEAL_SIG_B64_LEN];
	char stamp[REC_STAMP_LEN];
	size_t nlisted = rec->ch.nlisted;
	json_t *cp;

	if (nlisted == 0)
		return 0;
	/* The line's own elapsed time is signed too: no later checkpoint covers the last line. */
	recorder_stamp(rec, stamp);
	if (recchain_sign(&rec->ch, stamp, rec->sealing, chain, sig, now) != 0)
		return recorder_fail(rec, EIO);
	cp = json_pack("{s:I,s:s,s:s,s:o,s:s}", "n", (json_int_t)rec->ch.nrecords, "time", now,
	    "chain", chain, "records", recchain_listed_json(&rec->ch), "sig", sig);
	rec->credit += 5LL * REC_DIGEST_COST * (long long)nlisted; /* paid with each record */
	recchain_clear_listed(&rec->ch);
	if (recorder_waiting(rec))
		rec->ch.pending_since = time(NULL);
	return recorder_event_json(rec, stamp, "h", cp, false);
}

/* Hands every finished event to the kernel before the caller relays its bytes: a disk that
 * fails then never leaves relayed output unrecorded (R9), and a killed process loses nothing
 * written. Signs first when many records wait. */
static int
recorder_spill(struct recording *rec)
{
	if (rec->ch.nlisted >= REC_CHECKPOINT_RECORDS && recorder_checkpoint(rec) != 0)
		return -1;
	return recorder_write_buffer(rec);
}

static int
recorder_end_event(struct recording *rec)
{
	rec->buf[rec->len++] = ']';
	recorder_chain_line(rec, true);
	return recorder_spill(rec);
}

/* Appends one JSON value as an event; the value is consumed. */
static int
recorder_event_json(
    struct recording *rec, const char *stamp, const char *code, json_t *value, bool listed)
{
	size_t need, n;

	need = json_dumpb(value, NULL, 0, JSON_COMPACT | JSON_ENCODE_ANY);
	recorder_begin_event(rec, stamp, code, need);
	n = json_dumpb(
	    value, rec->buf + rec->len, rec->cap - rec->len, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(value);
	if (n == 0 || n > need)
		return recorder_fail(rec, ENOMEM);
	rec->len += n;
	rec->buf[rec->len++] = ']';
	recorder_chain_line(rec, listed);
	return recorder_spill(rec);
}

/* Valid UTF-8 as a JSON string literal, byte for byte what jansson's encoder writes (a unit
 * test holds the two equal): jansson's general encoder took 40% of a bulk session's CPU.
 * Escaping at most sextuples a byte ("\u001B"). */
static size_t
recorder_quote_text(const unsigned char *p, size_t n, char *out)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i = 0, o = 0, slow_until = 0;

	out[o++] = '"';
	while (i < n) {
		unsigned char c = p[i];

		/* A word that needs a look is then taken byte by byte, without a test at each. */
		if (i >= slow_until && i + 8 <= n) {
			if (rec_plain8(p + i)) {
				memcpy(out + o, p + i, 8);
				i += 8;
				o += 8;
				continue;
			}
			slow_until = i + 8;
		}
		i++;
		if (rec_escape_extra[c] == 0 || rec_escape_extra[c] == REC_NOT_ASCII) {
			out[o++] = (char)c;
			continue;
		}
		out[o++] = '\\';
		switch (c) {
		case '"':
		case '\\':
			out[o++] = (char)c;
			break;
		case '\b':
			out[o++] = 'b';
			break;
		case '\f':
			out[o++] = 'f';
			break;
		case '\n':
			out[o++] = 'n';
			break;
		case '\r':
			out[o++] = 'r';
			break;
		case '\t':
			out[o++] = 't';
			break;
		default:
			memcpy(out + o, "u00", 3);
			out[o + 3] = hex[c >> 4];
			out[o + 4] = hex[c & 0xf];
			o += 5;
		}
	}
	out[o++] = '"';
	return o;
}

#define REC_RAW_LEN(n) (B64_LEN(n) + 2) /* base64 in quotes */

static int
recorder_event_text(
    struct recording *rec, const char *stamp, const char *code, const unsigned char *p, size_t n)
{
	recorder_begin_event(rec, stamp, code, 6 * n + 2);
	rec->len += recorder_quote_text(p, n, rec->buf + rec->len);
	return recorder_end_event(rec);
}

/* Bytes as base64 in a string: what any content costs at most, 4 bytes for 3. */
static int
recorder_event_raw(
    struct recording *rec, const char *stamp, const char *code, const unsigned char *p, size_t n)
{
	recorder_begin_event(rec, stamp, code, REC_RAW_LEN(n) + 1);
	rec->buf[rec->len++] = '"';
	rec->len += b64_encode(rec->buf + rec->len, p, n);
	rec->buf[rec->len++] = '"';
	return recorder_end_event(rec);
}

/* Adds the time allowance since it was last added, up to REC_CREDIT_MAX: an idle session
 * cannot save up more than that for a burst. */
static void
recorder_refill(struct recording *rec)
{
	struct timespec now;
	long long ms, max = 5LL * REC_CREDIT_MAX;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (now.tv_sec - rec->credit_at.tv_sec) * 1000LL +
	    (now.tv_nsec - rec->credit_at.tv_nsec) / 1000000;
	if (ms <= 0)
		return;
	rec->credit_at = now;
	if (rec->credit >= max) /* earned by recorded bytes: kept, but no allowance on top */
		return;
	rec->credit += 5 * REC_CREDIT_PER_S * ms / 1000;
	if (rec->credit > max)
		rec->credit = max;
}

/* The longest body (its data as written) an event stamped so may have now without
 * overdrawing the budget: the event also pays its stamp, its framing and its digest. */
static long long
recorder_room(const struct recording *rec, const char *stamp)
{
	return rec->credit / 5 - (long long)(strlen(stamp) + 8 + REC_DIGEST_COST);
}

static bool
recorder_affords(const struct recording *rec, const char *stamp, size_t body)
{
	return (long long)body <= recorder_room(rec, stamp);
}

/* The longest text event the budget could choose instead of raw_len bytes of base64: one no
 * dearer, or one up to twice as dear that the credit affords (recorder_emit). */
static size_t
recorder_text_most(const struct recording *rec, const char *stamp, size_t raw_len)
{
	long long afford = recorder_room(rec, stamp);

	if (afford <= (long long)raw_len)
		return raw_len;
	return afford < 2 * (long long)raw_len ? (size_t)afford : 2 * raw_len;
}

/* Writes stream st's waiting bytes as one event, or leaves them waiting (returns 1) when
 * the budget does not afford that and force is false. Valid UTF-8 becomes a text event,
 * which asciinema plays, when that is the cheaper form or the budget pays for it;
 * otherwise the bytes go whole as base64 (never more than 4 bytes for 3, whatever they
 * are: "\u0000" costs 6). An incomplete UTF-8 sequence at the end of a text event waits
 * for the bytes that complete it, until the next flush. */
static int
recorder_emit(struct recording *rec, enum rec_stream st, bool force)
{
	struct rec_pending *pd = &rec->pending[st];
	size_t j = 0, text_len = 0, extra = 0, raw_len = REC_RAW_LEN(pd->len), n = pd->len;
	size_t most = recorder_text_most(rec, pd->stamp, raw_len);
	bool text;
	int r = 1, more;

	/* One pass finds the valid UTF-8 prefix and what quoting it adds (recorder_quote_text),
	 * and stops once the text would cost more than the budget could pay: a run of NULs
	 * scanned to its end was a tenth of the machine's time for bulk zeros. */
	while (j < n) {
		if (j + extra + 2 > most) {
			r = -1;
			break;
		}
		if (j + 8 <= n &&
		    (more = rec_plain8(pd->buf + j) ? 0 : rec_ascii8_extra(pd->buf + j)) >= 0) {
			extra += (size_t)more;
			j += 8;
			continue;
		}
		if (rec_escape_extra[pd->buf[j]] != REC_NOT_ASCII) {
			extra += rec_escape_extra[pd->buf[j++]];
			continue;
		}
		if ((r = utf8_sequence(pd->buf + j, n - j)) <= 0)
			break;
		j += (size_t)r;
	}
	if (r == 0 && j == 0 && !force) { /* only the start of a character: wait for the rest */
		pd->tail = true;
		return 0;
	}
	if (r >= 0 && j > 0)
		text_len = j + extra + 2;
	/* Text dearer than base64 (terminal escapes: ESC is "\u001b") is bought with credit, but
	 * only up to twice the base64: a run of NULs shows nothing that base64 would not. */
	text = text_len > 0 &&
	    (text_len <= raw_len ||
	        (text_len <= 2 * raw_len && recorder_affords(rec, pd->stamp, text_len)));
	if (!force && pd->len < REC_PIECE &&
	    !recorder_affords(rec, pd->stamp, text ? text_len : raw_len))
		return 1;
	if (!text) {
		if (recorder_event_raw(rec, pd->stamp, stream_raw_code[st], pd->buf, n) != 0)
			return -1;
		pd->len = 0;
		return 0;
	}
	if (recorder_event_text(rec, pd->stamp, stream_text_code[st], pd->buf, j) != 0)
		return -1;
	memmove(pd->buf, pd->buf + j, n - j);
	pd->len = n - j;
	pd->tail = pd->len > 0;
	if (pd->tail && force) { /* nothing completes it before the checkpoint: bytes as they are */
		recorder_stamp(rec, pd->stamp);
		if (recorder_event_raw(rec, pd->stamp, stream_raw_code[st], pd->buf, pd->len) != 0)
			return -1;
		pd->len = 0;
	}
	return 0;
}

/* Writes the waiting resize, or leaves it waiting (returns 1) as recorder_emit does. */
static int
recorder_emit_resize(struct recording *rec, bool force)
{
	struct rec_resize *rs = &rec->resize;

	if (!force && !recorder_affords(rec, rs->stamp, strlen(rs->size) + 2))
		return 1;
	rs->waiting = false;
	return recorder_event_json(rec, rs->stamp, "r", json_string(rs->size), true);
}

/* Writes waiting events in the order their first bytes came, as far as the budget affords
 * (all of them when force). An incomplete UTF-8 end alone holds back no other stream. */
static int
recorder_settle(struct recording *rec, bool force)
{
	struct rec_pending *pd;
	int st, next, rc;

	recorder_refill(rec);
	for (;;) {
		next = -1;
		for (st = 0; st < STREAM_COUNT; st++) {
			pd = &rec->pending[st];
			if (pd->len > 0 && (force || !pd->tail) &&
			    (next == -1 || pd->seq < rec->pending[next].seq))
				next = st;
		}
		if (rec->resize.waiting && (next == -1 || rec->resize.seq < rec->pending[next].seq))
			rc = recorder_emit_resize(rec, force);
		else if (next != -1)
			rc = recorder_emit(rec, (enum rec_stream)next, force);
		else
			return 0;
		if (rc != 0)
			return rc < 0 ? -1 : 0;
	}
}

static int
recorder_usable(struct recording *rec)
{
	if (rec == NULL)
		return (errno = EINVAL), -1;
	if (rec->error != 0)
		return recorder_fail(rec, rec->error);
	if (rec->sealed)
		return (errno = EINVAL), -1;
	return 0;
}

static int
recorder_write_stream(struct recording *rec, enum rec_stream st, const void *buf, size_t len)
{
	struct rec_pending *pd = &rec->pending[st];
	const unsigned char *in = buf;
	size_t piece;

	if (recorder_usable(rec) != 0)
		return -1;
	rec->credit += (long long)REC_CREDIT_PER_BYTE * (long long)len;
	while (len > 0) {
		/* A full event goes before more bytes join it: memory stays bounded. */
		if (pd->len >= REC_PIECE && recorder_settle(rec, true) != 0)
			return -1;
		if (pd->len == 0 || pd->tail) { /* a new event: its time and place are now */
			recorder_stamp(rec, pd->stamp);
			pd->seq = ++rec->next_seq;
			pd->tail = false;
		}
		if (pd->buf == NULL)
			pd->buf = xmalloc(REC_PIECE + 4);
		piece = REC_PIECE - pd->len < len ? REC_PIECE - pd->len : len;
		memcpy(pd->buf + pd->len, in, piece);
		pd->len += piece;
		in += piece;
		len -= piece;
	}
	if (rec->ch.pending_since == 0)
		rec->ch.pending_since = time(NULL);
	if (recorder_settle(rec, false) != 0)
		return -1;
	return recorder_write_buffer(rec);
}

int
recorder_write_output(struct recording *rec, const void *buf, size_t len)
{
	return recorder_write_stream(rec, STREAM_OUTPUT, buf, len);
}

int
recorder_write_stderr(struct recording *rec, const void *buf, size_t len)
{
	return recorder_write_stream(rec, STREAM_STDERR, buf, len);
}

int
recorder_write_input(struct recording *rec, const void *buf, size_t len)
{
	return recorder_write_stream(rec, STREAM_INPUT, buf, len);
}

int
recorder_write_resize(struct recording *rec, int width, int height)
{
	struct rec_resize *rs = &rec->resize;

	if (recorder_usable(rec) != 0)
		return -1;
	if (!rs->waiting) {
		recorder_stamp(rec, rs->stamp);
		rs->seq = ++rec->next_seq;
		rs->waiting = true;
	}
	snprintf(rs->size, sizeof(rs->size), "%dx%d", width, height);
	if (rec->ch.pending_since == 0)
		rec->ch.pending_since = time(NULL);
	if (recorder_settle(rec, false) != 0)
		return -1;
	return recorder_write_buffer(rec);
}

int
recorder_write_note(struct recording *rec, const char *text)
{
	json_t *s;

	/* Bytes recorded before the note go before it. */
	if (recorder_usable(rec) != 0 || recorder_settle(rec, true) != 0)
		return -1;
	if ((s = json_string(text)) == NULL)
		return recorder_event_raw(
		    rec, NULL, "nb", (const unsigned char *)text, strlen(text));
	return recorder_event_json(rec, NULL, "n", s, true);
}

int
recorder_flush(struct recording *rec)
{
	if (recorder_usable(rec) != 0)
		return -1;
	if (recorder_settle(rec, true) != 0 || recorder_checkpoint(rec) != 0)
		return -1;
	return recorder_write_buffer(rec);
}

time_t
recorder_pending_since(const struct recording *rec)
{
	if (rec == NULL || rec->error != 0)
		return 0;
	return rec->ch.pending_since;
}

int
recorder_seal(struct recording *rec, const char *end_reason)
{
	char ended[SEAL_TIME_LEN];
	json_t *end;

	if (recorder_usable(rec) != 0 || recorder_settle(rec, true) != 0)
		return -1;
	seal_format_now(ended);
	end = json_pack("{s:s}", "ended", ended);
	recchain_json_set_string(end, "reason", end_reason != NULL ? end_reason : "unknown");
	if (recorder_event_json(rec, NULL, "x", end, true) != 0)
		return -1;
	rec->sealing = true;
	if (recorder_checkpoint(rec) != 0 || recorder_write_buffer(rec) != 0)
		return -1;
	if (fsync(rec->file.fd) != 0)
		return recorder_fail(rec, errno);
	rec->sealed = true;
	return 0;
}

void
recorder_free(struct recording *rec)
{
	int st;

	if (rec == NULL)
		return;
	/* Best effort: whatever reached memory goes to the file, which stays unsealed. */
	if (!rec->sealed && rec->error == 0 && recorder_settle(rec, true) == 0 &&
	    recorder_checkpoint(rec) == 0)
		recorder_write_buffer(rec);
	close(rec->file.fd);
	free(rec->path);
	free(rec->buf);
	for (st = 0; st < STREAM_COUNT; st++)
		free(rec->pending[st].buf);
	recchain_free(&rec->ch);
	free(rec);
}

const char *
recorder_path(const struct recording *rec)
{
	return rec->path;
}

unsigned long long
recorder_size(const struct recording *rec)
{
	return rec->size;
}

json_t *
recorder_names_array(const char *list)
{
	json_t *a = json_array();
	const char *p = list, *comma;

	while (p != NULL && *p != '\0') {
		comma = strchr(p, ',');
		json_array_append_new(
		    a, json_stringn(p, comma != NULL ? (size_t)(comma - p) : strlen(p)));
		p = comma != NULL ? comma + 1 : NULL;
	}
	return a;
}

static json_t *
header_build(const struct recording_meta *m, const char *key_id)
{
	json_t *h, *g;
	char started[SEAL_TIME_LEN];
	struct timespec ts = { .tv_sec = m->started };

	seal_format_time(started, &ts);
	h = json_pack("{s:i,s:i,s:i,s:I}", "version", 2, "width", m->width > 0 ? m->width : 80,
	    "height", m->height > 0 ? m->height : 24, "timestamp", (json_int_t)m->started);
	recchain_json_set_string(h, "command", m->command);
	if (m->term != NULL) {
		json_t *env = json_object();

		recchain_json_set_string(env, "TERM", m->term);
		json_object_set_new(h, "env", env);
	}
	g = json_pack("{s:s,s:i}", "session_id", m->session_id, "channel", (int)m->channel);
	recchain_json_set_string(g, "person", m->person);
	recchain_json_set_string(g, "vendor", m->vendor);
	recchain_json_set_string(g, "target", m->target);
	recchain_json_set_string(g, "target_user", m->target_user);
	recchain_json_set_string(g, "client_addr", m->client_addr);
	json_object_set_new(g, "client_port", json_integer(m->client_port));
	recchain_json_set_string(g, "key_fp", m->key_fp);
	recchain_json_set_string(g, "ticket_id", m->ticket_id);
	if (m->approvers != NULL) {
		/* "approver", the first, for readers from before dual control (issue 16). */
		json_t *names = recorder_names_array(m->approvers);

		recchain_json_set_string(
		    g, "approver", json_string_value(json_array_get(names, 0)));
		json_object_set_new(g, "approvers", names);
	}
	recchain_json_set_string(g, "kind", m->kind);
	recchain_json_set_string(g, "command", m->command);
	recchain_json_set_string(g, "term", m->term);
	json_object_set_new(g, "width", json_integer(m->width));
	json_object_set_new(g, "height", json_integer(m->height));
	json_object_set_new(g, "started", json_string(started));
	json_object_set_new(g, "key", json_string(key_id));
	json_object_set_new(h, "gatewayd", g);
	return h;
}

/* Takes fd and path (both owned from here, also on failure), locks fd and writes the header. */
static struct recording *
recorder_start(
    int fd, char *path, const struct recording_meta *meta, const struct recorder_signer *signer)
{
	struct recording *rec;
	json_t *header;
	size_t n;
	int err;

	/* Held until recorder_free: a reader tells a session still recording ("live") from one
	 * that ended without its seal (a crash), whose lock the kernel dropped with the process. */
	if (recchain_lock(fd) != 0) {
		err = errno;
		close(fd);
		free(path);
		errno = err;
		return NULL;
	}
	rec = xcalloc(1, sizeof(*rec));
	rec->file.fd = fd;
	rec->path = path;
	clock_gettime(CLOCK_MONOTONIC, &rec->t0);
	rec->credit_at = rec->t0;
	rec->credit = 5LL * REC_CREDIT_MAX; /* a session starts with its whole allowance */

	header = header_build(meta, signer->key_id);
	n = json_dumpb(header, NULL, 0, JSON_COMPACT);
	recorder_reserve(rec, n + 1);
	rec->len = json_dumpb(header, rec->buf, rec->cap, JSON_COMPACT);
	json_decref(header);
	recchain_init(&rec->ch, rec->path, signer, rec->buf, rec->len);
	recorder_chain_line(rec, true);
	if (recorder_write_buffer(rec) != 0) {
		err = rec->error;
		recorder_free(rec);
		errno = err;
		return NULL;
	}
	return rec;
}

static bool
recorder_args_ok(const struct recording_meta *meta, const struct recorder_signer *signer)
{
	if (meta != NULL && signer != NULL && signer->sign != NULL && signer->key_id != NULL &&
	    recchain_id_is_hex(meta->session_id))
		return true;
	errno = EINVAL;
	return false;
}

int
recorder_create_file(const char *dir, const char *session_id, unsigned channel, char **path)
{
	return recchain_create_file(dir, session_id, channel, ".cast", path);
}

struct recording *
recorder_open(
    const char *dir, const struct recording_meta *meta, const struct recorder_signer *signer)
{
	struct recording *rec;
	char *path;
	int fd, err;

	if (dir == NULL || !recorder_args_ok(meta, signer) ||
	    (fd = recorder_create_file(dir, meta->session_id, meta->channel, &path)) == -1)
		return NULL;
	if ((rec = recorder_start(fd, xstrdup(path), meta, signer)) == NULL) {
		err = errno;
		unlink(path);
		errno = err;
	}
	free(path);
	return rec;
}

struct recording *
recorder_open_fd(int fd, const char *path, const struct recording_meta *meta,
    const struct recorder_signer *signer)
{
	if (!recorder_args_ok(meta, signer)) {
		close(fd);
		return NULL;
	}
	return recorder_start(fd, xstrdup(path), meta, signer);
}
