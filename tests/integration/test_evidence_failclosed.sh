#!/bin/bash
# Evidence fails closed (issue 4): when the recording cannot be written a new session is refused
# before any target output reaches the vendor; the recordings of normal sessions verify as
# intact; a session process killed with SIGKILL leaves a recording that verifies as truncated
# while a concurrent session is unaffected.
. "${GW_SRC:-$(dirname "$0")/../..}/tests/lib/harness.sh"
h_setup || exit 1

# cast_with TEXT: the recording whose header holds TEXT (the session's command).
cast_with() {
	local f
	for f in $(gw_recordings); do
		h_cast_header "$f" | grep -qF -- "$1" && { echo "$f"; return 0; }
	done
	return 1
}

# refused_unrecorded [EVENT]: a new session must be refused, show nothing of the target's output
# and be audited as EVENT (default: a recorder failure).
refused_unrecorded() {
	local out before event=${1:-recorder_failure}
	before=$(grep -c "$event" "$GW_AUDIT")
	out=$(gw_ssh "$GW_DEST" 'echo reached-$((1+1))' </dev/null 2>&1)
	[[ $? != 0 ]] || h_fail "session ran without a recording"
	h_assert_not_contains "$out" "reached-2" "target output"
	# Not checked: the vendor seeing "recording cannot be written". The gateway sends it as
	# stderr data and then fails the exec request, and OpenSSH's ssh exits on the failure
	# before writing that data (ssh -vvv: "rcvd ext data 60", then "exec request failed").
	h_wait_for 5 eval '(($(grep -c "$event" "$GW_AUDIT") > before))' || h_fail "no new $event audit event"
}

test_normal_recordings_verify_intact() {
	local f out n=0 ends
	ends=$(gw_events session_end)
	gw_ssh "$GW_DEST" 'echo intact-$((1+1))' </dev/null >/dev/null || h_fail "exec session failed"
	gw_ssh "$GW_DEST" 'seq 1 20000' </dev/null >/dev/null || h_fail "exec session failed"
	# A session writes its session_end once every recording of it is sealed.
	h_wait_for 10 gw_events_reach session_end $((ends + 2)) || h_fail "no session_end of both sessions"
	for f in $(gw_recordings); do
		out=$(ctl recording verify "$f" 2>&1) || h_fail "verify $f: $out"
		h_assert_contains "$out" "intact" "verdict for $f"
		n=$((n + 1))
	done
	((n >= 2)) || h_fail "only $n recordings"
}

test_recording_dir_not_a_directory_refuses() {
	local real=$GW_RECORDINGS.real
	mv "$GW_RECORDINGS" "$real" || h_fail "mv"
	: >"$GW_RECORDINGS"
	(refused_unrecorded)
	local rc=$?
	rm -f "$GW_RECORDINGS"
	mv "$real" "$GW_RECORDINGS"
	((rc == 0)) || exit "$rc"
}

test_recording_dir_full_refuses() {
	local mnt=$H_DIR/full
	mkdir -p "$mnt"
	mount -t tmpfs -o size=64k,mode=0700 tmpfs "$mnt" 2>/dev/null || h_skip "cannot mount a tmpfs here"
	h_defer "umount '$mnt'"
	dd if=/dev/zero of="$mnt/fill" bs=4k 2>/dev/null
	mount --bind "$mnt" "$GW_RECORDINGS" 2>/dev/null || { umount "$mnt"; h_skip "cannot bind-mount here"; }
	# Below recording_min_free the session is refused before a recording is tried.
	(refused_unrecorded '"reason":"recording_disk_full"')
	local rc=$?
	umount "$GW_RECORDINGS"
	umount "$mnt"
	((rc == 0)) || exit "$rc"
}

# child_pids: the listener's session processes.
child_pids() { pgrep -P "$(h_pid gatewayd)" | sort; }

# both_running: session B has a process of its own (a child of the listener besides those in
# $before and A's $kid, the test's locals) and its command runs (its recording exists), and A's
# recording holds a checkpoint (an "h" line, signed by the listener).
both_running() {
	local a
	[[ -n $(comm -13 <({ echo "$before"; echo "$kid"; } | sort) <(child_pids)) ]] &&
		cast_with '# survivor' >/dev/null && a=$(cast_with '# victim') &&
		grep -q ',"h",' "$a"
}

test_killed_session_truncated_other_unaffected() {
	local before a_pid b_pid kid out cast
	before=$(child_pids)
	gw_ssh "$GW_DEST" 'echo started-A; seq 1 5000; sleep 30 # victim' </dev/null >"$H_DIR/a.out" 2>&1 &
	a_pid=$!
	h_wait_for 11 grep -q started-A "$H_DIR/a.out"
	grep -q started-A "$H_DIR/a.out" || { kill "$a_pid"; h_fail "session A did not start"; }
	kid=$(comm -13 <(echo "$before") <(child_pids))
	[[ $kid =~ ^[0-9]+$ ]] || { kill "$a_pid"; h_fail "session A's process not found: [$kid]"; }
	gw_ssh "$GW_DEST" 'sleep 4; echo done-$((2+2)) # survivor' </dev/null >"$H_DIR/b.out" 2>&1 &
	b_pid=$!
	# Both running: B has a session process and its command started (its recording exists);
	# A's recording holds a signed checkpoint, which its verdict after the kill rests on.
	h_wait_for 10 both_running || {
		kill "$a_pid" "$b_pid"
		h_fail "session B did not start or A's recording has no checkpoint"
	}
	kill -9 "$kid" || h_fail "kill -9 $kid"
	h_wait_for 11 h_gone "$a_pid"
	kill "$a_pid" 2>/dev/null
	wait "$b_pid"
	h_assert_eq 0 $? "session B exit status"
	h_assert_eq "done-4" "$(cat "$H_DIR/b.out")" "session B output"
	cast=$(cast_with '# victim') || h_fail "no recording of session A"
	out=$(ctl recording verify "$cast" 2>&1) && h_fail "verify of the killed session succeeded: $out"
	h_assert_contains "$out" "truncated" "verdict for the killed session"
	cast=$(cast_with '# survivor') || h_fail "no recording of session B"
	out=$(ctl recording verify "$cast" 2>&1) || h_fail "verify of session B: $out"
	h_assert_contains "$out" "intact" "verdict for session B"
}

h_run test_normal_recordings_verify_intact test_recording_dir_not_a_directory_refuses \
	test_recording_dir_full_refuses test_killed_session_truncated_other_unaffected
