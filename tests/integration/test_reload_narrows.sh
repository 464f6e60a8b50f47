#!/bin/bash
# Reload narrows live sessions too: after `gatewayctl reload` (or SIGHUP) every live session
# decides again under the new configuration. Channels of a kind no longer granted are closed
# with the reason and refused from then on, while granted kinds go on; a session whose key was
# removed from its person is cut with the reason; a reload that fails is reported to the owner
# who asked for it (errors naming FILE:LINE, exit 1) and changes nothing; a session that cannot
# be handed the new configuration ends.
. "${GW_SRC:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$H_SRC/tests/lib/sessions.sh"
sshd_start plc-07 || exit 1
GW_ALLOW="shell exec upload download" gw_policy_default
# plc-09: the same sshd, under a ticket of one session that a test installs itself.
gw_target_add plc-09 "${H_PORT[plc-07]}" "${H_FP[plc-07]}"
H_CFG_GRANTS+=('{ vendor = "acme"; targets = [ "plc-09" ]; allow = [ "shell", "exec" ]; }')
gw_start || exit 1
cp "$GW_CONFIG" "$H_DIR/gatewayd.conf.orig"
OTHER_KEY=$H_DIR/keys/other
h_keygen "$OTHER_KEY" || exit 1

# The socket named directly: gatewayctl then need not parse a configuration it reloads.
ctl_sock() { "$H_GATEWAYCTL" -S "$H_DIR/gw/state/control.sock" "$@"; }

# redecided: how many times live sessions decided again (session_redecided audit events).
redecided() { grep -c '"event":"session_redecided"' "$GW_AUDIT"; }
redecided_past() { (($(redecided) > $1)); }

# restore: the configuration of the start, reloaded.
restore() {
	cp "$H_DIR/gatewayd.conf.orig" "$GW_CONFIG"
	ctl reload >/dev/null || h_fail "reload of the original configuration"
}

test_failed_reload_is_reported_and_changes_nothing() {
	local out rc
	es_start f1 || h_fail "session f1"
	es_echo f1 hello-f1 || h_fail "f1 does not echo"
	printf 'grants = ( this is not libconfig );\n' >>"$GW_CONFIG"
	out=$(ctl_sock reload 2>&1)
	rc=$?
	h_assert_eq 1 "$rc" "exit status of a refused reload"
	h_assert_contains "$out" "reload refused" "gatewayctl reload output"
	h_assert_match "$out" "gatewayd\.conf:[0-9]+" "the error names file:line"
	out=$(ctl reload 2>&1) && h_fail "reload with a broken configuration exited 0"
	h_assert_match "$out" "gatewayd\.conf:[0-9]+" "gatewayctl's own check names file:line"
	h_assert_contains "$out" "not sent" "gatewayctl reload output"
	grep -q '"event":"config_reload".*"result":"refused"' "$GW_AUDIT" || h_fail "no refused config_reload event"
	es_echo f1 after-f1 || h_fail "f1 stopped echoing after a refused reload"
	restore
	out=$(ctl reload 2>&1) || h_fail "reload: $out"
	h_assert_contains "$out" "configuration reloaded" "gatewayctl reload output"
	es_echo f1 after-ok-f1 || h_fail "f1 stopped echoing after a reload that changed nothing"
	es_end f1
}

test_removed_key_cuts_its_session() {
	local id
	restore
	es_start k1 || h_fail "session k1"
	es_echo k1 hello-k1 || h_fail "k1 does not echo"
	sed -i "s|$(cut -d' ' -f1-2 "$VENDOR_KEY.pub")|$(cut -d' ' -f1-2 "$OTHER_KEY.pub")|" "$GW_CONFIG"
	grep -qF "$(cut -d' ' -f2 "$OTHER_KEY.pub")" "$GW_CONFIG" || h_fail "config edit failed"
	kill -HUP "$(h_pid gatewayd)" # the signal still works as before
	es_wait_exit k1 10 || h_fail "session still running 10 s after its key was removed"
	h_assert_contains "$(es_out k1)" "session ended: access withdrawn (configuration reloaded)" "message to the vendor"
	grep '"event":"session_cut"' "$GW_AUDIT" | grep -q 'configuration reloaded: key SHA256:[^ ]* removed from person acme.alice' ||
		h_fail "no session_cut event naming the removed key: $(grep session_cut "$GW_AUDIT" | tail -n 1)"
	id=$(grep '"event":"session_cut"' "$GW_AUDIT" | tail -n 1 | sed 's/.*"session":"\([0-9a-f]*\)".*/\1/')
	h_assert_contains "$(ctl recording verify "$GW_RECORDINGS/$id".0.cast 2>&1)" "removed from person acme.alice" \
		"end reason in the recording"
	restore
}

