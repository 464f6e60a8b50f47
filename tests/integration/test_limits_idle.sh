#!/bin/bash
# idle_timeout: a session with neither vendor input nor target output for that long ends with
# a message to the vendor, and its recording and the audit log say why; output keeps it
# alive; a vendor's own idle_timeout overrides the global one.
. "${GW_SRC:-$(dirname "$0")/../..}/tests/lib/harness.sh"
sshd_start plc-07 || exit 1
gw_policy_default
gw_config_extra 'idle_timeout = 3;'
# Vendor "night" has its own idle_timeout: 0, never idle out.
h_keygen "$H_DIR/keys/night.nina" || exit 1
gw_vendor_add night "$H_ALWAYS idle_timeout = 0;"
gw_person_add night night.nina "$H_DIR/keys/night.nina.pub"
gw_grant_add night "plc-07" "shell exec"
gw_start || exit 1

test_idle_session_ends_with_message_and_reason() {
	local out t0 cast verify
	t0=$SECONDS
	out=$(gw_ssh "$GW_DEST" 'sleep 30; echo reached-$((1+1))' 2>&1)
	((SECONDS - t0 < 20)) || h_fail "the idle session lasted $((SECONDS - t0)) s"
	h_assert_contains "$out" "idle for 3 s: session ended" "vendor message"
	h_assert_not_contains "$out" "reached-2" "output after the end"
	cast=$(ls -t "$GW_RECORDINGS"/*.cast | head -n 1)
	verify=$("$H_GATEWAYCTL" -f "$GW_CONFIG" recording verify "$cast" 2>&1) ||
		h_fail "recording verify: $verify"
	h_assert_contains "$verify" "idle timeout" "end reason in the recording"
	grep '"session_cut"' "$GW_AUDIT" | grep -q 'idle timeout' || h_fail "no session_cut audit event"
}

test_output_keeps_session_alive() {
	local out
	out=$(gw_ssh "$GW_DEST" 'for i in 1 2 3 4 5; do echo tick; sleep 1; done; echo reached-$((1+1))' 2>&1)
	h_assert_contains "$out" "reached-2" "a session with output every second"
}

test_vendor_idle_timeout_overrides_global() {
	local out
	out=$(timeout -k 5 "$H_TIMEOUT" ssh "${H_SSH_OPTS[@]}" -i "$H_DIR/keys/night.nina" -p "$GW_PORT" \
		night.nina+plc-07@127.0.0.1 'sleep 4; echo reached-$((1+1))' 2>&1)
	h_assert_contains "$out" "reached-2" "vendor with idle_timeout = 0"
}

h_run test_idle_session_ends_with_message_and_reason test_output_keeps_session_alive \
	test_vendor_idle_timeout_overrides_global
