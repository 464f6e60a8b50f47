#!/bin/bash
# Exec sessions through the gateway: exit status and signals come back as from the target itself,
# stdout and stderr stay apart, stdin EOF passes, only allow-listed environment reaches the target,
# several channels share one connection, and each exec channel is recorded with its command.
. "${GW_SRC:-$(dirname "$0")/../..}/tests/lib/harness.sh"
h_setup || exit 1

test_exec_output_reaches_vendor() {
	local out
	out=$(gw_ssh "$GW_DEST" 'echo hello-$((40+2))') || h_fail "ssh exited $?"
	h_assert_eq "hello-42" "$out" "stdout"
}

test_exec_exit_status_returned() {
	gw_ssh "$GW_DEST" 'exit 3'
	h_assert_eq 3 $? "exit status of 'exit 3'"
	gw_ssh "$GW_DEST" 'true'
	h_assert_eq 0 $? "exit status of 'true'"
}

test_exec_signal_exit_same_as_direct() {
	local direct_err gw_err direct_rc gw_rc
	direct_err=$(target_ssh "$TARGET_DEST" 'kill -TERM $$' 2>&1 >/dev/null)
	direct_rc=$?
	gw_err=$(gw_ssh "$GW_DEST" 'kill -TERM $$' 2>&1 >/dev/null)
	gw_rc=$?
	h_assert_eq "$direct_rc" "$gw_rc" "ssh exit status for a remote SIGTERM (direct vs gateway)"
	h_assert_eq 255 "$gw_rc" "ssh exit status for a remote SIGTERM"
	[[ -z $direct_err ]] || h_assert_contains "$gw_err" "$direct_err" "stderr for a remote SIGTERM"
}

test_stderr_kept_separate() {
	local out err
	out=$(gw_ssh "$GW_DEST" 'echo to-out; echo to-err >&2' 2>"$H_DIR/err")
	err=$(cat "$H_DIR/err")
	h_assert_eq "to-out" "$out" "stdout"
	h_assert_contains "$err" "to-err" "stderr"
	h_assert_not_contains "$out" "to-err" "stdout"
}

test_stdin_eof_reaches_target() {
	local out
	out=$(printf 'abc' | gw_ssh "$GW_DEST" 'cat; echo :done')
	h_assert_eq "abc:done" "$out" "stdin then EOF"
}

test_env_allow_list() {
	local out
	# The target accepts FOO itself (harness sshd_config), so only the gateway can drop it.
	out=$(LANG=C.UTF-8 FOO=bar target_ssh -o SendEnv=LANG -o SendEnv=FOO "$TARGET_DEST" 'echo "LANG=$LANG FOO=$FOO"')
	h_assert_eq "LANG=C.UTF-8 FOO=bar" "$out" "direct to the target (sanity)"
	out=$(LANG=C.UTF-8 FOO=bar gw_ssh -o SendEnv=LANG -o SendEnv=FOO "$GW_DEST" 'echo "LANG=$LANG FOO=$FOO"')
	h_assert_eq "LANG=C.UTF-8 FOO=" "$out" "through the gateway"
}

test_controlmaster_multiple_channels() {
	local sock=$H_DIR/cm.sock a b
	gw_ssh -M -S "$sock" -o ControlPersist=no -fN "$GW_DEST" || h_fail "master did not start"
	a=$(gw_ssh -S "$sock" "$GW_DEST" 'sleep 1; echo first-$((1+1))') &
	local pid=$!
	b=$(gw_ssh -S "$sock" "$GW_DEST" 'echo second-$((2+2))')
	wait "$pid"
	a=$(gw_ssh -S "$sock" "$GW_DEST" 'echo third-$((3+3))')
	gw_ssh -S "$sock" -O exit "$GW_DEST" 2>/dev/null
	h_assert_eq "second-4" "$b" "second channel"
	h_assert_eq "third-6" "$a" "third channel"
}

test_person_alone_lists_targets() {
	local out
	out=$(gw_ssh acme.alice@127.0.0.1 </dev/null 2>&1)
	h_assert_contains "$out" "plc-07" "target list"
}

# The recording is sealed before the vendor learns the channel ended: as soon as the client
# returns, the evidence verifies whole (no waiting).
test_exec_recorded_with_command() {
	local f found="" out
	gw_ssh "$GW_DEST" 'echo recorded-$((5*5))' >/dev/null || h_fail "ssh failed"
	for f in $(gw_recordings); do
		h_cast_header "$f" | grep -q 'recorded-\$((5\*5))' || continue
		found=$f
	done
	[[ -n $found ]] || h_fail "no recording whose header holds the command; have: $(gw_recordings)"
	h_assert_contains "$(h_cast_events "$found" o)" "recorded-25" "recorded output"
	h_assert_contains "$(h_cast_header "$found")" "acme.alice" "person in the header"
	out=$("$H_GATEWAYCTL" -f "$GW_CONFIG" recording verify "$found" 2>&1) || h_fail "not sealed as the client returned: $out"
	h_assert_contains "$out" ": intact" "verdict as the client returned"
}

h_run test_exec_output_reaches_vendor test_exec_exit_status_returned \
	test_exec_signal_exit_same_as_direct test_stderr_kept_separate test_stdin_eof_reaches_target \
	test_env_allow_list test_controlmaster_multiple_channels test_person_alone_lists_targets \
	test_exec_recorded_with_command
