/* policy_fixture.h: helpers shared by the policy unit tests: a configuration with windows,
 * grants and the approver keys of data/tickets/ (made by make-ticket-fixtures.sh), and
 * loading a fixture ticket with its real ssh-keygen signature. Header-only: test_*.c only. */
#ifndef GW_TEST_POLICY_FIXTURE_H
#define GW_TEST_POLICY_FIXTURE_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/xmalloc.h"
#include "policy/policy.h"

/* "2027-03-01T09:00:00Z" as time_t; the tests write every instant this way. */
static __attribute__((unused)) time_t
fixture_time(const char *iso)
{
	time_t t;

	ck_assert_msg(time_parse_utc(iso, &t) == 0, "bad test time %s", iso);
	return t;
}

/* Not inlined: gcc 12 at -O3 then takes its local buffer for a dangling pointer. */
static __attribute__((unused, noinline)) char *
fixture_read(const char *rel, size_t *len)
{
	char *path, *buf = NULL;
	size_t n = 0;

	/* TEST_DATA_DIR is tests/data; the policy fixtures live in tests/unit/data. */
	xasprintf(&path, "%.*s/unit/data/%s", (int)(sizeof(TEST_DATA_DIR) - sizeof("/data")),
	    TEST_DATA_DIR, rel);
	if (file_read_bounded(path, 1 << 20, &buf, &n) != 0)
		buf = NULL;
	free(path);
	if (len != NULL)
		*len = n;
	return buf;
}

/* The public key line of a fixture key, without its newline. */
static __attribute__((unused)) char *
fixture_pub(const char *name)
{
	char *rel, *line;

	xasprintf(&rel, "tickets/%s.pub", name);
	line = fixture_read(rel, NULL);
	free(rel);
	ck_assert_ptr_nonnull(line);
	line[strcspn(line, "\n")] = '\0';
	return line;
}

