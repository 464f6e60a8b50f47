#!/bin/bash
# Failed attempts are limited per source address and per person: each failure makes the next
# wait longer, N failures lock the source (its connections are closed at once) or the person
# (whose logins then fail exactly like a wrong key), a lockout ends by itself, and a person
# from another source still gets in while one source hammers. Each lockout is an audit event.
. "${GW_SRC:-$(dirname "$0")/../..}/tests/lib/harness.sh"
sshd_start plc-07 || exit 1
gw_policy_default
h_keygen "$H_DIR/keys/acme.bob" || exit 1
gw_person_add acme acme.bob "$H_DIR/keys/acme.bob.pub"
h_keygen "$H_DIR/keys/stranger" || exit 1
gw_start || exit 1
export GW_NO_TICKETS=1 # installed once above; every restart below keeps the state directory

# limits_restart LOCKOUT-SETTINGS: the gateway again, with a fresh limits table.
limits_restart() {
	gw_stop
	H_CFG_EXTRA=("lockout = { $1 };")
	gw_start || h_fail "gatewayd did not restart"
}

# attempt SOURCE USER KEY: what the vendor's terminal shows, the user@host prefix removed.
attempt() {
	timeout -k 5 "$H_TIMEOUT" ssh "${H_SSH_OPTS[@]}" -b "$1" -i "$3" -p "$GW_PORT" \
		"$2@127.0.0.1" 'echo reached-$((1+1))' 2>&1 | sed "s/$2@127.0.0.1: //"
	return "${PIPESTATUS[0]}"
}

# lockouts SCOPE WHO: how many lockout audit events name WHO in SCOPE.
lockouts() {
	python3 - "$GW_AUDIT" "$1" "$2" <<-'PY'
		import json, sys
		n = 0
		for line in open(sys.argv[1], encoding="utf-8"):
		    ev = json.loads(line)
		    if ev.get("event") == "lockout" and ev.get("scope") == sys.argv[2] \
		            and ev.get(sys.argv[2]) == sys.argv[3]:
		        n += 1
		print(n)
	PY
}

# lockout_until SCOPE WHO N: the end (epoch seconds) of the Nth lockout audit event naming WHO
# in SCOPE; fails while there is none.
lockout_until() {
	python3 - "$GW_AUDIT" "$@" <<-'PY'
		import calendar, json, sys, time
		ends = []
		for line in open(sys.argv[1], encoding="utf-8"):
		    ev = json.loads(line)
		    if ev.get("event") == "lockout" and ev.get("scope") == sys.argv[2] \
		            and ev.get(sys.argv[2]) == sys.argv[3]:
		        until = time.strptime(ev["until"], "%Y-%m-%dT%H:%M:%SZ")
		        ends.append(calendar.timegm(until))
		n = int(sys.argv[4])
		if len(ends) < n:
		    sys.exit(1)
		print(ends[n - 1])
	PY
}

test_source_locked_after_n_wrong_keys_while_another_source_gets_in() {
	local i out
	limits_restart "failures = 3; person_failures = 100; duration = 600; delay_ms = 10; max_delay_ms = 40;"
	for i in 1 2 3; do
		out=$(attempt 127.0.0.1 acme.alice+plc-07 "$H_DIR/keys/stranger")
		h_assert_contains "$out" "Permission denied" "wrong key $i"
	done
	out=$(attempt 127.0.0.1 acme.alice+plc-07 "$VENDOR_KEY")
	h_assert_eq 255 $? "ssh exit status from the locked source"
	h_assert_not_contains "$out" "reached-2" "locked source, right key"
	h_assert_not_contains "$out" "Permission denied" "locked source is closed before authentication"
	out=$(attempt 127.0.0.2 acme.alice+plc-07 "$VENDOR_KEY")
	h_assert_contains "$out" "reached-2" "the same person from another source"
	h_assert_eq 1 "$(lockouts source 127.0.0.1)" "lockout audit events for 127.0.0.1"
}

