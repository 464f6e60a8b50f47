/* policy.h: the vocabulary of access: vendor, person, target, grant, and the
 * access decision. The decision reads only what it is given: no I/O, no clock. */
#ifndef GW_POLICY_H
#define GW_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/wire.h"

#define GW_ID_MAX        64  /* vendor, person and target names */
#define GW_USERNAME_MAX  130 /* PERSON "+" TARGET */
#define GW_REASON_MAX    256
#define GW_AUDIT_MSG_MAX 768 /* a decision's audit text: names, times and the ticket reason */

/* Channel kinds a grant may open. Default: shell and exec only (R5). Port, agent and X11
 * forwarding are refused to everyone: the gateway has no relay for them. */
enum gw_channel_kind {
	GW_CHAN_SHELL = 1 << 0,
	GW_CHAN_EXEC = 1 << 1,
	GW_CHAN_UPLOAD = 1 << 2,   /* file transfer towards the target */
	GW_CHAN_DOWNLOAD = 1 << 3, /* file transfer from the target */
};
#define GW_CHAN_DEFAULT (GW_CHAN_SHELL | GW_CHAN_EXEC)

/* window.c: when a vendor may connect (R1). A recurring window opens on each of
 * its days at start and closes at end (the next day when end <= start), both read
 * on the wall clock of its IANA time zone; an absolute window is [from, to) in UTC. */
struct gw_window {
	unsigned days;   /* bit N: tm_wday N (0 Sunday); 0 for an absolute window */
	int start;       /* minutes after local midnight, 0..1439 */
	int end;         /* minutes after local midnight, 1..1440 */
	char *tz;        /* IANA zone name, e.g. "Europe/Berlin" */
	time_t from, to; /* absolute window, when days == 0 */
};

/* The windows of one level (vendor, person or grant); n == 0: level not configured. */
struct gw_window_set {
	struct gw_window *windows;
	size_t n;
	int line; /* of "windows" in the configuration, or of the group without it */
};

/* Authentication methods in the style of OpenSSH's AuthenticationMethods: alternatives
 * separated by spaces, each a comma-separated chain done in order ("publickey" covers
 * plain keys and certificates). */
enum gw_auth_method {
	GW_AUTH_PUBLICKEY = 1 << 0,
	GW_AUTH_KBDINT = 1 << 1, /* keyboard-interactive through PAM */
};
#define GW_AUTH_CHAINS_MAX 8
#define GW_AUTH_CHAIN_MAX  4
struct gw_auth_methods {
	unsigned chain[GW_AUTH_CHAINS_MAX][GW_AUTH_CHAIN_MAX]; /* enum gw_auth_method each */
	size_t len[GW_AUTH_CHAINS_MAX];
	size_t nchains; /* 0: not configured at this level */
};

/* A named engineer of a vendor; authenticates with one of its keys. */
struct gw_person {
	char *id;                 /* "acme.alice": vendor id, dot, name */
	char *name;               /* display name, may be NULL */
	struct gw_vendor *vendor; /* owner, set by the loader */
	char **keys;              /* OpenSSH public key lines */
	size_t nkeys;
	struct gw_window_set windows;        /* optional; narrows the vendor's windows */
	struct gw_auth_methods auth_methods; /* nchains 0: the vendor's */
};

/* An OpenSSH CA key a vendor's person certificates may be signed by. */
struct gw_cert_authority {
	char *line;              /* OpenSSH public key line */
	unsigned char *key_blob; /* its wire blob */
	size_t key_blob_len;
};

/* Who a login is: a vendor's person, or an approver or auditor at the gateway's console.
 * Consoles' principals are the persons of two role vendors (gw_config's *_role). */
enum gw_role {
	GW_ROLE_VENDOR = 0,
	GW_ROLE_APPROVER, /* logs in as "approver.NAME" */
	GW_ROLE_AUDITOR,  /* logs in as "auditor.NAME" */
};

/* An outside service provider. */
struct gw_vendor {
	char *id;
	enum gw_role role; /* GW_ROLE_VENDOR, but for gw_config's approver_role and auditor_role */
	char *name;
	bool enabled;
	time_t expires; /* 0: never */
	struct gw_person *persons;
	size_t npersons;
	struct gw_window_set windows;        /* none: no access (default deny) */
	int idle_timeout;                    /* seconds, 0: off; -1: the global idle_timeout */
	struct gw_auth_methods auth_methods; /* nchains 0: "publickey" */
	struct gw_cert_authority *cert_authorities; /* trusted for this vendor's persons */
	size_t ncert_authorities;
	char *revoked_certs; /* revocation list file, or NULL */
	int max_sessions;    /* concurrent sessions of its persons, 0: unlimited */

	/* Recorded bytes per session; -1: the global max_recording_bytes, 0: unlimited. */
	long long max_recording_bytes;
	int max_channels; /* channels one connection may hold, 0: the global max_channels */
};

