#!/bin/bash
# Recordings kept compressed (recording_compression = "zstd"), through a real gateway and stock
# ssh: a live recording is the plain .cast, a sealed one ends up as .cast.zst (one zstd frame
# of the same bytes, the plain file gone); recording verify, transcript, replay, search,
# history, audit verify --recordings, the auditor's console and the evidence bundle read it;
# `recording export --asciicast` is played by stock asciinema; one altered byte is reported. A
# session process killed mid-session leaves its plain file (truncated, as ever); a compression
# cut off between its rename and its unlink leaves both forms, and the plain one is read.
. "${GW_SRC:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$H_SRC/tests/lib/sessions.sh"
sshd_start plc-07 || exit 1
gw_policy_default
gw_config_extra 'recording_compression = "zstd";'
gw_start || exit 1

KEYPUB=$GW_RECORDINGS/../state/recording_key.pub
# packed ID: the session's recording is kept compressed and its plain file is gone.
packed() { [[ -f $GW_RECORDINGS/$1.0.cast.zst && ! -e $GW_RECORDINGS/$1.0.cast ]]; }

# One exec session with enough output to be worth compressing; its id from the audit log.
gw_ssh "$GW_DEST" 'echo zstd-was-$((40+2)); printf "\033[1mbold-esc\033[0m\n"; seq 1 3000' </dev/null >/dev/null || { echo "session failed"; exit 1; }
ID=$(sed -n 's/.*"event":"session_start".*"session":"\([0-9a-f]\{32\}\)".*/\1/p' "$GW_AUDIT" | tail -n 1)
[[ -n $ID ]] || { echo "no session_start in the audit log"; exit 1; }
h_wait_for 20 packed "$ID" || { echo "not compressed: $(ls -l "$GW_RECORDINGS")"; exit 1; }
ZST=$GW_RECORDINGS/$ID.0.cast.zst

test_sealed_recording_is_one_zstd_frame_of_the_recording() {
	local out
	zstd -q -t "$ZST" || h_fail "zstd -t refuses $ZST"
	out=$(zstd -q -dc "$ZST" | head -n 1)
	h_assert_contains "$out" "\"session_id\":\"$ID\"" "the decompressed header"
	out=$(zstd -q -dc "$ZST" | tail -n 2 | head -n 1)
	h_assert_contains "$out" '"x",' "the seal before the last checkpoint"
	out=$(ls "$GW_RECORDINGS")
	h_assert_not_contains "$out" ".tmp" "a temporary file left"
}

test_verify_says_intact() {
	local out
	out=$(ctl recording verify "$ZST") || h_fail "verify exited $?: $out"
	h_assert_match "$out" ": intact \([0-9]+ records, sealed " "verdict"
	out=$(ctl recording verify --key "$KEYPUB" "$ZST") || h_fail "with --key: $out"
	out=$(ctl audit verify --recordings "$GW_RECORDINGS" "$GW_AUDIT") || h_fail "audit verify --recordings: $out"
	h_assert_contains "$out" "$ID.0.cast.zst: sealed, as the audit log says" "the audit log vouches for it"
}

test_readers_read_it() {
	local out
	out=$(ctl transcript "$ZST") || h_fail "transcript exited $?"
	h_assert_contains "$out" "verify: intact" "transcript's verdict"
	h_assert_contains "$out" "zstd-was-42" "transcript's output"
	out=$(ctl replay --speed 1000 "$ZST" </dev/null) || h_fail "replay exited $?"
	h_assert_contains "$out" "zstd-was-42" "replay"
	out=$(ctl search 'zstd-was-42') || h_fail "search exited $?"
	h_assert_match "$out" "^$ID	.*	intact	shown	.*zstd-was-42" "search hit"
	out=$(ctl history --target plc-07) || h_fail "history exited $?"
	h_assert_match "$out" "	intact	[^	]*/$ID\.0\.cast\.zst" "history names the compressed file"
	out=$(ctl transfers "$ZST") || h_fail "transfers exited $?: $out"
}

