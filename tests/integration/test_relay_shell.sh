#!/bin/bash
# Interactive shell through a pty, driven in tmux like a vendor's terminal: typed commands run,
# their output shows, the terminal size follows resizes, Ctrl-C interrupts the remote program,
# and the recording holds both the keystrokes ("i") and the output ("o").
. "${GW_SRC:-$(dirname "$0")/../..}/tests/lib/harness.sh"
h_setup || exit 1

# A vendor terminal of 100x30 running ssh -tt through the gateway, TERM=vt220.
shell_start() {
	h_tmux_start 100 30 "TERM=vt220 ssh ${H_SSH_OPTS[*]} -i $VENDOR_KEY -p $GW_PORT -tt $GW_DEST"
	h_tmux_send 'echo ready-$((20+1))' Enter
	h_tmux_wait 'ready-21' 30 || h_fail "no shell: $(h_tmux_screen)"
}

shell_exit() {
	h_tmux_send 'exit' Enter
	h_tmux_wait_exit 15 || h_fail "shell did not end: $(h_tmux_screen)"
}

# The recording of the current tmux session: the newest .cast without a command.
shell_recording() {
	local f
	for f in $(ls -1t "$GW_RECORDINGS"/*.cast 2>/dev/null); do
		h_cast_header "$f" | grep -q '"command"' && continue
		echo "$f"
		return 0
	done
	h_fail "no shell recording in $GW_RECORDINGS"
}

test_shell_command_output_and_recording() {
	local rec
	shell_start
	h_tmux_send 'echo typed-$((6*7))' Enter
	h_tmux_wait 'typed-42' || h_fail "no output: $(h_tmux_screen)"
	shell_exit
	rec=$(shell_recording)
	h_assert_contains "$(h_cast_events "$rec" i)" 'echo typed-$((6*7))' "keystrokes in the recording"
	h_assert_contains "$(h_cast_events "$rec" o)" 'typed-42' "output in the recording"
	h_assert_match "$(h_cast_header "$rec")" '"width": ?100' "width in the header"
	h_assert_match "$(h_cast_header "$rec")" '"height": ?30' "height in the header"
}

test_term_type_reaches_target() {
	shell_start
	h_tmux_send 'echo "term=$TERM"' Enter
	h_tmux_wait '^term=vt220' || h_fail "TERM not passed: $(h_tmux_screen)"
	shell_exit
}

test_resize_seen_by_stty_size() {
	local rec
	shell_start
	h_tmux_send 'stty size' Enter
	h_tmux_wait '^30 100' || h_fail "initial size: $(h_tmux_screen)"
	"${H_TMUX[@]}" resize-window -t t -x 120 -y 40
	h_tmux_send 'stty size' Enter
	h_tmux_wait '^40 120' || h_fail "size after resize: $(h_tmux_screen)"
	shell_exit
	rec=$(shell_recording)
	grep -qE '"r", ?"120x40"' "$rec" || h_fail "no resize event 120x40 in $rec"
}

# target_runs CMDLINE: a process with that command line runs under the target's sshd.
target_runs() {
	ps -e -o pid=,ppid=,args= | awk -v root="$(h_pid plc-07)" -v cmd="$1" '
		{ parent[$1] = $2; line = $0; sub(/^ *[0-9]+ +[0-9]+ /, "", line) }
		line == cmd { found[$1] = 1 }
		END {
			for (p in found)
				for (q = parent[p]; q > 1; q = parent[q])
					if (q == root) exit 0
			exit 1
		}'
}

test_ctrl_c_interrupts_remote_program() {
	shell_start
	h_tmux_send 'sleep 60; echo not-interrupted' Enter
	# Ctrl-C once the remote sleep runs: it must interrupt the program, not the typed line.
	h_wait_for 10 target_runs 'sleep 60' ||
		h_fail "the remote sleep did not start: $(h_tmux_screen)"
	h_tmux_send C-c
	h_tmux_send 'echo after-$((1+1))' Enter
	h_tmux_wait 'after-2' 10 || h_fail "Ctrl-C did not interrupt sleep: $(h_tmux_screen)"
	h_tmux_screen | grep -q '^not-interrupted' && h_fail "the command list went on after Ctrl-C"
	shell_exit
}

h_run test_shell_command_output_and_recording test_term_type_reaches_target \
	test_resize_seen_by_stty_size test_ctrl_c_interrupts_remote_program
