/* registry.c: owns the listener's side of the links: live sessions, admission and ticket uses,
 * listing, kill, watch, vendor quota, the links' lockout requests (guard.c) and their requests
 * to the notary (audit events, checkpoints). Never blocks on a session process nor trusts it
 * beyond checked fields. */
#include "gatewayd/registry.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "evidence/pcaprec.h"
#include "gatewayd/console.h"
#include "gatewayd/control.h"
#include "gatewayd/gatewayd.h"
#include "gatewayd/notary.h"
#include "gatewayd/registry_msg.h"
#include "gatewayd/store.h"

#define REGISTRY_DISABLED_MAX 10000 /* vendors in the disabled file */

struct registry_entry {
	pid_t pid;
	int fd;        /* the listener's end of the link; -1 once the process closed it */
	bool admitted; /* authenticated, allowed and within the caps: listed and counted */
	char id[SESSION_ID_LEN + 1];
	char person[GW_ID_MAX + 1];
	char vendor[GW_ID_MAX + 1];
	char target[GW_ID_MAX + 1];
	char ticket[GW_ID_MAX + 1];
	char source[64];
	int port;
	time_t started, ends_at;
	unsigned long long bytes_in, bytes_out;
	unsigned long long tunnels, packets; /* tunnels open, and their packets (issue 18) */
	unsigned kill_round;                 /* the last registry_kill that told it to end */
	bool cut;                            /* it confirmed that it is cut */
	unsigned long long recorded;         /* bytes of its recordings, as last reported */
	bool recording_cut;                  /* ordered to end for its vendor's recording quota */
	bool start_audited, end_audited;     /* its session_start, its session_end written */
	struct notary_book *book;            /* what the notary signed for its recordings */
};

struct registry {
	struct registry_entry *entries;
	size_t n, cap;
	char **disabled; /* vendor ids refused until enabled again */
	size_t ndisabled;
	unsigned kill_round; /* registry_kill calls so far */
	struct store *store; /* shared with other gateways, or state_dir alone (store.h) */
};

static void
registry_disabled_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Reads state_dir/disabled_vendors; a missing file is an empty set. */
static int
registry_disabled_load(const char *state_dir, char ***out, size_t *nout)
{
	char *path, *text = NULL, *line, *save = NULL;
	char **v = NULL;
	size_t n = 0, len;
	int rc = 0;

	xasprintf(&path, "%s/%s", state_dir, REGISTRY_DISABLED_FILE);
	if (file_read_bounded(path, REGISTRY_DISABLED_MAX * (GW_ID_MAX + 1), &text, &len) != 0) {
		if (errno != ENOENT) {
			error_f("cannot read %s: %s", path, strerror(errno));
			rc = -1;
		}
		free(path);
		*out = NULL;
		*nout = 0;
		return rc;
	}
	for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		if (!name_is_valid(line) || strlen(line) > GW_ID_MAX) {
			warn_f("%s: ignoring a line that is no vendor id", path);
			continue;
		}
		v = xreallocarray(v, n + 1, sizeof(*v));
		v[n++] = xstrdup(line);
	}
	free(text);
	free(path);
	*out = v;
	*nout = n;
	return 0;
}

bool
registry_vendor_disabled(const struct registry *reg, const char *vendor)
{
	size_t i;

	for (i = 0; i < reg->ndisabled; i++)
		if (strcmp(reg->disabled[i], vendor) == 0)
			return true;
	return false;
}

struct registry *
registry_new(const char *state_dir)
{
	struct registry *reg = xcalloc(1, sizeof(*reg));

	if (registry_disabled_load(state_dir, &reg->disabled, &reg->ndisabled) != 0) {
		free(reg);
		return NULL;
	}
	return reg;
}

void
registry_free(struct registry *reg)
{
	size_t i;

	if (reg == NULL)
		return;
	for (i = 0; i < reg->n; i++) {
		if (reg->entries[i].fd != -1)
			close(reg->entries[i].fd);
		notary_book_free(reg->entries[i].book);
	}
	free(reg->entries);
	registry_disabled_free(reg->disabled, reg->ndisabled);
	free(reg);
}

int
registry_reload(struct registry *reg, const char *state_dir)
{
	char **v;
	size_t n;

	if (registry_disabled_load(state_dir, &v, &n) != 0)
		return -1;
	registry_disabled_free(reg->disabled, reg->ndisabled);
	reg->disabled = v;
	reg->ndisabled = n;
	return 0;
}

int
registry_greet(int fd, const char *key_id, char *id)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[SESSION_ID_LEN / 2];
	size_t i;

	if (RAND_bytes(raw, sizeof(raw)) != 1) {
		crit_f("no randomness for a session id");
		return -1;
	}
	for (i = 0; i < sizeof(raw); i++) {
		id[2 * i] = hex[raw[i] >> 4];
		id[2 * i + 1] = hex[raw[i] & 15];
	}
	id[SESSION_ID_LEN] = '\0';
	registry_msg_prepare(fd);
	if (registry_msg_send(fd,
	        json_pack("{s:s, s:s, s:s}", "type", "hello", "id", id, "key", key_id), -1) != 0) {
		error_f("cannot name the session on its link: %s", strerror(errno));
		return -1;
	}
	return 0;
}

