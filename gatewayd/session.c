/* session.c: one vendor connection, linearly: key exchange, authentication, decision,
 * target connection, relay, sealing. Never writes to the vendor before authentication
 * except the SSH protocol itself and user-name syntax hints. */
#include "gatewayd/gatewayd.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/rand.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "gatewayd/console.h"
#include "tools/bundle.h"

#define SESSION_NOTICE_LINGER  10  /* seconds a refused connection may stay */
#define SESSION_CONSOLE_LINGER 120 /* seconds a console login may take to send a signature */
#define SESSION_ALIVE_SLACK_MS 50  /* how much earlier than a keepalive an answer may seem */

/* After login_grace_time the listener ends a connection first (and audits it, with the
 * source's penalty); a session process ends itself this much later if it did not. */
#define SESSION_GRACE_SLACK_MS 2000

static void
session_new_id(char *out)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[SESSION_ID_LEN / 2];
	size_t i;

	if (RAND_bytes(raw, sizeof(raw)) != 1) {
		crit_f("no randomness for a session id");
		_exit(1);
	}
	for (i = 0; i < sizeof(raw); i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 15];
	}
	out[SESSION_ID_LEN] = '\0';
}

static void
session_peer(struct session *s)
{
	int fd = frontlink_vendor_fd(s->front), one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	guard_source_name(fd, s->client_addr, &s->client_port);
}

int
session_audit(struct session *s, const char *event, json_t *fields)
{
	/* A field that could not be built (audit_pack() said NULL) is no reason to write the
	 * event without it: the action it records is refused, and the session ends (fail
	 * closed), like a log that cannot be written. */
	if (fields == NULL) {
		if (!s->fatal)
			crit_f(
			    "%s: audit event %s cannot be built: ending the session (fail closed)",
			    s->id, event);
		s->fatal = true;
		snprintf(s->end_reason, sizeof(s->end_reason), "audit event cannot be built");
		return -1;
	}
	json_object_set_new(fields, "session", json_string(s->id));
	json_object_set_new(fields, "client", json_string(s->client_addr));
	json_object_set_new(fields, "client_port", json_integer(s->client_port));
	/* The listener appends it (notary.c): this process holds no descriptor on the log. */
	if (registry_link_audit(s->link, event, fields) != 0) {
		if (!s->fatal)
			crit_f(
			    "%s: audit log %s cannot be written: ending the session (fail closed)",
			    s->id, s->cfg->audit_log);
		s->fatal = true;
		snprintf(s->end_reason, sizeof(s->end_reason), "audit log write failed");
		return -1;
	}
	return 0;
}

static const char *
session_channel_names(unsigned bits, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s%s", bits & GW_CHAN_SHELL ? "shell " : "",
	    bits & GW_CHAN_EXEC ? "exec " : "", bits & GW_CHAN_UPLOAD ? "upload " : "",
	    bits & GW_CHAN_DOWNLOAD ? "download " : "");
	if (buf[0] != '\0')
		buf[strlen(buf) - 1] = '\0';
	return buf;
}

/* The ticket store and revocations, read per decision so that installs and revocations
 * apply at once; NULL when they cannot be read (callers then refuse: fail closed). */
struct ticket_set *
session_load_tickets(struct session *s)
{
	struct ticket_set *set;
	char *errors = NULL;

	/* Only the person's vendor's tickets can cover it: with thousands installed, verifying
	 * the others' signatures would be most of a decision's time. */
	if (ticketstore_load(s->cfg->state_dir, s->cfg,
	        s->person != NULL ? s->person->vendor->id : NULL, &set, &errors) != 0)
		set = NULL;
	if (errors != NULL)
		error_f("%s: ticket store: %s", s->id, errors);
	free(errors);
	return set;
}

/* "until 18:00 CET / 17:00Z (access window)": when an allowed decision ends and why, on the
 * site's clock (display_tz) with UTC. */
static void
session_format_end(
    const struct gw_config *cfg, const struct decision *d, time_t now, char *buf, size_t len)
{
	char at[96];

	time_format_site(cfg->display_tz, d->ends_at, now, at, sizeof(at));
	snprintf(buf, len, "until %s (%s)", at, d->ends_by);
}

/* PERSON alone: which targets this person may reach right now. */
static void
session_list_targets(struct session *s)
{
	const struct gw_config *cfg = s->cfg;
	struct access_request req = { .person = s->person->id, .now = time(NULL) };
	struct ticket_set *tickets = session_load_tickets(s);
	struct decision d;
	size_t i, used = 0, count = 0;
	char kinds[64], until[GW_REASON_MAX];
	/* The owner's disabled list is the listener's: no target is open while it says so. */
	int n, disabled = registry_link_vendor_disabled(s->link, s->person->vendor->id);

	n = snprintf(s->refusal, sizeof(s->refusal), "Targets open to %s now:\r\n", s->person->id);
	used = n > 0 ? (size_t)n : 0;
	for (i = 0; disabled == 0 && i < cfg->ntargets && used < sizeof(s->refusal); i++) {
		req.target = cfg->targets[i].name;
		policy_decide(cfg, tickets, &req, &d);
		if (!d.allow)
			continue;
		count++;
		session_format_end(cfg, &d, req.now, until, sizeof(until));
		n = snprintf(s->refusal + used, sizeof(s->refusal) - used, "  %-24s %-28s %s\r\n",
		    cfg->targets[i].name, session_channel_names(d.channels, kinds, sizeof(kinds)),
		    until);
		used += n > 0 ? (size_t)n : 0;
	}
	ticketset_free(tickets);
	if (count == 0 && used < sizeof(s->refusal))
		snprintf(s->refusal + used, sizeof(s->refusal) - used, "  (none%s)\r\n",
		    disabled > 0       ? ": vendor access disabled by the asset owner"
		        : disabled < 0 ? ": the gateway cannot check your vendor's state now"
		                       : "");
	s->phase = PHASE_CONSOLE;
	session_audit(s, "target_list",
	    audit_pack("{s:s, s:s, s:I}", "person", s->person->id, "vendor", s->person->vendor->id,
	        "targets", (json_int_t)count));
}

