#!/bin/bash
# The audit log vouches for the recordings (issue 15): the notary writes each recording's last
# signed chain head and record count (recording_sealed at the seal, recording_unsealed for one
# whose session process died first), and `gatewayctl audit verify --recordings DIR` finds every
# recording it names missing, cut back or swapped, and every file it does not name; a live
# session's recording is "live". Each checkpoint's head also goes to the log (the anchor).
. "${GW_SRC:-$(dirname "$0")/../..}/tests/lib/harness.sh"
h_setup || exit 1
. "$H_SRC/tests/lib/sessions.sh"

# one_session TAG [MORE]: an exec session whose output is TAG (then MORE's); prints its
# recording's path.
one_session() {
	local f
	gw_ssh "$GW_DEST" "echo $1${2:+; $2}" </dev/null >/dev/null || h_fail "session $1"
	f=$(grep -l "echo $1" "$GW_RECORDINGS"/*.cast | head -n 1)
	[[ -n $f ]] || h_fail "no recording of $1"
	echo "$f"
}

# crosscheck: audit verify --recordings over the recording directory; exit status in CC_RC.
crosscheck() {
	CC_OUT=$(ctl audit verify --recordings "$GW_RECORDINGS" 2>&1)
	CC_RC=$?
}

test_sealed_recordings_match_the_audit_log() {
	local a b sealed
	a=$(one_session cc-one) && b=$(one_session cc-two) || return
	sealed=$(grep -c '"event":"recording_sealed"' "$GW_AUDIT")
	((sealed >= 2)) || h_fail "recording_sealed events: $sealed"
	grep '"event":"recording_sealed"' "$GW_AUDIT" | grep -qF "\"recording\":\"$(basename "$a")\"" ||
		h_fail "no recording_sealed event names $(basename "$a")"
	crosscheck
	h_assert_eq 0 "$CC_RC" "exit status ($CC_OUT)"
	h_assert_contains "$CC_OUT" "$a: sealed, as the audit log says" "first recording"
	h_assert_contains "$CC_OUT" "$b: sealed, as the audit log says" "second recording"
	# The anchor: the head the audit event names went to the log when it was signed.
	grep -q "anchor $(basename "$a") n=.* chain=$(grep '"event":"recording_sealed"' "$GW_AUDIT" |
		grep -F "$(basename "$a")" | sed 's/.*"chain":"\([0-9a-f]*\)".*/\1/')" "$H_DIR/gatewayd.log" ||
		h_fail "the sealed head of $(basename "$a") is not among the logged anchors"
}

# Cut back to an earlier checkpoint, a recording verifies as "truncated" on its own; against the
# audit log it is altered. A deleted one is missing; a copy under a new name is not named.
test_damage_is_found_against_the_audit_log() {
	local a b c copy
	# Output, a pause past the once-a-second flush, more output: a checkpoint before the seal's.
	a=$(one_session cc-cut 'sleep 1.5; echo cc-cut-end') && b=$(one_session cc-gone) && c=$(one_session cc-copy) || return
	python3 -c "import sys
L = open(sys.argv[1], 'rb').read().split(b'\n')[:-1]
last = max(i for i, l in enumerate(L[:-2]) if b'\"h\"' in l)
open(sys.argv[1], 'wb').write(b''.join(l + b'\n' for l in L[:last + 1]))" "$a" || h_fail "cut back"
	rm -f "$b"
	copy="$GW_RECORDINGS/$(printf '%032x' 7).0.cast"
	cp "$c" "$copy"
	crosscheck
	h_assert_eq 1 "$CC_RC" "exit status ($CC_OUT)"
	h_assert_match "$CC_OUT" "$a: altered: .*its seal is gone" "cut back"
	h_assert_contains "$CC_OUT" "$b: missing (the audit log names it, sealed" "deleted"
	h_assert_contains "$CC_OUT" "$copy: not named by the audit log" "copied"
	h_assert_contains "$CC_OUT" "$c: sealed, as the audit log says" "the untouched one"
	rm -f "$copy"
}

# A session still running is live, not a problem; one whose monitor was killed is named
# "unsealed" up to its last signed checkpoint, and the listener writes its end.
test_live_and_killed_sessions() {
	local f pid
	es_start live || h_fail "start"
	es_echo live ping-1 || h_fail "no echo"
	f=$(es_cast live) || h_fail "no recording of the live session"
	crosscheck
	h_assert_contains "$CC_OUT" "$f: live (its session has not ended)" "live session"
	# Killed once the notary signed a checkpoint of it (at most a second after the echo).
	h_wait_for 10 grep -q "anchor $(basename "$f") " "$H_DIR/gatewayd.log" || h_fail "no checkpoint signed"
	pid=$(es_gateway_pid live) || h_fail "no monitor"
	kill -9 "$pid"
	es_wait_exit live 10 || h_fail "the client did not end"
	h_wait_for 10 grep -qF "\"recording\":\"$(basename "$f")\"" "$GW_AUDIT" ||
		h_fail "no audit event names the killed session's recording"
	grep -F "\"recording\":\"$(basename "$f")\"" "$GW_AUDIT" | grep -q '"event":"recording_unsealed"' ||
		h_fail "the killed session's recording is not named unsealed"
	# Its end is in the log all the same, written by the listener.
	grep '"event":"session_end"' "$GW_AUDIT" | grep -F "\"session\":\"$(basename "$f" .0.cast)\"" |
		grep -q 'died (signal 9)' || h_fail "no session_end for the killed session"
	crosscheck
	h_assert_contains "$CC_OUT" "$f: unsealed: its session process ended before the seal, as the audit log says" "killed session"
}

# Off the gateway: the recordings, the audit log and the exported public key, no configuration.
# Every auditor command works with --key, and without it says what to give.
test_off_the_gateway_with_only_the_public_key() {
	local off=$H_DIR/offsite f out c=("$H_GATEWAYCTL" -f "$H_DIR/no-such.conf")
	one_session cc-offsite >/dev/null || return
	mkdir -p "$off" && cp -r "$GW_RECORDINGS" "$off/recordings" && cp "$GW_AUDIT" "$off/audit.log" &&
		cp "$H_DIR/gw/state/recording_key.pub" "$off/key.pub" || h_fail "copy"
	f=$(grep -l "echo cc-offsite" "$off"/recordings/*.cast | head -n 1)
	out=$("${c[@]}" recording verify --key "$off/key.pub" "$f" 2>&1) || h_fail "recording verify: $out"
	h_assert_contains "$out" ": intact" "recording verify off the gateway"
	out=$("${c[@]}" audit verify --key "$off/key.pub" "$off/audit.log" 2>&1) || h_fail "audit verify: $out"
	out=$("${c[@]}" history --dir "$off/recordings" --key "$off/key.pub" 2>&1) || h_fail "history: $out"
	h_assert_contains "$(grep -F 'echo cc-offsite' <<<"$out")" "intact" "history off the gateway"
	out=$("${c[@]}" search cc-offsite --dir "$off/recordings" --key "$off/key.pub" 2>&1) || h_fail "search: $out"
	h_assert_contains "$out" "intact" "search off the gateway"
	out=$("${c[@]}" transcript --key "$off/key.pub" "$f" 2>&1) || h_fail "transcript: $out"
	h_assert_contains "$out" "verify: intact" "transcript off the gateway"
	out=$("${c[@]}" recording verify "$f" 2>&1) && h_fail "verified without a key: $out"
	h_assert_contains "$out" "give --key FILE" "without a key"
}

h_run test_off_the_gateway_with_only_the_public_key test_sealed_recordings_match_the_audit_log test_damage_is_found_against_the_audit_log \
	test_live_and_killed_sessions
