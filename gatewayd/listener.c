/* listener.c: accepts vendor connections and forks one process per connection.
 * Never touches a session's data: a fault in one session cannot reach another (R13). */
#include "gatewayd/gatewayd.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "gatewayd/control.h"
#include "gatewayd/guard.h"

struct listener {
	const char *config_path;
	struct gw_config *cfg;
	struct sealkey *key;
	struct guard *guard; /* pre-authentication limits, shared with the session processes */
	ssh_bind *binds;
	size_t nbinds;
	int sigfd;
	struct registry *registry; /* live session processes: reloads, caps, owners' view */
	struct control *control;   /* the owners' socket */
	struct pollfd *pfd;        /* the poll set; a session process frees its copy too */
	struct frontproc front;    /* how each connection's vendor-facing process starts */
};

static void
listener_close_binds(struct listener *l)
{
	size_t i;

	for (i = 0; i < l->nbinds; i++)
		ssh_bind_free(l->binds[i]);
	free(l->binds);
	l->binds = NULL;
	l->nbinds = 0;
}

static int
listener_open_binds(struct listener *l)
{
	const struct gw_config *cfg = l->cfg;
	int no = 0, verbosity = SSH_LOG_NOLOG;
	size_t i;

	l->binds = xcalloc(cfg->nlisten, sizeof(*l->binds));
	for (i = 0; i < cfg->nlisten; i++) {
		ssh_bind b = ssh_bind_new();
		unsigned int port = (unsigned)cfg->listen[i].port;

		l->binds[l->nbinds++] = b;
		ssh_bind_options_set(b, SSH_BIND_OPTIONS_PROCESS_CONFIG, &no);
		ssh_bind_options_set(b, SSH_BIND_OPTIONS_LOG_VERBOSITY, &verbosity);
		ssh_bind_options_set(b, SSH_BIND_OPTIONS_BINDADDR, cfg->listen[i].address);
		ssh_bind_options_set(b, SSH_BIND_OPTIONS_BINDPORT, &port);
		if (hostkey_load_all(cfg, b) != 0 || algorithms_apply_bind(cfg, b) != 0)
			return -1;
		if (ssh_bind_listen(b) != SSH_OK) {
			error_f("cannot listen on %s:%u: %s", cfg->listen[i].address, port,
			    ssh_get_error(b));
			return -1;
		}
		info_f("listening on %s:%u", cfg->listen[i].address, port);
	}
	return 0;
}

static int
listener_prepare_dirs(const struct gw_config *cfg)
{
	const char *dirs[] = { cfg->state_dir, cfg->recording_dir };
	size_t i;

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		if (mkdir(dirs[i], 0700) != 0 && errno != EEXIST) {
			error_f("cannot create %s: %s", dirs[i], strerror(errno));
			return -1;
		}
	}
	return 0;
}

static struct sealkey *
listener_load_key(const struct gw_config *cfg)
{
	char *path;
	struct sealkey *k;

	xasprintf(&path, "%s/recording_key", cfg->state_dir);
	if ((k = sealkey_load_or_create(path)) == NULL)
		error_f("cannot load or create the recording key %s", path);
	free(path);
	return k;
}

static void
listener_reap(struct listener *l)
{
	pid_t pid;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		guard_reaped(l->guard, pid);
		registry_remove(l->registry, pid);
		if (WIFSIGNALED(status))
			warn_f(
			    "session process %ld ended by signal %d", (long)pid, WTERMSIG(status));
	}
}

/* An event of the listener's own in the audit log, opened for it alone; fields consumed.
 * A log that cannot be written is reported, and the sessions refuse on their own (R9). */
static void
listener_audit(struct listener *l, const char *event, json_t *fields)
{
	if (fields == NULL) /* audit_pack() failed: no hollow event */
		crit_f("audit event %s cannot be built (event lost)", event);
	else if (audit_event_once(l->cfg->audit_log, l->key, event, fields) != 0)
		crit_f(
		    "audit log %s cannot be written: %m (event %s lost)", l->cfg->audit_log, event);
}

/* Connections that outlasted login_grace_time: ended by guard_expire(), one audit event each
 * (the session process cannot write it: it is killed wherever it waits, even in the key
 * exchange, and a signal handler must not write evidence). */
