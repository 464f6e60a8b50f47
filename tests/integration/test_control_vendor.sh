#!/bin/bash
# Owner control of whole vendors and the session caps: `gatewayctl vendor disable` ends the
# vendor's live sessions and refuses new ones (kept across reload and restart) until
# `vendor enable`; a vendor's max_sessions and the gateway's max_sessions refuse one session
# more, each with a short reason to the vendor and a precise audit event.
. "${GW_SRC:-$(dirname "$0")/../..}/tests/lib/harness.sh"
sshd_start plc-07 || exit 1
BETA_KEY=$H_DIR/keys/beta.bob
h_keygen "$BETA_KEY" || exit 1
gw_vendor_add acme "$H_ALWAYS max_sessions = 2;"
gw_person_add acme acme.alice "$VENDOR_KEY.pub"
gw_vendor_add beta
gw_person_add beta beta.bob "$BETA_KEY.pub"
gw_vendor_add oldco "$H_ALWAYS expires = \"2020-01-01T00:00:00Z\";"
gw_vendor_add offco # disabled in the configuration below, once written
gw_target_add plc-07 "${H_PORT[plc-07]}" "${H_FP[plc-07]}"
gw_grant_add acme "plc-07" "shell exec"
gw_grant_add beta "plc-07" "shell exec"
gw_config_extra "max_sessions = 3;"
gw_start || exit 1
sed -i 's/\(id = "offco"; name = "Vendor offco"; enabled = \)true;/\1false;/' "$GW_CONFIG"
gw_reload || exit 1

# exec_start NAME KEY DEST: a long exec session in the background (NAME.err, NAME.pid).
exec_start() {
	gw_ssh -i "$2" "$3" 'echo started; sleep 60' >"$H_DIR/$1.out" 2>"$H_DIR/$1.err" &
	echo $! >"$H_DIR/$1.pid"
}
ALICE=acme.alice+plc-07@127.0.0.1
BOB=beta.bob+plc-07@127.0.0.1

gw_restart() {
	gw_stop
	h_spawn gatewayd "$H_DIR/gatewayd.log" "$H_GATEWAYD" -D -f "$GW_CONFIG"
	h_wait_port "$GW_PORT" "$H_LAST_PID" || h_fail "gatewayd did not restart"
}

# vendor_row VENDOR: its line of `gatewayctl vendor list`, blanks squeezed.
vendor_row() { ctl vendor list | tr -s ' ' | grep "^$1 "; }

test_vendor_list_shows_each_vendors_state_and_sessions() {
	h_wait_for 10 eval '[[ $(vendor_row offco) == "offco disabled in config 0" ]]' ||
		h_fail "offco: $(ctl vendor list)"
	h_assert_eq "VENDOR STATE SESSIONS" "$(ctl vendor list | head -n 1 | tr -s ' ')" "header"
	h_assert_eq "oldco expired 0" "$(vendor_row oldco)" "expired vendor"
	h_assert_eq "beta enabled 0" "$(vendor_row beta)" "enabled vendor"
	exec_start l1 "$VENDOR_KEY" "$ALICE"
	gw_wait_listed 1
	h_assert_eq "acme enabled 1" "$(vendor_row acme)" "vendor with a live session"
	ctl vendor disable acme >/dev/null
	gw_wait_listed 0
	h_assert_eq "acme disabled by owner 0" "$(vendor_row acme)" "vendor disabled by the owner"
	ctl vendor enable acme >/dev/null
	h_assert_eq "acme enabled 0" "$(vendor_row acme)" "enabled again"
}

test_target_list_of_a_disabled_vendor_names_no_target() {
	local out
	out=$(gw_ssh acme.alice@127.0.0.1 2>&1)
	h_assert_match "$out" "Targets open to acme.alice now:.*plc-07" "the listing while enabled"
	ctl vendor disable acme >/dev/null
	out=$(gw_ssh acme.alice@127.0.0.1 2>&1)
	h_assert_contains "$out" "(none: vendor access disabled by the asset owner)" "listing while disabled"
	h_assert_not_contains "$out" "plc-07" "a target listed for a disabled vendor"
	ctl vendor enable acme >/dev/null
	h_assert_contains "$(gw_ssh acme.alice@127.0.0.1 2>&1)" "plc-07" "the listing enabled again"
}