void
registry_add(struct registry *reg, pid_t pid, int fd, const char *id)
{
	struct registry_entry *e;

	if (reg->n == reg->cap) {
		reg->cap = reg->cap ? 2 * reg->cap : 64;
		reg->entries = xreallocarray(reg->entries, reg->cap, sizeof(*reg->entries));
	}
	e = &reg->entries[reg->n++];
	memset(e, 0, sizeof(*e));
	e->pid = pid;
	e->fd = fd;
	snprintf(e->id, sizeof(e->id), "%s", id);
	e->book = notary_book_new(e->id);
}

/* A session that started and died before its own session_end: the listener writes it, so that
 * every session_start has its end in the log. */
static void
registry_audit_death(
    const struct registry_entry *e, int status, struct notary *notary, const char *audit_path)
{
	char reason[96];

	if (WIFSIGNALED(status))
		snprintf(reason, sizeof(reason), "the session process died (signal %d)",
		    WTERMSIG(status));
	else
		snprintf(reason, sizeof(reason), "the session process died (exit status %d)",
		    WEXITSTATUS(status));
	if (notary_audit(notary, audit_path, "session_end",
	        json_pack("{s:s, s:s, s:s, s:s, s:s}", "person", e->person, "vendor", e->vendor,
	            "target", e->target, "reason", reason, "session", e->id)) != 0)
		crit_f("audit log %s cannot be written: %m (end of session %s lost)", audit_path,
		    e->id);
}

char **
registry_sealed(const struct registry *reg, pid_t pid)
{
	size_t i;

	for (i = 0; i < reg->n; i++)
		if (reg->entries[i].pid == pid)
			return notary_book_sealed(reg->entries[i].book);
	return NULL;
}

/* The session no longer counts (it ended, or broke its link): off every listing. */
static void
registry_entry_unlist(struct registry *reg, struct registry_entry *e)
{
	if (e->admitted && reg->store != NULL)
		store_session_ended(reg->store, e->id);
	e->admitted = false;
}

void
registry_set_store(struct registry *reg, struct store *st)
{
	reg->store = st;
}

struct store *
registry_store(const struct registry *reg)
{
	return reg->store;
}

void
registry_remove(
    struct registry *reg, pid_t pid, int status, struct notary *notary, const char *audit_path)
{
	size_t i;

	for (i = 0; i < reg->n; i++) {
		if (reg->entries[i].pid != pid)
			continue;
		if (reg->entries[i].fd != -1)
			close(reg->entries[i].fd);
		registry_entry_unlist(reg, &reg->entries[i]);
		if (reg->entries[i].start_audited && !reg->entries[i].end_audited)
			registry_audit_death(&reg->entries[i], status, notary, audit_path);
		notary_book_close(notary, audit_path, reg->entries[i].book);
		reg->entries[i] = reg->entries[--reg->n];
		return;
	}
}

size_t
registry_nprocesses(const struct registry *reg)
{
	return reg->n;
}

void
registry_signal_all(const struct registry *reg, int sig)
{
	size_t i;

	for (i = 0; i < reg->n; i++)
		kill(reg->entries[i].pid, sig);
}

/* A session process cannot read the configuration file (gatewayd/monitor_sandbox.c): the text
 * the listener applied goes over each link. Where it cannot (the link is gone or full, the text
 * is above the link's bound), SIGHUP says a reload happened without it, and the session ends
 * rather than keep the old policy. */
void
registry_send_config(const struct registry *reg, const char *text)
{
	size_t i, missed = 0;

	for (i = 0; i < reg->n; i++) {
		const struct registry_entry *e = &reg->entries[i];

		if (e->fd != -1 &&
		    registry_msg_send(e->fd,
		        json_pack("{s:s, s:o?}", "type", "reload", "config",
		            registry_msg_bytes(text, strlen(text))),
		        -1) == 0)
			continue;
		kill(e->pid, SIGHUP);
		missed++;
	}
	if (missed > 0)
		warn_f("the new configuration could not be handed to %zu session process(es) "
		       "(%zu bytes): they end",
		    missed, strlen(text));
}

size_t
registry_npollfds(const struct registry *reg)
{
	size_t i, n = 0;

	for (i = 0; i < reg->n; i++)
		n += reg->entries[i].fd != -1;
	return n;
}

void
registry_pollfds(const struct registry *reg, struct pollfd *pfd)
{
	size_t i;

	for (i = 0; i < reg->n; i++)
		if (reg->entries[i].fd != -1) {
			pfd->fd = reg->entries[i].fd;
			pfd->events = POLLIN;
			pfd->revents = 0;
			pfd++;
		}
}

static json_t *registry_entry_json(const struct registry_entry *e);

