/* config.c: reads gatewayd.conf (libconfig) into a struct gw_config snapshot.
 * Every problem is reported as FILE:LINE; a config with any problem is never used. */
#include "policy/policy.h"

#include <errno.h>
#include <grp.h>
#include <libconfig.h>
#include <openssl/sha.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/xmalloc.h"

#define CONFIG_MAX_ITEMS 100000 /* bound on any list in the file */
#define CONFIG_FILE_MAX  (16 << 20)

struct loader {
	const char *path;
	bool check_files; /* the files the configuration names must be readable here */
	char *errors;
	size_t nerrors;
};

static void __attribute__((format(printf, 3, 4)))
loader_error(struct loader *ld, const config_setting_t *s, const char *fmt, ...)
{
	char msg[512], *line, *joined;
	const char *file = ld->path;
	int lineno = 0;
	va_list ap;

	if (s != NULL) {
		lineno = config_setting_source_line(s);
		if (config_setting_source_file(s) != NULL)
			file = config_setting_source_file(s);
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	xasprintf(&line, "%s:%d: %s\n", file, lineno, msg);
	if (ld->errors == NULL) {
		ld->errors = line;
	} else {
		xasprintf(&joined, "%s%s", ld->errors, line);
		free(ld->errors);
		free(line);
		ld->errors = joined;
	}
	ld->nerrors++;
}

/* Unknown keys are errors: a typo must not silently widen or narrow access. */
static void
loader_check_keys(struct loader *ld, const config_setting_t *group, const char *const *known)
{
	int i, n = config_setting_length(group);

	for (i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(group, i);
		const char *name = config_setting_name(s);
		const char *const *k;

		if (name == NULL)
			continue;
		for (k = known; *k != NULL; k++)
			if (strcmp(*k, name) == 0)
				break;
		if (*k == NULL)
			loader_error(ld, s, "unknown setting \"%s\"", name);
	}
}

static char *
loader_string(struct loader *ld, const config_setting_t *group, const char *key, bool required)
{
	const config_setting_t *s = config_setting_get_member(group, key);
	const char *v;

	if (s == NULL) {
		if (required)
			loader_error(ld, group, "missing required setting \"%s\"", key);
		return NULL;
	}
	if (config_setting_type(s) != CONFIG_TYPE_STRING ||
	    (v = config_setting_get_string(s)) == NULL) {
		loader_error(ld, s, "\"%s\" must be a string", key);
		return NULL;
	}
	if (*v == '\0') {
		loader_error(ld, s, "\"%s\" must not be empty", key);
		return NULL;
	}
	return xstrdup(v);
}

/* An SSH algorithm list as libssh takes it: names joined by commas, nothing else (no
 * spaces, no OpenSSH "+"/"-"/"^" edits, which libssh 0.10 would not understand). */
static char *
loader_algorithms(struct loader *ld, const config_setting_t *group, const char *key)
{
	char *v = loader_string(ld, group, key, false);
	size_t i, n;

	if (v == NULL)
		return NULL;
	n = strlen(v);
	/* Each name starts with a letter or digit; '-', '.', '@' only inside it. */
	for (i = 0; i < n; i++) {
		bool alnum = (v[i] >= 'a' && v[i] <= 'z') || (v[i] >= '0' && v[i] <= '9');
		bool first = i == 0 || v[i - 1] == ',';

		if (!alnum && (first || (v[i] != '-' && v[i] != '.' && v[i] != '@' && v[i] != ',')))
			break;
	}
	if (n == 0 || n > 1024 || i < n || v[n - 1] == ',') {
		loader_error(ld, config_setting_get_member(group, key),
		    "\"%s\" must be algorithm names separated by commas, e.g. \"%s\"", key,
		    "curve25519-sha256,diffie-hellman-group16-sha512");
		free(v);
		return NULL;
	}
	return v;
}

static int
loader_int(
    struct loader *ld, const config_setting_t *group, const char *key, int def, int min, int max)
{
	const config_setting_t *s = config_setting_get_member(group, key);
	long long v;

	if (s == NULL)
		return def;
	if (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64) {
		loader_error(ld, s, "\"%s\" must be an integer", key);
		return def;
	}
	v = config_setting_get_int64(s);
	if (v < min || v > max) {
		loader_error(ld, s, "\"%s\" must be between %d and %d", key, min, max);
		return def;
	}
	return (int)v;
}

/* A size in bytes, 0 or more (int or int64, e.g. 1073741824 or 8589934592L). */
static long long
loader_bytes(struct loader *ld, const config_setting_t *group, const char *key, long long def)
{
	const config_setting_t *s = config_setting_get_member(group, key);

	if (s == NULL)
		return def;
	if ((config_setting_type(s) != CONFIG_TYPE_INT &&
	        config_setting_type(s) != CONFIG_TYPE_INT64) ||
	    config_setting_get_int64(s) < 0) {
		loader_error(ld, s, "\"%s\" must be a number of bytes, 0 or more", key);
		return def;
	}
	return config_setting_get_int64(s);
}

static bool
loader_bool(struct loader *ld, const config_setting_t *group, const char *key, bool def)
{
	const config_setting_t *s = config_setting_get_member(group, key);

	if (s == NULL)
		return def;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		loader_error(ld, s, "\"%s\" must be true or false", key);
		return def;
	}
	return config_setting_get_bool(s);
}

/* A list or array of strings; NULL with *n == 0 when absent. */
static char **
loader_strings(struct loader *ld, const config_setting_t *group, const char *key, size_t *n)
{
	const config_setting_t *s = config_setting_get_member(group, key);
	char **out;
	int i, len;

	*n = 0;
	if (s == NULL)
		return NULL;
	if (!config_setting_is_aggregate(s) || config_setting_is_group(s)) {
		loader_error(ld, s, "\"%s\" must be a list of strings", key);
		return NULL;
	}
	len = config_setting_length(s);
	if (len > CONFIG_MAX_ITEMS) {
		loader_error(ld, s, "\"%s\" has more than %d entries", key, CONFIG_MAX_ITEMS);
		return NULL;
	}
	out = xcalloc((size_t)len + 1, sizeof(*out));
	for (i = 0; i < len; i++) {
		const config_setting_t *e = config_setting_get_elem(s, i);
		const char *v = config_setting_get_string(e);

		if (v == NULL || *v == '\0') {
			loader_error(ld, e, "\"%s\" entries must be non-empty strings", key);
			continue;
		}
		out[(*n)++] = xstrdup(v);
	}
	return out;
}

