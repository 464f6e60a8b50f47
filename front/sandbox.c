/* sandbox.c: the vendor-facing process's sandbox: no_new_privs, no capabilities, Landlock with
 * no file system and no TCP access, and a seccomp allow-list of what a libssh session needs on
 * descriptors it already holds. Never fails open: any step that does not hold is an error. */
#include "front/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <seccomp.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/landlock.h"
#include "common/log.h"

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

/* struct landlock_ruleset_attr as of ABI 6; the size passed tells the kernel which fields
 * this caller knows, so an older kernel is given only the ones it has. */
struct sandbox_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};

static int
sandbox_check_capabilities(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct caps[_LINUX_CAPABILITY_U32S_3];
	int i;

	memset(caps, 0, sizeof(caps));
	if (syscall(SYS_capget, &hdr, caps) != 0) {
		error_f("capget: %s", strerror(errno));
		return -1;
	}
	for (i = 0; i < _LINUX_CAPABILITY_U32S_3; i++)
		if (caps[i].effective != 0 || caps[i].permitted != 0) {
			/* Whoever started us did not drop them: a capability would let a
			 * compromised process out of every other fence below. */
			error_f("capabilities left (permitted %08x%08x): refusing to run",
			    caps[1].permitted, caps[0].permitted);
			return -1;
		}
	return 0;
}

/* A Landlock domain that handles every right the kernel knows and allows none of them (but
 * reading /proc in the sanitizer build). */
static int
sandbox_enter_landlock(void)
{
	struct sandbox_ruleset_attr attr = { 0 };
	size_t size = sizeof(attr.handled_access_fs);
	int abi, fd;

	if ((abi = landlock_abi()) < 0)
		return -1;
	if (abi == 0) {
		/* Older kernel, or Landlock not enabled at boot: seccomp alone keeps open() out,
		 * which is what the rest of gatewayd relies on. */
		debug_f("Landlock not available: file system closed by seccomp only");
		return 0;
	}
	attr.handled_access_fs = landlock_fs_rights(abi);
	if (abi >= 4) {
		attr.handled_access_net =
		    LANDLOCK_ACCESS_NET_BIND_TCP | LANDLOCK_ACCESS_NET_CONNECT_TCP;
		size = offsetof(struct sandbox_ruleset_attr, scoped);
	}
	if (abi >= 6) {
		/* No signal to a process outside this one, no abstract UNIX socket outside. */
		attr.scoped = LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LANDLOCK_SCOPE_SIGNAL;
		size = sizeof(attr);
	}
	if ((fd = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0)) < 0) {
		error_f("landlock_create_ruleset (ABI %d): %s", abi, strerror(errno));
		return -1;
	}
#ifdef GW_SANITIZE
	/* The one rule of the sanitizer build: LeakSanitizer reads /proc/PID/task and
	 * /proc/self/maps at exit, and reports "fatal error" instead of leaks when it cannot.
	 * Reading /proc stays denied in every other build. */
	if (landlock_allow_path(fd, "/proc",
	        LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR, false) != 0) {
		close(fd);
		return -1;
	}
