/* guard.c: pre-authentication limits: max_startups and per_source caps, the login grace time,
 * and failures per source and per person with growing delays, penalties and lockouts, in one
 * bounded table private to the listener, its only writer. Session processes ask over their
 * link (guard_session_*): they can add a failure or report a success, never name a source. */
#include "gatewayd/gatewayd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "gatewayd/registry_msg.h"

#define GUARD_ENTRIES      4096 /* sources and persons remembered; least recently used go first */
#define GUARD_NAME_MAX     GUARD_KEY_LEN
#define GUARD_REPORT_EVERY 10   /* seconds between log lines about dropped connections */
#define GUARD_SLOT_FORKING (-1) /* reserved before fork, the child's pid not known yet */

enum guard_kind {
	GUARD_SOURCE = 1,
	GUARD_PERSON = 2,
};

struct guard_entry {
	uint8_t kind; /* 0: free */
	char name[GUARD_NAME_MAX];
	int64_t last_seen;
	struct guard_count count;
};

/* A connection not yet authenticated: its source as the listener saw it at accept, and what
 * it has counted so far (forgiven when it authenticates). */
struct guard_startup {
	pid_t pid;                /* 0: free */
	int64_t since_ms;         /* CLOCK_MONOTONIC when accepted: the login grace runs from it */
	char key[GUARD_NAME_MAX]; /* its source, counted against per_source.max_startups */
	char addr[GUARD_SOURCE_LEN];
	char session[GUARD_SESSION_LEN]; /* as the session process said it (logs only) */
	int port;
	/* Its counted failures for the person it tried last. */
	char conn_person[GUARD_NAME_MAX];
	unsigned conn_source, conn_person_n;
};

/* The listener's: no other process reads or writes it. */
struct guard {
	struct guard_startup startups[GW_STARTUPS_MAX];
	struct guard_entry entries[GUARD_ENTRIES];
	int slot; /* the startup slot reserved last, until guard_forked() */
	/* Dropped connections since the last log line. */
	unsigned long dropped_locked, dropped_startups, dropped_source;
	time_t last_report;
	/* Lockouts begun here since guard_take_lockouts(), for the other gateways (store.h). */
	struct guard_lockout begun[GUARD_BEGUN_MAX];
	size_t nbegun;
};

/* ---- pure arithmetic ---- */

bool
guard_startups_drop(const struct gw_startups *m, unsigned unauth, unsigned rnd)
{
	unsigned p;

	if (unauth < (unsigned)m->start)
		return false;
	if (unauth >= (unsigned)m->full)
		return true;
	/* sshd's random early drop: rate % at start, rising linearly to 100 % at full. */
	p = (unsigned)m->rate +
	    (100u - (unsigned)m->rate) * (unauth - (unsigned)m->start) /
	        (unsigned)(m->full - m->start);
	return rnd < p;
}

bool
guard_count_locked(const struct guard_count *c, time_t now)
{
	return c->locked_until != 0 && (int64_t)now < c->locked_until;
}

bool
guard_count_fail(struct guard_count *c, int limit, const struct gw_lockout *l, time_t now)
{
	if (guard_count_locked(c, now))
		return false;
	if (c->window_start == 0 || (int64_t)now - c->window_start >= l->window) {
		c->failures = 0;
		c->window_start = now;
	}
	c->failures++;
	if (limit <= 0 || c->failures < (uint32_t)limit)
		return false;
	/* Locked: the count starts afresh when the lockout ends. */
	c->locked_until = (int64_t)now + l->duration;
	c->failures = 0;
	c->window_start = 0;
	return true;
}

void
guard_count_forgive(struct guard_count *c, unsigned n)
{
	c->failures = c->failures > n ? c->failures - n : 0;
}

unsigned
guard_delay_ms(const struct gw_lockout *l, unsigned failures)
{
	uint64_t d;

	if (failures == 0 || l->delay_ms <= 0)
		return 0;
	d = (uint64_t)l->delay_ms << (failures - 1 > 20 ? 20 : failures - 1);
	return d > (uint64_t)l->max_delay_ms ? (unsigned)l->max_delay_ms : (unsigned)d;
}

