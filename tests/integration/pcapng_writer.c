/* pcapng_writer.c: writes a forwarded connection through the pcapng recorder API for the
 * evidence integration tests: pcapng_writer DIR KEY SESSION_ID modbus|bulk N|upload N|crash
 * (modbus: a Modbus/TCP exchange to port 502; bulk: N bytes each way; upload: N bytes from the
 * client alone, then its half-close and the server's last words). Prints the path. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "evidence/pcaprec.h"
#include "evidence/seal.h"

/* Write Multiple Registers (0x10) of 11, 22, 33 at 0x0010 and its response, then Read Holding
 * Registers (0x03) of them and the response with the values. */
static const unsigned char write_req[] = { 0x00, 0x01, 0x00, 0x00, 0x00, 0x0d, 0x01, 0x10, 0x00,
	0x10, 0x00, 0x03, 0x06, 0x00, 0x0b, 0x00, 0x16, 0x00, 0x21 };
static const unsigned char write_rsp[] = { 0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0x01, 0x10, 0x00,
	0x10, 0x00, 0x03 };
static const unsigned char read_req[] = { 0x00, 0x02, 0x00, 0x00, 0x00, 0x06, 0x01, 0x03, 0x00,
	0x10, 0x00, 0x03 };
static const unsigned char read_rsp[] = { 0x00, 0x02, 0x00, 0x00, 0x00, 0x09, 0x01, 0x03, 0x06,
	0x00, 0x0b, 0x00, 0x16, 0x00, 0x21 };

static int
modbus(struct pcaprec *r)
{
	if (pcaprec_write_client(r, write_req, sizeof(write_req)) != 0 ||
	    pcaprec_write_server(r, write_rsp, sizeof(write_rsp)) != 0 || pcaprec_flush(r) != 0 ||
	    pcaprec_write_client(r, read_req, sizeof(read_req)) != 0 ||
	    pcaprec_write_server(r, read_rsp, sizeof(read_rsp)) != 0)
		return -1;
	return 0;
}

/* n bytes each way in 16 KiB writes, as a relay reads them, flushed every 64 writes. */
static int
bulk(struct pcaprec *r, size_t n)
{
	static unsigned char chunk[16384];
	size_t done, k, i;

	for (i = 0; i < sizeof(chunk); i++)
		chunk[i] = (unsigned char)(i * 7 + 1);
	for (done = 0, i = 0; done < n; done += k, i++) {
		k = n - done < sizeof(chunk) ? n - done : sizeof(chunk);
		if (pcaprec_write_client(r, chunk, k) != 0 ||
		    pcaprec_write_server(r, chunk, k) != 0)
			return -1;
		if (i % 64 == 63 && pcaprec_flush(r) != 0)
			return -1;
	}
	return 0;
}

/* n bytes from the client only (the server's ACKs every 32 KiB), the client's FIN, and bytes
 * the server still sends after it. */
static int
upload(struct pcaprec *r, size_t n)
{
	static unsigned char chunk[16384];
	size_t done, k, i;

	for (done = 0, i = 0; done < n; done += k, i++) {
		k = n - done < sizeof(chunk) ? n - done : sizeof(chunk);
		if (pcaprec_write_client(r, chunk, k) != 0)
			return -1;
		if (i % 64 == 63 && pcaprec_flush(r) != 0)
			return -1;
	}
	if (pcaprec_write_fin(r, true) != 0 || pcaprec_write_server(r, "stored\n", 7) != 0)
		return -1;
	return 0;
}

int
main(int argc, char **argv)
{
	struct tunnel_meta m = {
		.person = "acme.alice",
		.vendor = "acme",
		.target = "plc-07",
		.dest_addr = "10.1.2.7",
		.dest_port = 502,
		.orig_addr = "127.0.0.1",
		.orig_port = 41234,
		.client_addr = "203.0.113.9",
		.client_port = 40000,
		.ticket_id = "T-42",
		.approvers = "owner.bob,ot-sec",
	};
	struct recorder_signer signer;
	struct sealkey *key;
	struct pcaprec *r;
	char *path;
	int fd, rc;

	if (argc < 5 || (key = sealkey_load_or_create(argv[2])) == NULL)
		return 2;
	m.session_id = argv[3];
	m.started = time(NULL);
	signer = recorder_signer_local(key);
	if ((fd = pcaprec_create_file(argv[1], m.session_id, 0, &path)) == -1 ||
	    (r = pcaprec_open_fd(fd, path, &m, &signer)) == NULL)
		return 1;
	puts(path);
	fflush(stdout);
	free(path);
	if (strcmp(argv[4], "bulk") == 0)
		rc = bulk(r, argc > 5 ? strtoul(argv[5], NULL, 10) : 1000000);
	else if (strcmp(argv[4], "upload") == 0)
		rc = upload(r, argc > 5 ? strtoul(argv[5], NULL, 10) : 1000000);
	else
		rc = modbus(r);
	if (rc != 0)
		return 1;
	if (strcmp(argv[4], "crash") == 0)
		kill(getpid(), SIGKILL);
	if (pcaprec_write_fin(r, true) != 0 || pcaprec_seal(r, "vendor disconnected") != 0)
		return 1;
	fprintf(stderr, "file %llu bytes, payload %llu + %llu bytes, %lu packets\n",
	    pcaprec_size(r), pcaprec_bytes(r, true), pcaprec_bytes(r, false), pcaprec_packets(r));
	pcaprec_free(r);
	sealkey_free(key);
	return 0;
}
