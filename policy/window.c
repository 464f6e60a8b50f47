/* window.c: access windows (R1): whether a time lies inside a vendor's windows, until
 * when, and when the next one opens. Never reads the clock; the caller passes "now".
 *
 * Zone conversion uses glibc's localtime_r() over the system tzdata (/usr/share/zoneinfo,
 * the tzdata package), with TZ switched for the call and restored after it. ICU was the
 * alternative, but it carries its own copy of the zone rules; the plant's operators update
 * tzdata, so that is the copy the gateway must follow. Switching TZ is process-global, which
 * is fine for gatewayd's single-threaded per-connection processes and for gatewayctl.
 *
 * DST: a window boundary is the first instant at which the wall clock shows that time or
 * later. In a gap (02:30 on the spring-forward night in Berlin) that is the jump itself
 * (03:00 CEST); in an overlap (02:30 on the fall-back night) it is the first 02:30 (CEST). */
#include "policy/policy.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/xmalloc.h"

#define WINDOW_TZ_NAME_MAX 128
#define WINDOW_MAX_STEPS   1000 /* bound on the loops that follow chained windows */

struct window_span {
	time_t open, close; /* [open, close) */
};

/* The TZ value in force before the first switch, restored by tz_restore(). */
struct tz_guard {
	char *saved;
	bool had;
	bool switched;
	const char *current;
};

static void
tz_use(struct tz_guard *g, const char *tz)
{
	char *val;

	if (g->current != NULL && strcmp(g->current, tz) == 0)
		return;
	if (!g->switched) {
		const char *old = getenv("TZ");

		g->had = old != NULL;
		g->saved = old != NULL ? xstrdup(old) : NULL;
		g->switched = true;
	}
	/* ":" asks glibc for the zone file only, never a POSIX rule string. */
	xasprintf(&val, ":%s", tz);
	setenv("TZ", val, 1);
	free(val);
	tzset();
	g->current = tz;
}

static void
tz_restore(struct tz_guard *g)
{
	if (!g->switched)
		return;
	if (g->had)
		setenv("TZ", g->saved, 1);
	else
		unsetenv("TZ");
	tzset();
	free(g->saved);
	memset(g, 0, sizeof(*g));
}

/* The wall clock of the current zone at t, as seconds of a UTC-like count. */
static time_t
tz_wall(time_t t)
{
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL)
		return t;
	return t + tm.tm_gmtoff;
}