void
guard_count_penalise(struct guard_count *c, int seconds, int max, time_t now)
{
	int64_t from = c->locked_until > (int64_t)now ? c->locked_until : (int64_t)now;

	if (seconds <= 0)
		return;
	from += seconds;
	c->locked_until = from < (int64_t)now + max ? from : (int64_t)now + max;
}

bool
guard_source_key(const struct gw_per_source *ps, const char *addr, char out[GUARD_KEY_LEN])
{
	unsigned char a[16];
	char text[INET6_ADDRSTRLEN];
	int family, bits, full, i;
	size_t e;

	snprintf(out, GUARD_KEY_LEN, "%s", addr);
	/* The certificate source-address matcher, one entry at a time (config.c checked them). */
	for (e = 0; e < ps->nexempt; e++)
		if (sshcert_source_allows(ps->exempt[e], addr) == 1)
			return true;
	if (inet_pton(AF_INET, addr, a) == 1)
		family = AF_INET, full = 32, bits = ps->ipv4_prefix;
	else if (inet_pton(AF_INET6, addr, a) == 1)
		family = AF_INET6, full = 128, bits = ps->ipv6_prefix;
	else
		return false;
	if (bits <= 0 || bits >= full)
		return false;
	for (i = bits; i < full; i++)
		a[i / 8] &= (unsigned char)~(0x80u >> (i % 8));
	if (inet_ntop(family, a, text, sizeof(text)) != NULL)
		snprintf(out, GUARD_KEY_LEN, "%s/%d", text, bits);
	return false;
}

static int64_t
guard_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
guard_source_name(int fd, char out[GUARD_SOURCE_LEN], int *port)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	const void *addr;
	int p;

	snprintf(out, GUARD_SOURCE_LEN, "unknown");
	if (getpeername(fd, (struct sockaddr *)&ss, &len) != 0)
		return -1;
	if (ss.ss_family == AF_INET) {
		addr = &((const struct sockaddr_in *)&ss)->sin_addr;
		p = ntohs(((const struct sockaddr_in *)&ss)->sin_port);
	} else if (ss.ss_family == AF_INET6) {
		addr = &((const struct sockaddr_in6 *)&ss)->sin6_addr;
		p = ntohs(((const struct sockaddr_in6 *)&ss)->sin6_port);
	} else
		return -1;
	if (inet_ntop(ss.ss_family, addr, out, GUARD_SOURCE_LEN) == NULL)
		return -1;
	if (port != NULL)
		*port = p;
	return 0;
}

/* ---- the listener's table ---- */

struct guard *
guard_new(void)
{
	struct guard *g = xcalloc(1, sizeof(*g)); /* zeroed: every slot and entry is free */

	g->slot = -1;
	return g;
}

void
guard_free(struct guard *g)
{
	free(g);
}

/* Which entry a new one replaces: a free one, else the least recently seen unlocked one,
 * else (all locked) the one whose lockout ends first. */
static bool
guard_entry_evicts_before(const struct guard_entry *e, const struct guard_entry *v, time_t now)
{
	bool el, vl;

	if (v == NULL)
		return true;
	if (e->kind == 0 || v->kind == 0)
		return v->kind != 0;
	el = guard_count_locked(&e->count, now);
	vl = guard_count_locked(&v->count, now);
	if (el != vl)
		return !el;
	return el ? e->count.locked_until < v->count.locked_until : e->last_seen < v->last_seen;
}

/* The entry for (kind, name); with create, a new one in place of the first to evict. */
static struct guard_entry *
guard_entry_get(struct guard *g, enum guard_kind kind, const char *name, bool create, time_t now)
{
	struct guard_entry *e, *victim = NULL;
	size_t i;

	for (i = 0; i < GUARD_ENTRIES; i++) {
		e = &g->entries[i];
		if (e->kind == kind && strncmp(e->name, name, sizeof(e->name)) == 0)
			return e;
		if (create && guard_entry_evicts_before(e, victim, now))
			victim = e;
	}
	if (victim == NULL)
		return NULL;
	memset(victim, 0, sizeof(*victim));
	victim->kind = (uint8_t)kind;
	snprintf(victim->name, sizeof(victim->name), "%s", name);
	victim->last_seen = now;
	return victim;
}

