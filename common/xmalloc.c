/* xmalloc.c: allocation wrappers that abort on failure.
 * Never used for sizes taken unchecked from the network; callers bound them first. */
#include "common/xmalloc.h"

#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

static void
xmalloc_die(const char *what, size_t size)
{
	syslog(LOG_CRIT, "%s: out of memory allocating %zu bytes", what, size);
	fprintf(stderr, "%s: out of memory allocating %zu bytes\n", what, size);
	abort();
}

void *
xmalloc(size_t size)
{
	void *p = malloc(size == 0 ? 1 : size);

	if (p == NULL)
		xmalloc_die("xmalloc", size);
	return p;
}

void *
xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb == 0 ? 1 : nmemb, size == 0 ? 1 : size);

	if (p == NULL)
		xmalloc_die("xcalloc", nmemb * size);
	return p;
}

void *
xreallocarray(void *ptr, size_t nmemb, size_t size)
{
	void *p = reallocarray(ptr, nmemb == 0 ? 1 : nmemb, size == 0 ? 1 : size);

	if (p == NULL)
		xmalloc_die("xreallocarray", nmemb * size);
	return p;
}

char *
xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		xmalloc_die("xstrdup", strlen(s));
	return p;
}

char *
xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);

	if (p == NULL)
		xmalloc_die("xstrndup", n);
	return p;
}

int
xasprintf(char **out, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(out, fmt, ap);
	va_end(ap);
	if (n < 0)
		xmalloc_die("xasprintf", 0);
	return n;
}

void
freezero(void *ptr, size_t size)
{
	if (ptr == NULL)
		return;
	explicit_bzero(ptr, size);
	free(ptr);
}

/* libssh allocates and frees packet-sized blocks for every packet and grows its channel buffers
 * by realloc: with glibc's default thresholds that memory went back to the kernel and was
 * faulted in again, a quarter of the front's time at bulk rates (perf): with these, its CPU
 * per byte fell by 10-20 %. It keeps what it freed, up to 16 MiB, which its peak use bounds
 * anyway. The monitor measured slower with them (its own buffers are realloc'ed, and copied). */
void
xmalloc_tune_relay(void)
{
	mallopt(M_TRIM_THRESHOLD, 16 * 1024 * 1024);
	mallopt(M_MMAP_THRESHOLD, 4 * 1024 * 1024);
}