/* The ticket's max_sessions, checked and the use recorded (ID.used) here, in the one process
 * that sees every admission of this gateway: between the count and the record no other
 * admission runs, so simultaneous logins cannot all take a ticket's last use. With a shared
 * store the count is the database's, taken by one statement for every gateway (store.h), and
 * the session is listed there; a store that cannot be reached refuses (fail closed) unless
 * store_unavailable = "cached". Returns NULL (admitted), or the refusal's reason name with why
 * and detail. */
static const char *
registry_take(struct registry *reg, const struct registry_entry *e, const struct gw_config *cfg,
    struct notary *notary, char *why, size_t whylen, char *detail, size_t detaillen)
{
	struct gw_ticket *t = NULL;
	unsigned used = 0, live = 0, max = 0;
	char *error = NULL;
	enum store_take take;
	json_t *o;
	size_t i;

	if (e->ticket[0] != '\0') {
		if (ticketstore_load_ticket(cfg->state_dir, cfg, e->ticket, &t, &error) != 0) {
			error_f("session %s: ticket %s: %s", e->id, e->ticket, error ? error : "");
			snprintf(why, whylen, "access denied: approvals cannot be checked");
			snprintf(detail, detaillen, "ticket %s cannot be read", e->ticket);
			free(error);
			return "ticket_unreadable";
		}
		free(error);
		/* The live sessions under it have each recorded a use: the file holds at least as
		 * many, unless it was tampered with; the larger count is the truth. */
		for (i = 0; i < reg->n; i++)
			live += reg->entries[i].admitted &&
			    strcmp(reg->entries[i].ticket, e->ticket) == 0;
		used = t->used_sessions > live ? t->used_sessions : live;
		max = t->max_sessions;
		ticket_free(t);
	}
	take = STORE_CACHED; /* files: state_dir decides */
	if (store_is_shared(reg->store)) {
		o = registry_entry_json(e);
		take = store_admit(reg->store, o, e->ticket, max, used, &used);
		json_decref(o);
	}
	if (take == STORE_UNAVAILABLE) {
		snprintf(why, whylen,
		    "access denied: the gateway cannot reach its shared state, try again later");
		snprintf(detail, detaillen,
		    "the store's database cannot be reached (store_unavailable = refuse)");
		return "store_unavailable";
	}
	if (take == STORE_CACHED && store_is_shared(reg->store) &&
	    notary_audit(notary, cfg->audit_log, "store_cached",
	        audit_pack("{s:s, s:s, s:s, s:s}", "session", e->id, "person", e->person, "ticket",
	            e->ticket, "detail",
	            "admitted on this gateway's last known state: the store's database cannot be "
	            "reached (store_unavailable = cached)")) != 0) {
		snprintf(why, whylen, "access denied: internal error");
		snprintf(detail, detaillen, "the audit log cannot be written");
		return "audit_failed";
	}
	if (e->ticket[0] == '\0')
		return NULL;
	if (take == STORE_USED_UP || (take == STORE_CACHED && max != 0 && used >= max)) {
		/* The decision's own words for a used-up ticket (policy/decision.c). */
		snprintf(why, whylen, "access denied: approval ticket %s has no sessions left",
		    e->ticket);
		snprintf(detail, detaillen, "ticket %s allows %u sessions and %u were used%s",
		    e->ticket, max, used, take == STORE_USED_UP ? " (on every gateway)" : "");
		return "ticket_used_up";
	}
	/* With a shared store the database has counted the use; this copy follows it. */
	if (ticketstore_record_use(cfg->state_dir, e->ticket, time(NULL), &error) != 0) {
		error_f("session %s: %s", e->id, error);
		if (take == STORE_TAKEN) {
			free(error);
			return NULL;
		}
		snprintf(why, whylen, "access denied: ticket use cannot be recorded");
		snprintf(detail, detaillen, "%s", error);
		free(error);
		return "ticket_use_unrecorded";
	}
	return NULL;
}

/* The caps, the disabled list and the ticket's uses, checked in the one process that sees
 * every session. */
