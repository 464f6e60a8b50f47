/* requeststore.c: access requests kept as <state_dir>/requests/ID.json, one JSON object each,
 * written by the listener alone (console_requests.c) through a synced temporary file. Reads
 * are bounded in size and count; a file that does not parse is skipped and logged. */
#include "gatewayd/console.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/xmalloc.h"

#define REQUEST_FILE_MAX 8192

static void
requeststore_dir(const char *state_dir, char **dir)
{
	xasprintf(dir, "%s/requests", state_dir);
}

static json_t *
requeststore_encode(const struct gw_request *rq)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:s, s:s, s:I}", "id",
	    rq->id, "person", rq->person, "vendor", rq->vendor, "target", rq->target, "reason",
	    rq->reason, "created", (json_int_t)rq->created, "not_before",
	    (json_int_t)rq->not_before, "not_after", (json_int_t)rq->not_after, "state",
	    request_state_name(rq->state), "decided_by", rq->decided_by, "deny_reason",
	    rq->deny_reason, "decided_at", (json_int_t)rq->decided_at);
}

static int
requeststore_field(json_t *o, const char *key, char *out, size_t len)
{
	const char *v = json_string_value(json_object_get(o, key));

	if (v == NULL || strlen(v) >= len)
		return -1;
	memcpy(out, v, strlen(v) + 1);
	return 0;
}

static int
requeststore_decode(json_t *o, struct gw_request *rq)
{
	json_t *c = json_object_get(o, "created"), *b = json_object_get(o, "not_before"),
	       *a = json_object_get(o, "not_after"), *d = json_object_get(o, "decided_at");
	char state[16];

	memset(rq, 0, sizeof(*rq));
	if (requeststore_field(o, "id", rq->id, sizeof(rq->id)) != 0 ||
	    requeststore_field(o, "person", rq->person, sizeof(rq->person)) != 0 ||
	    requeststore_field(o, "vendor", rq->vendor, sizeof(rq->vendor)) != 0 ||
	    requeststore_field(o, "target", rq->target, sizeof(rq->target)) != 0 ||
	    requeststore_field(o, "reason", rq->reason, sizeof(rq->reason)) != 0 ||
	    requeststore_field(o, "state", state, sizeof(state)) != 0 ||
	    requeststore_field(o, "decided_by", rq->decided_by, sizeof(rq->decided_by)) != 0 ||
	    requeststore_field(o, "deny_reason", rq->deny_reason, sizeof(rq->deny_reason)) != 0 ||
	    !json_is_integer(c) || !json_is_integer(b) || !json_is_integer(a) ||
	    !json_is_integer(d) || request_state_parse(state, &rq->state) != 0 ||
	    !ticket_id_is_valid(rq->id))
		return -1;
	rq->created = (time_t)json_integer_value(c);
	rq->not_before = (time_t)json_integer_value(b);
	rq->not_after = (time_t)json_integer_value(a);
	rq->decided_at = (time_t)json_integer_value(d);
	return 0;
}

int
requeststore_save(const char *state_dir, const struct gw_request *rq, bool create, char **error)
{
	char *dir, *name, *text;
	json_t *o = requeststore_encode(rq);
	int rc;

	requeststore_dir(state_dir, &dir);
	xasprintf(&name, "%s.json", rq->id);
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		xasprintf(error, "%s: %s", dir, strerror(errno));
		rc = -1;
	} else
		rc = store_write(dir, name, text, strlen(text), !create, error);
	free(text);
	free(name);
	free(dir);
	return rc;
}

int
requeststore_create(const char *state_dir, struct gw_request *rq, char **error)
{
	unsigned char rnd[3];
	char day[16], *path;
	struct tm tm;
	bool taken;
	int tries;

	gmtime_r(&rq->created, &tm);
	strftime(day, sizeof(day), "%Y%m%d", &tm);
	for (tries = 0; tries < 8; tries++) {
		if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
			xasprintf(error, "no random bytes for a request id: %s", strerror(errno));
			return -1;
		}
		snprintf(
		    rq->id, sizeof(rq->id), "req-%s-%02x%02x%02x", day, rnd[0], rnd[1], rnd[2]);
		/* The listener is the one writer: an id not taken now is not taken at the link. */
		xasprintf(&path, "%s/requests/%s.json", state_dir, rq->id);
		taken = access(path, F_OK) == 0;
		free(path);
		if (!taken)
			return requeststore_save(state_dir, rq, true, error);
	}
	xasprintf(error, "no free request id");
	return -1;
}

int
requeststore_load(const char *state_dir, const char *id, struct gw_request *out)
{
	char *dir, *path, *text = NULL;
	size_t len;
	json_t *o = NULL;
	int rc = -1;

	if (!ticket_id_is_valid(id))
		return -1;
	requeststore_dir(state_dir, &dir);
	xasprintf(&path, "%s/%s.json", dir, id);
	if (file_read_bounded(path, REQUEST_FILE_MAX, &text, &len) == 0 &&
	    (o = json_loadb(text, len, 0, NULL)) != NULL && requeststore_decode(o, out) == 0 &&
	    strcmp(out->id, id) == 0)
		rc = 0;
	else if (text != NULL)
		warn_f("%s: not a request file", path);
	json_decref(o);
	free(text);
	free(path);
	free(dir);
	return rc;
}

static int
requeststore_by_created(const void *a, const void *b)
{
	const struct gw_request *x = a, *y = b;

	return x->created < y->created ? -1 : x->created > y->created;
}

int
requeststore_list(const char *state_dir, struct gw_request **out, size_t *n)
{
	struct gw_request *all = NULL;
	size_t cap = 0, count = 0;
	struct dirent *de;
	char *dir, id[GW_ID_MAX + 1];
	size_t len;
	DIR *d;

	*out = NULL;
	*n = 0;
	requeststore_dir(state_dir, &dir);
	if ((d = opendir(dir)) == NULL) {
		free(dir);
		return errno == ENOENT ? 0 : -1;
	}
	while ((de = readdir(d)) != NULL && count < REQUESTS_MAX) {
		len = strlen(de->d_name);
		if (len <= 5 || len - 5 > GW_ID_MAX || strcmp(de->d_name + len - 5, ".json") != 0)
			continue;
		memcpy(id, de->d_name, len - 5);
		id[len - 5] = '\0';
		if (count == cap) {
			cap = cap ? 2 * cap : 32;
			all = xreallocarray(all, cap, sizeof(*all));
		}
		if (requeststore_load(state_dir, id, &all[count]) == 0)
			count++;
	}
	closedir(d);
	free(dir);
	if (count > 0)
		qsort(all, count, sizeof(*all), requeststore_by_created);
	*out = all;
	*n = count;
	return 0;
}
