#!/bin/bash
# The owner's live view and kill switch over the control socket, with real ssh sessions:
# `gatewayctl sessions` lists them with the right fields, `kill SESSION|--vendor|--person` ends
# the vendor's ssh within 1 s with a message, the recording verifies with the kill as its end
# reason, and `watch` shows what the vendor sees. Every action is an audit event.
. "${GW_SRC:-$(dirname "$0")/../..}/tests/lib/harness.sh"
h_setup || exit 1

# ctl_sessions_field INDEX FIELD: one field of the listing (--json).
ctl_sessions_field() {
	ctl sessions --json | python3 -c 'import json, sys
s = json.load(sys.stdin)
print(s[int(sys.argv[1])].get(sys.argv[2], "") if len(s) > int(sys.argv[1]) else "")' "$1" "$2"
}

# exec_start NAME [PERSON-KEY [DEST]]: a long-running exec session in the background; its
# stdout/stderr in $H_DIR/NAME.out/.err, its pid in $H_DIR/NAME.pid. It lasts until killed (600 s
# at most): on a loaded machine starting the up to 17 sessions of the prefix test can take more
# than a minute, and a session that ended by itself meanwhile would spoil the count.
exec_start() {
	H_TIMEOUT=600 gw_ssh -i "${2:-$VENDOR_KEY}" "${3:-$GW_DEST}" 'echo started; sleep 600' \
		>"$H_DIR/$1.out" 2>"$H_DIR/$1.err" &
	echo $! >"$H_DIR/$1.pid"
}

# ends_within_1s NAME: the background ssh NAME exits within a second of now.
ends_within_1s() {
	local pid t0 t1
	pid=$(cat "$H_DIR/$1.pid")
	t0=$(date +%s%N)
	while kill -0 "$pid" 2>/dev/null; do
		t1=$(date +%s%N)
		(((t1 - t0) / 1000000 > ${H_KILL_MS:-1000})) && h_fail "$1 still running after 1 s"
		h_pause 0.02
	done
}

# session_ended PERSON: the audit log holds a session_end of PERSON.
session_ended() { grep '"event":"session_end"' "$GW_AUDIT" | grep -qF "\"person\":\"$1\""; }

shell_start() {
	h_tmux_start 100 30 "TERM=vt220 ssh ${H_SSH_OPTS[*]} -i $VENDOR_KEY -p $GW_PORT -tt $GW_DEST"
	h_tmux_send 'echo ready-$((20+1))' Enter
	h_tmux_wait 'ready-21' 30 || h_fail "no shell: $(h_tmux_screen)"
}

test_sessions_lists_each_live_session_with_its_fields() {
	local out id
	shell_start
	gw_wait_listed 1
	id=$(ctl_sessions_field 0 id)
	h_assert_match "$id" '^[0-9a-f]{32}$' "session id"
	h_assert_eq acme.alice "$(ctl_sessions_field 0 person)" "person"
	h_assert_eq acme "$(ctl_sessions_field 0 vendor)" "vendor"
	h_assert_eq plc-07 "$(ctl_sessions_field 0 target)" "target"
	h_assert_eq 127.0.0.1 "$(ctl_sessions_field 0 source)" "source"
	h_assert_eq harness-0 "$(ctl_sessions_field 0 ticket)" "ticket"
	h_assert_match "$(ctl_sessions_field 0 started)" '^20[0-9-]{8}T[0-9:]{8}Z$' "started"
	h_assert_match "$(ctl_sessions_field 0 ends_at)" '^20[0-9-]{8}T[0-9:]{8}Z$' "ends at (ticket end)"
	# The counters follow the traffic within a few seconds.
	h_tmux_send 'head -c 3000 /dev/zero | tr "\0" x; echo' Enter
	h_wait_for 10 eval '(($(ctl_sessions_field 0 bytes_out) >= 3000))'
	(($(ctl_sessions_field 0 bytes_out) >= 3000)) || h_fail "bytes_out not updated: $(ctl sessions)"
	(($(ctl_sessions_field 0 bytes_in) > 20)) || h_fail "bytes_in not updated: $(ctl sessions)"
	out=$(ctl sessions)
	h_assert_match "$out" "ID +PERSON +VENDOR +TARGET +SOURCE +STARTED +ENDS AT +TICKET +BYTES IN +BYTES OUT" "table header"
	h_assert_match "$out" "$id +acme.alice +acme +plc-07 +127.0.0.1:[0-9]+ " "table row"
	h_tmux_send 'exit' Enter
	h_tmux_wait_exit 15 || h_fail "shell did not end"
	gw_wait_listed 0
}