/* The listener's caps and disabled vendors (registry.c), after policy allowed the session:
 * a refusal is its own audit event, and uses no ticket. Within them the listener records the
 * session's use of its ticket, or finds it used up: then 0 with the decision a refusal. */
static int
session_admit(struct session *s)
{
	struct registry_session info = { .id = s->id,
		.person = s->person->id,
		.vendor = s->person->vendor->id,
		.target = s->uname.target,
		.ticket = s->decision.ticket_id,
		.source = s->client_addr,
		.port = s->client_port,
		.started = s->started,
		.ends_at = s->decision.ends_at };
	char reason[64], detail[256];

	if (registry_link_admit(s->link, &info, s->refusal, sizeof(s->refusal), reason,
	        sizeof(reason), detail, sizeof(detail)) == 0)
		return 0;
	if (strcmp(reason, "ticket_used_up") == 0) {
		/* The listener counts a ticket's uses (one writer): its "no" is the decision's
		 * refusal of a used-up ticket, audited and told as that. */
		s->decision.allow = false;
		s->decision.reason = DENY_TICKET_USED_UP;
		snprintf(s->decision.vendor_msg, sizeof(s->decision.vendor_msg),
		    "approval ticket %s has no sessions left", s->decision.ticket_id);
		snprintf(s->decision.audit_msg, sizeof(s->decision.audit_msg), "%s", detail);
		return 0;
	}
	session_audit(s, "session_refused",
	    audit_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "person", s->person->id, "vendor",
	        s->person->vendor->id, "target", s->uname.target, "reason", reason, "detail",
	        detail, "ticket", s->decision.ticket_id));
	s->phase = PHASE_DENIED;
	return -1;
}

/* No session starts that could not be recorded to its end: below the free-space reserve of
 * recording_dir a new session is refused before the disk is full, with no ticket used. */
static int
session_admit_disk(struct session *s)
{
	char detail[256];

	if (recspace_admits(s->cfg, recspace_free(s->cfg->recording_dir), detail, sizeof(detail)))
		return 0;
	warn_f("%s: refusing %s: %s", s->id, s->person->id, detail);
	snprintf(s->refusal, sizeof(s->refusal),
	    "session refused: the gateway cannot record: recording disk full");
	session_audit(s, "session_refused",
	    audit_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "person", s->person->id, "vendor",
	        s->person->vendor->id, "target", s->uname.target, "reason", "recording_disk_full",
	        "detail", detail, "ticket", s->decision.ticket_id));
	s->phase = PHASE_DENIED;
	return -1;
}

static void session_decide(struct session *s);

/* Decided, and connected to the target with its credential (now only in memory): from here on
 * the process opens nothing but tickets, revocations, revocation lists and time zones, whatever
 * the code that runs in it (monitor_sandbox.c); its recordings come from the listener. PAM,
 * which reads files under /etc, is over. A session that cannot be fenced in does not relay
 * (fail closed). */
static void
session_isolate(struct session *s)
{
	int fds[BUNDLE_PLAYER_FILES];

	/* An auditor's export copies the player into the bundle; its sandbox opens no file but
	 * the evidence. Without one the export says so, the console works on. */
	if (s->person->vendor->role == GW_ROLE_AUDITOR &&
	    bundle_player_open(bundle_player_dir(), fds) == 0) {
		s->player_fds = xmalloc(sizeof(fds));
		memcpy(s->player_fds, fds, sizeof(fds));
	}
	if (monitor_sandbox_enter(s->cfg, s->person->vendor) == 0)
		return;
	crit_f(
	    "%s: the session process cannot enter its sandbox: refusing %s", s->id, s->person->id);
	if (s->target != NULL) {
		ssh_event_remove_session(s->event, s->target);
		ssh_disconnect(s->target);
		ssh_free(s->target);
		s->target = NULL;
	}
	snprintf(s->refusal, sizeof(s->refusal), "session refused: gateway error");
	snprintf(s->end_reason, sizeof(s->end_reason), "session sandbox cannot be entered");
	s->phase = PHASE_DENIED;
}

/* Authenticated: the login grace time no longer applies, and the decision comes before
 * anything else the vendor sent after its last method (a channel open, in the same round). */
static void
session_authenticated(struct session *s)
{
	if (s->phase != PHASE_DECIDE)
		return;
	guard_session_authenticated(s);
	session_decide(s);
	session_isolate(s);
}

