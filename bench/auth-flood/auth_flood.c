/* auth_flood.c: makes N failed public-key logins from one source address with a libssh
 * client, J processes in parallel, and counts how each attempt ended. Bench tool only:
 * it never authenticates and never opens a channel. */
#include <libssh/libssh.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

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

int
main(int argc, char **argv)
{
	struct flood f = { .host = "127.0.0.1" };
	unsigned long n, j, i, w, counts[NOUTCOMES] = { 0 }, c[NOUTCOMES];
	int fds[2], status;
	pid_t pid;

	if (argc != 7) {
		fprintf(stderr, "usage: auth_flood PORT SOURCE USER PUBKEY ATTEMPTS PROCESSES\n");
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
