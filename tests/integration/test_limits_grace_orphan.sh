#!/bin/bash
# login_grace_time without the listener: the listener ends connections that do not
# authenticate in time, but sessions outlive it (a crash, a kill). A session process still
# authenticating when its listener is gone ends itself at the grace time, whatever the client
# does, and says so in its log. (Its login_timeout audit event cannot be written: the listener is
# the only writer of the audit log, docs/privileges.md.)
. "${GW_SRC:-$(dirname "$0")/../..}/tests/lib/harness.sh"
GW_LOGIN_GRACE=3
gw_config_extra 'per_source = { grace_penalty = 0; };'
sshd_start plc-07 || exit 1
gw_policy_default
GW_NO_TICKETS=1 # nobody authenticates here; a restarted gateway would install them twice

# session_timeouts: grace time ends logged by a session process itself.
session_timeouts() { grep -c 'did not authenticate within .*: closed by the session' "$H_DIR/gatewayd.log" 2>/dev/null; }
session_timeouts_past() { (($(session_timeouts) > $1)); }

# orphan NAME ARGS...: a hostile connection (hostile_grace.py ARGS), then the listener killed
# alone (not its session processes); what the client saw is in $H_DIR/NAME.out.
orphan() {
	local name=$1
	shift
	gw_start || h_fail "gatewayd did not start"
	TIMEOUTS_BEFORE=$(session_timeouts)
	h_hostile "$H_SRC/tests/integration/hostile_grace.py" --seconds 20 "$@" \
		>"$H_DIR/$name.out" 2>"$H_DIR/$name.err" &
	h_wait_for 20 grep -q ready "$H_DIR/$name.out" || h_fail "no connection: $(cat "$H_DIR/$name.err")"
	kill -9 "$(h_pid gatewayd)" || h_fail "kill of the listener"
	wait $!
}

test_unauthenticated_session_ends_without_listener() {
	local out secs
	orphan auth
	out=$(cat "$H_DIR/auth.out")
	h_log "    $(grep closed_after <<<"$out")"
	secs=$(sed -n 's/^closed_after //p' <<<"$out")
	h_assert_match "$secs" '^[0-9.]+$' "the connection was closed"
	# The grace time is 3 s; the margin is for a loaded machine.
	((${secs%.*} < 3 + 3)) || h_fail "closed after $secs s, grace 3 s"
	((${secs%.*} >= 2)) || h_fail "closed after $secs s, before the grace time of 3 s"
	h_wait_for 5 session_timeouts_past "$TIMEOUTS_BEFORE" ||
		h_fail "the session did not log its grace time end: $(tail -5 "$H_DIR/gatewayd.log")"
	gw_stop
}

# Not even the key exchange: the version line never sent.
test_key_exchange_never_done_ends_without_listener() {
	local out secs
	orphan raw --raw
	out=$(cat "$H_DIR/raw.out")
	h_log "    $(grep closed_after <<<"$out")"
	secs=$(sed -n 's/^closed_after //p' <<<"$out")
	h_assert_match "$secs" '^[0-9.]+$' "the connection was closed"
	# The key exchange is bounded by the grace time and the listener's 2 s to act first.
	((${secs%.*} < 3 + 2 + 3)) || h_fail "closed after $secs s, grace 3 s"
	((${secs%.*} >= 2)) || h_fail "closed after $secs s, before the grace time of 3 s"
	h_wait_for 5 session_timeouts_past "$TIMEOUTS_BEFORE" ||
		h_fail "the session did not log its grace time end: $(tail -5 "$H_DIR/gatewayd.log")"
	gw_stop
}

h_run test_unauthenticated_session_ends_without_listener test_key_exchange_never_done_ends_without_listener