/* An OT host reached with the gateway's own credentials. */
struct gw_target {
	char *name;
	char *address;
	bool ssh; /* false: a device without SSH (a PLC): reached only by forwarding (issue 18) */
	int port;
	char **fingerprints; /* pinned host keys, "SHA256:<base64>" */
	size_t nfingerprints;
	char *user;               /* login name on the target */
	char *key_file;           /* gateway-held private key, or NULL */
	char *password_file;      /* gateway-held password, or NULL */
	char *hostkey_algorithms; /* NULL: libssh defaults (no SHA-1) */
	char *kex_algorithms;     /* NULL: libssh defaults */
	char *ciphers;            /* NULL: TARGET_CIPHERS (gatewayd/target.c) */
	int connect_timeout;      /* seconds */
	unsigned approvals; /* distinct approvers a ticket for it needs, 1..GW_APPROVALS_MAX */
};

/* Dual control: a target or grant may require tickets signed by up to this many distinct
 * approvers (issue 16). */
#define GW_APPROVALS_MAX 5

/* One destination a grant lets a vendor forward to: a target of the grant and a TCP port. */
struct gw_forward {
	char *target;
	int port;
};

/* Which targets a vendor may reach, and which channel kinds. */
struct gw_grant {
	char *vendor;
	char **targets;
	size_t ntargets;
	unsigned channels;            /* enum gw_channel_kind bits */
	struct gw_window_set windows; /* optional; narrows the vendor's windows */
	char **transfer_paths;        /* file transfer: absolute directories allowed; NULL: any */
	size_t ntransfer_paths;
	long long max_file_size;     /* file transfer: bytes, 0: unlimited */
	unsigned approvals;          /* as the target's; a session needs the larger of the two */
	struct gw_forward *forwards; /* what a tunnel may reach: "plc-07:502"; none: nothing */
	size_t nforwards;
};

/* An asset owner's key that signs tickets, and what it may approve (R2). */
struct gw_approver {
	char *name;
	char *key;               /* OpenSSH public key line */
	unsigned char *key_blob; /* the key's wire blob, decoded by the loader */
	size_t key_blob_len;
	char **vendors; /* vendors it may approve for; "*": any */
	size_t nvendors;
	char **targets; /* targets it may approve; "*": any */
	size_t ntargets;
	char **login_keys; /* keys it logs in to the console with; none: its signing key */
	size_t nlogin_keys;
	struct gw_auth_methods auth_methods; /* nchains 0: "publickey" */
};

/* A read-only reviewer of evidence at the console ("auditor.NAME"). */
struct gw_auditor {
	char *name;
	char **keys;
	size_t nkeys;
	char **vendors; /* vendors whose evidence it may read; "*": any */
	size_t nvendors;
	struct gw_auth_methods auth_methods;
};

struct gw_listen {
	char *address;
	int port;
};

#define GW_WARN_MAX     8    /* warnings before a scheduled session end */
#define GW_CHANNELS_MAX 100  /* bound on max_channels: each may buffer megabytes */
#define GW_STARTUPS_MAX 1024 /* bound on max_startups' full */

#define GW_MAX_RECORDING_BYTES_DEFAULT (1LL << 30)   /* 1 GiB per session */
#define GW_MAX_TICKET_LIFETIME_DEFAULT (7LL * 86400) /* seconds */
/* store: where the state that must be one truth across gateways lives (gatewayd/store.h). */
enum gw_store_kind {
	GW_STORE_FILES,      /* state_dir alone: one gateway (the default) */
	GW_STORE_POSTGRESQL, /* a PostgreSQL database shared by several gateways */
};
struct gw_store {
	enum gw_store_kind kind;
	char *conninfo;       /* libpq connection string; NULL for files */
	char *admin_conninfo; /* what `gatewayd --migrate` connects with; NULL: conninfo */
	char *gateway;        /* this gateway's name among those sharing the store */
	bool cached;          /* store_unavailable = "cached": admit on the last known state */
};

/* recording_compression: "none" (the default) or "zstd". */
enum gw_recording_compression {
	GW_COMPRESSION_NONE,
	GW_COMPRESSION_ZSTD,
};
#define GW_RECORDING_MIN_FREE_DEFAULT (256LL << 20) /* 256 MiB free in recording_dir */
/* The vendor-facing processes' user (systemd/gatewayd.sysusers creates it). */
#define GW_FRONT_USER_DEFAULT "gatewayd-front"

/* max_startups = "start:rate:full": with start or more unauthenticated connections, a new
 * one is dropped with probability rate %, rising linearly to 100 % at full. */
struct gw_startups {
	int start, rate, full;
};

/* lockout = { ... }: failed authentication attempts per source address and per person. */
struct gw_lockout {
	int failures;        /* per source in window, then locked; 0: no source lockout */
	int person_failures; /* per person in window, then locked; 0: no person lockout */
	int window;          /* seconds, counted from the first failure */
	int duration;        /* seconds a lockout lasts */
	int delay_ms;        /* wait after the first failure, doubled per further one */
	int max_delay_ms;    /* cap on that wait */
};

/* per_source = { ... }: what one source may hold before it has authenticated, in the manner
 * of OpenSSH's PerSourceMaxStartups and PerSourcePenalties. A source is an IPv4 address or
 * an IPv6 /64 (the prefixes are settable); addresses in exempt (vendors behind one NAT
 * address) are neither capped, penalised nor locked out as a source. */
