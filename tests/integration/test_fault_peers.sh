#!/bin/bash
# Peer faults: the target drops the connection while output flows (the vendor is told, in
# bounded time, and the recording is sealed with the reason); the vendor vanishes without
# closing: a frozen client (SIGSTOP: the TCP connection stays up, nothing answers) is cut after
# the keepalive limit, a killed client at once; an idle vendor that answers keepalives stays, and
# so does one waiting longer than that limit for a slow target to answer.
. "${GW_SRC:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$H_SRC/tests/lib/sessions.sh"
sshd_start plc-07 || exit 1
gw_policy_default
# plc-slow: the same sshd behind a proxy that waits 4 s before connecting, past the keepalive
# limit below: the vendor waits for the gateway, it is not silent.
h_free_port SLOW || exit 1
h_spawn slow-proxy "$H_DIR/slow-proxy.log" /usr/bin/python3 "$H_SRC/tests/integration/slow_proxy.py" \
	"$SLOW" "${H_PORT[plc-07]}" 4
h_wait_port "$SLOW" "$H_LAST_PID" || exit 1
gw_target_add plc-slow "$SLOW" "${H_FP[plc-07]}"
gw_grant_add acme plc-slow "shell exec"
# Keepalive every second, cut after 2 unanswered: about 3 s of silence.
gw_config_extra "client_alive_interval = 1;
client_alive_count_max = 2;"
gw_start || exit 1

# started NAME [COMMAND]: session NAME is up and has produced output.
started() {
	es_start "$1" "$GW_DEST" "${2:-}" || h_fail "session $1 did not start"
	if [[ -z ${2:-} ]]; then
		es_echo "$1" "hello-$1" 30 || h_fail "session $1 does not echo: $(es_out "$1")"
	else
		es_wait_output "$1" 30 || h_fail "session $1 shows no output: $(es_out "$1")"
	fi
}

# printed NAME N: session NAME has printed N lines or more.
printed() { (($(wc -l <"$H_DIR/es-$1.out") >= $2)); }

# es_wait_output NAME SECONDS: until the session has printed 20 lines.
es_wait_output() { h_wait_for "$2" printed "$1" 20; }

# answered PORT: how many data segments the client on local PORT has sent the gateway (the
# kernel's count, ss -i). From an idle vendor, each is its answer to a keepalive.
answered() {
	ss -Htni state established "( sport = :$1 and dport = :$GW_PORT )" |
		awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^data_segs_out:/) n = substr($i, 15) }
			END { print n + 0 }'
}

# sealed_with NAME TEXT: the recording verifies intact and its seal's reason holds TEXT.
sealed_with() {
	local cast out
	cast=$(es_cast "$1") || h_fail "no recording of session $1"
	out=$(ctl recording verify "$cast" 2>&1) || h_fail "verify $1: $out"
	h_assert_contains "$out" "intact" "verdict for $1"
	h_assert_contains "$out" "$2" "reason sealed in $1's recording"
}

FLOOD='i=0; while :; do i=$((i+1)); echo tick-$i; sleep 0.02; done'

test_target_drop_midstream_vendor_told_recording_sealed() {
	local gw lport victims start
	started t "$FLOOD"
	gw=$(es_gateway_pid t) || h_fail "no session process for t"
	lport=$(ss -Htnp state established "( dport = :${H_PORT[plc-07]} )" |
		awk -v p="pid=$gw," 'index($0, p) { n = split($3, a, ":"); print a[n]; exit }')
	[[ -n $lport ]] || h_fail "no target connection of session process $gw"
	victims=$(h_socket_pids "${H_PORT[plc-07]}" "$lport")
	[[ -n $victims ]] || h_fail "no sshd process for the target connection"
	start=$SECONDS
	kill -9 $victims
	es_wait_exit t 15 || h_fail "the vendor was not disconnected within 15 s"
	[[ $ES_RC != 0 ]] || h_fail "the vendor's ssh exited 0 after the target dropped"
	h_assert_contains "$(es_out t)" "target closed the connection" "what the vendor read"
	h_wait_for 10 h_gone "$gw" || h_fail "session process $gw still running"
	sealed_with t "target disconnected"
	h_log "  target drop: vendor told after $((SECONDS - start)) s"
}

test_frozen_vendor_cut_after_keepalives() {
	local gw start
	started f
	gw=$(es_gateway_pid f) || h_fail "no session process for f"
	start=$SECONDS
	kill -STOP "${ES_PID[f]}"
	h_wait_for 15 h_gone "$gw" || { kill -CONT "${ES_PID[f]}"; h_fail "session not ended 15 s after freezing"; }
	((SECONDS - start >= 2)) || h_fail "cut after $((SECONDS - start)) s, before the keepalive limit"
	kill -CONT "${ES_PID[f]}"
	es_wait_exit f 15 || h_fail "the thawed client was not disconnected"
	sealed_with f "keepalive"
	grep -F '"session_end"' "$GW_AUDIT" | grep -qF 'keepalive' || h_fail "no session_end with the reason in the audit log"
	h_log "  frozen idle vendor: cut after $((SECONDS - start)) s"
}

test_frozen_vendor_cut_while_output_flows() {
	local gw start
	started o "$FLOOD"
	gw=$(es_gateway_pid o) || h_fail "no session process for o"
	start=$SECONDS
	kill -STOP "${ES_PID[o]}"
	h_wait_for 15 h_gone "$gw" || { kill -CONT "${ES_PID[o]}"; h_fail "session not ended 15 s after freezing"; }
	kill -CONT "${ES_PID[o]}"
	sealed_with o "keepalive"
}

test_killed_vendor_client_session_sealed() {
	local gw
	started k
	gw=$(es_gateway_pid k) || h_fail "no session process for k"
	kill -9 "${ES_PID[k]}"
	h_wait_for 10 h_gone "$gw" || h_fail "session process still running 10 s after its client was killed"
	sealed_with k "vendor disconnected"
}

test_idle_vendor_answering_keepalives_stays() {
	local port sent
	started i
	port=$(es_local_port i)
	[[ -n $port ]] || h_fail "no connection of session i"
	sent=$(answered "$port")
	# Six keepalives answered, one a second: the vendor sent nothing else for twice the 3 s of
	# silence after which it would have been cut had the answers not counted (a stray window
	# adjust among the segments would still leave 5 s).
	h_wait_for 20 eval "((\$(answered $port) >= $((sent + 6))))" ||
		h_fail "not 6 keepalives answered in 20 s: $(es_out i)"
	es_echo i "still-here" || h_fail "an idle but answering vendor was cut: $(es_out i)"
	es_end i
	es_wait_exit i 15 || h_fail "session i did not end"
	h_assert_eq 0 "$ES_RC" "exit status"
	sealed_with i "target closed the channel"
}

# The monitor's keepalive comes while the vendor's channel waits for the slow target: neither it
# nor the wait may end the login (the front once died on a keepalive for a channel being opened).
test_vendor_waiting_for_a_slow_target_stays() {
	local out
	out=$(gw_ssh acme.alice+plc-slow@127.0.0.1 'echo reached-$((40+2))' 2>&1)
	h_assert_contains "$out" "reached-42" "the login to the slow target"
	h_assert_not_contains "$(cat "$H_DIR/gatewayd.log")" "protocol violation" "gatewayd's log"
}

h_run test_vendor_waiting_for_a_slow_target_stays test_target_drop_midstream_vendor_told_recording_sealed test_frozen_vendor_cut_after_keepalives \
	test_frozen_vendor_cut_while_output_flows test_killed_vendor_client_session_sealed \
	test_idle_vendor_answering_keepalives_stays
