/* listener.c: accepts vendor connections and forks one process per connection; as notary, the
 * only holder of the seal key and the only appender of the audit log (notary.c). Never touches
 * a session's data: a fault in one session cannot reach another (R13). */
#include "gatewayd/gatewayd.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
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

#include "common/landlock.h"
#include "common/log.h"
#include "common/randpool.h"
#include "common/xmalloc.h"
#include "gatewayd/control.h"
#include "gatewayd/guard.h"
#include "gatewayd/notary.h"
#include "gatewayd/notify.h"
#include "gatewayd/recpack.h"
#include "gatewayd/store.h"

#define LISTENER_STOP_WAIT_S 10 /* a stopping listener signs the sessions' seals this long */

/* One listen address of the configuration and its socket. */
struct listen_socket {
	char *address;
	int port;
	int fd;
};

struct listener {
	const char *config_path;
	struct gw_config *cfg; /* the running snapshot, with its host keys (cfg->hostkeys) */
	struct notary *notary; /* the seal key and the audit appender; never in a session process */
	struct guard *guard;   /* pre-authentication limits: the listener's alone */
	struct listen_socket *socks;
	size_t nsocks;
	int sigfd;
	struct registry *registry; /* live session processes: reloads, caps, owners' view */
	struct control *control;   /* the owners' socket */
	struct pollfd *pfd;        /* the poll set; a session process frees its copy too */
	struct frontproc front;    /* how each connection's vendor-facing process starts */
	struct notify *notify;     /* the site's notifiers running (notify_command) */
	struct store *store;       /* what several gateways share (store.h); files: state_dir */
};

static void
listener_socks_free(struct listen_socket *socks, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (socks[i].fd != -1)
			close(socks[i].fd);
		free(socks[i].address);
	}
	free(socks);
}

static void
listener_close_binds(struct listener *l)
{
	listener_socks_free(l->socks, l->nsocks);
	l->socks = NULL;
	l->nsocks = 0;
}

/* A listening TCP socket on address:port, as ssh_bind_listen() made it (the first address
 * the name resolves to, SO_REUSEADDR, a backlog of 10); -1 with err. */
static int
listener_socket_open(const char *address, int port, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *ai = NULL;
	char service[16];
	int fd = -1, one = 1, rc;

	hints.ai_flags = AI_PASSIVE;
	snprintf(service, sizeof(service), "%d", port);
	if ((rc = getaddrinfo(address, service, &hints, &ai)) != 0) {
		snprintf(
		    err, errlen, "cannot listen on %s:%d: %s", address, port, gai_strerror(rc));
		return -1;
	}
	/* Non-blocking: a connection reset between poll and accept must not stall the listener. */
	if ((fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
	         ai->ai_protocol)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 10) != 0) {
		snprintf(err, errlen, "cannot listen on %s:%d: %s", address, port, strerror(errno));
		if (fd != -1)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

/* The sockets cfg lists: the running ones whose address and port are unchanged are kept
 * (moved out of l), the others opened. All or none: -1 with err, l untouched. */
static int
listener_socks_prepare(struct listener *l, const struct gw_config *cfg, struct listen_socket **out,
    size_t *nout, char *err, size_t errlen)
{
	struct listen_socket *socks = xcalloc(cfg->nlisten, sizeof(*socks));
	size_t i, j;

	for (i = 0; i < cfg->nlisten; i++)
		socks[i].fd = -1;
	for (i = 0; i < cfg->nlisten; i++) {
		socks[i].address = xstrdup(cfg->listen[i].address);
		socks[i].port = cfg->listen[i].port;
		for (j = 0; j < l->nsocks; j++)
			if (l->socks[j].fd != -1 && l->socks[j].port == socks[i].port &&
			    strcmp(l->socks[j].address, socks[i].address) == 0)
				break;
		if (j < l->nsocks)
			continue; /* kept: taken over at commit */
		if ((socks[i].fd = listener_socket_open(
		         socks[i].address, socks[i].port, err, errlen)) == -1) {
			listener_socks_free(socks, cfg->nlisten);
			return -1;
		}
	}
	*out = socks;
	*nout = cfg->nlisten;
	return 0;
}

/* Puts the prepared sockets in place: kept ones move over, removed ones close. */
static void
listener_socks_commit(struct listener *l, struct listen_socket *socks, size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		if (socks[i].fd != -1) {
			info_f("listening on %s:%d", socks[i].address, socks[i].port);
			continue;
		}
		for (j = 0; j < l->nsocks; j++)
			if (l->socks[j].fd != -1 && l->socks[j].port == socks[i].port &&
			    strcmp(l->socks[j].address, socks[i].address) == 0) {
				socks[i].fd = l->socks[j].fd;
				l->socks[j].fd = -1;
				break;
			}
	}
	for (j = 0; j < l->nsocks; j++)
		if (l->socks[j].fd != -1)
			info_f(
			    "no longer listening on %s:%d", l->socks[j].address, l->socks[j].port);
	listener_socks_free(l->socks, l->nsocks);
	l->socks = socks;
	l->nsocks = n;
}