static void
guard_report_drops(struct guard *g, time_t now)
{
	/* The first drop after a quiet spell at once, then a sum at most every few seconds. */
	if (now - g->last_report < GUARD_REPORT_EVERY ||
	    g->dropped_locked + g->dropped_startups + g->dropped_source == 0)
		return;
	info_f("dropped %lu connections from locked-out sources, %lu past max_startups and %lu "
	       "past per_source.max_startups (%u waiting to authenticate)",
	    g->dropped_locked, g->dropped_startups, g->dropped_source, guard_unauthenticated(g));
	g->dropped_locked = g->dropped_startups = g->dropped_source = 0;
	g->last_report = now;
}

/* Slots in use, and of them those of source key (NULL: none); a free one in *free_slot. */
static unsigned
guard_count_startups(const struct guard *g, const char *key, unsigned *of_key, int *free_slot)
{
	unsigned n = 0;
	size_t i;

	*free_slot = -1;
	if (of_key != NULL)
		*of_key = 0;
	for (i = 0; i < GW_STARTUPS_MAX; i++) {
		if (g->startups[i].pid != 0) {
			n++;
			if (key != NULL && strncmp(g->startups[i].key, key, GUARD_NAME_MAX) == 0)
				(*of_key)++;
		} else if (*free_slot == -1)
			*free_slot = (int)i;
	}
	return n;
}

enum guard_admit
guard_admit(struct guard *g, const struct gw_config *cfg, const char *source, int port, time_t now)
{
	enum guard_admit verdict = GUARD_ADMIT;
	struct guard_startup *st;
	struct guard_entry *e;
	char key[GUARD_KEY_LEN];
	unsigned unauth, mine;
	bool exempt = guard_source_key(&cfg->per_source, source, key);
	int slot;

	g->slot = -1;
	if (!exempt && (e = guard_entry_get(g, GUARD_SOURCE, key, false, now)) != NULL &&
	    guard_count_locked(&e->count, now)) {
		e->last_seen = now;
		verdict = GUARD_DROP_LOCKED;
	} else {
		unauth = guard_count_startups(g, key, &mine, &slot);
		/* The per-source cap sits below max_startups' start: one source alone never
		 * starts the random drops that would hit everyone else. */
		if (!exempt && cfg->per_source.max_startups > 0 &&
		    mine >= (unsigned)cfg->per_source.max_startups)
			verdict = GUARD_DROP_SOURCE;
		else if (slot == -1 ||
		    guard_startups_drop(&cfg->max_startups, unauth, arc4random_uniform(100)))
			verdict = GUARD_DROP_STARTUPS;
		else {
			st = &g->startups[slot];
			memset(st, 0, sizeof(*st));
			st->pid = GUARD_SLOT_FORKING;
			st->since_ms = guard_now_ms();
			snprintf(st->key, sizeof(st->key), "%s", key);
			snprintf(st->addr, sizeof(st->addr), "%s", source);
			st->port = port;
			g->slot = slot;
		}
	}
	if (verdict == GUARD_DROP_LOCKED)
		g->dropped_locked++;
	else if (verdict == GUARD_DROP_STARTUPS)
		g->dropped_startups++;
	else if (verdict == GUARD_DROP_SOURCE)
		g->dropped_source++;
	guard_report_drops(g, now);
	return verdict;
}

void
guard_forked(struct guard *g, pid_t pid)
{
	pid_t *s;

	if (g->slot < 0)
		return;
	s = &g->startups[g->slot].pid;
	if (*s == GUARD_SLOT_FORKING)
		*s = pid > 0 ? pid : 0;
	g->slot = -1;
}

