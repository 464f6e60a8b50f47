/* sandbox.c: PLACEHOLDER for the front's confinement; the seccomp/Landlock implementation of
 * the same name replaces this file. Only forbids gaining privileges through exec (setuid). */
#include "front/sandbox.h"

#include <string.h>
#include <errno.h>
#include <sys/prctl.h>

#include "common/log.h"

int
sandbox_enter(void)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		error_f("PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
		return -1;
	}
	debug_f("placeholder sandbox: no_new_privs only");
	return 0;
}
