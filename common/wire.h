/* wire.h: the one bounded reader and growable writer of SSH wire encoding (RFC 4251) that
 * every parser of outside bytes uses: signatures, certificates, SFTP, the front link. */
#ifndef GW_WIRE_H
#define GW_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A reader: each call returns -1 instead of reading past the end, and then moves nothing. */
struct wire {
	const unsigned char *p;
	size_t left;
};
int wire_u8(struct wire *w, uint8_t *v);
int wire_u32(struct wire *w, uint32_t *v);
int wire_u64(struct wire *w, uint64_t *v);
/* The next n bytes, in place. */
const unsigned char *wire_take(struct wire *w, size_t n);
/* An SSH string, in place (not NUL-terminated). */
int wire_string(struct wire *w, const unsigned char **s, size_t *len);
/* An SSH string copied to out as text of at most max-1 bytes, without NUL bytes. */
int wire_cstring(struct wire *w, char *out, size_t max);
bool wire_equals(const unsigned char *s, size_t len, const char *want);

/* A writer: grows as needed (aborts when memory is exhausted, like xmalloc). */
struct wbuf {
	unsigned char *p;
	size_t len, cap;
};
void wbuf_u8(struct wbuf *b, uint8_t v);
void wbuf_u32(struct wbuf *b, uint32_t v);
void wbuf_u64(struct wbuf *b, uint64_t v);
void wbuf_bytes(struct wbuf *b, const void *s, size_t len);
void wbuf_string(struct wbuf *b, const void *s, size_t len);
void wbuf_cstring(struct wbuf *b, const char *s); /* NULL: the empty string */
void wbuf_free(struct wbuf *b);

#endif
