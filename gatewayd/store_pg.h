/* store_pg.h: what the parts of the PostgreSQL store share (store.c the connection and the
 * listener's side, store_sync.c state_dir's copy, store_audit.c the audit events). */
#ifndef GW_STORE_PG_H
#define GW_STORE_PG_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <sys/types.h>

#include "gatewayd/store.h"

#define STORE_RETRY_MS       1000 /* between connection attempts */
#define STORE_CONNECT_MS     5000 /* an attempt that has not connected by then is abandoned */
#define STORE_HEARTBEAT_S    10   /* gateways.last_seen */
#define STORE_SHIP_EVERY_MS  500  /* audit lines appended by gatewayctl are noticed this late */
#define STORE_PENDING_MAX    1024 /* vendor changes and lockouts kept while unreachable */
#define STORE_BYTES_EVERY_MS 2000 /* live sessions' byte counters, for the other gateways */

enum store_state {
	STORE_DOWN,       /* waiting to try again (retry_ms) */
	STORE_CONNECTING, /* PQconnectPoll in progress */
	STORE_UP,
};

/* A change made here while the database could not be reached: sent once it can. */
struct store_pending {
	char kind; /* 'v' vendor, 'l' lockout */
	char scope[8];
	char key[GW_ID_MAX * 2];
	bool on;
	time_t until;
};

struct store {
	enum gw_store_kind kind;
	char *conninfo, *gateway, *state_dir, *recording_dir;
	bool cached;
	PGconn *conn;
	enum store_state state;
	PostgresPollingStatusType polling; /* what PQconnectPoll waits for */
	long long retry_ms, connect_deadline_ms, heartbeat_ms, ship_ms, bytes_ms;
	bool down_logged; /* the loss was logged; logged again only once it came back */
	struct registry *reg;
	struct guard *guard;
	struct notary *notary;
	char *audit_path;
	/* state_dir's copy (store_sync.c) */
	int inotify_fd;
	int wd_state, wd_tickets, wd_requests;
	long long revocations_seen; /* the highest revocations.n applied here */
	struct store_pending pending[STORE_PENDING_MAX];
	size_t npending;
	/* the audit events (store_audit.c) */
	int audit_fd;
	off_t audit_off;     /* the end of the last line sent */
	long long audit_seq; /* its number, 1-based */
	bool audit_synced;   /* audit_off and audit_seq agree with the database */
	char *audit_buf;     /* lines read back from the log to be sent: audit_cap bytes */
	size_t audit_cap;
};

/* NOTIFY "KIND GATEWAY REST" on the channel every gateway listens on (store_notice.h). */
void store_announce(struct store *st, const char *kind, const char *rest);
/* A query with text parameters; the result when it succeeded (caller PQclear()s), NULL when it
 * failed: logged, and a lost connection marks the store down. */
PGresult *store_exec(struct store *st, const char *sql, int nparams, const char *const *params);
/* Whether the store can be queried now. */
bool store_up(const struct store *st);
/* An audit event of the listener about the store (remote changes applied, the database lost
 * and back). */
void store_audit(struct store *st, const char *event, json_t *fields);

/* store_sync.c */
int store_sync_open(struct store *st);   /* the inotify watches; -1 logged */
void store_sync_close(struct store *st); /* NULL-safe parts */
/* Once connected: sends every local ticket, signature, revocation and request the database
 * lacks, then takes what it has that state_dir lacks. 0, or -1 (connection lost). */
int store_sync_all(struct store *st);
/* state_dir changed (inotify): sends the changed files. */
void store_sync_local(struct store *st);
/* Another gateway's notice of a ticket, revocations or a request (store_notice.h). */
struct store_notice;
void store_sync_remote(struct store *st, const struct store_notice *nt);

/* store_audit.c */
void store_audit_reset(struct store *st); /* connected again: find where the database is */
void store_audit_ship(struct store *st);  /* sends the lines appended since */
void store_audit_close(struct store *st);

#endif
