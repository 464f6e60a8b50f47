/* pcapread.c: the pcapng block reader of verify.c and gatewayctl: bounded blocks (at most
 * PCAP_BLOCK_MAX), lengths that agree at both ends, the byte order of the section header. Reads
 * only; allocates one buffer of at most PCAP_BLOCK_MAX bytes whatever the file claims. */
#include "evidence/pcapread.h"

#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "evidence/pcapfmt.h"

#define PCAPREAD_SHB_MIN 28 /* type, length, magic, version, section length, length */

struct pcapread {
	FILE *f;
	unsigned char *buf;
	size_t cap;
	bool big_endian;
	bool in_section; /* a Section Header Block has been read */
	const char *error;
};

static uint32_t
pcapread_u32_order(bool big_endian, const unsigned char *p)
{
	if (big_endian)
		return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

uint32_t
pcapread_u32(const struct pcapread *r, const unsigned char *p)
{
	return pcapread_u32_order(r->big_endian, p);
}

bool
pcapread_is_pcapng(const unsigned char *p, size_t n)
{
	/* The type reads the same in either byte order; the magic tells which. */
	return n >= 12 && pcapread_u32_order(false, p) == PCAP_SHB &&
	    (pcapread_u32_order(false, p + 8) == PCAP_BYTE_ORDER_MAGIC ||
	        pcapread_u32_order(true, p + 8) == PCAP_BYTE_ORDER_MAGIC);
}

bool
pcapread_name_is_pcapng(const char *name)
{
	size_t len = strlen(name), n = strlen(PCAP_SUFFIX);

	return len > n && strcmp(name + len - n, PCAP_SUFFIX) == 0;
}

struct pcapread *
pcapread_new(FILE *f)
{
	struct pcapread *r = xcalloc(1, sizeof(*r));

	r->f = f;
	return r;
}

void
pcapread_free(struct pcapread *r)
{
	if (r == NULL)
		return;
	free(r->buf);
	free(r);
}

const char *
pcapread_error(const struct pcapread *r)
{
	return r->error != NULL ? r->error : "no error";
}

static enum pcapread_status
pcapread_bad(struct pcapread *r, const char *why)
{
	r->error = why;
	return PCAPREAD_BAD;
}

/* Reads exactly n more bytes to buf + at: PCAPREAD_BLOCK, or the status of a short read. */
static int
pcapread_fill(struct pcapread *r, size_t at, size_t n)
{
	size_t got = fread(r->buf + at, 1, n, r->f);

	if (got == n)
		return PCAPREAD_BLOCK;
	if (ferror(r->f)) {
		r->error = "read error";
		return PCAPREAD_BAD;
	}
	return got == 0 && at == 0 ? PCAPREAD_END : PCAPREAD_CUT;
}

enum pcapread_status
pcapread_next(struct pcapread *r, struct pcap_block *b)
{
	uint32_t type, len;
	int rc;

	if (r->buf == NULL) {
		r->cap = PCAP_BLOCK_MAX;
		r->buf = xmalloc(r->cap);
	}
	if ((rc = pcapread_fill(r, 0, 8)) != PCAPREAD_BLOCK)
		return rc;
	type = pcapread_u32(r, r->buf);
	if (type == PCAP_SHB) { /* a new section: its byte order from here on */
		if ((rc = pcapread_fill(r, 8, 4)) != PCAPREAD_BLOCK)
			return rc;
		if (pcapread_u32_order(false, r->buf + 8) == PCAP_BYTE_ORDER_MAGIC)
			r->big_endian = false;
		else if (pcapread_u32_order(true, r->buf + 8) == PCAP_BYTE_ORDER_MAGIC)
			r->big_endian = true;
		else
			return pcapread_bad(r, "no byte-order magic in the section header");
		r->in_section = true;
	} else if (!r->in_section)
		return pcapread_bad(r, "not a pcapng file");
	len = pcapread_u32(r, r->buf + 4);
	if (len < 12 || len % 4 != 0 || (type == PCAP_SHB && len < PCAPREAD_SHB_MIN))
		return pcapread_bad(r, "a block length out of range");
	if (len > r->cap)
		return pcapread_bad(r, "a block larger than any gatewayd writes");
	if ((rc = pcapread_fill(r, type == PCAP_SHB ? 12 : 8, len - (type == PCAP_SHB ? 12 : 8))) !=
	    PCAPREAD_BLOCK)
		return rc;
	if (pcapread_u32(r, r->buf + len - 4) != len)
		return pcapread_bad(r, "the block's two lengths differ");
	if (type == PCAP_SHB &&
	    (r->big_endian ? r->buf[12] << 8 | r->buf[13] : r->buf[13] << 8 | r->buf[12]) != 1)
		return pcapread_bad(r, "a section header of another major version");
	b->type = type;
	b->raw = r->buf;
	b->len = len;
	b->body = r->buf + 8;
	b->body_len = len - 12;
	return PCAPREAD_BLOCK;
}

int
pcapread_custom(const struct pcapread *r, const struct pcap_block *b, uint32_t *pen,
    const unsigned char **data, size_t *len)
{
	if ((b->type != PCAP_CB && b->type != (PCAP_CB | 0x40000000u)) || b->body_len < 4)
		return -1;
	*pen = pcapread_u32(r, b->body);
	*data = b->body + 4;
	*len = b->body_len - 4;
	return 0;
}

const char *
pcapread_tagged(const struct pcapread *r, const struct pcap_block *b, const char *tag, size_t *len)
{
	const unsigned char *data;
	size_t n, tl = strlen(tag), pad;
	uint32_t pen;

	if (b->type != PCAP_CB || pcapread_custom(r, b, &pen, &data, &n) != 0 || pen != PCAP_PEN ||
	    n < tl || memcmp(data, tag, tl) != 0)
		return NULL;
	data += tl;
	n -= tl;
	for (pad = 0; pad < 3 && pad < n && data[n - 1 - pad] == 0; pad++)
		;
	if (memchr(data, 0, n - pad) != NULL || pad != (4 - (4 + tl + n - pad) % 4) % 4)
		return NULL;
	*len = n - pad;
	return (const char *)data;
}

int
pcapread_summary(const char *path, json_t **header, json_t **end)
{
	struct pcapread *r;
	struct pcap_block b;
	const char *text;
	size_t len;
	FILE *f;

	*header = *end = NULL;
	if ((f = fopen(path, "re")) == NULL)
		return -1;
	r = pcapread_new(f);
	while (pcapread_next(r, &b) == PCAPREAD_BLOCK) {
		if (*header == NULL &&
		    (text = pcapread_tagged(r, &b, PCAP_TAG_HEADER, &len)) != NULL)
			*header = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
		else if (*header != NULL &&
		    (text = pcapread_tagged(r, &b, PCAP_TAG_END, &len)) != NULL) {
			json_decref(*end);
			*end = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
		}
	}
	pcapread_free(r);
	fclose(f);
	if (!json_is_object(json_object_get(*header, "gatewayd"))) {
		json_decref(*header);
		json_decref(*end);
		*header = *end = NULL;
		return -1;
	}
	return 0;
}
