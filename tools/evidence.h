/* evidence.h: what the auditor's commands share: the verification key and verdicts, the
 * recordings a search selects, header values as termsafe text. Reading a recording's events
 * back is the evidence library's (evidence/castfile.h), rendering them tools/transcript.h's. */
#ifndef GW_TOOLS_EVIDENCE_H
#define GW_TOOLS_EVIDENCE_H

#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "evidence/castfile.h"
#include "evidence/seal.h"
#include "evidence/verify.h"
#include "tools/gatewayctl.h"

/* --key FILE, else <state_dir>/recording_key.pub or recording_key from -f CONFIG. */
struct sealkey *evidence_load_key(struct ctl_context *ctx, const char *keyfile);
/* For the commands that verify as they read: --key FILE, else the key of -f CONFIG when that
 * file exists; NULL (nothing printed) when neither, and the reader says it did not check. */
struct sealkey *evidence_load_key_if_any(struct ctl_context *ctx, const char *keyfile);
/* The verdict on path as verify prints it ("unchecked (...)" when key is NULL); kind gets
 * verdict_kind_name's word, or "unchecked". */
void evidence_verdict(
    const char *path, const struct sealkey *key, char *line, size_t len, const char **kind);
/* Member key of a header or an event as termsafe text, from key_base64 (the exact bytes) when
 * the value was not UTF-8 (a vendor's exec command, an SFTP path); NULL when neither is there.
 * The caller frees it. */
char *evidence_meta_text(const json_t *meta, const char *key);
/* --dir DIR, else recording_dir from -f CONFIG; NULL (printed) when neither, or --dir on an
 * auditor's console. */
const char *evidence_recording_dir(struct ctl_context *ctx, const char *dir);
/* The file a command's FILE argument names: arg itself, but on an auditor's console a
 * recording of recording_dir named SESSION[.CHANNEL[.cast]] (a session: its first channel)
 * whose header names a vendor in the auditor's scope. NULL (printed) when not one; the caller
 * frees the path. */
char *evidence_recording_path(struct ctl_context *ctx, const char *arg);
/* The recording of dir that arg names as SESSION[.CHANNEL[.cast[.zst]]] (a session: its first
 * channel), plain or compressed (castread_find); NULL with errno ENOENT when there is none, or
 * with errno EINVAL (printed) when arg is not such a name. The caller frees the path. */
char *evidence_recording_in_dir(const char *dir, const char *arg);

/* Which recordings a search or history looks at; NULL/0 members match all. */
struct recording_filter {
	const char *person, *vendor, *target;
	time_t from, to;                /* session start within [from, to) */
	const struct gw_auditor *scope; /* only the vendors it may read; NULL: all */
	/* Also the tunnels' pcapng recordings (issue 18), their meta as a channel's: "kind"
	 * "forward", "command" "forward TARGET:PORT", "ticket_id" (docs/forwarding.md), and
	 * "started_at" (epoch), "client_bytes", "server_bytes" (0: no end block yet). */
	bool tunnels;
};
/* Handles --person/--vendor/--target/--from/--to/--since (getopt codes 'p' 'v' 't' 'F' 'T'
 * 'S'); returns 0, or -1 for a time that is neither YYYY-MM-DD[( |T)HH:MM[:SS]][Z] (local time
 * unless Z) nor, for --since, N followed by s, m, h or d. */
int evidence_filter_option(struct recording_filter *f, int ch, const char *arg);
#define EVIDENCE_FILTER_SHORTOPTS "p:v:t:F:T:S:d:"
#define EVIDENCE_FILTER_USAGE                                                                      \
	"[--person P] [--vendor V] [--target T] [--since N(s|m|h|d)] [--from TIME] [--to TIME] "   \
	"[--dir DIR]"
#define EVIDENCE_FILTER_OPTIONS                                                                    \
	{ "person", required_argument, NULL, 'p' }, { "vendor", required_argument, NULL, 'v' },    \
	    { "target", required_argument, NULL, 't' }, { "from", required_argument, NULL, 'F' },  \
	    { "to", required_argument, NULL, 'T' }, { "since", required_argument, NULL, 'S' },     \
	{                                                                                          \
		"dir", required_argument, NULL, 'd'                                                \
	}
typedef void (*recording_cb)(const char *path, const json_t *meta, void *arg);
/* Calls cb for every DIR/<hex>.<n>.cast (or .cast.zst, castread.h) whose header matches, in
 * name order. */
int evidence_foreach_recording(
    const char *dir, const struct recording_filter *f, recording_cb cb, void *arg);

/* The recording at path as a stock asciicast v2 player plays it (`asciinema play`, the
 * bundle's web player): a header of width, height, timestamp and version, then the target's
 * output and stderr as "o" events and the size changes as "r"; input, notes, the seal and the
 * checkpoints are for the transcript and the verifier, and are left out. Bytes that are not
 * UTF-8 show as "?" (the exact bytes stay in the recording). emit gets each line in order and
 * takes it. Returns the "o" events, or -1 when path is not a recording (printed). */
typedef void (*evidence_cast_fn)(void *arg, json_t *line);
int evidence_player_cast(const char *path, evidence_cast_fn emit, void *arg);

#endif
