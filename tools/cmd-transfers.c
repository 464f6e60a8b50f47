/* cmd-transfers.c: `gatewayctl transfers FILE...`: the file operations recorded on sftp
 * channels, one table row each (time, operation, path, bytes, SHA-256 or why none). Reads only. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/evidence.h"
#include "tools/termsafe.h"

static const char *
transfers_str(const json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v != NULL ? v : "";
}

/* Every member but the byte counts is what the vendor or target chose: printed termsafe. */
static void
transfers_row(const json_t *ev)
{
	const char *event = transfers_str(ev, "event");
	char bytes[64] = "", *time, *op, *path, *note, *path2;
	const char *sha = transfers_str(ev, "sha256");

	if (json_object_get(ev, "bytes_written") != NULL ||
	    json_object_get(ev, "bytes_read") != NULL)
		snprintf(bytes, sizeof(bytes), "w=%lld r=%lld",
		    (long long)json_integer_value(json_object_get(ev, "bytes_written")),
		    (long long)json_integer_value(json_object_get(ev, "bytes_read")));
	if (*sha == '\0')
		sha = transfers_str(ev, "reason")[0] ? transfers_str(ev, "reason")
		                                     : transfers_str(ev, "note");
	time = termsafe_str(transfers_str(ev, "time"));
	event += strncmp(event, "sftp-", 5) == 0 ? 5 : 0;
	op = termsafe_str(event);
	path = evidence_meta_text(ev, "path");
	note = termsafe_str(sha);
	path2 = evidence_meta_text(ev, "path2");
	printf("%-24s %-14s %-40s %-22s %s%s%s\n", time, op, path != NULL ? path : "", bytes, note,
	    path2 != NULL ? " -> " : "", path2 != NULL ? path2 : "");
	free(time);
	free(op);
	free(path);
	free(note);
	free(path2);
}

static int
transfers_file(const char *path)
{
	struct castfile *cf = castfile_open(path);
	struct cast_event ev;
	json_t *j;
	int rc;

	if (cf == NULL) {
		fprintf(stderr, "gatewayctl transfers: cannot read %s\n", path);
		return 1;
	}
	termsafe_print(stdout, path);
	printf("\n%-24s %-14s %-40s %-22s %s\n", "TIME", "OPERATION", "PATH", "BYTES",
	    "SHA-256 / NOTE");
	while ((rc = castfile_next(cf, &ev)) == 1) {
		/* sftp evidence is a note holding one JSON object. */
		if (strcmp(ev.code, "n") != 0 || ev.len == 0 || ev.data[0] != '{')
			continue;
		if ((j = json_loadb((const char *)ev.data, ev.len, 0, NULL)) == NULL)
			continue;
		if (strncmp(transfers_str(j, "event"), "sftp-", 5) == 0)
			transfers_row(j);
		json_decref(j);
	}
	castfile_close(cf);
	return rc < 0 ? 1 : 0;
}

static int
cmd_transfers_exec(struct ctl_context *ctx, int argc, char **argv)
{
	int i, rc = 0;

	(void)ctx;
	if (argc < 2) {
		fprintf(stderr, "usage: gatewayctl transfers %s\n", cmd_transfers_entry.usage);
		return 2;
	}
	for (i = 1; i < argc; i++)
		rc |= transfers_file(argv[i]);
	return rc;
}

const struct ctl_command cmd_transfers_entry = {
	.name = "transfers",
	.usage = "RECORDING...",
	.exec = cmd_transfers_exec,
};
