/* bundle.h: the evidence bundle (docs/evidence-bundle.md): one vendor's period as a folder an
 * assessor can check alone: recordings, the audit-log slice, the key, a signed MANIFEST, pages.
 * `gatewayctl report` gathers the same period in place, of one vendor or of all (report.h). */
#ifndef GW_TOOLS_BUNDLE_H
#define GW_TOOLS_BUNDLE_H

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include <jansson.h>

#include "evidence/seal.h"
#include "evidence/verify.h"
#include "tools/gatewayctl.h"

#define BUNDLE_FORMAT     "gatewayd-evidence-bundle-v1"
#define BUNDLE_SIG_PREFIX "gatewayd-bundle-v1\n" /* what MANIFEST.sig signs, before MANIFEST */
#define BUNDLE_AUDIT      "audit.log"
#define BUNDLE_INFO       "bundle.json"

/* What an export or a report selects, and where an export writes. */
struct bundle_spec {
	const char *vendor, *target; /* NULL: every vendor (a report only), every target */
	time_t from, to;             /* sessions started, audit lines written, within [from, to) */
	const char *dir; /* the bundle folder, created; with tar, the archive's top folder; NULL for
	                  * a report */
	FILE *tar;       /* the bundle as a ustar archive on this stream, no file created */
	const char *player_dir; /* the asciinema-player package (its dist/ and LICENSE) */
	const int *player_fds;  /* its files opened already (bundle_player_open), or NULL */
	const char *display_tz; /* the site's time zone for the pages */
	bool zip;               /* also DIR.zip */
};

/* bundle-out.c: where an export writes: the folder spec->dir, or members of a ustar archive on
 * spec->tar under the top folder spec->dir. A tar member is held in memory until closed (its
 * size goes first), at most 256 MiB each: a bigger one is refused, said on stderr. Every file
 * closed is noted with its SHA-256 for the MANIFEST. */
struct bundle_out {
	const char *dir;         /* the folder, or the archive's top folder */
	FILE *tar;               /* NULL: files in dir */
	time_t mtime;            /* of the archive's members */
	char *name, *path, *buf; /* the file open now: its bundle name, path, tar bytes */
	size_t len;
	struct bundle_out_file {
		char *name;
		char sha256[SEAL_HEX_LEN];
	} * files; /* written so far, in order */
	size_t nfiles;
};
/* A folder of the bundle ("" the bundle's own); 0, or -1 said on stderr. */
int bundle_out_dir(struct bundle_out *o, const char *name);
/* One file at a time: its name in the bundle ("sessions/X.html"); NULL said on stderr. */
FILE *bundle_out_open(struct bundle_out *o, const char *name);
/* Ends the file open now (and writes its tar member): 0, or -1 said on stderr. */
int bundle_out_close(struct bundle_out *o, FILE *f);
/* The bytes of the file from as the bundle's file name; 0, or -1 said on stderr. */
int bundle_out_copy(struct bundle_out *o, const char *from, const char *name);
/* The same from a descriptor, read from its start (from names it in messages). */
int bundle_out_copy_fd(struct bundle_out *o, int fd, const char *from, const char *name);
/* The archive's end (nothing for a folder); 0, or -1 said on stderr. */
int bundle_out_end(struct bundle_out *o);
void bundle_out_free(struct bundle_out *o);

/* One recording of the bundle, as the pages show it. */
struct bundle_recording {
	char *name;   /* "<session>.<channel>.cast" */
	char *path;   /* its copy in the bundle; for a report, the recording itself */
	json_t *meta; /* the header's "gatewayd" object */
	time_t start; /* the header's timestamp */
	struct verdict verdict;
	unsigned long long bytes_out, bytes_in; /* target output, vendor input */
};

/* What an export or a report gathered: the recordings, and the audit lines it discloses. */
struct bundle {
	const struct bundle_spec *spec;
	const struct gw_config
	    *cfg;               /* the gateway's: its installed tickets fill the ticket table */
	struct bundle_out *out; /* an export's; NULL for a report */
	struct bundle_recording *recs;
	size_t nrecs;
	json_t *events; /* disclosed audit events of the period, in log order */
};

/* Whether r is a tunnel's pcapng recording (docs/forwarding.md), not a channel's cast. */
bool bundle_recording_is_tunnel(const struct bundle_recording *r);
/* bundle-gather.c: the period's recordings matching the spec, in order of start, with their
 * verdicts and bytes, and the audit events that concern them. With b->out (an export) each
 * recording is copied into recordings/ (measured in the copy when it is a file), and the audit
 * slice is written (info gets its "audit" member); without (a report), both are read in place
 * and info is unused. 0, or -1 with the reason printed. */