test_auditor_console_reads_it() {
	local out
	out=$(gw_console "$AUDITOR_KEY" auditor.ann recording verify "$ID" </dev/null) || h_fail "console verify: $out"
	h_assert_contains "$out" ": intact" "console verdict"
	out=$(gw_console "$AUDITOR_KEY" auditor.ann transcript "$ID.0.cast" </dev/null) || h_fail "console transcript: $out"
	h_assert_contains "$out" "zstd-was-42" "console transcript by the plain name"
	out=$(gw_console "$AUDITOR_KEY" auditor.ann recording export --asciicast "$ID" </dev/null) ||
		h_fail "console export: $out"
	h_assert_contains "$out" "zstd-was-42" "console export"
	if out=$(gw_console "$AUDITOR_KEY" auditor.ann recording export --asciicast -o "$H_DIR/x" "$ID" </dev/null 2>&1); then
		h_fail "console export to a file: $out"
	fi
	h_assert_contains "$out" "the console writes the export to your terminal only" "console -o"
}

test_export_plays_in_stock_asciinema() {
	local out
	command -v asciinema >/dev/null && command -v script >/dev/null || h_skip "no asciinema or script"
	out=$(ctl recording export --asciicast "$ID" -o "$H_DIR/export.cast" 2>&1) || h_fail "export exited $?: $out"
	h_assert_contains "$out" "verify: intact" "export's verdict"
	ctl recording export --asciicast "$ID" -o "$H_DIR/export.cast" 2>/dev/null && h_fail "export overwrote a file"
	out=$(head -n 1 "$H_DIR/export.cast")
	h_assert_not_contains "$out" "gatewayd" "the export's header"
	grep -q '"[hxin]b\?",' "$H_DIR/export.cast" && h_fail "gatewayd's own events in the export"
	out=$(script -qec "asciinema cat $H_DIR/export.cast" /dev/null 2>&1) || h_fail "asciinema cat failed: $out"
	h_assert_contains "$out" "zstd-was-42" "asciinema cat"
	h_assert_contains "$out" "3000" "asciinema cat, last line"
	out=$(script -qec "asciinema play -i 0.1 -s 100 $H_DIR/export.cast" /dev/null 2>&1) || h_fail "asciinema play failed: $out"
	h_assert_contains "$out" "zstd-was-42" "asciinema play"
	# By path too, to standard output: the target's escape sequences as JSON escapes, no raw ESC
	# to act on the terminal.
	ctl recording export --asciicast "$ZST" 2>/dev/null | cmp -s - "$H_DIR/export.cast" || h_fail "export by path differs"
	grep -q $'\x1b' "$H_DIR/export.cast" && h_fail "a raw ESC in the export"
	grep -qiF '\u001b[1mbold-esc' "$H_DIR/export.cast" || h_fail "the escape sequence is not in the export"
}

