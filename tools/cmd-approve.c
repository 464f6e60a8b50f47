/* cmd-approve.c: `gatewayctl approve --via APPROVER@GATEWAY ID`, on an approver's laptop: fetches
 * the exact ticket text of a request over ssh, shows it, signs it with ssh-keygen -Y sign (key
 * file or ssh-agent) and hands the signature to the gateway's approve. Holds no gateway state. */
#include "tools/gatewayctl.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/xmalloc.h"
#include "tools/termsafe.h"

#define APPROVE_ARGS_MAX 64

struct approve_ssh {
	const char *argv[APPROVE_ARGS_MAX];
	size_t n;
};

/* Runs argv with stdin from in_fd (-1: /dev/null) and, when out is given, its stdout read
 * into *out (at most max bytes; more is an error). Its stderr is the user's. Exit status. */
static int
approve_run(const char *const *argv, int in_fd, char **out, size_t max, size_t *outlen)
{
	int pfd[2] = { -1, -1 }, status;
	size_t len = 0;
	ssize_t n;
	pid_t pid;
	char *buf = NULL;

	if (out != NULL && pipe(pfd) != 0)
		return -1;
	if ((pid = fork()) == 0) {
		if (in_fd == -1)
			in_fd = open("/dev/null", O_RDONLY);
		dup2(in_fd, 0);
		if (out != NULL)
			dup2(pfd[1], 1);
		execvp(argv[0], (char *const *)argv);
		fprintf(stderr, "gatewayctl approve: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	if (out != NULL) {
		close(pfd[1]);
		buf = xmalloc(max + 1);
		while (pid > 0 && (n = read(pfd[0], buf + len, max + 1 - len)) != 0) {
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 || (len += (size_t)n) > max)
				break;
		}
		close(pfd[0]);
	}
	if (pid < 0) {
		free(buf);
		return -1;
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (out != NULL) {
		if (len > max) {
			fprintf(
			    stderr, "gatewayctl approve: the gateway sent more than a ticket\n");
			free(buf);
			return -1;
		}
		buf[len] = '\0';
		*out = buf;
		*outlen = len;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* ssh with the user's options to the approver's console, running verb ID. */
static const char *const *
approve_ssh_argv(struct approve_ssh *a, const char *verb, const char *verb2, const char *id)
{
	static struct approve_ssh full;
	size_t k = 0, i;

	for (i = 0; i < a->n; i++)
		full.argv[k++] = a->argv[i];
	full.argv[k++] = verb;
	if (verb2 != NULL)
		full.argv[k++] = verb2;
	full.argv[k++] = id;
	full.argv[k] = NULL;
	return full.argv;
}

/* The public key the agent signs with when no -i was given: its first identity. */
static int
approve_agent_key(const char *dir, char **pub)
{
	static const char *const argv[] = { "ssh-add", "-L", NULL };
	char *keys, *nl;
	size_t len;
	FILE *f;

	if (approve_run(argv, -1, &keys, 65536, &len) != 0) {
		fprintf(stderr, "gatewayctl approve: no key given (-i KEY) and no ssh-agent key\n");
		return -1;
	}
	if ((nl = strchr(keys, '\n')) != NULL)
		*nl = '\0';
	xasprintf(pub, "%s/agent.pub", dir);
	if ((f = fopen(*pub, "w")) == NULL || fprintf(f, "%s\n", keys) < 0 || fclose(f) != 0) {
		fprintf(stderr, "gatewayctl approve: %s: %s\n", *pub, strerror(errno));
		free(keys);
		return -1;
	}
	free(keys);
	return 0;
}

static int
cmd_approve_exec(struct ctl_context *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "via", required_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	struct approve_ssh ssh = { .argv = { "ssh", "-T" }, .n = 2 };
	const char *via = NULL, *key = NULL, *id;
	char dir[] = "/tmp/gatewayctl-approve.XXXXXX", *text = NULL, *file = NULL, *sig = NULL;
	char *pub = NULL, *shown;
	const char *sign[10];
	struct gw_ticket *t = NULL;
	char *errors = NULL;
	size_t len;
	int ch, fd = -1, rc = 1;

	(void)ctx;
	while ((ch = getopt_long(argc, argv, "i:p:o:", opts, NULL)) != -1) {
		if (ssh.n + 3 >= APPROVE_ARGS_MAX - 4)
			goto usage;
		switch (ch) {
		case 'v':
			via = optarg;
			break;
		case 'i':
			key = optarg; /* ssh logs in with the same key */
			__attribute__((fallthrough));
		case 'p':
		case 'o':
			ssh.argv[ssh.n++] = ch == 'i' ? "-i" : ch == 'p' ? "-p" : "-o";
			ssh.argv[ssh.n++] = optarg;
			break;
		default:
			goto usage;
		}
	}
	if (via == NULL || optind != argc - 1)
		goto usage;
	id = argv[optind];
	ssh.argv[ssh.n++] = via;
	if (mkdtemp(dir) == NULL) {
		fprintf(stderr, "gatewayctl approve: %s: %s\n", dir, strerror(errno));
		return 1;
	}
	if (approve_run(approve_ssh_argv(&ssh, "request", "show", id), -1, &text, TICKET_TEXT_MAX,
	        &len) != 0)
		goto done; /* ssh or the gateway said why on stderr */
	/* What is signed must be a ticket for this request: never sign what the gateway sends
	 * blindly. */
	if (ticket_parse(text, len, id, &t, &errors) != 0 || strcmp(t->id, id) != 0) {
		fprintf(stderr, "gatewayctl approve: the gateway's text for %s is not its ticket\n",
		    id);
		goto done;
	}
	shown = termsafe_format(text, len);
	printf("signing the ticket text of request %s:\n%s\n", id, shown);
	free(shown);
	xasprintf(&file, "%s/%s.ticket", dir, id);
	xasprintf(&sig, "%s.sig", file);
	if ((fd = open(file, O_WRONLY | O_CREAT | O_EXCL, 0600)) < 0 ||
	    write(fd, text, len) != (ssize_t)len || close(fd) != 0) {
		fprintf(stderr, "gatewayctl approve: %s: %s\n", file, strerror(errno));
		goto done;
	}
	if (key == NULL && approve_agent_key(dir, &pub) != 0)
		goto done;
	sign[0] = "ssh-keygen";
	sign[1] = "-q";
	sign[2] = "-Y";
	sign[3] = "sign";
	sign[4] = "-n";
	sign[5] = TICKET_NAMESPACE;
	sign[6] = "-f";
	sign[7] = key != NULL ? key : pub;
	sign[8] = file;
	sign[9] = NULL;
	if (approve_run(sign, -1, NULL, 0, NULL) != 0) {
		fprintf(stderr, "gatewayctl approve: ssh-keygen could not sign\n");
		goto done;
	}
	if ((fd = open(sig, O_RDONLY)) < 0) {
		fprintf(stderr, "gatewayctl approve: %s: %s\n", sig, strerror(errno));
		goto done;
	}
	rc = approve_run(approve_ssh_argv(&ssh, "approve", NULL, id), fd, NULL, 0, NULL) == 0 ? 0
	                                                                                      : 1;
	close(fd);
done:
	if (file != NULL)
		unlink(file);
	if (sig != NULL)
		unlink(sig);
	if (pub != NULL)
		unlink(pub);
	rmdir(dir);
	ticket_free(t);
	free(errors);
	free(text);
	free(file);
	free(sig);
	free(pub);
	return rc;
usage:
	fprintf(stderr, "usage: gatewayctl approve %s\n", cmd_approve_entry.usage);
	return 2;
}

const struct ctl_command cmd_approve_entry = {
	.name = "approve",
	.usage = "--via APPROVER@GATEWAY [-i KEY] [-p PORT] [-o SSH_OPTION]... REQUEST_ID",
	.exec = cmd_approve_exec,
};
