/* castpack.h: keeps a sealed recording compressed (<name>.cast -> <name>.cast.zst, the same
 * bytes in one zstd frame), so that a crash at any step leaves a complete recording. */
#ifndef GW_CASTPACK_H
#define GW_CASTPACK_H

#include <stddef.h>

struct sealkey;

/* The zstd level: 3, zstd's default, about as fast as the disk on a 2-core gateway. */
#define CASTPACK_LEVEL 3

/* Compresses the plain recording path (ending ".cast") into path ".zst": written under the
 * temporary name path ".zst.tmp", fsynced, checked (with key: it must verify intact, read
 * back through castread; without: not checked), renamed into place, the directory fsynced,
 * and only then the plain file unlinked and the directory fsynced again. 0, or -1 with why
 * (a few words, errno's text included) in err; the plain file is then left as it was and
 * the temporary one removed. 0 with err not empty: compressed, but the plain file could not
 * be removed (both stay; readers take the plain one). */
int castpack_compress(const char *path, const struct sealkey *key, char *err, size_t errlen);

#endif