test_lockout_ends_after_its_duration() {
	local out n ends
	limits_restart "failures = 2; duration = 5; delay_ms = 10; max_delay_ms = 40;"
	n=$(($(lockouts source 127.0.0.1) + 1))
	attempt 127.0.0.1 acme.alice+plc-07 "$H_DIR/keys/stranger" >/dev/null
	attempt 127.0.0.1 acme.alice+plc-07 "$H_DIR/keys/stranger" >/dev/null
	out=$(attempt 127.0.0.1 acme.alice+plc-07 "$VENDOR_KEY")
	h_assert_not_contains "$out" "reached-2" "during the lockout"
	# The lockout ends at the time its audit event names (whole seconds, the gateway's clock:
	# locked while now < until): the login is tried again as soon as that time has come.
	h_wait_for 10 eval "ends=\$(lockout_until source 127.0.0.1 $n)" ||
		h_fail "no lockout audit event for 127.0.0.1"
	h_wait_for 10 eval '((EPOCHSECONDS >= ends))' || h_fail "lockout end $ends not reached"
	out=$(attempt 127.0.0.1 acme.alice+plc-07 "$VENDOR_KEY")
	h_assert_contains "$out" "reached-2" "after the lockout"
}

test_locked_person_fails_like_a_wrong_key() {
	local src out wrong
	limits_restart "failures = 100; person_failures = 3; duration = 600; delay_ms = 10; max_delay_ms = 40;"
	for src in 127.0.0.3 127.0.0.4 127.0.0.5; do
		attempt "$src" acme.alice+plc-07 "$H_DIR/keys/stranger" >/dev/null
	done
	h_assert_eq 1 "$(lockouts person acme.alice)" "lockout audit events for acme.alice"
	out=$(attempt 127.0.0.2 acme.alice+plc-07 "$VENDOR_KEY")
	h_assert_eq 255 $? "ssh exit status of the locked person"
	wrong=$(attempt 127.0.0.6 acme.alice+plc-07 "$H_DIR/keys/stranger")
	h_assert_eq "$wrong" "$out" "locked person with the right key vs wrong key"
	out=$(attempt 127.0.0.3 acme.bob+plc-07 "$H_DIR/keys/acme.bob")
	h_assert_contains "$out" "reached-2" "another person from a source that failed before"
}

test_each_failure_waits_longer() {
	local t0 t1 t2 t3
	limits_restart "failures = 10; delay_ms = 400; max_delay_ms = 1600;"
	t0=$EPOCHREALTIME
	attempt 127.0.0.1 acme.alice+plc-07 "$H_DIR/keys/stranger" >/dev/null
	t1=$EPOCHREALTIME
	attempt 127.0.0.1 acme.alice+plc-07 "$H_DIR/keys/stranger" >/dev/null
	t2=$EPOCHREALTIME
	attempt 127.0.0.1 acme.alice+plc-07 "$H_DIR/keys/stranger" >/dev/null
	t3=$EPOCHREALTIME
	python3 -c "import sys; a, b, c, d = map(float, sys.argv[1:])
assert b - a >= 0.4, 'first failure waited %.2f s' % (b - a)
assert c - b >= 0.8, 'second failure waited %.2f s' % (c - b)
assert d - c >= 1.6, 'third failure waited %.2f s' % (d - c)" "$t0" "$t1" "$t2" "$t3" ||
		h_fail "delays do not grow"
}

test_right_key_after_agent_typos_does_not_lock_out() {
	local i out
	# Each login first offers a wrong key (as an agent with several keys does): those
	# failures are taken back when the same person then gets in.
	limits_restart "failures = 3; duration = 600; delay_ms = 10; max_delay_ms = 40;"
	for i in 1 2 3 4; do
		out=$(timeout -k 5 "$H_TIMEOUT" ssh "${H_SSH_OPTS[@]}" -b 127.0.0.1 \
			-i "$H_DIR/keys/stranger" -i "$VENDOR_KEY" -p "$GW_PORT" \
			acme.alice+plc-07@127.0.0.1 'echo reached-$((1+1))' 2>&1)
		h_assert_contains "$out" "reached-2" "login $i with a wrong key offered first"
	done
}

h_run test_source_locked_after_n_wrong_keys_while_another_source_gets_in \
	test_lockout_ends_after_its_duration test_locked_person_fails_like_a_wrong_key \
	test_each_failure_waits_longer test_right_key_after_agent_typos_does_not_lock_out