/* Writes text to a new file in a private temporary directory; returns its path. */
static __attribute__((unused)) char *
fixture_write(const char *name, const char *text)
{
	static char dir[64];
	char *path;
	FILE *f;

	if (dir[0] == '\0') {
		snprintf(dir, sizeof(dir), "/tmp/gw-policy-test.XXXXXX");
		ck_assert_ptr_nonnull(mkdtemp(dir));
	}
	xasprintf(&path, "%s/%s", dir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static const char fixture_config_text[] =
    "listen = ( { address = \"127.0.0.1\"; port = 2222; } );\n"
    "host_keys = [ \"/nonexistent/hostkey\" ];\n"
    "state_dir = \"/nonexistent\"; recording_dir = \"/nonexistent\";\n"
    "audit_log = \"/nonexistent/audit.log\";\n"
    "vendors = (\n"
    "  { id = \"acme\";\n"
    "    windows = ( { days = [ \"mon-fri\" ]; start = \"07:00\"; end = \"18:00\";\n"
    "                  tz = \"Europe/Berlin\"; } );\n"
    "    persons = ( { id = \"acme.alice\"; }, { id = \"acme.bob\"; } ); },\n"
    "  { id = \"beta\";\n"
    "    windows = ( { days = [ \"mon-sun\" ]; start = \"00:00\"; end = \"24:00\"; tz = \"UTC\"; } "
    ");\n"
    "    persons = ( { id = \"beta.carol\"; } ); },\n"
    "  { id = \"nowin\"; persons = ( { id = \"nowin.dave\"; } ); },\n"
    "  { id = \"gone\"; expires = \"2027-03-01T12:00:00Z\";\n"
    "    windows = ( { days = [ \"mon-sun\" ]; start = \"00:00\"; end = \"24:00\"; tz = \"UTC\"; } "
    ");\n"
    "    persons = ( { id = \"gone.erin\"; } ); },\n"
    "  { id = \"off\"; enabled = false;\n"
    "    windows = ( { days = [ \"mon-sun\" ]; start = \"00:00\"; end = \"24:00\"; tz = \"UTC\"; } "
    ");\n"
    "    persons = ( { id = \"off.frank\"; } ); },\n"
    "  { id = \"dual\";\n"
    "    windows = ( { days = [ \"mon-sun\" ]; start = \"00:00\"; end = \"24:00\"; tz = \"UTC\"; } "
    ");\n"
    "    persons = ( { id = \"dual.gina\"; } ); }\n"
    ");\n"
    "targets = (\n"
    "  { name = \"plc-07\"; address = \"127.0.0.1\"; user = \"op\"; key_file = \"%s\";\n"
    "    host_key_fingerprints = [ \"SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\" ]; },\n"
    "  { name = \"hmi-02\"; address = \"127.0.0.1\"; user = \"op\"; key_file = \"%s\";\n"
    "    host_key_fingerprints = [ \"SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\" ]; },\n"
    "  { name = \"rtu-09\"; address = \"127.0.0.1\"; user = \"op\"; key_file = \"%s\";\n"
    "    host_key_fingerprints = [ \"SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\" ];\n"
    "    approvals = 2; }\n"
    ");\n"
    "grants = (\n"
    "  { vendor = \"acme\"; targets = [ \"plc-07\", \"hmi-02\", \"rtu-09\" ];\n"
    "    forward = [ \"plc-07:502\", \"rtu-09:102\" ]; },\n"
    "  { vendor = \"beta\"; targets = [ \"plc-07\" ]; },\n"
    "  { vendor = \"nowin\"; targets = [ \"plc-07\" ]; },\n"
    "  { vendor = \"gone\"; targets = [ \"plc-07\" ]; },\n"
    "  { vendor = \"off\"; targets = [ \"plc-07\" ]; },\n"
    "  { vendor = \"dual\"; targets = [ \"plc-07\" ]; approvals = 2; }\n"
    ");\n"
    "approvers = (\n"
    "  { name = \"lead-ed25519\"; key = \"%s\"; vendors = [ \"acme\" ]; targets = [ \"plc-07\", "
    "\"hmi-02\" ]; },\n"
    "  { name = \"lead-ecdsa256\"; key = \"%s\"; vendors = [ \"*\" ]; targets = [ \"*\" ]; },\n"
    "  { name = \"lead-ecdsa384\"; key = \"%s\"; vendors = [ \"*\" ]; targets = [ \"*\" ]; },\n"
    "  { name = \"lead-ecdsa521\"; key = \"%s\"; vendors = [ \"*\" ]; targets = [ \"*\" ]; },\n"
    "  { name = \"lead-rsa\"; key = \"%s\"; vendors = [ \"*\" ]; targets = [ \"*\" ]; },\n"
    "  { name = \"area-b\"; key = \"%s\"; vendors = [ \"acme\" ]; targets = [ \"hmi-02\" ]; },\n"
    "  { name = \"dual-a\"; key = \"%s\"; vendors = [ \"acme\", \"dual\" ]; targets = [ \"*\" ]; "
    "},\n"
    "  { name = \"dual-b\"; key = \"%s\"; vendors = [ \"acme\", \"dual\" ]; targets = [ \"*\" ]; "
    "},\n"
    "  { name = \"dual-c\"; key = \"%s\"; vendors = [ \"acme\" ]; targets = [ \"*\" ]; },\n"
    "  { name = \"dual-out\"; key = \"%s\"; vendors = [ \"acme\" ]; targets = [ \"hmi-02\" ]; }\n"
    ");\n";

static __attribute__((unused)) struct gw_config *
fixture_config(void)
{
	static const char *const keys[] = { "lead-ed25519", "lead-ecdsa256", "lead-ecdsa384",
		"lead-ecdsa521", "lead-rsa", "area-b", "dual-a", "dual-b", "dual-c", "dual-out" };
	char *pub[10], *text, *keyfile, *path, *errors = NULL;
	struct gw_config *cfg = NULL;
	size_t i;

	for (i = 0; i < 10; i++)
		pub[i] = fixture_pub(keys[i]);
	keyfile = fixture_write("target-key", "not a real key\n");
	chmod(keyfile, 0600);
	xasprintf(&text, fixture_config_text, keyfile, keyfile, keyfile, pub[0], pub[1], pub[2],
	    pub[3], pub[4], pub[5], pub[6], pub[7], pub[8], pub[9]);
	path = fixture_write("gatewayd.conf", text);
	if (config_load(path, &cfg, &errors) != 0)
		ck_abort_msg("fixture config: %s", errors);
	for (i = 0; i < 10; i++)
		free(pub[i]);
	free(text);
	free(keyfile);
	free(path);
	return cfg;
}

/* Parses tickets/ID.ticket and verifies it with tickets/ID.ticket.sig (if present). */
static __attribute__((unused)) struct gw_ticket *
fixture_ticket(const struct gw_config *cfg, const char *id)
{
	char *rel, *text, *sig, *errors = NULL;
	size_t len, siglen;
	struct gw_ticket *t = NULL;

	xasprintf(&rel, "tickets/%s.ticket", id);
	text = fixture_read(rel, &len);
	ck_assert_msg(text != NULL, "fixture %s missing", rel);
	free(rel);
	xasprintf(&rel, "tickets/%s.ticket.sig", id);
	sig = fixture_read(rel, &siglen);
	free(rel);
	if (ticket_parse(text, len, id, &t, &errors) != 0)
		ck_abort_msg("fixture ticket %s: %s", id, errors);
	ticket_verify(t, text, len, sig, siglen, cfg);
	free(text);
	free(sig);
	return t;
}

#endif
