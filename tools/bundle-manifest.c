/* bundle-manifest.c: a bundle's MANIFEST (the SHA-256 of every other file, as sha256sum prints
 * them) and MANIFEST.sig (the seal key's Ed25519 signature of it), written and checked. */
#include "tools/bundle.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "common/xmalloc.h"

#define MANIFEST     "MANIFEST"
#define MANIFEST_SIG "MANIFEST.sig"
#define MANIFEST_MAX (16 * 1024 * 1024) /* a MANIFEST longer than this is not ours */

int
bundle_file_sha256(const char *path, char hex[SEAL_HEX_LEN])
{
	unsigned char buf[65536], md[SEAL_HASH_LEN];
	EVP_MD_CTX *ctx;
	size_t n;
	FILE *f;
	int rc = 0;

	if ((f = fopen(path, "re")) == NULL)
		return -1;
	ctx = EVP_MD_CTX_new();
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		EVP_DigestUpdate(ctx, buf, n);
	if (ferror(f))
		rc = -1;
	EVP_DigestFinal_ex(ctx, md, NULL);
	EVP_MD_CTX_free(ctx);
	fclose(f);
	seal_hex(md, SEAL_HASH_LEN, hex);
	return rc;
}

static int
manifest_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file under dir/rel but the MANIFEST's own two, as paths relative to dir. */
static void
manifest_collect(const char *dir, const char *rel, char ***names, size_t *n)
{
	struct dirent *d;
	struct stat st;
	char *path, *sub;
	DIR *dp;

	xasprintf(&path, "%s%s%s", dir, *rel ? "/" : "", rel);
	dp = opendir(path);
	free(path);
	if (dp == NULL)
		return;
	while ((d = readdir(dp)) != NULL) {
		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		if (*rel == '\0' &&
		    (strcmp(d->d_name, MANIFEST) == 0 || strcmp(d->d_name, MANIFEST_SIG) == 0))
			continue;
		xasprintf(&sub, "%s%s%s", rel, *rel ? "/" : "", d->d_name);
		xasprintf(&path, "%s/%s", dir, sub);
		if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
			manifest_collect(dir, sub, names, n);
			free(sub);
		} else {
			*names = xreallocarray(*names, *n + 1, sizeof(**names));
			(*names)[(*n)++] = sub;
		}
		free(path);
	}
	closedir(dp);
	if (*n > 0)
		qsort(*names, *n, sizeof(**names), manifest_cmp);
}

