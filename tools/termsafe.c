/* termsafe.c: every gatewayctl output of vendor- or target-chosen bytes passes through here, so
 * a name like "\e[2J" shows as text instead of clearing the auditor's screen. Only replay and
 * watch, whose job is to reproduce the terminal, write such bytes raw. */
#include "tools/termsafe.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"

/* Length of the valid UTF-8 sequence at p (at most n bytes) and its code point, or 0 when the
 * bytes are not UTF-8 (overlong, surrogate, beyond U+10FFFF, cut short). */
static size_t
termsafe_utf8(const unsigned char *p, size_t n, uint32_t *cp)
{
	static const uint32_t min[] = { 0, 0, 0x80, 0x800, 0x10000 };
	size_t len, i;
	uint32_t c;

	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2, c = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3, c = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4, c = p[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3f);
	}
	if (c < min[len] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

/* Characters that reorder or break what follows on screen: line and paragraph separators,
 * bidirectional marks, embeddings, overrides and isolates. */
static bool
termsafe_hidden(uint32_t c)
{
	return c == 0x2028 || c == 0x2029 || (c >= 0x200e && c <= 0x200f) ||
	    (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
}

char *
termsafe_format(const void *buf, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = buf;
	/* The longest escape is \uNNNN (6 bytes) for 2 or 3 input bytes, \xNN (4) for 1. */
	char *out = xmalloc(len * 4 + 1), *o = out;
	size_t i = 0, n;
	uint32_t c;

	while (i < len) {
		n = termsafe_utf8(p + i, len - i, &c);
		if (n == 0 || c < 0x20 || c == 0x7f || c == '\\' || (n == 2 && c <= 0x9f)) {
			const char *named = n == 0 ? NULL
			    : c == 0x1b            ? "\\e"
			    : c == '\r'            ? "\\r"
			    : c == '\n'            ? "\\n"
			    : c == '\t'            ? "\\t"
			    : c == '\\'            ? "\\\\"
			                           : NULL;
			size_t k, raw = n <= 1 ? 1 : n; /* a C1 control: each of its two bytes */

			if (named != NULL) {
				memcpy(o, named, 2);
				o += 2;
			} else
				for (k = 0; k < raw; k++) {
					*o++ = '\\', *o++ = 'x';
					*o++ = hex[p[i + k] >> 4], *o++ = hex[p[i + k] & 15];
				}
			i += raw;
		} else if (termsafe_hidden(c)) {
			*o++ = '\\', *o++ = 'u';
			*o++ = hex[c >> 12 & 15], *o++ = hex[c >> 8 & 15];
			*o++ = hex[c >> 4 & 15], *o++ = hex[c & 15];
			i += n;
		} else {
			memcpy(o, p + i, n);
			o += n, i += n;
		}
	}
	*o = '\0';
	return out;
}

char *
termsafe_str(const char *s)
{
	return s != NULL ? termsafe_format(s, strlen(s)) : xstrdup("-");
}

void
termsafe_print(FILE *f, const char *s)
{
	char *safe = termsafe_str(s);

	fputs(safe, f);
	free(safe);
}
