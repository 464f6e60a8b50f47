/* bundle-export.c: `gatewayctl evidence export`: copies a vendor's recordings of a period, the
 * audit slice and the public key into a new folder, writes its pages, and signs the MANIFEST
 * with the seal key (root on the gateway). Changes nothing outside the new folder. */
#include "tools/bundle.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/xmalloc.h"
#include "tools/evidence.h"

int
bundle_file_copy(const char *from, const char *to)
{
	char buf[65536];
	FILE *in, *out;
	size_t n;
	int rc = 0;

	if ((in = fopen(from, "re")) == NULL) {
		fprintf(stderr, "gatewayctl: %s: %m\n", from);
		return -1;
	}
	if ((out = fopen(to, "we")) == NULL) {
		fprintf(stderr, "gatewayctl: %s: %m\n", to);
		fclose(in);
		return -1;
	}
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		if (fwrite(buf, 1, n, out) != n)
			rc = -1;
	if (ferror(in))
		rc = -1;
	fclose(in);
	if (fclose(out) != 0)
		rc = -1;
	if (rc != 0)
		fprintf(stderr, "gatewayctl: copying %s to %s failed\n", from, to);
	return rc;
}

/* The player and its licence, from the npm package the set-up installs (web/). */
static int
export_player(const struct bundle_spec *spec)
{
	static const char *const files[][2] = {
		{ "dist/bundle/asciinema-player.min.js", "asciinema-player.min.js" },
		{ "dist/bundle/asciinema-player.css", "asciinema-player.css" },
		{ "LICENSE", "LICENSE" },
	};
	char *from, *to;
	size_t i;
	int rc = 0;

	for (i = 0; i < sizeof(files) / sizeof(files[0]) && rc == 0; i++) {
		xasprintf(&from, "%s/%s", spec->player_dir, files[i][0]);
		xasprintf(&to, "%s/player/%s", spec->dir, files[i][1]);
		if (access(from, R_OK) != 0) {
			fprintf(stderr,
			    "gatewayctl: %s: %m (install the player: npm ci --prefix web, or "
			    "--player DIR)\n",
			    from);
			rc = -1;
		} else
			rc = bundle_file_copy(from, to);
		free(from);
		free(to);
	}
	return rc;
}

static int
export_dirs(const char *dir)
{
	static const char *const subs[] = { "", "/recordings", "/sessions", "/player" };
	char *path;
	size_t i;

	for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		xasprintf(&path, "%s%s", dir, subs[i]);
		if (mkdir(path, 0755) != 0) {
			fprintf(stderr, "gatewayctl: %s: %s%s\n", path, strerror(errno),
			    errno == EEXIST && i == 0 ? " (a bundle goes into a new folder)" : "");
			free(path);
			return -1;
		}
		free(path);
	}
	return 0;
}

static void
export_time(json_t *info, const char *name, time_t t)
{
	char text[SEAL_TIME_LEN];
	struct timespec ts = { .tv_sec = t };

	seal_format_time(text, &ts);
	json_object_set_new(info, name, json_string(text));
}

static int
export_info(const struct bundle *b, json_t *info, const struct sealkey *key)
{
	json_t *names = json_array();
	char *path;
	size_t i;
	int rc;

	json_object_set_new(info, "format", json_string(BUNDLE_FORMAT));
	json_object_set_new(info, "vendor", json_string(b->spec->vendor));
	json_object_set_new(
	    info, "target", b->spec->target != NULL ? json_string(b->spec->target) : json_null());
	export_time(info, "from", b->spec->from);
	export_time(info, "to", b->spec->to);
	export_time(info, "created", time(NULL));
	json_object_set_new(info, "key", json_string(sealkey_id(key)));
	json_object_set_new(info, "display_tz", json_string(b->spec->display_tz));
	for (i = 0; i < b->nrecs; i++)
		json_array_append_new(names, json_string(b->recs[i].name));
	json_object_set_new(info, "recordings", names);
	xasprintf(&path, "%s/" BUNDLE_INFO, b->spec->dir);
	rc = json_dump_file(info, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (rc != 0)
		fprintf(stderr, "gatewayctl: cannot write %s\n", path);
	free(path);
	return rc;
}

static int
export_key(const struct bundle_spec *spec, const struct sealkey *key)
{
	char *path;
	FILE *f;
	int rc;

	xasprintf(&path, "%s/recording_key.pub", spec->dir);
	rc = (f = fopen(path, "we")) == NULL || sealkey_write_public(key, f) != 0;
	if (f != NULL && fclose(f) != 0)
		rc = 1;
	if (rc != 0)
		fprintf(stderr, "gatewayctl: cannot write %s\n", path);
	free(path);
	return rc ? -1 : 0;
}

/* The private seal key, never created here: a bundle signed by a new key proves nothing. */
static struct sealkey *
export_load_key(const struct gw_config *cfg)
{
	struct sealkey *key;
	char *path;

	xasprintf(&path, "%s/recording_key", cfg->state_dir);
	if (access(path, R_OK) != 0) {
		fprintf(stderr,
		    "gatewayctl: %s: %m (the seal key signs the MANIFEST: run as root "
		    "on the gateway)\n",
		    path);
		free(path);
		return NULL;
	}
	key = sealkey_load_or_create(path);
	free(path);
	return key;
}

int
bundle_export(struct ctl_context *ctx, const struct bundle_spec *spec)
{
	struct bundle b = { .spec = spec, .events = json_array() };
	const struct gw_config *cfg;
	struct sealkey *key = NULL;
	json_t *info = json_object();
	size_t i;
	int rc = 1;

	if ((cfg = ctl_config(ctx)) == NULL || (key = export_load_key(cfg)) == NULL)
		goto out;
	b.cfg = cfg;
	if (export_dirs(spec->dir) != 0 || export_player(spec) != 0 || export_key(spec, key) != 0)
		goto out;
	if (bundle_gather(&b, cfg->recording_dir, cfg->audit_log, key, info) != 0)
		goto out;
	for (i = 0; i < b.nrecs; i++)
		if (bundle_page_write(&b, &b.recs[i]) != 0)
			goto out;
	if (bundle_report_write(&b) != 0 || export_info(&b, info, key) != 0 ||
	    bundle_manifest_write(spec->dir, key) != 0)
		goto out;
	printf("%s: %zu recording(s), %lld audit line(s) (%lld of other vendors as their "
	       "SHA-256), MANIFEST signed by %s\n",
	    spec->dir, b.nrecs,
	    (long long)json_integer_value(json_object_get(json_object_get(info, "audit"), "lines")),
	    (long long)json_integer_value(
	        json_object_get(json_object_get(info, "audit"), "redacted")),
	    sealkey_id(key));
	rc = spec->zip && bundle_zip(spec->dir) != 0 ? 1 : 0;
out:
	json_decref(info);
	bundle_free(&b);
	sealkey_free(key);
	return rc;
}