static void
registry_admit(struct registry *reg, struct registry_entry *e, json_t *msg,
    const struct gw_config *cfg, struct notary *notary)
{
	const struct gw_vendor *v;
	size_t i, total = 0, of_vendor = 0;
	char why[GW_REASON_MAX] = "", detail[256] = "";
	const char *reason = NULL;
	char id[SESSION_ID_LEN + 1];
	json_t *t;

	/* The id is the one the listener gave it (registry_greet): no session takes another's. */
	if (e->admitted || !registry_msg_string(msg, "id", id, sizeof(id)) ||
	    strcmp(id, e->id) != 0 ||
	    !registry_msg_string(msg, "person", e->person, sizeof(e->person)) ||
	    !registry_msg_string(msg, "vendor", e->vendor, sizeof(e->vendor)) ||
	    !registry_msg_string(msg, "target", e->target, sizeof(e->target)) ||
	    !registry_msg_string(msg, "ticket", e->ticket, sizeof(e->ticket)) ||
	    !registry_msg_string(msg, "source", e->source, sizeof(e->source)) ||
	    !json_is_integer(t = json_object_get(msg, "started"))) {
		warn_f("session process %ld: malformed admission request refused", (long)e->pid);
		reason = "malformed_request";
		snprintf(why, sizeof(why), "access denied: internal error");
		goto reply;
	}
	e->started = (time_t)json_integer_value(t);
	e->ends_at = (time_t)json_integer_value(json_object_get(msg, "ends_at"));
	e->port = (int)json_integer_value(json_object_get(msg, "port"));
	for (i = 0; i < reg->n; i++) {
		if (!reg->entries[i].admitted)
			continue;
		total++;
		of_vendor += strcmp(reg->entries[i].vendor, e->vendor) == 0;
	}
	v = config_find_vendor(cfg, e->vendor);
	if (registry_vendor_disabled(reg, e->vendor)) {
		reason = "vendor_disabled_by_owner";
		snprintf(
		    why, sizeof(why), "access denied: vendor access disabled by the asset owner");
		snprintf(detail, sizeof(detail), "vendor %s is disabled (gatewayctl vendor enable)",
		    e->vendor);
	} else if (cfg->max_sessions > 0 && total >= (size_t)cfg->max_sessions) {
		reason = "session_limit";
		snprintf(why, sizeof(why),
		    "access denied: the gateway is at its session limit, "
		    "try again later");
		snprintf(detail, sizeof(detail), "%zu of max_sessions %d sessions active", total,
		    cfg->max_sessions);
	} else if (v != NULL && v->max_sessions > 0 && of_vendor >= (size_t)v->max_sessions) {
		reason = "vendor_session_limit";
		snprintf(why, sizeof(why),
		    "access denied: %s already has its %d concurrent "
		    "session(s)",
		    e->vendor, v->max_sessions);
		snprintf(detail, sizeof(detail),
		    "vendor %s: %zu of max_sessions %d sessions active", e->vendor, of_vendor,
		    v->max_sessions);
	} else if ((reason = registry_take(
	                reg, e, cfg, notary, why, sizeof(why), detail, sizeof(detail))) == NULL)
		e->admitted = true;
reply:
	if (registry_msg_send(e->fd,
	        json_pack("{s:s, s:b, s:s, s:s, s:s}", "type", "admit", "ok", e->admitted, "why",
	            why, "reason", reason ? reason : "", "detail", detail),
	        -1) != 0)
		e->admitted = false; /* it is waiting for exactly this; without it, it refuses */
}

/* Whether a vendor is disabled by the owner, for a session that lists its person's targets
 * (the decision does not know the listener's disabled list). */
static void
registry_answer_vendor_state(struct registry_entry *e, json_t *msg, const struct registry *reg)
{
	char vendor[GW_ID_MAX + 1];

	if (!registry_msg_string(msg, "vendor", vendor, sizeof(vendor)))
		return; /* the session waits in vain and fails closed */
	if (registry_msg_send(e->fd,
	        json_pack("{s:s, s:b}", "type", "vendor_state", "disabled",
	            registry_vendor_disabled(reg, vendor)),
	        -1) != 0)
		warn_f("session process %ld: cannot answer its vendor_state", (long)e->pid);
}

/* Byte counters only grow; anything else from a session process is ignored. */
static void
registry_entry_bytes(struct registry_entry *e, json_t *msg)
{
	json_int_t in = json_integer_value(json_object_get(msg, "in"));
	json_int_t out = json_integer_value(json_object_get(msg, "out"));
	json_int_t tunnels = json_integer_value(json_object_get(msg, "tunnels"));
	json_int_t packets = json_integer_value(json_object_get(msg, "packets"));

	if (in >= (json_int_t)e->bytes_in && out >= (json_int_t)e->bytes_out) {
		e->bytes_in = (unsigned long long)in;
		e->bytes_out = (unsigned long long)out;
	}
	/* Shown, never acted on: bounded to what a connection can hold. */
	if (tunnels >= 0 && tunnels <= GW_CHANNELS_MAX)
		e->tunnels = (unsigned long long)tunnels;
	if (packets >= (json_int_t)e->packets)
		e->packets = (unsigned long long)packets;
}

/* A vendor's live sessions together record at most its max_recording_bytes (each session
 * also checks its own): past it, the largest of them is ordered to end, as by an owner's kill.
 * The counts arrive with the byte counters, so the cut may come REGISTRY_BYTES_EVERY late. */
static void
registry_vendor_recorded(
    struct registry *reg, struct registry_entry *e, json_t *msg, const struct gw_config *cfg)
{
	long long quota = recspace_quota(cfg, config_find_vendor(cfg, e->vendor));
	json_int_t recorded = json_integer_value(json_object_get(msg, "recorded"));
	struct registry_entry *largest = NULL, *o;
	unsigned long long sum = 0;
	char message[128], reason[192];
	size_t i, n = 0;

