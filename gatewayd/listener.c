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
#include "gatewayd/guard.h"

struct listener {
	const char *config_path;
	struct gw_config *cfg;
	struct sealkey *key;
	struct guard *guard; /* pre-authentication limits, shared with the session processes */
	ssh_bind *binds;
	size_t nbinds;
	int sigfd;
	pid_t *children; /* live session processes, told of policy reloads */
	size_t nchildren;
	size_t children_cap;
	struct pollfd *pfd; /* the poll set; a session process frees its copy too */
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
	const char *dirs[] = {cfg->state_dir, cfg->recording_dir};
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

	size_t i;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		guard_reaped(l->guard, pid);
		for (i = 0; i < l->nchildren; i++)
			if (l->children[i] == pid) {
				l->children[i] = l->children[--l->nchildren];
				break;
			}
		if (WIFSIGNALED(status))
			warn_f("session process %ld ended by signal %d", (long)pid, WTERMSIG(status));
	}
}

/* SIGHUP: new connections use the new configuration; live sessions keep theirs. */
static void
listener_reload(struct listener *l)
{
	struct gw_config *cfg = NULL;
	char *errors = NULL;
	size_t i;

	sd_notify(0, "RELOADING=1");
	if (config_load(l->config_path, &cfg, &errors) != 0) {
		error_f("reload refused, keeping the running configuration:\n%s", errors);
		free(errors);
	} else {
		config_free(l->cfg);
		l->cfg = cfg;
		info_f("configuration reloaded from %s", l->config_path);
		/* Live sessions re-check their vendor and grant against the new policy. */
		for (i = 0; i < l->nchildren; i++)
			kill(l->children[i], SIGHUP);
	}
	sd_notify(0, "READY=1");
}

static void
listener_accept(struct listener *l, ssh_bind b)
{
	ssh_session vendor;
	char source[GUARD_SOURCE_LEN];
	sigset_t hup;
	pid_t pid;
	int rc, fd;

	if ((fd = accept(ssh_bind_get_fd(b), NULL, NULL)) == -1) {
		warn_f("accept failed: %s", strerror(errno));
		return;
	}
	/* Refusals before any SSH byte and before fork: a flood costs an accept and a close. */
	if (l->cfg->max_sessions > 0 && l->nchildren >= (size_t)l->cfg->max_sessions) {
		warn_f("connection refused: %zu sessions already (max_sessions)", l->nchildren);
		close(fd);
		return;
	}
	if (guard_source_name(fd, source, NULL) != 0 ||
	    guard_admit(l->guard, l->cfg, source, time(NULL)) != GUARD_ADMIT) {
		close(fd);
		return;
	}
	if ((vendor = ssh_new()) == NULL || ssh_bind_accept_fd(b, vendor, fd) != SSH_OK) {
		warn_f("accept failed: %s", vendor ? ssh_get_error(b) : "out of memory");
		if (vendor == NULL)
			close(fd);
		ssh_free(vendor); /* owns fd once accepted */
		guard_forked(l->guard, -1);
		return;
	}
	if ((pid = fork()) == -1) {
		error_f("fork: %s", strerror(errno));
		guard_forked(l->guard, -1);
		ssh_free(vendor);
		return;
	}
	if (pid != 0) {
		guard_forked(l->guard, pid);
		if (l->nchildren == l->children_cap) {
			l->children_cap = l->children_cap ? 2 * l->children_cap : 64;
			l->children = xreallocarray(l->children, l->children_cap, sizeof(pid_t));
		}
		l->children[l->nchildren++] = pid;
		ssh_free(vendor);
		return;
	}
	/* The session process: nothing of the listener stays but the configuration snapshot. */
	close(l->sigfd);
	listener_close_binds(l);
	if (privileges_drop_session() != 0)
		_exit(1);
	/* SIGHUP stays blocked: the session reads it from a signalfd (policy reloaded). */
	sigemptyset(&hup);
	sigaddset(&hup, SIGHUP);
	sigprocmask(SIG_SETMASK, &hup, NULL);
	free(l->children);
	free(l->pfd);
	signal(SIGPIPE, SIG_IGN);
	rc = session_run(l->cfg, vendor, l->key, l->guard);
	ssh_free(vendor);
	guard_free(l->guard);
	sealkey_free(l->key);
	config_free(l->cfg);
	ssh_finalize();
	_exit(rc);
}

int
listener_run(const char *config_path, struct gw_config *cfg, bool foreground)
{
	struct listener l = {.config_path = config_path, .cfg = cfg, .sigfd = -1};
	struct pollfd *pfd;
	sigset_t mask;
	size_t i;
	int rc = 1;

	(void)foreground;
	ssh_init();
	if (listener_prepare_dirs(cfg) != 0 || (l.key = listener_load_key(cfg)) == NULL ||
	    listener_open_binds(&l) != 0 || (l.guard = guard_new()) == NULL)
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
	pfd = xcalloc(l.nbinds + 1, sizeof(*pfd));
	l.pfd = pfd;
	for (;;) {
		struct signalfd_siginfo si;

		pfd[0].fd = l.sigfd;
		pfd[0].events = POLLIN;
		for (i = 0; i < l.nbinds; i++) {
			pfd[i + 1].fd = ssh_bind_get_fd(l.binds[i]);
			pfd[i + 1].events = POLLIN;
		}
		if (poll(pfd, l.nbinds + 1, -1) == -1) {
			if (errno == EINTR)
				continue;
			error_f("poll: %s", strerror(errno));
			break;
		}
		if (pfd[0].revents & POLLIN) {
			if (read(l.sigfd, &si, sizeof(si)) != sizeof(si))
				continue;
			if (si.ssi_signo == SIGCHLD)
				listener_reap(&l);
			else if (si.ssi_signo == SIGHUP)
				listener_reload(&l);
			else {
				info_f("signal %u: stopping; live sessions run to their end", si.ssi_signo);
				sd_notify(0, "STOPPING=1");
				rc = 0;
				break;
			}
		}
		for (i = 0; i < l.nbinds; i++)
			if (pfd[i + 1].revents & POLLIN)
				listener_accept(&l, l.binds[i]);
	}
	free(pfd);
out:
	if (l.sigfd != -1)
		close(l.sigfd);
	listener_close_binds(&l);
	free(l.children);
	guard_free(l.guard);
	sealkey_free(l.key);
	config_free(l.cfg);
	ssh_finalize();
	return rc;
}
