#!/bin/bash
# Privilege separation (issue 14): no target key and no seal key is ever in the memory of the
# process that talks SSH to the vendor. A core (gcore) of the live gatewayd-front, during a
# session and before authentication, is searched for the target key's and the recording (seal)
# key's raw private bytes and file text; as a control that the search works, the vendor-facing
# host key, which the front legitimately holds, is found in the same core.
. "${GW_SRC:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$H_SRC/tests/lib/sessions.sh"
. "$H_SRC/tests/lib/privsep.sh"
h_setup || exit 1
SEAL_KEY=$H_DIR/gw/state/recording_key
HOST_KEY=$H_DIR/gw/ssh_host_ed25519_key

# core_search PID WHAT: gcore of PID, then every needle; the core is removed afterwards. Not in
# the sanitizer build: a core of a process under ASan holds its terabytes of reserved shadow
# and takes many minutes to write and search; the normal build's run is the proof.
core_search() {
	local pid=$1 what=$2 core=$H_DIR/core out
	ps_sanitized && h_skip "sanitizer build: a core of an ASan process is too large to search"
	[[ -s $SEAL_KEY && -s $HOST_KEY ]] || h_fail "no seal key $SEAL_KEY or host key $HOST_KEY"
	timeout -k 5 120 gcore -o "$core" "$pid" >"$H_DIR/gcore.log" 2>&1 ||
		h_fail "$what: gcore $pid: $(tail -5 "$H_DIR/gcore.log")"
	[[ -s $core.$pid ]] || h_fail "$what: no core file written"
	out=$(/usr/bin/python3 "$H_SRC/tests/lib/keysearch.py" "$core.$pid" \
		target="$GW_TARGET_KEY" seal="$SEAL_KEY" hostkey="$HOST_KEY" 2>&1) ||
		h_fail "$what: keysearch: $out"
	rm -f "$core.$pid"
	h_log "  $what: $(tr '\n' ';' <<<"$out")"
	h_assert_contains "$out" "target raw absent" "$what: the target key's private bytes"
	h_assert_contains "$out" "target text absent" "$what: the target key file's text"
	h_assert_contains "$out" "seal raw absent" "$what: the seal key's private bytes"
	h_assert_contains "$out" "seal text absent" "$what: the seal key file's text"
	# The control: the host key is there, so a key in this core would have been found.
	[[ $out == *"hostkey raw found"* || $out == *"hostkey text found"* ]] ||
		h_fail "$what: control failed, the host key is not found in the core either: $out"
}

test_live_front_core_holds_no_target_or_seal_key() {
	local front
	ps_require gdb
	es_start live || h_fail "session did not start"
	es_echo live hello-live 30 || h_fail "session does not echo: $(es_out live)"
	ps_wait_front_of_session front live || h_fail "no gatewayd-front serving the session"
	core_search "$front" "live session"
	es_echo live after-the-core || h_fail "the session stopped echoing after gcore"
	es_end live
	es_wait_exit live 20 || h_fail "the session did not end"
}

test_preauth_front_core_holds_no_target_or_seal_key() {
	local front
	ps_require gdb
	PS_KNOWN_FRONTS=$(ps_fronts | tr '\n' ' ')
	ps_preauth_start front
	core_search "$front" "pre-authentication"
}

h_run test_live_front_core_holds_no_target_or_seal_key test_preauth_front_core_holds_no_target_or_seal_key
