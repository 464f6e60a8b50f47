/* auth_flood.c: makes N failed public-key logins from one source address with a libssh
 * client, J processes in parallel, and counts how each attempt ended; or ("idle") holds N
 * unauthenticated TCP connections from one source, reconnecting those the gateway drops.
 * Bench tool only: it never authenticates and never opens a channel. */
#include <arpa/inet.h>
#include <libssh/libssh.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define IDLE_MAX 1024 /* connections the idle flood holds at most */

enum outcome {
	DROPPED,  /* closed before authentication: locked-out source or max_startups */
	DENIED,   /* reached authentication and was refused */
	ACCEPTED, /* the key was accepted (a bench mistake) */
	NOUTCOMES,
};

struct flood {
	const char *host, *source, *user;
	unsigned port;
	ssh_key key;
};

static enum outcome
flood_attempt(const struct flood *f)
{
	ssh_session s = ssh_new();
	int no = 0, timeout = 30, rc;
	enum outcome o = DROPPED;

	if (s == NULL)
		return DROPPED;
	ssh_options_set(s, SSH_OPTIONS_PROCESS_CONFIG, &no);
	ssh_options_set(s, SSH_OPTIONS_HOST, f->host);
	ssh_options_set(s, SSH_OPTIONS_PORT, &f->port);
	ssh_options_set(s, SSH_OPTIONS_BINDADDR, f->source);
	ssh_options_set(s, SSH_OPTIONS_USER, f->user);
	ssh_options_set(s, SSH_OPTIONS_TIMEOUT, &timeout);
	if (ssh_connect(s) == SSH_OK) {
		/* A key query, as a stock client makes first; a wrong key never gets further. */
		rc = ssh_userauth_try_publickey(s, NULL, f->key);
		o = rc == SSH_AUTH_SUCCESS ? ACCEPTED : rc == SSH_AUTH_DENIED ? DENIED : DROPPED;
		ssh_disconnect(s);
	}
	ssh_free(s);
	return o;
}

/* One TCP connection from source to 127.0.0.1:port, or -1. */
static int
idle_connect(unsigned port, const char *source)
{
	struct sockaddr_in from = { .sin_family = AF_INET }, to = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	to.sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
	if (fd == -1 || inet_pton(AF_INET, source, &from.sin_addr) != 1 ||
	    bind(fd, (struct sockaddr *)&from, sizeof(from)) != 0 ||
	    connect(fd, (struct sockaddr *)&to, sizeof(to)) != 0) {
		if (fd != -1)
			close(fd);
		return -1;
	}
	return fd;
}

/* idle PORT SOURCE CONNECTIONS SECONDS: holds the connections open without a byte of SSH;
 * prints how many connections were made and how many the gateway closed. */
static int
idle_flood(unsigned port, const char *source, unsigned long n, unsigned long seconds)
{
	struct pollfd p[IDLE_MAX];
	unsigned long made = 0, closed = 0, i;
	time_t end = time(NULL) + (time_t)seconds;
	char buf[512];

	if (n == 0 || n > IDLE_MAX)
		return 2;
	for (i = 0; i < n; i++)
		p[i] = (struct pollfd){ .fd = -1, .events = POLLIN };
	while (time(NULL) < end) {
		for (i = 0; i < n; i++)
			if (p[i].fd == -1 && (p[i].fd = idle_connect(port, source)) != -1)
				made++;
		if (poll(p, n, 200) < 0)
			break;
		for (i = 0; i < n; i++) {
			if (p[i].fd == -1 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			if (read(p[i].fd, buf, sizeof(buf)) <=
			    0) { /* the greeting is read, not answered */
				close(p[i].fd);
				p[i].fd = -1;
				closed++;
			}
		}
	}
	for (i = 0; i < n; i++)
		if (p[i].fd != -1)
			close(p[i].fd);
	printf("connections made %lu closed by the gateway %lu\n", made, closed);
	return 0;
}

int
main(int argc, char **argv)
{
	struct flood f = { .host = "127.0.0.1" };
	unsigned long n, j, i, w, counts[NOUTCOMES] = { 0 }, c[NOUTCOMES];
	int fds[2], status;
	pid_t pid;

	if (argc == 6 && strcmp(argv[1], "idle") == 0)
		return idle_flood((unsigned)strtoul(argv[2], NULL, 10), argv[3],
		    strtoul(argv[4], NULL, 10), strtoul(argv[5], NULL, 10));
	if (argc != 7) {
		fprintf(stderr,
		    "usage: auth_flood PORT SOURCE USER PUBKEY ATTEMPTS PROCESSES\n"
		    "       auth_flood idle PORT SOURCE CONNECTIONS SECONDS\n");
		return 2;
	}
	f.port = (unsigned)strtoul(argv[1], NULL, 10);
	f.source = argv[2];
	f.user = argv[3];
	n = strtoul(argv[5], NULL, 10);
	j = strtoul(argv[6], NULL, 10);
	if (ssh_pki_import_pubkey_file(argv[4], &f.key) != SSH_OK || j == 0 || j > 256) {
		fprintf(stderr, "auth_flood: bad key %s or process count\n", argv[4]);
		return 2;
	}
	if (pipe(fds) != 0)
		return 1;
	for (w = 0; w < j; w++) {
		if ((pid = fork()) == -1)
			return 1;
		if (pid == 0) {
			memset(c, 0, sizeof(c));
			for (i = w; i < n; i += j)
				c[flood_attempt(&f)]++;
			if (write(fds[1], c, sizeof(c)) != (ssize_t)sizeof(c))
				_exit(1);
			_exit(0);
		}
	}
	close(fds[1]);
	while (read(fds[0], c, sizeof(c)) == (ssize_t)sizeof(c))
		for (i = 0; i < NOUTCOMES; i++)
			counts[i] += c[i];
	while (wait(&status) > 0)
		;
	printf("attempts %lu dropped %lu denied %lu accepted %lu\n", n, counts[DROPPED],
	    counts[DENIED], counts[ACCEPTED]);
	ssh_key_free(f.key);
	return counts[ACCEPTED] == 0 ? 0 : 1;
}
