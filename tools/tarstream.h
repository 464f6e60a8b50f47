/* tarstream.h: a POSIX ustar archive written as a stream (the evidence bundle on standard output,
 * where no file may be created): each member's size goes in its header, so its bytes are known. */
#ifndef GW_TOOLS_TARSTREAM_H
#define GW_TOOLS_TARSTREAM_H

#include <stdio.h>
#include <time.h>

#define TAR_BLOCK 512

/* One ustar header: name split into prefix and name where it is longer than 100 bytes; mode,
 * size and mtime in octal; uid and gid 0. type '0' (a file) or '5' (a folder). 0, or -1 when
 * the name does not fit ustar's fields or the size its 11 octal digits. */
int tar_header_fill(unsigned char hdr[TAR_BLOCK], const char *name, char type, unsigned mode,
    size_t size, time_t mtime);
/* A file member: its header, its bytes, zeros to the next block. 0, or -1 (errno EINVAL: the name
 * or size does not fit; else the stream failed). */
int tar_put_file(FILE *out, const char *name, const void *data, size_t len, time_t mtime);
/* A folder member; its name gets the trailing '/' if it lacks it. */
int tar_put_dir(FILE *out, const char *name, time_t mtime);
/* The archive's end: two zero blocks. */
int tar_end(FILE *out);

#endif
