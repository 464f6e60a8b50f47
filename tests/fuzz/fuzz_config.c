/* fuzz_config.c: libFuzzer harness for the configuration loader (config.c over libconfig).
 * The input is gatewayd.conf. Checks that a refused file always says FILE:LINE and that an
 * accepted one is consistent: every grant's vendor and targets exist, every person's vendor
 * is its owner, every window is in range. */
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_check_windows(const struct gw_window_set *set)
{
	size_t i;

	for (i = 0; i < set->n; i++) {
		const struct gw_window *w = &set->windows[i];

		if (w->days == 0
		        ? w->to <= w->from
		        : (w->days > 0x7f || w->start < 0 || w->start > 1439 || w->end < 1 ||
		              w->end > 1440 || w->start == w->end || w->tz == NULL))
			abort();
	}
}

static void
fuzz_check_config(const struct gw_config *cfg)
{
	size_t i, j;

	for (i = 0; i < cfg->nvendors; i++) {
		fuzz_check_windows(&cfg->vendors[i].windows);
		for (j = 0; j < cfg->vendors[i].npersons; j++) {
			const struct gw_person *p = &cfg->vendors[i].persons[j];

			if (p->vendor != &cfg->vendors[i] || config_find_person(cfg, p->id) != p)
				abort();
			fuzz_check_windows(&p->windows);
		}
	}
	for (i = 0; i < cfg->ngrants; i++) {
		if (config_find_vendor(cfg, cfg->grants[i].vendor) == NULL)
			abort();
		for (j = 0; j < cfg->grants[i].ntargets; j++)
			if (config_find_target(cfg, cfg->grants[i].targets[j]) == NULL)
				abort();
		fuzz_check_windows(&cfg->grants[i].windows);
	}
	for (i = 0; i < cfg->ntargets; i++)
		if (cfg->targets[i].port < 1 || cfg->targets[i].port > 65535)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gw_config *cfg = NULL;
	char *errors = NULL;
	const char *path;

	path = fuzz_file("gatewayd.conf", data, size);
	if (config_load(path, &cfg, &errors) == 0) {
		if (cfg == NULL || errors != NULL)
			abort();
		fuzz_check_config(cfg);
	} else if (cfg != NULL || errors == NULL || strncmp(errors, path, strlen(path)) != 0 ||
	    errors[strlen(path)] != ':') {
		abort();
	}
	free(errors);
	config_free(cfg);
	return 0;
}
