/* store_sync.c: state_dir as this gateway's copy of the shared store: tickets with their
 * signatures, revocations and access requests made here (by gatewayctl or the console) go to
 * the database; those made elsewhere are written into state_dir, where the sessions read them. */
#include "gatewayd/store_pg.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "evidence/seal.h"
#include "gatewayd/audit.h"
#include "gatewayd/console.h"
#include "gatewayd/registry.h"
#include "gatewayd/store_notice.h"

#define STORE_REQUEST_MAX 8192 /* bytes of one request's JSON */

static char *
store_hex(const char *data, size_t len)
{
	char *out = xmalloc(2 * len + 1);

	seal_hex((const unsigned char *)data, len, out);
	return out;
}

int
store_sync_open(struct store *st)
{
	char *dir;

	if ((st->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1) {
		error_f("store: inotify: %s: changes made here reach other gateways only at the "
		        "next connection",
		    strerror(errno));
		return -1;
	}
	st->wd_state =
	    inotify_add_watch(st->inotify_fd, st->state_dir, IN_CLOSE_WRITE | IN_MOVED_TO);
	/* IN_CREATE: a new ticket's text and a new request are link()ed into place, not renamed. */
	xasprintf(&dir, "%s/tickets", st->state_dir);
	st->wd_tickets =
	    inotify_add_watch(st->inotify_fd, dir, IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE);
	free(dir);
	xasprintf(&dir, "%s/requests", st->state_dir);
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		warn_f("store: %s: %s", dir, strerror(errno));
	st->wd_requests =
	    inotify_add_watch(st->inotify_fd, dir, IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE);
	free(dir);
	if (st->wd_state == -1 || st->wd_tickets == -1 || st->wd_requests == -1)
		error_f("store: cannot watch %s: %s", st->state_dir, strerror(errno));
	return 0;
}

void
store_sync_close(struct store *st)
{
	if (st->inotify_fd != -1)
		close(st->inotify_fd);
	st->inotify_fd = st->wd_state = st->wd_tickets = st->wd_requests = -1;
}

/* Runs an INSERT ... RETURNING: whether the database learnt something from it. */
static bool
store_insert_new(struct store *st, const char *sql, int nparams, const char *const *params)
{
	PGresult *res = store_exec(st, sql, nparams, params);
	bool news = res != NULL && PQntuples(res) > 0;

	PQclear(res);
	return news;
}

/* ---- tickets ---- */

/* Sends ticket id and its signatures; announces it when the database learnt something. */
static void
store_push_ticket(struct store *st, const char *id)
{
	size_t off[TICKET_SIGS_MAX], blen[TICKET_SIGS_MAX], n = 0, i, len, siglen;
	char *text, *sig, *hex, *error = NULL, *block;
	const char *p[3];
	PGresult *res;
	bool news = false;

	if (ticketstore_read(st->state_dir, id, &text, &len, &sig, &siglen, &error) != 0) {
		free(error); /* half-written: the rename that completes it comes next */
		return;
	}
	hex = store_hex(text, len);
	p[0] = id;
	p[1] = hex;
	p[2] = st->gateway;
	res = store_exec(st,
	    "WITH ins AS (INSERT INTO tickets (id, body, installed_by) "
	    "VALUES ($1, decode($2, 'hex'), $3) ON CONFLICT (id) DO NOTHING RETURNING 1) "
	    "SELECT (SELECT count(*) FROM ins), "
	    "(SELECT body = decode($2, 'hex') FROM tickets WHERE id = $1)",
	    3, p);
	if (res == NULL)
		goto out;
	news = atoi(PQgetvalue(res, 0, 0)) > 0;
	if (!news && strcmp(PQgetvalue(res, 0, 1), "f") == 0) {
		error_f("store: ticket %s here differs from the one another gateway installed "
		        "under that id: not shared",
		    id);
		store_audit(st, "store_conflict",
		    audit_pack("{s:s, s:s, s:s}", "kind", "ticket", "ticket", id, "detail",
		        "another gateway installed a different text under this id"));
		PQclear(res);
		goto out;
	}
	PQclear(res);
	if (ticket_split_signatures(sig, siglen, off, blen, &n) != 0)
		n = 0;
	for (i = 0; i < n && st->state == STORE_UP; i++) {
		block = xstrndup(sig + off[i], blen[i]);
		p[1] = block;
		news |= store_insert_new(st,
		    "INSERT INTO ticket_signatures (ticket, sig, added_by) VALUES ($1, $2, $3) "
		    "ON CONFLICT (ticket, sig) DO NOTHING RETURNING 1",
		    3, p);
		free(block);
	}
	if (news && st->state == STORE_UP)
		store_announce(st, "ticket", id);
out:
	free(hex);
	free(text);
	free(sig);
}

/* Writes ticket id as the database has it into state_dir (new, or further signatures). */
static void
store_pull_ticket(struct store *st, const char *id, const char *from)
{
	const char *p[1] = { id };
	char *text = NULL, *sigs = NULL, *error = NULL;
	size_t len = 0, siglen = 0, cap = 0;
	unsigned char *raw;
	PGresult *res;
	int i, installed;

	if (!ticket_id_is_valid(id))
		return;
	if ((res = store_exec(st, "SELECT body FROM tickets WHERE id = $1", 1, p)) == NULL)
		return;
	if (PQntuples(res) == 1 &&
	    (raw = PQunescapeBytea((const unsigned char *)PQgetvalue(res, 0, 0), &len)) != NULL) {
		text = xmalloc(len + 1);
		memcpy(text, raw, len);
		text[len] = '\0';
		PQfreemem(raw);
	}
	PQclear(res);
	if (text == NULL || len > TICKET_TEXT_MAX)
		goto out;
	if ((res = store_exec(st, "SELECT sig FROM ticket_signatures WHERE ticket = $1 ORDER BY n",
	         1, p)) == NULL)
		goto out;
	for (i = 0; i < PQntuples(res) && i < TICKET_SIGS_MAX; i++) {
		size_t bl = (size_t)PQgetlength(res, i, 0), bloblen;
		unsigned char *blob = NULL;
		enum sshsig_result r;

		/* Each block must verify over the text (namespace gatewayd-ticket) before it is
		 * written here; whose it is, the decision checks against the approvers, as for any
		 * ticket installed by hand. */
		r = sshsig_verify(
		    PQgetvalue(res, i, 0), bl, text, len, TICKET_NAMESPACE, &blob, &bloblen);
		free(blob);
		if (r != SSHSIG_OK) {
			error_f("store: ticket %s from gateway %s: signature %d refused: %s", id,
			    from, i + 1, sshsig_result_text(r));
			continue;
		}
		if (siglen + bl + 2 > cap) {
			cap = (siglen + bl + 2) * 2;
			sigs = xreallocarray(sigs, cap, 1);
		}
		memcpy(sigs + siglen, PQgetvalue(res, i, 0), bl);
		siglen += bl;
		sigs[siglen++] = '\n';
		sigs[siglen] = '\0';
	}
	PQclear(res);
	if (siglen == 0)
		goto out;
	if ((installed = ticketstore_has_ticket(st->state_dir, id, &error)) < 0)
		goto out;
	if ((installed
	            ? ticketstore_add_signature(st->state_dir, id, text, len, sigs, siglen, &error)
	            : ticketstore_install(st->state_dir, id, text, len, sigs, siglen, &error)) !=
	    0) {
		error_f("store: ticket %s from gateway %s: %s", id, from, error ? error : "");
		goto out;
	}
	info_f("store: ticket %s from gateway %s %s", id, from,
	    installed ? "has further signatures" : "installed");
out:
	free(error);
	free(text);
	free(sigs);
}

/* ---- revocations ---- */

static struct ticket_set *
store_local_revocations(struct store *st)
{
	struct ticket_set *set = ticketset_new();
	char *errors = NULL;

	if (revocation_load(st->state_dir, set, &errors) != 0) {
		error_f("store: %s", errors ? errors : "revocations unreadable");
		ticketset_free(set);
		set = NULL;
	}
	free(errors);
	return set;
}

static void
store_push_revocations(struct store *st)
{
	struct ticket_set *set = store_local_revocations(st);
	char at[24];
	const char *p[4];
	bool news = false;
	size_t i;

	if (set == NULL)
		return;
	for (i = 0; i < set->nrevocations && st->state == STORE_UP; i++) {
		snprintf(at, sizeof(at), "%lld", (long long)set->revocations[i].at);
		p[0] = set->revocations[i].id;
		p[1] = at;
		p[2] = set->revocations[i].reason;
		p[3] = st->gateway;
		news |= store_insert_new(st,
		    "INSERT INTO revocations (ticket, revoked_at, reason, by_gateway) "
		    "VALUES ($1, $2, $3, $4) ON CONFLICT (ticket, revoked_at, reason) DO NOTHING "
		    "RETURNING n",
		    4, p);
	}
	ticketset_free(set);
	if (news && st->state == STORE_UP)
		store_announce(st, "revocation", "-");
}

/* The revocations another gateway made since the last ones applied here: appended to
 * state_dir/revocations, which the sessions watch (a revoked ticket's sessions end). */
static void
store_pull_revocations(struct store *st)
{
	struct ticket_set *set;
	char seen[24], *error = NULL;
	const char *p[1] = { seen };
	PGresult *res;
	int i;

	snprintf(seen, sizeof(seen), "%lld", st->revocations_seen);
	if ((res = store_exec(st,
	         "SELECT n, ticket, revoked_at, reason, by_gateway FROM revocations "
	         "WHERE n > $1 ORDER BY n",
	         1, p)) == NULL)
		return;
	if ((set = store_local_revocations(st)) == NULL) {
		PQclear(res);
		return;
	}
	for (i = 0; i < PQntuples(res); i++) {
		const char *id = PQgetvalue(res, i, 1);

		if (ticketset_find_revocation(set, id) == NULL &&
		    revocation_append(st->state_dir, id, (time_t)atoll(PQgetvalue(res, i, 2)),
		        PQgetvalue(res, i, 3), &error) != 0) {
			error_f("store: revocation of %s from gateway %s: %s", id,
			    PQgetvalue(res, i, 4), error);
			free(error);
			error = NULL;
			break; /* not seen: tried again at the next announcement */
		}
		st->revocations_seen = atoll(PQgetvalue(res, i, 0));
	}
	ticketset_free(set);
	PQclear(res);
}

/* ---- requests ---- */

static char *
store_request_path(const struct store *st, const char *id)
{
	char *path;

	xasprintf(&path, "%s/requests/%s.json", st->state_dir, id);
	return path;
}

static void
store_push_request(struct store *st, const char *id)
{
	char *path = store_request_path(st, id), *body = NULL;
	const char *p[3];
	size_t len;

	if (file_read_bounded(path, STORE_REQUEST_MAX, &body, &len) != 0 || strlen(body) != len) {
		free(path);
		free(body);
		return;
	}
	p[0] = id;
	p[1] = body;
	p[2] = st->gateway;
	if (store_insert_new(st,
	        "INSERT INTO requests AS r (id, body, by_gateway) VALUES ($1, $2, $3) "
	        "ON CONFLICT (id) DO UPDATE SET body = $2, by_gateway = $3, updated_at = now() "
	        "WHERE r.body <> $2 RETURNING 1",
	        3, p))
		store_announce(st, "request", id);
	free(path);
	free(body);
}

static void
store_pull_request(struct store *st, const char *id)
{
	char *path, *dir, *name, *local = NULL, *error = NULL;
	const char *p[1] = { id };
	PGresult *res;
	size_t len = 0;

	if (!ticket_id_is_valid(id) ||
	    (res = store_exec(st, "SELECT body FROM requests WHERE id = $1", 1, p)) == NULL)
		return;
	path = store_request_path(st, id);
	if (PQntuples(res) == 1 && (size_t)PQgetlength(res, 0, 0) <= STORE_REQUEST_MAX &&
	    (file_read_bounded(path, STORE_REQUEST_MAX, &local, &len) != 0 ||
	        strcmp(local, PQgetvalue(res, 0, 0)) != 0)) {
		xasprintf(&dir, "%s/requests", st->state_dir);
		xasprintf(&name, "%s.json", id);
		if (store_write(dir, name, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0),
		        true, &error) != 0) {
			error_f("store: request %s: %s", id, error);
			free(error);
		}
		free(dir);
		free(name);
	}
	free(local);
	free(path);
	PQclear(res);
}

