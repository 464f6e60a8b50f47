/* control.c: the owners' control socket in the listener: accepts local clients, admits
 * only root, the daemon's own user and admin_group members (SO_PEERCRED), and serves one
 * request per connection, each an audit event. Never blocks the listener on a client. */
#include "gatewayd/control.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "gatewayd/audit.h"
#include "gatewayd/notary.h"
#include "gatewayd/registry.h"
#include "gatewayd/store.h"

#define CONTROL_CLIENTS_MAX    16
#define CONTROL_CLIENT_TIMEOUT 5 /* seconds to send a request and take the reply */
#define CONTROL_GROUPS_MAX     65536
#define CONTROL_CUT_WAIT_MS    1500 /* a kill waits this long for the sessions' confirmations */

struct control_client {
	int fd;
	uid_t uid;
	char user[64]; /* the peer's user name, or "uid N" */
	bool refused;  /* not an administrator: the request gets the refusal */
	char in[CONTROL_REQUEST_MAX];
	size_t inlen;
	char *out; /* the reply; the client is closed once it is written */
	size_t outlen, outoff;
	time_t deadline;
	json_t *waiting;       /* a kill's reply, held until the sessions confirm their cut */
	bool reload;           /* asked for a reload: answered by control_reload_done */
	unsigned round;        /* the registry_kill round it waits for */
	long long wait_end_ms; /* CLOCK_MONOTONIC: it is answered then at the latest */
};

struct control {
	int fd;
	pid_t owner; /* the process that made the socket file */
	char *path;
	char *admin_group;
	struct control_client clients[CONTROL_CLIENTS_MAX];
	size_t nclients;
};

struct control *
control_open(const struct gw_config *cfg)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct control *c;
	struct group *gr = NULL;
	struct stat st;
	mode_t old;
	int fd;

	if (strlen(cfg->control_socket) >= sizeof(sa.sun_path)) {
		error_f("control socket path too long: %s", cfg->control_socket);
		return NULL;
	}
	memcpy(sa.sun_path, cfg->control_socket, strlen(cfg->control_socket) + 1);
	/* A socket left by a previous run is replaced; anything else at that path is not ours. */
	if (lstat(cfg->control_socket, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(cfg->control_socket);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1) {
		error_f("control socket: %s", strerror(errno));
		return NULL;
	}
	old = umask(0117); /* created 0660: no window in which others could connect */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		umask(old);
		error_f(
		    "cannot bind the control socket %s: %s", cfg->control_socket, strerror(errno));
		close(fd);
		return NULL;
	}
	umask(old);
	/* In a setgid directory of the admin group the socket has its group already: no chown
	 * (which the hardened unit's system call filter refuses with EPERM). */
	if (cfg->admin_group != NULL &&
	    ((gr = getgrnam(cfg->admin_group)) == NULL || lstat(cfg->control_socket, &st) != 0 ||
	        (st.st_gid != gr->gr_gid &&
	            chown(cfg->control_socket, (uid_t)-1, gr->gr_gid) != 0))) {
		error_f("cannot give the control socket %s to group %s: %s", cfg->control_socket,
		    cfg->admin_group, gr == NULL ? "no such group" : strerror(errno));
		unlink(cfg->control_socket);
		close(fd);
		return NULL;
	}
	if (listen(fd, CONTROL_CLIENTS_MAX) != 0) {
		error_f("listen on %s: %s", cfg->control_socket, strerror(errno));
		unlink(cfg->control_socket);
		close(fd);
		return NULL;
	}
	c = xcalloc(1, sizeof(*c));
	c->fd = fd;
	c->owner = getpid();
	c->path = xstrdup(cfg->control_socket);
	c->admin_group = cfg->admin_group ? xstrdup(cfg->admin_group) : NULL;
	info_f("control socket %s (root%s%s)", c->path, c->admin_group ? ", group " : "",
	    c->admin_group ? c->admin_group : "");
	return c;
}