static void
strings_free(char **v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* "YYYY-MM-DDTHH:MM:SSZ" or "YYYY-MM-DD" (00:00 UTC). */
static int
loader_time(struct loader *ld, const config_setting_t *group, const char *key, time_t *out)
{
	const config_setting_t *s = config_setting_get_member(group, key);
	const char *v;

	*out = 0;
	if (s == NULL)
		return 0;
	if ((v = config_setting_get_string(s)) != NULL && time_parse_utc(v, out) == 0)
		return 0;
	loader_error(ld, s, "\"%s\" must be a UTC time like 2027-12-31T23:59:59Z", key);
	return -1;
}

static const config_setting_t *
loader_list(struct loader *ld, const config_setting_t *root, const char *key, int *n)
{
	const config_setting_t *s = config_setting_get_member(root, key);

	*n = 0;
	if (s == NULL)
		return NULL;
	if (!config_setting_is_list(s)) {
		loader_error(ld, s, "\"%s\" must be a list ( { ... }, ... )", key);
		return NULL;
	}
	*n = config_setting_length(s);
	if (*n > CONFIG_MAX_ITEMS) {
		loader_error(ld, s, "\"%s\" has more than %d entries", key, CONFIG_MAX_ITEMS);
		*n = 0;
	}
	return s;
}

static const config_setting_t *
loader_group(struct loader *ld, const config_setting_t *list, int i)
{
	const config_setting_t *g = config_setting_get_elem(list, i);

	if (!config_setting_is_group(g)) {
		loader_error(
		    ld, g, "entries of \"%s\" must be groups { ... }", config_setting_name(list));
		return NULL;
	}
	return g;
}

static void
loader_check_readable(
    struct loader *ld, const config_setting_t *s, const char *what, const char *path, bool secret)
{
	struct stat st;
	FILE *f;

	if (!ld->check_files)
		return;
	if ((f = fopen(path, "r")) == NULL) {
		loader_error(ld, s, "%s \"%s\" cannot be read: %s", what, path, strerror(errno));
		return;
	}
	if (secret && fstat(fileno(f), &st) == 0 && (st.st_mode & 077) != 0)
		loader_error(ld, s, "%s \"%s\" must be readable by the gateway only (mode %03o)",
		    what, path, (unsigned)(st.st_mode & 0777));
	fclose(f);
}

/* "HH:MM" as minutes after midnight; "24:00" only where allow_24 (a window's end). */
static int
loader_clock(struct loader *ld, const config_setting_t *g, const char *key, bool allow_24)
{
	const config_setting_t *s = config_setting_get_member(g, key);
	const char *v;
	int h, m;

	if (s == NULL) {
		loader_error(ld, g, "missing required setting \"%s\"", key);
		return -1;
	}
	v = config_setting_get_string(s);
	if (v == NULL || strlen(v) != 5 || v[2] != ':' || sscanf(v, "%2d:%2d", &h, &m) != 2 ||
	    v[0] < '0' || v[0] > '9' || v[3] < '0' || v[3] > '9' || m < 0 || m > 59 || h < 0 ||
	    h > 24 || (h == 24 && (m != 0 || !allow_24))) {
		loader_error(ld, s, "\"%s\" must be a time of day HH:MM (00:00 to %s)", key,
		    allow_24 ? "24:00" : "23:59");
		return -1;
	}
	return h * 60 + m;
}

/* "mon", or a range "mon-fri" (may wrap: "fri-mon"), as tm_wday bits. */
static unsigned
loader_days(struct loader *ld, const config_setting_t *g)
{
	static const char *const names[] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat" };
	const config_setting_t *s = config_setting_get_member(g, "days");
	unsigned bits = 0;
	size_t i, n;
	char **days = loader_strings(ld, g, "days", &n);

	for (i = 0; i < n; i++) {
		int a = -1, b = -1, k;

		for (k = 0; k < 7; k++) {
			if (strncmp(days[i], names[k], 3) == 0)
				a = k;
			if (strlen(days[i]) == 7 && days[i][3] == '-' &&
			    strcmp(days[i] + 4, names[k]) == 0)
				b = k;
		}
		if (a == -1 || (strlen(days[i]) != 3 && b == -1)) {
			loader_error(ld, s,
			    "bad day \"%s\": use mon, tue, ... sun or a range like mon-fri",
			    days[i]);
			continue;
		}
		if (b == -1)
			b = a;
		for (k = a;; k = (k + 1) % 7) {
			bits |= 1u << k;
			if (k == b)
				break;
		}
	}
	strings_free(days, n);
	if (n == 0)
		loader_error(ld, s ? s : g, "\"days\" needs at least one day");
	return bits;
}

static void
loader_window(struct loader *ld, const config_setting_t *g, struct gw_window *w)
{
	static const char *const known[] = { "days", "start", "end", "tz", "from", "to", NULL };

	loader_check_keys(ld, g, known);
	if (config_setting_get_member(g, "from") != NULL ||
	    config_setting_get_member(g, "to") != NULL) {
		if (config_setting_get_member(g, "days") != NULL ||
		    config_setting_get_member(g, "start") != NULL ||
		    config_setting_get_member(g, "end") != NULL ||
		    config_setting_get_member(g, "tz") != NULL)
			loader_error(ld, g,
			    "a window is either recurring (days, start, end, tz) or "
			    "absolute (from, to), not both");
		if (config_setting_get_member(g, "from") == NULL ||
		    config_setting_get_member(g, "to") == NULL)
			loader_error(ld, g, "an absolute window needs both \"from\" and \"to\"");
		loader_time(ld, g, "from", &w->from);
		loader_time(ld, g, "to", &w->to);
		if (w->to <= w->from)
			loader_error(ld, g, "window \"to\" must be later than \"from\"");
		return;
	}
	w->days = loader_days(ld, g);
	w->start = loader_clock(ld, g, "start", false);
	w->end = loader_clock(ld, g, "end", true);
	if (w->start >= 0 && w->start == w->end)
		loader_error(
		    ld, g, "window start and end are equal; use 00:00 to 24:00 for a whole day");
	if ((w->tz = loader_string(ld, g, "tz", true)) != NULL && !window_tz_is_valid(w->tz))
		loader_error(ld, config_setting_get_member(g, "tz"),
		    "\"%s\" is not a time zone of the system tzdata (e.g. Europe/Berlin)", w->tz);
	if (w->tz == NULL)
		w->tz = xstrdup("UTC");
}

static void
loader_windows(struct loader *ld, const config_setting_t *g, struct gw_window_set *set)
{
	const config_setting_t *list, *wg;
	int i, n;

	list = loader_list(ld, g, "windows", &n);
	set->line = config_setting_source_line(list != NULL ? list : g);
	set->windows = xcalloc((size_t)n, sizeof(*set->windows));
	for (i = 0; i < n; i++)
		if ((wg = loader_group(ld, list, i)) != NULL)
			loader_window(ld, wg, &set->windows[set->n++]);
	if (list != NULL && set->n == 0)
		loader_error(ld, list, "\"windows\" is empty; leave it out instead");
}

static void
windows_free(struct gw_window_set *set)
{
	size_t i;

	for (i = 0; i < set->n; i++)
		free(set->windows[i].tz);
	free(set->windows);
}

/* auth_methods = "publickey,keyboard-interactive"; nchains stays 0 when absent. */
static void
loader_auth_methods(struct loader *ld, const config_setting_t *g, struct gw_auth_methods *m)
{
	const config_setting_t *s = config_setting_get_member(g, "auth_methods");
	char *text, why[128];

	memset(m, 0, sizeof(*m));
	if ((text = loader_string(ld, g, "auth_methods", false)) == NULL)
		return;
	if (auth_methods_parse(text, m, why, sizeof(why)) != 0)
		loader_error(ld, s, "bad auth_methods \"%s\": %s", text, why);
	free(text);
}

/* cert_authorities = [ "ssh-ed25519 AAAA..." ]: CA keys trusted for the vendor's persons. */
static void
loader_cert_authorities(struct loader *ld, const config_setting_t *g, struct gw_vendor *v)
{
	const config_setting_t *s = config_setting_get_member(g, "cert_authorities");
	size_t i, n;
	char **lines = loader_strings(ld, g, "cert_authorities", &n);

	v->cert_authorities = xcalloc(n, sizeof(*v->cert_authorities));
	for (i = 0; i < n; i++) {
		struct gw_cert_authority *ca = &v->cert_authorities[v->ncert_authorities++];

		ca->line = lines[i];
		if (sshkey_blob_from_line(ca->line, &ca->key_blob, &ca->key_blob_len) != 0)
			loader_error(ld, s,
			    "cert_authorities entry %zu is not an OpenSSH ed25519, ecdsa "
			    "or rsa (>= 2048 bits) public key line",
			    i + 1);
	}
	free(lines);
}

/* Login keys: "type base64 [comment]" lines libssh can read later. */
static void
loader_key_lines(
    struct loader *ld, const config_setting_t *s, char *const *keys, size_t n, const char *owner)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strncmp(keys[i], "ssh-", 4) != 0 && strncmp(keys[i], "ecdsa-", 6) != 0 &&
		    strncmp(keys[i], "sk-", 3) != 0)
			loader_error(ld, s, "key %zu of %s is not an OpenSSH public key line",
			    i + 1, owner ? owner : "person");
}

static void
loader_person(
    struct loader *ld, const config_setting_t *g, struct gw_vendor *v, struct gw_person *p)
{
	static const char *const known[] = { "id", "name", "keys", "windows", "auth_methods",
		NULL };
	size_t prefix = strlen(v->id);

	loader_check_keys(ld, g, known);
	p->vendor = v;
	p->id = loader_string(ld, g, "id", true);
	p->name = loader_string(ld, g, "name", false);
	p->keys = loader_strings(ld, g, "keys", &p->nkeys);
	loader_windows(ld, g, &p->windows);
	loader_auth_methods(ld, g, &p->auth_methods);
	if (p->id != NULL &&
	    (!name_is_valid(p->id) || strncmp(p->id, v->id, prefix) != 0 || p->id[prefix] != '.' ||
	        p->id[prefix + 1] == '\0'))
		loader_error(ld, g,
		    "person id \"%s\" must be \"%s.<name>\" of letters, digits, '.', '_' and '-'",
		    p->id, v->id);
	loader_key_lines(ld, config_setting_get_member(g, "keys"), p->keys, p->nkeys, p->id);
}

static void
loader_vendor(struct loader *ld, const config_setting_t *g, struct gw_vendor *v)
{
	static const char *const known[] = { "id", "name", "enabled", "expires", "persons",
		"windows", "idle_timeout", "auth_methods", "cert_authorities", "revoked_certs",
		"max_sessions", "max_recording_bytes", "max_channels", NULL };
	const config_setting_t *list, *pg;
	int i, n;

	loader_check_keys(ld, g, known);
	v->id = loader_string(ld, g, "id", true);
	v->name = loader_string(ld, g, "name", false);
	v->enabled = loader_bool(ld, g, "enabled", true);
	v->idle_timeout = loader_int(ld, g, "idle_timeout", -1, 0, 31 * 86400);
	v->max_sessions = loader_int(ld, g, "max_sessions", 0, 0, 1000000);
	v->max_recording_bytes = loader_bytes(ld, g, "max_recording_bytes", -1);
	v->max_channels = loader_int(ld, g, "max_channels", 0, 1, GW_CHANNELS_MAX);
	loader_time(ld, g, "expires", &v->expires);
	loader_windows(ld, g, &v->windows);
	loader_auth_methods(ld, g, &v->auth_methods);
	loader_cert_authorities(ld, g, v);
	if ((v->revoked_certs = loader_string(ld, g, "revoked_certs", false)) != NULL)
		loader_check_readable(ld, config_setting_get_member(g, "revoked_certs"),
		    "revoked_certs", v->revoked_certs, false);
	if (v->id == NULL) {
		v->id = xstrdup("");
		return;
	}
	if (!name_is_valid(v->id) || strchr(v->id, '.') != NULL)
		loader_error(ld, g, "vendor id \"%s\" must be letters, digits, '_' and '-'", v->id);
	else if (strcmp(v->id, "approver") == 0 || strcmp(v->id, "auditor") == 0)
		loader_error(ld, g,
		    "vendor id \"%s\" is reserved: approvers and auditors log in as %s.NAME", v->id,
		    v->id);
	list = loader_list(ld, g, "persons", &n);
	v->persons = xcalloc((size_t)n, sizeof(*v->persons));
	for (i = 0; i < n; i++) {
		if ((pg = loader_group(ld, list, i)) == NULL)
			continue;
		loader_person(ld, pg, v, &v->persons[v->npersons++]);
	}
}