static void
manifest_free(char **names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static int
manifest_file_cmp(const void *a, const void *b)
{
	return strcmp(
	    ((const struct bundle_out_file *)a)->name, ((const struct bundle_out_file *)b)->name);
}

/* One small file of the MANIFEST's two. */
static int
manifest_put(struct bundle_out *o, const char *name, const char *text)
{
	FILE *f;

	if ((f = bundle_out_open(o, name)) == NULL)
		return -1;
	fputs(text, f);
	return bundle_out_close(o, f);
}

int
bundle_manifest_sign(void *key, const char *manifest, char sig[SEAL_SIG_B64_LEN])
{
	char *msg;
	int rc, mlen;

	mlen = xasprintf(&msg, BUNDLE_SIG_PREFIX "%s", manifest);
	rc = sealkey_sign(key, msg, (size_t)mlen, sig);
	free(msg);
	if (rc != 0)
		fprintf(stderr,
		    "gatewayctl: cannot sign the MANIFEST: the seal key's private half "
		    "is needed (run as root on the gateway)\n");
	return rc;
}

int
bundle_manifest_write(struct bundle_out *o, bundle_sign_fn sign, void *arg)
{
	char sig[SEAL_SIG_B64_LEN + 1], *text = NULL;
	size_t i, len = 0;
	FILE *mem;
	int rc;

	/* In name order, as sha256sum of a sorted listing prints them. */
	if (o->nfiles > 0)
		qsort(o->files, o->nfiles, sizeof(*o->files), manifest_file_cmp);
	mem = open_memstream(&text, &len);
	for (i = 0; i < o->nfiles; i++)
		fprintf(mem, "%s  %s\n", o->files[i].sha256, o->files[i].name);
	fclose(mem);
	if ((rc = sign(arg, text, sig)) == 0) {
		strcat(sig, "\n");
		rc = manifest_put(o, MANIFEST, text) != 0 || manifest_put(o, MANIFEST_SIG, sig) != 0
		    ? -1
		    : 0;
	}
	free(text);
	return rc;
}

/* A MANIFEST path names a file inside the bundle: relative, no "..", no control bytes. */
static bool
manifest_path_ok(const char *p)
{
	const char *c;

	if (*p == '\0' || *p == '/' || strcmp(p, "..") == 0 || strncmp(p, "../", 3) == 0 ||
	    strstr(p, "/../") != NULL || (strlen(p) >= 3 && strcmp(p + strlen(p) - 3, "/..") == 0))
		return false;
	for (c = p; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return false;
	return true;
}

/* Each listed file against its sum; returns the problems found. */
static int
manifest_check_sums(const char *dir, char *text, char ***listed, size_t *nlisted)
{
	char *line, *save = NULL, hex[SEAL_HEX_LEN], *path;
	int bad = 0;

	for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		if (strlen(line) < SEAL_HEX_LEN + 2 || line[SEAL_HEX_LEN - 1] != ' ' ||
		    line[SEAL_HEX_LEN] != ' ' || !manifest_path_ok(line + SEAL_HEX_LEN + 1)) {
			printf("%s/" MANIFEST ": malformed line \"%.80s\"\n", dir, line);
			bad++;
			continue;
		}
		line[SEAL_HEX_LEN - 1] = '\0';
		*listed = xreallocarray(*listed, *nlisted + 1, sizeof(**listed));
		(*listed)[(*nlisted)++] = xstrdup(line + SEAL_HEX_LEN + 1);
		xasprintf(&path, "%s/%s", dir, line + SEAL_HEX_LEN + 1);
		if (bundle_file_sha256(path, hex) != 0) {
			printf("%s: missing (the MANIFEST lists it)\n", path);
			bad++;
		} else if (strcmp(hex, line) != 0) {
			printf("%s: altered: its SHA-256 is not the MANIFEST's\n", path);
			bad++;
		}
		free(path);
	}
	return bad;
}

int
bundle_manifest_verify(const char *dir, const struct sealkey *key)
{
	char *text, *sig, *path, *msg, **names = NULL, **listed = NULL;
	size_t len, siglen, n = 0, nlisted = 0, i;
	int bad = 0, mlen;

	xasprintf(&path, "%s/" MANIFEST, dir);
	if (file_read_bounded(path, MANIFEST_MAX, &text, &len) != 0)
		text = NULL;
	free(path);
	xasprintf(&path, "%s/" MANIFEST_SIG, dir);
	if (file_read_bounded(path, SEAL_SIG_B64_LEN + 1, &sig, &siglen) != 0)
		sig = NULL;
	free(path);
	if (text == NULL || sig == NULL || strlen(text) != len) {
		printf("%s/" MANIFEST ": missing or unreadable (with " MANIFEST_SIG ")\n", dir);
		free(text);
		free(sig);
		return -1;
	}
	sig[strcspn(sig, "\n")] = '\0';
	mlen = xasprintf(&msg, BUNDLE_SIG_PREFIX "%s", text);
	if (!sealkey_verify(key, msg, (size_t)mlen, sig)) {
		printf("%s/" MANIFEST ": bad signature: not signed by %s as it stands\n", dir,
		    sealkey_id(key));
		bad++;
	} else
		printf("%s/" MANIFEST ": signed by %s\n", dir, sealkey_id(key));
	free(msg);
	free(sig);
	bad += manifest_check_sums(dir, text, &listed, &nlisted);
	free(text);
	if (nlisted > 0)
		qsort(listed, nlisted, sizeof(*listed), manifest_cmp);
	manifest_collect(dir, "", &names, &n);
	for (i = 0; i < n; i++)
		if (nlisted == 0 ||
		    bsearch(&names[i], listed, nlisted, sizeof(*listed), manifest_cmp) == NULL) {
			printf("%s/%s: not in the MANIFEST\n", dir, names[i]);
			bad++;
		}
	manifest_free(names, n);
	manifest_free(listed, nlisted);
	return bad;
}