int
control_set_admin_group(struct control *c, const struct gw_config *cfg, char **error)
{
	struct group *gr;
	struct stat st;
	gid_t gid;

	*error = NULL;
	if ((c->admin_group == NULL) == (cfg->admin_group == NULL) &&
	    (c->admin_group == NULL || strcmp(c->admin_group, cfg->admin_group) == 0))
		return 0;
	if (cfg->admin_group == NULL)
		gid = getegid(); /* no group: the socket is the daemon's (and root's) alone */
	else if ((gr = getgrnam(cfg->admin_group)) == NULL) {
		xasprintf(error, "admin_group %s: no such group", cfg->admin_group);
		return -1;
	} else
		gid = gr->gr_gid;
	/* The socket's group is who may connect at all (mode 0660); the check in
	 * control_peer_allowed() is who is served. Both change, or neither. */
	if (lstat(c->path, &st) != 0) {
		xasprintf(error, "control socket %s: %s", c->path, strerror(errno));
		return -1;
	}
	/* The hardened unit's system call filter refuses chown (EPERM, SystemCallErrorNumber=):
	 * the owner then gives the socket its group. */
	if (st.st_gid != gid && chown(c->path, (uid_t)-1, gid) != 0) {
		xasprintf(error,
		    "cannot give the control socket %s to group %s (%s): chgrp it (and its "
		    "directory) to that group, then reload again",
		    c->path, cfg->admin_group ? cfg->admin_group : "(none)", strerror(errno));
		return -1;
	}
	free(c->admin_group);
	c->admin_group = cfg->admin_group ? xstrdup(cfg->admin_group) : NULL;
	info_f("control socket %s now serves root%s%s", c->path, c->admin_group ? ", group " : "",
	    c->admin_group ? c->admin_group : "");
	return 0;
}

static long long
control_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
control_client_close(struct control *c, size_t i)
{
	close(c->clients[i].fd);
	free(c->clients[i].out);
	json_decref(c->clients[i].waiting);
	c->clients[i] = c->clients[--c->nclients];
}

void
control_free(struct control *c)
{
	if (c == NULL)
		return;
	while (c->nclients > 0)
		control_client_close(c, 0);
	close(c->fd);
	if (c->owner == getpid())
		unlink(c->path);
	free(c->path);
	free(c->admin_group);
	free(c);
}

size_t
control_npollfds(const struct control *c)
{
	return 1 + c->nclients;
}

void
control_pollfds(const struct control *c, struct pollfd *pfd)
{
	size_t i;

	pfd[0].fd = c->fd;
	pfd[0].events = POLLIN;
	pfd[0].revents = 0;
	for (i = 0; i < c->nclients; i++) {
		pfd[i + 1].fd = c->clients[i].fd;
		/* A client waiting for its answer has nothing to say: only its hang-up counts. */
		pfd[i + 1].events = c->clients[i].waiting != NULL || c->clients[i].reload ? 0
		    : c->clients[i].out != NULL                                           ? POLLOUT
		                                                                          : POLLIN;
		pfd[i + 1].revents = 0;
	}
}

/* Root, the daemon's own user, or a member of admin_group (primary or supplementary). */
static bool
control_peer_allowed(const struct control *c, const struct ucred *cred, char *user, size_t len)
{
	struct passwd pw, *pwp = NULL;
	struct group *gr;
	char buf[4096];
	gid_t *groups;
	int i, n = 64;
	bool ok = false;

	if (getpwuid_r(cred->uid, &pw, buf, sizeof(buf), &pwp) == 0 && pwp != NULL)
		snprintf(user, len, "%s", pw.pw_name);
	else
		snprintf(user, len, "uid %ld", (long)cred->uid);
	if (cred->uid == 0 || cred->uid == geteuid())
		return true;
	if (c->admin_group == NULL || (gr = getgrnam(c->admin_group)) == NULL)
		return false;
	if (cred->gid == gr->gr_gid)
		return true;
	if (pwp == NULL)
		return false;
	groups = xcalloc((size_t)n, sizeof(gid_t));
	if (getgrouplist(pw.pw_name, pw.pw_gid, groups, &n) == -1) {
		/* n now says how many there are: once more with room for all (bounded). */
		if (n > CONTROL_GROUPS_MAX)
			n = 0;
		else {
			groups = xreallocarray(groups, (size_t)n, sizeof(gid_t));
			if (getgrouplist(pw.pw_name, pw.pw_gid, groups, &n) == -1)
				n = 0;
		}
	}
	for (i = 0; i < n && !ok; i++)
		ok = groups[i] == gr->gr_gid;
	free(groups);
	return ok;
}

