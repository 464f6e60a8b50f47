/* guard.c: pre-authentication limits: max_startups, and failures per source and per person
 * with growing delays and lockouts, in one bounded table shared (MAP_SHARED, robust mutex)
 * by the listener and its session processes. Never sleeps or blocks while holding the lock. */
#include "gatewayd/gatewayd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "common/xmalloc.h"

#define GUARD_ENTRIES      4096 /* sources and persons remembered; least recently used go first */
#define GUARD_NAME_MAX     72   /* an IPv6 address text or a person id, with NUL */
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

/* Everything here is shared between processes: fixed size, no pointers. */
struct guard_shared {
	pthread_mutex_t lock; /* robust: a process killed while holding it does not wedge it */
	pid_t startups[GW_STARTUPS_MAX]; /* connections not yet authenticated; 0: free */
	struct guard_entry entries[GUARD_ENTRIES];
};

/* Private to each process (copied by fork). */
struct guard {
	struct guard_shared *sh;
	int slot; /* the startup slot reserved last (listener) or this connection's (session) */
	/* This connection's counted failures for the person it tried last (session only). */
	char conn_person[GUARD_NAME_MAX];
	unsigned conn_source, conn_person_n;
	/* Dropped connections since the last log line (listener only). */
	unsigned long dropped_locked, dropped_startups;
	time_t last_report;
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

/* ---- the shared table ---- */

struct guard *
guard_new(void)
{
	pthread_mutexattr_t attr;
	struct guard_shared *sh;
	struct guard *g;

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		error_f("mmap: %s", strerror(errno));
		return NULL;
	}
	/* The mapping comes zeroed: every slot and entry is free. */
	if (pthread_mutexattr_init(&attr) != 0 ||
	    pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED) != 0 ||
	    pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST) != 0 ||
	    pthread_mutex_init(&sh->lock, &attr) != 0) {
		error_f("cannot make a process-shared robust mutex");
		munmap(sh, sizeof(*sh));
		return NULL;
	}
	pthread_mutexattr_destroy(&attr);
	g = xcalloc(1, sizeof(*g));
	g->sh = sh;
	g->slot = -1;
	return g;
}

/* Unmaps this process's view; the mutex lives on in the others. */
void
guard_free(struct guard *g)
{
	if (g == NULL)
		return;
	munmap(g->sh, sizeof(*g->sh));
	free(g);
}

static int
guard_lock(struct guard *g)
{
	int rc = pthread_mutex_lock(&g->sh->lock);

	if (rc == EOWNERDEAD) {
		/* A process died mid-update: at worst one entry's counters are off by one. */
		warn_f("a session process died holding the limits table; continuing");
		pthread_mutex_consistent(&g->sh->lock);
		rc = 0;
	}
	if (rc != 0)
		error_f("cannot lock the limits table: %s", strerror(rc));
	return rc == 0 ? 0 : -1;
}

static void
guard_unlock(struct guard *g)
{
	pthread_mutex_unlock(&g->sh->lock);
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
		e = &g->sh->entries[i];
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
	    g->dropped_locked + g->dropped_startups == 0)
		return;
	info_f("dropped %lu connections from locked-out sources and %lu past max_startups "
	       "(%u waiting to authenticate)",
	    g->dropped_locked, g->dropped_startups, guard_unauthenticated(g));
	g->dropped_locked = g->dropped_startups = 0;
	g->last_report = now;
}

static unsigned
guard_count_startups(const struct guard_shared *sh, int *free_slot)
{
	unsigned n = 0;
	size_t i;

	*free_slot = -1;
	for (i = 0; i < GW_STARTUPS_MAX; i++) {
		if (sh->startups[i] != 0)
			n++;
		else if (*free_slot == -1)
			*free_slot = (int)i;
	}
	return n;
}

enum guard_admit
guard_admit(struct guard *g, const struct gw_config *cfg, const char *source, time_t now)
{
	enum guard_admit verdict = GUARD_ADMIT;
	struct guard_entry *e;
	unsigned unauth;
	int slot;

	g->slot = -1;
	if (guard_lock(g) != 0)
		return GUARD_DROP_STARTUPS; /* fail closed */
	if ((e = guard_entry_get(g, GUARD_SOURCE, source, false, now)) != NULL &&
	    guard_count_locked(&e->count, now)) {
		e->last_seen = now;
		verdict = GUARD_DROP_LOCKED;
	} else {
		unauth = guard_count_startups(g->sh, &slot);
		if (slot == -1 ||
		    guard_startups_drop(&cfg->max_startups, unauth, arc4random_uniform(100)))
			verdict = GUARD_DROP_STARTUPS;
		else {
			g->sh->startups[slot] = GUARD_SLOT_FORKING;
			g->slot = slot;
		}
	}
	guard_unlock(g);
	if (verdict == GUARD_DROP_LOCKED)
		g->dropped_locked++;
	else if (verdict == GUARD_DROP_STARTUPS)
		g->dropped_startups++;
	guard_report_drops(g, now);
	return verdict;
}

