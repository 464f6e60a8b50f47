#!/bin/bash
# max_startups caps connections that have not authenticated yet: past "full" a new one is
# closed before the SSH greeting; sessions that authenticated do not count; a slot is free
# again as soon as an unauthenticated connection goes away.
. "${GW_SRC:-$(dirname "$0")/../..}/tests/lib/harness.sh"
sshd_start plc-07 || exit 1
gw_policy_default
gw_config_extra 'max_startups = "2:100:2";'
gw_config_extra 'per_source = { max_startups = 0; };' # every connection here comes from 127.0.0.1
gw_start || exit 1

login() { gw_ssh "$GW_DEST" 'echo reached-$((1+1))' 2>&1; }

# greeted FD: a connection to the gateway on FD that the gateway took in (it greeted it), or
# none (FD closed again) when it was dropped.
greeted() {
	local line=""
	eval "exec $1<>/dev/tcp/127.0.0.1/$GW_PORT" || h_fail "connect on fd $1"
	read -r -t 10 line <&"$1"
	[[ $line == SSH-2.0-* ]] && return 0
	eval "exec $1>&-"
	return 1
}

# hold_unauthenticated N: N connections (fds 20...) that the gateway took in (it greeted them)
# and that never start SSH. A connection still dropped (slots held by the harness's own port
# probes, not yet gone) is opened again.
hold_unauthenticated() {
	local i
	for ((i = 0; i < $1; i++)); do
		h_wait_for 20 greeted $((20 + i)) || h_fail "connection $i never greeted"
	done
}

test_excess_unauthenticated_connection_dropped() {
	local out
	hold_unauthenticated 2
	out=$(login)
	h_assert_not_contains "$out" "reached-2" "third unauthenticated connection"
	grep -q 'past max_startups' "$H_DIR/gatewayd.log" || h_fail "the drop is not logged"
}

# logged_in: a login through the gateway reached the target; what it printed in OUT.
logged_in() {
	OUT=$(login)
	[[ $OUT == *reached-2* ]]
}

test_slot_freed_when_unauthenticated_connection_leaves() {
	local OUT
	hold_unauthenticated 2
	exec 20>&-
	h_wait_for 30 logged_in || h_fail "no login after one waiting connection closed: $OUT"
}

# no_session_processes: the listener has no child left (the connections the tests before held
# are gone, their startup slots free).
no_session_processes() { ! pgrep -P "$(h_pid gatewayd)" >/dev/null; }

test_authenticated_sessions_do_not_count() {
	local out before
	# The connections the tests before held must be gone first, or one of the two sessions
	# below is dropped at max_startups (a loaded sanitizer build reaps them late).
	h_wait_for 30 no_session_processes || h_fail "connections of the tests before still held"
	before=$(gw_events session_start)
	gw_ssh "$GW_DEST" 'sleep 8' >/dev/null 2>&1 &
	gw_ssh "$GW_DEST" 'sleep 8' >/dev/null 2>&1 &
	h_wait_for 30 gw_events_reach session_start $((before + 2)) || h_fail "sessions did not start"
	out=$(login)
	h_assert_contains "$out" "reached-2" "login beside two authenticated sessions"
	wait
}

h_run test_excess_unauthenticated_connection_dropped \
	test_slot_freed_when_unauthenticated_connection_leaves test_authenticated_sessions_do_not_count
