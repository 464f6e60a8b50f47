/* b64.h: base64 (RFC 4648, padded) of a recording's raw bytes, the same text as OpenSSL's
 * EVP_EncodeBlock but faster: on binary output it was a fifth of a session monitor's time. */
#ifndef GW_B64_H
#define GW_B64_H

#include <stddef.h>

#define B64_LEN(n) (4 * (((n) + 2) / 3)) /* characters for n bytes, without a NUL */

/* Writes the B64_LEN(n) characters of p's n bytes to out, no NUL; returns that length. */
size_t b64_encode(char *out, const unsigned char *p, size_t n);

#endif