static void
control_audit(const struct gw_config *cfg, struct notary *notary, const char *event, json_t *fields)
{
	if (fields == NULL) /* audit_pack() failed: no hollow event */
		crit_f("control event %s cannot be built: not recorded", event);
	else if (notary_audit(notary, cfg->audit_log, event, fields) != 0)
		crit_f("audit log %s cannot be written: control event %s not recorded",
		    cfg->audit_log, event);
}

/* Queues reply (stolen) as one line; the client is closed once it is written. */
static void
control_reply(struct control_client *cl, json_t *reply)
{
	char *text = json_dumps(reply, JSON_COMPACT);

	json_decref(reply);
	if (text == NULL)
		text = xstrdup("{\"ok\":false,\"error\":\"internal error\"}");
	xasprintf(&cl->out, "%s\n", text);
	free(text);
	cl->outlen = strlen(cl->out);
	cl->outoff = 0;
}

static json_t *
control_error(const char *text)
{
	return json_pack("{s:b, s:s}", "ok", 0, "error", text);
}

/* How many of the other gateways' sessions (store_sessions_elsewhere) req selects; the
 * gateway of the one it selects by id in *gateway. */
static int
control_count_elsewhere(json_t *remote, const struct control_request *req, const char **gateway)
{
	const char *field = control_selector_name(req->by);
	json_t *o;
	size_t i;
	int n = 0;

	json_array_foreach (remote, i, o) {
		const char *v = json_string_value(
		    json_object_get(o, strcmp(field, "session") == 0 ? "id" : field));

		if (v != NULL && strcmp(v, req->name) == 0) {
			*gateway = json_string_value(json_object_get(o, "gateway"));
			n++;
		}
	}
	return n;
}

/* The kill's words to the vendor and its reason in the evidence: the owner's, when given.
 * Sessions of other gateways sharing the store are told through it. */
static int
control_kill(struct control_client *cl, const struct control_request *req, struct registry *reg,
    json_t *remote)
{
	char message[192], reason[320];
	const char *told = req->by == CONTROL_BY_TICKET
	    ? "session ended: its approval ticket was revoked"
	    : "session ended by the asset owner";
	const char *gateway = NULL;
	int n, elsewhere;

	if (req->by == CONTROL_BY_TICKET)
		snprintf(reason, sizeof(reason),
		    "ticket %s revoked by the asset owner (%s, uid %ld)", req->name, cl->user,
		    (long)cl->uid);
	else
		snprintf(reason, sizeof(reason), "killed by the asset owner (%s, uid %ld)",
		    cl->user, (long)cl->uid);
	snprintf(message, sizeof(message), "%s%s%s", told, req->reason[0] ? ": " : "", req->reason);
	if (req->reason[0] != '\0')
		snprintf(
		    reason + strlen(reason), sizeof(reason) - strlen(reason), ": %s", req->reason);
	n = registry_kill(reg, req, message, reason);
	if ((elsewhere = control_count_elsewhere(remote, req, &gateway)) > 0 &&
	    store_kill_elsewhere(registry_store(reg),
	        req->by == CONTROL_BY_SESSION ? gateway : NULL, req, message, reason) == 0)
		n += elsewhere;
	return n;
}

/* Every live session: this gateway's, and with a shared store every other gateway's, each
 * then naming its gateway. */
static json_t *
control_list_sessions(struct registry *reg, json_t **remote)
{
	struct store *st = registry_store(reg);
	json_t *all = registry_list(reg), *o;
	size_t i;

	*remote = store_sessions_elsewhere(st);
	if (!store_is_shared(st))
		return all;
	json_array_foreach (all, i, o)
		json_object_set_new(o, "gateway", json_string(store_gateway(st)));
	json_array_extend(all, *remote);
	return all;
}

/* Every configured vendor with what keeps it out, if anything, and its live sessions. The
 * configuration's own "enabled = false" comes first: the owner cannot enable that one. */
static json_t *
control_list_vendors(const struct registry *reg, const struct gw_config *cfg)
{
	json_t *a = json_array();
	const char *state;
	time_t now = time(NULL);
	size_t i;

	for (i = 0; i < cfg->nvendors; i++) {
		const struct gw_vendor *v = &cfg->vendors[i];

		if (!v->enabled)
			state = "disabled_in_config";
		else if (registry_vendor_disabled(reg, v->id))
			state = "disabled_by_owner";
		else if (v->expires != 0 && now >= v->expires)
			state = "expired";
		else
			state = "enabled";
		json_array_append_new(a,
		    json_pack("{s:s, s:s, s:I}", "vendor", v->id, "state", state, "sessions",
		        (json_int_t)registry_count_sessions(reg, v->id)));
	}
	return a;
}