	if (recorded > (json_int_t)e->recorded)
		e->recorded = (unsigned long long)recorded;
	if (quota <= 0)
		return;
	for (i = 0; i < reg->n; i++) {
		o = &reg->entries[i];
		if (!o->admitted || o->recording_cut || strcmp(o->vendor, e->vendor) != 0)
			continue;
		sum += o->recorded;
		n++;
		if (largest == NULL || o->recorded > largest->recorded)
			largest = o;
	}
	if (largest == NULL || sum < (unsigned long long)quota)
		return;
	snprintf(message, sizeof(message),
	    "session ended: your vendor's sessions reached their recording quota (%lld bytes)",
	    quota);
	snprintf(reason, sizeof(reason),
	    "vendor recording quota reached (%llu bytes recorded by %zu sessions of %s, "
	    "max_recording_bytes %lld)",
	    sum, n, e->vendor, quota);
	warn_f("session %s: %s", largest->id, reason);
	if (registry_msg_send(largest->fd,
	        json_pack("{s:s, s:s, s:s}", "type", "kill", "message", message, "reason", reason),
	        -1) == 0)
		largest->recording_cut = true;
}

/* An audit event of the session: appended by the notary under the session id the listener gave
 * it, whatever "session" the process wrote, at the notary's time. Answered ok or not: the
 * session waits for exactly this and ends when the event was not written (fail closed). */
static void
registry_entry_audit(
    struct registry_entry *e, json_t *msg, const struct gw_config *cfg, struct notary *notary)
{
	const char *event = json_string_value(json_object_get(msg, "event"));
	json_t *fields = json_object_get(msg, "fields"), *seq = json_object_get(msg, "seq");
	int rc = -1;

	if (event == NULL || !json_is_object(fields) || !json_is_integer(seq))
		warn_f("session %s: malformed audit request refused", e->id);
	else {
		json_incref(fields);
		json_object_set_new(fields, "session", json_string(e->id));
		if ((rc = notary_audit(notary, cfg->audit_log, event, fields)) == 0) {
			e->start_audited |= strcmp(event, "session_start") == 0;
			e->end_audited |= strcmp(event, "session_end") == 0;
		} else
			crit_f("audit log %s cannot be written: %m (event %s of session %s lost)",
			    cfg->audit_log, event, e->id);
	}
	if (registry_msg_send(e->fd,
	        json_pack("{s:s, s:O?, s:b}", "type", "audit", "seq", seq, "ok", rc == 0), -1) != 0)
		warn_f("session %s: cannot answer its audit request", e->id);
}

/* The "records" of a checkpoint request: digests in hex, one after the other. NULL when
 * malformed. */
static unsigned char (*registry_records(json_t *msg, size_t *count))[SEAL_HASH_LEN]
{
	json_t *v = json_object_get(msg, "records");
	const char *hex = json_string_value(v);
	size_t len = json_string_length(v), i;
	unsigned char(*out)[SEAL_HASH_LEN];
	char one[SEAL_HEX_LEN];

	if (hex == NULL || len == 0 || len % (2 * SEAL_HASH_LEN) != 0)
		return NULL;
	*count = len / (2 * SEAL_HASH_LEN);
	out = xreallocarray(NULL, *count, sizeof(*out));
	for (i = 0; i < *count; i++) {
		memcpy(one, hex + i * 2 * SEAL_HASH_LEN, 2 * SEAL_HASH_LEN);
		one[2 * SEAL_HASH_LEN] = '\0';
		if (seal_unhex(one, out[i]) != 0) {
			free(out);
			return NULL;
		}
	}
	return out;
}

/* A checkpoint of one of the session's recordings, for the notary to sign (notary.c's rule). */
static void
registry_entry_sign(
    struct registry_entry *e, json_t *msg, const struct gw_config *cfg, struct notary *notary)
{
	char sig[SEAL_SIG_B64_LEN] = "", time[SEAL_TIME_LEN] = "";
	char recording[128], chain[SEAL_HEX_LEN], prev[SEAL_HEX_LEN], stamp[32];
	json_t *n = json_object_get(msg, "n"), *seq = json_object_get(msg, "seq");
	json_t *header = json_object_get(msg, "header"), *final = json_object_get(msg, "final");
	struct checkpoint_req req = {
		.recording = recording, .chain = chain, .prev = prev, .stamp = stamp
	};
	unsigned char(*records)[SEAL_HASH_LEN] = NULL;
	int rc = -1;

	if (!registry_msg_string(msg, "recording", recording, sizeof(recording)) ||
	    !registry_msg_string(msg, "chain", chain, sizeof(chain)) ||
	    !registry_msg_string(msg, "prev", prev, sizeof(prev)) ||
	    !registry_msg_string(msg, "stamp", stamp, sizeof(stamp)) || !json_is_integer(n) ||
	    json_integer_value(n) <= 0 || !json_is_integer(seq) ||
	    (header != NULL && !json_is_string(header)) ||
	    (final != NULL && !json_is_true(final)) ||
	    (records = registry_records(msg, &req.nrecords)) == NULL)
		warn_f("session %s: malformed checkpoint request refused", e->id);
	else {
		req.n = (unsigned long)json_integer_value(n);
		req.records = (const unsigned char(*)[SEAL_HASH_LEN])records;
		req.header = json_string_value(header);
		req.header_len = json_string_length(header);
		req.final = final != NULL;
		rc = notary_sign(notary, e->book, &req, cfg->audit_log, sig, time);
	}
	free(records);
	if (registry_msg_send(e->fd,
	        json_pack("{s:s, s:O?, s:b, s:s, s:s}", "type", "sign", "seq", seq, "ok", rc == 0,
	            "sig", sig, "time", time),
	        -1) != 0)
		warn_f("session %s: cannot answer its checkpoint request", e->id);
}