static void
session_decide(struct session *s)
{
	struct access_request req = {
		.person = s->person->id, .target = s->uname.target, .now = time(NULL)
	};
	char why[GW_REASON_MAX], detail[512];
	struct ticket_set *tickets;
	json_t *approvers;

	if (s->person->vendor->role != GW_ROLE_VENDOR) {
		/* An approver's or auditor's console: no target, the listener does the work. */
		char *help = console_help(s->person);

		if (s->uname.target[0] != '\0')
			snprintf(s->refusal, sizeof(s->refusal),
			    "access denied: %s logs in without a target", s->person->id);
		else
			snprintf(s->refusal, sizeof(s->refusal), "%s", help);
		free(help);
		s->phase = s->uname.target[0] != '\0' ? PHASE_DENIED : PHASE_CONSOLE;
		session_audit(s, "console_login",
		    audit_pack("{s:s, s:s, s:b}", "principal", s->person->id, "key_fp", s->key_fp,
		        "allow", s->phase == PHASE_CONSOLE));
		return;
	}
	if (s->uname.target[0] == '\0') {
		session_list_targets(s);
		return;
	}
	if ((tickets = session_load_tickets(s)) == NULL) {
		snprintf(
		    s->refusal, sizeof(s->refusal), "access denied: approvals cannot be checked");
		s->phase = PHASE_DENIED;
		return;
	}
	policy_decide(s->cfg, tickets, &req, &s->decision);
	ticketset_free(tickets);
	if (s->decision.allow && session_admit_disk(s) != 0)
		return;
	if (s->decision.allow && session_admit(s) != 0)
		return;
	/* "approver" (the first) stays for readers from before dual control (issue 16). */
	approvers = recorder_names_array(s->decision.approvers);
	if (session_audit(s, "access_decision",
	        audit_pack("{s:s, s:s, s:s, s:b, s:s, s:s, s:s, s:s, s:o}", "person", s->person->id,
	            "vendor", s->person->vendor->id, "target", s->uname.target, "allow",
	            s->decision.allow, "reason", deny_reason_name(s->decision.reason), "detail",
	            s->decision.audit_msg, "ticket", s->decision.ticket_id, "approver",
	            json_array_size(approvers) > 0 ? json_string_value(json_array_get(approvers, 0))
	                                           : "",
	            "approvers", approvers)) != 0) {
		snprintf(s->refusal, sizeof(s->refusal),
		    "access denied: the audit log cannot be written");
		s->phase = PHASE_DENIED;
		return;
	}
	if (!s->decision.allow) {
		snprintf(
		    s->refusal, sizeof(s->refusal), "access denied: %s", s->decision.vendor_msg);
		s->phase = PHASE_DENIED;
		return;
	}
	s->target_cfg = config_find_target(s->cfg, s->uname.target);
	tunnel_resolve_all(s);
	/* A device without SSH (a PLC) has no leg to open: its session only forwards (tunnel.c). */
	if (s->target_cfg->ssh)
		s->target = target_connect(s->target_cfg, why, sizeof(why), detail, sizeof(detail));
	if (s->target_cfg->ssh && s->target == NULL) {
		error_f("%s: %s", s->id, detail);
		session_audit(s, "target_connect_failed",
		    audit_pack("{s:s, s:s, s:s, s:s}", "person", s->person->id, "target",
		        s->target_cfg->name, "reason", why, "detail", detail));
		snprintf(s->refusal, sizeof(s->refusal), "%s", why);
		s->phase = PHASE_DENIED;
		return;
	}
	if (s->target != NULL) {
		ssh_set_blocking(s->target, 0);
		ssh_event_add_session(s->event, s->target);
	}
	s->phase = PHASE_RELAY;
	/* The vendor waited for the decision and the target's connect: not its silence. */
	s->alive_answered_ms = session_now_ms();
	session_audit(s, "session_start",
	    audit_pack("{s:s, s:s, s:s, s:s?, s:s}", "person", s->person->id, "vendor",
	        s->person->vendor->id, "target", s->target_cfg->name, "target_user",
	        s->target_cfg->user, "key_fp", s->key_fp));
}

bool
session_gone(ssh_session ss)
{
	return ss == NULL || !ssh_is_connected(ss) ||
	    (ssh_get_status(ss) & (SSH_CLOSED | SSH_CLOSED_ERROR)) != 0;
}

long long
session_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The instant a cut is decided: nothing more from the vendor is relayed and no channel opens
 * (relay.c reads s->closing), the audit log says which cut it was, and the listener hears
 * that the order took effect. Safe inside any libssh callback: frees nothing, waits for
 * nothing. The first cut wins; the rest of the work is session_cut_finish's. */
static void
session_cut_decide(struct session *s, const char *message, const char *reason)
{
	if (s->cut || s->closing || s->phase != PHASE_RELAY)
		return;
	s->cut = s->closing = true;
	s->cut_ms = session_now_ms();
	s->phase = PHASE_END;
	snprintf(s->end_reason, sizeof(s->end_reason), "%s", reason);
	snprintf(s->cut_message, sizeof(s->cut_message), "%s", message ? message : "");
	session_audit(s, "session_cut",
	    audit_pack("{s:s, s:s, s:s, s:s}", "person", s->person->id, "vendor",
	        s->person->vendor->id, "target", s->target_cfg->name, "reason", reason));
	registry_link_cut(s->link, reason);
}

/* Every channel is told why (as far as its window allows), every recording keeps the reason. */
static void
session_cut_finish(struct session *s)
{
	if (s->ended)
		return;
	relay_close_all(s, s->cut_message[0] ? s->cut_message : NULL, s->end_reason);
	s->ended = true;
}

/* Cuts a live session: decided and carried out at once (from the session loop). */
static void
session_cut(struct session *s, const char *message, const char *reason)
{
	session_cut_decide(s, message, reason);
	if (s->cut)
		session_cut_finish(s);
}

/* SIGTERM, the service stopping: every channel is told, every recording sealed with why. */
static void
session_stop(struct session *s)
{
	if (s->phase == PHASE_RELAY || s->cut) {
		session_cut(s, "session ended: the gateway is stopping", "gateway stopped");
		return;
	}
	snprintf(s->end_reason, sizeof(s->end_reason), "gateway stopped");
	relay_close_all(s, "the gateway is stopping", s->end_reason);
}

static void
session_format_left(long secs, char *buf, size_t len)
{
	if (secs >= 120)
		snprintf(buf, len, "%ld minutes", (secs + 30) / 60);
	else
		snprintf(buf, len, "%ld seconds", secs);
}