struct gw_per_source {
	int max_startups;  /* unauthenticated connections per source, 0: no cap; below
	                    * max_startups' start, so one source never starts the random drops */
	int ipv4_prefix;   /* leading bits of an IPv4 address that name its source */
	int ipv6_prefix;   /* the same for IPv6 */
	int grace_penalty; /* seconds a source is refused per connection it held to the grace */
	int max_penalty;   /* cap on a source's accumulated refusal, seconds */
	char **exempt;     /* "ADDR[/BITS]" entries */
	size_t nexempt;
};

/* The gateway's host keys as read from host_keys at one moment: pem[i] is the private key
 * file path[i], as text. Secret: config_free() wipes it. */
struct hostkeys {
	size_t n;
	char **path;
	char **pem;
};

/* One loaded configuration: a read-only snapshot after config_load(). */
struct gw_config {
	char *path;
	char sha256[65]; /* hex SHA-256 of the file's bytes as loaded: what the audit log names */
	struct gw_listen *listen;
	size_t nlisten;
	char **host_keys;
	size_t nhost_keys;
	char *state_dir;
	char *recording_dir;
	char *audit_log;
	char *display_tz; /* the site's time zone for reports (evidence bundle); default "UTC" */
	char *banner_file;
	char *revoked_certs;  /* revocation list for every vendor's certificates, or NULL */
	int connect_timeout;  /* default for targets, seconds */
	int login_grace_time; /* seconds */
	int max_auth_tries;
	int max_sessions;     /* concurrent sessions, 0: unlimited */
	int max_channels;     /* channels one connection may hold (tunnels and sftp count) */
	char *control_socket; /* owners' UNIX socket; default <state_dir>/control.sock */
	char *admin_group;    /* group whose members may use it (besides root); NULL: none */
	char *front_user;     /* the vendor-facing processes' user (gatewayd/frontproc.c) */
	/* The site's notifier (gatewayd/notify.c): argv, absolute path first, NULL-terminated;
	 * NULL: no notifications. notify_timeout: seconds it may run. */
	char **notify_command;
	size_t nnotify_command;
	int notify_timeout;
	struct gw_startups max_startups;
	struct gw_lockout lockout;
	int idle_timeout;             /* seconds without vendor input or target output, 0: off */
	int client_alive_interval;    /* seconds of vendor silence before a keepalive; 0: off */
	int client_alive_count_max;   /* silent intervals after which the session ends */
	int warn_before[GW_WARN_MAX]; /* seconds before a scheduled end, descending */
	size_t nwarn_before;
	/* Vendor-side SSH algorithms, comma-separated; NULL: gatewayd's defaults (algorithms.c) */
	char *kex_algorithms;
	char *ciphers;
	char *macs;
	char *hostkey_algorithms;
	/* The recording disk (docs/limits.md): a session's recordings end it at
	 * max_recording_bytes (0: unlimited); below recording_min_free bytes free no session
	 * starts, and below half of it a session that records is ended (0: no reserve). */
	long long max_recording_bytes;
	long long recording_min_free;
	/* How a sealed recording is kept (recording_compression): plain, or compressed by the
	 * listener once its session process is gone (gatewayd/recpack.c). */
	enum gw_recording_compression recording_compression;
	struct gw_store store;
	/* A ticket valid for longer (not_after - not_before, seconds) admits no one. */
	long long max_ticket_lifetime;
	struct gw_vendor *vendors;
	size_t nvendors;
	struct gw_target *targets;
	size_t ntargets;
	struct gw_grant *grants;
	size_t ngrants;
	struct gw_approver *approvers;
	size_t napprovers;
	struct gw_auditor *auditors;
	size_t nauditors;
	/* The consoles' principals: approver_role has a person "approver.NAME" for each
	 * approver, with its login keys and methods, auditor_role one for each auditor; neither
	 * has windows or grants, and no configured vendor may take their ids. */
	struct gw_vendor approver_role, auditor_role;
	struct gw_per_source per_source;
	/* Filled by the listener (gatewayd/hostkey.c hostkeys_load) when this snapshot becomes
	 * the running one, at start and at each reload, so that every connection forked under
	 * it has the keys it names; NULL in every other snapshot (gatewayctl, a session's own
	 * re-read of the policy). */
	struct hostkeys *hostkeys;
};

/* config.c: load and validate. Errors are "FILE:LINE: problem" lines,
 * appended to *errors (caller frees); returns 0 when valid, -1 otherwise. */
int config_load(const char *path, struct gw_config **out, char **errors);
/* config_load, handing back in *text (caller frees) the very text it parsed. */
int config_load_keep(const char *path, struct gw_config **out, char **text, char **errors);
/* Parses text as the contents of path without reading any file: the files it names are not
 * checked (the listener that read the file did). For a session process, which cannot open
 * the configuration (gatewayd/monitor_sandbox.c), at a reload. */