test_kill_session_ends_the_vendors_ssh_within_1s_and_the_recording_verifies() {
	local id rec
	exec_start k1
	gw_wait_listed 1
	gw_session_running k1
	id=$(ctl_sessions_field 0 id)
	h_assert_contains "$(ctl kill "$id")" "1 session(s) told to end" "kill output"
	ends_within_1s k1
	h_assert_contains "$(cat "$H_DIR/k1.err")" "session ended by the asset owner" "message to the vendor"
	rec=$GW_RECORDINGS/$id.0.cast
	out=$(ctl recording verify "$rec")
	h_assert_contains "$out" "intact" "recording verifies"
	h_assert_contains "$out" "killed by the asset owner (root, uid 0)" "end reason in the recording"
	grep -q "\"event\":\"control\".*\"action\":\"kill\".*\"name\":\"$id\".*\"result\":\"ok\"" "$GW_AUDIT" ||
		h_fail "no control audit event for the kill"
	grep -q "\"event\":\"session_cut\".*\"reason\":\"killed by the asset owner (root, uid 0)\".*\"session\":\"$id\"" \
		"$GW_AUDIT" || h_fail "no session_cut audit event"
	gw_wait_listed 0
}

test_kill_by_vendor_ends_all_its_sessions() {
	exec_start v1
	exec_start v2
	gw_wait_listed 2
	gw_session_running v1 v2
	h_assert_contains "$(ctl kill --vendor acme)" "2 session(s) told to end" "kill --vendor output"
	ends_within_1s v1
	ends_within_1s v2
	h_assert_contains "$(cat "$H_DIR/v2.err")" "session ended by the asset owner" "message to the vendor"
	gw_wait_listed 0
}

test_kill_by_person_spares_other_persons() {
	exec_start p1
	exec_start p2 "$BOB_KEY" acme.bob+plc-07@127.0.0.1
	gw_wait_listed 2
	gw_session_running p1 p2
	h_assert_contains "$(ctl kill --person acme.bob)" "1 session(s) told to end" "kill --person output"
	ends_within_1s p2
	# Bob's session_end in the audit log: the kill has run its course (his session process wrote
	# its last event). Alice's session, which the kill did not name, must still run.
	h_wait_for 10 session_ended acme.bob || h_fail "no session_end of acme.bob"
	kill -0 "$(cat "$H_DIR/p1.pid")" 2>/dev/null || h_fail "alice's session ended too"
	h_assert_eq acme.alice "$(ctl_sessions_field 0 person)" "alice still listed"
	ctl kill --person acme.alice >/dev/null
	ends_within_1s p1
}

test_kill_of_no_live_session_fails() {
	local out
	out=$(ctl kill 0123456789abcdef0123456789abcdef 2>&1) && h_fail "kill of nothing succeeded"
	h_assert_contains "$out" "no live session" "error text"
	out=$(ctl kill 'x;rm -rf' 2>&1) && h_fail "a malformed id was accepted"
	h_assert_contains "$out" "not a valid session" "malformed id refused by the daemon"
}

# live_ids: the listed session ids, one a line.
live_ids() { ctl sessions --json | python3 -c 'import json,sys; [print(s["id"]) for s in json.load(sys.stdin)]'; }

# shortest_unique ID: the shortest prefix of ID that no other live session's id starts with.
shortest_unique() {
	live_ids | python3 -c 'import sys
ids = sys.stdin.read().split(); me = sys.argv[1]
n = next(n for n in range(1, 33) if not any(i != me and i.startswith(me[:n]) for i in ids))
print(me[:n])' "$1"
}

test_kill_takes_an_unambiguous_prefix_and_a_reason() {
	local n=0 i digit="" out id prefix unknown
	# Sessions until two ids share their first digit (at most 17: 16 digits).
	while [[ -z $digit ]]; do
		exec_start m$n
		((n++))
		gw_wait_listed $n
		digit=$(live_ids | cut -c1 | sort | uniq -d | head -n 1)
	done
	for ((i = 0; i < n; i++)); do gw_session_running "m$i"; done
	out=$(ctl kill "$digit" --reason "not this" 2>&1) && h_fail "ambiguous prefix killed: $out"
	h_assert_contains "$out" "session id $digit is ambiguous: 2 live sessions" "ambiguous error"
	for id in $(live_ids | grep "^$digit"); do
		h_assert_contains "$out" "$id (acme.alice to plc-07)" "candidate listed"
	done
	h_assert_contains "$out" "nothing killed" "ambiguous error says nothing was killed"
	unknown=$(printf '%s\n' {0..9}{0..9} | grep -v -f <(live_ids | cut -c1-2) | head -n 1)
	out=$(ctl kill "$unknown" 2>&1) && h_fail "unknown prefix killed: $out"
	h_assert_contains "$out" "no live session's id starts with $unknown; live sessions:" "unknown error"
	h_assert_contains "$out" "$(live_ids | head -n 1) (acme.alice to plc-07)" "unknown lists the live"
	gw_wait_listed $n
	id=$(live_ids | grep "^$digit" | head -n 1)
	prefix=$(shortest_unique "$id")
	out=$(ctl kill "$prefix" --reason "WO-7 closed, thank you" 2>&1) || h_fail "kill $prefix: $out"
	h_assert_contains "$out" "1 session(s) told to end" "kill by prefix"
	gw_wait_listed $((n - 1))
	live_ids | grep -q "^$id$" && h_fail "the session named by prefix still listed"
	h_wait_for 10 grep -q "session ended by the asset owner: WO-7 closed, thank you" "$H_DIR"/m*.err ||
		h_fail "the reason did not reach the vendor: $(cat "$H_DIR"/m*.err)"
	grep -q "\"event\":\"control\".*\"action\":\"kill\".*\"name\":\"$id\".*\"reason\":\"WO-7 closed, thank you\".*\"result\":\"ok\"" \
		"$GW_AUDIT" || h_fail "no control audit event with the reason: $(grep '"control"' "$GW_AUDIT" | tail -n 2)"
	grep -q "\"event\":\"session_cut\".*\"reason\":\"killed by the asset owner (root, uid 0): WO-7 closed, thank you\".*\"session\":\"$id\"" \
		"$GW_AUDIT" || h_fail "no session_cut audit event with the reason"
	ctl kill --vendor acme >/dev/null
	gw_wait_listed 0
}

