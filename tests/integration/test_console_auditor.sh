#!/bin/bash
# The auditor's console (issue 16) with stock ssh: auditor.ann, whose scope is the vendor acme,
# lists acme's session in history, reads its transcript, verifies its recording (intact, then
# tampered), gets a report and replays it over ssh -tt; the vendor beta's session is invisible,
# a path is refused, an approver's command is unknown to an auditor; a replay ends with the
# connection; every command is audited.
. "${GW_SRC:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$H_SRC/tests/lib/auditor.sh"
auditor_scenario || exit 1

# One recorded session per vendor, each sealed before the auditor looks.
auditor_sessions
ACME_ID=$(basename "$ACME" | cut -d. -f1) BETA_ID=$(basename "$BETA" | cut -d. -f1)

test_history_and_scope() {
	local out
	out=$(as_auditor history </dev/null) || h_fail "history exited $?: $out"
	h_assert_contains "$out" "$ACME_ID" "acme's session in the history"
	h_assert_contains "$out" "intact" "its verdict"
	h_assert_not_contains "$out" "$BETA_ID" "beta's session (out of scope)"
	out=$(as_auditor history --vendor beta </dev/null)
	h_assert_not_contains "$out" "$BETA_ID" "beta's session, asked for"
	out=$(as_auditor search 'beta-was' </dev/null)
	h_assert_not_contains "$out" "$BETA_ID" "beta's session found by search"
	out=$(as_auditor search 'acme-was' </dev/null) || h_fail "search exited $?: $out"
	h_assert_contains "$out" "$ACME_ID" "search hit"
	out=$(as_auditor history --dir /etc </dev/null 2>&1) && h_fail "--dir accepted: $out"
	h_assert_contains "$out" "the console reads the gateway's own recordings" "--dir"
}

test_transcript_and_refusals() {
	local out
	out=$(as_auditor transcript "$ACME_ID" </dev/null) || h_fail "transcript exited $?: $out"
	h_assert_contains "$out" "verify: intact" "the verdict first"
	h_assert_contains "$out" "acme-was-42" "the session's output"
	out=$(as_auditor transcript "$(basename "$ACME")" </dev/null) || h_fail "by file name: $out"
	h_assert_contains "$out" "acme-was-42" "by file name"
	# beta's and one that does not exist: the same answer
	out=$(as_auditor transcript "$BETA_ID" </dev/null 2>&1) && h_fail "beta's transcript shown"
	h_assert_contains "$out" "no recording $BETA_ID in your scope" "out of scope"
	h_assert_not_contains "$out" "beta-was" "beta's output"
	out=$(as_auditor transcript 0123abcd.0 </dev/null 2>&1) && h_fail "a missing one shown"
	h_assert_contains "$out" "no recording 0123abcd.0 in your scope" "missing"
	out=$(as_auditor transcript ../../etc/passwd </dev/null 2>&1) && h_fail "a path accepted"
	h_assert_contains "$out" "not a path" "a path"
	h_assert_not_contains "$out" "root:" "/etc/passwd"
	out=$(as_auditor approve req-20260101-abcdef </dev/null 2>&1) && h_fail "an auditor approved"
	h_assert_contains "$out" 'unknown command "approve" for auditor' "approve"
	out=$(as_auditor kill "$ACME_ID" </dev/null 2>&1) && h_fail "an auditor killed"
	h_assert_contains "$out" 'unknown command "kill" for auditor' "kill"
	out=$(as_auditor replay "$ACME_ID" </dev/null 2>&1) && h_fail "replay without a terminal"
	h_assert_contains "$out" "ssh -t" "the hint"
	out=$(as_auditor help </dev/null) || h_fail "help exited $?"
	h_assert_contains "$out" "transcript ID" "help lists the auditor's commands"
	grep -q '"event":"console_command".*"principal":"auditor.ann".*"role":"auditor".*"command":"transcript '"$ACME_ID"'".*"status":0' \
		"$GW_AUDIT" || h_fail "no console_command event for the transcript"
	grep -q '"event":"console_command".*"command":"approve req-20260101-abcdef".*"status":2' \
		"$GW_AUDIT" || h_fail "no console_command event for the refused approve"
}

test_report() {
	local out
	out=$(as_auditor report --format text </dev/null) || h_fail "report exited $?: $out"
	h_assert_contains "$out" "$ACME_ID" "acme's session in the report"
	h_assert_not_contains "$out" "$BETA_ID" "beta's session in the report"
	out=$(as_auditor report --vendor beta </dev/null 2>&1) && h_fail "a report of beta"
	h_assert_contains "$out" "no vendor beta in your scope" "report of beta"
}

test_replay_over_tty() {
	local out
	out=$(as_auditor -tt replay "$ACME_ID" --speed 100 </dev/null 2>&1) || h_fail "replay exited $?: $out"
	h_assert_contains "$out" "acme-was-42" "the recorded output"
}

# auditor_job: the pid of the command an auditor's session process runs (a grandchild of the
# listener that is not a vendor-facing process)
auditor_job() {
	local m c
	for m in $(pgrep -P "$(h_pid gatewayd)"); do
		for c in $(pgrep -P "$m"); do
			[[ $(readlink "/proc/$c/exe") == */gatewayd ]] && { echo "$c"; return 0; }
		done
	done
	return 1
}

# A replay that would take hours ends with the auditor's connection, and is audited as stopped.
test_replay_stops_with_the_connection() {
	local client job
	# timeout passes the kill on to ssh
	timeout -k 5 "$H_TIMEOUT" ssh "${H_SSH_OPTS[@]}" -i "$AUDITOR_KEY" -p "$GW_PORT" -tt \
		auditor.ann@127.0.0.1 replay "$ACME_ID" --speed 0.00001 </dev/null >"$H_DIR/slow.out" 2>&1 &
	client=$!
	h_wait_for 20 auditor_job >/dev/null || h_fail "no replay running: $(cat "$H_DIR/slow.out")"
	job=$(auditor_job)
	kill "$client"
	h_wait_for 20 bash -c "! kill -0 $job 2>/dev/null" || h_fail "the replay outlived the connection"
	h_wait_for 20 grep -q '"command":"replay '"$ACME_ID"' --speed 0.00001","status":137' "$GW_AUDIT" ||
		h_fail "no console_command event for the stopped replay"
}

# Last: it changes the recording.
test_verify_tampered() {
	local out
	out=$(as_auditor recording verify "$ACME_ID" </dev/null) || h_fail "verify exited $?: $out"
	h_assert_contains "$out" ": intact" "before"
	sed -i 's/acme-was-42/acme-was-43/' "$ACME"
	out=$(as_auditor recording verify "$ACME_ID" </dev/null) && h_fail "a tampered recording passed"
	h_assert_contains "$out" "tampered" "after a byte changed"
}

h_run test_history_and_scope test_transcript_and_refusals test_report test_replay_over_tty \
	test_replay_stops_with_the_connection test_verify_tampered
