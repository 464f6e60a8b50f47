/* castread.c: opens a recording for reading, plain or zstd-compressed, as one stream of its
 * bytes. Decompression is streaming with a bounded window and a bounded line, so a hostile
 * file costs at most a few MiB of memory; a bad frame is a state the verifier reports. */
#include "evidence/castread.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zstd.h>

#include "common/xmalloc.h"

/* A sealed recording is compressed with the default window of its level (castpack.c: 2 MiB at
 * level 3); a frame asking for more than 8 MiB is refused, not allocated. */
#define CASTREAD_WINDOW_LOG_MAX 23
/* No line the recorder writes comes near this (an event holds at most 64 KiB of bytes, a
 * checkpoint 1024 digests): a longer one is a decompression bomb aimed at getline. */
#define CASTREAD_LINE_MAX ((size_t)16 << 20)

static const unsigned char zstd_magic[4] = { 0x28, 0xb5, 0x2f, 0xfd };

struct castread {
	FILE *f;
	int fd;
	bool compressed;
	ZSTD_DCtx *dctx;
	unsigned char *in;
	ZSTD_inBuffer inb;
	size_t in_cap;
	bool in_eof;
	size_t frame_left; /* ZSTD_decompressStream's last hint: 0 at a frame's end */
	size_t line_len;   /* bytes delivered since the last newline */
	enum castread_state state;
	const char *why;
};

static void
castread_fail(struct castread *cr, enum castread_state state, const char *why)
{
	if (cr->state == CASTREAD_OK) {
		cr->state = state;
		cr->why = why;
	}
}

/* fopencookie's read: decompressed bytes into buf, 0 at the end, -1 (EIO) on bad data. */
static ssize_t
castread_cookie_read(void *cookie, char *buf, size_t size)
{
	struct castread *cr = cookie;
	ZSTD_outBuffer out = { .dst = buf, .size = size, .pos = 0 };
	const char *nl;
	ssize_t n;
	size_t rc;

	if (cr->state == CASTREAD_CORRUPT) {
		errno = EIO;
		return -1;
	}
	while (out.pos == 0) {
		if (cr->inb.pos == cr->inb.size && !cr->in_eof) {
			do
				n = read(cr->fd, cr->in, cr->in_cap);
			while (n < 0 && errno == EINTR);
			if (n < 0)
				return -1;
			cr->inb.src = cr->in;
			cr->inb.size = (size_t)n;
			cr->inb.pos = 0;
			cr->in_eof = n == 0;
		}
		if (cr->inb.pos == cr->inb.size && cr->in_eof) {
			/* The data ends; inside a frame, the file was cut. */
			if (cr->frame_left != 0)
				castread_fail(cr, CASTREAD_CUT, "compressed file cut off");
			return 0;
		}
		rc = ZSTD_decompressStream(cr->dctx, &out, &cr->inb);
		if (ZSTD_isError(rc)) {
			castread_fail(cr, CASTREAD_CORRUPT, ZSTD_getErrorName(rc));
			errno = EIO;
			return -1;
		}
		cr->frame_left = rc;
	}
	/* Bytes since the last newline, so that no single line outgrows the bound. */
	if ((nl = memrchr(buf, '\n', out.pos)) != NULL)
		cr->line_len = out.pos - (size_t)(nl - buf) - 1;
	else
		cr->line_len += out.pos;
	if (cr->line_len > CASTREAD_LINE_MAX) {
		castread_fail(cr, CASTREAD_CORRUPT, "a line longer than 16 MiB");
		errno = EIO;
		return -1;
	}
	return (ssize_t)out.pos;
}

static int
castread_cookie_close(void *cookie)
{
	struct castread *cr = cookie;

	return close(cr->fd);
}

static bool
castread_ends_with(const char *name, const char *suffix)
{
	size_t n = strlen(name), s = strlen(suffix);

	return n >= s && strcmp(name + n - s, suffix) == 0;
}

