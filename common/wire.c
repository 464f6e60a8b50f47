/* wire.c: owns the bounded SSH wire reader and the growable writer shared by every parser of
 * outside bytes. Reads never go past the end; a failed read moves nothing. */
#include "common/wire.h"

#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"

int
wire_u8(struct wire *w, uint8_t *v)
{
	if (w->left < 1)
		return -1;
	*v = w->p[0];
	w->p++;
	w->left--;
	return 0;
}

int
wire_u32(struct wire *w, uint32_t *v)
{
	if (w->left < 4)
		return -1;
	*v = (uint32_t)w->p[0] << 24 | (uint32_t)w->p[1] << 16 | (uint32_t)w->p[2] << 8 | w->p[3];
	w->p += 4;
	w->left -= 4;
	return 0;
}

int
wire_u64(struct wire *w, uint64_t *v)
{
	uint32_t hi, lo;

	if (w->left < 8 || wire_u32(w, &hi) != 0 || wire_u32(w, &lo) != 0)
		return -1;
	*v = (uint64_t)hi << 32 | lo;
	return 0;
}

const unsigned char *
wire_take(struct wire *w, size_t n)
{
	const unsigned char *p = w->p;

	if (w->left < n)
		return NULL;
	w->p += n;
	w->left -= n;
	return p;
}

int
wire_string(struct wire *w, const unsigned char **s, size_t *len)
{
	struct wire save = *w;
	uint32_t n;

	if (wire_u32(w, &n) != 0 || n > w->left) {
		*w = save;
		return -1;
	}
	*s = w->p;
	*len = n;
	w->p += n;
	w->left -= n;
	return 0;
}

int
wire_cstring(struct wire *w, char *out, size_t max)
{
	struct wire save = *w;
	const unsigned char *s;
	size_t len;

	if (wire_string(w, &s, &len) != 0 || len >= max || memchr(s, '\0', len) != NULL) {
		*w = save;
		return -1;
	}
	memcpy(out, s, len);
	out[len] = '\0';
	return 0;
}

bool
wire_equals(const unsigned char *s, size_t len, const char *want)
{
	return len == strlen(want) && memcmp(s, want, len) == 0;
}

static unsigned char *
wbuf_room(struct wbuf *b, size_t n)
{
	if (b->cap - b->len < n) {
		size_t cap = b->cap ? b->cap : 256;

		while (cap - b->len < n)
			cap *= 2;
		b->p = xreallocarray(b->p, cap, 1);
		b->cap = cap;
	}
	b->len += n;
	return b->p + b->len - n;
}

void
wbuf_u8(struct wbuf *b, uint8_t v)
{
	*wbuf_room(b, 1) = v;
}

void
wbuf_u32(struct wbuf *b, uint32_t v)
{
	unsigned char *p = wbuf_room(b, 4);

	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

void
wbuf_u64(struct wbuf *b, uint64_t v)
{
	wbuf_u32(b, (uint32_t)(v >> 32));
	wbuf_u32(b, (uint32_t)v);
}

void
wbuf_bytes(struct wbuf *b, const void *s, size_t len)
{
	if (len > 0)
		memcpy(wbuf_room(b, len), s, len);
}

void
wbuf_string(struct wbuf *b, const void *s, size_t len)
{
	wbuf_u32(b, (uint32_t)len);
	wbuf_bytes(b, s, len);
}

void
wbuf_cstring(struct wbuf *b, const char *s)
{
	wbuf_string(b, s, s != NULL ? strlen(s) : 0);
}

void
wbuf_free(struct wbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}
