/* pcapread.h: reads pcapng blocks from a file an auditor was handed, trusting none of it: every
 * length is bounded and checked, the byte order is the section header's. Never writes. */
#ifndef GW_PCAPREAD_H
#define GW_PCAPREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

/* One block as read; the pointers are the reader's, valid until the next pcapread_next. */
struct pcap_block {
	uint32_t type;
	const unsigned char *raw; /* the whole block, as in the file */
	size_t len;
	const unsigned char *body; /* what lies between its two length fields */
	size_t body_len;
};

enum pcapread_status {
	PCAPREAD_BAD = -2, /* not a pcapng block: pcapread_error says why */
	PCAPREAD_CUT = -1, /* the file ends inside a block (a write cut off) */
	PCAPREAD_END = 0,  /* the file ends after a whole block */
	PCAPREAD_BLOCK = 1,
};

struct pcapread;

/* Whether the n bytes at p begin a pcapng file (a Section Header Block). */
bool pcapread_is_pcapng(const unsigned char *p, size_t n);
/* Whether a file's name ends as a tunnel's recording's does (PCAP_SUFFIX). */
bool pcapread_name_is_pcapng(const char *name);
/* Reads from f, which stays the caller's; the first block must be a Section Header Block. */
struct pcapread *pcapread_new(FILE *f);
void pcapread_free(struct pcapread *r);
enum pcapread_status pcapread_next(struct pcapread *r, struct pcap_block *b);
const char *pcapread_error(const struct pcapread *r);
/* A 32-bit field at p in the section's byte order. */
uint32_t pcapread_u32(const struct pcapread *r, const unsigned char *p);
/* A Custom Block's enterprise number and data (padding and options included: the format has no
 * length for the data); -1 when b is not a Custom Block or too short for one. */
int pcapread_custom(const struct pcapread *r, const struct pcap_block *b, uint32_t *pen,
    const unsigned char **data, size_t *len);

/* The JSON of one of gatewayd's Custom Blocks with tag (PCAP_TAG_*): the text between the tag and
 * the zero padding, which must be exactly what pads it to 4 bytes (a block gatewayd writes has
 * no options). NULL when b is not that. */
const char *pcapread_tagged(
    const struct pcapread *r, const struct pcap_block *b, const char *tag, size_t *len);
/* What the lists of recordings show of a pcapng recording at path, unverified: its header's
 * JSON and its end block's (NULL when it has none: live or cut off). 0, or -1 when it is not a
 * gatewayd pcapng recording. The caller verifies it to vouch for any of it. */
int pcapread_summary(const char *path, json_t **header, json_t **end);

#endif
