/* evidence_writer.c: writes a recording through the recorder API for the evidence
 * integration tests: evidence_writer DIR KEY SESSION_ID seal|crash|fsize|audit
 * (audit: three events into DIR/audit.log instead). */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "evidence/recorder.h"
#include "evidence/seal.h"
#include "gatewayd/audit.h"

int
main(int argc, char **argv)
{
	struct recording_meta m = {
		.person = "acme.alice",
		.vendor = "acme",
		.target = "plc-07",
		.target_user = "service",
		.client_addr = "127.0.0.1",
		.client_port = 40000,
		.ticket_id = "T-42",
		.approvers = "owner.bob",
		.term = "xterm",
		.width = 80,
		.height = 24,
	};
	static const char redraw[] = "progress 10%\rprogress 100%\r\n";
	struct rlimit rl = { .rlim_cur = 4096, .rlim_max = 4096 };
	struct recording *rec;
	struct recorder_signer signer;
	struct sealkey *key;
	char big[8192];
	int rc;

	if (argc != 5 || (key = sealkey_load_or_create(argv[2])) == NULL)
		return 2;
	if (strcmp(argv[4], "audit") == 0) {
		char path[4096];
		struct audit *a;
		int i;

		snprintf(path, sizeof(path), "%s/audit.log", argv[1]);
		if ((a = audit_open(path, key)) == NULL)
			return 1;
		for (i = 0; i < 3; i++)
			if (audit_event(a, "session.start",
			        json_pack("{s:s,s:i}", "person", "acme.alice", "n", i)) != 0)
				return 1;
		audit_close(a);
		sealkey_free(key);
		return 0;
	}
	m.session_id = argv[3];
	m.started = time(NULL);
	signer = recorder_signer_local(key);
	if ((rec = recorder_open(argv[1], &m, &signer)) == NULL)
		return 1;
	puts(recorder_path(rec));
	fflush(stdout);
	/* A typo corrected with backspace, then a redrawn progress line. */
	recorder_write_output(rec, "$ ", 2);
	recorder_write_input(rec, "lx\x7fs -l\r", 8);
	recorder_write_output(rec, "lx\b \bs -l\r\n", 11);
	recorder_write_output(rec, "total 0\r\n\xff\xfe binary\r\n", 20);
	recorder_write_output(rec, redraw, sizeof(redraw) - 1);
	if (recorder_flush(rec) != 0)
		return 1;
	recorder_write_input(rec, "echo secret-marker\r", 19);
	recorder_write_output(rec, "$ echo secret-marker\r\nsecret-marker\r\n$ ", 39);
	if (strcmp(argv[4], "crash") == 0)
		kill(getpid(), SIGKILL);
	if (strcmp(argv[4], "fsize") == 0) {
		signal(SIGXFSZ, SIG_IGN);
		setrlimit(RLIMIT_FSIZE, &rl);
		memset(big, 'x', sizeof(big));
		recorder_write_output(rec, big, sizeof(big));
		rc = recorder_flush(rec) == -1 ? 3 : 0;
		recorder_free(rec);
		sealkey_free(key);
		return rc;
	}
	if (recorder_seal(rec, "vendor disconnected") != 0)
		return 1;
	recorder_free(rec);
	sealkey_free(key);
	return 0;
}
