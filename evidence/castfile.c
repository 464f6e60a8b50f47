/* castfile.c: reads a recording back (plain or compressed, through castread.c) as its
 * asciicast v2 header and events, raw ("ob"...) events decoded to their exact bytes. Reads
 * only; bounds every length from the file first. */
#include "evidence/castfile.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/xmalloc.h"
#include "evidence/castread.h"
#include "evidence/pcapread.h"

struct castfile {
	struct castread *cr; /* plain or compressed, the same bytes */
	FILE *f;
	json_t *header;
	json_t *ev;
	char *line;
	size_t cap;
	unsigned char *bytes;
	size_t bytes_cap;
};

struct castfile *
castfile_open(const char *path)
{
	struct castfile *cf;
	struct castread *cr;
	ssize_t n;

	if ((cr = castread_open(path)) == NULL) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return NULL;
	}
	cf = xcalloc(1, sizeof(*cf));
	cf->cr = cr;
	cf->f = castread_file(cr);
	if ((n = getline(&cf->line, &cf->cap, cf->f)) <= 0 ||
	    (cf->header = json_loadb(cf->line, (size_t)n, 0, NULL)) == NULL ||
	    json_integer_value(json_object_get(cf->header, "version")) != 2) {
		/* A forwarded connection's recording (pcaprec.c) lies beside the casts: its magic
		 * is read from the file itself (its first byte ends a line). */
		unsigned char magic[12];
		FILE *m = fopen(path, "rb");
		size_t got = m != NULL ? fread(magic, 1, sizeof(magic), m) : 0;

		if (m != NULL)
			fclose(m);
		if (pcapread_is_pcapng(magic, got))
			fprintf(stderr,
			    "%s: a forwarded connection (pcapng), not a terminal recording: read "
			    "it "
			    "with tshark or Wireshark, check it with gatewayctl recording verify\n",
			    path);
		else
			fprintf(stderr, "%s: not an asciicast v2 recording\n", path);
		castfile_close(cf);
		return NULL;
	}
	return cf;
}

const json_t *
castfile_header(const struct castfile *cf)
{
	return cf->header;
}

/* The event codes whose data is a string of bytes (raw "ob"... as base64). */
static bool
castfile_is_stream(const char *code)
{
	static const char *const streams[] = { "o", "e", "i", "n", "r", "ob", "eb", "ib", "nb",
		NULL };
	const char *const *s;

	for (s = streams; *s != NULL; s++)
		if (strcmp(code, *s) == 0)
			return true;
	return false;
}

int
castfile_next(struct castfile *cf, struct cast_event *ev)
{
	const char *code, *data;
	size_t len, pad;
	ssize_t n;
	int d;

	json_decref(cf->ev);
	cf->ev = NULL;
	if ((n = getline(&cf->line, &cf->cap, cf->f)) <= 0 || cf->line[n - 1] != '\n')
		/* A half-written last line is the end, as for a crash; compressed data that
		 * does not decode is not. */
		return castread_state(cf->cr, NULL) == CASTREAD_CORRUPT ? -1 : 0;
	cf->ev = json_loadb(cf->line, (size_t)n, JSON_ALLOW_NUL, NULL);
	code = json_string_value(json_array_get(cf->ev, 1));
	if (code == NULL || strlen(code) >= sizeof(ev->code) || json_array_size(cf->ev) != 3)
		return -1;
	memset(ev, 0, sizeof(*ev));
	ev->time = json_number_value(json_array_get(cf->ev, 0));
	ev->value = json_array_get(cf->ev, 2);
	snprintf(ev->code, sizeof(ev->code), "%s", code);
	if ((data = json_string_value(ev->value)) == NULL)
		return castfile_is_stream(code) ? -1 : 1; /* stream events carry bytes */
	len = json_string_length(ev->value);
	if (strcmp(code, "ob") != 0 && strcmp(code, "eb") != 0 && strcmp(code, "ib") != 0 &&
	    strcmp(code, "nb") != 0) {
		ev->data = (const unsigned char *)data;
		ev->len = len;
		return 1;
	}
	if (len % 4 != 0)
		return -1;
	/* An empty event ("ob" of "") still gets a buffer: its readers add offsets to the data. */
	if (cf->bytes == NULL || cf->bytes_cap < len) {
		cf->bytes_cap = len > 4 ? len : 4;
		cf->bytes = xreallocarray(cf->bytes, 1, cf->bytes_cap);
	}
	if ((d = EVP_DecodeBlock(cf->bytes, (const unsigned char *)data, (int)len)) < 0)
		return -1;
	pad = (len > 0 && data[len - 1] == '=') + (len > 1 && data[len - 2] == '=');
	ev->code[1] = '\0'; /* "ob" is "o" */
	ev->data = cf->bytes;
	ev->len = (size_t)d - pad;
	return 1;
}

void
castfile_close(struct castfile *cf)
{
	if (cf == NULL)
		return;
	castread_close(cf->cr);
	json_decref(cf->header);
	json_decref(cf->ev);
	free(cf->line);
	free(cf->bytes);
	free(cf);
}
