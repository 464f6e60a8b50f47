/* tarstream.c: the ustar writer of tarstream.h: headers with their checksum, members padded to
 * 512 bytes, two zero blocks at the end. Refuses what ustar cannot hold rather than extending it.
 */
#include "tools/tarstream.h"

#include <errno.h>
#include <string.h>

#define TAR_NAME_LEN   100
#define TAR_PREFIX_LEN 155
#define TAR_SIZE_MAX   077777777777ULL /* 11 octal digits: 8 GiB - 1 */

/* Where name splits into prefix and name: at a '/' leaving at most 100 bytes after it; -1 when
 * no split fits, 0 when none is needed. */
static long
tar_split(const char *name)
{
	size_t len = strlen(name), i;

	if (len == 0)
		return -1;
	if (len <= TAR_NAME_LEN)
		return 0;
	for (i = len - TAR_NAME_LEN - 1; i < len && i <= TAR_PREFIX_LEN; i++)
		if (name[i] == '/' && i > 0 && len - i - 1 > 0)
			return (long)i;
	return -1;
}

int
tar_header_fill(unsigned char hdr[TAR_BLOCK], const char *name, char type, unsigned mode,
    size_t size, time_t mtime)
{
	long split = tar_split(name);
	unsigned sum = 0;
	size_t i;

	if (split < 0 || (unsigned long long)size > TAR_SIZE_MAX || mtime < 0) {
		errno = EINVAL;
		return -1;
	}
	memset(hdr, 0, TAR_BLOCK);
	if (split == 0)
		memcpy(hdr, name, strlen(name));
	else {
		memcpy(hdr + 345, name, (size_t)split);
		memcpy(hdr, name + split + 1, strlen(name + split + 1));
	}
	snprintf((char *)hdr + 100, 8, "%07o", mode & 07777);
	snprintf((char *)hdr + 108, 8, "%07o", 0);
	snprintf((char *)hdr + 116, 8, "%07o", 0);
	snprintf((char *)hdr + 124, 12, "%011llo", (unsigned long long)size);
	snprintf((char *)hdr + 136, 12, "%011llo", (unsigned long long)mtime & TAR_SIZE_MAX);
	hdr[156] = (unsigned char)type;
	memcpy(hdr + 257, "ustar", 6); /* magic with its NUL, then version "00" */
	memcpy(hdr + 263, "00", 2);
	/* The checksum is the bytes' sum with its own field read as spaces. */
	memset(hdr + 148, ' ', 8);
	for (i = 0; i < TAR_BLOCK; i++)
		sum += hdr[i];
	snprintf((char *)hdr + 148, 8, "%06o", sum);
	hdr[155] = ' ';
	return 0;
}

static int
tar_put(FILE *out, const char *name, char type, unsigned mode, const void *data, size_t len,
    time_t mtime)
{
	static const unsigned char zeros[TAR_BLOCK];
	unsigned char hdr[TAR_BLOCK];
	size_t pad = (TAR_BLOCK - len % TAR_BLOCK) % TAR_BLOCK;

	if (tar_header_fill(hdr, name, type, mode, len, mtime) != 0)
		return -1;
	if (fwrite(hdr, 1, sizeof(hdr), out) != sizeof(hdr) ||
	    (len > 0 && fwrite(data, 1, len, out) != len) ||
	    (pad > 0 && fwrite(zeros, 1, pad, out) != pad))
		return -1;
	return 0;
}

int
tar_put_file(FILE *out, const char *name, const void *data, size_t len, time_t mtime)
{
	return tar_put(out, name, '0', 0644, data, len, mtime);
}

int
tar_put_dir(FILE *out, const char *name, time_t mtime)
{
	char slashed[TAR_PREFIX_LEN + 1 + TAR_NAME_LEN + 1];
	size_t len = strlen(name);

	/* A folder's name ends in '/', as GNU tar and bsdtar write it. */
	if (len + 2 > sizeof(slashed)) {
		errno = EINVAL;
		return -1;
	}
	snprintf(
	    slashed, sizeof(slashed), "%s%s", name, len > 0 && name[len - 1] == '/' ? "" : "/");
	return tar_put(out, slashed, '5', 0755, NULL, 0, mtime);
}

int
tar_end(FILE *out)
{
	static const unsigned char zeros[2 * TAR_BLOCK];

	return fwrite(zeros, 1, sizeof(zeros), out) == sizeof(zeros) && fflush(out) == 0 ? 0 : -1;
}
