/* bundle-gather.c: what a bundle or a report is about: the period's recordings the spec selects,
 * with their verdicts and bytes each way, and the audit events that concern them. The one place
 * both gather; an export copies each recording first (bundle-out.c). Writes no page. */
#include "tools/bundle.h"

#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "tools/evidence.h"

bool
bundle_recording_is_tunnel(const struct bundle_recording *r)
{
	const char *kind = json_string_value(json_object_get(r->meta, "kind"));

	return kind != NULL && strcmp(kind, "forward") == 0 &&
	    json_object_get(r->meta, "format") != NULL;
}

/* A tunnel's start and bytes each way, as the walker read them (tools/evidence.h). */
static void
gather_measure_tunnel(struct bundle_recording *r)
{
	r->start = (time_t)json_integer_value(json_object_get(r->meta, "started_at"));
	r->bytes_in =
	    (unsigned long long)json_integer_value(json_object_get(r->meta, "client_bytes"));
	r->bytes_out =
	    (unsigned long long)json_integer_value(json_object_get(r->meta, "server_bytes"));
}

/* What the pages show of one recording: its verdict and the bytes each way. */
static void
gather_measure(struct bundle_recording *r, const struct sealkey *key)
{
	struct castfile *cf;
	struct cast_event ev;

	verify_recording(r->path, key, &r->verdict);
	if (bundle_recording_is_tunnel(r)) {
		gather_measure_tunnel(r);
		return;
	}
	if ((cf = castfile_open(r->path)) == NULL)
		return;
	r->start = (time_t)json_integer_value(json_object_get(castfile_header(cf), "timestamp"));
	while (castfile_next(cf, &ev) > 0) {
		if (strcmp(ev.code, "o") == 0 || strcmp(ev.code, "e") == 0)
			r->bytes_out += ev.len;
		else if (strcmp(ev.code, "i") == 0)
			r->bytes_in += ev.len;
	}
	castfile_close(cf);
}

struct gather_walk {
	struct bundle *b;
	const struct sealkey *key;
	int failed;
};

static void
gather_recording(const char *path, const json_t *meta, void *arg)
{
	struct gather_walk *w = arg;
	struct bundle *b = w->b;
	struct bundle_recording *r;
	const char *name = strrchr(path, '/') != NULL ? strrchr(path, '/') + 1 : path;
	char *copy;

	if (b->out != NULL) {
		xasprintf(&copy, "recordings/%s", name);
		w->failed |= bundle_out_copy(b->out, path, copy) != 0;
		free(copy);
		if (w->failed)
			return;
	}
	/* A folder's copy is measured, so the pages say what the bundle holds. An archive's is
	 * in it already: the recording is measured in place (a live one may have grown since;
	 * its copy is a signed prefix of it all the same). */
	if (b->out != NULL && b->out->tar == NULL)
		xasprintf(&copy, "%s/recordings/%s", b->out->dir, name);
	else
		copy = xstrdup(path);
	b->recs = xreallocarray(b->recs, b->nrecs + 1, sizeof(*b->recs));
	r = &b->recs[b->nrecs++];
	memset(r, 0, sizeof(*r));
	r->name = xstrdup(name);
	r->path = copy;
	r->meta = json_deep_copy(meta);
	gather_measure(r, w->key);
}

/* By start, then by name (session, channel): the order the report lists them in. */
static int
gather_cmp(const void *pa, const void *pb)
{
	const struct bundle_recording *a = pa, *b = pb;

	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	return strcmp(a->name, b->name);
}

int
bundle_gather(struct bundle *b, const char *recording_dir, const char *audit_log,
    const struct sealkey *key, json_t *info)
{
	const struct bundle_spec *spec = b->spec;
	struct recording_filter filter = { .vendor = spec->vendor,
		.target = spec->target,
		.from = spec->from,
		.to = spec->to,
		.tunnels = true };
	struct gather_walk w = { .b = b, .key = key };

	if (evidence_foreach_recording(recording_dir, &filter, gather_recording, &w) != 0 ||
	    w.failed)
		return -1;
	if (b->nrecs > 0)
		qsort(b->recs, b->nrecs, sizeof(*b->recs), gather_cmp);
	if (b->out != NULL)
		return bundle_slice_write(audit_log, b, info);
	return bundle_events_read(audit_log, b);
}

void
bundle_free(struct bundle *b)
{
	size_t i;

	for (i = 0; i < b->nrecs; i++) {
		free(b->recs[i].name);
		free(b->recs[i].path);
		json_decref(b->recs[i].meta);
	}
	free(b->recs);
	json_decref(b->events);
}