/* The keys and algorithm lists of cfg, which each connection's vendor-facing process gets:
 * reads the host key files into cfg->hostkeys and checks that libssh takes keys and lists
 * (in a bind made for that alone), so that a reload that breaks them is refused here. */
static int
listener_kex_check(struct gw_config *cfg, char *err, size_t errlen)
{
	int no = 0, verbosity = SSH_LOG_NOLOG;
	ssh_bind b;

	if (cfg->hostkeys == NULL && hostkeys_load(cfg, &cfg->hostkeys, err, errlen) != 0)
		return -1;
	if ((b = ssh_bind_new()) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	ssh_bind_options_set(b, SSH_BIND_OPTIONS_PROCESS_CONFIG, &no);
	ssh_bind_options_set(b, SSH_BIND_OPTIONS_LOG_VERBOSITY, &verbosity);
	if (hostkeys_apply_bind(cfg->hostkeys, b) != 0 || algorithms_apply_bind(cfg, b) != 0) {
		snprintf(err, errlen, "host keys or algorithm lists cannot be applied: %s",
		    ssh_get_error(b));
		ssh_bind_free(b);
		return -1;
	}
	ssh_bind_free(b);
	return 0;
}

static int
listener_open_binds(struct listener *l)
{
	struct listen_socket *socks;
	char err[512];
	size_t n;

	if (listener_kex_check(l->cfg, err, sizeof(err)) != 0 ||
	    listener_socks_prepare(l, l->cfg, &socks, &n, err, sizeof(err)) != 0) {
		error_f("%s", err);
		return -1;
	}
	listener_socks_commit(l, socks, n);
	return 0;
}

/* The directories, and the paths a session process's sandbox names (monitor_sandbox.c): a
 * Landlock rule is made on an existing file, so the ticket store and the revocation record
 * exist, empty, from the start. */
static int
listener_prepare_dirs(const struct gw_config *cfg)
{
	char *tickets, *revocations;
	const char *dirs[3];
	size_t i;
	int fd = -1, rc = 0;

	xasprintf(&tickets, "%s/tickets", cfg->state_dir);
	xasprintf(&revocations, "%s/revocations", cfg->state_dir);
	dirs[0] = cfg->state_dir;
	dirs[1] = cfg->recording_dir;
	dirs[2] = tickets;
	for (i = 0; rc == 0 && i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if (mkdir(dirs[i], 0700) != 0 && errno != EEXIST) {
			error_f("cannot create %s: %s", dirs[i], strerror(errno));
			rc = -1;
		}
	if (rc == 0 &&
	    (fd = open(revocations, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	         0600)) == -1) {
		error_f("cannot create %s: %s", revocations, strerror(errno));
		rc = -1;
	}
	if (fd != -1)
		close(fd);
	free(tickets);
	free(revocations);
	return rc;
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
	char **sealed;
	pid_t pid;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (notify_reaped(l->notify, pid, status, l->cfg, l->notary))
			continue;
		guard_reaped(l->guard, pid);
		/* Its sealed recordings are complete and closed now: kept compressed if asked. */
		sealed = registry_sealed(l->registry, pid);
		registry_remove(l->registry, pid, status, l->notary, l->cfg->audit_log);
		if (l->cfg->recording_compression == GW_COMPRESSION_ZSTD)
			recpack_spawn(l->cfg, notary_seal_key(l->notary), sealed);
		recpack_names_free(sealed);
		if (WIFSIGNALED(status))
			warn_f(
			    "session process %ld ended by signal %d", (long)pid, WTERMSIG(status));
	}
}

/* Every event the audit log has just appended, the sessions' too: the site's notifier sees
 * only what the evidence holds, and never delays the one who wrote it. */
static void
listener_notify(void *arg, const char *event, const char *line)
{
	struct listener *l = arg;

	notify_event(l->notify, l->cfg, l->notary, event, line);
}

/* An event of the listener's own in the audit log; fields consumed.
 * A log that cannot be written is reported, and the sessions refuse on their own (R9). */
static void
listener_audit(struct listener *l, const char *event, json_t *fields)
{
	if (fields == NULL) /* audit_pack() failed: no hollow event */
		crit_f("audit event %s cannot be built (event lost)", event);
	else if (notary_audit(l->notary, l->cfg->audit_log, event, fields) != 0)
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

/* A reload refused: the running configuration stays, in every part. */
static void
listener_reload_refused(struct listener *l, const char *errors)
{
	error_f("reload refused, keeping the running configuration:\n%s", errors);
	listener_audit(l, "config_reload",
	    audit_pack(
	        "{s:s, s:s, s:s}", "file", l->config_path, "result", "refused", "errors", errors));
}

/* SIGHUP or `gatewayctl reload`: the whole configuration applies, or none of it. The listen
 * sockets change (new addresses bound first, removed ones closed, unchanged ones kept), the
 * host keys and algorithm lists apply to every connection accepted from now on, admin_group
 * to the control socket, and each live session decides again under the new policy. The
 * lockout table and the live-session registry are the listener's memory: they stay.
 * Returns whether it was applied; the errors (caller frees) in *errors_out when wanted. */
static bool
listener_reload(struct listener *l, char **errors_out)
{
	struct gw_config *cfg = NULL;
	struct listen_socket *socks = NULL;
	char *errors = NULL, *text = NULL, err[512];
	size_t nsocks = 0;
	bool ok = false;

	sd_notify(0, "RELOADING=1");
	if (config_load_keep(l->config_path, &cfg, &text, &errors) != 0) {
		listener_reload_refused(l, errors);
		goto out;
	}
	/* Everything that can fail is prepared before anything running changes. */
	if (listener_kex_check(cfg, err, sizeof(err)) != 0 ||
	    listener_socks_prepare(l, cfg, &socks, &nsocks, err, sizeof(err)) != 0) {
		xasprintf(&errors, "%s: %s\n", l->config_path, err);
		listener_reload_refused(l, errors);
		goto out;
	}
	if (control_set_admin_group(l->control, cfg, &errors) != 0) {
		listener_reload_refused(l, errors);
		goto out;
	}
	listener_socks_commit(l, socks, nsocks);
	socks = NULL;
	nsocks = 0;
	config_free(l->cfg);
	l->cfg = cfg;
	cfg = NULL;
	store_reconfigure(l->store, l->cfg);
	info_f("configuration reloaded from %s: listen addresses, host keys, algorithms, "
	       "admin_group and policy applied",
	    l->config_path);
	listener_audit(l, "config_reload",
	    audit_pack("{s:s, s:s, s:s}", "file", l->config_path, "result", "applied",
	        "config_sha256", l->cfg->sha256));
	/* Live sessions decide again under the new policy: the very text applied here. */
	registry_send_config(l->registry, text);
	ok = true;
out:
	listener_socks_free(socks, nsocks);
	config_free(cfg);
	free(text);
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
listener_accept(struct listener *l, int lfd)
{
	struct frontlink *front;
	char source[GUARD_SOURCE_LEN], id[SESSION_ID_LEN + 1];
	sigset_t hup;
	pid_t pid;
	int rc, fd, port = 0, link[2];

	if ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) == -1) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ECONNABORTED)
			warn_f("accept failed: %s", strerror(errno));
		return;
	}
	/* Refusals before any SSH byte and before fork: a flood costs an accept and a close. */
	if (guard_source_name(fd, source, &port) != 0 ||
	    guard_admit(l->guard, l->cfg, source, port, time(NULL)) != GUARD_ADMIT) {
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
	if (registry_greet(link[0], notary_key_id(l->notary), id) != 0 || (pid = fork()) == -1) {
		error_f("cannot start a session process: %s", strerror(errno));
		close(link[0]);
		close(link[1]);
		close(fd);
		guard_forked(l->guard, -1);
		return;
	}
	if (pid != 0) {
		guard_forked(l->guard, pid);
		close(link[1]);
		registry_add(l->registry, pid, link[0], id);
		close(fd);
		return;
	}
	/* The session process: nothing of the listener stays but the configuration snapshot
	 * (with the host keys it names: l->cfg->hostkeys). The seal key goes first, wiped (its
	 * signatures come from the listener, over the link), and the audit log's descriptor with
	 * it; nor the lockout table: it is the listener's, reached over the link. */
	notary_free(l->notary);
	l->notary = NULL;
	notify_free(l->notify);
	l->notify = NULL;
	guard_free(l->guard);
	l->guard = NULL;
	store_forget(l->store);
	l->store = NULL;
	close(l->sigfd);
	close(link[0]);
	listener_close_binds(l);
	registry_free(l->registry);
	control_free(l->control);
	if ((front = listener_start_front(l, fd)) == NULL) {
		close(fd);
		_exit(1);
	}
	frontproc_close(&l->front);
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
	rc = session_run(l->cfg, front, NULL, link[1]);
	frontlink_free(front);
	config_free(l->cfg);
	ssh_finalize();
	_exit(rc);
}