/* An auditor's export asks the notary to sign its MANIFEST (console_auditor.c): only for a
 * configured auditor, the request's size bounded by the link's message. */
static void
registry_entry_bundle_sign(
    struct registry_entry *e, json_t *msg, const struct gw_config *cfg, struct notary *notary)
{
	char sig[SEAL_SIG_B64_LEN] = "", principal[2 * GW_ID_MAX + 2];
	const struct gw_person *who;
	json_t *seq = json_object_get(msg, "seq");
	size_t len = 0;
	char *text = registry_msg_get_bytes(msg, "manifest", &len);
	int rc = -1;

	if (text == NULL || strlen(text) != len || !json_is_integer(seq) ||
	    !registry_msg_string(msg, "principal", principal, sizeof(principal)))
		warn_f("session %s: malformed bundle signing request refused", e->id);
	else if ((who = config_find_principal(cfg, principal)) == NULL ||
	    who->vendor->role != GW_ROLE_AUDITOR)
		warn_f("session %s: bundle signing refused: %s is no auditor", e->id, principal);
	else
		rc = notary_sign_bundle(notary, cfg->audit_log, e->id, principal, text, sig);
	free(text);
	if (registry_msg_send(e->fd,
	        json_pack("{s:s, s:O?, s:b, s:s}", "type", "bundle_sign", "seq", seq, "ok", rc == 0,
	            "sig", sig),
	        -1) != 0)
		warn_f("session %s: cannot answer its bundle signing request", e->id);
}

/* A session's recordings are created here, not by the session process, which cannot open
 * recording_dir (monitor_sandbox.c): named for the id the listener gave the session and the
 * channel, so that a session process can create only its own recordings and open no existing
 * one. The descriptor goes over the link (SCM_RIGHTS), write-only. */
static void
registry_entry_create_recording(struct registry_entry *e, json_t *msg, const struct gw_config *cfg)
{
	json_t *seq = json_object_get(msg, "seq"), *channel = json_object_get(msg, "channel");
	json_t *pcapng = json_object_get(msg, "pcapng");
	char *path = NULL;
	int fd = -1, err = EINVAL;

	if (e->id[0] != '\0' && json_is_integer(channel) && json_integer_value(channel) >= 0 &&
	    json_integer_value(channel) <= UINT_MAX &&
	    (pcapng == NULL || json_is_boolean(pcapng))) {
		fd = (json_is_true(pcapng) ? pcaprec_create_file : recorder_create_file)(
		    cfg->recording_dir, e->id, (unsigned)json_integer_value(channel), &path);
		err = fd == -1 ? errno : 0;
	}
	if (registry_msg_send(e->fd,
	        json_pack("{s:s, s:O?, s:s?, s:i}", "type", "recording", "seq", seq, "path",
	            fd != -1 ? path : NULL, "errno", err),
	        fd) != 0) {
		warn_f("session %s: cannot hand it its recording %s", e->id, path ? path : "?");
		if (fd != -1)
			unlink(path); /* empty: the session never had it */
	}
	if (fd != -1)
		close(fd);
	free(path);
}

/* A console command of the session's principal: carried out here, answered with what it
 * printed, and with the stream it opened (watch). */
static void
registry_entry_console(struct registry *reg, struct registry_entry *e, json_t *msg,
    const struct gw_config *cfg, struct notary *notary)
{
	int fd;
	json_t *answer = console_serve(cfg, notary, reg, e->id, msg, &fd);

	if (registry_msg_send(e->fd, answer, fd) != 0)
		warn_f("session %s: cannot answer its console command", e->id);
	if (fd != -1)
		close(fd);
}

static void
registry_entry_read(struct registry *reg, struct registry_entry *e, const struct gw_config *cfg,
    struct notary *notary, struct guard *guard)
{
	json_t *answer;
	json_t *msg;
	const char *type;
	int i, rc, fd;