/* R4: warnings before the scheduled end, then the end itself. */
static void
session_check_schedule(struct session *s)
{
	time_t now = time(NULL), end = s->decision.ends_at;
	char msg[512], left[32], at[GW_ID_MAX + 64];
	size_t i;
	bool due = false;

	if (s->phase != PHASE_RELAY || end == 0 || s->ended)
		return;
	if (now >= end) {
		snprintf(msg, sizeof(msg), "session ended: its %s has ended", s->decision.ends_by);
		snprintf(at, sizeof(at), "scheduled end reached (%s)", s->decision.ends_by);
		session_cut(s, msg, at);
		return;
	}
	for (i = 0; i < s->cfg->nwarn_before; i++)
		if (!s->warned[i] && now >= end - s->cfg->warn_before[i])
			due = true;
	if (!due)
		return;
	session_format_left((long)(end - now), left, sizeof(left));
	time_format_site(s->cfg->display_tz, end, now, at, sizeof(at));
	snprintf(msg, sizeof(msg), "this session ends in %s, at %s: its %s ends", left, at,
	    s->decision.ends_by);
	/* Shown once a channel is there to show it on; all warnings already due count as given. */
	if (relay_tell_all(s, msg) == 0)
		return;
	for (i = 0; i < s->cfg->nwarn_before; i++)
		if (now >= end - s->cfg->warn_before[i])
			s->warned[i] = true;
}

/* The new policy, adopted by a session it still admits: the person, target and grant in it
 * replace the old ones (new transfers get its paths and limits), kinds it no longer grants are
 * refused from now on and their open channels closed, the scheduled end only comes earlier. */
static void
session_adopt(struct session *s, struct gw_config *cfg, const struct decision *d)
{
	char kinds[64], ends[GW_TIME_UTC_LEN];
	int closed;

	s->person = config_find_principal(cfg, s->person->id);
	s->target_cfg = config_find_target(cfg, s->target_cfg->name);
	s->decision.channels =
	    config_find_grant(cfg, s->person->vendor->id, s->target_cfg->name)->channels;
	if (d->allow && d->ends_at != 0 &&
	    (s->decision.ends_at == 0 || d->ends_at < s->decision.ends_at)) {
		s->decision.ends_at = d->ends_at;
		memcpy(s->decision.ends_by, d->ends_by, sizeof(s->decision.ends_by));
	}
	s->cfg = cfg;
	config_free(s->cfg_reloaded); /* nothing points into the previous one any more */
	s->cfg_reloaded = cfg;
	closed = relay_close_ungranted(s);
	if (s->decision.ends_at != 0)
		time_format_utc(s->decision.ends_at, ends);
	session_audit(s, "session_redecided",
	    audit_pack("{s:s, s:s, s:s, s:I, s:s?}", "person", s->person->id, "target",
	        s->target_cfg->name, "granted",
	        session_channel_names(s->decision.channels, kinds, sizeof(kinds)),
	        "channels_closed", (json_int_t)closed, "ends_at",
	        s->decision.ends_at != 0 ? ends : NULL));
}

/* A reload: the session is decided again under the new policy, as at its start, and the key
 * it authenticated with checked again. What no longer admits it (person, key, vendor, target,
 * grant, window, ticket) cuts it, with the reason; otherwise it runs on under the new policy. */
static void
session_redecide(struct session *s, struct gw_config *cfg)
{
	struct access_request req = {
		.person = s->person->id, .target = s->target_cfg->name, .now = time(NULL)
	};
	char why[GW_REASON_MAX + 64], reason[GW_AUDIT_MSG_MAX + 64];
	struct ticket_set *tickets;
	struct gw_ticket *own;
	struct decision d;

	if ((tickets = session_load_tickets(s)) == NULL) {
		config_free(cfg);
		session_cut(s, "session ended: approvals cannot be checked",
		    "configuration reloaded: tickets cannot be read");
		return;
	}
	/* The session's own start is one of its ticket's uses: decided again, it does not count
	 * against itself, or a ticket at its max_sessions would refuse the very session it admits
	 * (and the decision's scheduled end, a narrowed window's, would be lost). */
	if ((own = ticketset_find_ticket(tickets, s->decision.ticket_id)) != NULL &&
	    own->used_sessions > 0)
		own->used_sessions--;
	policy_decide(cfg, tickets, &req, &d);
	ticketset_free(tickets);
	/* Still used up: sessions that started together past max_sessions (their uses are counted
	 * after the decision); a reload is no reason to end them. */
	if (!d.allow && d.reason != DENY_TICKET_USED_UP) {
		snprintf(why, sizeof(why), "session ended: %s (configuration reloaded)",
		    d.reason == DENY_VENDOR_DISABLED ? "vendor account disabled" : d.vendor_msg);
		snprintf(reason, sizeof(reason), "configuration reloaded: %s", d.audit_msg);
		session_cut(s, why, reason);
	} else if (auth_recheck(
	               s, cfg, config_find_principal(cfg, s->person->id), why, sizeof(why)) != 0) {
		snprintf(reason, sizeof(reason), "configuration reloaded: %s", why);
		session_cut(s, "session ended: access withdrawn (configuration reloaded)", reason);
	}
	if (s->cut)
		config_free(cfg);
	else
		session_adopt(s, cfg, &d);
}

/* A reload: the listener hands the configuration it applied over the link, as this process
 * cannot open the file (monitor_sandbox.c). A reload whose text did not come (SIGHUP alone) or
 * does not parse here ends the session: it never runs on under the old policy. True when a
 * reload came. */
static bool
session_reload(struct session *s)
{
	char *text = NULL, *errors = NULL, reason[GW_AUDIT_MSG_MAX];
	struct gw_config *cfg = NULL;
	int got = registry_link_take_config(s->link, &text);

	if (got == 0 && !s->reload_missed)
		return false;
	s->reload_missed = false;
	if (got != 1) {
		snprintf(reason, sizeof(reason),
		    "configuration reloaded: the new configuration did not reach the session");
	} else if (config_load_text(s->cfg->path, text, &cfg, &errors) != 0) {
		error_f("%s: the reloaded configuration does not parse here: %s", s->id, errors);
		snprintf(reason, sizeof(reason),
		    "configuration reloaded: the new configuration cannot be read by the session");
	}
	free(text);
	free(errors);
	if (cfg == NULL) {
		session_cut(
		    s, "session ended: access cannot be checked (configuration reloaded)", reason);
		return true;
	}
	session_redecide(s, cfg);
	return true;
}

