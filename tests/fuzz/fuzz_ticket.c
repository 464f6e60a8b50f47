/* fuzz_ticket.c: libFuzzer harness for approval tickets (ticket.c): the text an owner signs,
 * hostile until its signature is checked. Input: TICKET-TEXT, optionally NUL and the armored
 * signatures. Checks that a parsed ticket is well-formed, and that only signatures by known,
 * in-scope approvers (the named one among them) make it valid. Approvers: the keys of
 * tests/unit/data/tickets. */
#include "tests/fuzz/fuzz.h"

#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char fuzz_config_text[] =
    "listen = ( { address = \"127.0.0.1\"; port = 2222; } );\n"
    "host_keys = [ \"/nonexistent/hostkey\" ];\n"
    "state_dir = \"/nonexistent\"; recording_dir = \"/nonexistent\";\n"
    "audit_log = \"/nonexistent/audit.log\";\n"
    "vendors = ( { id = \"acme\"; persons = ( { id = \"acme.alice\"; } ); } );\n"
    "targets = ( { name = \"plc-07\"; address = \"127.0.0.1\"; user = \"op\";\n"
    "  password_file = \"%s\";\n"
    "  host_key_fingerprints = [ \"SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\" ]; } );\n"
    "approvers = (\n"
    "  { name = \"lead-ed25519\"; key = \"%s\"; vendors = [ \"acme\" ]; targets = [ \"plc-07\" ]; "
    "},\n"
    "  { name = \"lead-ecdsa256\"; key = \"%s\"; vendors = [ \"*\" ]; targets = [ \"*\" ]; },\n"
    "  { name = \"lead-rsa\"; key = \"%s\"; vendors = [ \"*\" ]; targets = [ \"*\" ]; }\n"
    ");\n";

static struct gw_config *fuzz_cfg;

static char *
fuzz_pub(const char *name)
{
	char *rel, *line;

	xasprintf(&rel, "unit/data/tickets/%s.pub", name);
	line = fuzz_data(rel, NULL);
	line[strcspn(line, "\n")] = '\0';
	free(rel);
	return line;
}

static void
fuzz_load_config(void)
{
	char *ed = fuzz_pub("lead-ed25519"), *ec = fuzz_pub("lead-ecdsa256"),
	     *rsa = fuzz_pub("lead-rsa");
	char *text, *errors = NULL;
	const char *path;

	const char *secret = fuzz_file("password", (const uint8_t *)"x\n", 2);

	chmod(secret, 0600);
	xasprintf(&text, fuzz_config_text, secret, ed, ec, rsa);
	path = fuzz_file("gatewayd.conf", (const uint8_t *)text, strlen(text));
	if (config_load(path, &fuzz_cfg, &errors) != 0) {
		fprintf(stderr, "fuzz_ticket: %s", errors);
		abort();
	}
	free(text);
	free(ed);
	free(ec);
	free(rsa);
}

static void
fuzz_check_ticket(const struct gw_ticket *t)
{
	size_t i;

	if (!ticket_id_is_valid(t->id) || !name_is_valid(t->vendor) ||
	    (t->approver != NULL && !name_is_valid(t->approver)) || t->ntargets == 0 ||
	    t->ntargets > TICKET_TARGETS_MAX || t->not_after <= t->not_before ||
	    t->reason == NULL || strlen(t->reason) >= GW_REASON_MAX)
		abort();
	if (t->person != NULL && strncmp(t->person, t->vendor, strlen(t->vendor)) != 0)
		abort();
	for (i = 0; i < t->ntargets; i++)
		if (!name_is_valid(t->targets[i]) || !ticket_names_target(t, t->targets[i]))
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	size_t len = nul ? (size_t)(nul - data) : size;
	const char *sig = nul ? (const char *)nul + 1 : NULL;
	size_t siglen = nul ? size - len - 1 : 0;
	struct gw_ticket *t = NULL;
	char *errors = NULL;

	if (fuzz_cfg == NULL)
		fuzz_load_config();
	if (ticket_parse((const char *)data, len, "fuzz", &t, &errors) != 0) {
		if (t != NULL || errors == NULL || strncmp(errors, "fuzz:", 5) != 0)
			abort();
		free(errors);
		return 0;
	}
	if (t == NULL || errors != NULL || t->status != TICKET_UNSIGNED)
		abort();
	fuzz_check_ticket(t);
	ticket_verify(t, (const char *)data, len, sig, siglen, fuzz_cfg);
	if (t->status == TICKET_VALID) {
		size_t i, j;
		bool named = t->approver == NULL;

		if (sig == NULL || t->napprovers == 0 || t->napprovers > TICKET_SIGS_MAX ||
		    t->signer[0] == '\0')
			abort();
		for (j = 0; j < t->napprovers; j++) {
			const struct gw_approver *a =
			    config_find_approver(fuzz_cfg, t->approvers[j]);

			if (a == NULL)
				abort();
			named = named || strcmp(a->name, t->approver) == 0;
			for (i = 0; i < t->ntargets; i++)
				if (!approver_may_approve(a, t->vendor, t->targets[i]))
					abort();
		}
		if (!named)
			abort();
	} else if (t->problem[0] == '\0' || t->napprovers != 0) {
		abort();
	}
	ticket_free(t);
	return 0;
}
