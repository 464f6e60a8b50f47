/* store.c: the listener's store (store.h): the connection to PostgreSQL, kept up in the
 * background, LISTEN, and what other gateways announce; admissions, live sessions, kills,
 * vendor changes and lockouts. A "files" store is state_dir alone and does nothing here. */
#include "gatewayd/store_pg.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "gatewayd/audit.h"
#include "gatewayd/gatewayd.h"
#include "gatewayd/control.h"
#include "gatewayd/guard.h"
#include "gatewayd/notary.h"
#include "gatewayd/registry.h"
#include "gatewayd/store_notice.h"

static void
store_settings(struct store *st, const struct gw_config *cfg)
{
	free(st->conninfo);
	free(st->gateway);
	free(st->state_dir);
	free(st->recording_dir);
	st->kind = cfg->store.kind;
	st->conninfo = cfg->store.conninfo ? xstrdup(cfg->store.conninfo) : NULL;
	st->gateway = cfg->store.gateway ? xstrdup(cfg->store.gateway) : NULL;
	st->state_dir = xstrdup(cfg->state_dir);
	st->recording_dir = xstrdup(cfg->recording_dir);
	st->cached = cfg->store.cached;
}

struct store *
store_new(const struct gw_config *cfg)
{
	struct store *st = xcalloc(1, sizeof(*st));

	st->inotify_fd = st->audit_fd = -1;
	st->wd_state = st->wd_tickets = st->wd_requests = -1;
	store_settings(st, cfg);
	if (st->kind == GW_STORE_POSTGRESQL)
		info_f("store: PostgreSQL, this gateway is \"%s\"; connecting in the background",
		    st->gateway);
	return st;
}

void
store_attach(struct store *st, struct registry *reg, struct guard *guard, struct notary *notary,
    const char *audit_path)
{
	st->reg = reg;
	st->guard = guard;
	st->notary = notary;
	free(st->audit_path);
	st->audit_path = xstrdup(audit_path);
	if (st->kind == GW_STORE_POSTGRESQL)
		store_sync_open(st);
}

/* The connection is gone (or abandoned): try again after STORE_RETRY_MS. */
static void
store_lost(struct store *st, const char *why)
{
	if (st->conn != NULL)
		PQfinish(st->conn);
	st->conn = NULL;
	if (st->state == STORE_UP || !st->down_logged) {
		error_f("store: the database cannot be reached (%s): new sessions are %s", why,
		    st->cached ? "admitted on the last known state (store_unavailable = cached)"
		               : "refused until it is back");
		if (st->state == STORE_UP)
			store_audit(st, "store_unavailable",
			    audit_pack("{s:s, s:s, s:s}", "gateway", st->gateway, "error", why,
			        "admissions", st->cached ? "cached" : "refused"));
		st->down_logged = true;
	}
	st->state = STORE_DOWN;
	st->audit_synced = false;
	st->retry_ms = session_now_ms() + STORE_RETRY_MS;
}

void
store_reconfigure(struct store *st, const struct gw_config *cfg)
{
	bool same = st->kind == cfg->store.kind &&
	    (st->conninfo == NULL) == (cfg->store.conninfo == NULL) &&
	    (st->conninfo == NULL || strcmp(st->conninfo, cfg->store.conninfo) == 0) &&
	    (st->gateway == NULL) == (cfg->store.gateway == NULL) &&
	    (st->gateway == NULL || strcmp(st->gateway, cfg->store.gateway) == 0);

	if (same) {
		st->cached = cfg->store.cached;
		return;
	}
	if (st->conn != NULL)
		store_lost(st, "the configuration changed the store");
	store_sync_close(st);
	store_audit_close(st);
	store_settings(st, cfg);
	st->state = STORE_DOWN;
	st->retry_ms = 0;
	if (st->kind == GW_STORE_POSTGRESQL)
		store_sync_open(st);
}