test_narrowed_grant_closes_and_refuses_channels() {
	local out
	restore
	es_start n1 || h_fail "session n1 (exec)"
	es_echo n1 hello-n1 || h_fail "n1 does not echo"
	h_hostile "$H_SRC/tests/integration/hostile_reload.py" --go "$H_DIR/reloaded" \
		>"$H_DIR/narrow.out" 2>"$H_DIR/narrow.err" &
	h_wait_for 30 grep -q ready "$H_DIR/narrow.out" || h_fail "hostile vendor did not start: $(cat "$H_DIR/narrow.err")"
	sed -i 's/allow = \[ "shell", "exec", "upload", "download" \]/allow = [ "shell" ]/' "$GW_CONFIG"
	grep -q 'allow = \[ "shell" \]' "$GW_CONFIG" || h_fail "config edit failed"
	out=$(ctl reload 2>&1) || h_fail "reload: $out"
	touch "$H_DIR/reloaded"
	h_wait_for 60 grep -q new_shell "$H_DIR/narrow.out" || h_fail "hostile vendor did not finish: $(cat "$H_DIR/narrow.err")"
	out=$(cat "$H_DIR/narrow.out")
	h_log "$(sed 's/^/    /' <<<"$out")"
	h_assert_contains "$out" "held_exec closed" "exec channel opened before the reload"
	h_assert_contains "$out" "command execution is no longer granted for this target" "what it was told"
	h_assert_contains "$out" "held_sftp closed" "sftp channel opened before the reload"
	h_assert_contains "$out" "new_exec refused" "exec channel opened after the reload"
	h_assert_contains "$out" "new_shell works" "shell, still granted"
	# Stock ssh's exec session is closed with the reason on its stderr.
	es_wait_exit n1 10 || h_fail "ssh exec session still running after exec was withdrawn"
	h_assert_contains "$(es_out n1)" "command execution is no longer granted for this target" "ssh's stderr"
	grep '"event":"channel_end"' "$GW_AUDIT" | grep -q '"reason":"exec no longer granted (configuration reloaded)"' ||
		h_fail "no channel_end event with the reason"
	grep -q '"event":"session_redecided".*"granted":"shell"' "$GW_AUDIT" || h_fail "no session_redecided event"
	restore
}

test_narrowed_transfer_paths_apply_to_new_transfers() {
	local out n d=$H_DIR/files
	restore
	mkdir -p -m 0755 "$d/was" "$d/stays"
	h_hostile "$H_SRC/tests/integration/hostile_reload.py" --go "$H_DIR/paths-reloaded" \
		--paths "$d/was" "$d/stays" >"$H_DIR/paths.out" 2>"$H_DIR/paths.err" &
	h_wait_for 30 grep -q ready "$H_DIR/paths.out" || h_fail "hostile vendor did not start: $(cat "$H_DIR/paths.err")"
	sed -i "s|\(allow = \[ \"shell\", \"exec\", \"upload\", \"download\" \];\) }|\1 transfer_paths = [ \"$d/stays\" ]; }|" "$GW_CONFIG"
	grep -qF "transfer_paths = [ \"$d/stays\" ]" "$GW_CONFIG" || h_fail "config edit failed"
	n=$(redecided)
	out=$(ctl reload 2>&1) || h_fail "reload: $out"
	# The reload reaches the session as a signal: on only once it decided again.
	h_wait_for 10 redecided_past "$n" || h_fail "the session did not decide again"
	touch "$H_DIR/paths-reloaded"
	h_wait_for 30 grep -q new_channel_stays "$H_DIR/paths.out" || h_fail "hostile vendor did not finish: $(cat "$H_DIR/paths.err")"
	out=$(cat "$H_DIR/paths.out")
	h_log "$(sed 's/^/    /' <<<"$out")"
	h_assert_contains "$out" "before_was works" "upload before the reload"
	h_assert_contains "$out" "old_channel_was works" "upload through the channel opened before (keeps its paths)"
	h_assert_contains "$out" "new_channel_was refused" "upload outside the new transfer_paths"
	h_assert_contains "$out" "new_channel_stays works" "upload inside the new transfer_paths"
	[[ ! -e $d/was/new-channel.bin ]] || h_fail "a refused upload left a file"
	restore
}

