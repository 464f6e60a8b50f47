/* recpack.c: compresses the sealed recordings of a session that has ended, in a child of the
 * listener. Why here: the listener creates every recording and owns recording_dir, and it
 * alone knows when a seal was signed and the session process that wrote it is gone (so the
 * file is complete and closed). The session process cannot (its sandbox opens no recording,
 * monitor_sandbox.c) and must not be given the right to create, rename or remove files in
 * recording_dir, where every other session's evidence lies; the vendor-facing process never
 * touches evidence. A child, so that a large recording never holds up the accept loop. */
#include "gatewayd/recpack.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "evidence/castpack.h"

/* The child: nothing of the listener's but the key's public use and the names. */
static void
recpack_run(const char *dir, const struct sealkey *key, char *const *names)
{
	char *path, err[512];
	size_t i;

	for (i = 0; names[i] != NULL; i++) {
		xasprintf(&path, "%s/%s", dir, names[i]);
		if (castpack_compress(path, key, err, sizeof(err)) != 0)
			warn_f("%s stays plain: %s", path, err);
		else if (err[0] != '\0')
			warn_f("%s compressed, but the plain file stays: %s", path, err);
		else
			debug_f("%s kept as %s.zst", path, names[i]);
		free(path);
	}
}

pid_t
recpack_spawn(const struct gw_config *cfg, const struct sealkey *key, char *const *names)
{
	sigset_t none;
	pid_t pid;

	if (names == NULL || names[0] == NULL)
		return 0;
	if ((pid = fork()) == -1) {
		error_f("fork: %m (the recordings of %.32s stay plain)", names[0]);
		return -1;
	}
	if (pid > 0)
		return pid;
	/* The listener's signals are blocked for its signalfd, and its sockets are its own: a
	 * stop reaches the child too, and a restarted listener can bind its port again. */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	closefrom(STDERR_FILENO + 1);
	/* Behind the sessions and the accept loop, on a machine they share. */
	if (setpriority(PRIO_PROCESS, 0, 10) != 0)
		debug_f("setpriority: %m");
	recpack_run(cfg->recording_dir, key, names);
	_exit(0);
}

void
recpack_names_free(char **names)
{
	size_t i;

	for (i = 0; names != NULL && names[i] != NULL; i++)
		free(names[i]);
	free(names);
}