/* ---- both ways ---- */

/* The name of a watched file as "KIND ID": tickets/ID.ticket(.sig), requests/ID.json. */
static void
store_sync_name(struct store *st, int wd, const char *name)
{
	char id[GW_ID_MAX + 1];
	const char *dot = strchr(name, '.');
	size_t n = dot ? (size_t)(dot - name) : 0;

	if (wd == st->wd_state) {
		if (strcmp(name, "revocations") == 0)
			store_push_revocations(st);
		return;
	}
	if (dot == NULL || n == 0 || n >= sizeof(id))
		return;
	memcpy(id, name, n);
	id[n] = '\0';
	if (!ticket_id_is_valid(id))
		return;
	if (wd == st->wd_tickets &&
	    (strcmp(dot, ".ticket") == 0 || strcmp(dot, ".ticket.sig") == 0))
		store_push_ticket(st, id);
	else if (wd == st->wd_requests && strcmp(dot, ".json") == 0)
		store_push_request(st, id);
}

void
store_sync_local(struct store *st)
{
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	ssize_t n;
	char *p;

	while ((n = read(st->inotify_fd, buf, sizeof(buf))) > 0) {
		/* Down: read and dropped; the connection's full sync sends everything. */
		for (p = buf; p < buf + n; p += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)p;
			if (ev->len > 0 && st->state == STORE_UP)
				store_sync_name(st, ev->wd, ev->name);
		}
	}
}

