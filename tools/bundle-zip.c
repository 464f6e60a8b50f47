/* bundle-zip.c: `evidence export --zip`: DIR.zip beside the finished bundle folder, made by the
 * stock zip program (no shell: the folder's name is an argument, never parsed). The folder stays;
 * the archive holds it as one top-level folder, MANIFEST and MANIFEST.sig included. */
#include "tools/bundle.h"

#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/xmalloc.h"

int
bundle_zip(const char *dir)
{
	char *copy1 = xstrdup(dir), *copy2 = xstrdup(dir), *parent, *base, *archive;
	int status = -1;
	pid_t pid;

	parent = dirname(copy1);
	base = basename(copy2);
	xasprintf(&archive, "%s.zip", base);
	if ((pid = fork()) == 0) {
		/* -X: no extra attributes (owner ids, times beyond the zip's own), -r: the folder.
		 */
		if (chdir(parent) == 0)
			execlp("zip", "zip", "-q", "-r", "-X", archive, base, (char *)NULL);
		perror("gatewayctl: zip");
		_exit(127);
	}
	if (pid > 0)
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	if (pid < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "gatewayctl: zip of %s failed (is zip installed?)\n", dir);
		status = -1;
	} else
		printf("%s/%s: the bundle as one archive\n", parent, archive);
	free(archive);
	free(copy1);
	free(copy2);
	return status == 0 ? 0 : -1;
}