static void
loader_target(struct loader *ld, const config_setting_t *g, struct gw_target *t, int def_timeout)
{
	static const char *const known[] = { "name", "address", "ssh", "port",
		"host_key_fingerprints", "user", "key_file", "password_file", "hostkey_algorithms",
		"kex_algorithms", "ciphers", "connect_timeout", "approvals", NULL };
	/* What only an SSH target has: on a device without SSH it would read as used. */
	static const char *const ssh_only[] = { "port", "host_key_fingerprints", "user", "key_file",
		"password_file", "hostkey_algorithms", "kex_algorithms", "ciphers", NULL };
	const config_setting_t *fps, *k;
	size_t i;

	loader_check_keys(ld, g, known);
	t->name = loader_string(ld, g, "name", true);
	t->address = loader_string(ld, g, "address", true);
	t->ssh = loader_bool(ld, g, "ssh", true);
	t->connect_timeout = loader_int(ld, g, "connect_timeout", def_timeout, 1, 600);
	t->approvals = (unsigned)loader_int(ld, g, "approvals", 1, 1, GW_APPROVALS_MAX);
	if (t->name != NULL && !name_is_valid(t->name))
		loader_error(
		    ld, g, "target name \"%s\" must be letters, digits, '.', '_' and '-'", t->name);
	if (!t->ssh) {
		for (i = 0; ssh_only[i] != NULL; i++)
			if ((k = config_setting_get_member(g, ssh_only[i])) != NULL)
				loader_error(ld, k,
				    "target %s has ssh = false: \"%s\" applies only to an SSH "
				    "target",
				    t->name ? t->name : "?", ssh_only[i]);
		return;
	}
	t->port = loader_int(ld, g, "port", 22, 1, 65535);
	t->user = loader_string(ld, g, "user", true);
	t->key_file = loader_string(ld, g, "key_file", false);
	t->password_file = loader_string(ld, g, "password_file", false);
	t->hostkey_algorithms = loader_algorithms(ld, g, "hostkey_algorithms");
	t->kex_algorithms = loader_algorithms(ld, g, "kex_algorithms");
	t->ciphers = loader_algorithms(ld, g, "ciphers");
	t->fingerprints = loader_strings(ld, g, "host_key_fingerprints", &t->nfingerprints);
	fps = config_setting_get_member(g, "host_key_fingerprints");
	if (t->nfingerprints == 0)
		loader_error(ld, fps ? fps : g, "target %s has no pinned host_key_fingerprints",
		    t->name ? t->name : "?");
	for (i = 0; i < t->nfingerprints; i++)
		if (!fingerprint_is_valid(t->fingerprints[i]))
			loader_error(ld, fps,
			    "bad fingerprint \"%s\": expected SHA256:<43 base64 characters>",
			    t->fingerprints[i]);
	if ((t->key_file == NULL) == (t->password_file == NULL))
		loader_error(ld, g, "target %s needs exactly one of key_file and password_file",
		    t->name ? t->name : "?");
	if (t->key_file != NULL)
		loader_check_readable(
		    ld, config_setting_get_member(g, "key_file"), "key_file", t->key_file, true);
	if (t->password_file != NULL)
		loader_check_readable(ld, config_setting_get_member(g, "password_file"),
		    "password_file", t->password_file, true);
}

static unsigned
loader_channels(struct loader *ld, const config_setting_t *g)
{
	static const struct {
		const char *name;
		unsigned bit;
	} kinds[] = {
		{ "shell", GW_CHAN_SHELL },
		{ "exec", GW_CHAN_EXEC },
		{ "upload", GW_CHAN_UPLOAD },
		{ "download", GW_CHAN_DOWNLOAD },
		/* Known kinds the gateway cannot relay (bit 0): a grant of one would read as
		 * allowed while every request is refused, so its owner is told at load time. */
		{ "port_forwarding", 0 },
		{ "agent_forwarding", 0 },
		{ "x11_forwarding", 0 },
	};
	const config_setting_t *s = config_setting_get_member(g, "allow");
	unsigned bits = 0;
	size_t i, k, n;
	char **names;

	if (s == NULL)
		return GW_CHAN_DEFAULT;
	names = loader_strings(ld, g, "allow", &n);
	for (i = 0; i < n; i++) {
		for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
			if (strcmp(names[i], kinds[k].name) == 0)
				break;
		if (k == sizeof(kinds) / sizeof(kinds[0]))
			loader_error(ld, s, "unknown channel kind \"%s\" in allow", names[i]);
		else if (kinds[k].bit == 0 && strcmp(names[i], "port_forwarding") == 0)
			loader_error(ld, s,
			    "\"port_forwarding\" is not granted in allow: list each destination in "
			    "forward = [ \"TARGET:PORT\" ]");
		else if (kinds[k].bit == 0)
			loader_error(ld, s,
			    "\"%s\" cannot be granted: gatewayd refuses agent and X11 forwarding "
			    "to every vendor",
			    names[i]);
		else
			bits |= kinds[k].bit;
	}
	strings_free(names, n);
	return bits;
}

/* forward = [ "plc-07:502", ... ]: each a target of this grant and a TCP port. */
static void
loader_forwards(struct loader *ld, const config_setting_t *g, struct gw_grant *gr)
{
	const config_setting_t *list = config_setting_get_member(g, "forward");
	char **names, *colon, *end;
	size_t i, j, n;
	long port;

	names = loader_strings(ld, g, "forward", &n);
	gr->forwards = n > 0 ? xcalloc(n, sizeof(*gr->forwards)) : NULL;
	for (i = 0; i < n; i++) {
		colon = strrchr(names[i], ':');
		port = colon != NULL && colon[1] >= '0' && colon[1] <= '9'
		    ? strtol(colon + 1, &end, 10)
		    : 0;
		if (colon == NULL || *end != '\0' || port < 1 || port > 65535 ||
		    colon == names[i]) {
			loader_error(ld, list,
			    "forward \"%s\" must be TARGET:PORT (a target of this grant, port "
			    "1-65535)",
			    names[i]);
			continue;
		}
		*colon = '\0';
		for (j = 0; j < gr->ntargets && strcmp(gr->targets[j], names[i]) != 0; j++)
			;
		if (j == gr->ntargets) {
			loader_error(ld, list,
			    "forward \"%s:%ld\" names \"%s\", which is not among this grant's "
			    "targets",
			    names[i], port, names[i]);
			continue;
		}
		gr->forwards[gr->nforwards].target = xstrdup(names[i]);
		gr->forwards[gr->nforwards++].port = (int)port;
	}
	strings_free(names, n);
}

static void
loader_grant(
    struct loader *ld, const config_setting_t *g, struct gw_config *cfg, struct gw_grant *gr)
{
	static const char *const known[] = { "vendor", "targets", "allow", "windows",
		"transfer_paths", "max_file_size", "approvals", "forward", NULL };
	const config_setting_t *mfs;
	size_t i;

	loader_check_keys(ld, g, known);
	gr->vendor = loader_string(ld, g, "vendor", true);
	gr->targets = loader_strings(ld, g, "targets", &gr->ntargets);
	gr->channels = loader_channels(ld, g);
	gr->approvals = (unsigned)loader_int(ld, g, "approvals", 1, 1, GW_APPROVALS_MAX);
	gr->transfer_paths = loader_strings(ld, g, "transfer_paths", &gr->ntransfer_paths);
	for (i = 0; i < gr->ntransfer_paths; i++)
		if (gr->transfer_paths[i][0] != '/' || strstr(gr->transfer_paths[i], "..") != NULL)
			loader_error(ld, config_setting_get_member(g, "transfer_paths"),
			    "transfer path \"%s\" must be absolute, without \"..\"",
			    gr->transfer_paths[i]);
	if ((mfs = config_setting_get_member(g, "max_file_size")) != NULL) {
		if ((config_setting_type(mfs) != CONFIG_TYPE_INT &&
		        config_setting_type(mfs) != CONFIG_TYPE_INT64) ||
		    config_setting_get_int64(mfs) < 0)
			loader_error(
			    ld, mfs, "\"max_file_size\" must be a number of bytes (0: unlimited)");
		else
			gr->max_file_size = config_setting_get_int64(mfs);
	}
	loader_windows(ld, g, &gr->windows);
	if (gr->vendor != NULL && config_find_vendor(cfg, gr->vendor) == NULL)
		loader_error(ld, g, "grant names unknown vendor \"%s\"", gr->vendor);
	if (gr->ntargets == 0)
		loader_error(ld, g, "grant has no targets");
	for (i = 0; i < gr->ntargets; i++)
		if (config_find_target(cfg, gr->targets[i]) == NULL)
			loader_error(ld, config_setting_get_member(g, "targets"),
			    "grant names unknown target \"%s\"", gr->targets[i]);
	loader_forwards(ld, g, gr);
}