void
guard_reaped(struct guard *g, pid_t pid)
{
	size_t i;

	for (i = 0; i < GW_STARTUPS_MAX; i++)
		if (g->startups[i].pid == pid)
			g->startups[i].pid = 0;
}

unsigned
guard_unauthenticated(struct guard *g)
{
	int slot;

	return guard_count_startups(g, NULL, NULL, &slot);
}

/* The slot's login grace ends at since_ms + grace; a slot still forking has not started. */
static bool
guard_startup_waiting(const struct guard_startup *st)
{
	return st->pid > 0;
}

int
guard_expire_due_ms(struct guard *g, const struct gw_config *cfg)
{
	int64_t now = guard_now_ms(), due = -1, end;
	size_t i;

	for (i = 0; i < GW_STARTUPS_MAX; i++) {
		if (!guard_startup_waiting(&g->startups[i]))
			continue;
		end = g->startups[i].since_ms + (int64_t)cfg->login_grace_time * 1000;
		if (due == -1 || end < due)
			due = end;
	}
	if (due == -1)
		return -1;
	return due <= now ? 0 : (int)(due - now);
}

size_t
guard_expire(struct guard *g, const struct gw_config *cfg, struct guard_expired *out, size_t max)
{
	const struct gw_per_source *ps = &cfg->per_source;
	int64_t now_ms = guard_now_ms();
	time_t now = time(NULL);
	struct guard_startup *st;
	struct guard_entry *e;
	struct guard_expired *x;
	size_t i, n = 0;
	bool exempt;

	for (i = 0; i < GW_STARTUPS_MAX && n < max; i++) {
		st = &g->startups[i];
		if (!guard_startup_waiting(st) ||
		    now_ms < st->since_ms + (int64_t)cfg->login_grace_time * 1000)
			continue;
		/* The slot is freed only here or by the listener reading the process's
		 * "authenticated" (which that process waits for): what is ended here had not
		 * authenticated. */
		kill(st->pid, SIGKILL);
		x = &out[n++];
		memset(x, 0, sizeof(*x));
		x->pid = st->pid;
		x->port = st->port;
		snprintf(x->addr, sizeof(x->addr), "%s", st->addr);
		snprintf(x->session, sizeof(x->session), "%s", st->session);
		exempt = guard_source_key(ps, st->addr, x->key);
		if (!exempt && ps->grace_penalty > 0 &&
		    (e = guard_entry_get(g, GUARD_SOURCE, x->key, true, now)) != NULL) {
			e->last_seen = now;
			guard_count_penalise(&e->count, ps->grace_penalty, ps->max_penalty, now);
			x->refused_until = (time_t)e->count.locked_until;
		}
		st->pid = 0;
	}
	return n;
}

bool
guard_locked(struct guard *g, const char *source, const char *person, time_t now)
{
	struct guard_entry *e;
	bool locked = false;

	if (source[0] != '\0' && (e = guard_entry_get(g, GUARD_SOURCE, source, false, now)) != NULL)
		locked = guard_count_locked(&e->count, now);
	if (!locked && person[0] != '\0' &&
	    (e = guard_entry_get(g, GUARD_PERSON, person, false, now)) != NULL)
		locked = guard_count_locked(&e->count, now);
	return locked;
}

/* One kind's share of a failure; returns whether the failure was counted (not locked). */
static bool
guard_fail_one(struct guard *g, enum guard_kind kind, const char *name, int limit,
    const struct gw_lockout *l, time_t now, bool *started, unsigned *failures, bool *locked)
{
	struct guard_entry *e = guard_entry_get(g, kind, name, true, now);

	if (e == NULL)
		return false;
	e->last_seen = now;
	if (guard_count_locked(&e->count, now)) {
		*locked = true;
		return false;
	}
	*started = guard_count_fail(&e->count, limit, l, now);
	*failures = *started ? (unsigned)limit : e->count.failures;
	*locked = *started;
	return true;
}

