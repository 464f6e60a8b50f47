/* landlock.c: the Landlock system calls both sandboxes make: ABI probing, the rights of an ABI
 * and path-beneath rules. Owns no ruleset: each sandbox decides what its domain allows. */
#include "common/landlock.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/log.h"

int
landlock_abi(void)
{
	int abi =
	    (int)syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);

	if (abi >= 0)
		return abi;
	if (errno == ENOSYS || errno == EOPNOTSUPP)
		return 0;
	error_f("landlock_create_ruleset (version): %s", strerror(errno));
	return -1;
}

uint64_t
landlock_fs_rights(int abi)
{
	uint64_t fs = ((LANDLOCK_ACCESS_FS_REFER << 1) - 1) & ~LANDLOCK_ACCESS_FS_REFER; /* ABI 1 */

	if (abi >= 2)
		fs |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		fs |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		fs |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	return fs;
}

/* The rights a rule on a file (not a directory) may name: the kernel refuses the others. */
#define LANDLOCK_FILE_RIGHTS                                                                       \
	(LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |                              \
	    LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_TRUNCATE |                           \
	    LANDLOCK_ACCESS_FS_IOCTL_DEV)

int
landlock_allow_path(int ruleset, const char *path, uint64_t rights, bool missing_ok)
{
	struct landlock_path_beneath_attr rule = { .allowed_access = rights };
	struct stat st;
	int rc;

	if ((rule.parent_fd = open(path, O_PATH | O_CLOEXEC)) == -1) {
		if (errno == ENOENT && missing_ok)
			return 0;
		error_f("%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(rule.parent_fd, &st) == 0 && !S_ISDIR(st.st_mode))
		rule.allowed_access &= LANDLOCK_FILE_RIGHTS;
	rc = (int)syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0);
	if (rc != 0)
		error_f("landlock_add_rule %s: %s", path, strerror(errno));
	close(rule.parent_fd);
	return rc == 0 ? 0 : -1;
}
