#!/bin/bash
# Approval tickets and access windows end to end (issue 3): a signed installed ticket admits, no
# ticket or a forged/altered one refuses, a ticket's end warns and then ends a live session (and
# the recording says why), revocation and a disabled vendor end live sessions within seconds, and
# a vendor outside its window is told when the next one opens.
. "${GW_SRC:-$(dirname "$0")/../..}/tests/lib/harness.sh"
sshd_start plc-07 || exit 1
gw_policy_default
# plc-08..10: the same sshd, granted to acme but without a harness ticket; the tests install
# their own tickets for plc-09 (short) and plc-10 (revoked).
for t in plc-08 plc-09 plc-10; do
	gw_target_add "$t" "${H_PORT[plc-07]}" "${H_FP[plc-07]}"
done
H_CFG_GRANTS+=('{ vendor = "acme"; targets = [ "plc-08", "plc-09", "plc-10" ]; allow = [ "shell", "exec" ]; }')
# Vendor beta: granted and ticketed, but its only window is an absolute one in the future.
BOB_KEY=$H_DIR/keys/beta.bob
h_keygen "$BOB_KEY" || exit 1
h_keygen "$H_DIR/keys/stranger" || exit 1
# (within the decision's look-ahead horizon, so the vendor is told when it opens)
gw_vendor_add beta "windows = ( { from = \"$(date -u -d '+2 days' +%Y-%m-%dT06:00:00Z)\"; to = \"$(date -u -d '+2 days' +%Y-%m-%dT14:00:00Z)\"; } );"
gw_person_add beta beta.bob "$BOB_KEY.pub"
gw_grant_add beta "plc-07" "shell exec"
gw_config_extra 'warn_before = [ 15, 5 ];'
gw_start || exit 1

# ticket_make ID TARGET TO SIGNKEY: a ticket for acme on TARGET valid from now to TO, signed with SIGNKEY.
ticket_make() {
	ctl ticket new --id "$1" --vendor acme --target "$2" --from now --to "$3" --approver owner \
		--reason "test $1" -o "$H_DIR/$1.ticket" >/dev/null 2>&1 || h_fail "ticket new $1"
	ssh-keygen -q -Y sign -n gatewayd-ticket -f "$4" "$H_DIR/$1.ticket" || h_fail "sign $1"
}

# now_ms: wall clock in milliseconds.
now_ms() { date +%s%3N; }

test_installed_ticket_admits() {
	local out
	out=$(gw_ssh "$GW_DEST" 'echo admitted-$((6*7))' </dev/null) || h_fail "ssh exited $?"
	h_assert_eq "admitted-42" "$out" "output"
}

test_no_ticket_refused() {
	local out
	out=$(gw_ssh acme.alice+plc-08@127.0.0.1 'echo reached-$((1+1))' 2>&1)
	[[ $? != 0 ]] || h_fail "ssh succeeded"
	h_assert_contains "$out" "no approval ticket covers" "message"
	h_assert_not_contains "$out" "reached-2" "output"
}

test_foreign_signed_ticket_not_installed() {
	local out
	ticket_make foreign plc-08 +1d "$H_DIR/keys/stranger"
	ctl ticket install "$H_DIR/foreign.ticket" >/dev/null 2>&1 && h_fail "install accepted a stranger's signature"
	out=$(gw_ssh acme.alice+plc-08@127.0.0.1 'echo reached-$((1+1))' 2>&1)
	[[ $? != 0 ]] || h_fail "ssh succeeded"
	h_assert_contains "$out" "no approval ticket covers" "message"
}

test_altered_ticket_not_installed() {
	local out
	ticket_make altered plc-08 +1d "$APPROVER_KEY"
	sed -i 's/test altered/test Altered/' "$H_DIR/altered.ticket"
	ctl ticket install "$H_DIR/altered.ticket" >/dev/null 2>&1 && h_fail "install accepted an altered ticket"
	out=$(gw_ssh acme.alice+plc-08@127.0.0.1 'echo reached-$((1+1))' 2>&1)
	[[ $? != 0 ]] || h_fail "ssh succeeded"
	h_assert_contains "$out" "no approval ticket covers" "message"
}