static void
guard_begun(struct guard *g, const char *scope, const char *key, time_t until)
{
	struct guard_lockout *b;

	if (g->nbegun == GUARD_BEGUN_MAX)
		return; /* not taken for a while: no store wants them */
	b = &g->begun[g->nbegun++];
	snprintf(b->scope, sizeof(b->scope), "%s", scope);
	snprintf(b->key, sizeof(b->key), "%s", key);
	b->until = until;
}

size_t
guard_take_lockouts(struct guard *g, struct guard_lockout *out, size_t max)
{
	size_t n = g->nbegun < max ? g->nbegun : max;

	memcpy(out, g->begun, n * sizeof(*out));
	memmove(g->begun, g->begun + n, (g->nbegun - n) * sizeof(*out));
	g->nbegun -= n;
	return n;
}

bool
guard_impose(struct guard *g, const char *scope, const char *key, time_t until)
{
	enum guard_kind kind = strcmp(scope, "source") == 0 ? GUARD_SOURCE : GUARD_PERSON;
	time_t now = time(NULL);
	struct guard_entry *e;

	if ((strcmp(scope, "source") != 0 && strcmp(scope, "person") != 0) || key[0] == '\0' ||
	    until <= now || (e = guard_entry_get(g, kind, key, true, now)) == NULL ||
	    e->count.locked_until >= (int64_t)until)
		return false;
	e->count.locked_until = (int64_t)until;
	e->count.failures = 0;
	e->count.window_start = 0;
	e->last_seen = now;
	return true;
}

/* One failure of source (an address) and person; conn (may be NULL) keeps the connection's
 * own counts for guard_conn_authenticated(). */
static void
guard_fail(struct guard *g, const struct gw_config *cfg, struct guard_startup *conn,
    const char *source, const char *person, time_t now, struct guard_failure *out)
{
	const struct gw_lockout *l = &cfg->lockout;
	bool src_locked = false, person_locked = false, counted = false;
	char key[GUARD_KEY_LEN];
	bool exempt = guard_source_key(&cfg->per_source, source, key);
	unsigned worst;

	memset(out, 0, sizeof(*out));
	if (conn != NULL && strncmp(conn->conn_person, person, sizeof(conn->conn_person)) != 0) {
		snprintf(conn->conn_person, sizeof(conn->conn_person), "%s", person);
		conn->conn_source = conn->conn_person_n = 0;
	}
	if (!exempt &&
	    (counted = guard_fail_one(g, GUARD_SOURCE, key, l->failures, l, now,
	         &out->source_locked, &out->source_failures, &src_locked)) &&
	    conn != NULL)
		conn->conn_source++;
	/* A source already locked out counts against nobody: its connections that were accepted
	 * before the lockout would otherwise go on guessing at the person (and lock them out). */
	if (person[0] != '\0' && (exempt || counted) &&
	    guard_fail_one(g, GUARD_PERSON, person, l->person_failures, l, now, &out->person_locked,
	        &out->person_failures, &person_locked) &&
	    conn != NULL)
		conn->conn_person_n++;
	/* Locked before this failure: the connection ends. The failure that starts the lockout
	 * is refused like any other, so the client still reads why. */
	out->source_refused = src_locked && !out->source_locked;
	if (out->source_locked || out->person_locked)
		out->until = now + l->duration;
	if (out->source_locked)
		guard_begun(g, "source", key, out->until);
	if (out->person_locked)
		guard_begun(g, "person", person, out->until);
	worst = out->source_failures > out->person_failures ? out->source_failures
	                                                    : out->person_failures;
	out->delay_ms =
	    src_locked || person_locked ? (unsigned)l->max_delay_ms : guard_delay_ms(l, worst);
}

void
guard_record_failure(struct guard *g, const struct gw_config *cfg, const char *source,
    const char *person, time_t now, struct guard_failure *out)
{
	guard_fail(g, cfg, NULL, source, person, now, out);
}

/* ---- the listener, for its session processes ---- */

/* The startup slot of session process pid: it exists from accept until that process
 * authenticates, ends or is ended. */
