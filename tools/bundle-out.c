/* bundle-out.c: where an export's files go: into the new bundle folder, or as members of a ustar
 * archive on a stream (tarstream.h) when no file may be created. Either way the same bytes. */
#include "tools/bundle.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "common/xmalloc.h"
#include "tools/tarstream.h"

/* Members are held whole until their size is known; what would not fit is refused. */
#define BUNDLE_MEMBER_MAX ((size_t)256 * 1024 * 1024)

static void
out_sha256(const void *data, size_t len, char hex[SEAL_HEX_LEN])
{
	unsigned char md[SEAL_HASH_LEN];
	unsigned int mdlen = sizeof(md);

	EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
	seal_hex(md, SEAL_HASH_LEN, hex);
}

static char *
out_path(const struct bundle_out *o, const char *name)
{
	char *path;

	xasprintf(&path, "%s/%s", o->dir, name);
	return path;
}

int
bundle_out_dir(struct bundle_out *o, const char *name)
{
	char *path = out_path(o, name);
	int rc;

	if (o->tar != NULL)
		rc = tar_put_dir(o->tar, path, o->mtime);
	else
		rc = mkdir(path, 0755);
	if (rc != 0)
		fprintf(stderr, "gatewayctl: %s: %s%s\n", path, strerror(errno),
		    errno == EEXIST && *name == '\0' ? " (a bundle goes into a new folder)" : "");
	free(path);
	return rc;
}

FILE *
bundle_out_open(struct bundle_out *o, const char *name)
{
	FILE *f;

	o->name = xstrdup(name);
	o->len = 0;
	if (o->tar != NULL)
		f = open_memstream(&o->buf, &o->len);
	else {
		o->path = out_path(o, name);
		f = fopen(o->path, "we");
	}
	if (f == NULL) {
		fprintf(stderr, "gatewayctl: %s: %m\n", name);
		free(o->name);
		free(o->path);
		o->name = o->path = NULL;
	}
	return f;
}

/* Notes a written file for the MANIFEST. */
static void
out_list(struct bundle_out *o, const char hex[SEAL_HEX_LEN])
{
	o->files = xreallocarray(o->files, o->nfiles + 1, sizeof(*o->files));
	o->files[o->nfiles].name = o->name;
	memcpy(o->files[o->nfiles].sha256, hex, SEAL_HEX_LEN);
	o->nfiles++;
	o->name = NULL;
}

int
bundle_out_close(struct bundle_out *o, FILE *f)
{
	char hex[SEAL_HEX_LEN], *path;
	int rc = fclose(f);

	path = o->tar != NULL ? out_path(o, o->name) : o->path;
	if (rc != 0)
		fprintf(stderr, "gatewayctl: %s: %m\n", path);
	else if (o->tar != NULL && o->len > BUNDLE_MEMBER_MAX) {
		fprintf(stderr,
		    "gatewayctl: %s: %zu bytes, more than a streamed bundle holds in one file "
		    "(%zu MiB): export it on the gateway host (-o DIR)\n",
		    o->name, o->len, BUNDLE_MEMBER_MAX >> 20);
		rc = -1;
	} else if (o->tar != NULL) {
		out_sha256(o->buf, o->len, hex);
		if ((rc = tar_put_file(o->tar, path, o->buf, o->len, o->mtime)) != 0)
			fprintf(stderr, "gatewayctl: %s: %s\n", path,
			    errno == EINVAL ? "its name does not fit a ustar header"
			                    : "the archive's stream failed");
	} else if ((rc = bundle_file_sha256(path, hex)) != 0)
		fprintf(stderr, "gatewayctl: %s: %m\n", path);
	if (rc == 0)
		out_list(o, hex);
	free(o->name);
	free(path);
	free(o->buf);
	o->name = o->path = o->buf = NULL;
	return rc;
}

int
bundle_out_copy_fd(struct bundle_out *o, int fd, const char *from, const char *name)
{
	char buf[65536];
	struct stat st;
	off_t off = 0;
	ssize_t n;
	FILE *out;
	int rc = 0;

	/* Refused before it is read, not once it filled the memory. */
	if (o->tar != NULL && fstat(fd, &st) == 0 && (size_t)st.st_size > BUNDLE_MEMBER_MAX) {
		fprintf(stderr,
		    "gatewayctl: %s: %lld bytes, more than a streamed bundle holds in one file "
		    "(%zu MiB): export it on the gateway host (-o DIR)\n",
		    from, (long long)st.st_size, BUNDLE_MEMBER_MAX >> 20);
		return -1;
	}
	if ((out = bundle_out_open(o, name)) == NULL)
		return -1;
	/* pread: a descriptor opened once (the player's) is read from its start each time. */
	while ((n = pread(fd, buf, sizeof(buf), off)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "gatewayctl: %s: %m\n", from);
			rc = -1;
			break;
		}
		off += n;
		if (fwrite(buf, 1, (size_t)n, out) != (size_t)n)
			rc = -1;
	}
	if (bundle_out_close(o, out) != 0)
		rc = -1;
	return rc;
}

int
bundle_out_copy(struct bundle_out *o, const char *from, const char *name)
{
	int fd, rc;

	if ((fd = open(from, O_RDONLY | O_CLOEXEC)) < 0) {
		fprintf(stderr, "gatewayctl: %s: %m\n", from);
		return -1;
	}
	rc = bundle_out_copy_fd(o, fd, from, name);
	close(fd);
	return rc;
}

int
bundle_out_end(struct bundle_out *o)
{
	if (o->tar != NULL && tar_end(o->tar) != 0) {
		fprintf(stderr, "gatewayctl: the archive's stream failed: %m\n");
		return -1;
	}
	return 0;
}

void
bundle_out_free(struct bundle_out *o)
{
	size_t i;

	for (i = 0; i < o->nfiles; i++)
		free(o->files[i].name);
	free(o->files);
}