	/* Bounded per round: one chatty process cannot starve the listener. */
	for (i = 0; i < 16; i++) {
		if ((rc = registry_msg_recv(e->fd, &msg, &fd)) == 0) {
			close(e->fd);
			e->fd = -1;
			registry_entry_unlist(reg, e);
			return;
		}
		if (rc == -2) {
			/* A session that breaks the protocol is not answered again: closing its
			 * link ends its wait for the answer, and so the session, at once (a cut
			 * due meanwhile must not wait out REGISTRY_CALL_TIMEOUT). */
			warn_f("session %s: ended for a malformed message on its link", e->id);
			close(e->fd);
			e->fd = -1;
			registry_entry_unlist(reg, e);
			return;
		}
		if (rc < 0)
			return;
		if (fd != -1)
			close(fd); /* session processes never pass descriptors up */
		type = registry_msg_type(msg);
		if (strncmp(type, "guard_", 6) == 0) {
			/* The lockout table answers for the connection this link was made for. */
			if ((answer = guard_answer(guard, cfg, e->pid, msg)) != NULL &&
			    registry_msg_send(e->fd, answer, -1) != 0)
				warn_f("session process %ld: cannot answer its %s", (long)e->pid,
				    type);
		} else if (strcmp(type, "admit") == 0)
			registry_admit(reg, e, msg, cfg, notary);
		else if (strcmp(type, "vendor_state") == 0)
			registry_answer_vendor_state(e, msg, reg);
		else if (strcmp(type, "bytes") == 0 && e->admitted) {
			registry_entry_bytes(e, msg);
			registry_vendor_recorded(reg, e, msg, cfg);
		} else if (strcmp(type, "end") == 0)
			registry_entry_unlist(reg, e);
		else if (strcmp(type, "cut") == 0)
			e->cut = true;
		else if (strcmp(type, "audit") == 0)
			registry_entry_audit(e, msg, cfg, notary);
		else if (strcmp(type, "sign") == 0)
			registry_entry_sign(e, msg, cfg, notary);
		else if (strcmp(type, "bundle_sign") == 0)
			registry_entry_bundle_sign(e, msg, cfg, notary);
		else if (strcmp(type, "recording") == 0)
			registry_entry_create_recording(e, msg, cfg);
		else if (strcmp(type, "console") == 0)
			registry_entry_console(reg, e, msg, cfg, notary);
		json_decref(msg);
	}
}

void
registry_handle(struct registry *reg, const struct pollfd *pfd, const struct gw_config *cfg,
    struct notary *notary, struct guard *guard)
{
	size_t k, i, n = registry_npollfds(reg);

	for (k = 0; k < n; k++) {
		if (pfd[k].revents == 0)
			continue;
		for (i = 0; i < reg->n; i++)
			if (reg->entries[i].fd == pfd[k].fd) {
				registry_entry_read(reg, &reg->entries[i], cfg, notary, guard);
				break;
			}
	}
}

static json_t *
registry_entry_json(const struct registry_entry *e)
{
	char started[GW_TIME_UTC_LEN], ends[GW_TIME_UTC_LEN];

	time_format_utc(e->started, started);
	if (e->ends_at != 0)
		time_format_utc(e->ends_at, ends);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:s?, s:s?, s:I, s:I, s:I, s:I, s:I}",
	    "id", e->id, "person", e->person, "vendor", e->vendor, "target", e->target, "source",
	    e->source, "source_port", e->port, "started", started, "ends_at",
	    e->ends_at != 0 ? ends : NULL, "ticket", e->ticket[0] ? e->ticket : NULL, "bytes_in",
	    (json_int_t)e->bytes_in, "bytes_out", (json_int_t)e->bytes_out, "tunnels",
	    (json_int_t)e->tunnels, "packets", (json_int_t)e->packets, "pid", (json_int_t)e->pid);
}

size_t
registry_count_sessions(const struct registry *reg, const char *vendor)
{
	size_t i, n = 0;

	for (i = 0; i < reg->n; i++)
		n += reg->entries[i].admitted && strcmp(reg->entries[i].vendor, vendor) == 0;
	return n;
}

json_t *
registry_list(const struct registry *reg)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < reg->n; i++)
		if (reg->entries[i].admitted)
			json_array_append_new(a, registry_entry_json(&reg->entries[i]));
	return a;
}

int
registry_resolve_session(
    json_t *sessions, const char *prefix, char id[GW_ID_MAX + 1], char *msg, size_t msglen)
{
	json_t *e, *matches = json_array();
	const json_t *shown;
	size_t i, n = strlen(prefix), off;
	int rc = -1;

	json_array_foreach (sessions, i, e) {
		const char *sid = json_string_value(json_object_get(e, "id"));

		if (n > 0 && sid != NULL && strncmp(sid, prefix, n) == 0)
			json_array_append(matches, e);
	}
	if (json_array_size(matches) == 1) {
		snprintf(id, GW_ID_MAX + 1, "%s",
		    json_string_value(json_object_get(json_array_get(matches, 0), "id")));
		rc = 0;
		goto out;
	}
	shown = json_array_size(matches) > 0 ? matches : sessions;
	if (json_array_size(matches) > 0)
		off = (size_t)snprintf(msg, msglen, "session id %s is ambiguous: %zu live sessions",
		    prefix, json_array_size(matches));
	else
		off = (size_t)snprintf(msg, msglen, "no live session's id starts with %s; %s",
		    prefix, json_array_size(sessions) > 0 ? "live sessions" : "no session is live");
	json_array_foreach (shown, i, e) {
		if (off >= msglen)
			break;
		off += (size_t)snprintf(msg + off, msglen - off, "%s %s (%s to %s)",
		    i == 0 ? ":" : ",", json_string_value(json_object_get(e, "id")),
		    json_string_value(json_object_get(e, "person")),
		    json_string_value(json_object_get(e, "target")));
	}
out:
	json_decref(matches);
	return rc;
}