/* The lockouts begun here go to the other gateways sharing the store. */
static void
listener_share_lockouts(struct listener *l)
{
	struct guard_lockout begun[GUARD_BEGUN_MAX];
	size_t i, n = guard_take_lockouts(l->guard, begun, GUARD_BEGUN_MAX);

	for (i = 0; i < n; i++)
		store_lockout(l->store, begun[i].scope, begun[i].key, begun[i].until);
}

/* Whether fd is one of the running listen sockets. */
static bool
listener_socket_open_fd(const struct listener *l, int fd)
{
	size_t i;

	for (i = 0; i < l->nsocks; i++)
		if (l->socks[i].fd == fd)
			return true;
	return false;
}

/* The nearest of the listener's timers: a kill waiting for the sessions' confirmations and
 * the login grace time of connections not yet authenticated; -1: none. */
static int
listener_poll_timeout(struct listener *l)
{
	int t[3] = { control_timeout(l->control), guard_expire_due_ms(l->guard, l->cfg),
		store_timeout_ms(l->store) };
	int best = -1;
	size_t i;

	for (i = 0; i < 3; i++)
		if (t[i] != -1 && (best == -1 || t[i] < best))
			best = t[i];
	return best;
}

int
listener_run(const char *config_path, struct gw_config *cfg, bool foreground)
{
	struct listener l = { .config_path = config_path, .cfg = cfg, .sigfd = -1 };
	struct sealkey *key;
	struct pollfd *pfd = NULL;
	time_t stop_at = 0; /* stopping: when to give up waiting for the sessions */
	size_t i, n, ctl, reg, sto;
	sigset_t mask;
	int rc = 1;

	char err[256];

	(void)foreground;
	/* Session processes are its forks: they inherit the pool, emptied (common/randpool.c). */
	if (randpool_install() != 0)
		return 1;
	ssh_init();
	if (frontproc_prepare(cfg, &l.front, err, sizeof(err)) != 0) {
		error_f("%s", err);
		goto out;
	}
	l.front.debug = log_debugging() != 0; /* gatewayd -d: gatewayd-front -d */
	/* CAP_SETUID and CAP_SETGID serve only to start fronts and notifiers as front_user
	 * (privileges.c). */
	if (privileges_restrict_listener(l.front.uid, l.front.gid) != 0)
		goto out;
	if (landlock_abi() == 0)
		warn_f(
		    "the kernel has no Landlock: session processes run without their file system "
		    "sandbox (docs/privileges.md)");
	if (listener_prepare_dirs(cfg) != 0 || (key = listener_load_key(cfg)) == NULL ||
	    (l.notary = notary_new(key)) == NULL ||
	    (l.registry = registry_new(cfg->state_dir)) == NULL ||
	    (l.control = control_open(cfg)) == NULL || listener_open_binds(&l) != 0 ||
	    (l.guard = guard_new()) == NULL)
		goto out;
	l.store = store_new(cfg);
	registry_set_store(l.registry, l.store);
	l.notify = notify_new(&l.front);
	notary_set_observer(l.notary, listener_notify, &l);
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
	/* Which configuration and which key were in force from here on, for the auditor. */
	listener_audit(&l, "gateway_start",
	    audit_pack("{s:s, s:s, s:s, s:I}", "file", l.config_path, "config_sha256",
	        l.cfg->sha256, "seal_key", notary_key_id(l.notary), "pid", (json_int_t)getpid()));
	store_attach(l.store, l.registry, l.guard, l.notary, l.cfg->audit_log);
	sd_notify(0, "READY=1");
	for (;;) {
		struct signalfd_siginfo si;

		/* [signals][binds][control socket and clients][session links][store] */
		ctl = 1 + l.nsocks;
		reg = ctl + control_npollfds(l.control);
		sto = reg + registry_npollfds(l.registry);
		n = sto + store_npollfds(l.store);
		pfd = l.pfd = xreallocarray(pfd, n, sizeof(*pfd));
		pfd[0].fd = l.sigfd;
		pfd[0].events = POLLIN;
		for (i = 0; i < l.nsocks; i++) {
			pfd[i + 1].fd = l.socks[i].fd;
			pfd[i + 1].events = POLLIN;
		}
		control_pollfds(l.control, pfd + ctl);
		registry_pollfds(l.registry, pfd + reg);
		store_pollfds(l.store, pfd + sto);
		if (poll(pfd, n, stop_at != 0 ? 200 : listener_poll_timeout(&l)) == -1) {
			if (errno == EINTR)
				continue;
			error_f("poll: %s", strerror(errno));
			break;
		}
		/* Session reports before owners' requests, so a listing is as fresh as can be. */
		registry_handle(l.registry, pfd + reg, l.cfg, l.notary, l.guard);
		control_handle(l.control, pfd + ctl, l.registry, l.cfg, l.notary);
		listener_share_lockouts(&l);
		store_handle(l.store, pfd + sto);
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
			else if (stop_at == 0) {
				/* Stopping ends every live session with a message and a sealed
				 * recording, which the listener signs: it stays, accepting nobody,
				 * until they are gone (at most LISTENER_STOP_WAIT_S). A crashed
				 * listener leaves them without a notary: they end, unsealed. */
				info_f("signal %u: stopping; live sessions are ended and sealed",
				    si.ssi_signo);
				sd_notify(0, "STOPPING=1");
				registry_signal_all(l.registry, SIGTERM);
				listener_close_binds(&l);
				stop_at = time(NULL) + LISTENER_STOP_WAIT_S;
				rc = 0;
			}
		}
		if (stop_at != 0 && (registry_nprocesses(l.registry) == 0 || time(NULL) >= stop_at))
			break;
		listener_expire(&l);
		/* A reload above may have replaced the sockets: accept only on one still open. */
		for (i = 0; i < ctl - 1; i++)
			if ((pfd[i + 1].revents & POLLIN) &&
			    listener_socket_open_fd(&l, pfd[i + 1].fd))
				listener_accept(&l, pfd[i + 1].fd);
	}
out:
	frontproc_close(&l.front);
	free(pfd);
	if (l.sigfd != -1)
		close(l.sigfd);
	listener_close_binds(&l);
	control_free(l.control);
	registry_free(l.registry);
	guard_free(l.guard);
	store_free(l.store);
	notary_free(l.notary);
	notify_free(l.notify);
	config_free(l.cfg);
	ssh_finalize();
	return rc;
}
