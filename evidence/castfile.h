/* castfile.h: a recording read back (docs/recording-format.md): the asciicast v2 header and
 * each event with its exact bytes, as gatewayctl's replay, search and transcript read it. */
#ifndef GW_CASTFILE_H
#define GW_CASTFILE_H

#include <stddef.h>

#include <jansson.h>

/* One event: stream is "o", "e", "i", "n" or "r" with the exact bytes (raw "ob"/... events
 * are decoded), or another code ("h", "x") with value set. */
struct cast_event {
	double time;
	char code[8];
	const unsigned char *data;
	size_t len;
	json_t *value; /* the event's data member; valid until the next event */
};

struct castfile;
struct castfile *castfile_open(const char *path);
const json_t *castfile_header(const struct castfile *cf);
/* 1 with an event, 0 at the end, -1 on a malformed line. */
int castfile_next(struct castfile *cf, struct cast_event *ev);
void castfile_close(struct castfile *cf);

#endif