test_watch_shows_what_the_vendor_types_and_sees() {
	local id
	shell_start
	gw_wait_listed 1
	id=$(ctl_sessions_field 0 id)
	ctl watch "$id" >"$H_DIR/watch.out" 2>"$H_DIR/watch.err" &
	local watcher=$!
	h_wait_for 10 grep -q watching "$H_DIR/watch.err"
	h_tmux_send 'echo watched-$((6*7))' Enter
	h_wait_for 10 grep -q 'watched-42' "$H_DIR/watch.out"
	h_assert_contains "$(cat "$H_DIR/watch.out")" 'echo watched-$((6*7))' "typed command (echoed) in the view"
	h_assert_contains "$(cat "$H_DIR/watch.out")" 'watched-42' "output in the view"
	h_tmux_send 'exit' Enter
	h_tmux_wait_exit 15 || h_fail "shell did not end"
	h_wait_for 10 h_gone "$watcher" || h_fail "watch did not end with the session"
	h_assert_contains "$(cat "$H_DIR/watch.err")" "[session ended:" "end announced to the watcher"
	grep -q "\"event\":\"control\".*\"action\":\"watch\".*\"name\":\"$id\"" "$GW_AUDIT" ||
		h_fail "no control audit event for the watch"
	gw_wait_listed 0
}

test_slow_watcher_never_stalls_the_session_and_is_told_what_it_lost() {
	local id
	shell_start
	gw_wait_listed 1
	id=$(ctl_sessions_field 0 id)
	# A watcher that reads nothing while the bulk output runs, then takes what is left.
	python3 - "$(dirname "$GW_CONFIG")/state/control.sock" "$id" "$H_DIR/slow.out" <<-'EOF' &
		import socket, sys, time
		s = socket.socket(socket.AF_UNIX)
		s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
		s.connect(sys.argv[1])
		s.sendall(b'{"cmd":"watch","session":"%s"}\n' % sys.argv[2].encode())
		got = b""
		while not got.endswith(b"\n"):
		    got += s.recv(1)
		open(sys.argv[3] + ".ready", "w").close()
		while True:
		    try:
		        open(sys.argv[3] + ".go").close()
		        break
		    except FileNotFoundError:
		        time.sleep(0.1)
		s.settimeout(20)
		while True:
		    b = s.recv(65536)
		    if not b:
		        break
		    got += b
		open(sys.argv[3], "wb").write(got)
	EOF
	local slow=$!
	h_wait_for 20 test -e "$H_DIR/slow.out.ready" || h_fail "the watcher was not admitted"
	h_tmux_send 'head -c 1000000 /dev/zero | tr "\0" y | fold -w 99; echo; echo bulk-$((5+5))' Enter
	h_tmux_wait '^bulk-10' 30 || h_fail "the session stalled behind a stuck watcher"
	touch "$H_DIR/slow.out.go"
	h_tmux_send 'exit' Enter
	h_tmux_wait_exit 15 || h_fail "shell did not end"
	wait "$slow"
	h_assert_match "$(cat "$H_DIR/slow.out")" '\{"dropped":[0-9]+\}' "the slow watcher is told output was dropped"
	h_assert_contains "$(cat "$H_DIR/slow.out")" '{"end":' "and still sees the end"
}

BOB_KEY=$H_DIR/keys/acme.bob
h_keygen "$BOB_KEY" || exit 1
# acme.bob joins vendor acme: rewrite the config and have the gateway reload it.
gw_person_add acme acme.bob "$BOB_KEY.pub"
gw_config_write || exit 1
gw_reload || exit 1

h_run test_sessions_lists_each_live_session_with_its_fields \
	test_kill_session_ends_the_vendors_ssh_within_1s_and_the_recording_verifies \
	test_kill_by_vendor_ends_all_its_sessions test_kill_by_person_spares_other_persons \
	test_kill_of_no_live_session_fails test_kill_takes_an_unambiguous_prefix_and_a_reason \
	test_watch_shows_what_the_vendor_types_and_sees \
	test_slow_watcher_never_stalls_the_session_and_is_told_what_it_lost
