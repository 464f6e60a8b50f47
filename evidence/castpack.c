/* castpack.c: compresses one sealed recording into its .cast.zst twin and then removes the
 * plain file, in an order a crash cannot turn into a lost or half recording. Never touches a
 * recording that does not verify intact (when given the key) and never the plain file before
 * the compressed one is durable under its final name. */
#include "evidence/castpack.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zstd.h>

#include "common/xmalloc.h"
#include "evidence/castread.h"
#include "evidence/verify.h"

static int
castpack_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, p, len)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Streams in (size bytes) into out as one frame with its checksum: bounded memory (zstd's
 * stream buffers and a 2 MiB window at level 3), whatever the recording's size. */
static int
castpack_stream(int in, int out, unsigned long long size, char *err, size_t errlen)
{
	size_t in_cap = ZSTD_CStreamInSize(), out_cap = ZSTD_CStreamOutSize(), rc;
	unsigned char *ibuf = xmalloc(in_cap), *obuf = xmalloc(out_cap);
	ZSTD_CCtx *cctx = ZSTD_createCCtx();
	ZSTD_EndDirective mode;
	ZSTD_inBuffer ib;
	ZSTD_outBuffer ob;
	int status = -1;
	ssize_t n;

	if (cctx == NULL ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, CASTPACK_LEVEL)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1)) ||
	    ZSTD_isError(ZSTD_CCtx_setPledgedSrcSize(cctx, size))) {
		snprintf(err, errlen, "zstd cannot start");
		goto out;
	}
	do {
		if ((n = read(in, ibuf, in_cap)) < 0) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "read: %s", strerror(errno));
			goto out;
		}
		mode = n == 0 ? ZSTD_e_end : ZSTD_e_continue;
		ib = (ZSTD_inBuffer){ ibuf, (size_t)n, 0 };
		do {
			ob = (ZSTD_outBuffer){ obuf, out_cap, 0 };
			rc = ZSTD_compressStream2(cctx, &ob, &ib, mode);
			if (ZSTD_isError(rc)) {
				/* A file that grew or shrank after its seal breaks the pledged
				 * size. */
				snprintf(err, errlen, "zstd: %s", ZSTD_getErrorName(rc));
				goto out;
			}
			if (castpack_write_all(out, obuf, ob.pos) != 0) {
				snprintf(err, errlen, "write: %s", strerror(errno));
				goto out;
			}
		} while (mode == ZSTD_e_end ? rc != 0 : ib.pos < ib.size);
	} while (n != 0);
	status = 0;
out:
	ZSTD_freeCCtx(cctx);
	free(ibuf);
	free(obuf);
	return status;
}

static int
castpack_sync_dir(const char *path)
{
	char *copy = xstrdup(path);
	int fd, rc = -1;

	if ((fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		rc = fsync(fd);
		close(fd);
	}
	free(copy);
	return rc;
}

int
castpack_compress(const char *path, const struct sealkey *key, char *err, size_t errlen)
{
	char *tmp, *dst, text[256];
	struct verdict v;
	struct stat st;
	int in, out = -1, rc = -1;

	*err = '\0';
	xasprintf(&dst, "%s.zst", path);
	xasprintf(&tmp, "%s.zst.tmp", path);
	if ((in = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0 || fstat(in, &st) != 0) {
		snprintf(err, errlen, "open: %s", strerror(errno));
		goto out;
	}
	/* A temporary file of an earlier attempt that a crash cut off is no one's. */
	if ((unlink(tmp) != 0 && errno != ENOENT) ||
	    (out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	         st.st_mode & 0666)) < 0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	if (castpack_stream(in, out, (unsigned long long)st.st_size, err, errlen) != 0)
		goto out;
	if (fsync(out) != 0 || close(out) != 0) {
		out = -1;
		snprintf(err, errlen, "fsync: %s", strerror(errno));
		goto out;
	}
	out = -1;
	/* Read back as every reader will: what replaces the plain file must verify. */
	if (key != NULL) {
		verify_recording(tmp, key, &v);
		if (v.kind != VERDICT_INTACT) {
			verdict_format(&v, text, sizeof(text));
			snprintf(
			    err, errlen, "the compressed copy does not verify intact: %s", text);
			goto out;
		}
	}
	if (rename(tmp, dst) != 0 || castpack_sync_dir(dst) != 0) {
		snprintf(err, errlen, "rename to %s: %s", dst, strerror(errno));
		goto out;
	}
	/* From here both forms are complete; a crash before the unlink leaves both, and
	 * readers take the plain one (castread_is_shadowed). */
	if (unlink(path) != 0 || castpack_sync_dir(path) != 0) {
		snprintf(err, errlen, "unlink: %s", strerror(errno));
		rc = 0; /* the recording is kept, twice: err says why */
		goto done;
	}
	rc = 0;
	goto done;
out:
	if (out >= 0)
		close(out);
	unlink(tmp);
done:
	if (in >= 0)
		close(in);
	free(tmp);
	free(dst);
	return rc;
}