test_bundle_carries_it() {
	local out from to player
	from=$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ) to=$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)
	# What is checked here is the recording in the bundle, not the web player (which
	# test_evidence_bundle plays): stand-in player files when web/ has none installed.
	player=$H_SRC/web/node_modules/asciinema-player
	if [[ ! -f $player/dist/bundle/asciinema-player.min.js ]]; then
		player=$H_DIR/player
		mkdir -p "$player/dist/bundle"
		touch "$player/dist/bundle/asciinema-player.min.js" "$player/dist/bundle/asciinema-player.css" \
			"$player/LICENSE"
	fi
	out=$(ctl evidence export --vendor acme --from "$from" --to "$to" --player "$player" -o "$H_DIR/bundle" 2>&1) ||
		h_fail "evidence export: $out"
	[[ -f $H_DIR/bundle/recordings/$ID.0.cast.zst ]] || h_fail "bundle lacks $ID.0.cast.zst"
	grep -q 'zstd-was-42' "$H_DIR"/bundle/sessions/*.html || h_fail "the session page lacks the output"
	out=$(ctl evidence verify "$H_DIR/bundle" --key "$KEYPUB" 2>&1) || h_fail "evidence verify: $out"
	h_assert_match "$out" "$ID\.0\.cast\.zst: intact" "bundle verdict"
}

test_altered_byte_is_reported() {
	local out size
	mkdir -p "$H_DIR/altered"
	cp "$ZST" "$H_DIR/altered/last.cast.zst"
	cp "$ZST" "$H_DIR/altered/middle.cast.zst"
	cp "$ZST" "$H_DIR/altered/cut.cast.zst"
	size=$(stat -c %s "$ZST")
	# The frame's checksum (last byte), a byte in the middle, and the file cut in half.
	printf '\x55' | dd of="$H_DIR/altered/last.cast.zst" bs=1 seek=$((size - 1)) conv=notrunc 2>/dev/null
	python3 -c 'import sys; p=sys.argv[1]; b=bytearray(open(p,"rb").read()); b[len(b)//2]^=0x10; open(p,"wb").write(b)' \
		"$H_DIR/altered/middle.cast.zst"
	truncate -s $((size / 2)) "$H_DIR/altered/cut.cast.zst"
	cmp -s "$ZST" "$H_DIR/altered/last.cast.zst" && h_fail "the last byte was already 0x55"
	out=$(ctl recording verify "$H_DIR/altered/last.cast.zst") && h_fail "an altered checksum verifies: $out"
	h_assert_contains "$out" "tampered at record" "altered checksum"
	out=$(ctl recording verify "$H_DIR/altered/middle.cast.zst") && h_fail "an altered byte verifies: $out"
	h_assert_match "$out" "(tampered|truncated)" "altered byte"
	out=$(ctl recording verify "$H_DIR/altered/cut.cast.zst") && h_fail "a cut file verifies: $out"
	h_assert_match "$out" "truncated|tampered" "cut file"
	# Readers say so and do not crash.
	ctl transcript "$H_DIR/altered/middle.cast.zst" >/dev/null 2>&1
	(($? < 128)) || h_fail "transcript crashed on the altered file"
	out=$(ctl history --dir "$H_DIR/altered" --key "$KEYPUB")
	h_assert_not_contains "$out" "intact" "history of altered files"
}

test_live_recording_stays_plain() {
	local live out
	gw_ssh "$GW_DEST" 'echo live-one; sleep 3; echo done' </dev/null >/dev/null &
	live_plain() { live=$(grep -l 'live-one' "$GW_RECORDINGS"/*.cast 2>/dev/null | head -n 1); [[ -n $live ]]; }
	h_wait_for 20 live_plain || h_fail "no plain recording while the session runs"
	[[ -e $live.zst ]] && h_fail "compressed while live"
	out=$(ctl recording verify "$live")
	h_assert_contains "$out" "live" "the live verdict"
	wait
	h_wait_for 20 packed "$(basename "$live" .0.cast)" || h_fail "not compressed after its end"
}

test_killed_session_stays_plain() {
	local victim cast out id
	es_start k || h_fail "session k did not start"
	es_echo k "hello-k" 30 || h_fail "session k does not echo: $(es_out k)"
	cast=$(es_cast k) || h_fail "no recording of k"
	checkpointed() { grep -q ',"h",' "$cast"; }
	h_wait_for 20 checkpointed || h_fail "no checkpoint in $cast"
	victim=$(es_gateway_pid k)
	[[ $victim =~ ^[0-9]+$ ]] || h_fail "session process of k: [$victim]"
	kill -9 "$victim" || h_fail "kill -9 $victim"
	es_wait_exit k 20 || h_fail "the killed session's client did not end"
	id=$(basename "$cast" .0.cast)
	unsealed_logged() { grep -q "\"event\":\"recording_unsealed\".*\"session\":\"$id\"" "$GW_AUDIT"; }
	h_wait_for 20 unsealed_logged || h_fail "no recording_unsealed for $id"
	[[ -f $cast && ! -e $cast.zst ]] || h_fail "the killed session's recording: $(ls "$GW_RECORDINGS")"
	out=$(ctl recording verify "$cast")
	h_assert_contains "$out" "truncated" "the killed session's verdict"
}

test_both_forms_read_as_one() {
	local out
	# A crash after the rename, before the unlink: the plain file is still there.
	zstd -q -dc "$ZST" >"${ZST%.zst}"
	out=$(ctl history --target plc-07)
	grep -q "	intact	[^	]*/$ID\.0\.cast$" <<<"$out" || h_fail "history does not read the plain one: $out"
	h_assert_not_contains "$out" "$ID.0.cast.zst" "history lists the twin"
	out=$(ctl audit verify --recordings "$GW_RECORDINGS" "$GW_AUDIT" 2>&1)
	h_assert_contains "$out" "$ID.0.cast: sealed, as the audit log says" "audit verify reads the plain one"
	h_assert_not_contains "$out" "not named" "audit verify with both forms"
	out=$(gw_console "$AUDITOR_KEY" auditor.ann recording verify "$ID" </dev/null)
	h_assert_contains "$out" ": intact" "console verdict with both forms"
	rm -f "${ZST%.zst}"
}

h_run test_sealed_recording_is_one_zstd_frame_of_the_recording test_verify_says_intact \
	test_readers_read_it test_auditor_console_reads_it test_export_plays_in_stock_asciinema \
	test_bundle_carries_it test_altered_byte_is_reported test_live_recording_stays_plain \
	test_killed_session_stays_plain test_both_forms_read_as_one
