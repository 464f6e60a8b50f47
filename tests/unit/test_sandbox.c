/* test_sandbox.c: front/sandbox.c in a real child process: what a compromised vendor-facing
 * process can no longer do (open, socket, connect, exec, ptrace, fork, signal others), and what
 * a libssh session still needs. Under GW_SANITIZE only Landlock and no_new_privs are there. */
#include "unit.h"
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/landlock.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "front/sandbox.h"

#ifdef GW_SANITIZE
static const bool seccomp_on = false;
#else
static const bool seccomp_on = true;
#endif

/* The errno a denied open()/execve() gives: seccomp's EPERM, else Landlock's EACCES. */
#define DENIED_FS (seccomp_on ? EPERM : EACCES)

static int
landlock_abi(void)
{
	int abi =
	    (int)syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);

	return abi < 0 ? 0 : abi;
}

/* As gatewayd starts the front: no capability left (root becomes nobody). */
static void
child_become_unprivileged(void)
{
	if (geteuid() != 0)
		return;
	if (setgroups(0, NULL) != 0 || setresgid(65534, 65534, 65534) != 0 ||
	    setresuid(65534, 65534, 65534) != 0) {
		perror("dropping to nobody");
		_exit(100);
	}
}

/* In the child: exit with the number of the first check that failed, naming it on stderr. */
#define CHECK(n, cond)                                                                             \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "check %d failed: %s (errno %d %s)\n", (n), #cond, errno,  \
			    strerror(errno));                                                      \
			_exit(n);                                                                  \
		}                                                                                  \
	} while (0)

/* Runs fn in a child and returns its exit status (0: every check held). */
static int
run_child(void (*fn)(void *), void *arg)
{
	int status;
	pid_t pid = fork();

	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		fn(arg);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	if (WIFSIGNALED(status))
		return 1000 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

static void
child_with_capabilities(void *arg)
{
	/* Root with its capabilities: sandbox_enter() must refuse to go on. */
	_exit(sandbox_enter() == -1 ? 0 : 1);
}

START_TEST(test_sandbox_refuses_capabilities)
{
	if (geteuid() != 0)
		return; /* nothing to hold: the check needs root */
	ck_assert_int_eq(run_child(child_with_capabilities, NULL), 0);
}
END_TEST

struct denied_env {
	int listen_port; /* a listening TCP socket of the parent's: connect would succeed */
};

static void
child_denied(void *arg)
{
	const struct denied_env *env = arg;
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(env->listen_port) };
	char *const argv[] = { "true", NULL };
	int sock, abi = landlock_abi();

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	child_become_unprivileged();
	sock = socket(AF_INET, SOCK_STREAM, 0); /* unconnected, made before the sandbox */
	CHECK(2, sock != -1);
	CHECK(3, sandbox_enter() == 0);
	if (!seccomp_on && abi == 0)
		return; /* sanitizer build on a kernel without Landlock: nothing left to test */
	/* world-readable: the sandbox, not file modes, refuses */
	errno = 0;
	CHECK(5, open("/etc/hostname", O_RDONLY) == -1 && errno == DENIED_FS);
	CHECK(6, openat(AT_FDCWD, "/etc/passwd", O_RDONLY) == -1);
	errno = 0;
	CHECK(7, execve("/bin/true", argv, NULL) == -1 && errno == DENIED_FS);
	/* TCP: seccomp refuses connect(); Landlock ABI 4 refuses it too (EACCES) */
	if (seccomp_on || abi >= 4)
		CHECK(8, connect(sock, (struct sockaddr *)&sin, sizeof(sin)) == -1);
	if (!seccomp_on)
		return;
	errno = 0;
	CHECK(9, socket(AF_INET, SOCK_STREAM, 0) == -1 && errno == EPERM);
	errno = 0;
	CHECK(10, socket(AF_UNIX, SOCK_STREAM, 0) == -1 && errno == EPERM);
	errno = 0;
	CHECK(11, ptrace(PTRACE_TRACEME, 0, NULL, NULL) == -1 && errno == EPERM);
	errno = 0;
	CHECK(12, fork() == -1 && errno == EPERM);
	errno = 0;
	CHECK(13, kill(getppid(), 0) == -1 && errno == EPERM);
	errno = 0;
	CHECK(14, setresuid(0, 0, 0) == -1 && errno == EPERM);
	/* no code mapped in after the exec */
	errno = 0;
	CHECK(15,
	    mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) ==
	            MAP_FAILED &&
	        errno == EPERM);
	CHECK(16, fcntl(0, F_DUPFD, 10) == -1 && errno == EPERM);
}

START_TEST(test_sandbox_denies_files_network_exec_ptrace)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	struct denied_env env;
	int lfd;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ne(lfd, -1);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(lfd, 4), 0);
	ck_assert_int_eq(getsockname(lfd, (struct sockaddr *)&sin, &len), 0);
	env.listen_port = ntohs(sin.sin_port);
	ck_assert_int_eq(run_child(child_denied, &env), 0);
	close(lfd);
}
END_TEST

static void
child_allowed(void *arg)
{
	int p[2], flags;
	char buf[64], rnd[32];
	struct timespec ts;
	struct stat st;
	char *big;

	child_become_unprivileged();
	CHECK(2, pipe(p) == 0);
	CHECK(3, sandbox_enter() == 0);
	CHECK(4, write(p[1], "hello", 5) == 5);
	CHECK(5, read(p[0], buf, sizeof(buf)) == 5 && memcmp(buf, "hello", 5) == 0);
	CHECK(6, getrandom(rnd, sizeof(rnd), 0) == (ssize_t)sizeof(rnd));
	CHECK(7, clock_gettime(CLOCK_MONOTONIC, &ts) == 0);
	CHECK(8, clock_gettime(CLOCK_REALTIME, &ts) == 0);
	/* large enough for mmap rather than brk */
	CHECK(9, (big = malloc(10 << 20)) != NULL);
	memset(big, 0x5a, 10 << 20);
	CHECK(10, big[(10 << 20) - 1] == 0x5a);
	free(big);
	CHECK(11, (flags = fcntl(p[0], F_GETFL)) != -1);
	CHECK(12, fcntl(p[0], F_SETFL, flags | O_NONBLOCK) == 0);
	CHECK(13, read(p[0], buf, sizeof(buf)) == -1 && errno == EAGAIN);
	CHECK(14, fstat(p[0], &st) == 0 && S_ISFIFO(st.st_mode));
	CHECK(15, close(p[0]) == 0 && close(p[1]) == 0);
	CHECK(16, getpid() > 0);
}

START_TEST(test_sandbox_allows_session_calls)
{
	ck_assert_int_eq(run_child(child_allowed, NULL), 0);
}
END_TEST

static void
child_abort(void *arg)
{
	child_become_unprivileged();
	CHECK(2, sandbox_enter() == 0);
	/* tgkill to itself stays allowed: a failed assertion still dies (and dumps) */
	abort();
}

START_TEST(test_sandbox_abort_still_kills)
{
	ck_assert_int_eq(run_child(child_abort, NULL), 1000 + SIGABRT);
}
END_TEST

Suite *
unit_suite(void)
{
	Suite *s = suite_create("sandbox");
	TCase *tc = tcase_create("sandbox");

	tcase_add_test(tc, test_sandbox_refuses_capabilities);
	tcase_add_test(tc, test_sandbox_denies_files_network_exec_ptrace);
	tcase_add_test(tc, test_sandbox_allows_session_calls);
	tcase_add_test(tc, test_sandbox_abort_still_kills);
	suite_add_tcase(s, tc);
	return s;
}