/* A revoked ticket, a disabled vendor, a withdrawn grant: the session ends now (R4). */
static void
session_recheck(struct session *s)
{
	const struct gw_revocation *rv;
	struct ticket_set *set;
	char *errors = NULL, reason[160];
	bool changed;

	if (s->phase != PHASE_RELAY || s->ended)
		return;
	changed = s->recheck_tickets;
	if (s->recheck_tickets) {
		s->recheck_tickets = false;
		set = ticketset_new();
		if (revocation_load(s->cfg->state_dir, set, &errors) != 0) {
			error_f("%s: revocations cannot be read: %s", s->id, errors ? errors : "");
			session_cut(s, "session ended: approvals cannot be checked",
			    "revocations cannot be read");
		} else if (s->decision.ticket_id[0] != '\0' &&
		    (rv = ticketset_find_revocation(set, s->decision.ticket_id)) != NULL) {
			snprintf(reason, sizeof(reason), "ticket %s revoked: %s",
			    s->decision.ticket_id, rv->reason ? rv->reason : "");
			session_cut(s, "session ended: its approval ticket was revoked", reason);
		}
		free(errors);
		errors = NULL;
		ticketset_free(set);
	}
	if (!s->ended && session_reload(s))
		changed = true;
	/* Tunnels to other targets run under their own tickets, windows and grants. */
	if (changed && !s->ended)
		tunnel_recheck(s);
}

/* A vendor silent for client_alive_interval is asked for an answer (keepalive@openssh.com
 * with want-reply); after client_alive_count_max unanswered keepalives the session ends, so a
 * frozen client or a cut network cannot hold a session open. libssh 0.10.6 does not report
 * the answer (ssh_send_keepalive always returns SSH_OK), so silence is measured where the
 * answer lands: the kernel's time since data last arrived on the vendor's socket. */
static void
session_check_alive(struct session *s)
{
	long interval = s->cfg->client_alive_interval * 1000L, elapsed, silence;
	long long now = session_now_ms();
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	if (interval == 0 || s->phase != PHASE_RELAY || s->ended) {
		s->alive_due_ms = -1;
		return;
	}
	/* Nothing is decided before the next check is due: a bulk transfer runs this loop per
	 * 4 KiB libssh reads, and the syscall was a tenth of the gateway's. */
	if (s->alive_due_ms > now)
		return;
	s->alive_due_ms = -1;
	if (getsockopt(frontlink_vendor_fd(s->front), IPPROTO_TCP, TCP_INFO, &ti, &len) != 0)
		return;
	/* Something came after the last keepalive. The kernel counts silence in jiffies (up to
	 * 10 ms each), so an answer back within the same tick, as on loopback, can seem to
	 * predate its keepalive; without the slack no keepalive was sent for the next interval
	 * and an answering vendor was cut. Counting too many answers only sends one more probe:
	 * the cut is decided by the silence alone. */
	if (now - ti.tcpi_last_data_recv + SESSION_ALIVE_SLACK_MS >= s->alive_sent_ms)
		s->alive_probes = 0;
	/* Waiting for the gateway's answer is not silence: counted from the answer at most. */
	silence = (long)ti.tcpi_last_data_recv;
	if (s->alive_answered_ms != 0 && now - s->alive_answered_ms < silence)
		silence = (long)(now - s->alive_answered_ms);
	elapsed = silence / interval;
	if (elapsed > s->cfg->client_alive_count_max) {
		warn_f("%s: %s sent nothing for %ld s: ending the session", s->id, s->client_addr,
		    silence / 1000);
		session_cut(s, NULL, "vendor not responding (keepalive timeout)");
		return;
	}
	if (elapsed > 0 && s->alive_probes < (unsigned)elapsed) {
		frontlink_send_keepalive(s->front);
		s->alive_probes = (unsigned)elapsed;
		s->alive_sent_ms = now;
	}
	s->alive_due_ms = now + (elapsed + 1) * interval - silence + 10;
}

static int
session_link_cb(socket_t fd, int revents, void *userdata)
{
	struct session *s = userdata;
	const char *message, *reason;

	(void)fd;
	(void)revents;
	registry_link_read(s->link);
	/* The owner's cut takes effect here, before another vendor packet is read. */
	if (registry_link_killed(s->link, &message, &reason))
		session_cut_decide(s, message, reason);
	return 0;
}

/* The owner's orders, the live listing and watchers; without a listener, sessions go on. */
static void
session_link_step(struct session *s)
{
	const char *message, *reason;

	if (s->link != NULL && registry_link_lost(s->link) && s->link_polled) {
		ssh_event_remove_fd(s->event, registry_link_fd(s->link));
		s->link_polled = false;
	}
	if (registry_link_killed(s->link, &message, &reason))
		session_cut(s, message, reason);
	registry_link_tick(s->link);
}

static int
session_watch_cb(socket_t fd, int revents, void *userdata)
{
	struct session *s = userdata;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	struct signalfd_siginfo si;
	ssize_t n, off;

	(void)revents;
	if (fd == s->signal_fd) {
		while (read(fd, &si, sizeof(si)) == sizeof(si)) {
			if (si.ssi_signo == SIGTERM) {
				s->stopping = true;
				session_cut_decide(
				    s, "session ended: the gateway is stopping", "gateway stopped");
			} else /* the listener could not hand this process a reload (registry.c) */
				s->reload_missed = true;
		}
		return 0;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		for (off = 0; off + (ssize_t)sizeof(*ev) <= n;
		     off += (ssize_t)sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)(buf + off);
			if (ev->len > 0 && strcmp(ev->name, "revocations") == 0)
				s->recheck_tickets = true;
		}
	return 0;
}

