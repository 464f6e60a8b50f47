#!/bin/bash
# SIGHUP reload under load (R12): with 100 live sessions the configuration is changed and
# reloaded; none is dropped: every one still echoes afterwards, none ended, and each recording
# verifies intact once the sessions close normally.
. "${GW_SRC:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$H_SRC/tests/lib/sessions.sh"
sshd_start plc-07 || exit 1
gw_policy_default
# Sessions start 20 at a time: sshd-like random early drop (max_startups) must not refuse them.
gw_config_extra 'max_startups = "100:30:1000";'
gw_config_extra 'per_source = { max_startups = 0; };' # 20 logins at once, all from 127.0.0.1
gw_start || exit 1

N=${GW_RELOAD_SESSIONS:-100}

# echo_range TAG FROM TO: sessions sFROM..sTO-1 each echo TAG-i (all asked, then all checked).
echo_range() {
	local i
	for ((i = $2; i < $3; i++)); do es_send "s$i" "$1-$i"; done
	for ((i = $2; i < $3; i++)); do
		es_expect "s$i" "$1-$i" 60 || h_fail "session s$i does not echo $1: $(es_out "s$i" | tail -3)"
	done
}

test_reload_with_100_sessions_drops_none() {
	local i j listener ends decided casts=() out
	listener=$(h_pid gatewayd)
	for ((i = 0; i < N; i += 20)); do
		for ((j = i; j < i + 20 && j < N; j++)); do es_start "s$j" || h_fail "start s$j"; done
		echo_range hello "$i" "$j"
	done
	h_assert_eq "$N" "$(pgrep -c -P "$listener")" "session processes before the reload"
	ends=$(grep -c '"session_end"' "$GW_AUDIT")
	decided=$(gw_events session_redecided)
	sed -i 's/^login_grace_time = .*/login_grace_time = 31;/' "$GW_CONFIG"
	kill -HUP "$listener"
	h_wait_for 10 grep -q 'configuration reloaded' "$H_DIR/gatewayd.log" ||
		h_fail "no reload in the log"
	grep -q '"event":"config_reload".*"result":"applied"' "$GW_AUDIT" || h_fail "no config_reload audit event"
	# Every session has decided again under the reloaded policy: one session_redecided each.
	h_wait_for 30 gw_events_reach session_redecided $((decided + N)) ||
		h_fail "$(($(gw_events session_redecided) - decided)) of $N sessions decided again after the reload"
	echo_range after-reload 0 "$N"
	for ((i = 0; i < N; i++)); do es_alive "s$i" || h_fail "session s$i ended"; done
	h_assert_eq "$N" "$(pgrep -c -P "$listener")" "session processes after the reload"
	h_assert_eq "$ends" "$(grep -c '"session_end"' "$GW_AUDIT")" "session_end events during the reload"
	# A session started after the reload runs under the new configuration.
	out=$(gw_ssh "$GW_DEST" 'echo new-$((1+1))' </dev/null) || h_fail "new session after reload: $?"
	h_assert_eq "new-2" "$out" "new session output"
	for ((i = 0; i < N; i++)); do es_end "s$i"; done
	for ((i = 0; i < N; i++)); do
		es_wait_exit "s$i" 30 || h_fail "session s$i did not end"
		h_assert_eq 0 "$ES_RC" "exit status of s$i"
		casts+=("$(es_cast "s$i")") || h_fail "no recording of s$i"
	done
	out=$(ctl recording verify "${casts[@]}" 2>&1) || h_fail "verify: $(grep -v intact <<<"$out" | head -5)"
	h_assert_eq "$N" "$(grep -c ': intact' <<<"$out")" "intact recordings"
	out=$(ctl audit verify 2>&1) || h_fail "audit verify: $out"
}

h_run test_reload_with_100_sessions_drops_none
