/* console_auditor.c: an auditor's console commands, gatewayctl's own (tools/, gwctl), run in a
 * child of the auditor's session process; their output streams as the channel's window allows. */
#include "gatewayd/console.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "gatewayd/gatewayd.h"
#include "tools/bundle.h"
#include "tools/gatewayctl.h"
#include "tools/termsafe.h"

#define AUDITOR_ERR_MAX 4096 /* what a command says on stderr; the rest is dropped */
/* A MANIFEST the listener signs for an export: its lines are ~100 bytes a file, so this is some
 * 5000 files, and within the link's message once in base64. */
#define AUDITOR_MANIFEST_MAX (512 * 1024)

struct auditor_cmd {
	const char *name;
	const struct ctl_command *ctl;
	/* text: either way (LF as CR LF over `ssh -t`); raw terminal output: only over `ssh -t`;
	 * a file's bytes (a tar): never over `ssh -t`, whose line ends would change them. */
	enum { AUDITOR_TEXT, AUDITOR_TERMINAL, AUDITOR_FILE } output;
	const char *usage;
};

#define AUDITOR_FILTERS                                                                            \
	"[--person P] [--vendor V] [--target T] [--since N(s|m|h|d)] [--from TIME] [--to TIME]"
static const struct auditor_cmd auditor_cmds[] = {
	{ "history", &cmd_history_entry, AUDITOR_TEXT, AUDITOR_FILTERS },
	{ "search", &cmd_search_entry, AUDITOR_TEXT, "PATTERN " AUDITOR_FILTERS },
	{ "transcript", &cmd_transcript_entry, AUDITOR_TEXT, "ID   (SESSION[.CHANNEL[.cast]])" },
	{ "replay", &cmd_replay_entry, AUDITOR_TERMINAL,
	    "ID [--speed X] [--idle-limit S]   (over ssh -t)" },
	/* The export is ASCII-only JSON (cmd-recording.c), text either way. */
	{ "recording", &cmd_recording_entry, AUDITOR_TEXT,
	    "verify ID... | export --asciicast ID > recording.cast" },
	{ "report", &cmd_report_entry, AUDITOR_TEXT,
	    "[--vendor V] [--target T] [--since N(s|m|h|d)] [--from TIME] [--to TIME] "
	    "[--format text|json|html]" },
	{ "evidence", &cmd_evidence_entry, AUDITOR_FILE,
	    "export --vendor V [--target T] --from TIME --to TIME > bundle.tar" },
};
#define AUDITOR_NCMDS (sizeof(auditor_cmds) / sizeof(auditor_cmds[0]))

struct auditor_job {
	pid_t pid;
	int out, err; /* the child's stdout and stderr; -1 once at their end */
	int sign;     /* its requests to sign a bundle's MANIFEST (one at a time); -1: closed */
	bool sign_polled;
	bool out_polled; /* out is in the session's event loop */
	bool err_polled;
	bool lf_to_crlf; /* a pty: the client's terminal is raw */
	bool stopped;    /* the auditor stopped it (^C, the channel closed) */
	char errbuf[AUDITOR_ERR_MAX];
	size_t errlen;
	char line[512]; /* the command as audited */
};

/* The event loop only wakes for the child's pipes: relay_pump moves the bytes. */
static int
console_auditor_wake(socket_t fd, int revents, void *arg)
{
	(void)fd;
	(void)revents;
	(void)arg;
	return 0;
}

static void
console_auditor_close(struct session *s, int *fd, bool *polled)
{
	if (*polled)
		ssh_event_remove_fd(s->event, *fd);
	*polled = false;
	close(*fd);
	*fd = -1;
}

/* gwctl asks for the configuration through this; a session's is loaded already. */
const struct gw_config *
ctl_config(struct ctl_context *ctx)
{
	return ctx->config;
}

void
console_auditor_help(FILE *f)
{
	size_t i;

	for (i = 0; i < AUDITOR_NCMDS; i++)
		fprintf(f, "  %s %s\r\n", auditor_cmds[i].name, auditor_cmds[i].usage);
}

static void
console_auditor_audit(struct relay *r, const char *line, int status)
{
	const struct gw_person *p = r->session->person;

	session_audit(r->session, "console_command",
	    audit_pack("{s:s, s:s, s:s, s:i}", "principal", p->id, "role", "auditor", "command",
	        line, "status", status));
}