/* Revocations and policy reloads reach the session as events, not by polling. */
static void
session_watch_start(struct session *s)
{
	sigset_t mask;

	s->watch_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (s->watch_fd != -1 &&
	    inotify_add_watch(s->watch_fd, s->cfg->state_dir, IN_CLOSE_WRITE | IN_MOVED_TO) == -1) {
		close(s->watch_fd);
		s->watch_fd = -1;
	}
	if (s->watch_fd != -1)
		ssh_event_add_fd(s->event, s->watch_fd, POLLIN, session_watch_cb, s);
	else /* still bounded: session_loop then re-reads revocations every 2 s */
		warn_f("%s: cannot watch %s for revocations (%m): checking every 2 s", s->id,
		    s->cfg->state_dir);
	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	if ((s->signal_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) != -1)
		ssh_event_add_fd(s->event, s->signal_fd, POLLIN, session_watch_cb, s);
	if (s->link != NULL)
		s->link_polled = ssh_event_add_fd(s->event, registry_link_fd(s->link), POLLIN,
		                     session_link_cb, s) == SSH_OK;
}

static void
session_watch_stop(struct session *s)
{
	if (s->watch_fd != -1) {
		ssh_event_remove_fd(s->event, s->watch_fd);
		close(s->watch_fd);
	}
	if (s->signal_fd != -1) {
		ssh_event_remove_fd(s->event, s->signal_fd);
		close(s->signal_fd);
	}
	if (s->link_polled)
		ssh_event_remove_fd(s->event, registry_link_fd(s->link));
}

static int
session_idle_limit(const struct session *s)
{
	int v = s->person != NULL ? s->person->vendor->idle_timeout : -1;

	return v >= 0 ? v : s->cfg->idle_timeout;
}

/* R4: no vendor input and no target output for idle_timeout seconds ends the session. */
static void
session_check_idle(struct session *s)
{
	int limit = session_idle_limit(s);
	unsigned long long bytes = 0;
	const struct relay *r;
	time_t now = time(NULL);
	char msg[64], reason[64];

	if (s->phase != PHASE_RELAY || s->ended || limit == 0)
		return;
	TAILQ_FOREACH (r, &s->relays, entry)
		bytes += r->bytes_in + r->bytes_out;
	if (s->last_activity == 0 || bytes != s->idle_bytes) {
		s->idle_bytes = bytes;
		s->last_activity = now;
		return;
	}
	if (now - s->last_activity < limit)
		return;
	snprintf(msg, sizeof(msg), "idle for %d s: session ended", limit);
	snprintf(reason, sizeof(reason), "idle timeout (%d s without input or output)", limit);
	session_cut(s, msg, reason);
}

/* The recording disk is shared by every session: one that recorded its quota, or whose
 * recording would take the disk below its floor, is cut while its seal still fits. The free
 * space is read after each RECSPACE_CHECK_BYTES recorded or once a second while recording. */
static void
session_check_recording(struct session *s)
{
	unsigned long long recorded;
	long long free_bytes = -1;
	char msg[160], reason[192];
	time_t now;

	if (s->phase != PHASE_RELAY || s->ended)
		return;
	recorded = relay_recorded_bytes(s);
	registry_link_recorded(s->link, recorded);
	now = time(NULL);
	if (recorded != s->disk.checked &&
	    (recorded - s->disk.checked >= RECSPACE_CHECK_BYTES || now != s->disk.checked_at)) {
		free_bytes = recspace_free(s->cfg->recording_dir);
		s->disk.checked = recorded;
		s->disk.checked_at = now;
	}
	if (recspace_check_session(s->cfg, s->person->vendor, recorded, free_bytes, msg,
	        sizeof(msg), reason, sizeof(reason)) == RECSPACE_OK)
		return;
	warn_f("%s: %s: %s", s->id, s->person->id, reason);
	session_cut(s, msg, reason);
}

/* When a connection not yet authenticated ends itself. The listener ends it at
 * login_grace_time (and audits it, with the source's penalty); this is the defence behind
 * that: at the grace time when the listener is gone (sessions outlive it), a little later
 * when the listener is there but did not act. */
static long long
session_grace_due_ms(const struct session *s)
{
	bool listener = s->link != NULL && !registry_link_lost(s->link);

	return s->grace_end_ms + (listener ? SESSION_GRACE_SLACK_MS : 0);
}

/* The session ends a connection that outlasted its grace time: logged and audited here, as
 * the listener does when it is the one that ends it. */
static void
session_end_grace(struct session *s)
{
	char key[GUARD_KEY_LEN];

	info_f("%s: %s:%d did not authenticate within %d s: closed by the session", s->id,
	    s->client_addr, s->client_port, s->cfg->login_grace_time);
	guard_source_key(&s->cfg->per_source, s->client_addr, key);
	session_audit(s, "login_timeout",
	    audit_pack("{s:s, s:i, s:s}", "source", key, "grace_s", s->cfg->login_grace_time,
	        "ended_by", "session"));
	snprintf(s->end_reason, sizeof(s->end_reason), "login grace time over");
	/* Nothing to linger for: no channel was ever open. */
	frontlink_cut(s->front);
}

/* A connection still authenticating at its grace time is closed. */
static bool
session_check_grace(struct session *s)
{
	if (s->phase != PHASE_AUTH || session_now_ms() < session_grace_due_ms(s))
		return false;
	session_end_grace(s);
	return true;
}