/* Carries out one parsed request; returns the reply (NULL: the client was handed over to a
 * session for watching). *result and *sessions describe the outcome for the audit event. */
static json_t *
control_execute(struct control_client *cl, struct control_request *req, struct registry *reg,
    const struct gw_config *cfg, const char **result, int *sessions)
{
	char reason[192], msg[1024], *error = NULL;
	json_t *reply, *remote = NULL, *live;
	const char *gateway = NULL;
	int rc;

	*result = "ok";
	*sessions = -1;
	switch (req->op) {
	case CONTROL_SESSIONS:
		live = control_list_sessions(reg, &remote);
		json_decref(remote);
		return json_pack("{s:b, s:o}", "ok", 1, "sessions", live);
	case CONTROL_VENDORS:
		return json_pack("{s:b, s:o}", "ok", 1, "vendors", control_list_vendors(reg, cfg));
	case CONTROL_KILL:
		live = control_list_sessions(reg, &remote);
		rc = req->by != CONTROL_BY_SESSION
		    ? 0
		    : registry_resolve_session(live, req->name, req->name, msg, sizeof(msg));
		json_decref(live);
		if (rc != 0) {
			json_decref(remote);
			*result = "no_match";
			*sessions = 0;
			snprintf(msg + strlen(msg), sizeof(msg) - strlen(msg), "; nothing killed");
			return control_error(msg);
		}
		*sessions = control_kill(cl, req, reg, remote);
		json_decref(remote);
		if (*sessions == 0) {
			*result = "no_match";
			snprintf(msg, sizeof(msg), "no live session of %s %s",
			    control_selector_name(req->by), req->name);
			return control_error(msg);
		}
		return json_pack("{s:b, s:i}", "ok", 1, "killed", *sessions);
	case CONTROL_VENDOR_DISABLE:
	case CONTROL_VENDOR_ENABLE:
		if (config_find_vendor(cfg, req->name) == NULL) {
			*result = "unknown_vendor";
			snprintf(msg, sizeof(msg), "no vendor %s in the configuration", req->name);
			return control_error(msg);
		}
		rc = registry_set_vendor_disabled(
		    reg, cfg->state_dir, req->name, req->op == CONTROL_VENDOR_DISABLE, &error);
		if (rc < 0) {
			*result = "error";
			error_f("%s", error);
			reply = control_error(error);
			free(error);
			return reply;
		}
		if (rc == 1)
			*result = "unchanged";
		if (req->op == CONTROL_VENDOR_DISABLE) {
			snprintf(reason, sizeof(reason),
			    "vendor disabled by the asset owner (%s, uid %ld)", cl->user,
			    (long)cl->uid);
			*sessions = registry_kill(reg, req,
			    "session ended: vendor access disabled by the asset owner", reason);
		}
		return json_pack("{s:b, s:s, s:b, s:b, s:i}", "ok", 1, "vendor", req->name,
		    "disabled", req->op == CONTROL_VENDOR_DISABLE, "changed", rc == 0, "killed",
		    *sessions < 0 ? 0 : *sessions);
	case CONTROL_RELOAD:
		/* The listener reloads after this round and answers (control_reload_done). */
		cl->reload = true;
		*result = "requested";
		return NULL;
	case CONTROL_WATCH:
		/* The session process writes the reply line and then the stream. */
		if (registry_watch(reg, req->name, cl->fd) == 0) {
			cl->fd = -1;
			return NULL;
		}
		*result = "no_match";
		/* The stream comes from the session's own process: on its own gateway. */
		remote = store_sessions_elsewhere(registry_store(reg));
		if (control_count_elsewhere(remote, req, &gateway) > 0 && gateway != NULL)
			snprintf(msg, sizeof(msg), "session %s runs on gateway %s: watch it there",
			    req->name, gateway);
		else
			snprintf(msg, sizeof(msg), "no live session %s", req->name);
		json_decref(remote);
		return control_error(msg);
	}
	return control_error("unknown command");
}