void
store_free(struct store *st)
{
	if (st == NULL)
		return;
	if (st->conn != NULL)
		PQfinish(st->conn);
	store_sync_close(st);
	store_audit_close(st);
	free(st->conninfo);
	free(st->gateway);
	free(st->state_dir);
	free(st->recording_dir);
	free(st->audit_path);
	free(st);
}

void
store_forget(struct store *st)
{
	int fd, nul;

	if (st == NULL)
		return;
	/* PQfinish would say goodbye on the listener's connection: the child's copy of the socket
	 * becomes /dev/null first, so that its goodbye goes nowhere and the listener's stays. */
	if ((fd = st->conn != NULL ? PQsocket(st->conn) : -1) >= 0) {
		if ((nul = open("/dev/null", O_WRONLY | O_CLOEXEC)) != -1) {
			dup2(nul, fd);
			close(nul);
		} else
			close(fd); /* no /dev/null: the goodbye then fails (EBADF) */
	}
	store_free(st);
}

bool
store_is_shared(const struct store *st)
{
	return st != NULL && st->kind == GW_STORE_POSTGRESQL;
}

const char *
store_gateway(const struct store *st)
{
	return store_is_shared(st) ? st->gateway : NULL;
}

bool
store_up(const struct store *st)
{
	return st->state == STORE_UP;
}

void
store_audit(struct store *st, const char *event, json_t *fields)
{
	if (st->notary == NULL || fields == NULL ||
	    notary_audit(st->notary, st->audit_path, event, fields) != 0)
		error_f("store: event %s not written to the audit log", event);
}

PGresult *
store_exec(struct store *st, const char *sql, int nparams, const char *const *params)
{
	PGresult *res;
	ExecStatusType status;
	char why[256];

	if (st->state != STORE_UP)
		return NULL;
	res = PQexecParams(st->conn, sql, nparams, NULL, params, NULL, NULL, 0);
	status = PQresultStatus(res);
	if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK)
		return res;
	snprintf(why, sizeof(why), "%s", PQerrorMessage(st->conn));
	why[strcspn(why, "\n")] = '\0';
	PQclear(res);
	if (PQstatus(st->conn) != CONNECTION_OK)
		store_lost(st, why);
	else
		error_f("store: query failed: %s", why);
	return NULL;
}

/* A statement whose result is not needed; 0 or -1. */
static int
store_run(struct store *st, const char *sql, int nparams, const char *const *params)
{
	PGresult *res = store_exec(st, sql, nparams, params);

	PQclear(res);
	return res != NULL ? 0 : -1;
}

void
store_announce(struct store *st, const char *kind, const char *rest)
{
	char *payload;
	const char *p[1];

	xasprintf(&payload, "%s %s %s", kind, st->gateway, rest);
	p[0] = payload;
	store_run(st, "SELECT pg_notify('" STORE_CHANNEL "', $1)", 1, p);
	free(payload);
}

/* ---- connecting ---- */

static void
store_connect_start(struct store *st)
{
	char app[96];
	/* Defaults first: what conninfo says wins. A database that stops answering is noticed
	 * within seconds, not at the kernel's TCP timeout, and the listener then refuses. */
	const char *keys[] = { "connect_timeout", "tcp_user_timeout", "keepalives_idle",
		"keepalives_interval", "keepalives_count", "application_name", "dbname", NULL };
	const char *values[] = { "5", "5000", "5", "2", "2", app, st->conninfo, NULL };

	snprintf(app, sizeof(app), "gatewayd %s", st->gateway);
	st->conn = PQconnectStartParams(keys, values, 1);
	if (st->conn == NULL || PQstatus(st->conn) == CONNECTION_BAD) {
		store_lost(st, st->conn ? PQerrorMessage(st->conn) : "out of memory");
		return;
	}
	st->state = STORE_CONNECTING;
	st->polling = PGRES_POLLING_WRITING;
	st->connect_deadline_ms = session_now_ms() + STORE_CONNECT_MS;
}

/* The vendor changes and lockouts made here while the database could not be reached. Taken
 * aside first: one that cannot go now (the connection lost again) is kept again by the call
 * that tried it, none is dropped. */