bool
castread_has_magic(const void *head, size_t n)
{
	return n >= sizeof(zstd_magic) && memcmp(head, zstd_magic, sizeof(zstd_magic)) == 0;
}

struct castread *
castread_open(const char *path)
{
	static const cookie_io_functions_t io = { .read = castread_cookie_read,
		.close = castread_cookie_close };
	unsigned char magic[sizeof(zstd_magic)];
	struct castread *cr;
	ssize_t got;
	int fd, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return NULL;
	cr = xcalloc(1, sizeof(*cr));
	cr->fd = fd;
	cr->why = "";
	/* By its first bytes; a ".zst" name also, so that damage to its magic number is bad
	 * compressed data rather than a plain file of garbage. */
	cr->compressed = castread_ends_with(path, ".zst") ||
	    ((got = pread(fd, magic, sizeof(magic), 0)) > 0 &&
	        castread_has_magic(magic, (size_t)got));
	if (!cr->compressed) {
		if ((cr->f = fdopen(fd, "re")) == NULL)
			goto fail;
		return cr;
	}
	if ((cr->dctx = ZSTD_createDCtx()) == NULL ||
	    ZSTD_isError(
	        ZSTD_DCtx_setParameter(cr->dctx, ZSTD_d_windowLogMax, CASTREAD_WINDOW_LOG_MAX))) {
		errno = ENOMEM;
		goto fail;
	}
	cr->in_cap = ZSTD_DStreamInSize();
	cr->in = xmalloc(cr->in_cap);
	if ((cr->f = fopencookie(cr, "r", io)) == NULL)
		goto fail;
	return cr;
fail:
	saved = errno;
	close(fd);
	ZSTD_freeDCtx(cr->dctx);
	free(cr->in);
	free(cr);
	errno = saved;
	return NULL;
}

FILE *
castread_file(struct castread *cr)
{
	return cr->f;
}

bool
castread_is_compressed(const struct castread *cr)
{
	return cr->compressed;
}

enum castread_state
castread_state(const struct castread *cr, const char **why)
{
	if (why != NULL)
		*why = cr->why;
	return cr->state;
}

enum castread_state
castread_drain(struct castread *cr)
{
	char buf[8192];

	if (cr->compressed)
		while (cr->state == CASTREAD_OK && fread(buf, 1, sizeof(buf), cr->f) > 0)
			;
	return cr->state;
}

void
castread_close(struct castread *cr)
{
	if (cr == NULL)
		return;
	fclose(cr->f); /* closes fd, itself or through the cookie */
	ZSTD_freeDCtx(cr->dctx);
	free(cr->in);
	free(cr);
}

size_t
castread_suffix_len(const char *name)
{
	if (castread_ends_with(name, CASTREAD_PLAIN_SUFFIX))
		return strlen(CASTREAD_PLAIN_SUFFIX);
	if (castread_ends_with(name, CASTREAD_ZST_SUFFIX))
		return strlen(CASTREAD_ZST_SUFFIX);
	return 0;
}

bool
castread_is_shadowed(const char *dir, const char *name)
{
	char *plain;
	size_t n = strlen(name) - strlen(".zst");
	bool shadowed;

	if (!castread_ends_with(name, CASTREAD_ZST_SUFFIX))
		return false;
	xasprintf(&plain, "%s/%.*s", dir, (int)n, name);
	shadowed = access(plain, F_OK) == 0;
	free(plain);
	return shadowed;
}

char *
castread_find(const char *stem)
{
	char *path;

	xasprintf(&path, "%s" CASTREAD_PLAIN_SUFFIX, stem);
	if (access(path, F_OK) == 0)
		return path;
	free(path);
	xasprintf(&path, "%s" CASTREAD_ZST_SUFFIX, stem);
	if (access(path, F_OK) == 0)
		return path;
	free(path);
	errno = ENOENT;
	return NULL;
}