static void
control_serve(struct control_client *cl, struct registry *reg, const struct gw_config *cfg,
    struct notary *notary)
{
	struct control_request req;
	char err[160];
	const char *result;
	json_t *reply, *fields;
	int sessions;
	bool listing;

	if (control_parse_request(cl->in, cl->inlen, &req, err, sizeof(err)) != 0) {
		control_audit(cfg, notary, "control",
		    audit_pack("{s:s, s:i, s:s, s:s}", "peer_user", cl->user, "peer_uid",
		        (int)cl->uid, "result", "bad_request", "detail", err));
		control_reply(cl, control_error(err));
		return;
	}
	reply = control_execute(cl, &req, reg, cfg, &result, &sessions);
	/* A listing is routine; actions are worth a line in the log. */
	listing = req.op == CONTROL_SESSIONS || req.op == CONTROL_VENDORS;
	log_msg(listing ? LOG_DEBUG : LOG_INFO, __func__, "control: %s%s%s%s%s by %s: %s",
	    control_op_name(req.op), req.by ? " " : "", control_selector_name(req.by),
	    req.by ? " " : "", req.name, cl->user, result);
	/* A listing is not an action; everything else is evidence. */
	if (!listing) {
		fields = audit_pack("{s:s, s:i, s:s, s:s?, s:s?, s:s?, s:s}", "peer_user", cl->user,
		    "peer_uid", (int)cl->uid, "action", control_op_name(req.op), "by",
		    req.by != CONTROL_BY_NONE ? control_selector_name(req.by) : NULL, "name",
		    req.name[0] ? req.name : NULL, "reason", req.reason[0] ? req.reason : NULL,
		    "result", result);
		if (fields != NULL && sessions >= 0)
			json_object_set_new(fields, "sessions", json_integer(sessions));
		control_audit(cfg, notary, "control", fields);
	}
	/* The owner hears back once the cut has taken effect in every session told. */
	if (reply != NULL && sessions > 0 &&
	    (req.op == CONTROL_KILL || req.op == CONTROL_VENDOR_DISABLE)) {
		cl->waiting = reply;
		cl->round = registry_kill_round(reg);
		cl->wait_end_ms = control_now_ms() + CONTROL_CUT_WAIT_MS;
		return;
	}
	if (reply != NULL)
		control_reply(cl, reply);
}

/* Answers the kills whose sessions all confirmed (or ended), and those out of time, saying
 * how many confirmed. */
static void
control_answer_cuts(struct control *c, const struct registry *reg)
{
	struct control_client *cl;
	long long now = control_now_ms();
	json_t *reply;
	json_int_t told;
	int pending;
	size_t i;

	for (i = 0; i < c->nclients; i++) {
		cl = &c->clients[i];
		if (cl->waiting == NULL)
			continue;
		pending = registry_cuts_pending(reg, cl->round);
		if (pending > 0 && now < cl->wait_end_ms)
			continue;
		if (pending > 0)
			warn_f("control: %d session(s) did not confirm the cut within %d ms",
			    pending, CONTROL_CUT_WAIT_MS);
		reply = cl->waiting;
		cl->waiting = NULL;
		told = json_integer_value(json_object_get(reply, "killed"));
		json_object_set_new(reply, "cut", json_integer(told - pending));
		control_reply(cl, reply);
	}
}

bool
control_reload_wanted(const struct control *c)
{
	size_t i;

	for (i = 0; i < c->nclients; i++)
		if (c->clients[i].reload)
			return true;
	return false;
}

void
control_reload_done(struct control *c, bool ok, const char *errors, size_t sessions)
{
	char *text;
	size_t i;

	for (i = 0; i < c->nclients; i++) {
		if (!c->clients[i].reload)
			continue;
		c->clients[i].reload = false;
		if (ok) {
			control_reply(&c->clients[i],
			    json_pack("{s:b, s:I}", "ok", 1, "sessions", (json_int_t)sessions));
			continue;
		}
		xasprintf(&text, "reload refused, the running configuration stays:\n%s",
		    errors != NULL ? errors : "");
		control_reply(&c->clients[i], control_error(text));
		free(text);
	}
}

int
control_timeout(const struct control *c)
{
	long long now = control_now_ms(), t, best = -1;
	size_t i;

	for (i = 0; i < c->nclients; i++)
		if (c->clients[i].waiting != NULL) {
			t = c->clients[i].wait_end_ms > now ? c->clients[i].wait_end_ms - now : 0;
			if (best == -1 || t < best)
				best = t;
		}
	return (int)best;
}