void
store_sync_remote(struct store *st, const struct store_notice *nt)
{
	if (nt->kind == NOTICE_TICKET)
		store_pull_ticket(st, nt->id, nt->origin);
	else if (nt->kind == NOTICE_REVOCATION)
		store_pull_revocations(st);
	else if (nt->kind == NOTICE_REQUEST)
		store_pull_request(st, nt->id);
}

/* The ids of a state_dir directory's files ending in suffix. */
static char **
store_local_ids(const struct store *st, const char *sub, const char *suffix, size_t *n)
{
	char *path, **ids = NULL;
	size_t cap = 0, sl = strlen(suffix);
	struct dirent *d;
	DIR *dir;

	*n = 0;
	xasprintf(&path, "%s/%s", st->state_dir, sub);
	dir = opendir(path);
	free(path);
	if (dir == NULL)
		return NULL;
	while ((d = readdir(dir)) != NULL) {
		size_t len = strlen(d->d_name);

		if (len <= sl || strcmp(d->d_name + len - sl, suffix) != 0 || len - sl > GW_ID_MAX)
			continue;
		if (*n == cap)
			ids = xreallocarray(ids, cap = cap ? cap * 2 : 64, sizeof(*ids));
		ids[(*n)++] = xstrndup(d->d_name, len - sl);
	}
	closedir(dir);
	return ids;
}

