/* notify.c: owns the table of audit events a site is notified of and the notifiers running for
 * them. Never makes the listener wait on a notifier and never gives one the listener's user,
 * capabilities, descriptors or memory: each runs as front_user under a supervisor of its own. */
#include "gatewayd/notify.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "gatewayd/audit.h"

#define NOTIFY_RUNNING_MAX 8           /* notifiers at once; more are audited, not run */
#define NOTIFY_LINE_MAX    (60 * 1024) /* within a pipe's default 64 KiB: written at once */

/*
 * The events a site is told of: one row each, in the one place they are listed (documented in
 * docs/notifications.md). A row with a field matches only events whose field has that string
 * value, or is true when value is NULL. Only events the listener appends can be here.
 */
static const struct notify_rule {
	const char *event;
	const char *field;
	const char *value;
} notify_rules[] = {
	{ "request_created", NULL, NULL },
	{ "request_approved", NULL, NULL },
	{ "request_denied", NULL, NULL },
	/* "session S of person P on target T, under ticket X approved by A": the one event that
	 * names them all, written before the target is contacted. */
	{ "access_decision", "allow", NULL },
	{ "session_cut", NULL, NULL },
	/* An approver's revocation at the console; gatewayctl ticket revoke writes its own line,
	 * which the listener never sees, and then asks for the kill below. */
	{ "ticket_revoked", NULL, NULL },
	/* The owner's kill (gatewayctl kill, and the kill of gatewayctl ticket revoke, by
	 * "ticket") and vendor disable (gatewayctl or the console), naming who. */
	{ "control", "action", "kill" },
	{ "control", "action", "vendor_disable" },
};

/* What a notifier's supervisor tells the listener, one record on its result pipe. */
enum notify_outcome { NOTIFY_EXITED, NOTIFY_SIGNALLED, NOTIFY_TIMED_OUT, NOTIFY_NOT_RUN };
struct notify_result {
	int outcome;   /* enum notify_outcome */
	int value;     /* exit status, signal, or errno (NOTIFY_NOT_RUN) */
	char what[64]; /* NOTIFY_NOT_RUN: the step that failed */
};

struct notify_child {
	pid_t pid;     /* the supervisor */
	int result_fd; /* read end of its result pipe, O_NONBLOCK */
	char event[64];
};

struct notify {
	const struct frontproc *fp;
	struct notify_child running[NOTIFY_RUNNING_MAX];
	size_t nrunning;
};

struct notify *
notify_new(const struct frontproc *fp)
{
	struct notify *nf = xcalloc(1, sizeof(*nf));

	nf->fp = fp;
	return nf;
}

void
notify_free(struct notify *nf)
{
	size_t i;

	if (nf == NULL)
		return;
	for (i = 0; i < nf->nrunning; i++)
		close(nf->running[i].result_fd);
	free(nf);
}

/* Whether the table names this event (line: its audit line, parsed only for a field). */
static bool
notify_wanted(const char *event, const char *line)
{
	const json_t *v;
	json_t *obj = NULL;
	bool yes = false;
	size_t i;

	for (i = 0; !yes && i < sizeof(notify_rules) / sizeof(notify_rules[0]); i++) {
		const struct notify_rule *r = &notify_rules[i];

		if (strcmp(r->event, event) != 0)
			continue;
		if (r->field == NULL) {
			yes = true;
			continue;
		}
		if (obj == NULL && (obj = json_loads(line, 0, NULL)) == NULL)
			break; /* cannot be: audit_event() wrote it as JSON */
		v = json_object_get(obj, r->field);
		yes = r->value == NULL
		    ? json_is_true(v)
		    : json_is_string(v) && strcmp(json_string_value(v), r->value) == 0;
	}
	json_decref(obj);
	return yes;
}

/* A notification that did not happen: logged once here, and audited (status: the exit status
 * or 128 + signal, -1: the program did not run). notify_failed is not in the table: no loop. */
static void
notify_fail(const struct gw_config *cfg, struct notary *notary, const char *event,
    const char *reason, int status)
{
	json_t *fields = audit_pack("{s:s, s:s}", "notified_event", event, "reason", reason);

	warn_f("notifier for %s: %s", event, reason);
	if (fields != NULL && status >= 0)
		json_object_set_new(fields, "status", json_integer(status));
	if (fields == NULL)
		crit_f("audit event notify_failed cannot be built (event lost)");
	else if (notary_audit(notary, cfg->audit_log, "notify_failed", fields) != 0)
		crit_f("audit log %s cannot be written: %m (event notify_failed lost)",
		    cfg->audit_log);
}

/* ---- in the children: only async-signal-safe calls ---- */

