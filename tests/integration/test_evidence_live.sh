#!/bin/bash
# Evidence of real sessions (issue 4): the transcript of a vendor who edited a file with vi on
# the target shows the text a person saw; a recording filesystem that fills up during a live
# session ends it with a message (nothing relayed unrecorded); an audit log that cannot be
# written refuses new sessions.
. "${GW_SRC:-$(dirname "$0")/../..}/tests/lib/harness.sh"
# Here the disk fills for real, past any reserve (test_limits_recording_disk.sh has the reserve).
gw_config_extra 'recording_min_free = 0;'
h_setup || exit 1

# newest_recording: the most recently written .cast.
newest_recording() { ls -1t "$GW_RECORDINGS"/*.cast 2>/dev/null | head -n 1; }

# small_fs SIZE PATH: puts PATH (a directory, or a file) on an empty tmpfs of SIZE until the
# test (a subshell) ends; SMALL_FS is the tmpfs.
small_fs() {
	SMALL_FS=$H_DIR/fs.$RANDOM
	mkdir -p "$SMALL_FS"
	mount -t tmpfs -o "size=$1,mode=0700" tmpfs "$SMALL_FS" 2>/dev/null || h_skip "cannot mount a tmpfs here"
	local src=$SMALL_FS
	[[ -d $2 ]] || { src=$SMALL_FS/${2##*/}; : >"$src"; }
	mount --bind "$src" "$2" 2>/dev/null || { umount "$SMALL_FS"; h_skip "cannot bind-mount here"; }
	# Lazily: the listener keeps the audit log open (it is its only writer) after the test.
	trap "umount -l '$2'; umount -l '$SMALL_FS'" EXIT
}

test_vi_session_transcript_shows_the_edited_text() {
	local rec out screen vi ends file=$H_DIR/vi-edit.txt
	command -v vi >/dev/null || h_skip "no vi on this machine"
	ends=$(gw_events session_end)
	h_tmux_start 80 24 "TERM=xterm ssh ${H_SSH_OPTS[*]} -i $VENDOR_KEY -p $GW_PORT -tt $GW_DEST"
	h_tmux_send 'echo ready-$((20+1))' Enter
	h_tmux_wait 'ready-21' 30 || h_fail "no shell: $(h_tmux_screen)"
	# -u NONE -i NONE: no vimrc or viminfo of the machine's user; the same vi every time.
	h_tmux_send "vi -u NONE -i NONE -N $file" Enter
	h_tmux_wait '^~' 15 || h_fail "vi did not start: $(h_tmux_screen)"
	# The target is an sshd on this machine: vi's process is ours to watch.
	vi=$(pgrep -n -f -- "-N $file\$") || h_fail "vi's process not found"
	# A typo fixed with backspace, then a second line typed over by cw: the screen ends with
	# "first line fixed" and "second line" and shows neither mistake.
	h_tmux_send -l 'ifirst linr'
	h_tmux_send BSpace
	h_tmux_send -l 'e fixed'
	h_tmux_send Enter
	h_tmux_send -l 'wrong line'
	h_tmux_send Escape
	h_tmux_send -l '0cwsecond'
	h_tmux_send Escape
	h_tmux_wait '^second line' 10 || h_fail "vi did not take the edit: $(h_tmux_screen)"
	h_tmux_send -l ':wq'
	h_tmux_send Enter
	# vi discards typeahead when it leaves: the next command waits for vi's end (once it wrote
	# the file).
	h_wait_for 11 h_gone "$vi"
	h_tmux_send 'echo vi-done-$((1+1))' Enter
	h_tmux_wait '^vi-done-2' 10 || h_fail "vi did not end: $(h_tmux_screen)"
	h_tmux_send 'exit' Enter
	h_tmux_wait_exit 15 || h_fail "shell did not end: $(h_tmux_screen)"
	h_assert_eq $'first line fixed\nsecond line' "$(cat "$file")" "the file vi wrote"
	# The session's session_end: written once its recording is sealed.
	h_wait_for 10 gw_events_reach session_end $((ends + 1)) || h_fail "no session_end of the vi session"
	rec=$(newest_recording)
	out=$(ctl recording verify "$rec" 2>&1) || h_fail "verify: $out"
	out=$(ctl transcript "$rec" 2>&1) || h_fail "transcript failed: $out"
	# The screen lines (" | "): vi's picture when the person typed :wq and pressed Enter.
	screen=$(grep -E '^ +\| ' <<<"$out")
	h_assert_match "$screen" $'\\| first line fixed\n +\\| second line\n' "the edited lines as shown"
	h_assert_not_contains "$screen" "linr" "the typo fixed by backspace"
	h_assert_not_contains "$screen" "wrong line" "the text replaced by cw"
	h_assert_contains "$out" "> ifirst line fixed" "the typed line, backspace applied"
}

test_recording_disk_full_mid_session_ends_it() {
	local rec out rc recorded shown
	small_fs 512k "$GW_RECORDINGS"
	# The session starts with room for its recording, then prints far more than the rest of
	# the filesystem holds. It must end with the reason, never relay what was not recorded.
	out=$(gw_ssh "$GW_DEST" 'echo started; sleep 1; head -c 4000000 /dev/zero | od -v | head -c 3000000; sleep 3; echo after-$((3+4))' </dev/null 2>&1)
	rc=$?
	((rc != 0)) || h_fail "the session ended normally"
	h_assert_contains "$out" "started" "output before the disk filled"
	h_assert_not_contains "$out" "after-7" "output after the disk filled"
	h_assert_contains "$out" "evidence can no longer be written" "message to the vendor"
	h_wait_for 5 eval 'tail -n 5 "$GW_AUDIT" | grep -q recording'
	h_assert_contains "$(tail -n 5 "$GW_AUDIT")" "recording" "audit event naming the recording failure"
	# The vendor saw only what the recording holds: the complete records (the disk cut the
	# last one short) cover every byte that reached the vendor.
	rec=$(newest_recording)
	recorded=$(python3 -c 'import json, sys
n = 0
for line in open(sys.argv[1], encoding="utf-8", errors="replace").read().split("\n")[1:]:
    try:
        ev = json.loads(line)
    except ValueError:
        break
    if isinstance(ev, list) and ev[1] == "o":
        n += len(ev[2])
print(n)' "$rec")
	shown=$(printf '%s\n' "$out" | grep -v 'evidence can no longer' | wc -c)
	((recorded >= shown)) || h_fail "the vendor received $shown bytes, the recording holds $recorded"
}

test_audit_log_unwritable_refuses_new_sessions() {
	local out
	# The audit log file itself on a filesystem that is then filled to the last block.
	small_fs 64k "$GW_AUDIT"
	dd if=/dev/zero of="$SMALL_FS/fill" bs=4k 2>/dev/null
	out=$(gw_ssh "$GW_DEST" 'echo reached-$((1+1))' </dev/null 2>&1) && h_fail "session ran without its audit log: $out"
	h_assert_not_contains "$out" "reached-2" "target output"
}

h_run test_vi_session_transcript_shows_the_edited_text test_recording_disk_full_mid_session_ends_it \
	test_audit_log_unwritable_refuses_new_sessions