test_ticket_end_warns_and_ends_session() {
	local to end err pid rc ended cast
	to=$(date -u -d '+20 sec' +%Y-%m-%dT%H:%M:%SZ)
	end=$(date -u -d "$to" +%s)
	ticket_make short plc-09 "$to" "$APPROVER_KEY"
	ctl ticket install "$H_DIR/short.ticket" >/dev/null || h_fail "install short ticket"
	gw_ssh acme.alice+plc-09@127.0.0.1 'sleep 60; echo survived' >"$H_DIR/short.out" 2>"$H_DIR/short.err" &
	pid=$!
	h_wait_for 35 h_gone "$pid" || { kill "$pid"; h_fail "session still running 35 s later"; }
	ended=$(date +%s)
	wait "$pid"
	rc=$?
	err=$(cat "$H_DIR/short.err")
	[[ $rc != 0 ]] || h_fail "ssh exited 0"
	h_assert_contains "$err" "this session ends in" "warning"
	h_assert_contains "$err" ": its approval ticket short ends" "the warning names the limit"
	h_assert_contains "$err" "session ended: its approval ticket short has ended" "end message"
	h_assert_not_contains "$(cat "$H_DIR/short.out")" "survived" "output"
	((ended >= end - 3 && ended <= end + 3)) || h_fail "ended at $ended, ticket end $end (more than 3 s apart)"
	h_wait_for 5 eval 'grep -q "scheduled end reached" "$GW_RECORDINGS"/*.cast 2>/dev/null'
	cast=$(grep -l "scheduled end reached" "$GW_RECORDINGS"/*.cast 2>/dev/null | head -n 1)
	[[ -n $cast ]] || h_fail "no recording names the end reason"
	tail -n 3 "$cast" | grep -q "scheduled end reached" || h_fail "end reason not among the last records of $cast"
}

test_revoke_ends_live_session() {
	local pid t0 t1 err
	ticket_make revoked plc-10 +1d "$APPROVER_KEY"
	ctl ticket install "$H_DIR/revoked.ticket" >/dev/null || h_fail "install ticket"
	gw_ssh acme.alice+plc-10@127.0.0.1 'echo started; sleep 60' >"$H_DIR/rv.out" 2>"$H_DIR/rv.err" &
	pid=$!
	h_wait_for 30 grep -q started "$H_DIR/rv.out" ||
		{ kill "$pid"; h_fail "session did not start: $(cat "$H_DIR/rv.err")"; }
	t0=$(now_ms)
	ctl ticket revoke revoked --reason "work cancelled" >/dev/null || { kill "$pid"; h_fail "revoke failed"; }
	h_wait_for 10 h_gone "$pid" || { kill "$pid"; h_fail "session still running 10 s after revoke"; }
	t1=$(now_ms)
	wait "$pid"
	err=$(cat "$H_DIR/rv.err")
	h_log "  revoke -> ssh exit: $((t1 - t0)) ms"
	((t1 - t0 <= 5000)) || h_fail "session ended $((t1 - t0)) ms after revoke (limit 5000)"
	h_assert_contains "$err" "its approval ticket was revoked" "message"
}

test_outside_window_refused() {
	local out
	out=$(timeout -k 5 "$H_TIMEOUT" ssh "${H_SSH_OPTS[@]}" -i "$BOB_KEY" -p "$GW_PORT" \
		beta.bob+plc-07@127.0.0.1 'echo reached-$((1+1))' 2>&1)
	[[ $? != 0 ]] || h_fail "ssh succeeded"
	h_assert_contains "$out" "outside access window" "message"
	h_assert_contains "$out" "next window opens" "next window text"
	h_assert_not_contains "$out" "reached-2" "output"
}

# Last: it disables acme for good.
test_disabled_vendor_ends_live_session() {
	local pid t0 t1 err
	gw_ssh "$GW_DEST" 'echo started; sleep 60' >"$H_DIR/dis.out" 2>"$H_DIR/dis.err" &
	pid=$!
	h_wait_for 30 grep -q started "$H_DIR/dis.out" ||
		{ kill "$pid"; h_fail "session did not start: $(cat "$H_DIR/dis.err")"; }
	sed -i 's/{ id = "acme"; name = "Vendor acme"; enabled = true;/{ id = "acme"; name = "Vendor acme"; enabled = false;/' "$GW_CONFIG"
	grep -q 'id = "acme"; name = "Vendor acme"; enabled = false;' "$GW_CONFIG" || { kill "$pid"; h_fail "config edit failed"; }
	t0=$(now_ms)
	kill -HUP "$(h_pid gatewayd)" || { kill "$pid"; h_fail "SIGHUP failed"; }
	h_wait_for 10 h_gone "$pid" || { kill "$pid"; h_fail "session still running 10 s after SIGHUP"; }
	t1=$(now_ms)
	wait "$pid"
	err=$(cat "$H_DIR/dis.err")
	h_log "  SIGHUP -> ssh exit: $((t1 - t0)) ms"
	((t1 - t0 <= 5000)) || h_fail "session ended $((t1 - t0)) ms after SIGHUP (limit 5000)"
	h_assert_contains "$err" "vendor account disabled" "message"
}

h_run test_installed_ticket_admits test_no_ticket_refused test_foreign_signed_ticket_not_installed \
	test_altered_ticket_not_installed test_ticket_end_warns_and_ends_session \
	test_revoke_ends_live_session test_outside_window_refused test_disabled_vendor_ends_live_session