static void
store_ids_free(char **ids, size_t n)
{
	while (n > 0)
		free(ids[--n]);
	free(ids);
}

/* Tickets both ways: those state_dir has that the database lacks, or with signatures it may
 * lack, are sent; those the database has with more are written here. */
static void
store_sync_tickets(struct store *st)
{
	size_t n, i, off[TICKET_SIGS_MAX], blen[TICKET_SIGS_MAX], nsig, siglen, len;
	char **ids = store_local_ids(st, "tickets", ".ticket", &n), *text, *sig, *error = NULL;
	json_t *db = json_object(), *e;
	PGresult *res;
	const char *key;
	int r;

	res = store_exec(st,
	    "SELECT t.id, count(s.sig), coalesce(sum(length(s.sig)), 0) FROM tickets t "
	    "LEFT JOIN ticket_signatures s ON s.ticket = t.id GROUP BY t.id",
	    0, NULL);
	for (r = 0; res != NULL && r < PQntuples(res); r++)
		json_object_set_new(db, PQgetvalue(res, r, 0),
		    json_pack("[I, I]", (json_int_t)atoll(PQgetvalue(res, r, 1)),
		        (json_int_t)atoll(PQgetvalue(res, r, 2))));
	PQclear(res);
	for (i = 0; i < n && st->state == STORE_UP; i++) {
		/* Same number and bytes of signatures: the same, short of a partition in which two
		 * approvers signed the same ticket on two gateways (docs/store.md). */
		if (ticketstore_read(st->state_dir, ids[i], &text, &len, &sig, &siglen, &error) !=
		    0) {
			free(error);
			error = NULL;
			continue;
		}
		nsig = 0;
		if (ticket_split_signatures(sig, siglen, off, blen, &nsig) == 0 &&
		    (e = json_object_get(db, ids[i])) != NULL) {
			json_int_t dbn = json_integer_value(json_array_get(e, 0));
			json_int_t dbl = json_integer_value(json_array_get(e, 1));
			json_int_t l = 0;

			for (size_t k = 0; k < nsig; k++)
				l += (json_int_t)blen[k];
			if (dbn == (json_int_t)nsig && dbl == l)
				json_object_del(db, ids[i]);
			else
				store_push_ticket(st, ids[i]);
		} else
			store_push_ticket(st, ids[i]);
		free(text);
		free(sig);
	}
	/* Left in db: the tickets to take (new here, or with signatures this copy lacks). */
	json_object_foreach (db, key, e) {
		if (st->state != STORE_UP)
			break;
		store_pull_ticket(st, key, "the store");
	}
	json_decref(db);
	store_ids_free(ids, n);
}

