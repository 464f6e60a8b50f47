/* store_audit.c: the audit log's lines into the shared store, each with this gateway's name
 * and its line number: written in order, once (the key is (gateway, seq)), and, after the
 * database was unreachable, from where it stopped, read back from the local log. */
#include "gatewayd/store_pg.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "gatewayd/gatewayd.h"

#define STORE_AUDIT_BATCH    100         /* lines a statement inserts */
#define STORE_AUDIT_LINE_MAX (1 << 20)   /* a longer line is not the notary's */
#define STORE_AUDIT_ROUND    (256 << 10) /* bytes sent per listener round */

void
store_audit_close(struct store *st)
{
	if (st->audit_fd != -1)
		close(st->audit_fd);
	st->audit_fd = -1;
	st->audit_synced = false;
	free(st->audit_buf);
	st->audit_buf = NULL;
	st->audit_cap = 0;
}

void
store_audit_reset(struct store *st)
{
	st->audit_synced = false;
	st->ship_ms = 0;
	store_audit_ship(st);
}

/* Finds the database's last line of this gateway in the local log and sets audit_off just
 * after it; the numbering goes on from the database's. Found by its text (each line holds its
 * time and signature), so that a rotated log, a new file under the same name, is sent from its
 * first line on. */
static int
store_audit_find(struct store *st)
{
	const char *p[1] = { st->gateway };
	char *line = NULL, *last = NULL;
	size_t cap = 0, lastlen = 0;
	off_t off = 0, after = -1;
	long long want;
	PGresult *res;
	ssize_t n;
	FILE *f;
	int fd;

	/* Opened again each time: a rotated log is a new file under the same name. */
	if (st->audit_fd != -1)
		close(st->audit_fd);
	if ((st->audit_fd = open(st->audit_path, O_RDONLY | O_CLOEXEC)) == -1) {
		error_f("store: %s: %s", st->audit_path, strerror(errno));
		return -1;
	}
	if ((res = store_exec(st,
	         "SELECT seq, line FROM audit_events WHERE gateway = $1 ORDER BY seq DESC LIMIT 1",
	         1, p)) == NULL)
		return -1;
	want = PQntuples(res) == 1 ? atoll(PQgetvalue(res, 0, 0)) : 0;
	if (want > 0) {
		lastlen = (size_t)PQgetlength(res, 0, 1);
		last = xstrndup(PQgetvalue(res, 0, 1), lastlen);
	}
	PQclear(res);
	if (last != NULL && (fd = dup(st->audit_fd)) != -1) {
		if ((f = fdopen(fd, "r")) == NULL)
			close(fd);
		while (f != NULL && (n = getline(&line, &cap, f)) > 0) {
			off += n;
			if ((size_t)n == lastlen + 1 && line[lastlen] == '\n' &&
			    memcmp(line, last, lastlen) == 0)
				after = off; /* the last such line: the most recent */
		}
		if (f != NULL)
			fclose(f);
	}
	if (last != NULL && after == -1)
		warn_f(
		    "store: %s does not hold the last of gateway %s's %lld lines in the database: "
		    "a new log; its lines are sent from its first on, numbered from %lld",
		    st->audit_path, st->gateway, want, want + 1);
	st->audit_off = after == -1 ? 0 : after;
	st->audit_seq = want;
	st->audit_synced = true;
	free(line);
	free(last);
	return 0;
}

/* A sealed or unsealed recording's line also lists it (with its chain head) in recordings. */
static void
store_audit_recording(struct store *st, const char *event, json_t *o, const char *ts)
{
	const char *p[7];
	char records[24];

	p[0] = st->gateway;
	p[1] = json_string_value(json_object_get(o, "recording"));
	p[2] = json_string_value(json_object_get(o, "session"));
	snprintf(records, sizeof(records), "%lld",
	    (long long)json_integer_value(json_object_get(o, "records")));
	p[3] = records;
	p[4] = json_string_value(json_object_get(o, "chain"));
	p[5] = strcmp(event, "recording_sealed") == 0 ? "t" : "f";
	p[6] = ts;
	if (p[1] == NULL || p[2] == NULL || p[4] == NULL)
		return;
	PQclear(store_exec(st,
	    "INSERT INTO recordings (gateway, recording, session, records, chain, sealed, at) "
	    "VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
	    7, p));
}

