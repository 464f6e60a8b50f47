/* test_frontproc.c: gatewayd/frontproc.c: front_user is refused, with a sentence that says what
 * to do, when it is missing, root or the daemon's own user, or cannot be switched to; and
 * frontproc_spawn() execs (this very test binary, as "gatewayd-front") with nothing but fds
 * 0-4, as the user, without groups, capabilities or the daemon's environment. */
#include "unit.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gatewayd/gatewayd.h"

#define NOBODY 65534

/* ---- this binary as the spawned front: reports what it got on fd 4, then exits ---- */

static void
front_report(int argc, char **argv)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct caps[_LINUX_CAPABILITY_U32S_3];
	char report[1024], fds[128] = "", null0[64] = "", null1[64] = "";
	uid_t r, e, s;
	gid_t rg, eg, sg;
	int pdeath = 0;
	struct stat st;
	struct dirent *d;
	DIR *dir;

	memset(caps, 0, sizeof(caps));
	syscall(SYS_capget, &hdr, caps);
	prctl(PR_GET_PDEATHSIG, &pdeath);
	getresuid(&r, &e, &s);
	getresgid(&rg, &eg, &sg);
	if ((dir = opendir("/proc/self/fd")) != NULL) {
		while ((d = readdir(dir)) != NULL)
			if (d->d_name[0] != '.' && atoi(d->d_name) != dirfd(dir) &&
			    strlen(fds) + strlen(d->d_name) + 2 < sizeof(fds)) {
				if (fds[0] != '\0')
					strcat(fds, ",");
				strcat(fds, d->d_name);
			}
		closedir(dir);
	}
	(void)!readlink("/proc/self/fd/0", null0, sizeof(null0) - 1);
	(void)!readlink("/proc/self/fd/1", null1, sizeof(null1) - 1);
	snprintf(report, sizeof(report),
	    "uid=%u,%u,%u gid=%u,%u,%u groups=%d nnp=%d cap=%x,%x fds=%s in=%s out=%s "
	    "sock3=%d sock4=%d arg=%s path=%s secret=%d pdeath=%d",
	    (unsigned)r, (unsigned)e, (unsigned)s, (unsigned)rg, (unsigned)eg, (unsigned)sg,
	    getgroups(0, NULL), prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0),
	    caps[0].effective | caps[1].effective, caps[0].permitted | caps[1].permitted, fds,
	    null0, null1, fstat(3, &st) == 0 && S_ISSOCK(st.st_mode),
	    fstat(4, &st) == 0 && S_ISSOCK(st.st_mode), argc > 1 ? argv[1] : "-",
	    getenv("PATH") ? getenv("PATH") : "", getenv("GW_TEST_SECRET") != NULL, pdeath);
	(void)!write(4, report, strlen(report));
	_exit(0);
}

/* Before Check's main: the spawned copy of this binary is told by its argv[0]. */
__attribute__((constructor)) static void
front_detect(int argc, char **argv)
{
	if (argc > 0 && strcmp(argv[0], "gatewayd-front") == 0)
		front_report(argc, argv);
}

/* ---- frontproc_prepare ---- */

static int
prepare_as(const char *user, char *err, size_t errlen)
{
	struct gw_config cfg = { .front_user = (char *)user };
	struct frontproc fp = { .exe_fd = -1 };
	int rc = frontproc_prepare(&cfg, &fp, err, errlen);

	frontproc_close(&fp);
	return rc;
}

START_TEST(test_prepare_refuses_missing_user)
{
	char err[512] = "";

	ck_assert_int_eq(prepare_as("gw-no-such-user", err, sizeof(err)), -1);
	ck_assert_msg(
	    strstr(err, "front_user \"gw-no-such-user\": no such user") != NULL, "%s", err);
	ck_assert_msg(strstr(err, "systemd-sysusers") != NULL, "%s", err);
	ck_assert_msg(
	    strstr(err, "useradd --system --no-create-home --shell /usr/sbin/nologin") != NULL,
	    "%s", err);
}
END_TEST