static void
store_send_pending(struct store *st)
{
	size_t i, n = st->npending;
	struct store_pending *q;

	if (n == 0)
		return;
	q = xreallocarray(NULL, n, sizeof(*q));
	memcpy(q, st->pending, n * sizeof(*q));
	st->npending = 0;
	for (i = 0; i < n; i++)
		if (q[i].kind == 'v')
			store_vendor_changed(st, q[i].key, q[i].on);
		else
			store_lockout(st, q[i].scope, q[i].key, q[i].until);
	free(q);
}

/* Connected: the schema is checked, this gateway announced, its live sessions listed again,
 * and state_dir and the database brought level. */
static void
store_connected(struct store *st)
{
	const char *p[4];
	PGresult *res;
	char key[80];
	int version;

	st->state = STORE_UP;
	if ((res = store_exec(st, "SELECT version FROM gw_schema", 0, NULL)) == NULL)
		return;
	version = PQntuples(res) == 1 ? atoi(PQgetvalue(res, 0, 0)) : -1;
	PQclear(res);
	if (version != STORE_SCHEMA_VERSION) {
		char why[128];

		snprintf(why, sizeof(why),
		    "the schema is at version %d, this gateway needs %d: run gatewayd --migrate",
		    version, STORE_SCHEMA_VERSION);
		st->state = STORE_UP; /* so that store_lost logs it */
		st->down_logged = false;
		store_lost(st, why);
		return;
	}
	snprintf(key, sizeof(key), "%s", st->notary ? notary_key_id(st->notary) : "");
	p[0] = st->gateway;
	p[1] = st->recording_dir;
	p[2] = st->audit_path ? st->audit_path : "";
	p[3] = key;
	if (store_run(st, "LISTEN " STORE_CHANNEL, 0, NULL) != 0 ||
	    store_run(st,
	        "INSERT INTO gateways (name, recording_dir, audit_log, seal_key) "
	        "VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO UPDATE SET "
	        "recording_dir = $2, audit_log = $3, seal_key = $4, last_seen = now()",
	        4, p) != 0 ||
	    store_run(st, "DELETE FROM live_sessions WHERE gateway = $1", 1, p) != 0)
		return;
	st->heartbeat_ms = session_now_ms() + STORE_HEARTBEAT_S * 1000;
	if (st->reg != NULL) {
		json_t *live = registry_list(st->reg), *e;
		size_t i;

		json_array_foreach (live, i, e)
			store_admit(st, e, "", 0, 0, NULL);
		json_decref(live);
	}
	if (store_sync_all(st) != 0)
		return;
	store_send_pending(st);
	store_audit_reset(st);
	if (st->state != STORE_UP)
		return;
	info_f("store: connected to the database as gateway \"%s\"", st->gateway);
	if (st->down_logged)
		store_audit(st, "store_available", audit_pack("{s:s}", "gateway", st->gateway));
	st->down_logged = false;
}

static void
store_connect_poll(struct store *st)
{
	st->polling = PQconnectPoll(st->conn);
	if (st->polling == PGRES_POLLING_OK)
		store_connected(st);
	else if (st->polling == PGRES_POLLING_FAILED) {
		char why[256];

		snprintf(why, sizeof(why), "%s", PQerrorMessage(st->conn));
		why[strcspn(why, "\n")] = '\0';
		store_lost(st, why);
	}
}

/* ---- the poll ---- */

size_t
store_npollfds(const struct store *st)
{
	if (st->kind != GW_STORE_POSTGRESQL)
		return 0;
	return 1 + (st->conn != NULL && PQsocket(st->conn) >= 0);
}

void
store_pollfds(const struct store *st, struct pollfd *pfd)
{
	size_t n = store_npollfds(st);

	if (n == 0)
		return;
	pfd[0] = (struct pollfd){ .fd = st->inotify_fd, .events = POLLIN };
	if (n == 2)
		pfd[1] = (struct pollfd){ .fd = PQsocket(st->conn),
			.events =
			    st->state == STORE_CONNECTING && st->polling == PGRES_POLLING_WRITING
			    ? POLLOUT
			    : POLLIN };
}

