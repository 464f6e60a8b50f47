#!/bin/bash
# When the target is down, silent or not the host it should be, the vendor is told so within
# the target's connect timeout, and a changed host key refuses the session and is audited.
. "${GW_SRC:-$(dirname "$0")/../..}/tests/lib/harness.sh"
sshd_start plc-07 || exit 1
gw_policy_default
h_free_port down_port
h_free_port silent_port
h_keygen "$H_DIR/keys/other_host" || exit 1
# A listener that accepts and never speaks: a hung target.
h_spawn silent "$H_DIR/silent.log" python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(16)
held = []
while True:
    held.append(s.accept()[0])' "$silent_port"
h_wait_port "$silent_port" "$H_LAST_PID" || exit 1
gw_target_add down-01 "$down_port" "${H_FP[plc-07]}" "connect_timeout = 3;"
gw_target_add silent-01 "$silent_port" "${H_FP[plc-07]}" "connect_timeout = 3;"
gw_target_add rekeyed-01 "${H_PORT[plc-07]}" "$(h_fingerprint "$H_DIR/keys/other_host.pub")"
gw_grant_add acme "down-01 silent-01 rekeyed-01" "shell exec"
gw_start || exit 1

# within SECONDS USER: runs a command as USER, fails the test if it took longer than SECONDS
# (the connect timeout is 3 s; the bound leaves room for a loaded CI machine, not for a hang).
within() {
	local start=$SECONDS out
	out=$(gw_ssh "$2@127.0.0.1" 'echo reached-$((1+1))' 2>&1)
	[[ $? != 0 ]] || h_fail "ssh succeeded: $out"
	((SECONDS - start <= $1)) || h_fail "took $((SECONDS - start)) s, more than $1 s"
	h_assert_not_contains "$out" "reached-2" "output"
	printf '%s' "$out"
}

test_target_down_clear_message_in_time() {
	local out
	out=$(within 20 acme.alice+down-01) || exit 1
	h_assert_match "$out" '[Tt]arget' "message names the target as the problem"
}

test_target_silent_clear_message_in_time() {
	local out
	out=$(within 20 acme.alice+silent-01) || exit 1
	h_assert_match "$out" '[Tt]arget' "message names the target as the problem"
}

test_changed_host_key_refused() {
	local out
	out=$(within 30 acme.alice+rekeyed-01) || exit 1
	h_assert_contains "$out" "target host key mismatch" "message"
	grep -qi 'mismatch' "$GW_AUDIT" || h_fail "no audit event for the mismatch in $GW_AUDIT"
}

test_good_target_still_works() {
	local out
	out=$(gw_ssh "$GW_DEST" 'echo reached-$((1+1))') || h_fail "ssh exited $?"
	h_assert_eq "reached-2" "$out" "output"
}

h_run test_target_down_clear_message_in_time test_target_silent_clear_message_in_time \
	test_changed_host_key_refused test_good_target_still_works