#endif
	if (syscall(SYS_landlock_restrict_self, fd, 0) != 0) {
		error_f("landlock_restrict_self: %s", strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	debug_f("Landlock ABI %d: no file system%s access", abi, abi >= 4 ? " and no TCP" : "");
	return 0;
}

#ifndef GW_SANITIZE
/* clang-format off */
/* A system call allowed whatever its arguments. */
#define ALLOW(name) { SCMP_SYS(name), 0, { { 0 } } }
/* A system call allowed when one argument compares as given. */
#define ALLOW_IF(name, arg, op, a, b) \
	{ SCMP_SYS(name), 1, { { (arg), (op), (scmp_datum_t)(a), (scmp_datum_t)(b) } } }
/* clang-format on */

struct sandbox_rule {
	int nr;
	unsigned ncmp;
	struct scmp_arg_cmp cmp[1];
};

/*
 * What a libssh server session does after its initialisation: I/O, polling, time and
 * randomness, memory, and dying. Found with strace -f on tests/integration/sandbox_sshd.c (a
 * libssh server in this sandbox) under a real OpenSSH client: key exchange (DH-GEX too: libssh
 * re-opens /etc/ssh/moduli each time, is refused and uses its built-in groups), public key
 * authentication, shell and exec channels, a rekey every 64 KiB, the end of the connection;
 * docs/privileges.md lists it with the reasons. Everything else fails
 * with EPERM: above all open/openat, socket, connect, bind, execve, ptrace, fork/clone,
 * the set*id family, kill of another process.
 */
static int
sandbox_enter_seccomp(void)
{
	const pid_t self = getpid();
	/* clang-format off */
	const struct sandbox_rule rules[] = {
		/* I/O on descriptors already held */
		ALLOW(read), ALLOW(write), ALLOW(readv), ALLOW(writev), ALLOW(recvmsg),
		ALLOW(sendmsg), ALLOW(recvfrom), ALLOW(sendto), ALLOW(poll), ALLOW(ppoll),
		ALLOW(close), ALLOW(lseek), ALLOW(shutdown), ALLOW(getsockopt), ALLOW(setsockopt),
		ALLOW(getpeername), ALLOW(getsockname),
		/* fcntl only to read and set O_NONBLOCK and FD_CLOEXEC: no F_DUPFD, no locks */
		ALLOW_IF(fcntl, 1, SCMP_CMP_EQ, F_GETFL, 0),
		ALLOW_IF(fcntl, 1, SCMP_CMP_EQ, F_SETFL, 0),
		ALLOW_IF(fcntl, 1, SCMP_CMP_EQ, F_GETFD, 0),
		ALLOW_IF(fcntl, 1, SCMP_CMP_EQ, F_SETFD, 0),
		/* glibc's fstat() is newfstatat(fd, "", AT_EMPTY_PATH); a path would still be
		 * looked up (metadata only: Landlock does not cover stat), but nothing opens. */
		ALLOW(fstat),
		ALLOW_IF(newfstatat, 3, SCMP_CMP_MASKED_EQ, AT_EMPTY_PATH, AT_EMPTY_PATH),
		/* time and randomness */
		ALLOW(clock_gettime), ALLOW(clock_getres), ALLOW(gettimeofday), ALLOW(time),
		ALLOW(clock_nanosleep), ALLOW(nanosleep), ALLOW(getrandom),
		/* memory, never executable: no code can be mapped in after the exec */
		ALLOW_IF(mmap, 2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0),
		ALLOW_IF(mprotect, 2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0),
		ALLOW(munmap), ALLOW(mremap), ALLOW(brk), ALLOW(madvise), ALLOW(futex),
		/* signals of its own; abort() is tgkill(self, self, SIGABRT) */
		ALLOW(rt_sigreturn), ALLOW(rt_sigprocmask), ALLOW(rt_sigaction),
		ALLOW(restart_syscall),
		ALLOW_IF(tgkill, 0, SCMP_CMP_EQ, self, 0),
		ALLOW_IF(kill, 0, SCMP_CMP_EQ, self, 0),
		/* small facts about itself (glibc: syslog's getpid, qsort's sysinfo) */
		ALLOW(getpid), ALLOW(gettid), ALLOW(getuid), ALLOW(geteuid), ALLOW(getgid),
		ALLOW(getegid), ALLOW(sysinfo), ALLOW(sched_yield),
		ALLOW(exit), ALLOW(exit_group),
	};
	/* clang-format on */
	scmp_filter_ctx ctx;
	size_t i;
	int rc;

	if (RUNNING_ON_VALGRIND) {
		/* Valgrind runs inside this process: it maps its translations executable and
		 * opens files itself. Not a switch an attacker reaches: the check is an
		 * instruction sequence that only valgrind's CPU emulation answers. */
		info_f(
		    "running under valgrind: no seccomp filter (Landlock and no_new_privs stay)");
		return 0;
	}
	/* EPERM, not a kill: a forbidden call fails observably (tests, and logs of a probe). */
	if ((ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM))) == NULL) {
		error_f("seccomp_init failed");
		return -1;
	}
	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		rc = seccomp_rule_add_array(
		    ctx, SCMP_ACT_ALLOW, rules[i].nr, rules[i].ncmp, rules[i].cmp);
		if (rc != 0) {
			char *name =
			    seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, rules[i].nr);

			error_f("seccomp rule for %s: %s", name ? name : "?", strerror(-rc));
			free(name);
			seccomp_release(ctx);
			return -1;
		}
	}
	if ((rc = seccomp_load(ctx)) != 0) {
		error_f("seccomp_load: %s", strerror(-rc));
		seccomp_release(ctx);
		return -1;
	}
	seccomp_release(ctx);
	return 0;
}
#endif

int
sandbox_enter(void)
{
	/* First: Landlock and seccomp need it without CAP_SYS_ADMIN, and no exec (there is
	 * none left to do) may ever give privileges back. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		error_f("cannot set no_new_privs: %s", strerror(errno));
		return -1;
	}
	if (sandbox_check_capabilities() != 0 || sandbox_enter_landlock() != 0)
		return -1;
#ifdef GW_SANITIZE
	/* ASan and LSan ptrace, read /proc and map code at exit: the sanitizer build is for
	 * finding memory bugs, and runs without the filter (no_new_privs and Landlock stay). */
	info_f("sanitizer build: no seccomp filter (Landlock and no_new_privs stay)");
	return 0;
#else
	return sandbox_enter_seccomp();
#endif
}