static void
listener_expire(struct listener *l)
{
	struct guard_expired x[16];
	char until[GW_TIME_UTC_LEN];
	size_t i, n;

	do {
		n = guard_expire(l->guard, l->cfg, x, sizeof(x) / sizeof(x[0]));
		for (i = 0; i < n; i++) {
			until[0] = '\0';
			if (x[i].refused_until != 0)
				time_format_utc(x[i].refused_until, until);
			info_f("%s: %s:%d did not authenticate within %d s: closed%s%s",
			    x[i].session[0] ? x[i].session : "-", x[i].addr, x[i].port,
			    l->cfg->login_grace_time, until[0] ? "; source refused until " : "",
			    until);
			listener_audit(l, "login_timeout",
			    audit_pack("{s:s?, s:s, s:i, s:s, s:i, s:s?}", "session",
			        x[i].session[0] ? x[i].session : NULL, "client", x[i].addr,
			        "client_port", x[i].port, "source", x[i].key, "grace_s",
			        l->cfg->login_grace_time, "source_refused_until",
			        until[0] ? until : NULL));
		}
	} while (n == sizeof(x) / sizeof(x[0]));
}

/* SIGHUP or `gatewayctl reload`: new connections use the new configuration; each live session
 * decides again under it. Returns whether it was applied; the errors (file:line, caller
 * frees) in *errors_out when wanted. */
static bool
listener_reload(struct listener *l, char **errors_out)
{
	struct gw_config *cfg = NULL;
	char *errors = NULL;
	bool ok;

	sd_notify(0, "RELOADING=1");
	if (config_load(l->config_path, &cfg, &errors) != 0) {
		error_f("reload refused, keeping the running configuration:\n%s", errors);
		listener_audit(l, "config_reload",
		    audit_pack("{s:s, s:s, s:s}", "file", l->config_path, "result", "refused",
		        "errors", errors));
		ok = false;
	} else {
		config_free(l->cfg);
		l->cfg = cfg;
		info_f("configuration reloaded from %s", l->config_path);
		listener_audit(l, "config_reload",
		    audit_pack("{s:s, s:s}", "file", l->config_path, "result", "applied"));
		/* Live sessions decide again under the new policy. */
		registry_signal_all(l->registry, SIGHUP);
		ok = true;
	}
	if (registry_reload(l->registry, l->cfg->state_dir) != 0)
		error_f("disabled vendors cannot be re-read: keeping the set in memory");
	sd_notify(0, "READY=1");
	if (errors_out != NULL)
		*errors_out = errors;
	else
		free(errors);
	return ok;
}

/* The connection's monitor (this process, forked) starts its vendor-facing process while it
 * still may switch users, then gives up every privilege; it never reads the vendor's socket. */
static struct frontlink *
listener_start_front(struct listener *l, int fd)
{
	int pair[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
		error_f("socketpair: %s", strerror(errno));
		return NULL;
	}
	if ((pid = frontproc_spawn(&l->front, fd, pair[1])) == -1) {
		error_f("cannot start the vendor-facing process: %s", strerror(errno));
		close(pair[0]);
		close(pair[1]);
		return NULL;
	}
	close(pair[1]);
	return frontlink_new(pair[0], pid, fd);
}

static void
listener_accept(struct listener *l, ssh_bind b)
{
	struct frontlink *front;
	char source[GUARD_SOURCE_LEN];
	sigset_t hup;
	pid_t pid;
	int rc, fd, link[2];

	if ((fd = accept(ssh_bind_get_fd(b), NULL, NULL)) == -1) {
		warn_f("accept failed: %s", strerror(errno));
		return;
	}
	/* Refusals before any SSH byte and before fork: a flood costs an accept and a close. */
	if (guard_source_name(fd, source, NULL) != 0 ||
	    guard_admit(l->guard, l->cfg, source, time(NULL)) != GUARD_ADMIT) {
		close(fd);
		return;
	}
	/* The session's link to the registry: admission (caps), its live record, kill, watch. */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, link) != 0) {
		error_f("socketpair: %s", strerror(errno));
		close(fd);
		guard_forked(l->guard, -1);
		return;
	}
	if ((pid = fork()) == -1) {
		error_f("fork: %s", strerror(errno));
		close(link[0]);
		close(link[1]);
		close(fd);
		guard_forked(l->guard, -1);
		return;
	}
	if (pid != 0) {
		guard_forked(l->guard, pid);
		close(link[1]);
		registry_add(l->registry, pid, link[0]);
		close(fd);
		return;
	}
	/* The session process: nothing of the listener stays but the configuration snapshot. */
	close(l->sigfd);
	close(link[0]);
	listener_close_binds(l);
	registry_free(l->registry);
	control_free(l->control);
	if ((front = listener_start_front(l, fd)) == NULL) {
		close(fd);
		_exit(1);
	}
	close(l->front.exe_fd);
	if (privileges_drop_session() != 0) {
		frontlink_free(front);
		_exit(1);
	}
	/* SIGHUP and SIGTERM stay blocked: the session reads them from a signalfd (policy
	 * reloaded; the service stops, so end and seal). */
	sigemptyset(&hup);
	sigaddset(&hup, SIGHUP);
	sigaddset(&hup, SIGTERM);
	sigprocmask(SIG_SETMASK, &hup, NULL);
	free(l->pfd);
	signal(SIGPIPE, SIG_IGN);
	rc = session_run(l->cfg, front, l->key, l->guard, link[1]);
	frontlink_free(front);
	guard_free(l->guard);
	sealkey_free(l->key);
	config_free(l->cfg);
	ssh_finalize();
	_exit(rc);
}

