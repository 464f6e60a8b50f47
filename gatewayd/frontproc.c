/* frontproc.c: starts a connection's vendor-facing process: fork, its own user, exec of
 * gatewayd-front with the vendor's socket as fd 3 and the link to its monitor as fd 4. */
#include "gatewayd/gatewayd.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/log.h"

int
frontproc_prepare(const struct gw_config *cfg, struct frontproc *fp, char *err, size_t errlen)
{
	char self[PATH_MAX], path[PATH_MAX + 32];
	const char *user = "gatewayd-front";
	struct passwd *pw;
	ssize_t n;

	(void)cfg;
	memset(fp, 0, sizeof(*fp));
	fp->exe_fd = -1;
	if ((pw = getpwnam(user)) == NULL) {
		snprintf(err, errlen, "front_user %s: no such user", user);
		return -1;
	}
	fp->uid = pw->pw_uid;
	fp->gid = pw->pw_gid;
	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) <= 0) {
		snprintf(err, errlen, "/proc/self/exe: %s", strerror(errno));
		return -1;
	}
	self[n] = '\0';
	snprintf(path, sizeof(path), "%s/../front/gatewayd-front", dirname(self));
	if ((fp->exe_fd = open(path, O_PATH | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

pid_t
frontproc_spawn(const struct frontproc *fp, int vendor_fd, int link_fd)
{
	char *const argv[] = { "gatewayd-front", NULL };
	char *const envp[] = { NULL };
	sigset_t none;
	pid_t pid;
	int i;

	int exe;

	if ((pid = fork()) != 0)
		return pid;
	/* The executable's fd may be 3 or 4 itself: it moves out of the way first. */
	if ((exe = fcntl(fp->exe_fd, F_DUPFD_CLOEXEC, 5)) == -1 ||
	    (vendor_fd = fcntl(vendor_fd, F_DUPFD, 5)) == -1 ||
	    (link_fd = fcntl(link_fd, F_DUPFD, 5)) == -1 || dup2(vendor_fd, 3) != 3 ||
	    dup2(link_fd, 4) != 4)
		_exit(127);
	for (i = 5; i < 1024; i++)
		if (i != exe)
			close(i);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (setgroups(0, NULL) != 0 || setresgid(fp->gid, fp->gid, fp->gid) != 0 ||
	    setresuid(fp->uid, fp->uid, fp->uid) != 0 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		_exit(127);
	syscall(SYS_execveat, exe, "", argv, envp, AT_EMPTY_PATH);
	_exit(127);
}
