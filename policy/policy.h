/* policy.h: the vocabulary of access: vendor, person, target, grant, and the
 * access decision. The decision reads only what it is given: no I/O, no clock. */
#ifndef GW_POLICY_H
#define GW_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define GW_ID_MAX 64          /* vendor, person and target names */
#define GW_USERNAME_MAX 130   /* PERSON "+" TARGET */
#define GW_REASON_MAX 256

/* Channel kinds a grant may open. Default: shell and exec only (R5). */
enum gw_channel_kind {
	GW_CHAN_SHELL = 1 << 0,
	GW_CHAN_EXEC = 1 << 1,
	GW_CHAN_UPLOAD = 1 << 2,   /* file transfer towards the target */
	GW_CHAN_DOWNLOAD = 1 << 3, /* file transfer from the target */
	GW_CHAN_FORWARD = 1 << 4,  /* direct-tcpip port forwarding */
	GW_CHAN_AGENT = 1 << 5,
	GW_CHAN_X11 = 1 << 6,
};
#define GW_CHAN_DEFAULT (GW_CHAN_SHELL | GW_CHAN_EXEC)

/* A named engineer of a vendor; authenticates with one of its keys. */
struct gw_person {
	char *id;                 /* "acme.alice": vendor id, dot, name */
	char *name;               /* display name, may be NULL */
	struct gw_vendor *vendor; /* owner, set by the loader */
	char **keys;              /* OpenSSH public key lines */
	size_t nkeys;
};

/* An outside service provider. */
struct gw_vendor {
	char *id;
	char *name;
	bool enabled;
	time_t expires; /* 0: never */
	struct gw_person *persons;
	size_t npersons;
};

/* An OT host reached with the gateway's own credentials. */
struct gw_target {
	char *name;
	char *address;
	int port;
	char **fingerprints; /* pinned host keys, "SHA256:<base64>" */
	size_t nfingerprints;
	char *user;          /* login name on the target */
	char *key_file;      /* gateway-held private key, or NULL */
	char *password_file; /* gateway-held password, or NULL */
	char *hostkey_algorithms; /* NULL: libssh defaults (no SHA-1) */
	char *kex_algorithms;     /* NULL: libssh defaults */
	int connect_timeout; /* seconds */
};

/* Which targets a vendor may reach, and which channel kinds. */
struct gw_grant {
	char *vendor;
	char **targets;
	size_t ntargets;
	unsigned channels; /* enum gw_channel_kind bits */
};

struct gw_listen {
	char *address;
	int port;
};

/* One loaded configuration: a read-only snapshot after config_load(). */
struct gw_config {
	char *path;
	struct gw_listen *listen;
	size_t nlisten;
	char **host_keys;
	size_t nhost_keys;
	char *state_dir;
	char *recording_dir;
	char *audit_log;
	char *banner_file;
	int connect_timeout;  /* default for targets, seconds */
	int login_grace_time; /* seconds */
	int max_auth_tries;
	int max_sessions;     /* concurrent connections, 0: unlimited */
	struct gw_vendor *vendors;
	size_t nvendors;
	struct gw_target *targets;
	size_t ntargets;
	struct gw_grant *grants;
	size_t ngrants;
};

/* config.c: load and validate. Errors are "FILE:LINE: problem" lines,
 * appended to *errors (caller frees); returns 0 when valid, -1 otherwise. */
int config_load(const char *path, struct gw_config **out, char **errors);
void config_free(struct gw_config *cfg);
const struct gw_person *config_find_person(const struct gw_config *cfg, const char *id);
const struct gw_vendor *config_find_vendor(const struct gw_config *cfg, const char *id);
const struct gw_target *config_find_target(const struct gw_config *cfg, const char *name);
const struct gw_grant *config_find_grant(const struct gw_config *cfg, const char *vendor,
    const char *target);

/* username.c: "PERSON+TARGET" or "PERSON". */
struct gw_username {
	char person[GW_ID_MAX + 1];
	char target[GW_ID_MAX + 1]; /* "" when no target was named */
};
/* Returns 0, or -1 with a short reason for the vendor in *why. */
int username_parse(const char *name, struct gw_username *out, const char **why);
/* Names are [a-z0-9] first, then [a-z0-9._-]; shared by loader and parser. */
bool name_is_valid(const char *s);

/* fingerprint.c: "SHA256:<unpadded base64 of 32 bytes>" */
bool fingerprint_is_valid(const char *fp);
bool fingerprint_matches(const struct gw_target *t, const char *fp);

/* decision.c: the access decision (R1). */
struct access_request {
	const char *person;  /* authenticated person id */
	const char *target;  /* requested target name */
	time_t now;
};

enum deny_reason {
	DENY_NONE = 0,
	DENY_UNKNOWN_PERSON,
	DENY_VENDOR_DISABLED,
	DENY_VENDOR_EXPIRED,
	DENY_UNKNOWN_TARGET,
	DENY_NO_GRANT,
};

struct decision {
	bool allow;
	enum deny_reason reason;
	char vendor_msg[GW_REASON_MAX]; /* short; shown to the vendor */
	char audit_msg[GW_REASON_MAX];  /* precise; for the audit log */
	time_t ends_at;                 /* 0: no scheduled end */
	unsigned channels;              /* granted channel kinds */
};

void policy_decide(const struct gw_config *cfg, const struct access_request *req,
    struct decision *out);
const char *deny_reason_name(enum deny_reason r);

#endif
