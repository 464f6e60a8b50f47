/* gatewayd.h: the daemon's domain structures: one vendor connection (struct session)
 * and its relayed channels (struct relay). One process owns exactly one session. */
#ifndef GW_GATEWAYD_H
#define GW_GATEWAYD_H

#include <signal.h>
#include <stdbool.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>

#include <libssh/callbacks.h>
#include <libssh/libssh.h>
#include <libssh/server.h>

#include "evidence/recorder.h"
#include "evidence/seal.h"
#include "gatewayd/audit.h"
#include "gatewayd/frontlink.h"
#include "gatewayd/guard.h"
#include "gatewayd/recspace.h"
#include "gatewayd/registry.h"
#include "gatewayd/registry_link.h"
#include "gatewayd/sftp.h"
#include "policy/policy.h"

#define SESSION_ID_LEN 32
/* From the moment a cut is decided to the vendor's connection closed, whatever the client does:
 * what fits in the vendor's windows is told within RELAY_TELL_BUDGET_MS, the rest of the budget
 * lets the client read it. One budget per connection, never per channel. */
#define SESSION_CUT_BUDGET_MS 500
#define RELAY_TELL_BUDGET_MS  250
#define RELAY_CHUNK           65536 /* bytes moved per read; large blocks, few syscalls */

struct session;
struct transfer;

/* One vendor session channel and its twin on the target. */
struct relay {
	TAILQ_ENTRY(relay) entry;
	struct session *session;
	unsigned index;
	struct vchan *vendor; /* through the vendor-facing process (frontlink.h) */
	ssh_channel target;
	struct ssh_channel_callbacks_struct target_cb;
	struct recording *rec;
	bool pty;
	char term[64];
	int width, height;
	bool started;    /* shell or exec granted and recording open */
	unsigned kind;   /* GW_CHAN_SHELL, GW_CHAN_EXEC or upload|download (sftp) once started */
	bool vendor_eof; /* vendor sent EOF; forwarded once drained */
	bool target_eof; /* target sent EOF; forwarded once drained */
	bool vendor_eof_sent; /* EOF forwarded to the target */
	bool target_eof_sent; /* EOF forwarded to the vendor */
	bool vendor_closed;
	bool target_closed;
	bool done; /* both sides closed; freed after the poll round */
	bool has_exit_status;
	int exit_status;
	bool has_exit_signal;
	char exit_signal[32];
	bool exit_core;
	bool exit_sent;              /* exit-status or exit-signal forwarded to the vendor */
	bool told;                   /* the closing message went out (relay_close_all) */
	char *notice;                /* without a target: what to tell the vendor, then close */
	char *notice_err;            /* and what goes to its stderr (a console command's) */
	struct console_job *console; /* a console command gathering its input, or NULL */
	struct console_watch *watch; /* an approver's watch relayed on this channel, or NULL */
	bool asked; /* the vendor asked for a shell, a command or a subsystem (or left) */
	int notice_status;
	bool close_sent; /* vendor channel closed by us */
	bool sealed;     /* the recording holds its last record: nothing more is written */
	bool target_close_sent;
	char end_reason[128];
	unsigned long long bytes_in, bytes_out;
	/* Recorded bytes libssh did not take (it writes nothing during a key re-exchange):
	 * they go before anything else in their direction. [0] output, [1] stderr, [2] input. */
	struct relay_held {
		char *buf;
		uint32_t len, off;
	} held[3];
	bool writing; /* inside a channel write: data callbacks it runs must not forward */
	/* The target's channel may hold [0] output, [1] stderr: its data callback ran since a poll
	 * last found it empty. libssh's poll of an empty channel is a poll(2) of every socket. */
	bool target_data[2];
	struct transfer *transfer; /* sftp subsystem: the inspector; NULL otherwise */
	bool sniffing;             /* exec: the vendor's first bytes tell whether it speaks SFTP */
	unsigned init_scan;        /* shell and exec: partial match of an SFTP INIT in the input */
	bool transfer_failed;      /* the inspector refused the stream: close */
	struct tunnel *tunnel;     /* a direct-tcpip channel (tunnel.c); NULL for a session's */
};
TAILQ_HEAD(relay_list, relay);

