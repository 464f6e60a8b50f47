/* bundle-export.c: `gatewayctl evidence export`: copies a vendor's recordings of a period, the
 * audit slice and the public key into a new folder or a tar stream (bundle-out.c), writes its
 * pages, and signs the MANIFEST with the seal key (root on the gateway). Changes nothing else. */
#include "tools/bundle.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/xmalloc.h"
#include "tools/evidence.h"

/* The player and its licence, from the npm package the set-up installs (web/). */
static const char *const player_files[BUNDLE_PLAYER_FILES][2] = {
	{ "dist/bundle/asciinema-player.min.js", "asciinema-player.min.js" },
	{ "dist/bundle/asciinema-player.css", "asciinema-player.css" },
	{ "LICENSE", "LICENSE" },
};

const char *
bundle_player_dir(void)
{
	return access(GW_PLAYER_DIR "/LICENSE", R_OK) == 0 ? GW_PLAYER_DIR : GW_PLAYER_SOURCE_DIR;
}

int
bundle_player_open(const char *player_dir, int fds[BUNDLE_PLAYER_FILES])
{
	char *from;
	size_t i;

	for (i = 0; i < BUNDLE_PLAYER_FILES; i++) {
		xasprintf(&from, "%s/%s", player_dir, player_files[i][0]);
		if ((fds[i] = open(from, O_RDONLY | O_CLOEXEC)) < 0) {
			fprintf(stderr,
			    "gatewayctl: %s: %m (install the player: npm ci --prefix web, or "
			    "--player DIR)\n",
			    from);
			free(from);
			while (i-- > 0)
				close(fds[i]);
			return -1;
		}
		free(from);
	}
	return 0;
}

static int
export_player(struct bundle_out *o, const struct bundle_spec *spec)
{
	int opened[BUNDLE_PLAYER_FILES];
	const int *fds = spec->player_fds;
	char *to;
	size_t i;
	int rc = 0;

	if (fds == NULL && bundle_player_open(spec->player_dir, opened) != 0)
		return -1;
	for (i = 0; i < BUNDLE_PLAYER_FILES; i++) {
		xasprintf(&to, "player/%s", player_files[i][1]);
		if (rc == 0)
			rc = bundle_out_copy_fd(
			    o, fds != NULL ? fds[i] : opened[i], player_files[i][0], to);
		free(to);
		if (fds == NULL)
			close(opened[i]);
	}
	return rc;
}

static int
export_dirs(struct bundle_out *o)
{
	static const char *const subs[] = { "", "recordings", "sessions", "player" };
	size_t i;

	for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		if (bundle_out_dir(o, subs[i]) != 0)
			return -1;
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
	size_t i;
	FILE *f;

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
	if ((f = bundle_out_open(b->out, BUNDLE_INFO)) == NULL)
		return -1;
	json_dumpf(info, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	return bundle_out_close(b->out, f);
}

static int
export_key(struct bundle_out *o, const struct sealkey *key)
{
	FILE *f;

	if ((f = bundle_out_open(o, "recording_key.pub")) == NULL)
		return -1;
	if (sealkey_write_public(key, f) != 0) {
		fprintf(stderr, "gatewayctl: cannot write recording_key.pub\n");
		bundle_out_close(o, f);
		return -1;
	}
	return bundle_out_close(o, f);
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

/* What an export says when done: on stderr when its archive is on stdout. */
static void
export_summary(const struct bundle *b, const json_t *info, const struct sealkey *key)
{
	const json_t *audit = json_object_get(info, "audit");

	fprintf(b->out->tar != NULL ? stderr : stdout,
	    "%s: %zu recording(s), %lld audit line(s) (%lld of other vendors as their "
	    "SHA-256), MANIFEST signed by %s\n",
	    b->spec->dir, b->nrecs, (long long)json_integer_value(json_object_get(audit, "lines")),
	    (long long)json_integer_value(json_object_get(audit, "redacted")), sealkey_id(key));
}

int
bundle_export(struct ctl_context *ctx, const struct bundle_spec *spec)
{
	struct bundle_out out = { .dir = spec->dir, .tar = spec->tar, .mtime = time(NULL) };
	struct bundle b = { .spec = spec, .out = &out, .events = json_array() };
	const struct gw_config *cfg;
	struct sealkey *key = NULL;
	json_t *info = json_object();
	bundle_sign_fn sign = bundle_manifest_sign;
	void *sign_arg;
	size_t i;
	int rc = 1;

	if ((cfg = ctl_config(ctx)) == NULL)
		goto out;
	/* The console has the public key only: the listener signs for it. */
	if (ctx->sign_manifest != NULL) {
		sign = ctx->sign_manifest;
		sign_arg = ctx->sign_arg;
		key = evidence_load_key(ctx, NULL);
	} else
		sign_arg = key = export_load_key(cfg);
	if (key == NULL)
		goto out;
	b.cfg = cfg;
	if (export_dirs(&out) != 0 || export_player(&out, spec) != 0 || export_key(&out, key) != 0)
		goto out;
	if (bundle_gather(&b, cfg->recording_dir, cfg->audit_log, key, info) != 0)
		goto out;
	for (i = 0; i < b.nrecs; i++)
		if (bundle_page_write(&b, &b.recs[i]) != 0)
			goto out;
	if (bundle_report_write(&b) != 0 || export_info(&b, info, key) != 0 ||
	    bundle_manifest_write(&out, sign, sign_arg) != 0 || bundle_out_end(&out) != 0)
		goto out;
	export_summary(&b, info, key);
	rc = spec->zip && bundle_zip(spec->dir) != 0 ? 1 : 0;
out:
	json_decref(info);
	bundle_free(&b);
	bundle_out_free(&out);
	sealkey_free(key);
	return rc;
}
