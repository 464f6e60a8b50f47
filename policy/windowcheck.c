/* windowcheck.c: the configuration check's warnings about access windows that can never open
 * (gatewayd -t). Pure: the time is the caller's; warnings only, never a reason to refuse a
 * configuration the loader accepted. */
#include "policy/policy.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"

#define WINDOWCHECK_HORIZON (8 * 86400) /* a recurring week, and a day for zone offsets */

static void __attribute__((format(printf, 4, 5)))
windowcheck_warn(char **out, const struct gw_config *cfg, int line, const char *fmt, ...)
{
	char msg[512], *joined;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	xasprintf(&joined, "%s%s:%d: warning: %s\n", *out ? *out : "", cfg->path, line, msg);
	free(*out);
	*out = joined;
}

/* Whether the levels ever contain the same instant from now on: a week and a day covers every
 * recurring window; an absolute window that ends later is searched to its end. */
static bool
windowcheck_ever_open(const struct gw_window_set *const *levels, size_t n, time_t now)
{
	const struct gw_window *opener;
	time_t horizon = now + WINDOWCHECK_HORIZON;
	size_t i, j;

	for (i = 0; i < n; i++)
		for (j = 0; j < levels[i]->n; j++)
			if (levels[i]->windows[j].days == 0 && levels[i]->windows[j].to > horizon)
				horizon = levels[i]->windows[j].to;
	return window_levels_next_open(levels, n, now, horizon, &opener) != 0;
}

char *
config_warn_windows(const struct gw_config *cfg, time_t now)
{
	char *out = NULL;
	size_t i, j;

	for (i = 0; i < cfg->nvendors; i++) {
		const struct gw_vendor *v = &cfg->vendors[i];
		const struct gw_window_set *levels[2] = { &v->windows, NULL };

		if (v->windows.n == 0) {
			windowcheck_warn(&out, cfg, v->windows.line,
			    "vendor %s has no access windows: none of its persons can ever connect",
			    v->id);
			continue;
		}
		if (!windowcheck_ever_open(levels, 1, now)) {
			windowcheck_warn(&out, cfg, v->windows.line,
			    "the access windows of vendor %s never open again", v->id);
			continue;
		}
		for (j = 0; j < v->npersons; j++) {
			levels[1] = &v->persons[j].windows;
			if (levels[1]->n > 0 && !windowcheck_ever_open(levels, 2, now))
				windowcheck_warn(&out, cfg, levels[1]->line,
				    "the windows of person %s never overlap those of vendor %s: "
				    "%s can never connect",
				    v->persons[j].id, v->id, v->persons[j].id);
		}
	}
	for (i = 0; i < cfg->ngrants; i++) {
		const struct gw_grant *g = &cfg->grants[i];
		const struct gw_vendor *v = config_find_vendor(cfg, g->vendor);
		const struct gw_window_set *levels[2] = { v ? &v->windows : NULL, &g->windows };

		/* A vendor whose own windows never open was named above. */
		if (v == NULL || g->windows.n == 0 || !windowcheck_ever_open(levels, 1, now))
			continue;
		if (!windowcheck_ever_open(levels, 2, now))
			windowcheck_warn(&out, cfg, g->windows.line,
			    "the windows of the grant of vendor %s (target %s%s) never overlap the "
			    "vendor's: it never admits",
			    g->vendor, g->targets[0], g->ntargets > 1 ? ", ..." : "");
	}
	return out;
}
