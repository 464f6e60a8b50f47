/* fuzz.h: what the libFuzzer harnesses share: the input as a file (most parsers take a
 * path), as a C string, and the seed data under tests/. Header-only, for fuzz_*.c only;
 * everything it makes lives in one private temporary directory removed at exit. */
#ifndef GW_FUZZ_H
#define GW_FUZZ_H

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/xmalloc.h"
#include "policy/policy.h"

#define FUZZ_FILES_MAX 8

static char fuzz_tmp[64];
static char *fuzz_made[FUZZ_FILES_MAX];
static size_t fuzz_nmade;

static void
fuzz_cleanup(void)
{
	while (fuzz_nmade > 0) {
		unlink(fuzz_made[--fuzz_nmade]);
		free(fuzz_made[fuzz_nmade]);
	}
	if (fuzz_tmp[0] != '\0')
		rmdir(fuzz_tmp);
}

/* The private directory; tmpfs (/dev/shm) when there is one, for speed. */
static __attribute__((unused)) const char *
fuzz_dir(void)
{
	if (fuzz_tmp[0] != '\0')
		return fuzz_tmp;
	snprintf(fuzz_tmp, sizeof(fuzz_tmp), "%s/gw-fuzz.XXXXXX",
	    access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	if (mkdtemp(fuzz_tmp) == NULL)
		abort();
	atexit(fuzz_cleanup);
	return fuzz_tmp;
}

/* Writes data to DIR/name (replacing it) and returns the path, owned by fuzz.h. */
static __attribute__((unused)) const char *
fuzz_file(const char *name, const uint8_t *data, size_t size)
{
	char *path;
	size_t i;
	FILE *f;

	xasprintf(&path, "%s/%s", fuzz_dir(), name);
	for (i = 0; i < fuzz_nmade && strcmp(fuzz_made[i], path) != 0; i++)
		;
	if (i == fuzz_nmade) {
		if (fuzz_nmade == FUZZ_FILES_MAX)
			abort();
		fuzz_made[fuzz_nmade++] = path;
	} else {
		free(path);
	}
	if ((f = fopen(fuzz_made[i], "we")) == NULL || fwrite(data, 1, size, f) != size ||
	    fclose(f) != 0)
		abort();
	return fuzz_made[i];
}

/* The input as a C string (it may hold NULs, which end it early, as for any C caller). */
static __attribute__((unused)) char *
fuzz_string(const uint8_t *data, size_t size)
{
	char *s = xmalloc(size + 1);

	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* A file under tests/ (FUZZ_TESTS_DIR), NUL-terminated; aborts when missing: a harness
 * without its fixed data would fuzz nothing useful. */
static __attribute__((unused)) char *
fuzz_data(const char *rel, size_t *len)
{
	char *path, *buf;
	size_t n;

	xasprintf(&path, "%s/%s", FUZZ_TESTS_DIR, rel);
	if (file_read_bounded(path, 1 << 20, &buf, &n) != 0) {
		fprintf(stderr, "fuzz: cannot read %s\n", path);
		abort();
	}
	free(path);
	if (len != NULL)
		*len = n;
	return buf;
}

/* Calls fn for each file named seed-* of tests/fuzz/corpus/<corpus> (the originals an oracle
 * compares with), with its path and bytes (fuzz.h frees them after); aborts when the folder is
 * missing. */
static __attribute__((unused)) void
fuzz_seeds(const char *corpus, void (*fn)(const char *path, const char *text, size_t len))
{
	struct dirent *d;
	char *dir, *path, *text;
	size_t len;
	DIR *dp;

	xasprintf(&dir, "%s/fuzz/corpus/%s", FUZZ_TESTS_DIR, corpus);
	if ((dp = opendir(dir)) == NULL)
		abort();
	while ((d = readdir(dp)) != NULL) {
		if (strncmp(d->d_name, "seed-", 5) != 0)
			continue;
		xasprintf(&path, "%s/%s", dir, d->d_name);
		if (file_read_bounded(path, 1 << 22, &text, &len) != 0)
			abort();
		fn(path, text, len);
		free(text);
		free(path);
	}
	closedir(dp);
	free(dir);
}

#endif