/* One statement for lines[0..n) (numbered from first), then their recordings. */
static int
store_audit_insert(struct store *st, char **lines, size_t n, long long first)
{
	char *sql, seqs[STORE_AUDIT_BATCH][24], *ts[STORE_AUDIT_BATCH], *ev[STORE_AUDIT_BATCH];
	json_t *objs[STORE_AUDIT_BATCH];
	const char *p[1 + 4 * STORE_AUDIT_BATCH];
	size_t i, len = 0, cap = 128 + n * 40;
	PGresult *res;

	sql = xmalloc(cap);
	len = (size_t)snprintf(sql, cap,
	    "INSERT INTO audit_events (gateway, seq, ts, event, line) "
	    "VALUES ");
	p[0] = st->gateway;
	for (i = 0; i < n; i++) {
		objs[i] = json_loads(lines[i], JSON_DISABLE_EOF_CHECK, NULL);
		ts[i] = (char *)json_string_value(json_object_get(objs[i], "ts"));
		ev[i] = (char *)json_string_value(json_object_get(objs[i], "event"));
		snprintf(seqs[i], sizeof(seqs[i]), "%lld", first + (long long)i);
		p[1 + 4 * i] = seqs[i];
		p[2 + 4 * i] = ts[i] ? ts[i] : "";
		p[3 + 4 * i] = ev[i] ? ev[i] : "";
		p[4 + 4 * i] = lines[i];
		len += (size_t)snprintf(sql + len, cap - len, "%s($1, $%zu, $%zu, $%zu, $%zu)",
		    i ? ", " : "", 2 + 4 * i, 3 + 4 * i, 4 + 4 * i, 5 + 4 * i);
	}
	snprintf(sql + len, cap - len, " ON CONFLICT (gateway, seq) DO NOTHING");
	res = store_exec(st, sql, (int)(1 + 4 * n), p);
	PQclear(res);
	for (i = 0; i < n; i++) {
		if (res != NULL && ev[i] != NULL &&
		    (strcmp(ev[i], "recording_sealed") == 0 ||
		        strcmp(ev[i], "recording_unsealed") == 0))
			store_audit_recording(st, ev[i], objs[i], ts[i] ? ts[i] : "");
		json_decref(objs[i]);
	}
	free(sql);
	return res != NULL ? 0 : -1;
}

void
store_audit_ship(struct store *st)
{
	char *buf;
	size_t cap;
	char *lines[STORE_AUDIT_BATCH], *p, *nl;
	size_t n = 0, have = 0, sent = 0;
	long long first;
	struct stat sb, now;
	ssize_t got;

	if (st->state != STORE_UP || st->audit_path == NULL)
		return;
	if (session_now_ms() < st->ship_ms && st->audit_synced)
		return;
	st->ship_ms = session_now_ms() + STORE_SHIP_EVERY_MS;
	/* A log shorter than what was sent, or another file under its name, was rotated: find the
	 * place again. */
	if (st->audit_synced &&
	    (fstat(st->audit_fd, &sb) != 0 || sb.st_size < st->audit_off ||
	        stat(st->audit_path, &now) != 0 || now.st_ino != sb.st_ino))
		st->audit_synced = false;
	if (!st->audit_synced && store_audit_find(st) != 0)
		return;
	if (st->audit_cap == 0)
		st->audit_buf = xmalloc(st->audit_cap = STORE_AUDIT_ROUND);
	buf = st->audit_buf;
	cap = st->audit_cap;
	while (sent < STORE_AUDIT_ROUND && st->state == STORE_UP) {
		got = pread(st->audit_fd, buf + have, cap - have - 1, st->audit_off + (off_t)have);
		if (got <= 0)
			break;
		have += (size_t)got;
		buf[have] = '\0';
		if (memchr(buf, '\n', have) == NULL) {
			/* A line still being appended: sent once it ends. */
			if (have < cap - 1)
				continue;
			if (cap >= STORE_AUDIT_LINE_MAX) {
				error_f("store: %s: a line longer than %d bytes at offset %lld: "
				        "the audit log is not the notary's; not sent",
				    st->audit_path, STORE_AUDIT_LINE_MAX, (long long)st->audit_off);
				return;
			}
			buf = st->audit_buf = xreallocarray(buf, cap *= 2, 1);
			st->audit_cap = cap;
			continue;
		}
		/* Whole lines only: a line being appended is sent once it ends. */
		first = st->audit_seq + 1;
		for (p = buf; (nl = memchr(p, '\n', have - (size_t)(p - buf))) != NULL;
		     p = nl + 1) {
			*nl = '\0';
			lines[n++] = p;
			if (n == STORE_AUDIT_BATCH) {
				if (store_audit_insert(st, lines, n, first) != 0) {
					st->audit_synced = false;
					return;
				}
				st->audit_seq += (long long)n;
				st->audit_off += nl + 1 - (lines[0]);
				first += (long long)n;
				sent += (size_t)(nl + 1 - lines[0]);
				n = 0;
			}
		}
		if (n > 0) {
			size_t bytes = (size_t)(p - lines[0]);

			if (store_audit_insert(st, lines, n, first) != 0) {
				st->audit_synced = false;
				return;
			}
			st->audit_seq += (long long)n;
			st->audit_off += (off_t)bytes;
			sent += bytes;
			n = 0;
		}
		have = 0;
	}
}