/* Sleep until I/O, the next flush, the next warning or the scheduled end; never spin. */
static int
session_poll_timeout(struct session *s)
{
	time_t now = time(NULL), end = s->decision.ends_at, next = 0, t;
	long ms = registry_link_timeout(s->link);
	size_t i;

	if (s->phase == PHASE_AUTH &&
	    (t = (time_t)(session_grace_due_ms(s) - session_now_ms())) < 1000)
		return t > 0 ? (int)t : 0;
	if (s->phase != PHASE_RELAY)
		return 1000;
	if (s->repump)
		return 0;
	if (relay_flush_due(s) != 0 && (ms == -1 || ms > 1000))
		ms = 1000;
	if (s->watch_fd == -1 && !s->ended)
		ms = ms == -1 || ms > 2000 ? 2000 : ms;
	if (s->alive_due_ms >= 0) {
		t = (time_t)(s->alive_due_ms - session_now_ms());
		t = t > 0 ? t : 0;
		if (ms == -1 || t < ms)
			ms = t;
	}
	if (end != 0 && !s->ended) {
		next = end;
		for (i = 0; i < s->cfg->nwarn_before; i++) {
			t = end - s->cfg->warn_before[i];
			if (!s->warned[i] && t > now && t < next)
				next = t;
		}
		t = next > now ? (next - now) * 1000 : 0;
		if (t > 86400000)
			t = 86400000;
		if (ms == -1 || t < ms)
			ms = (long)t;
	}
	if ((t = tunnel_next_end(s)) != 0 && !s->ended) {
		t = t > now ? (t - now) * 1000 : 0;
		if (ms == -1 || t < ms)
			ms = (long)t;
	}
	if (session_idle_limit(s) > 0 && !s->ended) {
		t = s->last_activity == 0 ? 1 : s->last_activity + session_idle_limit(s) - now;
		t = t > 0 ? t * 1000 : 0;
		if (ms == -1 || t < ms)
			ms = (long)t;
	}
	return (int)ms;
}

static void
session_loop(struct session *s)
{
	time_t due, notice_deadline = 0;

	for (;;) {
		ssh_event_dopoll(s->event, session_poll_timeout(s));
		session_authenticated(s);
		relay_pump(s);
		/* A cut decided inside a callback (the owner's order, SIGTERM) ends it now. */
		if (s->cut && !s->stopping) {
			session_cut_finish(s);
			return;
		}
		if (s->watch_fd == -1 && time(NULL) >= s->next_revocation_check) {
			s->recheck_tickets = true;
			s->next_revocation_check = time(NULL) + 2;
		}
		if (s->stopping) {
			session_stop(s);
			return;
		}
		session_recheck(s);
		session_check_schedule(s);
		session_check_idle(s);
		session_check_recording(s);
		session_check_alive(s);
		session_link_step(s);
		if (s->ended || session_check_grace(s))
			return;
		if ((due = relay_flush_due(s)) != 0 && time(NULL) > due)
			relay_flush_recordings(s);
		if (s->fatal) {
			relay_close_all(s, "session ended: its evidence can no longer be written",
			    s->end_reason);
			return;
		}
		if (s->hang_up_ms != 0 && session_now_ms() >= s->hang_up_ms)
			frontlink_cut(s->front);
		if (frontlink_gone(s->front)) {
			if (s->phase == PHASE_AUTH)
				debug_f("%s: %s:%d: %s", s->id, s->client_addr, s->client_port,
				    frontlink_gone_why(s->front));
			snprintf(s->end_reason, sizeof(s->end_reason), "vendor disconnected");
			relay_settle_transfers(s);
			relay_close_all(s, NULL, s->end_reason);
			return;
		}
		if (s->phase == PHASE_RELAY && s->target_cfg->ssh && session_gone(s->target)) {
			snprintf(s->end_reason, sizeof(s->end_reason), "target disconnected");
			relay_close_all(s, "the target closed the connection", s->end_reason);
			return;
		}
		if (s->nwatching > 0 || console_busy(s))
			/* an approver watching, an auditor's replay: as long as they run */
			notice_deadline = 0;
		else if (s->phase == PHASE_DENIED || s->phase == PHASE_CONSOLE) {
			if (notice_deadline == 0)
				notice_deadline = time(NULL) +
				    (s->phase == PHASE_CONSOLE ? SESSION_CONSOLE_LINGER
				                               : SESSION_NOTICE_LINGER);
			else if (time(NULL) > notice_deadline) {
				snprintf(s->end_reason, sizeof(s->end_reason), "refused");
				relay_close_all(s, NULL, s->end_reason);
				return;
			}
		}
		session_front_poll(s);
	}
}

/* Every channel is closed: lets the client read what it has not read yet (the last output,
 * why the session ended) and answer the closes before the connection goes. Closing with its
 * packets unread makes the kernel reset the connection, and a reset throws away what the
 * client had not read. A client that keeps the connection (ControlMaster) gets 2 s; after a
 * cut, the connection is gone SESSION_CUT_BUDGET_MS after the cut whatever the client does. */
static void
session_linger(struct session *s)
{
	long long end = s->cut ? s->cut_ms + SESSION_CUT_BUDGET_MS : session_now_ms() + 2000, left;

	s->phase = PHASE_END; /* no new channels */
	s->closing = true;
	left = end - session_now_ms();
	frontlink_send_disconnect(s->front, left > 0 ? (unsigned)left : 0);
	session_front_poll(s);
	while (!frontlink_gone(s->front) && (left = end - session_now_ms()) > 0) {
		ssh_event_dopoll(s->event, left < 100 ? (int)left : 100);
		session_front_poll(s);
	}
	/* Whatever the front does: the connection is gone at the end of the budget. */
	frontlink_cut(s->front);
}

/* Everything the vendor-facing process needs for the key exchange: the host keys of the
 * snapshot this process was forked with (a reload's keys apply to the next connections), the
 * algorithm lists, the methods. */
