/* evidence.h: what the auditor's commands share: the verification key, reading a
 * recording's events back as bytes, and rendering it as a person saw it (libvterm). */
#ifndef GW_TOOLS_EVIDENCE_H
#define GW_TOOLS_EVIDENCE_H

#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "gatewayd/seal.h"
#include "tools/gatewayctl.h"

/* --key FILE, else <state_dir>/recording_key.pub or recording_key from -f CONFIG. */
struct sealkey *evidence_load_key(struct ctl_context *ctx, const char *keyfile);
/* --dir DIR, else recording_dir from -f CONFIG; NULL when neither. */
const char *evidence_recording_dir(struct ctl_context *ctx, const char *dir);

/* Which recordings a search or history looks at; NULL/0 members match all. */
struct recording_filter {
	const char *person, *vendor, *target;
	time_t from, to; /* session start within [from, to) */
};
/* Handles --person/--vendor/--target/--from/--to (getopt codes 'p' 'v' 't' 'F' 'T');
 * returns 0, or -1 for a date that is neither YYYY-MM-DD nor YYYY-MM-DDTHH:MM:SS. */
int evidence_filter_option(struct recording_filter *f, int ch, const char *arg);
#define EVIDENCE_FILTER_OPTIONS                                                                    \
	{ "person", required_argument, NULL, 'p' }, { "vendor", required_argument, NULL, 'v' },    \
	    { "target", required_argument, NULL, 't' }, { "from", required_argument, NULL, 'F' },  \
	    { "to", required_argument, NULL, 'T' },                                                \
	{                                                                                          \
		"dir", required_argument, NULL, 'd'                                                \
	}
typedef void (*recording_cb)(const char *path, const json_t *meta, void *arg);
/* Calls cb for every DIR/<hex>.<n>.cast whose header matches, in name order. */
int evidence_foreach_recording(
    const char *dir, const struct recording_filter *f, recording_cb cb, void *arg);

/* One event: stream is "o", "e", "i", "n" or "r" with the exact bytes (raw "ob"/... events
 * are decoded), or another code ("h", "x") with value set. */
struct cast_event {
	double time;
	char code[8];
	const unsigned char *data;
	size_t len;
	json_t *value; /* the event's data member; valid until the next event */
};

struct castfile;
struct castfile *castfile_open(const char *path);
const json_t *castfile_header(const struct castfile *cf);
/* 1 with an event, 0 at the end, -1 on a malformed line. */
int castfile_next(struct castfile *cf, struct cast_event *ev);
void castfile_close(struct castfile *cf);

/* What transcript_render reports: a screen line as shown, or a line the person typed. */
enum transcript_kind { TRANSCRIPT_SCREEN, TRANSCRIPT_INPUT };
typedef void (*transcript_cb)(enum transcript_kind kind, double time, const char *text, void *arg);
/* Feeds the recording through a terminal emulator; 0, or -1 when unreadable. */
int transcript_render(const char *path, transcript_cb cb, void *arg);

#endif