int bundle_gather(struct bundle *b, const char *recording_dir, const char *audit_log,
    const struct sealkey *key, json_t *info);
void bundle_free(struct bundle *b);

/* bundle-slice.c: the audit log's lines of [from, to), other vendors' replaced by their hash.
 * Fills info's "audit" member and b->events; 0, or -1 with the reason printed. */
int bundle_slice_write(const char *audit_log, struct bundle *b, json_t *info);
/* The events the slice would disclose, into b->events, without writing anything: with neither
 * vendor nor target in the spec, every line of the period. 0, or -1 with the reason printed. */
int bundle_events_read(const char *audit_log, struct bundle *b);
/* Checks the slice's chain and every disclosed line's signature; prints one line, 0 when good. */
int bundle_slice_verify(const char *dir, const json_t *info, const struct sealkey *key);

/* bundle-manifest.c: MANIFEST (sha256sum lines of every file out wrote) and MANIFEST.sig, the
 * signature sign gives: bundle_manifest_sign with the private key, or the listener's. */
typedef int (*bundle_sign_fn)(void *arg, const char *manifest, char sig[SEAL_SIG_B64_LEN]);
int bundle_manifest_write(struct bundle_out *o, bundle_sign_fn sign, void *arg);
/* BUNDLE_SIG_PREFIX, then manifest, signed with key (a struct sealkey, private): 0 or -1. */
int bundle_manifest_sign(void *key, const char *manifest, char sig[SEAL_SIG_B64_LEN]);
/* Prints each file that differs, is missing or is not listed, and a bad signature; returns
 * the number of problems (0: all good), -1 when MANIFEST cannot be read. */
int bundle_manifest_verify(const char *dir, const struct sealkey *key);
/* SHA-256 of a file's bytes as hex; 0, or -1 when unreadable. */
int bundle_file_sha256(const char *path, char hex[SEAL_HEX_LEN]);

/* bundle-html.c: what every page shares. */
void html_put_text(FILE *f, const char *s);            /* s, HTML-escaped */
void html_put_time(FILE *f, const char *tz, time_t t); /* local time (tz), then UTC */
/* t as "2026-12-02 18:07:41 CET" in the zone tz and "2026-12-02T17:07:41Z"; false (both "-")
 * when t is unknown (not after 1970). */
bool bundle_format_time(const char *tz, time_t t, char local[64], char utc[64]);
/* A page's head (root: "" or "../", where player/ is) and its end, on an open stream. */
void html_head(FILE *f, const char *title, const char *root);
void html_tail(FILE *f);
/* Opens the bundle's page name and writes its head; NULL, said on stderr, when it cannot. */
FILE *html_open(struct bundle_out *o, const char *name, const char *title, const char *root);
/* Ends the page and closes it: 0, or -1 said on stderr. */
int html_close(struct bundle_out *o, FILE *f);
/* An RFC 3339 UTC audit time ("2026-12-02T17:07:41.048Z") as time_t; -1 when malformed. */
time_t bundle_parse_ts(const char *ts);
/* A string member of an event, "" when absent. */
const char *bundle_str(const json_t *ev, const char *key);

/* report-html.c: index.html. bundle-page.c: sessions/<name>.html per recording. */
int bundle_report_write(const struct bundle *b);
int bundle_page_write(const struct bundle *b, const struct bundle_recording *r);
/* report-model.c: the ticket and approvers of a recording: its header's, else its
 * access_decision's, else "-". */
const char *bundle_session_ticket(const struct bundle *b, const struct bundle_recording *r);
const char *bundle_session_approvers(
    const struct bundle *b, const struct bundle_recording *r, char *buf, size_t len);

/* bundle-zip.c: DIR.zip of the finished folder; 0, or -1 with the reason printed. */
int bundle_zip(const char *dir);

/* bundle-export.c: the player's files, in the order an export copies them. */
#define BUNDLE_PLAYER_FILES 3
/* The installed player package, else the source tree's (tools/CMakeLists.txt). */
const char *bundle_player_dir(void);
/* Opens its files: what an auditor's session does before its sandbox forbids it. 0, or -1 said
 * on stderr (none left open). */
int bundle_player_open(const char *player_dir, int fds[BUNDLE_PLAYER_FILES]);

/* bundle-export.c, bundle-verify.c: the two commands. */
int bundle_export(struct ctl_context *ctx, const struct bundle_spec *spec);
int bundle_verify(const char *dir, const char *keyfile);
/* A recording verdict a bundle accepts: intact, or a signed prefix (truncated, live). */
bool bundle_verdict_good(const struct verdict *v);

#endif
