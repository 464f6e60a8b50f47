/* bench_decision.c: time one access decision against 1,000 vendors and 10,000 tickets
 * (target: <= 1 ms). Builds the policy in memory; signatures are not part of a decision
 * (tickets are verified when loaded), so tickets here carry the status the loader sets. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/xmalloc.h"
#include "policy/policy.h"

#define NVENDORS 1000
#define NTICKETS 10000
#define NTARGETS 200
#define ROUNDS   2000

static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

int
main(void)
{
	struct gw_config cfg = { 0 };
	struct ticket_set *set = ticketset_new();
	struct decision d;
	size_t i;
	time_t base;
	double t0, t1;
	int allowed = 0;

	time_parse_utc("2027-03-01T09:00:00Z", &base); /* a Monday, 10:00 in Berlin */
	cfg.ntargets = NTARGETS;
	cfg.targets = xcalloc(NTARGETS, sizeof(*cfg.targets));
	for (i = 0; i < NTARGETS; i++)
		xasprintf(&cfg.targets[i].name, "plc-%03zu", i);
	cfg.nvendors = cfg.ngrants = NVENDORS;
	cfg.vendors = xcalloc(NVENDORS, sizeof(*cfg.vendors));
	cfg.grants = xcalloc(NVENDORS, sizeof(*cfg.grants));
	for (i = 0; i < NVENDORS; i++) {
		struct gw_vendor *v = &cfg.vendors[i];
		struct gw_grant *g = &cfg.grants[i];

		xasprintf(&v->id, "vendor%04zu", i);
		v->enabled = true;
		v->npersons = 1;
		v->persons = xcalloc(1, sizeof(*v->persons));
		xasprintf(&v->persons[0].id, "%s.eng", v->id);
		v->persons[0].vendor = v;
		v->windows.n = 1;
		v->windows.windows = xcalloc(1, sizeof(struct gw_window));
		v->windows.windows[0] =
		    (struct gw_window){ 0x3e, 7 * 60, 18 * 60, "Europe/Berlin", 0, 0 };
		g->vendor = v->id;
		g->ntargets = 1;
		g->targets = xcalloc(1, sizeof(char *));
		g->targets[0] = cfg.targets[i % NTARGETS].name;
		g->channels = GW_CHAN_DEFAULT;
	}
	for (i = 0; i < NTICKETS; i++) {
		struct gw_ticket *t = xcalloc(1, sizeof(*t));

		xasprintf(&t->id, "t-%05zu", i);
		t->vendor = xstrdup(cfg.vendors[i % NVENDORS].id);
		t->ntargets = 1;
		t->targets = xcalloc(1, sizeof(char *));
		t->targets[0] = xstrdup(cfg.targets[(i % NVENDORS) % NTARGETS].name);
		t->not_before = base - 3600;
		t->not_after = base + 3600 * (1 + (time_t)(i % 5));
		t->approver = xstrdup("lead");
		t->approvers = xcalloc(1, sizeof(char *));
		t->approvers[0] = xstrdup("lead");
		t->napprovers = 1; /* as ticket_verify leaves a valid ticket signed by "lead" */
		t->reason = xstrdup("bench");
		t->status = TICKET_VALID;
		ticketset_add_ticket(set, t);
	}
	for (i = 0; i < 100; i++)
		ticketset_add_revocation(set, set->tickets[i * 7]->id, base - 60, "bench");

	t0 = now_us();
	for (i = 0; i < ROUNDS; i++) {
		size_t v = (i * 7919) % NVENDORS;
		struct access_request req = { cfg.vendors[v].persons[0].id,
			cfg.targets[v % NTARGETS].name, base + (time_t)(i % 600), 0 };

		policy_decide(&cfg, set, &req, &d);
		allowed += d.allow;
	}
	t1 = now_us();
	printf("decision: %d vendors, %d tickets, %d revocations: %.1f us per decision "
	       "(%d of %d allowed)\n",
	    NVENDORS, NTICKETS, 100, (t1 - t0) / ROUNDS, allowed, ROUNDS);
	ticketset_free(set);
	return (t1 - t0) / ROUNDS <= 1000.0 ? 0 : 1;
}
