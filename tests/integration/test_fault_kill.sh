#!/bin/bash
# Process faults (R8, R13): kill -9 of one session process leaves the other live sessions
# echoing and its own recording verifiable as truncated (not as tampered); kill -9 of the
# listener ends the live sessions (fail closed: the listener is the notary that signs their
# evidence, and no session process holds the seal key), their recordings verifiable as
# truncated, and a restarted gatewayd accepts new sessions. The audit log verifies intact after both. A stopping gatewayd (SIGTERM,
# as systemctl stop sends it) ends every live session with a message and a sealed recording.
. "${GW_SRC:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$H_SRC/tests/lib/sessions.sh"
h_setup || exit 1

# started NAME...: each session is up and echoes.
started() {
	local n
	for n in "$@"; do es_start "$n" || h_fail "session $n did not start"; done
	for n in "$@"; do es_echo "$n" "hello-$n" 30 || h_fail "session $n does not echo: $(es_out "$n")"; done
}

# signed NAME...: each session's recording holds a checkpoint (an "h" line, which the listener
# signs) after its first line with the session's echo (hello-NAME): what it showed is signed.
signed() {
	local n cast
	for n in "$@"; do
		cast=$(es_cast "$n") || return 1
		awk -v m="hello-$n" 'index($0, m) { seen = 1 }
			seen && index($0, ",\"h\",") { ok = 1 }
			END { exit !ok }' "$cast" || return 1
	done
}

# verdict NAME: `recording verify` of session NAME's recording.
verdict() {
	local cast
	cast=$(es_cast "$1") || h_fail "no recording of session $1"
	ctl recording verify "$cast" 2>&1
}

test_killed_session_truncated_others_echo() {
	local victim out cast
	started a b c
	victim=$(es_gateway_pid a) || h_fail "no session process for a"
	[[ $victim =~ ^[0-9]+$ ]] || h_fail "session process of a: [$victim]"
	h_wait_for 10 signed a || h_fail "no checkpoint in a's recording"
	kill -9 "$victim" || h_fail "kill -9 $victim"
	es_wait_exit a 20 || h_fail "the vendor of the killed session was not disconnected"
	[[ $ES_RC != 0 ]] || h_fail "the killed session's client exited 0"
	es_echo b "after-kill-b" || h_fail "b stopped echoing after a was killed"
	es_echo c "after-kill-c" || h_fail "c stopped echoing after a was killed"
	out=$(verdict a) && h_fail "the killed session's recording verifies intact: $out"
	h_assert_contains "$out" "truncated" "verdict for the killed session"
	h_assert_not_contains "$out" "tampered" "verdict for the killed session"
	# The same file changed in an early record is tampering, said differently.
	cast=$(es_cast a)
	cp "$cast" "$H_DIR/altered.cast"
	sed -i '0,/hello-a/s//HELLO-a/' "$H_DIR/altered.cast"
	cmp -s "$cast" "$H_DIR/altered.cast" && h_fail "nothing altered"
	out=$(ctl recording verify "$H_DIR/altered.cast" 2>&1)
	h_assert_match "$out" "tampered|bad signature" "verdict for an altered recording"
	h_assert_not_contains "$out" "truncated" "verdict for an altered recording"
	es_end b
	es_end c
	es_wait_exit b 20 && es_wait_exit c 20 || h_fail "b or c did not end"
	h_assert_contains "$(verdict b)" "intact" "verdict for b"
	h_assert_contains "$(verdict c)" "intact" "verdict for c"
	out=$(ctl audit verify 2>&1) || h_fail "audit verify: $out"
}

test_killed_listener_sessions_end_truncated_restart_accepts() {
	local listener out n
	started d e
	h_wait_for 10 signed d e || h_fail "no checkpoint in d's or e's recording"
	listener=$(h_pid gatewayd)
	kill -9 "$listener" || h_fail "kill -9 $listener"
	# Echoed lines must be recorded and signed; nobody signs any more, so they end.
	es_send d "after-listener-d"
	es_send e "after-listener-e"
	es_wait_exit d 20 && es_wait_exit e 20 || h_fail "sessions outlived their notary"
	for n in d e; do
		out=$(verdict $n) && h_fail "recording of $n verifies intact without its end: $out"
		h_assert_contains "$out" "truncated" "verdict for $n (outlived its listener)"
		h_assert_not_contains "$out" "tampered" "verdict for $n (outlived its listener)"
	done
	# A new listener on the same port.
	h_spawn gatewayd "$H_DIR/gatewayd.log" "$H_GATEWAYD" -D -f "$GW_CONFIG"
	h_wait_port "$GW_PORT" "$H_LAST_PID" || h_fail "gatewayd did not restart: $(tail -5 "$H_DIR/gatewayd.log")"
	started f
	es_end f
	es_wait_exit f 20 || h_fail "f did not end"
	h_assert_eq 0 "$ES_RC" "exit status of f"
	h_assert_contains "$(verdict f)" "intact" "verdict for f (restarted listener)"
	out=$(ctl audit verify 2>&1) || h_fail "audit verify: $out"
	h_assert_contains "$out" "intact" "audit verdict"
}

test_stopped_gateway_ends_sessions_sealed() {
	local listener
	started g h
	listener=$(h_pid gatewayd)
	kill -TERM "$listener" || h_fail "kill -TERM $listener"
	es_wait_exit g 10 && es_wait_exit h 10 || h_fail "sessions still run after the gateway stopped"
	h_assert_contains "$(es_out g)" "the gateway is stopping" "message to the vendor"
	h_assert_contains "$(verdict g)" "intact" "verdict for g"
	h_assert_contains "$(verdict g)" "gateway stopped" "end reason sealed in g"
	h_assert_contains "$(verdict h)" "intact" "verdict for h"
	h_assert_contains "$(ctl audit verify 2>&1)" "intact" "audit verdict"
}

h_run test_killed_session_truncated_others_echo test_killed_listener_sessions_end_truncated_restart_accepts \
	test_stopped_gateway_ends_sessions_sealed
