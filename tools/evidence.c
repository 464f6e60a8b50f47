/* evidence.c: what the auditor's commands share: the verification key and verdicts, the
 * recordings a search selects, header values as termsafe text. Reads only. */
#include "tools/evidence.h"

#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "common/xmalloc.h"
#include "evidence/castread.h"
#include "evidence/pcapread.h"
#include "tools/termsafe.h"

struct sealkey *
evidence_load_key(struct ctl_context *ctx, const char *keyfile)
{
	const struct gw_config *cfg;
	struct sealkey *key;
	char *path;

	if (keyfile != NULL && ctx->auditor != NULL) {
		fprintf(stderr, "--key: the console verifies with the gateway's own key\n");
		return NULL;
	}
	if (keyfile != NULL)
		return sealkey_load_public(keyfile);
	/* Off the gateway there is no configuration: say what to give instead. */
	if (ctx->config == NULL && access(ctx->config_path, R_OK) != 0) {
		fprintf(stderr,
		    "gatewayctl: no verification key: give --key FILE (the gateway's "
		    "recording_key.pub) or -f CONFIG (%s: %s)\n",
		    ctx->config_path, strerror(errno));
		return NULL;
	}
	if ((cfg = ctl_config(ctx)) == NULL)
		return NULL;
	xasprintf(&path, "%s/recording_key.pub", cfg->state_dir);
	if (access(path, R_OK) != 0)
		path[strlen(path) - 4] = '\0';
	key = sealkey_load_public(path);
	free(path);
	return key;
}

struct sealkey *
evidence_load_key_if_any(struct ctl_context *ctx, const char *keyfile)
{
	if (keyfile == NULL && ctx->config == NULL && access(ctx->config_path, R_OK) != 0)
		return NULL;
	return evidence_load_key(ctx, keyfile);
}

void
evidence_verdict(
    const char *path, const struct sealkey *key, char *line, size_t len, const char **kind)
{
	struct verdict v;

	if (key == NULL) {
		snprintf(line, len, "unchecked (no key: give --key FILE or -f CONFIG)");
		*kind = "unchecked";
		return;
	}
	verify_recording(path, key, &v);
	verdict_format(&v, line, len);
	*kind = verdict_kind_name(v.kind);
}

char *
evidence_meta_text(const json_t *meta, const char *key)
{
	const char *s = json_string_value(json_object_get(meta, key)), *b64;
	unsigned char *raw;
	char *name, *text = NULL;
	size_t n;
	int len;

	/* The twin holds the exact bytes; the text beside it (audit.h) only a readable spelling. */
	xasprintf(&name, "%s_base64", key);
	b64 = json_string_value(json_object_get(meta, name));
	free(name);
	if (b64 == NULL || (n = strlen(b64)) % 4 != 0)
		return s != NULL ? termsafe_str(s) : NULL;
	raw = xmalloc(n / 4 * 3 + 1);
	if ((len = EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)n)) >= 0) {
		/* DecodeBlock counts the padding as bytes: they are not part of the value. */
		len -= (n > 0 && b64[n - 1] == '=') + (n > 1 && b64[n - 2] == '=');
		text = termsafe_format(raw, (size_t)len);
	}
	free(raw);
	return text;
}

const char *
evidence_recording_dir(struct ctl_context *ctx, const char *dir)
{
	const struct gw_config *cfg;

	if (dir != NULL && ctx->auditor != NULL) {
		fprintf(stderr, "--dir: the console reads the gateway's own recordings\n");
		return NULL;
	}
	if (dir != NULL)
		return dir;
	if ((cfg = ctl_config(ctx)) == NULL)
		return NULL;
	return cfg->recording_dir;
}

/* The lowest channel's recording of session id in dir, plain or compressed (castread_find
 * picks the plain one while both are there), or NULL. */
static char *
evidence_session_recording(const char *dir, const char *id)
{
	char *pattern, *stem = NULL, *path;
	unsigned long best = 0, n;
	glob_t g;
	size_t i;

	xasprintf(&pattern, "%s/%s.*.cast*", dir, id);
	if (glob(pattern, 0, NULL, &g) == 0) {
		for (i = 0; i < g.gl_pathc; i++) {
			const char *ch = g.gl_pathv[i] + strlen(dir) + 1 + strlen(id) + 1;
			size_t digits = strspn(ch, "0123456789");

			if (digits == 0 || castread_suffix_len(ch + digits) != strlen(ch + digits))
				continue;
			n = strtoul(ch, NULL, 10);
			if (stem == NULL || n < best) {
				free(stem);
				xasprintf(&stem, "%.*s", (int)(ch + digits - g.gl_pathv[i]),
				    g.gl_pathv[i]);
				best = n;
			}
		}
		globfree(&g);
	}
	free(pattern);
	path = stem != NULL ? castread_find(stem) : NULL;
	free(stem);
	if (path == NULL)
		errno = ENOENT;
	return path;
}