/* A forward destination's address, resolved before the sandbox (tunnel_resolve_all). */
struct tunnel_addr {
	char target[GW_ID_MAX + 1];
	struct sockaddr_storage ss;
	socklen_t len;
};

enum session_phase {
	PHASE_AUTH,    /* key exchange done, waiting for authentication */
	PHASE_DECIDE,  /* authenticated; the access decision comes next */
	PHASE_DENIED,  /* authenticated, decision refused: explain on the first channel */
	PHASE_CONSOLE, /* no target: a person's open targets or a role's help on a shell, and
	                * the console's commands on exec channels (console.h) */
	PHASE_RELAY,   /* target connected, channels relayed */
	PHASE_END,
};

struct session {
	const struct gw_config *cfg;
	/* Signs its recordings' checkpoints: the listener, over the link (no key in here). */
	const struct recorder_signer *signer;
	struct frontlink *front; /* the vendor-facing process: the vendor, as it reports it */
	struct frontreq *rq;     /* the front's message being handled */
	bool front_polled;       /* its link is in the event loop */
	short front_events;      /* for which events */
	bool front_busy;         /* handling its messages: a nested poll leaves the rest */
	long long hang_up_ms;    /* monotonic ms by which the front must have hung up; 0: none */
	ssh_session target;
	ssh_event event;
	enum session_phase phase;
	char id[SESSION_ID_LEN + 1];
	char client_addr[64];
	int client_port;
	time_t started;

	/* authentication */
	char username[GW_USERNAME_MAX + 1];
	struct gw_username uname;
	const struct gw_person *person; /* set once authenticated */
	char key_fp[128];
	int auth_failures;
	struct guard *guard; /* NULL: the lockout table is the listener's (guard_session_* ask it
	                      * over link) */
	unsigned auth_done[GW_AUTH_CHAIN_MAX]; /* methods passed so far, in order */
	size_t nauth_done;
	char auth_user[GW_USERNAME_MAX + 1]; /* the name the first method passed for */
	struct gwpam *pam;                   /* keyboard-interactive conversation under way */
	size_t pam_nprompts;                 /* prompts the vendor was sent */
	bool banner_sent;
	char *auth_key_b64; /* the key (or certificate) that authenticated, base64 */
	enum ssh_keytypes_e auth_key_type;
	char cert_serial[24]; /* authenticated by certificate: its serial and key id */
	char cert_key_id[GW_ID_MAX * 2];
	long long grace_end_ms; /* CLOCK_MONOTONIC ms when login_grace_time ends */

	struct decision decision;
	const struct gw_target *target_cfg;
	char refusal[4096]; /* what the vendor reads when refused; a console's listing or help */

	struct relay_list relays;
	unsigned next_index;
	unsigned nrelays_open;
	unsigned nwatching; /* channels relaying an approver's watch: no console linger then */
	bool warned[GW_WARN_MAX]; /* which end-of-session warnings were shown */
	int watch_fd;             /* inotify on the state dir: revocations end sessions at once */
	time_t next_revocation_check; /* without inotify (instances exhausted): every 2 s */
	int signal_fd;                /* SIGHUP from the listener: the policy was reloaded */
	bool ended;                   /* the session was cut (schedule, revocation, policy) */
	/* Set the moment an end is decided, even inside a libssh callback: from then on nothing
	 * from the vendor is relayed, no request is granted and no channel opens. */
	bool closing;
	bool cut;              /* the end is a cut (not the vendor's or the target's own end) */
	long long cut_ms;      /* CLOCK_MONOTONIC ms of the cut: the close budget runs from it */
	char cut_message[192]; /* what the vendor is told */
	bool recheck_tickets;  /* revocations changed */
	bool reload_missed;    /* SIGHUP: a reload whose configuration did not come */
	bool stopping;         /* SIGTERM: the service stops; end and seal */
	bool repump;          /* a callback left bytes for relay_pump: poll without sleeping once */
	bool fatal;           /* recording or audit failed: end everything (R9) */
	time_t last_activity; /* idle timeout: when relayed bytes last changed */
	unsigned long long idle_bytes;  /* relayed bytes at last_activity */
	unsigned alive_probes;          /* keepalives sent since the vendor last sent anything */
	long long alive_sent_ms;        /* CLOCK_MONOTONIC ms of the last keepalive */
	long long alive_due_ms;         /* monotonic ms of the next keepalive check; -1: none */
	long long alive_answered_ms;    /* monotonic ms the vendor's last request was answered */
	struct gw_config *cfg_reloaded; /* the policy re-read on a reload, owned; NULL: none */
	struct registry_link *link;     /* to the listener: admission, live listing, kill, watch */
	int *player_fds;  /* an auditor's: the bundle player's files, opened before the sandbox
	                   * (tools/bundle.h); NULL: not opened */
	bool link_polled; /* its fd is in the event loop */
	char end_reason[128];