static void
control_accept(struct control *c, const struct gw_config *cfg, struct notary *notary)
{
	struct control_client *cl;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	time_t now = time(NULL);
	size_t i = 0;
	int fd;

	if ((fd = accept4(c->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) == -1)
		return;
	while (i < c->nclients) /* clients past their time make room */
		if (c->clients[i].deadline < now)
			control_client_close(c, i);
		else
			i++;
	if (c->nclients == CONTROL_CLIENTS_MAX) {
		warn_f("control: too many clients, one refused");
		close(fd);
		return;
	}
	cl = &c->clients[c->nclients++];
	memset(cl, 0, sizeof(*cl));
	cl->fd = fd;
	cl->deadline = now + CONTROL_CLIENT_TIMEOUT;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
		control_client_close(c, c->nclients - 1);
		return;
	}
	cl->uid = cred.uid;
	if (!control_peer_allowed(c, &cred, cl->user, sizeof(cl->user))) {
		warn_f("control: %s (uid %ld) refused: not root or in admin_group", cl->user,
		    (long)cred.uid);
		control_audit(cfg, notary, "control_refused",
		    audit_pack("{s:s, s:i, s:i, s:s}", "peer_user", cl->user, "peer_uid",
		        (int)cred.uid, "peer_pid", (int)cred.pid, "reason",
		        "not root or a member of admin_group"));
		cl->refused = true;
	}
}

/* Reads what is there; true when the client is to be closed. */
static bool
control_client_read(struct control_client *cl, struct registry *reg, const struct gw_config *cfg,
    struct notary *notary)
{
	ssize_t n = recv(cl->fd, cl->in + cl->inlen, sizeof(cl->in) - cl->inlen, 0);
	char *nl;

	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
		return true;
	if (n < 0)
		return false;
	cl->inlen += (size_t)n;
	if ((nl = memchr(cl->in, '\n', cl->inlen)) != NULL) {
		cl->inlen = (size_t)(nl - cl->in) + 1;
		/* Answered after reading, so the client is not cut off while still sending. */
		if (cl->refused)
			control_reply(cl,
			    control_error("permission denied: not root or a member of "
			                  "admin_group"));
		else
			control_serve(cl, reg, cfg, notary);
		return cl->fd == -1;
	}
	if (cl->inlen == sizeof(cl->in))
		control_reply(cl, control_error("request too long"));
	return false;
}

/* Writes what the socket takes; true when done (or the client is gone). */
static bool
control_client_write(struct control_client *cl)
{
	ssize_t n = send(cl->fd, cl->out + cl->outoff, cl->outlen - cl->outoff, MSG_NOSIGNAL);

	if (n < 0)
		return errno != EAGAIN && errno != EINTR;
	cl->outoff += (size_t)n;
	return cl->outoff == cl->outlen;
}

void
control_handle(struct control *c, const struct pollfd *pfd, struct registry *reg,
    const struct gw_config *cfg, struct notary *notary)
{
	size_t k, i, n = c->nclients;
	bool done;

	/* Clients first, by descriptor (closing one moves another into its slot). */
	for (k = 1; k <= n; k++) {
		if (pfd[k].revents == 0)
			continue;
		for (i = 0; i < c->nclients && c->clients[i].fd != pfd[k].fd; i++)
			;
		if (i == c->nclients)
			continue;
		if (c->clients[i].waiting != NULL || c->clients[i].reload) /* hung up before it */
			done = (pfd[k].revents & (POLLHUP | POLLERR)) != 0;
		else if (c->clients[i].out != NULL)
			done = control_client_write(&c->clients[i]);
		else if ((pfd[k].revents & (POLLIN | POLLHUP | POLLERR)) != 0)
			done = control_client_read(&c->clients[i], reg, cfg, notary);
		else
			done = false;
		if (done && c->clients[i].fd == -1) { /* handed over to a session */
			free(c->clients[i].out);
			c->clients[i] = c->clients[--c->nclients];
		} else if (done)
			control_client_close(c, i);
	}
	if (pfd[0].revents & POLLIN)
		control_accept(c, cfg, notary);
	control_answer_cuts(c, reg);
}