START_TEST(test_prepare_refuses_root)
{
	char err[512] = "";

	ck_assert_int_eq(prepare_as("root", err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "front_user \"root\" is root (uid 0") != NULL, "%s", err);
}
END_TEST

/* In a child that became nobody: front_user nobody is its own user; daemon (uid 1) is
 * another user, but nobody holds no CAP_SETUID to become it. */
START_TEST(test_prepare_refuses_own_user_and_no_right_to_switch)
{
	char err[512] = "";
	int status;
	pid_t pid;

	if (geteuid() != 0)
		return; /* needs root to become nobody */
	if ((pid = fork()) == 0) {
		if (setresgid(NOBODY, NOBODY, NOBODY) != 0 ||
		    setresuid(NOBODY, NOBODY, NOBODY) != 0)
			_exit(10);
		if (prepare_as("nobody", err, sizeof(err)) != -1 ||
		    strstr(err, "is the daemon's own user") == NULL) {
			fprintf(stderr, "own user: %s\n", err);
			_exit(11);
		}
		if (prepare_as("daemon", err, sizeof(err)) != -1 ||
		    strstr(err, "CAP_SETUID and CAP_SETGID") == NULL) {
			fprintf(stderr, "no right to switch: %s\n", err);
			_exit(12);
		}
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_int_eq(status, 0);
}
END_TEST

/* ---- frontproc_spawn ---- */

START_TEST(test_spawn_gives_only_fds_0_to_4_as_the_user)
{
	struct frontproc fp = { .uid = NOBODY, .gid = NOBODY, .debug = true };
	char report[1024] = "";
	int vendor[2], link[2], stray, status;
	ssize_t n;
	pid_t pid;

	if (geteuid() != 0)
		return; /* needs root to switch users */
	ck_assert_int_ne(fp.exe_fd = open("/proc/self/exe", O_PATH | O_CLOEXEC), -1);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, vendor), 0);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, link), 0);
	/* what a monitor holds besides: must not reach the front */
	ck_assert_int_ne(stray = open("/etc/hostname", O_RDONLY), -1);
	setenv("GW_TEST_SECRET", "x", 1);
	ck_assert_int_gt(pid = frontproc_spawn(&fp, vendor[1], link[1]), 0);
	n = read(link[0], report, sizeof(report) - 1);
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_int_eq(status, 0);
	ck_assert_str_eq(report,
	    "uid=65534,65534,65534 gid=65534,65534,65534 groups=0 nnp=1 "
	    "cap=0,0 fds=0,1,2,3,4 in=/dev/null out=/dev/null sock3=1 sock4=1 "
	    "arg=-d path=/usr/bin:/bin secret=0 pdeath=9");
	close(stray);
	close(vendor[0]);
	close(vendor[1]);
	close(link[0]);
	close(link[1]);
	frontproc_close(&fp);
}
END_TEST

/* A front that cannot be started (here: exec of a directory) exits 127 with a reason. */
START_TEST(test_spawn_failure_exits_127)
{
	struct frontproc fp = { .uid = NOBODY, .gid = NOBODY };
	int fds[2], status;
	pid_t pid;

	if (geteuid() != 0)
		return;
	ck_assert_int_ne(fp.exe_fd = open("/", O_PATH | O_CLOEXEC), -1);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
	ck_assert_int_gt(pid = frontproc_spawn(&fp, fds[0], fds[1]), 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 127);
	close(fds[0]);
	close(fds[1]);
	frontproc_close(&fp);
}
END_TEST

Suite *
unit_suite(void)
{
	Suite *s = suite_create("frontproc");
	TCase *tc = tcase_create("frontproc");

	tcase_add_test(tc, test_prepare_refuses_missing_user);
	tcase_add_test(tc, test_prepare_refuses_root);
	tcase_add_test(tc, test_prepare_refuses_own_user_and_no_right_to_switch);
	tcase_add_test(tc, test_spawn_gives_only_fds_0_to_4_as_the_user);
	tcase_add_test(tc, test_spawn_failure_exits_127);
	suite_add_tcase(s, tc);
	return s;
}