int config_load_text(const char *path, const char *text, struct gw_config **out, char **errors);
void config_free(struct gw_config *cfg);
void hostkeys_free(struct hostkeys *hk); /* wipes the key texts; NULL is fine */
const struct gw_person *config_find_person(const struct gw_config *cfg, const char *id);
const struct gw_vendor *config_find_vendor(const struct gw_config *cfg, const char *id);
const struct gw_target *config_find_target(const struct gw_config *cfg, const char *name);
/* The one target whose address is exactly addr (a tunnel's destination given as the address a
 * tool was configured with); NULL when none or several have it. */
const struct gw_target *config_find_target_by_address(
    const struct gw_config *cfg, const char *addr);
const struct gw_grant *config_find_grant(
    const struct gw_config *cfg, const char *vendor, const char *target);
const struct gw_approver *config_find_approver(const struct gw_config *cfg, const char *name);
/* The approvals a ticket needs for vendor on target: the larger of the target's and the
 * grant's (1 when neither is configured). */
unsigned config_approvals_needed(
    const struct gw_config *cfg, const char *vendor, const char *target);
const struct gw_auditor *config_find_auditor(const struct gw_config *cfg, const char *name);
/* A person of a vendor or a console's principal ("approver.NAME", "auditor.NAME"): whom a
 * login name may authenticate as. config_find_person finds vendors' persons only. */
const struct gw_person *config_find_principal(const struct gw_config *cfg, const char *id);
/* The approver or auditor name of a console principal: id without its role prefix. */
const char *config_principal_name(const struct gw_person *p);
/* Whether a may read evidence of vendor. */
bool auditor_may_read(const struct gw_auditor *a, const char *vendor);
/* Whether vendor is in approver a's scope (for a vendor's own state: enable, disable). */
bool approver_has_vendor(const struct gw_approver *a, const char *vendor);
/* Whether approver a may approve work for vendor on target. */
bool approver_may_approve(const struct gw_approver *a, const char *vendor, const char *target);

/* The methods that apply to person p: its own, else its vendor's, else "publickey". */
const struct gw_auth_methods *config_auth_methods(const struct gw_person *p);
/* Every method any chain of the configuration uses (what the gateway offers at first). */
unsigned config_auth_methods_offered(const struct gw_config *cfg);

/* authmethods.c: parsing and following AuthenticationMethods-style lists. */
/* Parses "publickey,keyboard-interactive publickey"; -1 with a reason in why. */
int auth_methods_parse(const char *text, struct gw_auth_methods *out, char *why, size_t whylen);
/* Given the methods done so far, in order: the methods that may come next (bits). */
unsigned auth_methods_next(const struct gw_auth_methods *m, const unsigned *done, size_t ndone);
/* Whether the methods done, in order, complete one chain. */
bool auth_methods_satisfied(const struct gw_auth_methods *m, const unsigned *done, size_t ndone);
const char *auth_method_name(unsigned method);

/* timefmt.c: the one UTC time syntax of config and tickets, "YYYY-MM-DDTHH:MM:SSZ"
 * or "YYYY-MM-DD" (00:00 UTC). Returns 0, or -1 for anything else (incl. Feb 30). */
int time_parse_utc(const char *s, time_t *out);
#define GW_TIME_UTC_LEN 21 /* "2027-03-01T07:00:00Z" and NUL */
void time_format_utc(time_t t, char buf[GW_TIME_UTC_LEN]);
/* "N" and a unit m, h or d (N at most 100000), as seconds. 0 or -1. */
int time_parse_duration(const char *s, long long *secs);
/* A UTC time as time_parse_utc, "now", or "+N[mhd]" counted from now. 0 or -1. */
int time_parse_when(const char *s, time_t now, time_t *out);

/* window.c. Zone conversion uses the system tzdata through glibc (TZ switched and
 * restored around each call: single-threaded callers only). */
/* Whether every configured level contains now; levels with n == 0 are skipped, but
 * the vendor level must have windows (else false). On true, *ends_at is when the
 * covering windows of all levels stop covering continuously (capped at limit). */
bool window_levels_contain(const struct gw_window_set *const *levels, size_t nlevels, time_t now,
    time_t limit, time_t *ends_at);
/* The next instant after now at which every level contains the time, searched up to
 * horizon; 0 when none. *w is the window whose opening that is (for messages). */
time_t window_levels_next_open(const struct gw_window_set *const *levels, size_t nlevels,
    time_t now, time_t horizon, const struct gw_window **w);
/* "Mon 07:00 Europe/Berlin" (recurring; with the date when 6 days or more after now)
 * or "2027-03-01 07:00 UTC" (absolute). */
void window_format_open(const struct gw_window *w, time_t at, time_t now, char *buf, size_t len);
/* t on the wall clock of zone tz through strftime's fmt ("?" when it cannot be). */
void time_format_in_zone(const char *tz, time_t t, const char *fmt, char *buf, size_t len)
    __attribute__((format(strftime, 3, 0)));
/* t for people at the site (display_tz) with UTC beside it: "09:03 CET / 08:03Z", the site's
 * date first when it is not now's ("2027-03-02 09:03 CET / 08:03Z"). */
void time_format_site(const char *tz, time_t t, time_t now, char *buf, size_t len);
/* Whether name is a zone in the system tzdata (a TZif file under TZDIR). */
bool window_tz_is_valid(const char *name);