static struct guard_startup *
guard_conn(struct guard *g, pid_t pid)
{
	size_t i;

	if (pid <= 0)
		return NULL;
	for (i = 0; i < GW_STARTUPS_MAX; i++)
		if (g->startups[i].pid == pid)
			return &g->startups[i];
	return NULL;
}

void
guard_conn_begin(struct guard *g, pid_t pid, const char *session)
{
	struct guard_startup *st = guard_conn(g, pid);

	if (st != NULL)
		snprintf(st->session, sizeof(st->session), "%s", session);
}

bool
guard_conn_locked(
    struct guard *g, const struct gw_config *cfg, pid_t pid, const char *person, time_t now)
{
	struct guard_startup *st = guard_conn(g, pid);
	char key[GUARD_KEY_LEN];

	if (st == NULL)
		return true; /* no connection waiting to authenticate: nothing to let in */
	if (guard_source_key(&cfg->per_source, st->addr, key))
		key[0] = '\0'; /* exempt: only its persons count */
	return guard_locked(g, key, person, now);
}

void
guard_conn_failure(struct guard *g, const struct gw_config *cfg, pid_t pid, const char *person,
    time_t now, struct guard_failure *out)
{
	struct guard_startup *st = guard_conn(g, pid);

	if (st == NULL) {
		memset(out, 0, sizeof(*out));
		out->source_refused = true; /* it may try no further */
		return;
	}
	guard_fail(g, cfg, st, st->addr, person, now, out);
}

void
guard_conn_authenticated(
    struct guard *g, const struct gw_config *cfg, pid_t pid, const char *person)
{
	struct guard_startup *st = guard_conn(g, pid);
	struct guard_entry *e;
	char key[GUARD_KEY_LEN];
	time_t now = time(NULL);

	if (st == NULL)
		return;
	/* Only what this connection counted, and only for the person it authenticated as:
	 * typos and agent keys tried first do not lock out a person who gets in. */
	if (strncmp(st->conn_person, person, sizeof(st->conn_person)) == 0) {
		guard_source_key(&cfg->per_source, st->addr, key);
		if ((e = guard_entry_get(g, GUARD_SOURCE, key, false, now)) != NULL)
			guard_count_forgive(&e->count, st->conn_source);
		if ((e = guard_entry_get(g, GUARD_PERSON, person, false, now)) != NULL)
			guard_count_forgive(&e->count, st->conn_person_n);
	}
	st->pid = 0; /* its startup slot is free: the login grace no longer applies */
}

/* The person a request names: "" (not known yet) or a person id's bytes. */
static bool
guard_request_person(json_t *msg, char out[GUARD_KEY_LEN])
{
	return registry_msg_string(msg, "person", out, GUARD_KEY_LEN);
}

json_t *
guard_answer(struct guard *g, const struct gw_config *cfg, pid_t pid, json_t *msg)
{
	const char *type = registry_msg_type(msg);
	char person[GUARD_KEY_LEN], session[GUARD_SESSION_LEN];
	struct guard_failure f;
	time_t now = time(NULL);

	if (strcmp(type, "guard_begin") == 0) {
		if (registry_msg_string(msg, "session", session, sizeof(session)))
			guard_conn_begin(g, pid, session);
		return NULL;
	}
	if (!guard_request_person(msg, person)) {
		warn_f("session process %ld: malformed %s request", (long)pid, type);
		person[0] = '\0';
		/* Answered as for an unknown connection: locked, refused. */
		pid = -1;
	}
	if (strcmp(type, "guard_locked") == 0)
		return json_pack("{s:s, s:b}", "type", type, "locked",
		    guard_conn_locked(g, cfg, pid, person, now));
	if (strcmp(type, "guard_failure") == 0) {
		guard_conn_failure(g, cfg, pid, person, now, &f);
		return json_pack("{s:s, s:i, s:b, s:b, s:i, s:i, s:I, s:b}", "type", type,
		    "delay_ms", (int)f.delay_ms, "source_locked", f.source_locked, "person_locked",
		    f.person_locked, "source_failures", (int)f.source_failures, "person_failures",
		    (int)f.person_failures, "until", (json_int_t)f.until, "source_refused",
		    f.source_refused);
	}
	if (strcmp(type, "guard_authenticated") == 0) {
		if (pid > 0)
			guard_conn_authenticated(g, cfg, pid, person);
		return json_pack("{s:s}", "type", type);
	}
	return NULL;
}