static bool
registry_selects(const struct registry_entry *e, const struct control_request *req)
{
	switch (req->by) {
	case CONTROL_BY_SESSION:
		return strcmp(e->id, req->name) == 0;
	case CONTROL_BY_VENDOR:
		return strcmp(e->vendor, req->name) == 0;
	case CONTROL_BY_PERSON:
		return strcmp(e->person, req->name) == 0;
	case CONTROL_BY_TICKET:
		return strcmp(e->ticket, req->name) == 0;
	default:
		return false;
	}
}

int
registry_kill(struct registry *reg, const struct control_request *req, const char *message,
    const char *reason)
{
	size_t i;
	int n = 0;

	reg->kill_round++;
	for (i = 0; i < reg->n; i++) {
		struct registry_entry *e = &reg->entries[i];

		if (!e->admitted || !registry_selects(e, req))
			continue;
		if (registry_msg_send(e->fd,
		        json_pack("{s:s, s:s, s:s}", "type", "kill", "message", message, "reason",
		            reason),
		        -1) == 0) {
			e->kill_round = reg->kill_round;
			n++;
		} else
			warn_f("session %s: cannot deliver the kill order: %s", e->id,
			    strerror(errno));
	}
	return n;
}

unsigned
registry_kill_round(const struct registry *reg)
{
	return reg->kill_round;
}

int
registry_cuts_pending(const struct registry *reg, unsigned round)
{
	size_t i;
	int n = 0;

	/* A process that closed its link or was reaped has ended: its cut is done. */
	for (i = 0; i < reg->n; i++)
		n += reg->entries[i].kill_round == round && !reg->entries[i].cut &&
		    reg->entries[i].fd != -1;
	return n;
}

int
registry_watch(struct registry *reg, const char *session_id, int fd)
{
	size_t i;
	int rc = -1;

	for (i = 0; i < reg->n && rc != 0; i++)
		if (reg->entries[i].admitted && strcmp(reg->entries[i].id, session_id) == 0)
			rc = registry_msg_send(
			    reg->entries[i].fd, json_pack("{s:s}", "type", "watch"), fd);
	close(fd);
	return rc;
}

/* Writes the disabled set to state_dir: a temporary file, fsync, rename. */
static int
registry_disabled_save(const struct registry *reg, const char *state_dir, char **error)
{
	char *path, *tmp;
	FILE *f;
	size_t i;
	int fd, rc = -1;

	xasprintf(&path, "%s/%s", state_dir, REGISTRY_DISABLED_FILE);
	xasprintf(&tmp, "%s.tmp", path);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600)) == -1 ||
	    (f = fdopen(fd, "w")) == NULL) {
		xasprintf(error, "cannot write %s: %s", tmp, strerror(errno));
		if (fd != -1)
			close(fd);
		goto out;
	}
	for (i = 0; i < reg->ndisabled; i++)
		fprintf(f, "%s\n", reg->disabled[i]);
	if (fflush(f) != 0 || fsync(fd) != 0 || ferror(f)) {
		xasprintf(error, "cannot write %s: %s", tmp, strerror(errno));
		fclose(f);
		unlink(tmp);
		goto out;
	}
	fclose(f);
	if (rename(tmp, path) != 0) {
		xasprintf(error, "cannot replace %s: %s", path, strerror(errno));
		unlink(tmp);
		goto out;
	}
	rc = 0;
out:
	free(tmp);
	free(path);
	return rc;
}

static void
registry_disabled_set(struct registry *reg, const char *vendor, bool disabled)
{
	size_t i;

	if (disabled) {
		reg->disabled = xreallocarray(reg->disabled, reg->ndisabled + 1, sizeof(char *));
		reg->disabled[reg->ndisabled++] = xstrdup(vendor);
		return;
	}
	for (i = 0; i < reg->ndisabled; i++)
		if (strcmp(reg->disabled[i], vendor) == 0) {
			free(reg->disabled[i]);
			reg->disabled[i] = reg->disabled[--reg->ndisabled];
			return;
		}
}

int
registry_set_vendor_disabled(
    struct registry *reg, const char *state_dir, const char *vendor, bool disabled, char **error)
{
	if (registry_vendor_disabled(reg, vendor) == disabled)
		return 1;
	registry_disabled_set(reg, vendor, disabled);
	if (registry_disabled_save(reg, state_dir, error) != 0) {
		/* Not persisted: undo, so memory never claims what a restart would forget. */
		registry_disabled_set(reg, vendor, !disabled);
		return -1;
	}
	if (reg->store != NULL)
		store_vendor_changed(reg->store, vendor, disabled);
	return 0;
}
