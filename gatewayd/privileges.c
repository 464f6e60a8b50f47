/* privileges.c: what a session process keeps once forked off the listener: no capabilities,
 * no way to gain any through exec, and no ptrace or core dump of it by the other sessions
 * that run as the same user. Never fails open: a drop that does not hold ends the session. */
#include "gatewayd/gatewayd.h"

#include <errno.h>
#include <linux/capability.h>
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