static int
session_front_init(struct session *s)
{
	const struct hostkeys *hk = s->cfg->hostkeys;
	const char *lists[4];

	if (hk == NULL || hk->n == 0 || hk->n > FRONTMSG_KEYS_MAX) {
		error_f("%s: no host keys for the vendor-facing process", s->id);
		return -1;
	}
	algorithms_list(s->cfg, lists);
	return frontlink_send_init(s->front, (const char *const *)hk->pem, hk->n, lists,
	    auth_methods_offered(s), (unsigned)s->cfg->login_grace_time);
}

/* What the vendor-facing process reports. Never nested: a report handled here may write to
 * the target, whose libssh calls poll the event, which holds this link too. */
static int
session_front_cb(socket_t fd, int revents, void *userdata)
{
	struct session *s = userdata;
	int n;

	(void)fd;
	/* Room on the link (or an error, which the next send then reports). */
	if ((revents & (POLLOUT | POLLERR | POLLHUP)) != 0)
		frontlink_writable(s->front);
	if (s->front_busy)
		return 0;
	s->front_busy = true;
	while ((n = frontlink_next(s->front, s->rq)) == 1) {
		session_authenticated(s);
		if (s->rq->type == FM_READY)
			debug_f("%s: key exchange with %s done (%s)", s->id, s->client_addr,
			    s->rq->text);
		else if (s->rq->type <= FM_KBDINT_ANSWERS)
			auth_front_message(s, s->rq);
		else
			relay_front_message(s, s->rq);
		/* The vendor waited for this answer (a target connect, a decision): silent for
		 * us, not for itself. Its silence is counted from here (session_check_alive). */
		if ((s->rq->type >= FM_CHAN_OPEN && s->rq->type <= FM_SUBSYSTEM) ||
		    s->rq->type == FM_FWD_OPEN)
			s->alive_answered_ms = session_now_ms();
	}
	frontlink_send_acks(s->front);
	frontlink_flush(s->front);
	s->front_busy = false;
	return 0;
}

/* The link is polled for reading, and for writing while messages wait for room. */
void
session_front_poll(struct session *s)
{
	short want = POLLIN | (frontlink_pending(s->front) ? POLLOUT : 0);

	/* What relay_pump took from the channels' inboxes this round reopens the front's window. */
	frontlink_send_acks(s->front);
	if (frontlink_flush(s->front) == 0 && !frontlink_pending(s->front))
		want = POLLIN;
	if (frontlink_gone(s->front)) {
		session_front_unpoll(s);
		return;
	}
	if (s->front_polled && s->front_events == want)
		return;
	session_front_unpoll(s);
	s->front_polled =
	    ssh_event_add_fd(s->event, frontlink_fd(s->front), want, session_front_cb, s) == SSH_OK;
	s->front_events = want;
}

void
session_front_unpoll(struct session *s)
{
	if (!s->front_polled)
		return;
	ssh_event_remove_fd(s->event, frontlink_fd(s->front));
	s->front_polled = false;
}

void
session_hang_up(struct session *s)
{
	frontlink_send_disconnect(s->front, 0);
	frontlink_flush(s->front);
	if (s->hang_up_ms == 0)
		s->hang_up_ms = session_now_ms() + 500;
}

int
session_run(const struct gw_config *cfg, struct frontlink *front, struct guard *guard, int link_fd)
{
	struct session s;

	memset(&s, 0, sizeof(s));
	s.cfg = cfg;
	s.guard = guard;
	s.front = front;
	s.rq = xmalloc(sizeof(*s.rq));
	s.started = time(NULL);
	s.grace_end_ms = session_now_ms() + cfg->login_grace_time * 1000LL;
	s.phase = PHASE_AUTH;
	s.watch_fd = s.signal_fd = -1;
	s.alive_due_ms = -1;
	s.link = registry_link_new(link_fd);
	s.signer = registry_link_signer(s.link);
	TAILQ_INIT(&s.relays);
	/* The listener's name for the session: the one its audit lines carry. */
	if (registry_link_id(s.link) != NULL)
		snprintf(s.id, sizeof(s.id), "%s", registry_link_id(s.link));
	else
		session_new_id(s.id);
	session_peer(&s);
	/* The listener ends a connection that outlasts login_grace_time, and audits it. */
	guard_session_begin(&s);
	/* No evidence, no session (R9): without the listener, which writes the audit log and
	 * signs the recordings, the connection is refused. */
	if (s.signer == NULL) {
		crit_f("%s: no link to the listener (the notary); refusing connection from %s",
		    s.id, s.client_addr);
		frontlink_cut(front);
		registry_link_free(s.link, NULL);
		free(s.rq);
		return 1;
	}
	s.event = ssh_event_new();
	if (session_front_init(&s) != 0) {
		frontlink_cut(front);
		ssh_event_free(s.event);
		registry_link_free(s.link, NULL);
		free(s.rq);
		return 1;
	}
	session_front_poll(&s);
	session_watch_start(&s);
	session_loop(&s);
	session_watch_stop(&s);

	if (s.person != NULL)
		session_audit(&s, "session_end",
		    audit_pack("{s:s, s:s, s:s?, s:s, s:I}", "person", s.person->id, "vendor",
		        s.person->vendor->id, "target", s.target_cfg ? s.target_cfg->name : NULL,
		        "reason", s.end_reason[0] ? s.end_reason : "closed", "duration_s",
		        (json_int_t)(time(NULL) - s.started)));
	if (s.target != NULL) {
		ssh_event_remove_session(s.event, s.target);
		ssh_disconnect(s.target);
		ssh_free(s.target);
	}
	session_linger(&s);
	session_front_unpoll(&s);
	ssh_event_free(s.event);
	auth_free(&s);
	registry_link_free(s.link, s.end_reason[0] ? s.end_reason : "closed");
	config_free(s.cfg_reloaded);
	free(s.fwd_addrs);
	free(s.rq);
	return s.fatal ? 1 : 0;
}
