/* cmd-watch.c: `gatewayctl watch SESSION`: a live, read-only view of what the session's
 * terminal shows, as the session process streams it. Output lost because this viewer was
 * too slow is announced on stderr; the session itself never waits for a viewer. Raw on purpose,
 * unlike the other commands (tools/termsafe.h): showing the terminal as it is, is its job. */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/xmalloc.h"
#include "tools/ctlsocket.h"

/* Writes the base64 payload of an "o" line to stdout. */
static int
watch_output(const char *b64)
{
	size_t len = strlen(b64), pad = 0;
	unsigned char *raw;
	int n;

	if (len % 4 != 0)
		return -1;
	while (pad < 2 && pad < len && b64[len - 1 - pad] == '=')
		pad++;
	raw = xmalloc(len / 4 * 3 + 1);
	if ((n = EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)len)) < 0) {
		free(raw);
		return -1;
	}
	fwrite(raw, 1, (size_t)n - pad, stdout);
	fflush(stdout);
	free(raw);
	return 0;
}

static int
cmd_watch_exec(struct ctl_context *ctx, int argc, char **argv)
{
	struct ctl_conn c;
	json_t *line;
	const char *s;
	int rc = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: gatewayctl watch %s\n", cmd_watch_entry.usage);
		return 2;
	}
	if (ctl_conn_open(ctx, &c) != 0)
		return 1;
	if (ctl_conn_send(&c, json_pack("{s:s, s:s}", "cmd", "watch", "session", argv[1])) != 0)
		goto out;
	if ((line = ctl_conn_recv(&c)) == NULL || !json_is_true(json_object_get(line, "ok"))) {
		s = json_string_value(json_object_get(line, "error"));
		if (s == NULL)
			s = json_string_value(json_object_get(line, "end"));
		fprintf(stderr, "gatewayctl: %s\n", s ? s : "no reply from gatewayd");
		json_decref(line);
		goto out;
	}
	json_decref(line);
	fprintf(stderr, "[watching session %s read-only; Ctrl-C to stop]\n", argv[1]);
	while ((line = ctl_conn_recv(&c)) != NULL) {
		if ((s = json_string_value(json_object_get(line, "o"))) != NULL) {
			if (watch_output(s) != 0)
				fprintf(
				    stderr, "\r\n[gatewayctl: malformed output line skipped]\r\n");
		} else if (json_object_get(line, "tunnels") != NULL)
			fprintf(stderr, "\r\n[tunnels open: %lld, packets recorded: %lld]\r\n",
			    (long long)json_integer_value(json_object_get(line, "tunnels")),
			    (long long)json_integer_value(json_object_get(line, "packets")));
		else if (json_object_get(line, "dropped") != NULL)
			fprintf(stderr,
			    "\r\n[gatewayctl: %lld bytes of output dropped: this viewer "
			    "was too slow]\r\n",
			    (long long)json_integer_value(json_object_get(line, "dropped")));
		else if ((s = json_string_value(json_object_get(line, "end"))) != NULL) {
			fprintf(stderr, "\r\n[session ended: %s]\r\n", s);
			rc = 0;
		}
		json_decref(line);
		if (rc == 0)
			break;
	}
	if (rc != 0) {
		fprintf(stderr, "\r\n[the session's stream closed]\r\n");
		rc = 0;
	}
out:
	ctl_conn_close(&c);
	return rc;
}

const struct ctl_command cmd_watch_entry = {
	.name = "watch",
	.usage = "SESSION   (raw: the target's escape sequences act on this terminal)",
	.exec = cmd_watch_exec,
};