	struct recspace_watch disk;        /* its recordings against the quota and the free space */
	unsigned channels_refused;         /* past max_channels, on this connection */
	unsigned forwards_refused;         /* tunnels refused on this connection (tunnel.c) */
	unsigned long long tunnel_packets; /* packets recorded by its ended tunnels */
	size_t transfer_staged;            /* bytes of every file transfer's rings (transfer.c) */
	struct tunnel_addr *fwd_addrs; /* where the vendor's forward destinations are (tunnel.c) */
	size_t nfwd_addrs;
};

/* algorithms.c: the key exchange, cipher, MAC and host key lists offered to vendors. */
int algorithms_apply_bind(const struct gw_config *cfg, ssh_bind bind);
/* The lists the vendor-facing process offers: kex, ciphers, MACs, host key algorithms. */
void algorithms_list(const struct gw_config *cfg, const char *out[4]);

/* privileges.c: called first in each forked session process; -1: end it. */
int privileges_drop_session(void);
/* Once, in the listener after frontproc_prepare(): from then on setresuid/setresgid work
 * only with front_user's uid/gid as all three ids, setgroups only to clear the groups, the other
 * set*id calls never (seccomp, inherited by every session process). -1: do not start. */
int privileges_restrict_listener(uid_t front_uid, gid_t front_gid);

/* monitor_sandbox.c: once authenticated and connected to its target (or refused), the
 * session process may open only the tickets, the revocations, the certificate revocation
 * lists of cfg and vendor (NULL: none) and time zones, read-only, for good (its recordings
 * come from the listener as descriptors); an auditor's (vendor: cfg's auditor_role) also
 * recording_dir, the audit log and recording_key.pub, read-only. 0 (also where the kernel has no
 * Landlock, which the listener said at start), -1: the session must not go on. */
int monitor_sandbox_enter(const struct gw_config *cfg, const struct gw_vendor *vendor);

/* frontproc.c: a connection's vendor-facing process (front/, gatewayd-front). Its user
 * (front_user) and executable, fixed once when the listener starts. */
struct frontproc {
	uid_t uid;
	gid_t gid;
	int exe_fd; /* O_PATH: what every monitor execs, whatever happens to the path later */
	bool debug; /* gatewayd-front -d */
};
/* Before binding: resolves front_user (neither root nor the daemon's user), checks that this
 * process may switch to it, opens the executable. 0, or -1 with a sentence in err. */
/* What `gatewayd -t` can check of it without privileges: the user and the binary. */
int frontproc_check(const struct gw_config *cfg, char *err, size_t errlen);
int frontproc_prepare(const struct gw_config *cfg, struct frontproc *fp, char *err, size_t errlen);
void frontproc_close(struct frontproc *fp);
/* In a session's monitor, before it drops its capabilities: fork and exec the front as
 * front_user with vendor_fd on 3, link_fd on 4, /dev/null on 0 and 1, stderr kept, nothing
 * else. The pid, or -1; a child that cannot exec says why on stderr and exits 127. */