/* windowcheck.c: windows that can never open, seen from now: a vendor without windows or
 * whose windows never open again, person and grant windows that never overlap their
 * vendor's. "FILE:LINE: warning: ..." lines (caller frees), or NULL when there are none. */
char *config_warn_windows(const struct gw_config *cfg, time_t now);

/* username.c: "PERSON+TARGET" or "PERSON". */
struct gw_username {
	char person[GW_ID_MAX + 1];
	char target[GW_ID_MAX + 1]; /* "" when no target was named */
};
/* Returns 0, or -1 with a short reason for the vendor in *why. */
int username_parse(const char *name, struct gw_username *out, const char **why);
/* Names are [a-z0-9] first, then [a-z0-9._-]; shared by loader and parser. */
bool name_is_valid(const char *s);

/* cmdline.c: a console command's words. */
#define CMDLINE_MAX       4096 /* bytes of one command */
#define CMDLINE_WORDS_MAX 64
/* Splits line (not NUL-terminated) into words, with '...' and "..." quoting; refuses control
 * characters, unterminated quotes, an empty command and more than the bounds. 0 with a new
 * argv (cmdline_free), or -1 with the reason in why. */
int cmdline_split(
    const char *line, size_t len, char ***argv, size_t *argc, char *why, size_t whylen);
void cmdline_free(char **argv, size_t argc);
struct cmdline_option {
	const char *name; /* "--for" */
	bool rest;        /* free text: takes every word up to the next "--" word, joined */
};
/* Reads "--name value" pairs from argv[first..]; values[k] is opts[k]'s value or NULL. A rest
 * option's words are joined into argv (which it changes). -1 with why for an unknown word, a
 * missing value or an option given twice. opts ends with a NULL name. */
int cmdline_options(char **argv, size_t argc, size_t first, const struct cmdline_option *opts,
    const char **values, char *why, size_t whylen);

/* Decodes at most 16 KiB of base64 (caller frees *out); -1 when it is not base64. */
int base64_decode(const char *in, size_t inlen, unsigned char **out, size_t *outlen);
/* Whether sig (string type, string bytes) by the key blob verifies over data. */
bool sshkey_verify_blob(const unsigned char *key, size_t keylen, const unsigned char *sig,
    size_t siglen, const unsigned char *data, size_t datalen);

/* sshcert.c: OpenSSH certificates (PROTOCOL.certkeys), parsed from hostile bytes. */
#define SSHCERT_BLOB_MAX       16384
#define SSHCERT_PRINCIPALS_MAX 256
#define SSHCERT_TEXT_MAX       1024 /* key id, principal, option value */
#define SSHCERT_TYPE_USER      1
#define SSHCERT_TYPE_HOST      2
struct sshcert {
	char key_type[64]; /* e.g. "ssh-ed25519-cert-v01@openssh.com" */
	uint64_t serial;
	uint32_t type; /* SSHCERT_TYPE_* */
	char *key_id;
	char **principals;
	size_t nprincipals;
	uint64_t valid_after; /* valid in [valid_after, valid_before) */
	uint64_t valid_before;
	char *force_command; /* critical options; NULL when absent */
	char *source_address;
	char *unknown_critical; /* the first critical option not understood, or NULL */
	unsigned char *key;     /* the certified key as a plain public key blob */
	size_t key_len;
	unsigned char *ca_key; /* the signing CA's public key blob */
	size_t ca_key_len;
	bool signature_valid; /* the CA's signature verifies over the certificate */
};
/* Parses a certificate blob and checks its CA signature (signature_valid); -1 with err
 * for anything malformed. Never trusts a length; fills nothing on failure. */
int sshcert_parse(
    const unsigned char *blob, size_t len, struct sshcert *out, char *err, size_t errlen);
void sshcert_free(struct sshcert *c); /* the fields; c itself may be on the stack */
/* Why c does not admit person from addr at now, as text in why; 0 when it does.
 * Checks type, principals, validity, critical options and the CA's signature; whether
 * the CA is trusted is the caller's business. */
int sshcert_check(const struct sshcert *c, const char *person, const char *addr, time_t now,
    char *why, size_t whylen);
/* Whether addr (IPv4/IPv6 text) is in a source-address list "10.0.0.0/8,::1". -1 when the
 * list is malformed. */
int sshcert_source_allows(const char *list, const char *addr);
/* The revocation list text: lines "serial N", "key-id TEXT", "fingerprint SHA256:...",
 * '#' comments. 1 when c is revoked (what names the matching line), 0 when not, -1 when
 * the list is malformed (what names the line): callers then refuse (fail closed). */
int sshcert_revoked(const char *list, const struct sshcert *c, char *what, size_t whatlen);

/* fingerprint.c: "SHA256:<unpadded base64 of 32 bytes>" */
bool fingerprint_is_valid(const char *fp);
bool fingerprint_matches(const struct gw_target *t, const char *fp);

/* sshsig.c: OpenSSH public keys and detached SSHSIG signatures, checked with OpenSSL
 * (ed25519, ecdsa-sha2-nistp256/384/521, RSA >= 2048 bits with rsa-sha2-256/512). */