/* The nearest of the listener's timers: a kill waiting for the sessions' confirmations and
 * the login grace time of connections not yet authenticated; -1: none. */
static int
listener_poll_timeout(struct listener *l)
{
	int a = control_timeout(l->control), b = guard_expire_due_ms(l->guard, l->cfg);

	if (a == -1)
		return b;
	return b == -1 || a < b ? a : b;
}

int
listener_run(const char *config_path, struct gw_config *cfg, bool foreground)
{
	struct listener l = { .config_path = config_path, .cfg = cfg, .sigfd = -1 };
	struct pollfd *pfd = NULL;
	size_t i, n, ctl, reg;
	sigset_t mask;
	int rc = 1;

	char err[256];

	(void)foreground;
	ssh_init();
	if (frontproc_prepare(cfg, &l.front, err, sizeof(err)) != 0) {
		error_f("%s", err);
		goto out;
	}
	/* CAP_SETUID and CAP_SETGID serve only to start fronts as front_user (privileges.c). */
	if (privileges_restrict_listener(l.front.uid, l.front.gid) != 0)
		goto out;
	if (listener_prepare_dirs(cfg) != 0 || (l.key = listener_load_key(cfg)) == NULL ||
	    (l.registry = registry_new(cfg->state_dir)) == NULL ||
	    (l.control = control_open(cfg)) == NULL || listener_open_binds(&l) != 0 ||
	    (l.guard = guard_new()) == NULL)
		goto out;
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	if ((l.sigfd = signalfd(-1, &mask, SFD_CLOEXEC)) == -1) {
		error_f("signalfd: %s", strerror(errno));
		goto out;
	}
	sd_notify(0, "READY=1");
	for (;;) {
		struct signalfd_siginfo si;

		/* [signals][binds][control socket and clients][session links] */
		ctl = 1 + l.nbinds;
		reg = ctl + control_npollfds(l.control);
		n = reg + registry_npollfds(l.registry);
		pfd = l.pfd = xreallocarray(pfd, n, sizeof(*pfd));
		pfd[0].fd = l.sigfd;
		pfd[0].events = POLLIN;
		for (i = 0; i < l.nbinds; i++) {
			pfd[i + 1].fd = ssh_bind_get_fd(l.binds[i]);
			pfd[i + 1].events = POLLIN;
		}
		control_pollfds(l.control, pfd + ctl);
		registry_pollfds(l.registry, pfd + reg);
		if (poll(pfd, n, listener_poll_timeout(&l)) == -1) {
			if (errno == EINTR)
				continue;
			error_f("poll: %s", strerror(errno));
			break;
		}
		/* Session reports before owners' requests, so a listing is as fresh as can be. */
		registry_handle(l.registry, pfd + reg, l.cfg);
		control_handle(l.control, pfd + ctl, l.registry, l.cfg, l.key);
		if (control_reload_wanted(l.control)) {
			char *errors = NULL;
			bool ok = listener_reload(&l, &errors);

			control_reload_done(l.control, ok, errors, registry_nprocesses(l.registry));
			free(errors);
		}
		if (pfd[0].revents & POLLIN) {
			if (read(l.sigfd, &si, sizeof(si)) != sizeof(si))
				continue;
			if (si.ssi_signo == SIGCHLD)
				listener_reap(&l);
			else if (si.ssi_signo == SIGHUP)
				listener_reload(&l, NULL);
			else {
				/* Stopping ends every live session with a message and a sealed
				 * recording; a crashed listener (no signal) leaves them running. */
				info_f("signal %u: stopping; live sessions are ended and sealed",
				    si.ssi_signo);
				sd_notify(0, "STOPPING=1");
				registry_signal_all(l.registry, SIGTERM);
				rc = 0;
				break;
			}
		}
		listener_expire(&l);
		for (i = 0; i < l.nbinds; i++)
			if (pfd[i + 1].revents & POLLIN)
				listener_accept(&l, l.binds[i]);
	}
out:
	free(pfd);
	if (l.sigfd != -1)
		close(l.sigfd);
	listener_close_binds(&l);
	control_free(l.control);
	registry_free(l.registry);
	guard_free(l.guard);
	sealkey_free(l.key);
	config_free(l.cfg);
	ssh_finalize();
	return rc;
}
