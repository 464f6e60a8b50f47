#!/bin/bash
# One source cannot lock a person out or block everyone: failures from a source already locked
# out do not count against the person (its connections are closed), and a source holding many
# unauthenticated connections gets only a few of them (per_source.max_startups), while the
# legitimate person logs in from another address.
. "${GW_SRC:-$(dirname "$0")/../..}/tests/lib/harness.sh"
sshd_start plc-07 || exit 1
gw_policy_default
h_keygen "$H_DIR/keys/stranger" || exit 1
gw_start || exit 1
export GW_NO_TICKETS=1 # installed once above; every restart below keeps the state directory

# floods_restart CONFIG...: the gateway again with a fresh limits table and these settings.
floods_restart() {
	gw_stop
	H_CFG_EXTRA=("$@")
	gw_start || h_fail "gatewayd did not restart"
}

# auth_failures SOURCE: how many auth_failure events came from SOURCE.
auth_failures() { grep '"event":"auth_failure"' "$GW_AUDIT" | grep -c "\"client\":\"$1\""; }

# login SOURCE: what acme.alice's terminal shows for one command from SOURCE.
login() {
	timeout -k 5 "$H_TIMEOUT" ssh "${H_SSH_OPTS[@]}" -b "$1" -i "$VENDOR_KEY" -p "$GW_PORT" \
		"$GW_DEST" 'echo reached-$((1+1))' 2>&1
}

# Without the per-source cap, so that all 10 connections are in before the source lockout: the
# failures they make after it count against nobody and they are closed.
test_parallel_wrong_keys_from_one_source_do_not_lock_the_person_out() {
	local out before
	floods_restart 'per_source = { max_startups = 0; };'
	before=$(auth_failures 127.0.0.2)
	out=$(h_hostile "$GW_SRC/tests/integration/hostile_auth_flood.py" --source 127.0.0.2 \
		--connections 10 --tries 10 --wrong-key "$H_DIR/keys/stranger")
	h_log "  flood: $out"
	h_assert_match "$out" "^attempts [0-9]+ " "the flood ran"
	h_log "  auth_failure events from 127.0.0.2: $(($(auth_failures 127.0.0.2) - before))"
	grep -q '"scope":"source","source":"127.0.0.2"' "$GW_AUDIT" || h_fail "no source lockout"
	grep -q '"scope":"person"' "$GW_AUDIT" && h_fail "a person lockout was audited"
	out=$(login 127.0.0.1)
	h_assert_contains "$out" "reached-2" "acme.alice's right key from another address"
}

# source_held N: whether the idle flood says it holds N connections.
idle_started() { grep -q '^holding' "$H_DIR/idle.out"; }

test_idle_connections_from_one_source_do_not_block_others() {
	local i ok=0 out flood
	floods_restart
	h_hostile "$GW_SRC/tests/integration/hostile_idle_flood.py" --source 127.0.0.3 \
		--connections 100 --seconds 40 >"$H_DIR/idle.out" 2>&1 &
	flood=$!
	h_wait_for 20 idle_started || h_fail "the idle flood did not start"
	h_log "  idle flood: $(head -n 1 "$H_DIR/idle.out")"
	for ((i = 0; i < 10; i++)); do
		out=$(login 127.0.0.1)
		[[ $out == *reached-2* ]] && ((ok++))
	done
	h_log "  legitimate logins during the idle flood: $ok of 10"
	h_assert_eq 10 "$ok" "legitimate logins from 127.0.0.1 during the flood"
	h_kill_job "$flood"
}

# login_timeout_from SOURCE: whether a login_timeout event names SOURCE.
login_timeout_from() { grep '"event":"login_timeout"' "$GW_AUDIT" | grep -q "\"client\":\"$1\""; }

test_source_that_holds_connections_to_the_grace_time_is_refused_for_a_while() {
	local out ev flood
	GW_LOGIN_GRACE=2 floods_restart 'per_source = { grace_penalty = 60; };'
	h_hostile "$GW_SRC/tests/integration/hostile_idle_flood.py" --source 127.0.0.4 \
		--connections 1 --seconds 30 >"$H_DIR/idle4.out" 2>&1 &
	flood=$!
	h_wait_for 20 login_timeout_from 127.0.0.4 || h_fail "no login_timeout event for 127.0.0.4"
	ev=$(grep '"event":"login_timeout"' "$GW_AUDIT" | grep '"client":"127.0.0.4"' | head -n 1)
	h_assert_contains "$ev" '"source_refused_until":' "login_timeout names the penalty"
	out=$(login 127.0.0.4)
	h_assert_not_contains "$out" "reached-2" "the penalised source"
	out=$(login 127.0.0.1)
	h_assert_contains "$out" "reached-2" "another source meanwhile"
	h_kill_job "$flood"
}

# The two sources flood at the same time: the cap is per source, so neither changes what the
# other gets, and the test waits 6 s once instead of twice.
test_exempt_source_may_hold_more_than_the_cap() {
	local exempt
	floods_restart 'per_source = { max_startups = 2; exempt = [ "127.0.0.5/32" ]; };'
	h_hostile "$GW_SRC/tests/integration/hostile_idle_flood.py" --source 127.0.0.5 \
		--connections 6 --seconds 6 >"$H_DIR/idle5.out" 2>&1 &
	exempt=$!
	h_hostile "$GW_SRC/tests/integration/hostile_idle_flood.py" --source 127.0.0.6 \
		--connections 6 --seconds 6 >"$H_DIR/idle6.out" 2>&1
	wait "$exempt"
	h_assert_match "$(tail -n 1 "$H_DIR/idle5.out")" "^greeted 6 dropped 0$" \
		"an exempt source's connections"
	h_assert_match "$(tail -n 1 "$H_DIR/idle6.out")" "^greeted 2 dropped [1-9]" \
		"another source's connections"
}

h_run test_parallel_wrong_keys_from_one_source_do_not_lock_the_person_out \
	test_idle_connections_from_one_source_do_not_block_others \
	test_source_that_holds_connections_to_the_grace_time_is_refused_for_a_while \
	test_exempt_source_may_hold_more_than_the_cap