static void
notify_report(int fd, int outcome, int value, const char *what)
{
	struct notify_result r;

	memset(&r, 0, sizeof(r));
	r.outcome = outcome;
	r.value = value;
	if (what != NULL)
		strncpy(r.what, what, sizeof(r.what) - 1);
	(void)!write(fd, &r, sizeof(r)); /* one record, below PIPE_BUF: whole or not at all */
}

static void __attribute__((noreturn)) notify_die(int fd, const char *what)
{
	notify_report(fd, NOTIFY_NOT_RUN, errno, what);
	_exit(127);
}

/* The program itself: its own process group, nothing blocked, and gone with its supervisor
 * (whose timeout is the only one that can end it), then exec. */
static void __attribute__((noreturn))
notify_exec(int result_fd, char *const argv[], char *const envp[], pid_t supervisor)
{
	sigset_t none;

	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) != 0 || setpgid(0, 0) != 0)
		notify_die(result_fd, "process group");
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0)
		notify_die(result_fd, "parent death signal");
	if (getppid() != supervisor) {
		errno = ESRCH;
		notify_die(result_fd, "the supervisor is gone");
	}
	execve(argv[0], argv, envp);
	notify_die(result_fd, "exec");
}

/* Waits for the program (SIGCHLD is blocked) until the deadline; then kills its group. */
static void __attribute__((noreturn)) notify_wait(int result_fd, pid_t pid, int timeout_s)
{
	struct timespec now, end, left;
	sigset_t chld;
	int status;
	pid_t got;

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += timeout_s;
	while ((got = waitpid(pid, &status, WNOHANG)) == 0) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		left.tv_sec = end.tv_sec - now.tv_sec;
		left.tv_nsec = end.tv_nsec - now.tv_nsec;
		if (left.tv_nsec < 0) {
			left.tv_sec--;
			left.tv_nsec += 1000000000L;
		}
		if (left.tv_sec < 0)
			break;
		if (sigtimedwait(&chld, NULL, &left) == -1 && errno == EAGAIN)
			break;
	}
	if (got == 0) {
		/* The group: a script's own children (a sleep, a mail client) go with it. */
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		notify_report(result_fd, NOTIFY_TIMED_OUT, timeout_s, NULL);
	} else if (got > 0 && WIFEXITED(status)) {
		notify_report(result_fd, NOTIFY_EXITED, WEXITSTATUS(status), NULL);
	} else if (got > 0 && WIFSIGNALED(status)) {
		notify_report(result_fd, NOTIFY_SIGNALLED, WTERMSIG(status), NULL);
	}
	_exit(0);
}

/*
 * The supervisor, forked off the listener: stdin the pipe holding the event, stdout and stderr
 * /dev/null, the result pipe (close-on-exec) and nothing else; default signal dispositions;
 * front_user without capabilities (frontproc_become_user()), non-dumpable, since it still holds
 * a copy of the listener's memory that another front_user process must not read. It forks the
 * program and kills it at notify_timeout: the listener, which runs as another user and without
 * CAP_KILL, could not signal a program running as front_user.
 */
static void __attribute__((noreturn)) notify_supervise(const struct frontproc *fp, int in_fd,
    int result_fd, char *const argv[], char *const envp[], int timeout_s)
{
	sigset_t chld;
	const char *what;
	int devnull;
	pid_t pid, supervisor;

	if ((in_fd = fcntl(in_fd, F_DUPFD, 10)) == -1 ||
	    (result_fd = fcntl(result_fd, F_DUPFD_CLOEXEC, 10)) == -1)
		_exit(127); /* nowhere to say it: the listener reports a silent supervisor */
	if ((devnull = open("/dev/null", O_RDWR)) == -1)
		notify_die(result_fd, "/dev/null");
	if (dup2(in_fd, STDIN_FILENO) != STDIN_FILENO ||
	    dup2(devnull, STDOUT_FILENO) != STDOUT_FILENO ||
	    dup2(devnull, STDERR_FILENO) != STDERR_FILENO)
		notify_die(result_fd, "dup2");
	if (syscall(SYS_close_range, 3U, (unsigned)result_fd - 1, 0U) != 0 ||
	    syscall(SYS_close_range, (unsigned)result_fd + 1, ~0U, 0U) != 0)
		notify_die(result_fd, "close_range");
	/* SIGCHLD stays blocked: notify_wait() takes it with sigtimedwait(). */
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	if (frontproc_reset_signals(&chld) != 0)
		notify_die(result_fd, "sigprocmask");
	if ((what = frontproc_become_user(fp)) != NULL)
		notify_die(result_fd, what);
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		notify_die(result_fd, "dumpable");
	supervisor = getpid();
	if ((pid = fork()) == -1)
		notify_die(result_fd, "fork");
	if (pid == 0)
		notify_exec(result_fd, argv, envp, supervisor);
	(void)setpgid(pid, pid); /* either of the two calls wins; the other fails harmlessly */
	close(STDIN_FILENO);
	notify_wait(result_fd, pid, timeout_s);
}