int
store_timeout_ms(const struct store *st)
{
	long long now = session_now_ms(), at;

	if (st->kind != GW_STORE_POSTGRESQL)
		return -1;
	if (st->state == STORE_DOWN)
		at = st->retry_ms;
	else if (st->state == STORE_CONNECTING)
		at = st->connect_deadline_ms;
	else {
		at = st->ship_ms < st->heartbeat_ms ? st->ship_ms : st->heartbeat_ms;
		at = st->bytes_ms < at ? st->bytes_ms : at;
	}
	return at <= now ? 0 : (int)(at - now);
}

/* An owner on another gateway ended sessions of this one (or of every one). */
static void
store_remote_kill(struct store *st, const struct store_notice *nt)
{
	struct control_request req = { .op = CONTROL_KILL, .by = nt->by };
	char reason[sizeof(nt->reason) + GW_ID_MAX + 16];
	int n;

	if (strcmp(nt->gateway, "*") != 0 && strcmp(nt->gateway, st->gateway) != 0)
		return;
	snprintf(req.name, sizeof(req.name), "%.*s", GW_ID_MAX, nt->id); /* parsed: it fits */
	/* The session's evidence says where the owner acted. */
	snprintf(reason, sizeof(reason), "%s, on gateway %s", nt->reason, nt->origin);
	n = registry_kill(st->reg, &req, nt->message, reason);
	store_audit(st, "store_applied",
	    audit_pack("{s:s, s:s, s:s, s:s, s:s, s:i}", "change", "kill", "from_gateway",
	        nt->origin, "selector", control_selector_name(nt->by), "name", nt->id, "reason",
	        nt->reason, "sessions", n));
}

/* An owner on another gateway disabled or enabled a vendor: so here, and its sessions end. */
static void
store_remote_vendor(struct store *st, const struct store_notice *nt)
{
	struct control_request req = { .op = CONTROL_KILL, .by = CONTROL_BY_VENDOR };
	char *error = NULL, reason[192];
	int rc, n = 0;

	snprintf(req.name, sizeof(req.name), "%.*s", GW_ID_MAX, nt->id); /* parsed: it fits */
	if ((rc = registry_set_vendor_disabled(
	         st->reg, st->state_dir, req.name, nt->disabled, &error)) < 0) {
		error_f("store: vendor %s from gateway %s: %s", req.name, nt->origin, error);
		free(error);
		return;
	}
	if (nt->disabled) {
		snprintf(reason, sizeof(reason), "vendor disabled by the asset owner on gateway %s",
		    nt->origin);
		n = registry_kill(st->reg, &req,
		    "session ended: vendor access disabled by the asset owner", reason);
	}
	store_audit(st, "store_applied",
	    audit_pack("{s:s, s:s, s:s, s:b, s:i}", "change",
	        nt->disabled ? "vendor_disable" : "vendor_enable", "from_gateway", nt->origin,
	        "vendor", req.name, "changed", rc == 0, "sessions", n));
}

static void
store_notification(struct store *st, const char *payload)
{
	struct store_notice nt;

	if (store_notice_parse(payload, strlen(payload), &nt) != 0) {
		warn_f(
		    "store: a notification that is not one ignored (%zu bytes)", strlen(payload));
		return;
	}
	if (strcmp(nt.origin, st->gateway) == 0)
		return; /* this gateway's own */
	debug_f("store: %s", payload);
	switch (nt.kind) {
	case NOTICE_KILL:
		store_remote_kill(st, &nt);
		break;
	case NOTICE_VENDOR:
		store_remote_vendor(st, &nt);
		break;
	case NOTICE_LOCKOUT:
		if (guard_impose(st->guard, nt.scope, nt.id, nt.until))
			info_f("store: %s %s locked out until %lld by gateway %s", nt.scope, nt.id,
			    (long long)nt.until, nt.origin);
		break;
	default:
		store_sync_remote(st, &nt);
	}
}

