/* castread.h: the one way a recording's bytes are read back, kept plain (<name>.cast, as the
 * recorder writes it) or compressed once sealed (<name>.cast.zst, one zstd frame of the same
 * bytes). Reads only; a compressed file is hostile input like any other. */
#ifndef GW_CASTREAD_H
#define GW_CASTREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define CASTREAD_PLAIN_SUFFIX ".cast"
#define CASTREAD_ZST_SUFFIX   ".cast.zst"

/* What reading the bytes found, beyond what the bytes themselves say. */
enum castread_state {
	CASTREAD_OK,      /* plain, or every zstd frame complete and its checksum right */
	CASTREAD_CUT,     /* the compressed file ends inside a frame */
	CASTREAD_CORRUPT, /* the compressed data does not decode (or asks for too much memory) */
};

struct castread;
/* Opens path, plain or zstd (known by its first bytes, or a name ending ".zst"); NULL with
 * errno. */
struct castread *castread_open(const char *path);
/* The decompressed bytes as a stream (getline and the like); owned by cr. */
FILE *castread_file(struct castread *cr);
bool castread_is_compressed(const struct castread *cr);
/* Whether a file that starts with head's n bytes is read as compressed (zstd's magic number;
 * castread_open takes a ".zst" name as compressed too). */
bool castread_has_magic(const void *head, size_t n);
/* The state so far (final once the stream reads EOF or an error); *why, when not NULL, says
 * what went wrong in a few words ("" when OK). */
enum castread_state castread_state(const struct castread *cr, const char **why);
/* Reads a compressed file to its end (discarding) and returns the final state: whether the
 * damage a reader stopped at is also damage to the compressed data. Plain: the state as is. */
enum castread_state castread_drain(struct castread *cr);
void castread_close(struct castread *cr);

/* The length of name's recording suffix: 5 for ".cast", 9 for ".cast.zst" (the name may be
 * the suffix alone), 0 for anything else (a compressor's temporary file among them). */
size_t castread_suffix_len(const char *name);
/* Whether name (in dir) is a ".cast.zst" whose plain ".cast" is still there: a compression
 * cut off by a crash between its rename and its unlink. The plain file is the one read then
 * (both hold the same bytes), so directory walks skip the compressed twin. */
bool castread_is_shadowed(const char *dir, const char *name);
/* stem + ".cast" when that file exists, else stem + ".cast.zst" when that one does, else
 * NULL (errno ENOENT). The caller frees. */
char *castread_find(const char *stem);

#endif
