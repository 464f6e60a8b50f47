/* xmalloc.h: allocation that never returns NULL.
 * Out of memory ends the process (one session), so callers need no OOM branches. */
#ifndef GW_XMALLOC_H
#define GW_XMALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xreallocarray(void *ptr, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
int xasprintf(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Wipes then frees; for buffers that held secrets. NULL is fine. */
void freezero(void *ptr, size_t size);
/* For the vendor-facing process, which relays bulk data through libssh. */
void xmalloc_tune_relay(void);

#endif