static void
store_drain(struct store *st)
{
	PGnotify *n;

	if (st->state != STORE_UP)
		return;
	if (!PQconsumeInput(st->conn)) {
		char why[256];

		snprintf(why, sizeof(why), "%s", PQerrorMessage(st->conn));
		why[strcspn(why, "\n")] = '\0';
		store_lost(st, why);
		return;
	}
	while (st->state == STORE_UP && (n = PQnotifies(st->conn)) != NULL) {
		if (strcmp(n->relname, STORE_CHANNEL) == 0)
			store_notification(st, n->extra);
		PQfreemem(n);
	}
}

/* The byte counters of this gateway's sessions, for the other gateways' listings: one
 * statement for all of them. */
static void
store_publish_bytes(struct store *st)
{
	json_t *live = registry_list(st->reg), *o;
	char *text[3] = { NULL, NULL, NULL };
	size_t len[3], i, k;
	const char *p[4];
	FILE *f[3] = { NULL, NULL, NULL };

	for (k = 0; k < 3; k++)
		if ((f[k] = open_memstream(&text[k], &len[k])) == NULL)
			goto out;
	json_array_foreach (live, i, o) {
		const char *sep = i ? "," : "{";

		/* Ids are hex digits and counters numbers: nothing to quote in an array literal. */
		fprintf(f[0], "%s%s", sep, json_string_value(json_object_get(o, "id")));
		fprintf(f[1], "%s%lld", sep,
		    (long long)json_integer_value(json_object_get(o, "bytes_in")));
		fprintf(f[2], "%s%lld", sep,
		    (long long)json_integer_value(json_object_get(o, "bytes_out")));
	}
	for (k = 0; k < 3; k++) {
		fputc('}', f[k]);
		fclose(f[k]);
		f[k] = NULL;
	}
	if (json_array_size(live) > 0) {
		p[0] = st->gateway;
		p[1] = text[0];
		p[2] = text[1];
		p[3] = text[2];
		store_run(st,
		    "UPDATE live_sessions s SET bytes_in = v.i, bytes_out = v.o "
		    "FROM unnest($2::text[], $3::bigint[], $4::bigint[]) AS v (id, i, o) "
		    "WHERE s.gateway = $1 AND s.id = v.id "
		    "AND (s.bytes_in, s.bytes_out) IS DISTINCT FROM (v.i, v.o)",
		    4, p);
	}
out:
	for (k = 0; k < 3; k++) {
		if (f[k] != NULL)
			fclose(f[k]);
		free(text[k]);
	}
	json_decref(live);
}

void
store_handle(struct store *st, const struct pollfd *pfd)
{
	size_t n = store_npollfds(st);
	long long now = session_now_ms();

	if (n == 0)
		return;
	if (pfd[0].revents & POLLIN)
		store_sync_local(st);
	if (st->state == STORE_DOWN && now >= st->retry_ms)
		store_connect_start(st);
	else if (st->state == STORE_CONNECTING) {
		if (n == 2 && (pfd[1].revents & (POLLIN | POLLOUT | POLLERR | POLLHUP)))
			store_connect_poll(st);
		else if (now >= st->connect_deadline_ms)
			store_lost(st, "no connection within 5 s");
	}
	if (st->state != STORE_UP)
		return;
	store_drain(st);
	if (st->state == STORE_UP && now >= st->heartbeat_ms) {
		const char *p[1] = { st->gateway };

		store_run(st, "UPDATE gateways SET last_seen = now() WHERE name = $1", 1, p);
		st->heartbeat_ms = now + STORE_HEARTBEAT_S * 1000;
	}
	if (st->state == STORE_UP && now >= st->bytes_ms) {
		store_publish_bytes(st);
		st->bytes_ms = now + STORE_BYTES_EVERY_MS;
	}
	store_audit_ship(st);
}

/* ---- admission and the live sessions ---- */

static const char *
store_field(const json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v ? v : "";
}

