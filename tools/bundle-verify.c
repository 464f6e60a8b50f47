/* bundle-verify.c: `gatewayctl evidence verify DIR [--key FILE]`: the MANIFEST's signature and
 * sums, every recording's own chain and signatures, and the audit slice. Reads only; each
 * problem is one line naming the file. */
#include "tools/bundle.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "evidence/castread.h"
#include "evidence/pcapread.h"

bool
bundle_verdict_good(const struct verdict *v)
{
	/* Truncated (a session process that died) and live are what they say, not altered: the
	 * signed prefix stands. */
	return v->kind == VERDICT_INTACT || v->kind == VERDICT_TRUNCATED || v->kind == VERDICT_LIVE;
}

/* Each recording on its own: a MANIFEST rewritten with new sums does not hide an edit. */
static int
verify_recordings(const char *dir, const struct sealkey *key)
{
	struct dirent **names;
	struct verdict v;
	char *path, text[512];
	int i, n, bad = 0;
	xasprintf(&path, "%s/recordings", dir);
	n = scandir(path, &names, NULL, alphasort);
	free(path);
	if (n < 0) {
		printf("%s/recordings: missing\n", dir);
		return 1;
	}
	for (i = 0; i < n; i++) {
		/* Each recording as the gateway kept it, plain or compressed (castread.h), and each
		 * tunnel's pcapng. */
		if (castread_suffix_len(names[i]->d_name) > 0 ||
		    pcapread_name_is_pcapng(names[i]->d_name)) {
			xasprintf(&path, "%s/recordings/%s", dir, names[i]->d_name);
			verify_recording(path, key, &v);
			verdict_format(&v, text, sizeof(text));
			printf("%s: %s\n", path, text);
			if (!bundle_verdict_good(&v))
				bad++;
			free(path);
		}
		free(names[i]);
	}
	free(names);
	return bad;
}

int
bundle_verify(const char *dir, const char *keyfile)
{
	struct sealkey *key;
	json_error_t err;
	json_t *info;
	char *path;
	int bad;

	xasprintf(&path, "%s/" BUNDLE_INFO, dir);
	info = json_load_file(path, 0, &err);
	if (info == NULL || strcmp(bundle_str(info, "format"), BUNDLE_FORMAT) != 0) {
		printf(
		    "%s: not an evidence bundle (%s)\n", path, info == NULL ? err.text : "format");
		free(path);
		json_decref(info);
		return 2;
	}
	free(path);
	if (keyfile == NULL)
		xasprintf(&path, "%s/recording_key.pub", dir);
	else
		path = xstrdup(keyfile);
	if ((key = sealkey_load_public(path)) == NULL) {
		printf("%s: not a usable public key\n", path);
		free(path);
		json_decref(info);
		return 2;
	}
	if (keyfile == NULL)
		printf("%s: the bundle's own key %s: compare it with the gateway's "
		       "(gatewayctl keys export), or give --key\n",
		    path, sealkey_id(key));
	free(path);
	bad = bundle_manifest_verify(dir, key);
	if (bad < 0)
		bad = 1;
	bad += verify_recordings(dir, key);
	if (bundle_slice_verify(dir, info, key) != 0)
		bad++;
	if (bad == 0)
		printf("%s: verified: every file as signed, every recording and the audit slice "
		       "intact\n",
		    dir);
	else
		printf("%s: NOT verified: %d problem(s)\n", dir, bad);
	sealkey_free(key);
	json_decref(info);
	return bad == 0 ? 0 : 1;
}