static void
loader_listen(struct loader *ld, const config_setting_t *root, struct gw_config *cfg)
{
	static const char *const known[] = { "address", "port", NULL };
	const config_setting_t *list, *g;
	int i, n;

	list = loader_list(ld, root, "listen", &n);
	if (list == NULL || n == 0) {
		loader_error(
		    ld, list ? list : root, "\"listen\" needs at least one { address; port; }");
		return;
	}
	cfg->listen = xcalloc((size_t)n, sizeof(*cfg->listen));
	for (i = 0; i < n; i++) {
		if ((g = loader_group(ld, list, i)) == NULL)
			continue;
		loader_check_keys(ld, g, known);
		cfg->listen[cfg->nlisten].address = loader_string(ld, g, "address", true);
		cfg->listen[cfg->nlisten].port = loader_int(ld, g, "port", 22, 1, 65535);
		cfg->nlisten++;
	}
}

static void
loader_check_duplicates(struct loader *ld, const config_setting_t *root, struct gw_config *cfg)
{
	size_t i, j, k, l;

	for (i = 0; i < cfg->nvendors; i++)
		for (j = i + 1; j < cfg->nvendors; j++)
			if (strcmp(cfg->vendors[i].id, cfg->vendors[j].id) == 0)
				loader_error(ld, config_setting_get_member(root, "vendors"),
				    "duplicate vendor \"%s\"", cfg->vendors[i].id);
	for (i = 0; i < cfg->ntargets; i++)
		for (j = i + 1; j < cfg->ntargets; j++)
			if (cfg->targets[i].name && cfg->targets[j].name &&
			    strcmp(cfg->targets[i].name, cfg->targets[j].name) == 0)
				loader_error(ld, config_setting_get_member(root, "targets"),
				    "duplicate target \"%s\"", cfg->targets[i].name);
	for (i = 0; i < cfg->nvendors; i++)
		for (j = 0; j < cfg->vendors[i].npersons; j++)
			for (k = i; k < cfg->nvendors; k++)
				for (l = (k == i ? j + 1 : 0); l < cfg->vendors[k].npersons; l++) {
					const char *a = cfg->vendors[i].persons[j].id;
					const char *b = cfg->vendors[k].persons[l].id;

					if (a && b && strcmp(a, b) == 0)
						loader_error(ld,
						    config_setting_get_member(root, "vendors"),
						    "duplicate person \"%s\"", a);
				}
}

/* A grant whose approvals fewer approvers may give than it needs would refuse every session
 * while reading as granted, so its owner is told at load time (as for a forwarding grant). */
static void
loader_check_approvals(struct loader *ld, const config_setting_t *grants, struct gw_config *cfg)
{
	size_t i, j, k, may;
	unsigned needed;

	for (i = 0; i < cfg->ngrants; i++) {
		const struct gw_grant *g = &cfg->grants[i];

		for (j = 0; g->vendor != NULL && j < g->ntargets; j++) {
			/* Only dual control: a single approval without approvers is a policy that
			 * admits no one yet, as it always was. */
			if ((needed = config_approvals_needed(cfg, g->vendor, g->targets[j])) < 2)
				continue;
			for (k = 0, may = 0; k < cfg->napprovers; k++)
				may += approver_may_approve(
				    &cfg->approvers[k], g->vendor, g->targets[j]);
			if (may < needed)
				loader_error(ld, config_setting_get_elem(grants, (unsigned)i),
				    "vendor %s on target %s needs %u approvals, but approvers in "
				    "scope: %zu",
				    g->vendor, g->targets[j], needed, may);
		}
	}
}

/* A list naming known things, or "*" for any; unknown names are errors (typos). */
static void
loader_scope(struct loader *ld, const config_setting_t *g, const char *role, const char *key,
    struct gw_config *cfg, char ***out, size_t *n)
{
	const config_setting_t *s = config_setting_get_member(g, key);
	size_t i;

	*out = loader_strings(ld, g, key, n);
	if (*n == 0)
		loader_error(
		    ld, s ? s : g, "%s needs \"%s\" (names, or [\"*\"] for any)", role, key);
	for (i = 0; i < *n; i++) {
		const char *v = (*out)[i];

		if (strcmp(v, "*") == 0)
			continue;
		if (strcmp(key, "vendors") == 0 ? config_find_vendor(cfg, v) == NULL
		                                : config_find_target(cfg, v) == NULL)
			loader_error(ld, s, "%s scope names unknown %s \"%s\"", role,
			    strcmp(key, "vendors") == 0 ? "vendor" : "target", v);
	}
}

static void
loader_approver(
    struct loader *ld, const config_setting_t *g, struct gw_config *cfg, struct gw_approver *a)
{
	static const char *const known[] = { "name", "key", "vendors", "targets", "login_keys",
		"auth_methods", NULL };

	loader_check_keys(ld, g, known);
	a->name = loader_string(ld, g, "name", true);
	a->key = loader_string(ld, g, "key", true);
	a->login_keys = loader_strings(ld, g, "login_keys", &a->nlogin_keys);
	loader_key_lines(
	    ld, config_setting_get_member(g, "login_keys"), a->login_keys, a->nlogin_keys, a->name);
	loader_auth_methods(ld, g, &a->auth_methods);
	if (a->name != NULL && !name_is_valid(a->name))
		loader_error(ld, g,
		    "approver name \"%s\" must be letters, digits, '.', '_' and '-'", a->name);
	if (a->key != NULL && sshkey_blob_from_line(a->key, &a->key_blob, &a->key_blob_len) != 0)
		loader_error(ld, config_setting_get_member(g, "key"),
		    "approver key is not an OpenSSH "
		    "ed25519, ecdsa or rsa (>= 2048 bits) public key line");
	loader_scope(ld, g, "approver", "vendors", cfg, &a->vendors, &a->nvendors);
	loader_scope(ld, g, "approver", "targets", cfg, &a->targets, &a->ntargets);
}

static void
loader_approvers(struct loader *ld, const config_setting_t *root, struct gw_config *cfg)
{
	const config_setting_t *list, *g;
	size_t i, j;
	int k, n;

	list = loader_list(ld, root, "approvers", &n);
	cfg->approvers = xcalloc((size_t)n, sizeof(*cfg->approvers));
	for (k = 0; k < n; k++)
		if ((g = loader_group(ld, list, k)) != NULL)
			loader_approver(ld, g, cfg, &cfg->approvers[cfg->napprovers++]);
	/* One key, one approver: the signer of a ticket must identify exactly one person. */
	for (i = 0; i < cfg->napprovers; i++)
		for (j = i + 1; j < cfg->napprovers; j++) {
			const struct gw_approver *a = &cfg->approvers[i], *b = &cfg->approvers[j];

			if (a->name != NULL && b->name != NULL && strcmp(a->name, b->name) == 0)
				loader_error(ld, list, "duplicate approver \"%s\"", a->name);
			if (a->key_blob != NULL && b->key_blob != NULL &&
			    a->key_blob_len == b->key_blob_len &&
			    memcmp(a->key_blob, b->key_blob, a->key_blob_len) == 0)
				loader_error(ld, list, "approvers \"%s\" and \"%s\" share a key",
				    a->name ? a->name : "?", b->name ? b->name : "?");
		}
}

static void
loader_auditor(
    struct loader *ld, const config_setting_t *g, struct gw_config *cfg, struct gw_auditor *a)
{
	static const char *const known[] = { "name", "keys", "vendors", "auth_methods", NULL };

	loader_check_keys(ld, g, known);
	a->name = loader_string(ld, g, "name", true);
	if (a->name != NULL && !name_is_valid(a->name))
		loader_error(ld, g, "auditor name \"%s\" must be letters, digits, '.', '_' and '-'",
		    a->name);
	a->keys = loader_strings(ld, g, "keys", &a->nkeys);
	if (a->nkeys == 0)
		loader_error(ld, g, "auditor needs \"keys\" to log in with");
	loader_key_lines(ld, config_setting_get_member(g, "keys"), a->keys, a->nkeys, a->name);
	loader_auth_methods(ld, g, &a->auth_methods);
	loader_scope(ld, g, "auditor", "vendors", cfg, &a->vendors, &a->nvendors);
}