# A session whose ticket is at its max_sessions (its own start the one use) is decided again
# without counting against itself: it runs on, and a window narrowed by the reload ends it
# earlier (the end moves, the vendor is warned at once), while the ticket admits nobody else.
test_session_at_max_sessions_takes_narrowed_end() {
	local f=$H_DIR/gw/max1.ticket end n out
	restore
	end=$(date -u -d '+5 min' +%H:%M)
	[[ $end > $(date -u +%H:%M) ]] || h_skip "the narrowed window would end after midnight"
	ctl ticket new --id max1 --person acme.alice --target plc-09 --from now --to +1d \
		--approver owner --reason "one session" --max-sessions 1 -o "$f" >/dev/null &&
		ssh-keygen -q -Y sign -n gatewayd-ticket -f "$APPROVER_KEY" "$f" &&
		ctl ticket install "$f" >/dev/null || h_fail "ticket max1"
	es_start m1 acme.alice+plc-09@127.0.0.1 || h_fail "session m1"
	es_echo m1 hello-m1 || h_fail "m1 does not echo: $(es_out m1)"
	sed -i "s/end = \"24:00\"/end = \"$end\"/" "$GW_CONFIG"
	grep -q "end = \"$end\"" "$GW_CONFIG" || h_fail "config edit failed"
	n=$(redecided)
	out=$(ctl reload 2>&1) || h_fail "reload: $out"
	h_wait_for 10 redecided_past "$n" || h_fail "the session did not decide again"
	h_wait_for 10 grep -qE "this session ends in [0-9]+ minutes, at $end UTC / ${end}Z: its access window ends" "$H_DIR/es-m1.out" ||
		h_fail "no warning of the earlier end: $(es_out m1)"
	grep '"event":"session_redecided"' "$GW_AUDIT" | tail -n 1 | grep -q "\"ends_at\":\"[0-9-]*T$end:00Z\"" ||
		h_fail "the scheduled end did not move to $end: $(grep session_redecided "$GW_AUDIT" | tail -n 1)"
	es_echo m1 after-m1 || h_fail "m1 stopped echoing after the reload: $(es_out m1)"
	out=$(gw_ssh acme.alice+plc-09@127.0.0.1 true 2>&1) && h_fail "a second session under max1 started"
	h_assert_contains "$out" "no sessions left" "a second session under the used-up ticket"
	es_end m1
	restore
}

# A session process cannot read the configuration file (its sandbox): the listener hands it the
# text it applied. A text the link cannot carry (above its 1 MiB bound) ends the session with the
# reason, rather than leaving it under the old policy; new sessions run under the new one.
test_reload_that_cannot_reach_a_session_ends_it() {
	local out
	restore
	es_start big || h_fail "session big"
	es_echo big hello-big || h_fail "big does not echo"
	yes "# padding $(printf '%090d' 0)" | head -n 15000 >>"$GW_CONFIG" # 1.5 MB of comments
	out=$(ctl_sock reload 2>&1) || h_fail "reload of a large configuration: $out"
	es_wait_exit big 10 || h_fail "session still running 10 s after a reload it did not get"
	h_assert_contains "$(es_out big)" "session ended: access cannot be checked (configuration reloaded)" \
		"message to the vendor"
	grep '"event":"session_cut"' "$GW_AUDIT" | tail -n 1 |
		grep -q 'the new configuration did not reach the session' ||
		h_fail "no session_cut event saying why: $(grep session_cut "$GW_AUDIT" | tail -n 1)"
	out=$(gw_ssh "$GW_DEST" 'echo new-$((2+2))' </dev/null) || h_fail "new session after the reload: $?"
	h_assert_eq "new-4" "$out" "new session output"
	restore
}

# The text goes as the bytes it is (base64 on the link): a configuration that is not UTF-8 (a
# Latin-1 comment) reaches live sessions, which decide again and go on.
test_reload_of_a_text_that_is_not_utf8_reaches_sessions() {
	local n out
	restore
	es_start u1 || h_fail "session u1"
	es_echo u1 hello-u1 || h_fail "u1 does not echo"
	n=$(redecided)
	printf '# caf\xe9 \xff\n' >>"$GW_CONFIG"
	out=$(ctl_sock reload 2>&1) || h_fail "reload: $out"
	h_wait_for 10 redecided_past "$n" || h_fail "the live session did not decide again"
	es_echo u1 after-u1 || h_fail "u1 stopped echoing after the reload"
	es_alive u1 || h_fail "u1 ended"
	restore
	es_end u1
}

h_run test_failed_reload_is_reported_and_changes_nothing test_removed_key_cuts_its_session \
	test_narrowed_grant_closes_and_refuses_channels test_narrowed_transfer_paths_apply_to_new_transfers \
	test_session_at_max_sessions_takes_narrowed_end test_reload_that_cannot_reach_a_session_ends_it \
	test_reload_of_a_text_that_is_not_utf8_reaches_sessions