char *
evidence_recording_in_dir(const char *dir, const char *arg)
{
	size_t hex = strspn(arg, "0123456789abcdef"), digits;
	char *path, *stem;

	/* SESSION, SESSION.CHANNEL or SESSION.CHANNEL.cast[.zst]: a name in dir, so that nothing
	 * else (another directory, "..") can be named. Either spelling finds the recording in
	 * whichever form it is kept. */
	digits = arg[hex] == '.' ? strspn(arg + hex + 1, "0123456789") : 0;
	if (hex == 0 || hex > 64 ||
	    (arg[hex] != '\0' &&
	        (digits == 0 || digits > 10 ||
	            (arg[hex + 1 + digits] != '\0' &&
	                castread_suffix_len(arg + hex + 1 + digits) !=
	                    strlen(arg + hex + 1 + digits))))) {
		fputs("a recording is named by its session id or file name "
		      "(SESSION[.CHANNEL[.cast]]), not a path\n",
		    stderr);
		errno = EINVAL;
		return NULL;
	}
	if (arg[hex] == '\0')
		return evidence_session_recording(dir, arg);
	xasprintf(&stem, "%s/%.*s", dir, (int)(hex + 1 + digits), arg);
	path = castread_find(stem);
	free(stem);
	return path;
}

char *
evidence_recording_path(struct ctl_context *ctx, const char *arg)
{
	const char *dir, *vendor;
	struct castfile *cf;
	char *path;
	bool readable = false;

	if (ctx->auditor == NULL)
		return xstrdup(arg);
	if ((dir = evidence_recording_dir(ctx, NULL)) == NULL)
		return NULL;
	if ((path = evidence_recording_in_dir(dir, arg)) == NULL && errno != ENOENT)
		return NULL;
	/* The same answer whether it does not exist or is another vendor's. */
	if (path != NULL && access(path, R_OK) == 0 && (cf = castfile_open(path)) != NULL) {
		vendor = json_string_value(
		    json_object_get(json_object_get(castfile_header(cf), "gatewayd"), "vendor"));
		readable = vendor != NULL && auditor_may_read(ctx->auditor, vendor);
		castfile_close(cf);
	}
	if (!readable) {
		fprintf(stderr, "no recording %s in your scope\n", arg);
		free(path);
		return NULL;
	}
	return path;
}

/* YYYY-MM-DD, optionally with " HH:MM[:SS]" or "THH:MM[:SS]": local time, or UTC with a
 * trailing Z (an auditor in the plant and one reading UTC logs both type what they see). */
static int
evidence_parse_time(const char *arg, time_t *when)
{
	struct tm tm = { 0 };
	const char *end;

	if ((end = strptime(arg, "%Y-%m-%d", &tm)) == NULL)
		return -1;
	if ((*end == 'T' || *end == ' ') && end[1] != 'Z' && end[1] != '\0') {
		const char *hm = strptime(end + 1, "%H:%M", &tm);

		if (hm == NULL)
			return -1;
		end = *hm == ':' ? strptime(hm + 1, "%S", &tm) : hm;
		if (end == NULL)
			return -1;
	}
	if (strcmp(end, "Z") == 0) {
		*when = timegm(&tm);
		return 0;
	}
	if (*end != '\0')
		return -1;
	tm.tm_isdst = -1;
	*when = mktime(&tm);
	return 0;
}

/* N followed by s, m, h or d: that long before now. */
static int
evidence_parse_since(const char *arg, time_t *when)
{
	static const char units[] = "smhd";
	static const long seconds[] = { 1, 60, 3600, 86400 };
	const char *unit;
	char *end;
	long n;

	errno = 0;
	n = strtol(arg, &end, 10);
	if (errno != 0 || end == arg || n < 0 || end[0] == '\0' || end[1] != '\0' ||
	    (unit = strchr(units, end[0])) == NULL ||
	    n > 100L * 366 * 86400 / seconds[unit - units])
		return -1;
	*when = time(NULL) - (time_t)(n * seconds[unit - units]);
	return 0;
}

int
evidence_filter_option(struct recording_filter *f, int ch, const char *arg)
{
	switch (ch) {
	case 'p':
		f->person = arg;
		return 0;
	case 'v':
		f->vendor = arg;
		return 0;
	case 't':
		f->target = arg;
		return 0;
	case 'S':
		return evidence_parse_since(arg, &f->from);
	}
	return evidence_parse_time(arg, ch == 'F' ? &f->from : &f->to);
}

static bool
filter_string(const json_t *meta, const char *key, const char *want)
{
	const char *have = json_string_value(json_object_get(meta, key));

	return want == NULL || (have != NULL && strcmp(have, want) == 0);
}

static int
name_is_recording(const struct dirent *d)
{
	size_t n = strspn(d->d_name, "0123456789abcdefABCDEF");

	return n > 0 && d->d_name[n] == '.' &&
	    (castread_suffix_len(d->d_name) > 0 || pcapread_name_is_pcapng(d->d_name));
}