/* ---- in the listener ---- */

/* Starts a notifier for one event; NULL, or why not. The line is in the pipe before the fork,
 * so nothing is left to write and nobody waits. */
static const char *
notify_start(struct notify *nf, const struct gw_config *cfg, const char *event, const char *line,
    char *err, size_t errlen)
{
	struct notify_child *c;
	char *text, *env_event, *envp[3];
	int in[2], res[2] = { -1, -1 };
	size_t len = strlen(line) + 1;
	pid_t pid;

	if (len > NOTIFY_LINE_MAX)
		return "the event is larger than 60 KiB";
	if (nf->nrunning >= NOTIFY_RUNNING_MAX)
		return "too many notifiers running";
	if (pipe2(in, O_CLOEXEC) != 0) {
		snprintf(err, errlen, "cannot start: %s", strerror(errno));
		return err;
	}
	if (pipe2(res, O_CLOEXEC | O_NONBLOCK) != 0) {
		snprintf(err, errlen, "cannot start: %s", strerror(errno));
		close(in[0]);
		close(in[1]);
		return err;
	}
	xasprintf(&text, "%s\n", line);
	/* Non-blocking: a pipe that cannot take the whole line at once fails the notification. */
	if (fcntl(in[1], F_SETFL, O_NONBLOCK) != 0 || write(in[1], text, len) != (ssize_t)len) {
		snprintf(err, errlen, "the event does not fit the pipe");
		pid = -1;
	} else {
		xasprintf(&env_event, "GATEWAYD_EVENT=%s", event);
		envp[0] = "PATH=/usr/bin:/bin";
		envp[1] = env_event;
		envp[2] = NULL;
		if ((pid = fork()) == 0)
			notify_supervise(
			    nf->fp, in[0], res[1], cfg->notify_command, envp, cfg->notify_timeout);
		if (pid == -1)
			snprintf(err, errlen, "cannot start: %s", strerror(errno));
		free(env_event);
	}
	free(text);
	close(in[0]);
	close(in[1]);
	close(res[1]);
	if (pid == -1) {
		close(res[0]);
		return err;
	}
	c = &nf->running[nf->nrunning++];
	c->pid = pid;
	c->result_fd = res[0];
	snprintf(c->event, sizeof(c->event), "%s", event);
	debug_f("notifier %ld started for %s", (long)pid, event);
	return NULL;
}

void
notify_event(struct notify *nf, const struct gw_config *cfg, struct notary *notary,
    const char *event, const char *line)
{
	char err[256];
	const char *why;

	if (nf == NULL || cfg->notify_command == NULL || line == NULL ||
	    !notify_wanted(event, line))
		return;
	if ((why = notify_start(nf, cfg, event, line, err, sizeof(err))) != NULL)
		notify_fail(cfg, notary, event, why, -1);
}

bool
notify_reaped(
    struct notify *nf, pid_t pid, int status, const struct gw_config *cfg, struct notary *notary)
{
	struct notify_child c;
	struct notify_result r;
	char reason[256];
	int st = -1;
	size_t i;

	for (i = 0; i < nf->nrunning && nf->running[i].pid != pid; i++)
		;
	if (i == nf->nrunning)
		return false;
	c = nf->running[i];
	nf->running[i] = nf->running[--nf->nrunning];
	/* The first record is what happened: a program that could not exec wrote its own before
	 * its supervisor saw it exit. */
	if (read(c.result_fd, &r, sizeof(r)) != (ssize_t)sizeof(r)) {
		snprintf(reason, sizeof(reason), "its supervisor ended without a result (%s %d)",
		    WIFSIGNALED(status) ? "signal" : "exit status",
		    WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	} else if (r.outcome == NOTIFY_EXITED && r.value == 0) {
		reason[0] = '\0';
	} else if (r.outcome == NOTIFY_EXITED) {
		snprintf(reason, sizeof(reason), "exit status %d", r.value);
		st = r.value;
	} else if (r.outcome == NOTIFY_SIGNALLED) {
		snprintf(reason, sizeof(reason), "ended by signal %d", r.value);
		st = 128 + r.value;
	} else if (r.outcome == NOTIFY_TIMED_OUT) {
		snprintf(reason, sizeof(reason), "killed after notify_timeout (%d s)", r.value);
		st = 128 + SIGKILL;
	} else {
		r.what[sizeof(r.what) - 1] = '\0';
		snprintf(reason, sizeof(reason), "notify_command cannot run: %s: %s", r.what,
		    strerror(r.value));
	}
	close(c.result_fd);
	if (reason[0] != '\0')
		notify_fail(cfg, notary, c.event, reason, st);
	else
		debug_f("notifier %ld for %s done", (long)pid, c.event);
	return true;
}
