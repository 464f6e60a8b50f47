/* crosscheck.c: `gatewayctl audit verify --recordings DIR`: the recordings against what the
 * audit log says the notary signed last for each (recording_sealed, recording_unsealed). */
#include "tools/crosscheck.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/xmalloc.h"
#include "evidence/castread.h"
#include "evidence/pcapread.h"
#include "evidence/verify.h"
#include "tools/termsafe.h"

#define CROSSCHECK_LINE_MAX (1024 * 1024) /* an audit line longer than this is not ours */
#define CROSSCHECK_ID_LEN   32

/* A recording as the audit log names it. */
struct named {
	char *name;
	unsigned long records;
	char chain[SEAL_HEX_LEN];
	bool sealed;
};

struct crosscheck {
	struct named *named;
	size_t nnamed;
	char **live; /* session ids started and not ended */
	size_t nlive;
};

/* "<32 hex>.<digits>.cast" or ".pcapng": the forms of the gateway's recording names; the
 * session id is its first 32 characters. Anything else is never made into a path. */
static bool
crosscheck_name_is_recording(const char *name)
{
	size_t i;

	for (i = 0; i < CROSSCHECK_ID_LEN; i++)
		if (strchr("0123456789abcdef", name[i]) == NULL || name[i] == '\0')
			return false;
	if (name[i++] != '.')
		return false;
	if (name[i] < '0' || name[i] > '9')
		return false;
	while (name[i] >= '0' && name[i] <= '9')
		i++;
	return strcmp(name + i, ".cast") == 0 || strcmp(name + i, ".pcapng") == 0;
}

static struct named *
crosscheck_find(struct crosscheck *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->nnamed; i++)
		if (strcmp(c->named[i].name, name) == 0)
			return &c->named[i];
	return NULL;
}

static void
crosscheck_live_set(struct crosscheck *c, const char *id, bool live)
{
	size_t i;

	for (i = 0; i < c->nlive; i++)
		if (strcmp(c->live[i], id) == 0)
			break;
	if (live && i == c->nlive) {
		c->live = xreallocarray(c->live, c->nlive + 1, sizeof(*c->live));
		c->live[c->nlive++] = xstrdup(id);
	} else if (!live && i < c->nlive) {
		free(c->live[i]);
		c->live[i] = c->live[--c->nlive];
	}
}

static bool
crosscheck_is_live(const struct crosscheck *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->nlive; i++)
		if (strncmp(c->live[i], name, CROSSCHECK_ID_LEN) == 0)
			return true;
	return false;
}

/* One audit line: a recording's last signature, or a session's start or end. */
static void
crosscheck_take(struct crosscheck *c, const json_t *ev)
{
	const char *event = json_string_value(json_object_get(ev, "event"));
	const char *name = json_string_value(json_object_get(ev, "recording"));
	const char *chain = json_string_value(json_object_get(ev, "chain"));
	const char *session = json_string_value(json_object_get(ev, "session"));
	json_t *records = json_object_get(ev, "records");
	struct named *n;

	if (event == NULL)
		return;
	if (session != NULL && strlen(session) == CROSSCHECK_ID_LEN &&
	    (strcmp(event, "session_start") == 0 || strcmp(event, "session_end") == 0))
		crosscheck_live_set(c, session, strcmp(event, "session_start") == 0);
	if (strcmp(event, "recording_sealed") != 0 && strcmp(event, "recording_unsealed") != 0)
		return;
	if (name == NULL || !crosscheck_name_is_recording(name) || chain == NULL ||
	    strlen(chain) != SEAL_HEX_LEN - 1 || !json_is_integer(records))
		return;
	if ((n = crosscheck_find(c, name)) == NULL) {
		c->named = xreallocarray(c->named, c->nnamed + 1, sizeof(*c->named));
		n = &c->named[c->nnamed++];
		memset(n, 0, sizeof(*n));
		n->name = xstrdup(name);
	}
	n->records = (unsigned long)json_integer_value(records);
	snprintf(n->chain, sizeof(n->chain), "%s", chain);
	n->sealed = strcmp(event, "recording_sealed") == 0;
}

static int
crosscheck_read_log(struct crosscheck *c, const char *audit_path)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	json_t *ev;
	FILE *f;

	if ((f = fopen(audit_path, "re")) == NULL) {
		fprintf(stderr, "gatewayctl: %s: %m\n", audit_path);
		return -1;
	}
	while ((len = getline(&line, &cap, f)) != -1) {
		if (len > CROSSCHECK_LINE_MAX)
			continue;
		if ((ev = json_loadb(line, (size_t)len, 0, NULL)) != NULL)
			crosscheck_take(c, ev);
		json_decref(ev);
	}
	free(line);
	fclose(f);
	return 0;
}