/* The first instant at which the wall clock shows wall or later (see the header). */
static time_t
tz_instant(time_t wall)
{
	static const time_t probes[] = { -86400, 0, 86400 };
	time_t best = 0, lo = 0, hi = 0;
	bool found = false;
	size_t i;

	for (i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		time_t off = tz_wall(wall + probes[i]) - (wall + probes[i]);
		time_t c = wall - off;

		if (i == 0 || c < lo)
			lo = c;
		if (i == 0 || c > hi)
			hi = c;
		if (tz_wall(c) == wall && (!found || c < best)) {
			best = c;
			found = true;
		}
	}
	if (found)
		return best;
	/* A gap: the wall clock jumps over wall between lo and hi; find the jump. */
	while (lo < hi) {
		time_t mid = lo + (hi - lo) / 2;

		if (tz_wall(mid) >= wall)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* Local midnight of the day `delta` days after the wall date of t, on the wall scale. */
static time_t
wall_midnight(time_t t, int delta, int *wday)
{
	struct tm tm;
	time_t wall = tz_wall(t);

	gmtime_r(&wall, &tm);
	tm.tm_mday += delta;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	wall = timegm(&tm); /* plain calendar arithmetic; normalises the day */
	*wday = tm.tm_wday;
	return wall;
}

static struct window_span
window_span_on(const struct gw_window *w, time_t midnight)
{
	struct window_span s;
	int end = w->end <= w->start ? 1440 + w->end : w->end;

	s.open = tz_instant(midnight + (time_t)w->start * 60);
	s.close = tz_instant(midnight + (time_t)end * 60);
	return s;
}

/* The instance of w containing t, if any. A recurring instance lasts at most a day
 * (plus a DST hour), so it started on t's wall date or the one before. */
static bool
window_span_at(struct tz_guard *g, const struct gw_window *w, time_t t, struct window_span *out)
{
	int k, wday;

	if (w->days == 0) {
		out->open = w->from;
		out->close = w->to;
		return w->from <= t && t < w->to;
	}
	tz_use(g, w->tz);
	for (k = -1; k <= 0; k++) {
		time_t midnight = wall_midnight(t, k, &wday);

		if ((w->days & (1u << wday)) == 0)
			continue;
		*out = window_span_on(w, midnight);
		if (out->open <= t && t < out->close)
			return true;
	}
	return false;
}

/* The first instance of w opening after t; false if none within eight days. */
static bool
window_span_next(struct tz_guard *g, const struct gw_window *w, time_t t, struct window_span *out)
{
	int k, wday;

	if (w->days == 0) {
		out->open = w->from;
		out->close = w->to;
		return w->from > t;
	}
	tz_use(g, w->tz);
	for (k = 0; k <= 8; k++) {
		time_t midnight = wall_midnight(t, k, &wday);

		if ((w->days & (1u << wday)) == 0)
			continue;
		*out = window_span_on(w, midnight);
		if (out->open > t)
			return true;
	}
	return false;
}

/* Whether the set contains t; *close is the latest end of the instances containing t. */
static bool
set_contains(struct tz_guard *g, const struct gw_window_set *set, time_t t, time_t *close)
{
	struct window_span s;
	bool in = false;
	size_t i;

	for (i = 0; i < set->n; i++) {
		if (window_span_at(g, &set->windows[i], t, &s)) {
			if (!in || s.close > *close)
				*close = s.close;
			in = true;
		}
	}
	return in;
}

/* Follows windows that chain (one opens where another closes) up to limit. */
static time_t
set_covered_until(struct tz_guard *g, const struct gw_window_set *set, time_t t, time_t limit)
{
	time_t end = t, next;
	int steps;

	for (steps = 0; steps < WINDOW_MAX_STEPS && end < limit; steps++) {
		if (!set_contains(g, set, end, &next) || next <= end)
			break;
		end = next;
	}
	return end < limit ? end : limit;
}

bool
window_levels_contain(const struct gw_window_set *const *levels, size_t nlevels, time_t now,
    time_t limit, time_t *ends_at)
{
	struct tz_guard g = { 0 };
	time_t end = limit, e;
	bool in = nlevels > 0 && levels[0]->n > 0;
	size_t i;

	for (i = 0; in && i < nlevels; i++) {
		if (levels[i]->n == 0)
			continue;
		if (!set_contains(&g, levels[i], now, &e)) {
			in = false;
			break;
		}
		e = set_covered_until(&g, levels[i], now, limit);
		if (e < end)
			end = e;
	}
	tz_restore(&g);
	if (in && ends_at != NULL)
		*ends_at = end;
	return in;
}

time_t
window_levels_next_open(const struct gw_window_set *const *levels, size_t nlevels, time_t now,
    time_t horizon, const struct gw_window **opener)
{
	struct tz_guard g = { 0 };
	struct window_span s;
	time_t c = now + 1, dummy, found = 0;
	int steps;
	size_t i, j;

	*opener = NULL;
	if (nlevels == 0 || levels[0]->n == 0)
		return 0;
	/* Each closed level must open first; the intersection opens at the latest of them. */
	for (steps = 0; steps < WINDOW_MAX_STEPS && c <= horizon; steps++) {
		const struct gw_window *last = NULL;
		time_t latest = c;
		bool all = true;

		for (i = 0; i < nlevels; i++) {
			const struct gw_window *w = NULL;
			time_t open = 0;

			if (levels[i]->n == 0 || set_contains(&g, levels[i], c, &dummy))
				continue;
			all = false;
			for (j = 0; j < levels[i]->n; j++) {
				if (window_span_next(&g, &levels[i]->windows[j], c, &s) &&
				    (w == NULL || s.open < open)) {
					open = s.open;
					w = &levels[i]->windows[j];
				}
			}
			if (w == NULL) { /* this level never opens again */
				latest = horizon + 1;
				break;
			}
			if (open > latest) {
				latest = open;
				last = w;
			}
		}
		if (all) {
			found = c;
			/* Opening at now + 1: the vendor's window that contains it is the one to
			 * name. */
			for (j = 0; *opener == NULL && j < levels[0]->n; j++)
				if (window_span_at(&g, &levels[0]->windows[j], c, &s))
					*opener = &levels[0]->windows[j];
			break;
		}
		c = latest;
		*opener = last;
	}
	tz_restore(&g);
	if (found == 0)
		*opener = NULL;
	return found;
}

void
window_format_open(const struct gw_window *w, time_t at, time_t now, char *buf, size_t len)
{
	static const char *const wdays[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	struct tz_guard g = { 0 };
	struct tm tm;

	if (w->days == 0) {
		gmtime_r(&at, &tm);
		snprintf(buf, len, "%04d-%02d-%02d %02d:%02d UTC", tm.tm_year + 1900, tm.tm_mon + 1,
		    tm.tm_mday, tm.tm_hour, tm.tm_min);
		return;
	}
	tz_use(&g, w->tz);
	localtime_r(&at, &tm);
	tz_restore(&g);
	/* Within the coming week the weekday names the day; beyond it the date does. */
	if (at - now < 6 * 86400)
		snprintf(
		    buf, len, "%s %02d:%02d %s", wdays[tm.tm_wday], tm.tm_hour, tm.tm_min, w->tz);
	else
		snprintf(buf, len, "%s %04d-%02d-%02d %02d:%02d %s", wdays[tm.tm_wday],
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, w->tz);
}

void
time_format_in_zone(const char *tz, time_t t, const char *fmt, char *buf, size_t len)
{
	struct tz_guard g = { 0 };
	struct tm tm;

	tz_use(&g, tz);
	/* fmt is checked at each caller (the format attribute); here it can only be passed on. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	if (localtime_r(&t, &tm) == NULL || strftime(buf, len, fmt, &tm) == 0)
		snprintf(buf, len, "?");
#pragma GCC diagnostic pop
	tz_restore(&g);
}

void
time_format_site(const char *tz, time_t t, time_t now, char *buf, size_t len)
{
	char day[16], today[16], local[64], utc[16];
	struct tm tm;

	time_format_in_zone(tz, t, "%Y-%m-%d", day, sizeof(day));
	time_format_in_zone(tz, now, "%Y-%m-%d", today, sizeof(today));
	time_format_in_zone(tz, t, "%H:%M %Z", local, sizeof(local));
	if (gmtime_r(&t, &tm) == NULL || strftime(utc, sizeof(utc), "%H:%MZ", &tm) == 0)
		snprintf(utc, sizeof(utc), "?");
	if (strcmp(day, today) == 0)
		snprintf(buf, len, "%s / %s", local, utc);
	else
		snprintf(buf, len, "%s %s / %s", day, local, utc);
}

bool
window_tz_is_valid(const char *name)
{
	const char *dir = getenv("TZDIR");
	char *path, magic[4];
	size_t i, n = strlen(name);
	bool ok;
	int fd;

	if (n == 0 || n > WINDOW_TZ_NAME_MAX || name[0] == '/' || strstr(name, "..") != NULL)
		return false;
	for (i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		        c == '/' || c == '_' || c == '-' || c == '+'))
			return false;
	}
	xasprintf(&path, "%s/%s", dir != NULL && *dir != '\0' ? dir : "/usr/share/zoneinfo", name);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	free(path);
	if (fd == -1)
		return false;
	ok = read(fd, magic, sizeof(magic)) == (ssize_t)sizeof(magic) &&
	    memcmp(magic, "TZif", 4) == 0;
	close(fd);
	return ok;
}