void
guard_forked(struct guard *g, pid_t pid)
{
	pid_t *s;

	if (g->slot < 0 || guard_lock(g) != 0)
		return;
	s = &g->sh->startups[g->slot];
	/* The child may have authenticated and freed the slot already. */
	if (*s == GUARD_SLOT_FORKING)
		*s = pid > 0 ? pid : 0;
	guard_unlock(g);
	g->slot = -1;
}

void
guard_reaped(struct guard *g, pid_t pid)
{
	size_t i;

	if (guard_lock(g) != 0)
		return;
	for (i = 0; i < GW_STARTUPS_MAX; i++)
		if (g->sh->startups[i] == pid)
			g->sh->startups[i] = 0;
	guard_unlock(g);
}

unsigned
guard_unauthenticated(struct guard *g)
{
	unsigned n;
	int slot;

	if (guard_lock(g) != 0)
		return 0;
	n = guard_count_startups(g->sh, &slot);
	guard_unlock(g);
	return n;
}

bool
guard_locked(struct guard *g, const char *source, const char *person, time_t now)
{
	struct guard_entry *e;
	bool locked = false;

	if (guard_lock(g) != 0)
		return true; /* fail closed */
	if ((e = guard_entry_get(g, GUARD_SOURCE, source, false, now)) != NULL)
		locked = guard_count_locked(&e->count, now);
	if (!locked && person[0] != '\0' &&
	    (e = guard_entry_get(g, GUARD_PERSON, person, false, now)) != NULL)
		locked = guard_count_locked(&e->count, now);
	guard_unlock(g);
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

void
guard_record_failure(struct guard *g, const struct gw_config *cfg, const char *source,
    const char *person, time_t now, struct guard_failure *out)
{
	const struct gw_lockout *l = &cfg->lockout;
	bool src_locked = false, person_locked = false;
	unsigned worst;

	memset(out, 0, sizeof(*out));
	if (strncmp(g->conn_person, person, sizeof(g->conn_person)) != 0) {
		snprintf(g->conn_person, sizeof(g->conn_person), "%s", person);
		g->conn_source = g->conn_person_n = 0;
	}
	if (guard_lock(g) != 0)
		return;
	if (guard_fail_one(g, GUARD_SOURCE, source, l->failures, l, now, &out->source_locked,
	        &out->source_failures, &src_locked))
		g->conn_source++;
	if (person[0] != '\0' &&
	    guard_fail_one(g, GUARD_PERSON, person, l->person_failures, l, now, &out->person_locked,
	        &out->person_failures, &person_locked))
		g->conn_person_n++;
	guard_unlock(g);
	if (out->source_locked || out->person_locked)
		out->until = now + l->duration;
	worst = out->source_failures > out->person_failures ? out->source_failures
	                                                    : out->person_failures;
	out->delay_ms =
	    src_locked || person_locked ? (unsigned)l->max_delay_ms : guard_delay_ms(l, worst);
}

void
guard_authenticated(struct guard *g, const char *source, const char *person)
{
	struct guard_entry *e;
	pid_t *s;
	time_t now = time(NULL);

	if (guard_lock(g) != 0)
		return;
	if (g->slot >= 0) {
		s = &g->sh->startups[g->slot];
		if (*s == GUARD_SLOT_FORKING || *s == getpid())
			*s = 0;
		g->slot = -1;
	}
	if (strncmp(g->conn_person, person, sizeof(g->conn_person)) == 0) {
		if ((e = guard_entry_get(g, GUARD_SOURCE, source, false, now)) != NULL)
			guard_count_forgive(&e->count, g->conn_source);
		if ((e = guard_entry_get(g, GUARD_PERSON, person, false, now)) != NULL)
			guard_count_forgive(&e->count, g->conn_person_n);
	}
	guard_unlock(g);
	g->conn_source = g->conn_person_n = 0;
}

bool
guard_session_locked(struct session *s)
{
	return guard_locked(s->guard, s->client_addr, s->uname.person, time(NULL));
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

void
guard_session_failure(struct session *s)
{
	struct guard_failure f;
	struct timespec ts;

	guard_record_failure(s->guard, s->cfg, s->client_addr, s->uname.person, time(NULL), &f);
	if (f.source_locked)
		guard_audit_lockout(s, "source", s->client_addr, f.source_failures, f.until);
	if (f.person_locked)
		guard_audit_lockout(s, "person", s->uname.person, f.person_failures, f.until);
	/* Only this connection waits: each connection is its own process (R13). */
	ts.tv_sec = f.delay_ms / 1000;
	ts.tv_nsec = (long)(f.delay_ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}
