/* monitor_sandbox.c: the session process's (the monitor's) file system sandbox, entered once
 * authentication is over and its one target credential is in memory: from then on it can
 * read tickets, revocations, certificate revocation lists and time zones, and open nothing
 * else: not the seal key, no target credential, not the audit log nor the configuration, no
 * recording (its own come from the listener as descriptors). An auditor's reads the evidence
 * too: recordings, the audit log and the seal key's public half, never writes. */
#include "gatewayd/gatewayd.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/landlock.h"
#include "common/log.h"
#include "common/xmalloc.h"

#define MONITOR_RULES_MAX 12

struct monitor_rule {
	char *path; /* owned */
	uint64_t rights;
	bool missing_ok; /* no rule, rather than an error, for a path that does not exist */
};

static void
monitor_rule_add(struct monitor_rule *r, size_t *n, char *path, uint64_t rights, bool missing_ok)
{
	r[*n].path = path;
	r[*n].rights = rights;
	r[*n].missing_ok = missing_ok;
	(*n)++;
}

/* Every path the monitor still opens after the sandbox, and why; nothing else. */
static size_t
monitor_sandbox_rules(
    const struct gw_config *cfg, const struct gw_vendor *vendor, struct monitor_rule *r)
{
	const char *tzdir = getenv("TZDIR");
	char *path;
	size_t n = 0;

	/* No rule for recording_dir: the listener creates each recording and hands over its
	 * descriptor (registry.c), so that no other recording can be opened here. Tickets: a
	 * decision again on reload (ticketstore_load) reads ID.ticket, ID.sig, ID.used. */
	xasprintf(&path, "%s/tickets", cfg->state_dir);
	monitor_rule_add(
	    r, &n, path, LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_READ_FILE, false);
	/* Appended in place by gatewayctl (same inode); the listener makes sure it exists. */
	xasprintf(&path, "%s/revocations", cfg->state_dir);
	monitor_rule_add(r, &n, path, LANDLOCK_ACCESS_FS_READ_FILE, false);
	/* A certificate's login checked again on reload (auth_recheck): public lists. One gone
	 * now gets no rule, and a certificate session that needs it ends then (fail closed). */
	if (cfg->revoked_certs != NULL)
		monitor_rule_add(
		    r, &n, xstrdup(cfg->revoked_certs), LANDLOCK_ACCESS_FS_READ_FILE, true);
	if (vendor != NULL && vendor->revoked_certs != NULL)
		monitor_rule_add(
		    r, &n, xstrdup(vendor->revoked_certs), LANDLOCK_ACCESS_FS_READ_FILE, true);
	/* localtime() and the windows' own time zones (policy/window.c). */
	monitor_rule_add(r, &n, xstrdup("/etc/localtime"), LANDLOCK_ACCESS_FS_READ_FILE, true);
	monitor_rule_add(r, &n,
	    xstrdup(tzdir != NULL && *tzdir != '\0' ? tzdir : "/usr/share/zoneinfo"),
	    LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR, true);
	/* An auditor's console reads the evidence (console_auditor.c): read-only, and nothing of
	 * the seal key but its public half. */
	if (vendor != NULL && vendor->role == GW_ROLE_AUDITOR) {
		monitor_rule_add(r, &n, xstrdup(cfg->recording_dir),
		    LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR, false);
		monitor_rule_add(
		    r, &n, xstrdup(cfg->audit_log), LANDLOCK_ACCESS_FS_READ_FILE, true);
		xasprintf(&path, "%s/recording_key.pub", cfg->state_dir);
		monitor_rule_add(r, &n, path, LANDLOCK_ACCESS_FS_READ_FILE, true);
	}
#ifdef GW_SANITIZE
	/* AddressSanitizer reads /proc/self/maps to describe an error it reports, which is what
	 * the sanitizer build is for. LeakSanitizer never runs here (the session process ends
	 * with _exit). Reading /proc stays denied in every other build. */
	monitor_rule_add(r, &n, xstrdup("/proc"),
	    LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR, false);
#endif
	return n;
}

int
monitor_sandbox_enter(const struct gw_config *cfg, const struct gw_vendor *vendor)
{
	struct monitor_rule rules[MONITOR_RULES_MAX];
	struct landlock_ruleset_attr attr = { 0 };
	size_t i, n;
	int abi, fd, rc = 0;

	if ((abi = landlock_abi()) < 0)
		return -1;
	if (abi == 0) {
		/* Older kernel, or Landlock not enabled at boot: the monitor then opens what the
		 * gateway's user may. The listener said so once, at start. */
		debug_f("Landlock not available: no file system sandbox");
		return 0;
	}
	attr.handled_access_fs = landlock_fs_rights(abi);
	if ((fd = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0)) < 0) {
		error_f("landlock_create_ruleset (ABI %d): %s", abi, strerror(errno));
		return -1;
	}
	n = monitor_sandbox_rules(cfg, vendor, rules);
	for (i = 0; i < n; i++) {
		if (rc == 0)
			rc = landlock_allow_path(fd, rules[i].path,
			    rules[i].rights & attr.handled_access_fs, rules[i].missing_ok);
		free(rules[i].path);
	}
	if (rc == 0 && syscall(SYS_landlock_restrict_self, fd, 0) != 0) {
		error_f("landlock_restrict_self: %s", strerror(errno));
		rc = -1;
	}
	close(fd);
	if (rc == 0)
		debug_f("Landlock ABI %d: tickets, revocations and time zones only", abi);
	return rc;
}