enum store_take
store_admit(struct store *st, const json_t *session, const char *ticket, unsigned max,
    unsigned local_used, unsigned *used)
{
	char maxs[16], floor[16], port[16];
	const char *p[10];
	PGresult *res;

	if (st->kind != GW_STORE_POSTGRESQL)
		return STORE_CACHED;
	if (st->state != STORE_UP)
		return st->cached ? STORE_CACHED : STORE_UNAVAILABLE;
	if (ticket[0] != '\0') {
		/* One statement: two gateways admitting at the same instant are serialised on the
		 * row, and the second sees the first's use. */
		snprintf(maxs, sizeof(maxs), "%u", max);
		snprintf(floor, sizeof(floor), "%u", local_used + 1);
		p[0] = ticket;
		p[1] = maxs;
		p[2] = floor;
		res = store_exec(st,
		    "INSERT INTO ticket_uses AS u (ticket, used) "
		    "SELECT $1, $3::int WHERE $2::int = 0 OR $3::int <= $2::int "
		    "ON CONFLICT (ticket) DO UPDATE SET used = u.used + 1 "
		    "WHERE $2::int = 0 OR u.used < $2::int RETURNING used",
		    3, p);
		if (res == NULL)
			return st->cached ? STORE_CACHED : STORE_UNAVAILABLE;
		if (PQntuples(res) == 0) {
			PQclear(res);
			res =
			    store_exec(st, "SELECT used FROM ticket_uses WHERE ticket = $1", 1, p);
			if (used != NULL)
				*used = res != NULL && PQntuples(res) == 1
				    ? (unsigned)atoi(PQgetvalue(res, 0, 0))
				    : local_used;
			PQclear(res);
			return STORE_USED_UP;
		}
		PQclear(res);
	}
	p[0] = st->gateway;
	p[1] = store_field(session, "id");
	p[2] = store_field(session, "person");
	p[3] = store_field(session, "vendor");
	p[4] = store_field(session, "target");
	p[5] = store_field(session, "ticket");
	p[6] = store_field(session, "source");
	p[7] = store_field(session, "started");
	p[8] = store_field(session, "ends_at");
	snprintf(port, sizeof(port), "%d",
	    (int)json_integer_value(json_object_get(session, "source_port")));
	p[9] = port;
	if (store_run(st,
	        "INSERT INTO live_sessions (gateway, id, person, vendor, target, ticket, source, "
	        "started, ends_at, source_port) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
	        "ON CONFLICT (gateway, id) DO NOTHING",
	        10, p) != 0)
		return st->cached ? STORE_CACHED : STORE_UNAVAILABLE;
	return STORE_TAKEN;
}

void
store_session_ended(struct store *st, const char *id)
{
	const char *p[2] = { st->gateway, id };

	if (st->kind == GW_STORE_POSTGRESQL && st->state == STORE_UP)
		store_run(st, "DELETE FROM live_sessions WHERE gateway = $1 AND id = $2", 2, p);
}

json_t *
store_sessions_elsewhere(struct store *st)
{
	static const char *const cols[] = { "gateway", "id", "person", "vendor", "target", "ticket",
		"source", "started", "ends_at" };
	json_t *a = json_array(), *o;
	const char *p[1];
	PGresult *res;
	int i, j;

	if (st == NULL || st->kind != GW_STORE_POSTGRESQL || st->state != STORE_UP)
		return a;
	store_drain(st);
	p[0] = st->gateway;
	if ((res = store_exec(st,
	         "SELECT gateway, id, person, vendor, target, ticket, source, started, ends_at, "
	         "bytes_in, bytes_out, source_port FROM live_sessions WHERE gateway <> $1 "
	         "ORDER BY started, gateway, id",
	         1, p)) == NULL)
		return a;
	for (i = 0; i < PQntuples(res); i++) {
		o = json_object();
		for (j = 0; j < 9; j++)
			if (!PQgetisnull(res, i, j) && PQgetvalue(res, i, j)[0] != '\0')
				audit_set_text(o, cols[j], PQgetvalue(res, i, j),
				    (size_t)PQgetlength(res, i, j));
		json_object_set_new(o, "bytes_in", json_integer(atoll(PQgetvalue(res, i, 9))));
		json_object_set_new(o, "bytes_out", json_integer(atoll(PQgetvalue(res, i, 10))));
		json_object_set_new(o, "source_port", json_integer(atoll(PQgetvalue(res, i, 11))));
		json_array_append_new(a, o);
	}
	PQclear(res);
	return a;
}

