#!/bin/bash
# What gatewayctl shows of a recording is what happened (issue 15, fidelity): escape sequences a
# vendor put in a file name or command print as visible text, never act on the auditor's
# terminal; history names ticket, approver, kind and command by time; a channel without a pty
# shows the bytes as sent (a DEL does not hide a command), no line length hides text, and a
# session still recording reads as live.
. "${GW_SRC:-$(dirname "$0")/../..}/tests/lib/harness.sh"
sshd_start plc-07 || exit 1
GW_ALLOW="shell exec upload download" gw_policy_default
gw_start || exit 1
ESC=$'\e'

# sealed_since MARK: the recordings not listed in the file MARK (gw_recordings before the run),
# once every one is sealed (intact); fails when none is by the deadline. A list rather than MARK's
# time: a recording made within the same clock tick as MARK would not be newer than it.
sealed_since() {
	local casts
	mapfile -t casts < <(gw_recordings | grep -vxF -f "$1")
	((${#casts[@]} > 0)) && ctl recording verify "${casts[@]}" >/dev/null && printf '%s\n' "${casts[@]}"
}

# run_recorded NAME CMD...: runs CMD, then prints the recordings it made (sealed).
run_recorded() {
	local mark=$H_DIR/mark-$1 casts
	shift
	gw_recordings >"$mark"
	"$@" >"$H_DIR/run.out" 2>&1 || h_fail "$* failed: $(cat "$H_DIR/run.out")"
	h_wait_for 10 sealed_since "$mark" >/dev/null || h_fail "no sealed recording after: $*"
	sealed_since "$mark"
}

test_transfers_show_escape_sequences_as_text() {
	local dir="$H_DIR/files/${ESC}[2J${ESC}[Hnothing happened here" casts out
	mkdir -p "$H_DIR/files"
	printf 'mkdir "%s"\nmkdir "%s"\n' "$dir" "$H_DIR/files/bin-"$'\xff'"-dir" >"$H_DIR/batch"
	casts=$(run_recorded sftp timeout -k 5 "$H_TIMEOUT" sftp "${H_SSH_OPTS[@]}" -i "$VENDOR_KEY" \
		-P "$GW_PORT" -b "$H_DIR/batch" "$GW_DEST") || exit 1
	[[ -d $dir ]] || h_fail "mkdir did not reach the target"
	out=$(ctl transfers $casts)
	h_assert_not_contains "$out" "$ESC" "transfers output"
	h_assert_contains "$out" '\e[2J\e[Hnothing happened here' "transfers output"
	h_assert_contains "$out" '/bin-\xff-dir ' "transfers output of a name that is not UTF-8"
	out=$(ctl search 'nothing happened')
	h_assert_not_contains "$out" "$ESC" "search output"
	h_assert_match "$out" $'\tnote\tsftp-mkdir [^\t]*\\\\e\\[2J\\\\e\\[Hnothing happened here' \
		"search hit on the transfer path"
}

test_history_and_search_show_exec_escapes_as_text() {
	local out
	run_recorded exec gw_ssh "$GW_DEST" "echo ${ESC}[2J${ESC}[3Jclean-screen-$$" >/dev/null || exit 1
	out=$(ctl history --since 1h)
	h_assert_not_contains "$out" "$ESC" "history output"
	h_assert_contains "$out" "echo \\e[2J\\e[3Jclean-screen-$$" "history command"
	out=$(ctl search "clean-screen-$$")
	h_assert_not_contains "$out" "$ESC" "search output"
	h_assert_match "$out" $'\tacme.alice\t[^\t]*@plc-07\tintact\tcommand\techo \\\\e\\[2J' "search hit on the command"
	h_assert_match "$out" $'\tshown\t.*clean-screen' "search hit on the output"
	# A command that is not UTF-8 is in the header as base64: shown with its bytes, not as "-".
	run_recorded bin gw_ssh "$GW_DEST" $'echo \xff-bin-'"$$" >/dev/null || exit 1
	h_assert_contains "$(ctl history --since 1h)" $'\techo \\xff-bin-'"$$"$'\t' "history of a non-UTF-8 command"
	h_assert_match "$(ctl search "bin-$$")" $'\tcommand\techo \\\\xff-bin-' "search hit on a non-UTF-8 command"
}

test_history_names_ticket_approver_kind_command() {
	local out row now_local
	run_recorded who gw_ssh "$GW_DEST" "echo who-$$" >/dev/null || exit 1
	out=$(ctl history --since 1h --person acme.alice)
	h_assert_eq "start	session	channel	kind	vendor	person	target	ticket	approver	command	end	reason	verify	file" \
		"$(head -n 1 <<<"$out")" "history heading"
	row=$(grep "echo who-$$" <<<"$out") || h_fail "history lacks the exec channel: $out"
	h_assert_match "$row" $'^20[0-9-]+T[0-9:.]+Z\t[0-9a-f]{32}\t0\texec\tacme\tacme.alice\t[^\t]+@plc-07\tharness-0\towner\techo who-'"$$"$'\t[^\t]+\t[^\t]+\tintact\t' \
		"history row"
	# Sorted by start: the rows' start times never go back.
	tail -n +2 <<<"$out" | cut -f1 | sort -c || h_fail "history not in time order: $out"
	# Local time and UTC bound the same moments.
	now_local=$(date '+%Y-%m-%d %H:%M')
	out=$(ctl history --from "$(date -d '-2 min' '+%Y-%m-%d %H:%M')" --to "$(date -u -d '+2 min' '+%Y-%m-%dT%H:%MZ')")
	h_assert_contains "$out" "echo who-$$" "history --from (local) --to (UTC)"
	out=$(ctl history --from "$(date -u -d '+2 min' '+%Y-%m-%dT%H:%MZ')")
	h_assert_not_contains "$out" "who-$$" "history --from in the future"
	ctl history --from "$now_local:00" >/dev/null || h_fail "--from with seconds refused"
	ctl history --since 24x >/dev/null 2>&1 && h_fail "--since 24x accepted"
	true
}

# The shell reads the DELs as data: it ran the rm, then treated the rest as a comment.
test_transcript_without_pty_shows_bytes_as_sent() {
	local victim=$H_DIR/victim casts out dels
	touch "$victim"
	dels=$(printf '\x7f%.0s' {1..22})
	casts=$(run_recorded del sh -c "printf 'rm -f %s #%secho routine check\n' '$victim' '$dels' |
		timeout -k 5 $H_TIMEOUT ssh ${H_SSH_OPTS[*]} -i $VENDOR_KEY -p $GW_PORT $GW_DEST sh") || exit 1
	[[ ! -e $victim ]] || h_fail "the command did not run on the target"
	out=$(ctl transcript $casts)
	h_assert_not_contains "$out" $'\x7f' "transcript"
	h_assert_contains "$out" "> rm -f $victim #\\x7f\\x7f" "transcript shows the rm and the DELs"
	out=$(ctl search "rm -f $victim")
	h_assert_match "$out" $'\ttyped\trm -f ' "search finds the rm"
}

test_long_line_not_cut_without_pty() {
	local casts out
	casts=$(run_recorded long sh -c "printf '%4100s echo long-raw-$$\n' '' |
		timeout -k 5 $H_TIMEOUT ssh ${H_SSH_OPTS[*]} -i $VENDOR_KEY -p $GW_PORT $GW_DEST sh") || exit 1
	grep -q "long-raw-$$" "$H_DIR/run.out" || h_fail "the command did not run: $(tr -s ' ' <"$H_DIR/run.out")"
	out=$(ctl transcript $casts)
	h_assert_contains "$out" "> $(printf '%4100s') echo long-raw-$$" "transcript"
	ctl search "long-raw-$$" | grep -q $'\ttyped\t' || h_fail "search does not find the typed command"
	# Beyond a piece (1 MiB) the line is shown in pieces, each marked, the command whole.
	casts=$(run_recorded huge sh -c "{ head -c 1100000 /dev/zero | tr '\\0' ' '; echo ' echo huge-raw-$$'; } |
		timeout -k 5 $H_TIMEOUT ssh ${H_SSH_OPTS[*]} -i $VENDOR_KEY -p $GW_PORT $GW_DEST sh") || exit 1
	grep -q "huge-raw-$$" "$H_DIR/run.out" || h_fail "the long command did not run"
	out=$(ctl transcript $casts | grep -c -e '   \[line continues\]$' -e " echo huge-raw-$$\$")
	h_assert_eq 2 "$out" "transcript lines: a marked piece, then the rest with the command"
}

# On a pty the command is typed after the prompt: the target's line editor takes any length.
test_long_line_not_cut_on_pty() {
	local mark=$H_DIR/mark-longpty casts out
	gw_recordings >"$mark"
	h_tmux_start 100 30 "TERM=vt220 ssh ${H_SSH_OPTS[*]} -i $VENDOR_KEY -p $GW_PORT -tt $GW_DEST" || exit 1
	h_tmux_send 'echo ready-$((20+1))' Enter
	h_tmux_wait 'ready-21' 30 || h_fail "no shell: $(h_tmux_screen)"
	h_tmux_send -l "$(printf '%4100s') echo long-pty-\$((6*7))"
	h_tmux_send Enter
	h_tmux_wait '^long-pty-42' 30 || h_fail "the command did not run: $(h_tmux_screen | tr -s ' ')"
	h_tmux_send 'exit' Enter
	h_tmux_wait_exit 15 || h_fail "the shell did not end"
	h_wait_for 10 sealed_since "$mark" >/dev/null || h_fail "no sealed recording"
	out=$(ctl transcript $(sealed_since "$mark"))
	h_assert_contains "$out" "> $(printf '%4100s') echo long-pty-\$((6*7))" "transcript"
	ctl search 'echo long-pty' | grep -q $'\ttyped\t' || h_fail "search does not find the typed command"
}

# A session still running is "live" to history, transcript and search, and intact once it ends.
test_live_session_shown_as_live() {
	local mark=$H_DIR/mark-live pid cast out
	touch "$mark"
	# ssh itself in the background (not gw_ssh's subshell), so the kill below reaches it.
	ssh "${H_SSH_OPTS[@]}" -i "$VENDOR_KEY" -p "$GW_PORT" "$GW_DEST" "echo live-marker-$$; exec sleep 60" \
		</dev/null >"$H_DIR/live.out" 2>&1 &
	pid=$!
	h_wait_for 20 grep -q "live-marker-$$" "$H_DIR/live.out" || h_fail "the session did not start"
	cast=$(find "$GW_RECORDINGS" -name '*.cast' -newer "$mark")
	[[ -n $cast ]] || h_fail "no recording of the running session"
	out=$(ctl history --since 1h | grep "live-marker-$$")
	h_assert_match "$out" $'\tlive\t' "history of the running session"
	out=$(ctl transcript $cast)
	h_assert_match "$(head -n 1 <<<"$out")" '^verify: live \(still recording' "transcript's verdict"
	out=$(ctl search "echo live-marker-$$")
	h_assert_match "$out" $'\tlive\tcommand\t' "search's verdict"
	kill "$pid"
	wait "$pid" 2>/dev/null
	h_wait_for 10 ctl recording verify $cast >/dev/null || h_fail "not sealed after the end: $(ctl recording verify $cast)"
	h_assert_match "$(ctl transcript $cast | head -n 1)" '^verify: intact' "transcript's verdict after the end"
}

h_run test_transfers_show_escape_sequences_as_text test_history_and_search_show_exec_escapes_as_text \
	test_history_names_ticket_approver_kind_command test_transcript_without_pty_shows_bytes_as_sent \
	test_long_line_not_cut_without_pty test_long_line_not_cut_on_pty test_live_session_shown_as_live