#define GW_FP_LEN 52 /* "SHA256:" + 43 base64 characters + NUL */
enum sshsig_result {
	SSHSIG_OK = 0,
	SSHSIG_MALFORMED, /* not an armored SSHSIG, bad magic or version */
	SSHSIG_WRONG_NAMESPACE,
	SSHSIG_UNSUPPORTED,   /* key type or hash algorithm */
	SSHSIG_BAD_SIGNATURE, /* the signature does not verify over the message */
};
/* Decodes "TYPE BASE64 [comment]" into its wire blob (caller frees); -1 unless the
 * line holds a supported key. */
int sshkey_blob_from_line(const char *line, unsigned char **blob, size_t *len);
void sshkey_fingerprint(const unsigned char *blob, size_t len, char buf[GW_FP_LEN]);
/* Verifies an armored signature over msg; on SSHSIG_OK *signer is the signing key's
 * blob (caller frees). Whether that key is trusted is the caller's decision. */
enum sshsig_result sshsig_verify(const char *armored, size_t armored_len, const void *msg,
    size_t msg_len, const char *namespace, unsigned char **signer, size_t *signer_len);
const char *sshsig_result_text(enum sshsig_result r);

/* ticket.c: an owner's signed approval (R2). A ticket is a libconfig text file signed
 * with `ssh-keygen -Y sign -n gatewayd-ticket -f KEY FILE` (detached FILE.sig). FILE.sig
 * may hold the armored signatures of several approvers, concatenated (dual control). */
#define TICKET_NAMESPACE   "gatewayd-ticket"
#define TICKET_TEXT_MAX    16384
#define TICKET_TARGETS_MAX 1000
#define TICKET_SIGS_MAX    8                        /* armored blocks in one signature file */
#define TICKET_SIG_MAX     (TICKET_SIGS_MAX * 4096) /* its bytes: an RSA-8192 block is < 3 KiB */

enum ticket_status {
	TICKET_VALID = 0,
	TICKET_UNSIGNED,              /* no signature file */
	TICKET_BAD_SIGNATURE,         /* altered ticket, or not a signature at all */
	TICKET_WRONG_NAMESPACE,       /* signed, but not as a gatewayd ticket */
	TICKET_UNSUPPORTED_SIGNATURE, /* key type or hash the gateway does not accept */
	TICKET_UNKNOWN_SIGNER,        /* signing key is no approver's key */
	TICKET_WRONG_SIGNER,          /* signed by another approver than the one it names */
	TICKET_UNKNOWN_APPROVER,      /* names an approver the policy does not have */
	TICKET_OUT_OF_SCOPE,          /* approver may not approve that vendor or target */
};

struct gw_ticket {
	char *id;
	char *vendor; /* vendor covered; for a person ticket, that person's vendor */
	char *person; /* NULL: every person of the vendor */
	char **targets;
	size_t ntargets;
	time_t not_before; /* valid in [not_before, not_after) */
	time_t not_after;
	char *approver;        /* the approver the text names, or NULL: any in scope may sign */
	char *reason;          /* reason or work-order reference */
	unsigned max_sessions; /* sessions that may be started under it; 0: unlimited */
	/* Set by ticket_verify() and the store, not by the file: */
	enum ticket_status status;
	char problem[GW_REASON_MAX]; /* precise text when status != TICKET_VALID */
	char signer[GW_FP_LEN];      /* the first signing key's fingerprint, "" when unknown */
	/* When valid: the distinct approvers whose signatures verified, in signing order, with
	 * their keys' fingerprints; each counts as one approval. Empty when not valid. */
	char **approvers;
	char (*approver_fps)[GW_FP_LEN];
	size_t napprovers;
	unsigned used_sessions; /* sessions already started under it */
};

struct gw_revocation {
	char *id;
	time_t at;
	char *reason;
};

/* Everything the decision needs about tickets: the installed tickets (verified),
 * the revocations, and each ticket's used-session count. */
struct ticket_set {
	struct gw_ticket **tickets;
	size_t ntickets;
	struct gw_revocation *revocations;
	size_t nrevocations;
};

/* Ticket ids become file names: name_is_valid() characters, and A-Z (work-order numbers). */
bool ticket_id_is_valid(const char *id);
/* Parses ticket text; errors are "ORIGIN:LINE: problem" lines (caller frees). The new
 * ticket has status TICKET_UNSIGNED until ticket_verify(). */
int ticket_parse(
    const char *text, size_t len, const char *origin, struct gw_ticket **out, char **errors);
/* Checks the signatures (sig NULL: unsigned; else 1 to TICKET_SIGS_MAX armored blocks),
 * signers and their scope against cfg; sets status, problem, signer and approvers. Any block
 * that does not verify, by a key of no approver or by an approver out of scope, refuses the
 * whole ticket; a ticket naming an approver must carry that approver's signature. */
void ticket_verify(struct gw_ticket *t, const char *text, size_t len, const char *sig,
    size_t siglen, const struct gw_config *cfg);
