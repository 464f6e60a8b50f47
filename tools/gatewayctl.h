/* gatewayctl.h: the owner's and auditor's command line. Each subcommand is one
 * cmd-*.c file exporting a struct ctl_command; gatewayctl.c lists them. */
#ifndef GW_GATEWAYCTL_H
#define GW_GATEWAYCTL_H

#include "evidence/seal.h"
#include "policy/policy.h"

struct ctl_context {
	const char *config_path;    /* -f, default /etc/gatewayd/gatewayd.conf */
	struct gw_config *config;   /* loaded on demand by ctl_config() */
	const char *control_socket; /* -S: gatewayd's control socket without reading the config */
	/* An auditor's console (gatewayd/console_auditor.c): config is the gateway's own, the
	 * commands read only its recordings, audit log and key (no --dir, --audit, --key), of
	 * the vendors the auditor may read, and take recordings by name, never by path. */
	const struct gw_auditor *auditor;
	/* What its `evidence export` cannot do in the sandbox: sign the MANIFEST (the listener
	 * does, for sign_arg) and open the player's files (opened before it, bundle.h). */
	int (*sign_manifest)(void *sign_arg, const char *manifest, char sig[SEAL_SIG_B64_LEN]);
	void *sign_arg;
	const int *player_fds;
};

struct ctl_command {
	const char *name;  /* "ticket", "recording", ... */
	const char *usage; /* one line, after the name */
	/* argv[0] is the command name. Returns the process exit status. */
	int (*exec)(struct ctl_context *ctx, int argc, char **argv);
};

/* Loads the configuration once; prints FILE:LINE errors and returns NULL when invalid. */
const struct gw_config *ctl_config(struct ctl_context *ctx);

extern const struct ctl_command cmd_config_entry;
extern const struct ctl_command cmd_recording_entry;
extern const struct ctl_command cmd_audit_entry;
extern const struct ctl_command cmd_keys_entry;
extern const struct ctl_command cmd_replay_entry;
extern const struct ctl_command cmd_transcript_entry;
extern const struct ctl_command cmd_transfers_entry;
extern const struct ctl_command cmd_search_entry;
extern const struct ctl_command cmd_history_entry;
extern const struct ctl_command cmd_ticket_entry;
extern const struct ctl_command cmd_sessions_entry;
extern const struct ctl_command cmd_kill_entry;
extern const struct ctl_command cmd_vendor_entry;
extern const struct ctl_command cmd_watch_entry;
extern const struct ctl_command cmd_reload_entry;
extern const struct ctl_command cmd_evidence_entry;
extern const struct ctl_command cmd_report_entry;
extern const struct ctl_command cmd_approve_entry;

#endif