/* The whole of len bytes over the signing socket (blocking), written when out, else read, in
 * the manner of OpenSSH's atomicio: 0, or -1 at its end or an error. */
static int
console_auditor_io(bool out, int fd, void *buf, size_t len)
{
	char *p = buf;
	ssize_t n;

	while (len > 0) {
		if ((n = out ? write(fd, p, len) : read(fd, p, len)) < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* In the child: an export's MANIFEST, signed by the listener through the session process
 * (console_auditor_sign below): its length and text, then the signature back, "" if refused. */
static int
console_auditor_child_sign(void *arg, const char *manifest, char sig[SEAL_SIG_B64_LEN])
{
	int fd = *(int *)arg;
	uint32_t len = (uint32_t)strlen(manifest);

	if (strlen(manifest) > AUDITOR_MANIFEST_MAX) {
		fprintf(stderr,
		    "the bundle lists too many files for the console to sign (%zu "
		    "bytes of MANIFEST, at most %d): export a shorter period\n",
		    strlen(manifest), AUDITOR_MANIFEST_MAX);
		return -1;
	}
	if (console_auditor_io(true, fd, &len, sizeof(len)) != 0 ||
	    console_auditor_io(true, fd, (char *)manifest, len) != 0 ||
	    console_auditor_io(false, fd, sig, SEAL_SIG_B64_LEN) != 0 || sig[0] == '\0' ||
	    sig[SEAL_SIG_B64_LEN - 1] != '\0') {
		fprintf(stderr, "the gateway did not sign the bundle\n");
		return -1;
	}
	return 0;
}

/* In the child: the command, its stdout and stderr on the pipes; never returns. It inherits
 * the session's sandbox (monitor_sandbox.c): what it reads is what an auditor may read. */
static void
console_auditor_child(struct relay *r, const struct auditor_cmd *cmd, char **argv, size_t argc,
    int out, int err, int sign)
{
	const struct gw_config *cfg = r->session->cfg;
	struct ctl_context ctx = { .config_path = "",
		.config = (struct gw_config *)cfg,
		.auditor = config_find_auditor(cfg, config_principal_name(r->session->person)),
		.sign_manifest = console_auditor_child_sign,
		.sign_arg = &sign,
		.player_fds = r->session->player_fds };
	char **args = xcalloc(argc + 1, sizeof(*args));
	int rc;

	/* A session process that is gone, or a channel it closed, ends the command. */
	signal(SIGPIPE, SIG_DFL);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (ctx.auditor == NULL || dup2(out, STDOUT_FILENO) < 0 || dup2(err, STDERR_FILENO) < 0)
		_exit(1);
	memcpy(args, argv, argc * sizeof(*args));
	rc = cmd->ctl->exec(&ctx, (int)argc, args);
	/* _exit flushes no stdio buffer. */
	fflush(stdout);
	fflush(stderr);
	_exit(rc);
}

struct auditor_job *
console_auditor_start(
    struct relay *r, char **argv, size_t argc, int *status, char *why, size_t whylen)
{
	const struct auditor_cmd *cmd = NULL;
	struct auditor_job *j;
	size_t i, used = 0;
	int out[2], err[2], sign[2];
	char line[512];

	/* The words as typed (cmdline_split lets no control character through). */
	line[0] = '\0';
	for (i = 0; i < argc && used < sizeof(line); i++)
		used += (size_t)snprintf(
		    line + used, sizeof(line) - used, "%s%s", i ? " " : "", argv[i]);
	for (i = 0; i < AUDITOR_NCMDS && cmd == NULL; i++)
		if (strcmp(auditor_cmds[i].name, argv[0]) == 0)
			cmd = &auditor_cmds[i];
	*status = 2;
	if (cmd == NULL || (cmd->output == AUDITOR_TERMINAL && !r->pty) ||
	    (cmd->output == AUDITOR_FILE && r->pty)) {
		if (cmd == NULL)
			snprintf(why, whylen,
			    "unknown command \"%.40s\" for auditor; ssh %s@GATEWAY help lists them",
			    argv[0], r->session->person->id);
		else if (cmd->output == AUDITOR_FILE)
			snprintf(why, whylen,
			    "%s writes a file: without -t, ssh %s@GATEWAY %s ... > FILE", cmd->name,
			    r->session->person->id, cmd->name);
		else
			snprintf(why, whylen, "%s needs a terminal: ssh -t %s@GATEWAY %s ...",
			    cmd->name, r->session->person->id, cmd->name);
		console_auditor_audit(r, line, *status);
		return NULL;
	}
	if (pipe2(out, O_CLOEXEC) != 0)
		out[0] = -1;
	else if (pipe2(err, O_CLOEXEC) != 0) {
		close(out[0]);
		close(out[1]);
		out[0] = -1;
	} else if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sign) != 0) {
		close(out[0]);
		close(out[1]);
		close(err[0]);
		close(err[1]);
		out[0] = -1;
	}
	if (out[0] == -1) {
		error_f("%s: pipe: %s", r->session->id, strerror(errno));
		goto fail;
	}
	fflush(NULL);
	j = xcalloc(1, sizeof(*j));
	if ((j->pid = fork()) == 0)
		console_auditor_child(r, cmd, argv, argc, out[1], err[1], sign[1]);
	close(out[1]);
	close(err[1]);
	close(sign[1]);
	if (j->pid < 0) {
		error_f("%s: fork: %s", r->session->id, strerror(errno));
		close(out[0]);
		close(err[0]);
		close(sign[0]);
		free(j);
		goto fail;
	}
	j->out = out[0];
	j->err = err[0];
	j->sign = sign[0];
	j->sign_polled = ssh_event_add_fd(r->session->event, j->sign, POLLIN, console_auditor_wake,
	                     NULL) == SSH_OK;
	j->lf_to_crlf = r->pty && cmd->output == AUDITOR_TEXT;
	snprintf(j->line, sizeof(j->line), "%s", line);
	(void)fcntl(j->out, F_SETFL, O_NONBLOCK);
	(void)fcntl(j->err, F_SETFL, O_NONBLOCK);
	/* stderr is small and always read, so the command never waits on it. */
	j->err_polled = ssh_event_add_fd(r->session->event, j->err, POLLIN, console_auditor_wake,
	                    NULL) == SSH_OK;
	return j;
fail:
	*status = 1;
	snprintf(why, whylen, "the gateway cannot run the command now");
	console_auditor_audit(r, line, *status);
	return NULL;
}

/* What the command says on stderr, kept up to AUDITOR_ERR_MAX for the end. */
static void
console_auditor_read_err(struct relay *r, struct auditor_job *j)
{
	char buf[1024];
	ssize_t n;
	size_t take;

	while ((n = read(j->err, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0)
			break;
		take = (size_t)n < sizeof(j->errbuf) - j->errlen ? (size_t)n
		                                                 : sizeof(j->errbuf) - j->errlen;
		memcpy(j->errbuf + j->errlen, buf, take);
		j->errlen += take;
	}
	console_auditor_close(r->session, &j->err, &j->err_polled);
}

/* What the command prints, to the channel as far as its window takes it: the command waits on
 * its pipe meanwhile, so nothing is buffered here whatever the size of a recording. */
static void
console_auditor_read_out(struct relay *r, struct auditor_job *j)
{
	static char buf[16384], crlf[2 * sizeof(buf)];
	uint32_t room = 0, len, i;
	ssize_t n;

	for (;;) {
		room = vchan_window(r->vendor) / (j->lf_to_crlf ? 2 : 1);
		if (room == 0)
			break;
		n = read(j->out, buf, room < sizeof(buf) ? room : sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			console_auditor_close(r->session, &j->out, &j->out_polled);
			return;
		}
		for (i = 0, len = 0; j->lf_to_crlf && i < (uint32_t)n; i++) {
			if (buf[i] == '\n')
				crlf[len++] = '\r';
			crlf[len++] = buf[i];
		}
		if (vchan_write(r->vendor, j->lf_to_crlf ? crlf : buf,
		        j->lf_to_crlf ? len : (uint32_t)n, 0) < 0)
			return;
	}
	/* Polled only while the window has room: a full one must not wake the loop. */
	if ((room > 0) != j->out_polled) {
		if (j->out_polled)
			ssh_event_remove_fd(r->session->event, j->out);
		j->out_polled = room > 0 &&
		    ssh_event_add_fd(
		        r->session->event, j->out, POLLIN, console_auditor_wake, NULL) == SSH_OK;
	}
}

/* A signing request of the child, when one waits: the listener signs (at most its call's
 * timeout, during which the session waits: an auditor's session has nothing else to do), the
 * answer goes back. Any failure closes the socket, which the child takes as a refusal. */
static void
console_auditor_sign(struct relay *r, struct auditor_job *j)
{
	struct pollfd pfd = { .fd = j->sign, .events = POLLIN };
	char sig[SEAL_SIG_B64_LEN] = "", *text;
	uint32_t len;

	if (poll(&pfd, 1, 0) <= 0)
		return;
	if (console_auditor_io(false, j->sign, &len, sizeof(len)) != 0 ||
	    len > AUDITOR_MANIFEST_MAX) {
		console_auditor_close(r->session, &j->sign, &j->sign_polled);
		return;
	}
	text = xmalloc((size_t)len + 1);
	if (console_auditor_io(false, j->sign, text, len) == 0) {
		text[len] = '\0';
		if (registry_link_sign_bundle(
		        r->session->link, r->session->person->id, text, sig) != 0) {
			warn_f("%s: the listener did not sign %s's bundle", r->session->id,
			    r->session->person->id);
			memset(sig, 0, sizeof(sig));
		}
		if (console_auditor_io(true, j->sign, sig, sizeof(sig)) == 0) {
			free(text);
			return;
		}
	}
	free(text);
	console_auditor_close(r->session, &j->sign, &j->sign_polled);
}

void
console_auditor_stop(struct relay *r, struct auditor_job *j)
{
	if (!j->stopped && j->pid > 0)
		kill(j->pid, SIGKILL);
	j->stopped = true;
	if (j->out != -1)
		console_auditor_close(r->session, &j->out, &j->out_polled);
	if (j->sign != -1)
		console_auditor_close(r->session, &j->sign, &j->sign_polled);
}

/* Its stderr, each line termsafe, on the channel's stderr at the end: false while the window
 * cannot take it yet. */
static bool
console_auditor_tell_err(struct relay *r, struct auditor_job *j)
{
	char *text = NULL, *line, *next, *safe;
	size_t len = 0;
	FILE *f;
	bool told;

	if (j->errlen == 0 || j->stopped || r->vendor_closed || r->close_sent)
		return true;
	j->errbuf[j->errlen == sizeof(j->errbuf) ? j->errlen - 1 : j->errlen] = '\0';
	f = open_memstream(&text, &len);
	for (line = j->errbuf; *line != '\0'; line = next) {
		next = line + strcspn(line, "\n");
		if (*next == '\n')
			*next++ = '\0';
		safe = termsafe_str(line);
		fprintf(f, "%s%s", safe, r->pty ? "\r\n" : "\n");
		free(safe);
	}
	fclose(f);
	if ((told = vchan_window(r->vendor) >= len)) {
		vchan_write(r->vendor, text, (uint32_t)len, 1);
		j->errlen = 0;
	}
	free(text);
	return told;
}

bool
console_auditor_pump(struct relay *r, struct auditor_job *j, int *status)
{
	int st;
	pid_t rc;

	if (r->vendor_closed || r->close_sent)
		console_auditor_stop(r, j);
	if (j->sign != -1)
		console_auditor_sign(r, j);
	if (j->err != -1)
		console_auditor_read_err(r, j);
	if (j->out != -1)
		console_auditor_read_out(r, j);
	if (j->out != -1 || j->err != -1 || !console_auditor_tell_err(r, j))
		return true;
	if (j->sign != -1)
		console_auditor_close(r->session, &j->sign, &j->sign_polled);
	while ((rc = waitpid(j->pid, &st, 0)) < 0 && errno == EINTR)
		;
	j->pid = -1;
	*status = rc < 0    ? 1
	    : WIFEXITED(st) ? WEXITSTATUS(st)
	                    : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	console_auditor_audit(r, j->line, *status);
	return false;
}

void
console_auditor_free(struct relay *r, struct auditor_job *j)
{
	if (j == NULL)
		return;
	if (j->pid > 0) {
		console_auditor_stop(r, j);
		if (j->err != -1)
			console_auditor_close(r->session, &j->err, &j->err_polled);
		while (waitpid(j->pid, NULL, 0) < 0 && errno == EINTR)
			;
		console_auditor_audit(r, j->line, 128 + SIGKILL);
	}
	free(j);
}