/* One recording the log names, against its file. Returns 1 when they disagree. */
static int
crosscheck_one(const char *dir, struct named *n, const struct sealkey *key)
{
	char stem[4096], verdict[512], *path, *safe, *what;
	struct verdict v;
	int rc = 1;

	/* The log names "ID.N.cast"; a sealed one may be kept as "ID.N.cast.zst" (castread). */
	snprintf(
	    stem, sizeof(stem), "%s/%.*s", dir, (int)(strlen(n->name) - strlen(".cast")), n->name);
	if ((path = castread_find(stem)) == NULL) {
		/* The name comes from the log, the verdict's detail from the file: termsafe. */
		xasprintf(&path, "%s/%s", dir, n->name);
		safe = termsafe_str(path);
		printf("%s: missing (the audit log names it, %s at record %lu)\n", safe,
		    n->sealed ? "sealed" : "unsealed", n->records);
		goto out;
	}
	safe = termsafe_str(path);
	verify_recording(path, key, &v);
	/* Live: the log names a file its recorder has not let go of yet (closed just after). */
	if (v.kind != VERDICT_INTACT && v.kind != VERDICT_TRUNCATED && v.kind != VERDICT_LIVE) {
		verdict_format(&v, verdict, sizeof(verdict));
		what = termsafe_str(verdict);
		printf("%s: altered: %s\n", safe, what);
		free(what);
		goto out;
	}
	if (v.signed_n != n->records || strcmp(v.signed_chain, n->chain) != 0 ||
	    (n->sealed && v.kind != VERDICT_INTACT)) {
		printf("%s: altered: the audit log has its last signature at record %lu (chain "
		       "%.16s…), the file at record %lu (chain %.16s…)%s\n",
		    safe, n->records, n->chain, v.signed_n,
		    v.signed_chain[0] != '\0' ? v.signed_chain : "none",
		    n->sealed && v.kind != VERDICT_INTACT ? ", and its seal is gone" : "");
		goto out;
	}
	printf("%s: %s, as the audit log says (%lu records)\n", safe,
	    n->sealed ? "sealed" : "unsealed: its session process ended before the seal",
	    n->records);
	rc = 0;
out:
	free(safe);
	free(path);
	return rc;
}

/* The files of DIR no audit line names: a live session's, or not the gateway's. */
static int
crosscheck_unnamed(const char *dir, struct crosscheck *c)
{
	struct dirent **list;
	int i, n, bad = 0, other = 0;

	if ((n = scandir(dir, &list, NULL, alphasort)) < 0) {
		fprintf(stderr, "gatewayctl: %s: %m\n", dir);
		return 1;
	}
	for (i = 0; i < n; i++) {
		const char *file = list[i]->d_name;
		size_t suffix = castread_suffix_len(file);
		char name[sizeof(list[i]->d_name) + 8];

		/* A compressed recording goes by the plain name the log gives it; while its plain
		 * twin is still there (a compression cut off) the plain one stands for both. A
		 * tunnel's pcapng goes by its own name. */
		if (pcapread_name_is_pcapng(file))
			snprintf(name, sizeof(name), "%s", file);
		else
			snprintf(
			    name, sizeof(name), "%.*s.cast", (int)(strlen(file) - suffix), file);
		if ((suffix > 0 && !castread_is_shadowed(dir, file)) ||
		    pcapread_name_is_pcapng(file)) {
			if (!crosscheck_name_is_recording(name))
				other++;
			else if (crosscheck_find(c, name) != NULL)
				;
			else if (crosscheck_is_live(c, name))
				printf("%s/%s: live (its session has not ended)\n", dir, file);
			else {
				printf("%s/%s: not named by the audit log\n", dir, file);
				bad++;
			}
		}
		free(list[i]);
	}
	free(list);
	if (other > 0) {
		printf("%s: %d other .cast, .cast.zst or .pcapng file(s) not named as the gateway "
		       "names "
		       "recordings\n",
		    dir, other);
		bad++;
	}
	return bad;
}

int
crosscheck_recordings(const char *audit_path, const char *dir, const struct sealkey *key)
{
	struct crosscheck c = { 0 };
	size_t i;
	int bad = 0;

	if (crosscheck_read_log(&c, audit_path) != 0)
		return -1;
	for (i = 0; i < c.nnamed; i++)
		bad += crosscheck_one(dir, &c.named[i], key);
	bad += crosscheck_unnamed(dir, &c);
	for (i = 0; i < c.nnamed; i++)
		free(c.named[i].name);
	free(c.named);
	for (i = 0; i < c.nlive; i++)
		free(c.live[i]);
	free(c.live);
	return bad;
}