/* ---- the session process: asks the listener over its link ---- */

bool
guard_session_locked(struct session *s)
{
	json_t *answer;
	bool locked;

	if (registry_link_call(s->link,
	        json_pack("{s:s, s:s}", "type", "guard_locked", "person", s->uname.person), &answer,
	        NULL) != 0)
		return true; /* no answer: fail closed */
	locked = !json_is_false(json_object_get(answer, "locked"));
	json_decref(answer);
	return locked;
}

void
guard_session_authenticated(struct session *s)
{
	json_t *answer;

	/* Waited for: once answered, the listener no longer ends it at the grace time. */
	if (registry_link_call(s->link,
	        json_pack("{s:s, s:s}", "type", "guard_authenticated", "person", s->uname.person),
	        &answer, NULL) == 0)
		json_decref(answer);
}

void
guard_session_begin(struct session *s)
{
	registry_link_send(
	    s->link, json_pack("{s:s, s:s}", "type", "guard_begin", "session", s->id));
}

static void
guard_audit_lockout(
    struct session *s, const char *scope, const char *who, unsigned failures, time_t until)
{
	char at[GW_TIME_UTC_LEN];

	time_format_utc(until, at);
	info_f("%s: %s %s locked out until %s after %u failed attempts", s->id, scope, who, at,
	    failures);
	session_audit(s, "lockout",
	    audit_pack("{s:s, s:s, s:I, s:s, s:I}", "scope", scope, scope, who, "failures",
	        (json_int_t)failures, "until", at, "window_s", (json_int_t)s->cfg->lockout.window));
}

/* The listener's answer to a failure; an answer that cannot be read ends the connection. */
static void
guard_failure_read(json_t *answer, struct guard_failure *f)
{
	json_int_t delay = json_integer_value(json_object_get(answer, "delay_ms"));

	memset(f, 0, sizeof(*f));
	f->delay_ms = delay > 0 && delay < 600000 ? (unsigned)delay : 0;
	f->source_locked = json_is_true(json_object_get(answer, "source_locked"));
	f->person_locked = json_is_true(json_object_get(answer, "person_locked"));
	f->source_failures =
	    (unsigned)json_integer_value(json_object_get(answer, "source_failures"));
	f->person_failures =
	    (unsigned)json_integer_value(json_object_get(answer, "person_failures"));
	f->until = (time_t)json_integer_value(json_object_get(answer, "until"));
	f->source_refused = !json_is_false(json_object_get(answer, "source_refused"));
}

bool
guard_session_failure(struct session *s)
{
	struct guard_failure f;
	struct timespec ts;
	char key[GUARD_KEY_LEN];
	json_t *answer;

	if (registry_link_call(s->link,
	        json_pack("{s:s, s:s}", "type", "guard_failure", "person", s->uname.person),
	        &answer, NULL) != 0)
		return true; /* the listener cannot count it: the connection ends (fail closed) */
	guard_failure_read(answer, &f);
	json_decref(answer);
	guard_source_key(&s->cfg->per_source, s->client_addr, key);
	if (f.source_locked)
		guard_audit_lockout(s, "source", key, f.source_failures, f.until);
	if (f.person_locked)
		guard_audit_lockout(s, "person", s->uname.person, f.person_failures, f.until);
	if (f.source_refused)
		return true; /* no delay: the connection ends */
	/* Only this connection waits: each connection is its own process (R13). */
	ts.tv_sec = f.delay_ms / 1000;
	ts.tv_nsec = (long)(f.delay_ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
	return false;
}