test_vendor_disable_ends_live_sessions_and_refuses_new_ones() {
	local out pid
	exec_start d1 "$VENDOR_KEY" "$ALICE"
	gw_wait_listed 1
	gw_session_running d1
	out=$(ctl vendor disable acme)
	h_assert_contains "$out" "vendor acme disabled, 1 live session(s) told to end" "disable output"
	pid=$(cat "$H_DIR/d1.pid")
	# 20 pauses of 50 ms: a 1 s deadline, finer than h_wait_for's whole seconds.
	for _ in $(seq 20); do kill -0 "$pid" 2>/dev/null || break; h_pause 0.05; done
	kill -0 "$pid" 2>/dev/null && h_fail "the vendor's session still runs 1 s after disable"
	h_assert_contains "$(cat "$H_DIR/d1.err")" "vendor access disabled by the asset owner" "message to the vendor"
	out=$(gw_ssh "$ALICE" true 2>&1) && h_fail "a disabled vendor got in"
	h_assert_contains "$out" "access denied: vendor access disabled by the asset owner" "refusal text"
	grep -q '"event":"session_refused".*"reason":"vendor_disabled_by_owner"' "$GW_AUDIT" ||
		h_fail "no session_refused audit event"
	grep -q '"event":"control".*"action":"vendor_disable".*"name":"acme".*"result":"ok","sessions":1' \
		"$GW_AUDIT" || h_fail "no control audit event for the disable"
	# Other vendors are not touched.
	out=$(gw_ssh -i "$BETA_KEY" "$BOB" 'echo beta-in' 2>&1)
	h_assert_contains "$out" "beta-in" "beta still gets in"
}

test_vendor_disable_survives_reload_and_restart() {
	local out
	gw_reload || h_fail "the reload was not applied"
	out=$(gw_ssh "$ALICE" true 2>&1) && h_fail "got in after reload"
	h_assert_contains "$out" "disabled by the asset owner" "still disabled after reload"
	gw_restart
	out=$(gw_ssh "$ALICE" true 2>&1) && h_fail "got in after restart"
	h_assert_contains "$out" "disabled by the asset owner" "still disabled after restart"
}

test_vendor_enable_lets_the_vendor_in_again() {
	local out
	h_assert_contains "$(ctl vendor enable acme)" "vendor acme enabled" "enable output"
	out=$(gw_ssh "$ALICE" 'echo back-in' 2>&1)
	h_assert_contains "$out" "back-in" "the vendor gets in again"
	h_assert_contains "$(ctl vendor enable acme)" "(already)" "enabling twice is no change"
	out=$(ctl vendor disable nosuchvendor 2>&1) && h_fail "an unknown vendor was disabled"
	h_assert_contains "$out" "no vendor nosuchvendor" "unknown vendor refused"
}

test_vendor_max_sessions_refuses_one_more() {
	local out
	gw_wait_listed 0
	exec_start c1 "$VENDOR_KEY" "$ALICE"
	exec_start c2 "$VENDOR_KEY" "$ALICE"
	gw_wait_listed 2
	out=$(gw_ssh "$ALICE" true 2>&1) && h_fail "a third acme session got in"
	h_assert_contains "$out" "access denied: acme already has its 2 concurrent session(s)" "refusal text"
	grep -q '"event":"session_refused".*"reason":"vendor_session_limit","detail":"vendor acme: 2 of max_sessions 2 sessions active"' \
		"$GW_AUDIT" || h_fail "no precise session_refused audit event"
	# The refusal used no ticket and left the listing alone.
	h_assert_eq 2 "$(gw_sessions_listed)" "still two sessions"
}

test_gateway_max_sessions_refuses_one_more() {
	local out
	exec_start c3 "$BETA_KEY" "$BOB"
	gw_wait_listed 3
	out=$(gw_ssh -i "$BETA_KEY" "$BOB" true 2>&1) && h_fail "a fourth session got in"
	h_assert_contains "$out" "access denied: the gateway is at its session limit" "refusal text"
	grep -q '"event":"session_refused".*"reason":"session_limit","detail":"3 of max_sessions 3 sessions active"' \
		"$GW_AUDIT" || h_fail "no precise session_refused audit event"
	ctl kill --vendor acme >/dev/null
	gw_wait_listed 1
	out=$(gw_ssh "$ALICE" 'echo room-again' 2>&1)
	h_assert_contains "$out" "room-again" "a session ended makes room"
	ctl kill --vendor beta >/dev/null
}

h_run test_vendor_list_shows_each_vendors_state_and_sessions \
	test_target_list_of_a_disabled_vendor_names_no_target \
	test_vendor_disable_ends_live_sessions_and_refuses_new_ones \
	test_vendor_disable_survives_reload_and_restart test_vendor_enable_lets_the_vendor_in_again \
	test_vendor_max_sessions_refuses_one_more test_gateway_max_sessions_refuses_one_more
