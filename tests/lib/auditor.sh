#!/bin/bash
# auditor.sh: what the auditor console's tests share: the scenario (acme's person alice and a
# vendor beta outside the auditor ann's scope, on plc-07) and ways to reach and check evidence.
# Sourced after tests/lib/harness.sh.

# auditor_scenario: the targets, vendors and scope above, the gateway started.
auditor_scenario() {
	sshd_start plc-07 || return 1
	gw_policy_default
	h_keygen "$H_DIR/keys/beta.bob" || return 1
	gw_vendor_add beta
	gw_person_add beta beta.bob "$H_DIR/keys/beta.bob.pub"
	gw_grant_add beta "plc-07" "shell exec"
	H_CFG_AUDITOR_VENDORS="acme"
	gw_start
}

# as_auditor ARGS...: ARGS at the console as the auditor ann
as_auditor() { gw_console "$AUDITOR_KEY" auditor.ann "$@"; }
# recording_of VENDOR: the file of VENDOR's (one) recording
recording_of() { grep -l "\"vendor\": *\"$1\"" "$GW_RECORDINGS"/*.cast | head -n 1; }
# sealed FILE: the recording holds its last record (the session process sealed it)
sealed() { "$H_GATEWAYCTL" -f "$GW_CONFIG" recording verify "$1" | grep -q ': intact'; }

# auditor_sessions: one recorded session of each vendor, both sealed: ACME and BETA are their
# recording files.
auditor_sessions() {
	local out
	out=$(gw_ssh "$GW_DEST" 'echo acme-was-$((40+2))' </dev/null) || h_fail "acme's session: $out"
	out=$(timeout -k 5 "$H_TIMEOUT" ssh "${H_SSH_OPTS[@]}" -i "$H_DIR/keys/beta.bob" -p "$GW_PORT" \
		beta.bob+plc-07@127.0.0.1 'echo beta-was-$((50+2))' </dev/null) || h_fail "beta's session: $out"
	h_wait_for 20 recording_of beta >/dev/null || h_fail "no recording of beta"
	ACME=$(recording_of acme) BETA=$(recording_of beta)
	[[ -n $ACME && -n $BETA ]] || h_fail "recordings: $(gw_recordings)"
	h_wait_for 20 sealed "$ACME" && h_wait_for 20 sealed "$BETA" || h_fail "recordings not sealed"
}
