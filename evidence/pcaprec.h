/* pcaprec.h: the recording of one forwarded TCP connection (a direct-tcpip tunnel) as a pcapng
 * file Wireshark dissects, hash-chained and signed like a session recording. Never drops a byte. */
#ifndef GW_PCAPREC_H
#define GW_PCAPREC_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "evidence/recorder.h"

/* Who reached what through the tunnel: written into the header block. Strings are borrowed for
 * pcaprec_open_fd only; NULL members are left out. */
struct tunnel_meta {
	const char *session_id; /* 32 hex */
	unsigned channel;
	const char *person, *vendor, *target; /* target: the registered target name ("plc-07") */
	const char *dest_addr; /* what the gateway connected to: an IPv4 literal or a name */
	unsigned dest_port;    /* 502 */
	const char *orig_addr; /* the originator the vendor's client reported in direct-tcpip */
	unsigned orig_port;
	const char *client_addr; /* the vendor's real source address and port */
	int client_port;
	const char *key_fp, *ticket_id, *approvers; /* as in struct recording_meta */
	time_t started;
};

struct pcaprec;

/* Creates DIR/<session_id>.<channel>.pcapng as recorder_create_file does a ".cast". */
int pcaprec_create_file(const char *dir, const char *session_id, unsigned channel, char **path);
/* fd: a new empty file at path created by someone else (the listener), taken (closed on
 * failure too). Holds an exclusive flock until pcaprec_free (verify says "live"), writes the
 * section header, the interface, the header block and the TCP handshake. NULL with errno. */
struct pcaprec *pcaprec_open_fd(
    int fd, const char *path, const struct tunnel_meta *meta, const struct recorder_signer *signer);
/* Bytes the vendor sent towards the destination / the destination sent back, timestamped now,
 * written to the file (not necessarily fsynced) before 0 is returned: the caller forwards them
 * only after. -1 with errno: the recording cannot be trusted, end the tunnel (fail closed). */
int pcaprec_write_client(struct pcaprec *r, const void *buf, size_t len);
int pcaprec_write_server(struct pcaprec *r, const void *buf, size_t len);
/* The half-close of one side (its TCP FIN); bytes of that side after it are refused. */
int pcaprec_write_fin(struct pcaprec *r, bool client_side);
/* Writes the acknowledgements due and signs a checkpoint over the blocks since the last one;
 * called at least once a second while active (when pending_since is a second old). */
int pcaprec_flush(struct pcaprec *r);
/* Time of the oldest block not yet covered by a checkpoint, 0 when none. */
time_t pcaprec_pending_since(const struct pcaprec *r);
unsigned long long pcaprec_size(const struct pcaprec *r); /* bytes of the file (quotas) */
/* Payload bytes recorded from the client (vendor) side, or from the server side. */
unsigned long long pcaprec_bytes(const struct pcaprec *r, bool client_side);
unsigned long pcaprec_packets(const struct pcaprec *r); /* enhanced packet blocks written */
const char *pcaprec_path(const struct pcaprec *r);
/* The FINs not yet written, the end block, the final checkpoint, fsync. 0 or -1 with errno. */
int pcaprec_seal(struct pcaprec *r, const char *end_reason);
/* Closes and frees; NULL is fine. An unsealed recording stays truncated. */
void pcaprec_free(struct pcaprec *r);

#endif
