/* store_schema.c: `gatewayd --migrate`: the shared store's schema, versioned in gw_schema, and
 * the role gatewayd_gateway with no more than a gateway needs (docs/store.md). */
#include "gatewayd/store_pg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Step N brings the schema from version N-1 to N; a step is never changed once released. */
static const char *const store_steps[] = {
	/* 1 */
	"CREATE TABLE gateways (name text PRIMARY KEY, recording_dir text NOT NULL, "
	"  audit_log text NOT NULL, seal_key text NOT NULL, "
	"  started_at timestamptz NOT NULL DEFAULT now(), "
	"  last_seen timestamptz NOT NULL DEFAULT now());"
	"CREATE TABLE tickets (id text PRIMARY KEY, body bytea NOT NULL, "
	"  installed_by text NOT NULL, installed_at timestamptz NOT NULL DEFAULT now());"
	"CREATE TABLE ticket_signatures (n bigserial UNIQUE, "
	"  ticket text NOT NULL REFERENCES tickets (id), sig text NOT NULL, "
	"  added_by text NOT NULL, added_at timestamptz NOT NULL DEFAULT now(), "
	"  PRIMARY KEY (ticket, sig));"
	"CREATE TABLE ticket_uses (ticket text PRIMARY KEY, used integer NOT NULL);"
	"CREATE TABLE revocations (n bigserial PRIMARY KEY, ticket text NOT NULL, "
	"  revoked_at bigint NOT NULL, reason text NOT NULL, by_gateway text NOT NULL, "
	"  UNIQUE (ticket, revoked_at, reason));"
	"CREATE TABLE disabled_vendors (vendor text PRIMARY KEY, by_gateway text NOT NULL, "
	"  since timestamptz NOT NULL DEFAULT now());"
	"CREATE TABLE requests (id text PRIMARY KEY, body text NOT NULL, "
	"  by_gateway text NOT NULL, updated_at timestamptz NOT NULL DEFAULT now());"
	"CREATE TABLE live_sessions (gateway text NOT NULL, id text NOT NULL, "
	"  person text NOT NULL, vendor text NOT NULL, target text NOT NULL, "
	"  ticket text NOT NULL, source text NOT NULL, source_port integer NOT NULL, "
	"  started text NOT NULL, "
	"  ends_at text NOT NULL, bytes_in bigint NOT NULL DEFAULT 0, "
	"  bytes_out bigint NOT NULL DEFAULT 0, PRIMARY KEY (gateway, id));"
	"CREATE TABLE lockouts (scope text NOT NULL, key text NOT NULL, until bigint NOT NULL, "
	"  by_gateway text NOT NULL, PRIMARY KEY (scope, key));"
	"CREATE TABLE audit_events (gateway text NOT NULL, seq bigint NOT NULL, "
	"  ts text NOT NULL, event text NOT NULL, line text NOT NULL, "
	"  PRIMARY KEY (gateway, seq));"
	"CREATE TABLE recordings (gateway text NOT NULL, recording text NOT NULL, "
	"  session text NOT NULL, records bigint NOT NULL, chain text NOT NULL, "
	"  sealed boolean NOT NULL, at text NOT NULL, PRIMARY KEY (gateway, recording, sealed));"
	"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'gatewayd_gateway') "
	"  THEN CREATE ROLE gatewayd_gateway NOLOGIN; END IF; END $$;"
	/* Least privilege: the evidence is appended, never changed; state only grows or moves
	 * as a gateway needs it to. */
	"GRANT SELECT ON gw_schema, gateways, tickets, ticket_signatures, ticket_uses, "
	"  revocations, disabled_vendors, requests, live_sessions, lockouts, audit_events, "
	"  recordings TO gatewayd_gateway;"
	"GRANT INSERT, UPDATE ON gateways, ticket_uses, requests, lockouts TO gatewayd_gateway;"
	"GRANT INSERT ON tickets, ticket_signatures, revocations, audit_events, recordings "
	"  TO gatewayd_gateway;"
	"GRANT INSERT, DELETE ON disabled_vendors TO gatewayd_gateway;"
	"GRANT INSERT, UPDATE, DELETE ON live_sessions TO gatewayd_gateway;"
	"GRANT USAGE ON SEQUENCE ticket_signatures_n_seq, revocations_n_seq "
	"  TO gatewayd_gateway;",
};

_Static_assert(sizeof(store_steps) / sizeof(store_steps[0]) == STORE_SCHEMA_VERSION,
    "STORE_SCHEMA_VERSION is the number of steps");

/* "relation already exists, skipping" and the like: not for the operator's terminal. */
static void
store_schema_quiet(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

static int
store_schema_exec(PGconn *c, const char *sql, char *err, size_t errlen)
{
	PGresult *res = PQexec(c, sql);
	ExecStatusType s = PQresultStatus(res);

	PQclear(res);
	if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK)
		return 0;
	snprintf(err, errlen, "%s", PQerrorMessage(c));
	err[strcspn(err, "\n")] = '\0';
	return -1;
}

int
store_migrate(const struct gw_config *cfg, int *version, char *err, size_t errlen)
{
	const char *conninfo =
	    cfg->store.admin_conninfo ? cfg->store.admin_conninfo : cfg->store.conninfo;
	const int nsteps = (int)(sizeof(store_steps) / sizeof(store_steps[0]));
	PGresult *res;
	PGconn *c;
	int v, rc = -1;

	if (cfg->store.kind != GW_STORE_POSTGRESQL) {
		snprintf(err, errlen, "%s: the store is \"files\": nothing to migrate", cfg->path);
		return -1;
	}
	c = PQconnectdb(conninfo);
	PQsetNoticeProcessor(c, store_schema_quiet, NULL);
	if (PQstatus(c) != CONNECTION_OK) {
		snprintf(err, errlen, "cannot connect: %s", PQerrorMessage(c));
		err[strcspn(err, "\n")] = '\0';
		PQfinish(c);
		return -1;
	}
	/* One migration at a time, whatever the number of gateways started at once. */
	if (store_schema_exec(c,
	        "BEGIN; SELECT pg_advisory_xact_lock(7415);"
	        "CREATE TABLE IF NOT EXISTS gw_schema (version integer NOT NULL);"
	        "INSERT INTO gw_schema SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM gw_schema)",
	        err, errlen) != 0)
		goto out;
	res = PQexec(c, "SELECT version FROM gw_schema");
	v = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1
	    ? atoi(PQgetvalue(res, 0, 0))
	    : -1;
	PQclear(res);
	if (v < 0 || v > nsteps) {
		snprintf(err, errlen,
		    "the schema is at version %d, which this gatewayd (%d) does not know", v,
		    nsteps);
		goto out;
	}
	for (; v < nsteps; v++) {
		char bump[64];

		snprintf(bump, sizeof(bump), "UPDATE gw_schema SET version = %d", v + 1);
		if (store_schema_exec(c, store_steps[v], err, errlen) != 0 ||
		    store_schema_exec(c, bump, err, errlen) != 0)
			goto out;
	}
	if (store_schema_exec(c, "COMMIT", err, errlen) != 0)
		goto out;
	*version = v;
	rc = 0;
out:
	PQfinish(c);
	return rc;
}