int
store_kill_elsewhere(struct store *st, const char *gateway, const struct control_request *req,
    const char *message, const char *reason)
{
	json_t *o;
	char *text, *rest;

	if (st == NULL || st->kind != GW_STORE_POSTGRESQL || st->state != STORE_UP)
		return -1;
	o = json_pack("{s:s, s:s, s:s, s:s}", "by", control_selector_name(req->by), "name",
	    req->name, "message", message, "reason", reason);
	if (o == NULL)
		return -1;
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	xasprintf(&rest, "%s %s", gateway ? gateway : "*", text);
	free(text);
	store_announce(st, "kill", rest);
	free(rest);
	return st->state == STORE_UP ? 0 : -1;
}

static void
store_pend(struct store *st, char kind, const char *scope, const char *key, bool on, time_t until)
{
	struct store_pending *q;

	if (st->npending == STORE_PENDING_MAX) {
		error_f("store: %zu changes wait for the database: %s %s is not shared",
		    st->npending, scope, key);
		return;
	}
	q = &st->pending[st->npending++];
	q->kind = kind;
	snprintf(q->scope, sizeof(q->scope), "%s", scope);
	snprintf(q->key, sizeof(q->key), "%s", key);
	q->on = on;
	q->until = until;
}

void
store_vendor_changed(struct store *st, const char *vendor, bool disabled)
{
	const char *p[2] = { vendor, st->gateway };
	PGresult *res;
	char *rest;

	if (st->kind != GW_STORE_POSTGRESQL)
		return;
	if (st->state != STORE_UP) {
		store_pend(st, 'v', "vendor", vendor, disabled, 0);
		return;
	}
	/* Announced only when the database changed: applying another gateway's change here
	 * comes back through this function and must not echo. */
	res = store_exec(st,
	    disabled ? "INSERT INTO disabled_vendors (vendor, by_gateway) VALUES ($1, $2) "
	               "ON CONFLICT (vendor) DO NOTHING RETURNING vendor"
	             : "DELETE FROM disabled_vendors WHERE vendor = $1 AND $2 <> '' "
	               "RETURNING vendor",
	    2, p);
	if (res == NULL) {
		store_pend(st, 'v', "vendor", vendor, disabled, 0);
		return;
	}
	if (PQntuples(res) > 0) {
		xasprintf(&rest, "%d %s", disabled, vendor);
		store_announce(st, "vendor", rest);
		free(rest);
	}
	PQclear(res);
}

void
store_lockout(struct store *st, const char *scope, const char *key, time_t until)
{
	char untils[24], *rest;
	const char *p[4];

	if (st->kind != GW_STORE_POSTGRESQL)
		return;
	if (st->state != STORE_UP) {
		store_pend(st, 'l', scope, key, true, until);
		return;
	}
	snprintf(untils, sizeof(untils), "%lld", (long long)until);
	p[0] = scope;
	p[1] = key;
	p[2] = untils;
	p[3] = st->gateway;
	if (store_run(st,
	        "INSERT INTO lockouts (scope, key, until, by_gateway) VALUES ($1, $2, $3, $4) "
	        "ON CONFLICT (scope, key) DO UPDATE SET until = GREATEST(lockouts.until, $3), "
	        "by_gateway = $4",
	        4, p) != 0) {
		store_pend(st, 'l', scope, key, true, until); /* sent at the next connection */
		return;
	}
	xasprintf(&rest, "%s %lld %s", scope, (long long)until, key);
	store_announce(st, "lockout", rest);
	free(rest);
}
