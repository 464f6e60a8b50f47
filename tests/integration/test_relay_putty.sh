#!/bin/bash
# PuTTY's command-line client (plink, putty-tools) through the gateway, as Windows vendors use
# it: a command's output and exit status, stdin relayed, and a terminal session with a pty.
. "${GW_SRC:-$(dirname "$0")/../..}/tests/lib/harness.sh"
command -v plink >/dev/null && command -v puttygen >/dev/null || h_skip "putty-tools not installed"
h_setup || exit 1

# The vendor's key as PuTTY keeps it, and the gateway's host key pinned as PuTTY wants it.
PPK=$H_DIR/keys/acme.alice.ppk
puttygen "$VENDOR_KEY" -O private -o "$PPK" 2>/dev/null || h_fail "puttygen could not convert the key"
GW_HOSTKEY=$(ssh-keygen -y -f "$H_DIR/gw/ssh_host_ed25519_key" | ssh-keygen -l -E sha256 -f - |
	awk '{ print $2 }')
plink_gw() {
	timeout -k 5 "$H_TIMEOUT" plink -ssh -batch -noagent -i "$PPK" -hostkey "$GW_HOSTKEY" \
		-P "$GW_PORT" "$@"
}

test_plink_command_output_and_status() {
	local out
	out=$(plink_gw "$GW_DEST" 'echo from-plink-$((6*7)); exit 3' </dev/null 2>&1)
	h_assert_eq 3 $? "plink's exit status"
	h_assert_contains "$out" "from-plink-42" "command output"
}

test_plink_stdin_reaches_target() {
	local out
	out=$(printf 'line one\nline two\n' | plink_gw "$GW_DEST" 'wc -l' 2>&1)
	h_assert_eq 2 "$(tr -dc 0-9 <<<"$out")" "lines counted on the target"
}

# newest_sealed: the newest recording verifies intact (sealed: the session wrote all of it); its
# path in REC.
newest_sealed() {
	REC=$(ls -1t "$GW_RECORDINGS"/*.cast | head -n 1)
	ctl recording verify "$REC" 2>/dev/null | grep -q ': intact'
}

test_plink_terminal_session_recorded() {
	local REC
	h_tmux_start 90 25 "plink -ssh -batch -noagent -t -i $PPK -hostkey $GW_HOSTKEY -P $GW_PORT $GW_DEST"
	h_tmux_send 'echo putty-tty-$((20+2)); tty' Enter
	h_tmux_wait 'putty-tty-22' 30 || h_fail "no terminal session: $(h_tmux_screen)"
	h_tmux_wait '^/dev/pts/' 10 || h_fail "no pty on the target: $(h_tmux_screen)"
	h_tmux_send 'exit' Enter
	h_tmux_wait_exit 15 || h_fail "session did not end: $(h_tmux_screen)"
	h_wait_for 10 newest_sealed ||
		h_fail "recording not sealed: $(ctl recording verify "$REC" 2>&1)"
	h_assert_contains "$(h_cast_events "$REC" o)" "putty-tty-22" "output in the recording"
	h_assert_match "$(h_cast_header "$REC")" '"width": ?90' "terminal width in the header"
}

h_run test_plink_command_output_and_status test_plink_stdin_reaches_target \
	test_plink_terminal_session_recorded
