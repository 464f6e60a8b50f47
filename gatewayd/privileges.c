/* privileges.c: what a session process keeps once forked off the listener: no capabilities,
 * no way to gain any through exec, and no ptrace or core dump of it by the other sessions
 * that run as the same user; and the one user the listener's CAP_SETUID may switch to.
 * Never fails open: a drop that does not hold ends the session. */
#include "gatewayd/gatewayd.h"

#include <errno.h>
#include <linux/capability.h>
#include <seccomp.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/log.h"

int
privileges_drop_session(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct none[_LINUX_CAPABILITY_U32S_3];

	memset(none, 0, sizeof(none));
	/* The listener's CAP_NET_BIND_SERVICE (ambient under systemd) is of no use past accept. */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) {
		error_f("cannot clear ambient capabilities: %s", strerror(errno));
		return -1;
	}
	if (syscall(SYS_capset, &hdr, none) != 0) {
		error_f("cannot drop capabilities: %s", strerror(errno));
		return -1;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		error_f("cannot set no_new_privs: %s", strerror(errno));
		return -1;
	}
	/* Target credentials and recordings of one vendor must stay out of reach of another
	 * vendor's session process, although both run as the gateway's user. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
		error_f("cannot make the session undumpable: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * CAP_SETUID and CAP_SETGID are the listener's only to start vendor-facing processes (and the
 * site's notifiers, notify.c) as front_user: a seccomp filter (inherited by every monitor) refuses
 * setresuid/setresgid with any other id, setgroups with any group, and the other set*id calls, so
 * that a compromised listener or monitor cannot use them to become root or the owner of any file.
 */
/* "argument arg differs from v", spelled out (libseccomp's SCMP_CMP leaves a field unset). */
static struct scmp_arg_cmp
privileges_arg_ne(unsigned arg, scmp_datum_t v)
{
	struct scmp_arg_cmp c = { .arg = arg, .op = SCMP_CMP_NE, .datum_a = v, .datum_b = 0 };

	return c;
}

int
privileges_restrict_listener(uid_t front_uid, gid_t front_gid)
{
	const struct {
		int nr;
		scmp_datum_t id;
	} exact[] = {
		{ SCMP_SYS(setresuid), front_uid },
		{ SCMP_SYS(setresgid), front_gid },
	};
	const int never[] = { SCMP_SYS(setuid), SCMP_SYS(setgid), SCMP_SYS(setreuid),
		SCMP_SYS(setregid), SCMP_SYS(setfsuid), SCMP_SYS(setfsgid) };
	scmp_filter_ctx ctx;
	unsigned arg;
	size_t i;
	int rc = 0;

	/* Everything else stays allowed: this filter only narrows the set*id calls. */
	if ((ctx = seccomp_init(SCMP_ACT_ALLOW)) == NULL) {
		error_f("seccomp_init failed");
		return -1;
	}
	for (i = 0; rc == 0 && i < sizeof(exact) / sizeof(exact[0]); i++)
		for (arg = 0; rc == 0 && arg < 3; arg++)
			rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), exact[i].nr, 1,
			    privileges_arg_ne(arg, exact[i].id));
	if (rc == 0)
		rc = seccomp_rule_add(
		    ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(setgroups), 1, privileges_arg_ne(0, 0));
	for (i = 0; rc == 0 && i < sizeof(never) / sizeof(never[0]); i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), never[i], 0);
	/* No CAP_SYS_ADMIN here: loading a filter needs no_new_privs, which the unit has
	 * (NoNewPrivileges=yes) and which changes nothing for a process that execs nothing
	 * set-uid (the front is started as its user by setresuid, not by a set-uid file). */
	if (rc == 0 && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		rc = -errno;
	if (rc == 0)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc != 0) {
		error_f("cannot restrict set*id calls to uid %u, gid %u: %s", (unsigned)front_uid,
		    (unsigned)front_gid, strerror(-rc));
		return -1;
	}
	return 0;
}
