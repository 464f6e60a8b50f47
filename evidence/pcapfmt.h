/* pcapfmt.h: the constants of gatewayd's pcapng files (docs/recording-format.md), shared by
 * the writer (pcaprec.c) and the reader (pcapread.c, verify.c). Declares; defines no state. */
#ifndef GW_PCAPFMT_H
#define GW_PCAPFMT_H

#include <stdint.h>

#define PCAP_SHB               0x0A0D0D0Au
#define PCAP_IDB               0x00000001u
#define PCAP_EPB               0x00000006u
#define PCAP_CB                0x00000BADu /* Custom Block, copyable */
#define PCAP_BYTE_ORDER_MAGIC  0x1A2B3C4Du
#define PCAP_PEN               32473u /* RFC 5612: the enterprise number for documentation */
#define PCAP_LINKTYPE_ETHERNET 1u
#define PCAP_SNAPLEN           65535u
#define PCAP_FORMAT            "pcapng-v2" /* what the writer writes */
#define PCAP_FORMAT_V1         "pcapng-v1" /* one record per block; still verified */
#define PCAP_SUFFIX            ".pcapng"   /* "<session id>.<channel>.pcapng" */
#define PCAP_TAG_HEADER        "gatewayd-header\n"
#define PCAP_TAG_CHECKPOINT    "gatewayd-checkpoint\n"
#define PCAP_TAG_END           "gatewayd-end\n"
#define PCAP_ETH_LEN           14
#define PCAP_IP_LEN            20
#define PCAP_TCP_LEN           20
#define PCAP_MSS               1460 /* payload bytes per segment at most */
#define PCAP_TCP_ACK           0x10
/* pcapng-v2: a packet whose TCP flags are exactly ACK and which carries payload (a segment of a
 * write that is not its last, which has PSH) continues its record into the next block; every
 * other block ends the record it is in. The frame's TCP flags are at a fixed place, since
 * gatewayd writes IPv4 headers without options. */
#define PCAP_EPB_FRAME_AT   28 /* type, length, interface, timestamp (8), two lengths */
#define PCAP_FRAME_FLAGS_AT (PCAP_ETH_LEN + PCAP_IP_LEN + 13)
/* The largest block a reader accepts: a checkpoint lists about 1024 digests of 67 bytes, a
 * header a few kilobytes; anything larger is not ours, and a reader never allocates more. */
#define PCAP_BLOCK_MAX (256 * 1024)

/* gatewayd writes little-endian; readers follow the byte order of the section header. */
static inline void
pcap_put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

#endif
