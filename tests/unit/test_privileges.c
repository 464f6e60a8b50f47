/* test_privileges.c: gatewayd/privileges.c in real child processes: with the listener's
 * set*id filter, even root can switch only to the front's uid and gid and only clear its groups;
 * a session process keeps no capability. */
#include "unit.h"
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gatewayd/gatewayd.h"

#define FRONT 65534 /* nobody, as the front's user */

#define CHECK(n, cond)                                                                             \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "check %d failed: %s (errno %d)\n", (n), #cond, errno);    \
			_exit(n);                                                                  \
		}                                                                                  \
	} while (0)

static int
run_child(void (*fn)(void))
{
	int status;
	pid_t pid = fork();

	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		fn();
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1000 + WTERMSIG(status);
}

static void
child_restricted_root(void)
{
	gid_t root_group = 0;

	CHECK(2, privileges_restrict_listener(FRONT, FRONT) == 0);
	/* root with every capability, yet: */
	errno = 0;
	CHECK(3, setresuid(0, 0, 0) == -1 && errno == EPERM);
	CHECK(4, setresuid(1, 1, 1) == -1 && errno == EPERM);
	CHECK(5, setresuid(FRONT, FRONT, 0) == -1 && errno == EPERM);
	CHECK(6, setresuid(-1, FRONT, FRONT) == -1 && errno == EPERM);
	CHECK(7, setresgid(0, 0, 0) == -1 && errno == EPERM);
	CHECK(8, setresgid(FRONT, 0, FRONT) == -1 && errno == EPERM);
	CHECK(9, setgroups(1, &root_group) == -1 && errno == EPERM);
	CHECK(10, setuid(1) == -1 && errno == EPERM);
	CHECK(11, setgid(1) == -1 && errno == EPERM);
	CHECK(12, setreuid(1, 1) == -1 && errno == EPERM);
	CHECK(13, setregid(1, 1) == -1 && errno == EPERM);
	/* ...while the front's start still works */
	CHECK(14, setgroups(0, NULL) == 0);
	CHECK(15, setresgid(FRONT, FRONT, FRONT) == 0);
	CHECK(16, setresuid(FRONT, FRONT, FRONT) == 0);
	CHECK(17, getuid() == FRONT && getgid() == FRONT);
}

START_TEST(test_listener_setid_only_to_the_front)
{
	if (geteuid() != 0)
		return; /* the point is that even root is held */
	ck_assert_int_eq(run_child(child_restricted_root), 0);
}
END_TEST

static void
child_session_drop(void)
{
	CHECK(2, privileges_drop_session() == 0);
	CHECK(3, prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1);
	errno = 0;
	/* no CAP_SETUID left, even as uid 0 */
	CHECK(4, setresuid(1, 1, 1) == -1 && errno == EPERM);
}

START_TEST(test_session_keeps_no_capability)
{
	ck_assert_int_eq(run_child(child_session_drop), 0);
}
END_TEST

Suite *
unit_suite(void)
{
	Suite *s = suite_create("privileges");
	TCase *tc = tcase_create("privileges");

	tcase_add_test(tc, test_listener_setid_only_to_the_front);
	tcase_add_test(tc, test_session_keeps_no_capability);
	suite_add_tcase(s, tc);
	return s;
}