static void
store_sync_requests(struct store *st)
{
	size_t n, i;
	char **ids = store_local_ids(st, "requests", ".json", &n);
	PGresult *res;
	int r;

	for (i = 0; i < n && st->state == STORE_UP; i++)
		if (ticket_id_is_valid(ids[i]))
			store_push_request(st, ids[i]);
	store_ids_free(ids, n);
	res = store_exec(st, "SELECT id FROM requests", 0, NULL);
	for (r = 0; res != NULL && r < PQntuples(res) && st->state == STORE_UP; r++)
		store_pull_request(st, PQgetvalue(res, r, 0));
	PQclear(res);
}

/* The disabled vendors as the database has them (the changes made here while it was
 * unreachable are sent after this). */
static void
store_sync_vendors(struct store *st)
{
	PGresult *res = store_exec(st, "SELECT vendor FROM disabled_vendors", 0, NULL);
	char *error = NULL;
	int r;

	for (r = 0; res != NULL && r < PQntuples(res); r++)
		if (registry_set_vendor_disabled(
		        st->reg, st->state_dir, PQgetvalue(res, r, 0), true, &error) < 0) {
			error_f("store: %s", error);
			free(error);
			error = NULL;
		}
	PQclear(res);
}

int
store_sync_all(struct store *st)
{
	store_sync_tickets(st);
	if (st->state == STORE_UP)
		store_push_revocations(st);
	if (st->state == STORE_UP) {
		st->revocations_seen = 0;
		store_pull_revocations(st);
	}
	if (st->state == STORE_UP)
		store_sync_requests(st);
	if (st->state == STORE_UP && st->reg != NULL)
		store_sync_vendors(st);
	return st->state == STORE_UP ? 0 : -1;
}
