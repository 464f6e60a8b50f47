#!/bin/bash
# Caps on what one connection may hold (issue 13, item 3): a connection may have at most
# max_channels channels (default 10; a vendor may have its own), more are refused; a vendor
# that opens SFTP channels and never reads the answers to its READs cannot make its session
# process hold more than the documented bound (docs/limits.md: 64 MiB at 10 channels).
. "${GW_SRC:-$(dirname "$0")/../..}/tests/lib/harness.sh"
sshd_start plc-07 || exit 1
GW_ALLOW="shell exec upload download" gw_policy_default
gw_start || exit 1
F=$H_DIR/files
mkdir -p -m 0755 "$F"
head -c $((16 * 1024 * 1024)) /dev/urandom >"$F/big.bin"
RSS_BOUND_KB=$((64 * 1024))

# session_pid: the per-connection process (the listener's only child).
session_pid() { pgrep -P "$(h_pid gatewayd)" | head -1; }
vm() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
# AddressSanitizer's shadow memory and quarantine make RSS meaningless: no memory bound there.
sanitized() { grep -q __asan_init "$H_GATEWAYD"; }

# settled PID FIELD: true once PID's /proc status FIELD (kB) has not changed over the last 20
# calls (2 s of h_wait_for's polling); the last value in LAST, the unchanged calls in STABLE.
settled() {
	local v
	v=$(vm "$1" "$2")
	((v == LAST)) && STABLE=$((STABLE + 1)) || STABLE=0
	LAST=$v
	((STABLE >= 20))
}

test_channels_capped_and_memory_bounded() {
	local out pid rss hwm attack LAST=-1 STABLE=0
	h_hostile "$H_SRC/tests/integration/hostile_channels.py" --channels 16 --file "$F/big.bin" \
		--hold 40 >"$H_DIR/hostile.out" 2>&1 &
	attack=$!
	h_wait_for 40 grep -q '^ready' "$H_DIR/hostile.out" || h_fail "the attack did not start: $(cat "$H_DIR/hostile.out")"
	out=$(cat "$H_DIR/hostile.out")
	pid=$(session_pid)
	[[ -n $pid ]] || h_fail "no session process"
	# The buffers fill within seconds: until the high-water mark has not grown for 2 s (at most
	# 8 s; the peak is measured either way).
	h_wait_for 8 settled "$pid" VmHWM || h_log "  VmHWM still growing after 8 s"
	rss=$(vm "$pid" VmRSS)
	hwm=$(vm "$pid" VmHWM)
	h_log "  $(echo "$out" | tr '\n' ';') session process VmRSS ${rss} kB, VmHWM ${hwm} kB"
	h_assert_contains "$out" "opened 10" "channels opened"
	h_assert_contains "$out" "refused 6" "channels refused"
	if sanitized; then
		h_log "  sanitizer build: memory bound not checked"
	else
		((hwm < RSS_BOUND_KB)) || h_fail "session process peaked at $hwm kB, bound $RSS_BOUND_KB kB"
	fi
	h_wait_for 10 grep -q '"reason":"max_channels' "$GW_AUDIT" || h_fail "no channel_refused audit event"
	h_kill_job "$attack"
}

# The vendor whose channel was refused reads why on the channels it has.
test_refusal_told_to_vendor() {
	local out
	out=$(h_hostile "$H_SRC/tests/integration/hostile_channels.py" --channels 11 --reads 0 \
		--file "$F/big.bin" --hold 0 2>&1)
	h_assert_contains "$out" "refused 1" "the 11th channel"
	h_assert_contains "$out" "told gatewayd: a channel was refused: this connection has max_channels open" \
		"what the vendor reads"
}

# A vendor that advertises the largest window SSH allows while the target floods, then stops
# reading its TCP socket: the vendor-facing process stops writing once the kernel's buffer is
# full, its queue stays within the link's window, and the target is held back, so the flood
# stops (docs/limits.md: the front holds at most FRONT_RSS_BOUND_KB for such a channel).
FRONT_RSS_BOUND_KB=$((16 * 1024))
# held_back REC FRONT: the recording REC has not grown over the last 20 calls (2 s of
# h_wait_for's polling), size in SIZE; ends the test if the vendor-facing process FRONT died or
# went past its memory bound meanwhile (its VmHWM in HWM).
held_back() {
	local size
	size=$(stat -c %s "$1")
	HWM=$(vm "$2" VmHWM)
	[[ -n $HWM ]] || h_fail "the vendor-facing process died under the flood"
	((HWM < FRONT_RSS_BOUND_KB)) || sanitized ||
		h_fail "the vendor-facing process reached $HWM kB, bound $FRONT_RSS_BOUND_KB kB"
	((size == SIZE)) && STABLE=$((STABLE + 1)) || STABLE=0
	SIZE=$size
	((STABLE >= 20))
}

test_stalled_reader_memory_bounded() {
	local out=$H_DIR/stalled.out attacker monitor front rec SIZE=-1 STABLE=0 HWM
	h_hostile "$H_SRC/tests/integration/hostile_stalled_reader.py" >"$out" 2>&1 &
	h_wait_for 30 grep -q '^ready' "$out" || h_fail "the attack did not start: $(cat "$out")"
	attacker=$(awk '$1 == "ready" { print $2 }' "$out")
	monitor=$(pgrep -n -P "$(h_pid gatewayd)")
	front=$(pgrep -P "$monitor" | head -1)
	[[ -n $front ]] || h_fail "no vendor-facing process"
	rec=$(ls -t "$GW_RECORDINGS"/*.cast | head -1)
	# Until the target is held back: the recording has not grown for 2 s (30 s at most).
	h_wait_for 30 held_back "$rec" "$front" ||
		h_fail "the flood was never held back (recording still growing at $SIZE bytes)"
	h_log "  recording stopped at $SIZE bytes; front VmHWM ${HWM} kB"
	kill -CONT "$attacker"
	kill "$attacker"
	wait
}

h_run test_channels_capped_and_memory_bounded test_refusal_told_to_vendor test_stalled_reader_memory_bounded