void ticket_free(struct gw_ticket *t);
const char *ticket_status_name(enum ticket_status s);
bool ticket_names_target(const struct gw_ticket *t, const char *target);
/* Whether t names this person (or the person's vendor) and target. */
bool ticket_covers(const struct gw_ticket *t, const struct gw_person *p, const char *target);
/* Splits a signature file into its armored blocks: *n starts (offsets) and lengths; -1 when
 * anything but whitespace lies outside the blocks, a block is unterminated, or there are
 * none or more than TICKET_SIGS_MAX. */
int ticket_split_signatures(const char *sig, size_t siglen, size_t off[TICKET_SIGS_MAX],
    size_t blen[TICKET_SIGS_MAX], size_t *n);

struct ticket_set *ticketset_new(void);
void ticketset_free(struct ticket_set *set);
void ticketset_add_ticket(struct ticket_set *set, struct gw_ticket *t); /* takes t */
void ticketset_add_revocation(
    struct ticket_set *set, const char *id, time_t at, const char *reason);
const struct gw_revocation *ticketset_find_revocation(const struct ticket_set *set, const char *id);
struct gw_ticket *ticketset_find_ticket(const struct ticket_set *set, const char *id);

/* revocation.c: <state_dir>/revocations, one "TIME<TAB>ID<TAB>REASON" line per
 * revocation; appended, never rewritten or deleted. */
int revocation_append(
    const char *state_dir, const char *id, time_t at, const char *reason, char **error);
/* Adds every recorded revocation to set; -1 (with errors) when the file exists but cannot
 * be read completely: the caller must then refuse access (fail closed). */
int revocation_load(const char *state_dir, struct ticket_set *set, char **errors);

/* ticketstore.c: installed tickets, <state_dir>/tickets/ID.ticket with ID.ticket.sig, and the
 * sessions started under each, ID.used (one line per session). */
/* Reads, parses and verifies every installed ticket (vendor not NULL: only that vendor's, the
 * only ones that can cover its persons), its used-session count and the revocations. Tickets that
 * fail verification stay in the set with their status (the decision names them); files that cannot
 * be parsed are reported in *errors. Returns -1 only when the store cannot be read reliably (refuse
 * all access then). */
int ticketstore_load(const char *state_dir, const struct gw_config *cfg, const char *vendor,
    struct ticket_set **out, char **errors);
/* Reads and verifies one installed ticket with its used-session count (no revocations);
 * -1 with *errors (caller frees) when it is not installed or cannot be parsed. */
int ticketstore_load_ticket(const char *state_dir, const struct gw_config *cfg, const char *id,
    struct gw_ticket **out, char **errors);
/* Whether ID.ticket is in the store: 1 yes, 0 no, -1 with *error (caller frees) when the store
 * cannot be read (an id that is not valid is never installed). */
int ticketstore_has_ticket(const char *state_dir, const char *id, char **error);
/* Stores ticket text and signature as ID.ticket/ID.ticket.sig; refuses to replace an installed
 * ticket with different content. Installing the identical ticket again adds sig's new blocks
 * as ticketstore_add_signature() does: installed signatures are never replaced. */
int ticketstore_install(const char *state_dir, const char *id, const char *text, size_t len,
    const char *sig, size_t siglen, char **error);
/* Appends the armored signature blocks of sig that the installed ticket id does not hold yet
 * (a further approver's) to its ID.ticket.sig, replaced atomically. Refuses unless the
 * installed text is byte-identical to text, each block verifies over it (namespace
 * gatewayd-ticket) and the file stays within TICKET_SIGS_MAX blocks. Whose keys signed is the
 * caller's to check first (ticket_verify over ticketstore_read()'s signatures plus sig): a
 * block by no approver's key would refuse the ticket. */
int ticketstore_add_signature(const char *state_dir, const char *id, const char *text, size_t len,
    const char *sig, size_t siglen, char **error);
/* The installed ID.ticket and ID.ticket.sig as they are (caller frees both); -1 with *error
 * when the ticket is not installed or cannot be read. */
int ticketstore_read(const char *state_dir, const char *id, char **text, size_t *len, char **sig,
    size_t *siglen, char **error);
/* Records one started session under ticket id (call after an allow that used it). */
int ticketstore_record_use(const char *state_dir, const char *id, time_t now, char **error);
/* Reads a regular file of at most max bytes (NUL-terminated copy); -1 with errno. */
int file_read_bounded(const char *path, size_t max, char **out, size_t *len);
/* Writes data to dir/name through a synced temporary file; replace: whether name may exist
 * (then atomically replaced). -1 with *error (caller frees). */
int store_write(
    const char *dir, const char *name, const char *data, size_t len, bool replace, char **error);

/* request.c: a person's access request ("ssh PERSON@gw request TARGET --for 2h --reason
 * TEXT"): once an approver signs the ticket text it proposes, that ticket is installed. */