pid_t frontproc_spawn(const struct frontproc *fp, int vendor_fd, int link_fd);
/* In a child before exec: every signal's disposition back to the default, mask the signal
 * mask. 0, or -1 (sigprocmask failed). Async-signal-safe. */
int frontproc_reset_signals(const sigset_t *mask);
/* In a child forked off the listener or a monitor: becomes front_user (no supplementary
 * groups), with no capability left and PR_SET_NO_NEW_PRIVS. NULL, or the step that failed
 * (errno set). Async-signal-safe. */
const char *frontproc_become_user(const struct frontproc *fp);

/* hostkey.c */
int hostkey_ensure(const char *path);
/* Reads every key of cfg->host_keys (generating a missing one) into a new struct hostkeys
 * (policy.h; hostkeys_free). 0, or -1 with err. The listener hangs the result on the running
 * snapshot (cfg->hostkeys): a forked connection finds its host keys there. */
int hostkeys_load(const struct gw_config *cfg, struct hostkeys **out, char *err, size_t errlen);
/* Gives bind a copy of each key (the keys a connection accepted through it offers). */
int hostkeys_apply_bind(const struct hostkeys *hk, ssh_bind bind);

/* session.c: runs one accepted connection to its end, as its monitor; returns the exit
 * status. front is the link to its vendor-facing process, taken over; link_fd the session's
 * end of its registry link (gatewayd/registry_link.h), taken over; -1: none. guard is NULL
 * (the lockout table is the listener's, reached over the link). The host keys of the
 * snapshot cfg was forked with are in cfg->hostkeys. */
int session_run(
    const struct gw_config *cfg, struct frontlink *front, struct guard *guard, int link_fd);
int session_audit(struct session *s, const char *event, json_t *fields);
/* The ticket store and revocations, read per decision; NULL when unreadable (fail closed). */
struct ticket_set *session_load_tickets(struct session *s);
/* Asks the front to hang up on the vendor now; cut if it has not within a moment. */
void session_hang_up(struct session *s);
/* Sends what waits for the front and polls its link for what is needed (after each round). */
void session_front_poll(struct session *s);
/* The vendor is gone: its link no longer wakes the event loop. */
void session_front_unpoll(struct session *s);

/* auth.c: vendor authentication, as the vendor-facing process relays it. */
void auth_front_message(struct session *s, const struct frontreq *rq); /* answers it */
unsigned auth_methods_offered(const struct session *s);                /* SSH_AUTH_METHOD_* bits */
void auth_free(struct session *s); /* an unfinished PAM conversation */
/* After a reload: whether the key or certificate the person authenticated with still admits
 * p under cfg (still listed; CA still trusted, not revoked, valid). 0, or -1 with why. */
int auth_recheck(struct session *s, const struct gw_config *cfg, const struct gw_person *p,
    char *why, size_t whylen);

/* pam.c: keyboard-interactive through PAM (service "gatewayd") in a child process. */
#define GWPAM_PROMPTS_MAX 16
#define GWPAM_TEXT_MAX    1024
struct gwpam;
struct gwpam_step {
	enum { GWPAM_PROMPTS, GWPAM_SUCCESS, GWPAM_FAILURE } kind;
	char *instruction; /* GWPAM_PROMPTS: PAM's info text, may be NULL */
	size_t nprompts;
	char *prompts[GWPAM_PROMPTS_MAX];
	bool echo[GWPAM_PROMPTS_MAX];
	char detail[GWPAM_TEXT_MAX + 64]; /* precise result or error, for the log only */
};
/* Starts the PAM process for user; NULL with err. timeout_s bounds every wait. */
struct gwpam *gwpam_start(
    const char *user, const char *rhost, int timeout_s, char *err, size_t errlen);
/* The next prompts or the result; -1 (detail set) when the PAM process failed. */
int gwpam_next(struct gwpam *p, struct gwpam_step *st);
void gwpam_step_clear(struct gwpam_step *st);
/* The vendor's answers to the last prompts, in order (wiped once sent). */
int gwpam_answer(struct gwpam *p, const char *const *answers, size_t n);
void gwpam_free(struct gwpam *p);

