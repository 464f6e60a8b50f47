/* frontproc.c: starting a connection's vendor-facing process (gatewayd-front): its user and
 * executable are fixed once when the listener starts; each monitor then forks and execs it with
 * the vendor's socket on fd 3 and the monitor link on fd 4, as that user, holding nothing else.
 * Never starts it with a privilege left: any step that fails ends the child before the exec. */
#include "gatewayd/gatewayd.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/log.h"

#ifndef GW_FRONT_PATH
#define GW_FRONT_PATH "/usr/local/libexec/gatewayd/gatewayd-front"
#endif

static void frontproc_say(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
frontproc_say(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Whether this process may become another user: root, or CAP_SETUID and CAP_SETGID effective
 * (the systemd unit's AmbientCapabilities). */
static bool
frontproc_may_switch_user(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct caps[_LINUX_CAPABILITY_U32S_3];
	const uint32_t want = (1U << CAP_SETUID) | (1U << CAP_SETGID);

	if (geteuid() == 0)
		return true;
	memset(caps, 0, sizeof(caps));
	if (syscall(SYS_capget, &hdr, caps) != 0)
		return false;
	return (caps[0].effective & want) == want;
}

/*
 * The executable: the one installed (GW_FRONT_PATH), except when this program runs from a
 * build tree, i.e. "<dir of /proc/self/exe>/../front/gatewayd-front" exists, where the build's
 * own is taken (tests and the demo run the build; an installed gatewayd never has a front/
 * beside its sbin/). Opened O_PATH once: a later rename, replacement or mount namespace cannot
 * swap what the monitors exec.
 */
static int
frontproc_open_exe(char *path, size_t pathlen, char *err, size_t errlen)
{
	char self[PATH_MAX];
	ssize_t n;
	char *slash;
	struct stat st;
	int fd;

	snprintf(path, pathlen, "%s", GW_FRONT_PATH);
	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) > 0) {
		self[n] = '\0';
		if ((slash = strrchr(self, '/')) != NULL) {
			*slash = '\0';
			if (snprintf(path, pathlen, "%s/../front/gatewayd-front", self) >=
			        (int)pathlen ||
			    access(path, F_OK) != 0)
				snprintf(path, pathlen, "%s", GW_FRONT_PATH);
		}
	}
	if ((fd = open(path, O_PATH | O_CLOEXEC)) == -1) {
		frontproc_say(err, errlen, "cannot open the vendor-facing program %s: %s", path,
		    strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (st.st_mode & 0111) == 0) {
		frontproc_say(err, errlen, "%s is not an executable file", path);
		close(fd);
		return -1;
	}
	/* Whoever may write it may run code as every vendor's front. */
	if ((st.st_mode & 0022) != 0 || (st.st_uid != 0 && st.st_uid != geteuid())) {
		frontproc_say(err, errlen,
		    "%s is writable by others or owned by another user: refusing to run it", path);
		close(fd);
		return -1;
	}
	return fd;
}

/* The front user as the daemon must find it: present, not root, not the daemon's own. */
static struct passwd *
frontproc_lookup_user(const struct gw_config *cfg, char *err, size_t errlen)
{
	const char *user = cfg->front_user != NULL ? cfg->front_user : GW_FRONT_USER_DEFAULT;
	struct passwd *pw;

	errno = 0;
	if ((pw = getpwnam(user)) == NULL) {
		frontproc_say(err, errlen,
		    "front_user \"%s\": no such user%s%s; create it with systemd-sysusers "
		    "(systemd/gatewayd.sysusers) or: useradd --system --no-create-home "
		    "--shell /usr/sbin/nologin --user-group %s",
		    user, errno != 0 ? ": " : "", errno != 0 ? strerror(errno) : "", user);
		return NULL;
	}
	if (pw->pw_uid == 0 || pw->pw_gid == 0) {
		frontproc_say(err, errlen,
		    "front_user \"%s\" is root (uid %u, gid %u): the vendor-facing process must "
		    "run as an unprivileged user of its own",
		    user, (unsigned)pw->pw_uid, (unsigned)pw->pw_gid);
		return NULL;
	}
	if (pw->pw_uid == getuid() || pw->pw_uid == geteuid()) {
		frontproc_say(err, errlen,
		    "front_user \"%s\" is the daemon's own user (uid %u): the vendor-facing "
		    "process must not be able to touch the daemon's files or processes",
		    user, (unsigned)pw->pw_uid);
		return NULL;
	}
	return pw;
}

int
frontproc_check(const struct gw_config *cfg, char *err, size_t errlen)
{
	char path[PATH_MAX];
	int fd;

	if (frontproc_lookup_user(cfg, err, errlen) == NULL ||
	    (fd = frontproc_open_exe(path, sizeof(path), err, errlen)) == -1)
		return -1;
	close(fd);
	return 0;
}

int
frontproc_prepare(const struct gw_config *cfg, struct frontproc *fp, char *err, size_t errlen)
{
	char path[PATH_MAX];
	struct passwd *pw;

	fp->exe_fd = -1;
	if ((pw = frontproc_lookup_user(cfg, err, errlen)) == NULL)
		return -1;
	if (!frontproc_may_switch_user()) {
		frontproc_say(err, errlen,
		    "cannot start vendor-facing processes as front_user \"%s\": gatewayd needs to "
		    "run as root or with CAP_SETUID and CAP_SETGID (systemd/gatewayd.service)",
		    pw->pw_name);
		return -1;
	}
	if ((fp->exe_fd = frontproc_open_exe(path, sizeof(path), err, errlen)) == -1)
		return -1;
	fp->uid = pw->pw_uid;
	fp->gid = pw->pw_gid;
	debug_f("vendor-facing processes: %s as %s (%u:%u)", path, pw->pw_name, (unsigned)fp->uid,
	    (unsigned)fp->gid);
	return 0;
}

void
frontproc_close(struct frontproc *fp)
{
	if (fp != NULL && fp->exe_fd != -1) {
		close(fp->exe_fd);
		fp->exe_fd = -1;
	}
}

/* In the child: a one-line reason on stderr (still the daemon's), then the end. */
static void __attribute__((noreturn)) frontproc_die(const char *what)
{
	char line[256];
	int n;

	n = snprintf(line, sizeof(line), "gatewayd[%ld]: frontproc_spawn: %s: %s\n", (long)getpid(),
	    what, strerror(errno));
	if (n > 0)
		(void)!write(
		    STDERR_FILENO, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
	_exit(127);
}

/* Puts fd on target: a dup2 that also works when fd already is target (and clears its
 * close-on-exec flag, which dup2 onto itself would not). */
static void
frontproc_place(int fd, int target)
{
	if (fd == target) {
		if (fcntl(fd, F_SETFD, 0) != 0)
			frontproc_die("fcntl");
	} else if (dup2(fd, target) != target) {
		frontproc_die("dup2");
	}
}

int
frontproc_reset_signals(const sigset_t *mask)
{
	struct sigaction dfl;
	int sig;

	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	for (sig = 1; sig < NSIG; sig++)
		(void)sigaction(sig, &dfl, NULL); /* SIGKILL, SIGSTOP and 32/33 refuse: fine */
	return sigprocmask(SIG_SETMASK, mask, NULL);
}

const char *
frontproc_become_user(const struct frontproc *fp)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct nocaps[_LINUX_CAPABILITY_U32S_3];
	uid_t r, e, s;
	gid_t rg, eg, sg;

	memset(nocaps, 0, sizeof(nocaps));
	if (setgroups(0, NULL) != 0)
		return "setgroups";
	if (setresgid(fp->gid, fp->gid, fp->gid) != 0)
		return "setresgid";
	if (setresuid(fp->uid, fp->uid, fp->uid) != 0)
		return "setresuid";
	/* A set*id that half-worked would leave a way back to the daemon's user. */
	if (getresuid(&r, &e, &s) != 0 || r != fp->uid || e != fp->uid || s != fp->uid ||
	    getresgid(&rg, &eg, &sg) != 0 || rg != fp->gid || eg != fp->gid || sg != fp->gid) {
		errno = EPERM;
		return "the user switch did not hold";
	}
	/* Not root now, but a daemon user with CAP_SETUID keeps its capabilities across
	 * setresuid(): drop them all here rather than rely on exec to. */
	if (syscall(SYS_capset, &hdr, nocaps) != 0)
		return "dropping capabilities";
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
		return "clearing ambient capabilities";
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return "no_new_privs";
	return NULL;
}

/* The child between fork and exec: only async-signal-safe calls. */
static void __attribute__((noreturn)) frontproc_child(
    const struct frontproc *fp, int vendor_fd, int link_fd, char *const envp[], pid_t monitor)
{
	char *const argv_debug[] = { "gatewayd-front", "-d", NULL };
	char *const argv_plain[] = { "gatewayd-front", NULL };
	const char *what;
	sigset_t none;
	int devnull, exe;

	/* Out of the way of 3 and 4 first: a source descriptor may sit on the other's target. */
	if ((vendor_fd = fcntl(vendor_fd, F_DUPFD, 10)) == -1 ||
	    (link_fd = fcntl(link_fd, F_DUPFD, 10)) == -1 ||
	    (exe = fcntl(fp->exe_fd, F_DUPFD_CLOEXEC, 10)) == -1)
		frontproc_die("fcntl F_DUPFD");
	if ((devnull = open("/dev/null", O_RDWR)) == -1)
		frontproc_die("/dev/null");
	frontproc_place(devnull, STDIN_FILENO);
	frontproc_place(devnull, STDOUT_FILENO);
	frontproc_place(vendor_fd, 3);
	frontproc_place(link_fd, 4);
	/* Everything else the monitor holds (its target, recordings, link to the listener) stays
	 * behind; exe_fd is close-on-exec and so lives until fexecve needs it. */
	if (syscall(SYS_close_range, 5U, (unsigned)exe - 1, 0U) != 0 ||
	    syscall(SYS_close_range, (unsigned)exe + 1, ~0U, 0U) != 0)
		frontproc_die("close_range");
	sigemptyset(&none);
	if (frontproc_reset_signals(&none) != 0)
		frontproc_die("sigprocmask");
	if ((what = frontproc_become_user(fp)) != NULL)
		frontproc_die(what);
	/* The monitor, once it dropped its capabilities, may not signal a process of another
	 * user: the front goes when its monitor goes. Set after the user switch, which clears
	 * it; a monitor already gone shows as another parent. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0)
		frontproc_die("parent death signal");
	if (getppid() != monitor) {
		errno = ESRCH;
		frontproc_die("the monitor is gone");
	}
	/* fexecve() on an O_PATH descriptor is execveat(fd, "", AT_EMPTY_PATH). */
	syscall(SYS_execveat, exe, "", fp->debug ? argv_debug : argv_plain, envp, AT_EMPTY_PATH);
	frontproc_die("exec gatewayd-front");
}

/* The front's environment: a PATH, and the sanitizer runtimes' options when the tests set
 * them (the sanitizer build's front must report as the daemon does), and in the coverage build
 * where its counters go. Nothing else of the daemon's crosses. */
static void
frontproc_environment(char **envp, size_t max)
{
	static const char *const pass[] = {
		"ASAN_OPTIONS=",
		"UBSAN_OPTIONS=",
		"LSAN_OPTIONS=",
#ifdef GW_COVERAGE
		"LLVM_PROFILE_FILE=",
#endif
	};
	static char path[] = "PATH=/usr/bin:/bin";
	size_t i, n = 0;
	char **e;

	envp[n++] = path;
	for (e = environ; *e != NULL; e++)
		for (i = 0; i < sizeof(pass) / sizeof(pass[0]) && n < max - 1; i++)
			if (strncmp(*e, pass[i], strlen(pass[i])) == 0)
				envp[n++] = *e;
	envp[n] = NULL;
}

pid_t
frontproc_spawn(const struct frontproc *fp, int vendor_fd, int link_fd)
{
	pid_t pid, monitor = getpid();
	char *envp[8];

	if (fp->exe_fd == -1) {
		error_f("frontproc_prepare() was not run");
		return -1;
	}
	frontproc_environment(envp, sizeof(envp) / sizeof(envp[0]));
	if ((pid = fork()) == -1) {
		error_f("fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0)
		frontproc_child(fp, vendor_fd, link_fd, envp, monitor);
	return pid;
}