#define REQUEST_REASON_MAX 200
enum request_state {
	REQUEST_PENDING,  /* waiting for (more) approvals; "expired" once not_after passed */
	REQUEST_APPROVED, /* its ticket is installed with every approval it needs */
	REQUEST_DENIED,
};
struct gw_request {
	char id[GW_ID_MAX + 1]; /* also the id of the ticket it proposes */
	char person[GW_ID_MAX + 1];
	char vendor[GW_ID_MAX + 1];
	char target[GW_ID_MAX + 1];
	char reason[REQUEST_REASON_MAX + 1];
	time_t created, not_before, not_after;
	enum request_state state;
	char decided_by[GW_REASON_MAX]; /* approvers who signed, or who denied: "a, b" */
	char deny_reason[REQUEST_REASON_MAX + 1];
	time_t decided_at;
};
/* Text a person typed that approvers' terminals will show: UTF-8 with no control character. */
bool request_text_is_valid(const char *s);
/* Whether rq may be made at now: a vendor's person, a grant for the target, an interval of at
 * most max_ticket_lifetime that is not past and in which the person's windows open, a reason.
 * -1 with the reason for the person in why. */
int request_check(
    const struct gw_config *cfg, const struct gw_request *rq, time_t now, char *why, size_t whylen);
const char *request_state_name(enum request_state s);
int request_state_parse(const char *name, enum request_state *out);
/* "pending", "approved until 2027-03-01T09:00:00Z by a", "denied by a: why", "expired". */
void request_describe(const struct gw_request *rq, time_t now, char *buf, size_t len);
/* The ticket text rq proposes, in the form `gatewayctl ticket new` writes, naming no approver
 * (the signatures do): exactly the bytes approvers sign. 0 with *text (caller frees), or -1. */
int request_ticket_text(const struct gw_request *rq, char **text, size_t *len);

/* decision.c: the access decision (R1). */
struct access_request {
	const char *person; /* authenticated person id */
	const char *target; /* requested target name */
	time_t now;
	/* 0: a session to target. Else a tunnel (direct-tcpip) to target:forward_port: the same
	 * decision, and the grant must list that destination; a tunnel is not a session, so it
	 * uses none of its ticket's max_sessions. */
	int forward_port;
};

enum deny_reason {
	DENY_NONE = 0,
	DENY_UNKNOWN_PERSON,
	DENY_VENDOR_DISABLED,
	DENY_VENDOR_EXPIRED,
	DENY_UNKNOWN_TARGET,
	DENY_NO_GRANT,
	DENY_NO_WINDOW, /* the vendor has no access window configured */
	DENY_OUTSIDE_WINDOW,
	DENY_NO_TICKET, /* no ticket names this vendor/person and target */
	DENY_TICKET_NOT_YET_VALID,
	DENY_TICKET_EXPIRED,
	DENY_TICKET_REVOKED,
	DENY_TICKET_USED_UP, /* max_sessions reached */
	DENY_TICKET_UNSIGNED,
	DENY_TICKET_BAD_SIGNATURE,
	DENY_TICKET_WRONG_NAMESPACE,
	DENY_TICKET_UNSUPPORTED_SIGNATURE,
	DENY_TICKET_UNKNOWN_SIGNER,
	DENY_TICKET_WRONG_SIGNER,
	DENY_TICKET_UNKNOWN_APPROVER,
	DENY_TICKET_OUT_OF_SCOPE,
	DENY_TICKET_TOO_LONG,        /* valid for longer than max_ticket_lifetime */
	DENY_TICKET_NEEDS_APPROVALS, /* fewer distinct approvers than target or grant require */
	DENY_NO_FORWARD,             /* the grant does not list the destination of a tunnel */
};

struct decision {
	bool allow;
	enum deny_reason reason;
	char vendor_msg[GW_REASON_MAX];   /* short; shown to the vendor */
	char audit_msg[GW_AUDIT_MSG_MAX]; /* precise; for the audit log */
	time_t ends_at;                   /* 0: no scheduled end */
	char ends_by[GW_ID_MAX + 24];     /* what ends it then: "access window", "approval ticket
	                                   * ID" or "account expiry" */
	unsigned channels;                /* granted channel kinds */
	/* The ticket the decision is about (the one used, or the refused one), or "": */
	char ticket_id[GW_ID_MAX + 1];
	/* Its verified approvers in signing order, comma-separated ("lead-a,ot-sec"); for a
	 * refused ticket without any, the approver its text names; names that do not fit whole
	 * (beyond GW_APPROVALS_MAX) are left out. */
	char approvers[GW_APPROVALS_MAX * (GW_ID_MAX + 2)];
};

/* tickets may be NULL (no tickets: every request is refused after the window check).
 * On allow, ends_at is the earliest of window end, ticket end and account expiry. */
void policy_decide(const struct gw_config *cfg, const struct ticket_set *tickets,
    const struct access_request *req, struct decision *out);
const char *deny_reason_name(enum deny_reason r);
/* Why ticket t does not admit at now (signature, lifetime, revocation, interval, sessions), or
 * DENY_NONE; what gets the precise text. Coverage of person and target is not checked. */
enum deny_reason ticket_check_now(const struct gw_config *cfg, const struct gw_ticket *t,
    const struct ticket_set *set, time_t now, char *what, size_t len);
/* DENY_TICKET_TOO_LONG (what says by how much) when t is valid for longer than max seconds. */
enum deny_reason ticket_check_lifetime(
    const struct gw_ticket *t, long long max, char *what, size_t len);

#endif