static void
loader_auditors(struct loader *ld, const config_setting_t *root, struct gw_config *cfg)
{
	const config_setting_t *list, *g;
	size_t i, j;
	int k, n;

	list = loader_list(ld, root, "auditors", &n);
	cfg->auditors = xcalloc((size_t)n, sizeof(*cfg->auditors));
	for (k = 0; k < n; k++)
		if ((g = loader_group(ld, list, k)) != NULL)
			loader_auditor(ld, g, cfg, &cfg->auditors[cfg->nauditors++]);
	for (i = 0; i < cfg->nauditors; i++)
		for (j = i + 1; j < cfg->nauditors; j++)
			if (cfg->auditors[i].name != NULL && cfg->auditors[j].name != NULL &&
			    strcmp(cfg->auditors[i].name, cfg->auditors[j].name) == 0)
				loader_error(
				    ld, list, "duplicate auditor \"%s\"", cfg->auditors[i].name);
}

/* The role vendor's person for one console principal: "ROLE.NAME" with copies of its keys. */
static void
roles_add_person(struct gw_vendor *role, const char *name, char *const *keys, size_t nkeys,
    const struct gw_auth_methods *methods)
{
	struct gw_person *p = &role->persons[role->npersons++];
	size_t i;

	xasprintf(&p->id, "%s.%s", role->id, name);
	p->vendor = role;
	p->keys = xcalloc(nkeys, sizeof(*p->keys));
	for (i = 0; i < nkeys; i++)
		p->keys[p->nkeys++] = xstrdup(keys[i]);
	p->auth_methods = *methods;
}

/* Approvers and auditors as persons of their role vendors, so that authentication (keys,
 * methods, lockouts) is the one vendors' persons go through. */
static void
roles_build(struct gw_config *cfg)
{
	struct gw_vendor *ap = &cfg->approver_role, *au = &cfg->auditor_role;
	size_t i;

	ap->id = xstrdup("approver");
	ap->role = GW_ROLE_APPROVER;
	au->id = xstrdup("auditor");
	au->role = GW_ROLE_AUDITOR;
	ap->enabled = au->enabled = true;
	ap->idle_timeout = au->idle_timeout = -1;
	ap->max_recording_bytes = au->max_recording_bytes = -1;
	ap->persons = xcalloc(cfg->napprovers, sizeof(*ap->persons));
	for (i = 0; i < cfg->napprovers; i++) {
		const struct gw_approver *a = &cfg->approvers[i];

		if (a->name == NULL || a->key == NULL)
			continue;
		if (a->nlogin_keys > 0)
			roles_add_person(
			    ap, a->name, a->login_keys, a->nlogin_keys, &a->auth_methods);
		else
			roles_add_person(ap, a->name, &a->key, 1, &a->auth_methods);
	}
	au->persons = xcalloc(cfg->nauditors, sizeof(*au->persons));
	for (i = 0; i < cfg->nauditors; i++)
		if (cfg->auditors[i].name != NULL)
			roles_add_person(au, cfg->auditors[i].name, cfg->auditors[i].keys,
			    cfg->auditors[i].nkeys, &cfg->auditors[i].auth_methods);
}

static int
warn_cmp_desc(const void *a, const void *b)
{
	return *(const int *)b - *(const int *)a;
}

/* max_startups = "start:rate:full", as sshd's MaxStartups; default "10:30:100". */
static void
loader_startups(struct loader *ld, const config_setting_t *root, struct gw_startups *m)
{
	const config_setting_t *s = config_setting_get_member(root, "max_startups");
	const char *v;
	int start, rate, full, end = 0;

	m->start = 10;
	m->rate = 30;
	m->full = 100;
	if (s == NULL)
		return;
	if ((v = config_setting_get_string(s)) == NULL ||
	    sscanf(v, "%4d:%3d:%4d%n", &start, &rate, &full, &end) != 3 || v[end] != '\0' ||
	    start < 1 || rate < 1 || rate > 100 || full < start || full > GW_STARTUPS_MAX) {
		loader_error(ld, s,
		    "\"max_startups\" must be \"start:rate:full\" with "
		    "1 <= start <= full <= %d and rate 1 to 100",
		    GW_STARTUPS_MAX);
		return;
	}
	m->start = start;
	m->rate = rate;
	m->full = full;
}

/* lockout = { failures = 10; person_failures = 30; window = 600; duration = 900;
 * delay_ms = 250; max_delay_ms = 4000; } */
static void
loader_lockout(struct loader *ld, const config_setting_t *root, struct gw_lockout *l)
{
	static const char *const known[] = { "failures", "person_failures", "window", "duration",
		"delay_ms", "max_delay_ms", NULL };
	const config_setting_t *g = config_setting_get_member(root, "lockout");

	*l = (struct gw_lockout){ .failures = 10,
		.person_failures = 30,
		.window = 600,
		.duration = 900,
		.delay_ms = 250,
		.max_delay_ms = 4000 };
	if (g == NULL)
		return;
	if (!config_setting_is_group(g)) {
		loader_error(ld, g, "\"lockout\" must be a group { ... }");
		return;
	}
	loader_check_keys(ld, g, known);
	l->failures = loader_int(ld, g, "failures", l->failures, 0, 100000);
	l->person_failures = loader_int(ld, g, "person_failures", l->person_failures, 0, 100000);
	l->window = loader_int(ld, g, "window", l->window, 1, 86400);
	l->duration = loader_int(ld, g, "duration", l->duration, 1, 7 * 86400);
	l->delay_ms = loader_int(ld, g, "delay_ms", l->delay_ms, 0, 60000);
	l->max_delay_ms = loader_int(ld, g, "max_delay_ms", l->max_delay_ms, 0, 60000);
	if (l->max_delay_ms < l->delay_ms)
		loader_error(ld, g, "\"max_delay_ms\" must not be below \"delay_ms\"");
}

/* per_source = { max_startups = 5; ipv4_prefix = 32; ipv6_prefix = 64; grace_penalty = 30;
 * max_penalty = 600; exempt = [ "198.51.100.7" ]; }, after max_startups (its start bounds
 * max_startups here). */
static void
loader_per_source(struct loader *ld, const config_setting_t *root, struct gw_config *cfg)
{
	static const char *const known[] = { "max_startups", "ipv4_prefix", "ipv6_prefix",
		"grace_penalty", "max_penalty", "exempt", NULL };
	const config_setting_t *g = config_setting_get_member(root, "per_source"), *e;
	struct gw_per_source *ps = &cfg->per_source;
	size_t i;

	/* By default 5, and always below max_startups' start when that is set lower. */
	ps->max_startups = cfg->max_startups.start > 5 ? 5 : cfg->max_startups.start - 1;
	ps->ipv4_prefix = 32;
	ps->ipv6_prefix = 64;
	ps->grace_penalty = 30;
	ps->max_penalty = 600;
	if (g == NULL)
		return;
	if (!config_setting_is_group(g)) {
		loader_error(ld, g, "\"per_source\" must be a group { ... }");
		return;
	}
	loader_check_keys(ld, g, known);
	ps->max_startups = loader_int(ld, g, "max_startups", ps->max_startups, 0, GW_STARTUPS_MAX);
	ps->ipv4_prefix = loader_int(ld, g, "ipv4_prefix", ps->ipv4_prefix, 8, 32);
	ps->ipv6_prefix = loader_int(ld, g, "ipv6_prefix", ps->ipv6_prefix, 16, 128);
	ps->grace_penalty = loader_int(ld, g, "grace_penalty", ps->grace_penalty, 0, 86400);
	ps->max_penalty = loader_int(ld, g, "max_penalty", ps->max_penalty, 0, 7 * 86400);
	if (config_setting_get_member(g, "max_startups") != NULL &&
	    ps->max_startups >= cfg->max_startups.start)
		loader_error(ld, config_setting_get_member(g, "max_startups"),
		    "\"per_source.max_startups\" must be below max_startups' start (%d), or 0",
		    cfg->max_startups.start);
	ps->exempt = loader_strings(ld, g, "exempt", &ps->nexempt);
	e = config_setting_get_member(g, "exempt");
	for (i = 0; i < ps->nexempt; i++)
		/* One entry each: the certificate source-address matcher reads commas as a list. */
		if (strchr(ps->exempt[i], ',') != NULL ||
		    sshcert_source_allows(ps->exempt[i], "0.0.0.0") < 0)
			loader_error(ld, e,
			    "\"per_source.exempt\" entry \"%s\" is not ADDRESS[/BITS]",
			    ps->exempt[i]);
}

