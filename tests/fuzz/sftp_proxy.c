/* sftp_proxy.c: a development tool, not part of the build: runs OpenSSH's sftp-server
 * behind the sftp inspection module, so stock clients can be tried without a gateway:
 *   sftp -D ./sftp_proxy, or scp -S ./sftp_proxy_ssh (a wrapper that drops ssh's args).
 * Grant from the environment: SFTPW_UPLOAD=1, SFTPW_DOWNLOAD=1, SFTPW_PREFIX=/dir,
 * SFTPW_MAX=bytes; events go as JSON lines to SFTPW_EVENTS (default stderr).
 * Build: cc -D_GNU_SOURCE -I. tests/fuzz/sftp_proxy.c build/gatewayd/libgwcore.a \
 *        build/evidence/libgwevidence.a build/policy/libgwcommon.a -ljansson -lcrypto \
 *        -o sftp_proxy */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gatewayd/sftp.h"

static FILE *events;

static int
proxy_event(const struct sftp_event *ev, void *arg __attribute__((unused)))
{
	json_t *o = sftp_event_to_json(ev);
	char *s = json_dumps(o, JSON_COMPACT);

	fprintf(events, "%s\n", s);
	fflush(events);
	free(s);
	json_decref(o);
	return 0;
}

/* Writes all of a queue; the proxy has no flow control of its own to respect. */
static int
proxy_drain(int fd, struct sftp_watch *w, bool to_target)
{
	const uint8_t *p;
	size_t n =
	    to_target ? sftp_watch_pending_to_target(w, &p) : sftp_watch_pending_to_vendor(w, &p);
	ssize_t r;

	while (n > 0) {
		if ((r = write(fd, p, n)) <= 0)
			return -1;
		if (to_target)
			sftp_watch_consume_to_target(w, (size_t)r);
		else
			sftp_watch_consume_to_vendor(w, (size_t)r);
		n = to_target ? sftp_watch_pending_to_target(w, &p)
		              : sftp_watch_pending_to_vendor(w, &p);
	}
	return 0;
}

int
main(void)
{
	const char *prefix = getenv("SFTPW_PREFIX"), *max = getenv("SFTPW_MAX");
	const char *evpath = getenv("SFTPW_EVENTS");
	const char *prefixes[1] = { prefix };
	struct sftp_policy pol = {
		.upload = getenv("SFTPW_UPLOAD") != NULL,
		.download = getenv("SFTPW_DOWNLOAD") != NULL,
		.path_prefixes = prefix != NULL ? prefixes : NULL,
		.nprefixes = prefix != NULL,
		.max_file_size = max != NULL ? strtoull(max, NULL, 10) : 0,
	};
	struct sftp_watch *w;
	int in[2], out[2];
	struct pollfd pfd[2];
	static uint8_t buf[65536], held[65536];
	size_t nheld = 0;
	ssize_t n, took, off;
	pid_t pid;

	events = evpath != NULL ? fopen(evpath, "a") : stderr;
	if (events == NULL || (w = sftp_watch_new(&pol, proxy_event, NULL)) == NULL)
		return 2;
	if (pipe(in) == -1 || pipe(out) == -1 || (pid = fork()) == -1)
		return 2;
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		execl("/usr/lib/openssh/sftp-server", "sftp-server", (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	signal(SIGPIPE, SIG_IGN);
	pfd[0] = (struct pollfd){ .fd = 0, .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = out[0], .events = POLLIN };
	/*
	 * The relay's pattern: vendor bytes the watch does not take are held, and the
	 * vendor is not read again until they are; they are offered again after each
	 * target read (the watch may be waiting for the target's answer).
	 */
	for (;;) {
		pfd[0].fd = nheld > 0 ? -1 : 0;
		if (poll(pfd, 2, -1) == -1 && errno != EINTR)
			break;
		if (pfd[1].revents & (POLLIN | POLLHUP)) {
			if ((n = read(out[0], buf, sizeof(buf))) <= 0)
				goto done;
			for (off = 0; off < n; off += took) {
				if ((took = sftp_watch_from_target(w, buf + off, n - off)) < 0)
					goto fail;
				if (proxy_drain(1, w, false) == -1 ||
				    proxy_drain(in[1], w, true) == -1)
					goto done;
			}
		}
		if (nheld == 0 && (pfd[0].revents & (POLLIN | POLLHUP))) {
			if ((n = read(0, held, sizeof(held))) <= 0)
				goto done;
			nheld = (size_t)n;
		}
		while (nheld > 0) {
			if ((took = sftp_watch_from_vendor(w, held, nheld)) < 0)
				goto fail;
			if (took == 0)
				break;
			memmove(held, held + took, nheld - (size_t)took);
			nheld -= (size_t)took;
			if (proxy_drain(in[1], w, true) == -1 || proxy_drain(1, w, false) == -1)
				goto done;
		}
	}
fail:
	fprintf(stderr, "sftp_proxy: %s\n", sftp_watch_error(w));
done:
	sftp_watch_end(w);
	sftp_watch_free(w);
	close(in[1]);
	waitpid(pid, NULL, 0);
	return 0;
}
