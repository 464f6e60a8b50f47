/* landlock.h: the Landlock plumbing both sandboxes share (front/sandbox.c, the monitor's
 * gatewayd/monitor_sandbox.c): the kernel's ABI, the rights it knows, path rules. */
#ifndef GW_LANDLOCK_H
#define GW_LANDLOCK_H

#include <linux/landlock.h>
#include <stdbool.h>
#include <stdint.h>

/* Debian 12's <linux/landlock.h> stops at ABI 2; the rights and fields of later ABIs are the
 * kernel's, spelled here so that a newer kernel gets them handled (and so denied). */
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14) /* ABI 3 */
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15) /* ABI 5 */
#endif
#ifndef LANDLOCK_ACCESS_NET_BIND_TCP
#define LANDLOCK_ACCESS_NET_BIND_TCP    (1ULL << 0) /* ABI 4 */
#define LANDLOCK_ACCESS_NET_CONNECT_TCP (1ULL << 1)
#endif
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0) /* ABI 6 */
#define LANDLOCK_SCOPE_SIGNAL               (1ULL << 1)
#endif

/* The kernel's Landlock ABI; 0 when it has none (too old, or not enabled at boot: logged at
 * debug by the caller's choice of words), -1 on any other error (logged). */
int landlock_abi(void);
/* Every file system right ABI abi knows. */
uint64_t landlock_fs_rights(int abi);
/* Allows rights (those a path of its kind can have) beneath path in ruleset. 0 or -1
 * (logged). missing_ok: a path that does not exist is skipped (0), not an error. */
int landlock_allow_path(int ruleset, const char *path, uint64_t rights, bool missing_ok);

#endif