/* warn_before = [ 600, 60 ]: seconds before a scheduled end; default 10 min and 1 min. */
static void
loader_warnings(struct loader *ld, const config_setting_t *root, struct gw_config *cfg)
{
	const config_setting_t *s = config_setting_get_member(root, "warn_before");
	int i, n;

	if (s == NULL) {
		cfg->warn_before[0] = 600;
		cfg->warn_before[1] = 60;
		cfg->nwarn_before = 2;
		return;
	}
	if (!config_setting_is_array(s) || (n = config_setting_length(s)) > GW_WARN_MAX) {
		loader_error(
		    ld, s, "\"warn_before\" must be an array of at most %d seconds", GW_WARN_MAX);
		return;
	}
	for (i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, i);
		int v = config_setting_get_int(e);

		if (config_setting_type(e) != CONFIG_TYPE_INT || v < 1 || v > 86400) {
			loader_error(ld, e, "\"warn_before\" entries must be 1 to 86400 seconds");
			continue;
		}
		cfg->warn_before[cfg->nwarn_before++] = v;
	}
	qsort(cfg->warn_before, cfg->nwarn_before, sizeof(int), warn_cmp_desc);
}

/* The owners' control socket: a path that fits a sockaddr_un, and an existing group. */
static void
loader_control(struct loader *ld, const config_setting_t *root, struct gw_config *cfg)
{
	const config_setting_t *s;

	cfg->control_socket = loader_string(ld, root, "control_socket", false);
	if (cfg->control_socket == NULL && cfg->state_dir != NULL)
		xasprintf(&cfg->control_socket, "%s/control.sock", cfg->state_dir);
	if (cfg->control_socket != NULL &&
	    (cfg->control_socket[0] != '/' ||
	        strlen(cfg->control_socket) >= sizeof(((struct sockaddr_un *)0)->sun_path))) {
		s = config_setting_get_member(root, "control_socket");
		loader_error(ld, s ? s : root,
		    "\"control_socket\" must be an absolute path of at most %zu "
		    "characters",
		    sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
	}
	cfg->admin_group = loader_string(ld, root, "admin_group", false);
	if (cfg->admin_group != NULL && getgrnam(cfg->admin_group) == NULL)
		loader_error(ld, config_setting_get_member(root, "admin_group"),
		    "\"admin_group\": no group \"%s\" on this system", cfg->admin_group);
}

/* The vendor-facing processes' user: a name useradd would take (it is looked up only when
 * the listener starts, gatewayd/frontproc.c, so that a configuration can be checked elsewhere). */
static void
loader_front_user(struct loader *ld, const config_setting_t *root, struct gw_config *cfg)
{
	const config_setting_t *s = config_setting_get_member(root, "front_user");
	char *v = loader_string(ld, root, "front_user", false);
	size_t n;

	if (s == NULL) {
		cfg->front_user = xstrdup(GW_FRONT_USER_DEFAULT);
		return;
	}
	if (v == NULL)
		return; /* not a string, or empty: said */
	n = strlen(v);
	if (n > 32 || strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789_-") != n || v[0] == '-' ||
	    (v[0] >= '0' && v[0] <= '9')) {
		loader_error(ld, s,
		    "\"front_user\" must be a system user name (lower-case letters, digits, '_' "
		    "and '-', not first; at most 32)");
		free(v);
		return;
	}
	cfg->front_user = v;
}

/* The site's notifier: an argv run without a shell, so its program is an absolute path; where
 * the files are checked (the listener, gatewayd -t), an executable regular file. */
static void
loader_notify(struct loader *ld, const config_setting_t *root, struct gw_config *cfg)
{
	const config_setting_t *s = config_setting_get_member(root, "notify_command");
	struct stat st;

	cfg->notify_timeout = loader_int(ld, root, "notify_timeout", 10, 1, 300);
	cfg->notify_command = loader_strings(ld, root, "notify_command", &cfg->nnotify_command);
	if (s == NULL || cfg->notify_command == NULL)
		return; /* unset, or not a list: said */
	if (cfg->nnotify_command == 0 || cfg->notify_command[0][0] != '/') {
		loader_error(ld, s,
		    "\"notify_command\" must be a list whose first entry is the program's absolute "
		    "path");
		return;
	}
	if (!ld->check_files)
		return;
	if (stat(cfg->notify_command[0], &st) != 0)
		loader_error(ld, s, "notify_command \"%s\" cannot be found: %s",
		    cfg->notify_command[0], strerror(errno));
	else if (!S_ISREG(st.st_mode) || (st.st_mode & 0111) == 0)
		loader_error(ld, s, "notify_command \"%s\" is not an executable file",
		    cfg->notify_command[0]);
}

/* An @include line is an error: libconfig 1.5 cannot switch @include off (see below). */
static int
config_check_includes(const char *path, const char *text, char **errors)
{
	const char *line;
	int lineno = 1;

	for (line = text; line != NULL; lineno++) {
		if (strncmp(line + strspn(line, " \t"), "@include", 8) == 0) {
			xasprintf(errors,
			    "%s:%d: @include is not supported: the configuration is one "
			    "file\n",
			    path, lineno);
			return -1;
		}
		if ((line = strchr(line, '\n')) != NULL)
			line++;
	}
	return 0;
}

/* Reads the whole file for config_read_string(): libconfig 1.5 cannot switch @include off,
 * and an @include of a directory makes its scanner exit() the process ("input in flex
 * scanner failed"), which on SIGHUP would be the running listener. gatewayd reads one file:
 * an @include line or a NUL byte (which would hide the rest from the parser) is an error. */
static char *
config_read_text(const char *path, char **errors)
{
	char *text = NULL;
	size_t n = 0, cap = 0, got;
	FILE *f;

	if ((f = fopen(path, "re")) == NULL) {
		xasprintf(errors, "%s:0: cannot read file: %s\n", path, strerror(errno));
		return NULL;
	}
	do {
		if (cap - n < 4096)
			text = xreallocarray(text, 1, cap = cap == 0 ? 65536 : 2 * cap);
		n += got = fread(text + n, 1, cap - n - 1, f);
	} while (got > 0 && n <= CONFIG_FILE_MAX);
	if (ferror(f) || n > CONFIG_FILE_MAX) {
		xasprintf(errors, "%s:0: cannot read file: %s\n", path,
		    ferror(f) ? strerror(errno) : "larger than 16 MiB");
		fclose(f);
		free(text);
		return NULL;
	}
	fclose(f);
	text[n] = '\0';
	if (strlen(text) != n) {
		xasprintf(errors, "%s:0: the file contains a NUL byte\n", path);
		free(text);
		return NULL;
	}
	if (config_check_includes(path, text, errors) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

/* The SHA-256 of the text, in hex: which configuration was in force, for the audit log. */
static void
config_digest(const char *text, char hex[65])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[SHA256_DIGEST_LENGTH];
	size_t i;

	SHA256((const unsigned char *)text, strlen(text), md);
	for (i = 0; i < sizeof(md); i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[2 * i] = '\0';
}

/* recording_compression: how a sealed recording is kept; "none" unless set. */
static void
loader_compression(struct loader *ld, const config_setting_t *root, struct gw_config *cfg)
{
	char *value = loader_string(ld, root, "recording_compression", false);

	cfg->recording_compression = GW_COMPRESSION_NONE;
	if (value != NULL && strcmp(value, "zstd") == 0)
		cfg->recording_compression = GW_COMPRESSION_ZSTD;
	else if (value != NULL && strcmp(value, "none") != 0)
		loader_error(ld, config_setting_get_member(root, "recording_compression"),
		    "\"recording_compression\" must be \"none\" or \"zstd\"");
	free(value);
}

/* store = { kind = "postgresql"; conninfo = "..."; gateway = "a"; admin_conninfo = "..."; }
 * and store_unavailable = "refuse" | "cached". The default store is the files of state_dir. */
static void
loader_store(struct loader *ld, const config_setting_t *root, struct gw_config *cfg)
{
	static const char *const known[] = { "kind", "conninfo", "admin_conninfo", "gateway",
		NULL };
	const config_setting_t *g = config_setting_get_member(root, "store");
	char *kind = NULL, *unavailable = loader_string(ld, root, "store_unavailable", false);
	char host[256];

	cfg->store.cached = unavailable != NULL && strcmp(unavailable, "cached") == 0;
	if (unavailable != NULL && !cfg->store.cached && strcmp(unavailable, "refuse") != 0)
		loader_error(ld, config_setting_get_member(root, "store_unavailable"),
		    "\"store_unavailable\" must be \"refuse\" or \"cached\"");
	free(unavailable);
	if (g == NULL)
		return;
	if (!config_setting_is_group(g)) {
		loader_error(ld, g, "\"store\" must be a group { ... }");
		return;
	}
	loader_check_keys(ld, g, known);
	kind = loader_string(ld, g, "kind", true);
	if (kind != NULL && strcmp(kind, "postgresql") == 0)
		cfg->store.kind = GW_STORE_POSTGRESQL;
	else if (kind != NULL && strcmp(kind, "files") != 0)
		loader_error(ld, config_setting_get_member(g, "kind"),
		    "\"kind\" of \"store\" must be \"files\" or \"postgresql\"");
	free(kind);
	cfg->store.conninfo = loader_string(ld, g, "conninfo", false);
	cfg->store.admin_conninfo = loader_string(ld, g, "admin_conninfo", false);
	cfg->store.gateway = loader_string(ld, g, "gateway", false);
	if (cfg->store.kind == GW_STORE_FILES) {
		if (cfg->store.conninfo != NULL || cfg->store.admin_conninfo != NULL)
			loader_error(ld, g, "a \"files\" store takes no \"conninfo\"");
		return;
	}
	if (cfg->store.conninfo == NULL)
		loader_error(ld, g, "a \"postgresql\" store needs \"conninfo\"");
	if (cfg->store.gateway == NULL) {
		/* Two gateways must not share a name: the host's is unique enough by default. */
		if (gethostname(host, sizeof(host)) != 0)
			snprintf(host, sizeof(host), "gatewayd");
		host[sizeof(host) - 1] = '\0';
		cfg->store.gateway = xstrdup(host);
	}
	if (!ticket_id_is_valid(cfg->store.gateway))
		loader_error(ld, config_setting_get_member(g, "gateway"),
		    "\"gateway\" of \"store\" must be a name of letters, digits, '.', '-' "
		    "and '_'");
}

/* Parses text, the contents of path; check_files: whether the files it names (credentials,
 * banner, revocation lists) must be readable by this process. */
static int
config_parse(
    const char *path, const char *text, bool check_files, struct gw_config **out, char **errors)
{
	static const char *const known[] = { "listen", "host_keys", "state_dir", "recording_dir",
		"audit_log", "banner_file", "revoked_certs", "connect_timeout", "login_grace_time",
		"max_auth_tries", "max_sessions", "warn_before", "vendors", "targets", "grants",
		"approvers", "max_startups", "lockout", "idle_timeout", "client_alive_interval",
		"client_alive_count_max", "kex_algorithms", "ciphers", "macs", "hostkey_algorithms",
		"control_socket", "admin_group", "max_recording_bytes", "recording_min_free",
		"per_source", "max_channels", "front_user", "display_tz", "auditors",
		"notify_command", "notify_timeout", "max_ticket_lifetime", "recording_compression",
		"store", "store_unavailable", NULL };
	struct loader ld = { .path = path, .check_files = check_files };
	struct gw_config *cfg;
	const config_setting_t *root, *list, *g;
	config_t lc;
	char digest[65];
	int i, n;

	config_digest(text, digest);
	config_init(&lc);
	if (!config_read_string(&lc, text)) {
		xasprintf(
		    errors, "%s:%d: %s\n", path, config_error_line(&lc), config_error_text(&lc));
		config_destroy(&lc);
		return -1;
	}
	root = config_root_setting(&lc);
	cfg = xcalloc(1, sizeof(*cfg));
	cfg->path = xstrdup(path);
	memcpy(cfg->sha256, digest, sizeof(cfg->sha256));
	loader_check_keys(&ld, root, known);
	loader_listen(&ld, root, cfg);
	cfg->host_keys = loader_strings(&ld, root, "host_keys", &cfg->nhost_keys);
	if (cfg->nhost_keys == 0)
		loader_error(&ld, root, "\"host_keys\" needs at least one path");
	cfg->state_dir = loader_string(&ld, root, "state_dir", true);
	cfg->recording_dir = loader_string(&ld, root, "recording_dir", true);
	cfg->audit_log = loader_string(&ld, root, "audit_log", true);
	if ((cfg->display_tz = loader_string(&ld, root, "display_tz", false)) == NULL)
		cfg->display_tz = xstrdup("UTC");
	else if (!window_tz_is_valid(cfg->display_tz))
		loader_error(&ld, config_setting_get_member(root, "display_tz"),
		    "\"%s\" is not a time zone of the system tzdata (e.g. Europe/Berlin)",
		    cfg->display_tz);
	cfg->banner_file = loader_string(&ld, root, "banner_file", false);
	if (cfg->banner_file != NULL)
		loader_check_readable(&ld, config_setting_get_member(root, "banner_file"),
		    "banner_file", cfg->banner_file, false);
	if ((cfg->revoked_certs = loader_string(&ld, root, "revoked_certs", false)) != NULL)
		loader_check_readable(&ld, config_setting_get_member(root, "revoked_certs"),
		    "revoked_certs", cfg->revoked_certs, false);
	cfg->connect_timeout = loader_int(&ld, root, "connect_timeout", 10, 1, 600);
	cfg->login_grace_time = loader_int(&ld, root, "login_grace_time", 60, 1, 3600);
	cfg->max_auth_tries = loader_int(&ld, root, "max_auth_tries", 6, 1, 100);
	cfg->max_sessions = loader_int(&ld, root, "max_sessions", 0, 0, 1000000);
	cfg->max_channels = loader_int(&ld, root, "max_channels", 10, 1, GW_CHANNELS_MAX);
	cfg->client_alive_interval = loader_int(&ld, root, "client_alive_interval", 15, 0, 3600);
	cfg->client_alive_count_max = loader_int(&ld, root, "client_alive_count_max", 3, 1, 100);
	loader_control(&ld, root, cfg);
	loader_front_user(&ld, root, cfg);
	loader_notify(&ld, root, cfg);
	loader_warnings(&ld, root, cfg);
	loader_startups(&ld, root, &cfg->max_startups);
	loader_lockout(&ld, root, &cfg->lockout);
	loader_per_source(&ld, root, cfg);
	cfg->idle_timeout = loader_int(&ld, root, "idle_timeout", 0, 0, 31 * 86400);
	cfg->max_recording_bytes =
	    loader_bytes(&ld, root, "max_recording_bytes", GW_MAX_RECORDING_BYTES_DEFAULT);
	cfg->recording_min_free =
	    loader_bytes(&ld, root, "recording_min_free", GW_RECORDING_MIN_FREE_DEFAULT);
	loader_compression(&ld, root, cfg);
	loader_store(&ld, root, cfg);
	cfg->max_ticket_lifetime = loader_int(&ld, root, "max_ticket_lifetime",
	    (int)GW_MAX_TICKET_LIFETIME_DEFAULT, 60, 3660 * 86400);
	cfg->kex_algorithms = loader_algorithms(&ld, root, "kex_algorithms");
	cfg->ciphers = loader_algorithms(&ld, root, "ciphers");
	cfg->macs = loader_algorithms(&ld, root, "macs");
	cfg->hostkey_algorithms = loader_algorithms(&ld, root, "hostkey_algorithms");

	list = loader_list(&ld, root, "vendors", &n);
	cfg->vendors = xcalloc((size_t)n, sizeof(*cfg->vendors));
	for (i = 0; i < n; i++)
		if ((g = loader_group(&ld, list, i)) != NULL)
			loader_vendor(&ld, g, &cfg->vendors[cfg->nvendors++]);
	list = loader_list(&ld, root, "targets", &n);
	cfg->targets = xcalloc((size_t)n, sizeof(*cfg->targets));
	for (i = 0; i < n; i++)
		if ((g = loader_group(&ld, list, i)) != NULL)
			loader_target(&ld, g, &cfg->targets[cfg->ntargets++], cfg->connect_timeout);
	loader_check_duplicates(&ld, root, cfg);
	list = loader_list(&ld, root, "grants", &n);
	cfg->grants = xcalloc((size_t)n, sizeof(*cfg->grants));
	for (i = 0; i < n; i++)
		if ((g = loader_group(&ld, list, i)) != NULL)
			loader_grant(&ld, g, cfg, &cfg->grants[cfg->ngrants++]);
	loader_approvers(&ld, root, cfg);
	loader_auditors(&ld, root, cfg);
	roles_build(cfg);
	loader_check_approvals(&ld, list, cfg);

	config_destroy(&lc);
	if (ld.nerrors > 0) {
		*errors = ld.errors;
		config_free(cfg);
		return -1;
	}
	*out = cfg;
	return 0;
}

int
config_load(const char *path, struct gw_config **out, char **errors)
{
	char *text;
	int rc;

	if ((rc = config_load_keep(path, out, &text, errors)) == 0)
		free(text);
	return rc;
}

int
config_load_keep(const char *path, struct gw_config **out, char **text, char **errors)
{
	*out = NULL;
	*errors = NULL;
	if ((*text = config_read_text(path, errors)) == NULL)
		return -1;
	if (config_parse(path, *text, true, out, errors) != 0) {
		free(*text);
		*text = NULL;
		return -1;
	}
	return 0;
}

int
config_load_text(const char *path, const char *text, struct gw_config **out, char **errors)
{
	*out = NULL;
	*errors = NULL;
	if (config_check_includes(path, text, errors) != 0)
		return -1;
	return config_parse(path, text, false, out, errors);
}

void
hostkeys_free(struct hostkeys *hk)
{
	size_t i;

	if (hk == NULL)
		return;
	for (i = 0; i < hk->n; i++) {
		free(hk->path[i]);
		if (hk->pem[i] != NULL)
			freezero(hk->pem[i], strlen(hk->pem[i]));
	}
	free(hk->path);
	free(hk->pem);
	free(hk);
}

static void
vendor_free_fields(struct gw_vendor *v)
{
	size_t j;

	for (j = 0; j < v->npersons; j++) {
		free(v->persons[j].id);
		free(v->persons[j].name);
		strings_free(v->persons[j].keys, v->persons[j].nkeys);
		windows_free(&v->persons[j].windows);
	}
	windows_free(&v->windows);
	for (j = 0; j < v->ncert_authorities; j++) {
		free(v->cert_authorities[j].line);
		free(v->cert_authorities[j].key_blob);
	}
	free(v->cert_authorities);
	free(v->revoked_certs);
	free(v->persons);
	free(v->id);
	free(v->name);
}

void
config_free(struct gw_config *cfg)
{
	size_t i, j;

	if (cfg == NULL)
		return;
	hostkeys_free(cfg->hostkeys);
	for (i = 0; i < cfg->nlisten; i++)
		free(cfg->listen[i].address);
	free(cfg->listen);
	strings_free(cfg->host_keys, cfg->nhost_keys);
	free(cfg->kex_algorithms);
	free(cfg->ciphers);
	free(cfg->macs);
	free(cfg->hostkey_algorithms);
	free(cfg->store.conninfo);
	free(cfg->store.admin_conninfo);
	free(cfg->store.gateway);
	strings_free(cfg->per_source.exempt, cfg->per_source.nexempt);
	for (i = 0; i < cfg->nvendors; i++)
		vendor_free_fields(&cfg->vendors[i]);
	free(cfg->vendors);
	vendor_free_fields(&cfg->approver_role);
	vendor_free_fields(&cfg->auditor_role);
	for (i = 0; i < cfg->ntargets; i++) {
		struct gw_target *t = &cfg->targets[i];

		free(t->name);
		free(t->address);
		strings_free(t->fingerprints, t->nfingerprints);
		free(t->user);
		free(t->key_file);
		free(t->password_file);
		free(t->hostkey_algorithms);
		free(t->kex_algorithms);
		free(t->ciphers);
	}
	free(cfg->targets);
	for (i = 0; i < cfg->ngrants; i++) {
		free(cfg->grants[i].vendor);
		strings_free(cfg->grants[i].targets, cfg->grants[i].ntargets);
		strings_free(cfg->grants[i].transfer_paths, cfg->grants[i].ntransfer_paths);
		for (j = 0; j < cfg->grants[i].nforwards; j++)
			free(cfg->grants[i].forwards[j].target);
		free(cfg->grants[i].forwards);
		windows_free(&cfg->grants[i].windows);
	}
	free(cfg->grants);
	for (i = 0; i < cfg->napprovers; i++) {
		free(cfg->approvers[i].name);
		free(cfg->approvers[i].key);
		free(cfg->approvers[i].key_blob);
		strings_free(cfg->approvers[i].vendors, cfg->approvers[i].nvendors);
		strings_free(cfg->approvers[i].targets, cfg->approvers[i].ntargets);
		strings_free(cfg->approvers[i].login_keys, cfg->approvers[i].nlogin_keys);
	}
	free(cfg->approvers);
	for (i = 0; i < cfg->nauditors; i++) {
		free(cfg->auditors[i].name);
		strings_free(cfg->auditors[i].keys, cfg->auditors[i].nkeys);
		strings_free(cfg->auditors[i].vendors, cfg->auditors[i].nvendors);
	}
	free(cfg->auditors);
	free(cfg->path);
	free(cfg->state_dir);
	free(cfg->recording_dir);
	free(cfg->display_tz);
	free(cfg->audit_log);
	free(cfg->banner_file);
	free(cfg->revoked_certs);
	free(cfg->control_socket);
	free(cfg->admin_group);
	free(cfg->front_user);
	strings_free(cfg->notify_command, cfg->nnotify_command);
	free(cfg);
}

const struct gw_vendor *
config_find_vendor(const struct gw_config *cfg, const char *id)
{
	size_t i;

	for (i = 0; i < cfg->nvendors; i++)
		if (strcmp(cfg->vendors[i].id, id) == 0)
			return &cfg->vendors[i];
	return NULL;
}

const struct gw_person *
config_find_person(const struct gw_config *cfg, const char *id)
{
	size_t i, j;

	for (i = 0; i < cfg->nvendors; i++)
		for (j = 0; j < cfg->vendors[i].npersons; j++)
			if (cfg->vendors[i].persons[j].id != NULL &&
			    strcmp(cfg->vendors[i].persons[j].id, id) == 0)
				return &cfg->vendors[i].persons[j];
	return NULL;
}

const struct gw_person *
config_find_principal(const struct gw_config *cfg, const char *id)
{
	const struct gw_vendor *roles[] = { &cfg->approver_role, &cfg->auditor_role };
	const struct gw_person *p;
	size_t i, j;

	if ((p = config_find_person(cfg, id)) != NULL)
		return p;
	for (i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
		for (j = 0; j < roles[i]->npersons; j++)
			if (strcmp(roles[i]->persons[j].id, id) == 0)
				return &roles[i]->persons[j];
	return NULL;
}

const char *
config_principal_name(const struct gw_person *p)
{
	return p->id + strlen(p->vendor->id) + 1;
}

const struct gw_target *
config_find_target(const struct gw_config *cfg, const char *name)
{
	size_t i;

	for (i = 0; i < cfg->ntargets; i++)
		if (cfg->targets[i].name != NULL && strcmp(cfg->targets[i].name, name) == 0)
			return &cfg->targets[i];
	return NULL;
}

const struct gw_target *
config_find_target_by_address(const struct gw_config *cfg, const char *addr)
{
	const struct gw_target *found = NULL;
	size_t i;

	for (i = 0; i < cfg->ntargets; i++)
		if (strcmp(cfg->targets[i].address, addr) == 0) {
			if (found != NULL)
				return NULL; /* ambiguous: the vendor names the target instead */
			found = &cfg->targets[i];
		}
	return found;
}

const struct gw_grant *
config_find_grant(const struct gw_config *cfg, const char *vendor, const char *target)
{
	size_t i, j;

	for (i = 0; i < cfg->ngrants; i++) {
		const struct gw_grant *g = &cfg->grants[i];

		if (g->vendor == NULL || strcmp(g->vendor, vendor) != 0)
			continue;
		for (j = 0; j < g->ntargets; j++)
			if (strcmp(g->targets[j], target) == 0)
				return g;
	}
	return NULL;
}

const struct gw_approver *
config_find_approver(const struct gw_config *cfg, const char *name)
{
	size_t i;

	for (i = 0; i < cfg->napprovers; i++)
		if (cfg->approvers[i].name != NULL && strcmp(cfg->approvers[i].name, name) == 0)
			return &cfg->approvers[i];
	return NULL;
}

unsigned
config_approvals_needed(const struct gw_config *cfg, const char *vendor, const char *target)
{
	const struct gw_target *t = config_find_target(cfg, target);
	const struct gw_grant *g = config_find_grant(cfg, vendor, target);
	unsigned n = 1;

	if (t != NULL && t->approvals > n)
		n = t->approvals;
	if (g != NULL && g->approvals > n)
		n = g->approvals;
	return n;
}

static bool
scope_has(char *const *names, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(names[i], "*") == 0 || strcmp(names[i], name) == 0)
			return true;
	return false;
}

const struct gw_auditor *
config_find_auditor(const struct gw_config *cfg, const char *name)
{
	size_t i;

	for (i = 0; i < cfg->nauditors; i++)
		if (cfg->auditors[i].name != NULL && strcmp(cfg->auditors[i].name, name) == 0)
			return &cfg->auditors[i];
	return NULL;
}

bool
auditor_may_read(const struct gw_auditor *a, const char *vendor)
{
	return scope_has(a->vendors, a->nvendors, vendor);
}

bool
approver_has_vendor(const struct gw_approver *a, const char *vendor)
{
	return scope_has(a->vendors, a->nvendors, vendor);
}

bool
approver_may_approve(const struct gw_approver *a, const char *vendor, const char *target)
{
	return scope_has(a->vendors, a->nvendors, vendor) &&
	    scope_has(a->targets, a->ntargets, target);
}

const struct gw_auth_methods *
config_auth_methods(const struct gw_person *p)
{
	static const struct gw_auth_methods publickey = {
		.chain = { { GW_AUTH_PUBLICKEY } }, .len = { 1 }, .nchains = 1
	};

	if (p->auth_methods.nchains > 0)
		return &p->auth_methods;
	if (p->vendor->auth_methods.nchains > 0)
		return &p->vendor->auth_methods;
	return &publickey;
}

unsigned
config_auth_methods_offered(const struct gw_config *cfg)
{
	const struct gw_vendor *v;
	unsigned bits = 0;
	size_t i, j, c, k;

	for (i = 0; i < cfg->nvendors + 2; i++) {
		v = i < cfg->nvendors    ? &cfg->vendors[i]
		    : i == cfg->nvendors ? &cfg->approver_role
		                         : &cfg->auditor_role;
		for (j = 0; j < v->npersons; j++) {
			const struct gw_auth_methods *m = config_auth_methods(&v->persons[j]);

			for (c = 0; c < m->nchains; c++)
				for (k = 0; k < m->len[c]; k++)
					bits |= m->chain[c][k];
		}
	}
	return bits | GW_AUTH_PUBLICKEY;
}