/* A tunnel's header, as the lists show a channel's (struct recording_filter); its start in
 * *started. NULL when path is not a gatewayd pcapng recording. */
static json_t *
tunnel_meta(const char *path, json_int_t *started)
{
	json_t *header, *end, *meta;
	const char *dest, *s;
	struct tm tm = { 0 };
	char *command;

	if (pcapread_summary(path, &header, &end) != 0)
		return NULL;
	meta = json_deep_copy(json_object_get(header, "gatewayd"));
	json_decref(header);
	/* Its end block's counts (none while live or cut off), so that no lister reads it again. */
	json_object_set_new(meta, "client_bytes", json_copy(json_object_get(end, "client_bytes")));
	json_object_set_new(meta, "server_bytes", json_copy(json_object_get(end, "server_bytes")));
	json_decref(end);
	dest = json_string_value(json_object_get(meta, "dest"));
	xasprintf(&command, "forward %s", dest != NULL ? dest : "?");
	json_object_set_new(meta, "kind", json_string("forward"));
	json_object_set_new(meta, "command", json_string(command));
	free(command);
	if ((s = json_string_value(json_object_get(meta, "ticket"))) != NULL)
		json_object_set_new(meta, "ticket_id", json_string(s));
	s = json_string_value(json_object_get(meta, "started"));
	*started = s != NULL && strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) != NULL ? timegm(&tm) : 0;
	json_object_set_new(meta, "started_at", json_integer(*started));
	return meta;
}

int
evidence_foreach_recording(
    const char *dir, const struct recording_filter *f, recording_cb cb, void *arg)
{
	struct dirent **names;
	struct castfile *cf;
	const json_t *meta;
	json_t *own; /* a tunnel's meta, made here */
	json_int_t started = 0;
	char *path;
	int i, n;

	if ((n = scandir(dir, &names, name_is_recording, alphasort)) < 0) {
		fprintf(stderr, "%s: %s\n", dir, strerror(errno));
		return -1;
	}
	for (i = 0; i < n; i++) {
		/* The plain twin of a compression a crash cut off stands for both. */
		if (castread_is_shadowed(dir, names[i]->d_name)) {
			free(names[i]);
			continue;
		}
		xasprintf(&path, "%s/%s", dir, names[i]->d_name);
		cf = NULL;
		own = NULL;
		if (pcapread_name_is_pcapng(names[i]->d_name))
			meta = own = f->tunnels ? tunnel_meta(path, &started) : NULL;
		else if ((cf = castfile_open(path)) != NULL) {
			meta = json_object_get(castfile_header(cf), "gatewayd");
			started =
			    json_integer_value(json_object_get(castfile_header(cf), "timestamp"));
		}
		free(names[i]);
		if (cf == NULL && own == NULL) {
			free(path);
			continue;
		}
		if ((f->scope == NULL ||
		        auditor_may_read(
		            f->scope, json_string_value(json_object_get(meta, "vendor")) ?: "")) &&
		    filter_string(meta, "person", f->person) &&
		    filter_string(meta, "vendor", f->vendor) &&
		    filter_string(meta, "target", f->target) &&
		    (f->from == 0 || started >= f->from) && (f->to == 0 || started < f->to))
			cb(path, meta, arg);
		castfile_close(cf);
		json_decref(own);
		free(path);
	}
	free(names);
	return 0;
}

/* Bytes as a JSON string a player can show: invalid UTF-8 becomes "?" (the exact bytes are
 * in the raw recording). */
static json_t *
evidence_player_text(const unsigned char *data, size_t len)
{
	json_t *s = json_stringn((const char *)data, len);
	char *copy;
	size_t i;

	if (s != NULL)
		return s;
	copy = xmalloc(len);
	for (i = 0; i < len; i++)
		copy[i] = data[i] < 0x80 ? (char)data[i] : '?';
	s = json_stringn(copy, len);
	free(copy);
	return s;
}

int
evidence_player_cast(const char *path, evidence_cast_fn emit, void *arg)
{
	struct castfile *cf = castfile_open(path);
	const json_t *h;
	struct cast_event ev;
	int n = 0;

	if (cf == NULL)
		return -1;
	h = castfile_header(cf);
	emit(arg,
	    json_pack("{s:O, s:O, s:O, s:i}", "width", json_object_get(h, "width"), "height",
	        json_object_get(h, "height"), "timestamp", json_object_get(h, "timestamp"),
	        "version", 2));
	while (castfile_next(cf, &ev) > 0) {
		if (strcmp(ev.code, "o") == 0 || strcmp(ev.code, "e") == 0) {
			emit(arg,
			    json_pack(
			        "[f, s, o]", ev.time, "o", evidence_player_text(ev.data, ev.len)));
			n++;
		} else if (strcmp(ev.code, "r") == 0)
			emit(arg,
			    json_pack(
			        "[f, s, o]", ev.time, "r", evidence_player_text(ev.data, ev.len)));
	}
	castfile_close(cf);
	return n;
}