/* target.c: the client leg. Returns a connected, authenticated target session or
 * NULL with a vendor-readable reason in why and the precise one in detail. */
ssh_session target_connect(
    const struct gw_target *t, char *why, size_t whylen, char *detail, size_t detaillen);

/* CLOCK_MONOTONIC in milliseconds. */
long long session_now_ms(void);
/* Whether the target's SSH connection is closed or broken. */
bool session_gone(ssh_session ss);

/* relay.c: vendor channels and their twins on the target. */
void relay_front_message(struct session *s, const struct frontreq *rq);
void relay_pump(struct session *s);
/* One side of a relay: the target (true) or the vendor; as libssh's channel calls. */
uint32_t relay_side_window(struct relay *r, bool target);
int relay_side_write(struct relay *r, bool target, const void *data, uint32_t n, int is_stderr);
int relay_side_poll(struct relay *r, bool target, int is_stderr);
int relay_side_read(struct relay *r, bool target, void *buf, uint32_t n, int is_stderr);
/* Ends every channel: nothing more is relayed; message (or a channel's own notice) goes to
 * each channel whose window takes it within the close budget; each recording sealed with
 * reason. Never waits per channel. */
void relay_close_all(struct session *s, const char *message, const char *reason);
/* After a reload narrowed the grant: channels of a kind no longer granted are told why and
 * closed. Returns how many. */
int relay_close_ungranted(struct session *s);
/* A message on the stderr of the first session channel whose window takes it. */
void relay_tell_one(struct session *s, const char *text);
/* A message on the stderr of every started channel, and a note in its recording. */
int relay_tell_all(struct session *s, const char *text); /* returns how many were told */
/* The vendor hung up: file transfers discard the uploads it left open (bounded wait). */
void relay_settle_transfers(struct session *s);
void relay_free(struct relay *r);
int relay_flush_recordings(struct session *s);
/* When the oldest unflushed event was recorded; 0 when nothing waits. */
time_t relay_flush_due(struct session *s);
/* Bytes of the session's recordings so far, ended channels included. */
unsigned long long relay_recorded_bytes(const struct session *s);

/* transfer.c: the sftp subsystem channel of a relay. */
int transfer_start(struct relay *r);
void transfer_free(struct relay *r);
void transfer_pump(struct relay *r);
int transfer_from_vendor(struct relay *r, const void *data, uint32_t len);
bool transfer_idle_from_vendor(const struct relay *r);
bool transfer_idle_from_target(const struct relay *r);

/* tunnel.c: direct-tcpip channels to the destinations a grant lists (issue 18). */
/* Resolves the addresses of every destination the person's vendor may forward to, before the
 * sandbox closes (the resolver's files are unreadable after it). */
void tunnel_resolve_all(struct session *s);
/* Decides, connects and starts the recording of the tunnel on relay r (its vendor channel
 * open); false: refused (told on a session channel, and in the audit log). */
bool tunnel_open(
    struct relay *r, const char *host, uint32_t port, const char *orig, uint32_t oport);
int tunnel_from_vendor(struct relay *r, const void *data, uint32_t len);
void tunnel_pump(struct relay *r);
void tunnel_seal(struct relay *r);
void tunnel_free(struct relay *r); /* NULL tunnel is fine */
/* Every tunnel decided again (revocations, a reload): those no longer allowed end now. */
void tunnel_recheck(struct session *s);
/* Tells the listener how many tunnels are open and the packets they recorded (registry). */
void tunnel_report(struct session *s);
/* The earliest scheduled end of a tunnel, 0: none. */
time_t tunnel_next_end(const struct session *s);
int tunnel_flush(struct relay *r);
time_t tunnel_pending_since(const struct relay *r);
unsigned long long tunnel_size(const struct relay *r);

/* listener.c */
int listener_run(const char *config_path, struct gw_config *cfg, bool foreground);

#endif
