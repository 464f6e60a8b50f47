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

test_channels_capped_and_memory_bounded() {
	local out pid rss hwm last=-1 stable=0 i attack
	h_hostile "$H_SRC/tests/integration/hostile_channels.py" --channels 16 --file "$F/big.bin" \
		--hold 40 >"$H_DIR/hostile.out" 2>&1 &
	attack=$!
	h_wait_for 40 grep -q '^ready' "$H_DIR/hostile.out" || h_fail "the attack did not start: $(cat "$H_DIR/hostile.out")"
	out=$(cat "$H_DIR/hostile.out")
	pid=$(session_pid)
	[[ -n $pid ]] || h_fail "no session process"
	# The buffers fill within seconds: until the high-water mark has not grown for 2 s (at most
	# 8 s, as long as the fixed wait this replaces).
	for ((i = 0; i < 80 && stable < 20; i++)); do
		hwm=$(vm "$pid" VmHWM)
		((hwm == last)) && stable=$((stable + 1)) || stable=0
		last=$hwm
		sleep 0.1
	done
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
test_stalled_reader_memory_bounded() {
	local out=$H_DIR/stalled.out attacker monitor front rec size last=-1 stable=0 hwm i
	h_hostile "$H_SRC/tests/integration/hostile_stalled_reader.py" >"$out" 2>&1 &
	h_wait_for 30 grep -q '^ready' "$out" || h_fail "the attack did not start: $(cat "$out")"
	attacker=$(awk '$1 == "ready" { print $2 }' "$out")
	monitor=$(pgrep -n -P "$(h_pid gatewayd)")
	front=$(pgrep -P "$monitor" | head -1)
	[[ -n $front ]] || h_fail "no vendor-facing process"
	rec=$(ls -t "$GW_RECORDINGS"/*.cast | head -1)
	# Until the target is held back: the recording has not grown for 2 s (30 s at most).
	for ((i = 0; i < 300 && stable < 20; i++)); do
		size=$(stat -c %s "$rec")
		hwm=$(vm "$front" VmHWM)
		[[ -n $hwm ]] || h_fail "the vendor-facing process died under the flood"
		((hwm < FRONT_RSS_BOUND_KB)) || sanitized ||
			h_fail "the vendor-facing process reached $hwm kB, bound $FRONT_RSS_BOUND_KB kB"
		((size == last)) && stable=$((stable + 1)) || stable=0
		last=$size
		sleep 0.1
	done
	h_log "  recording stopped at $size bytes; front VmHWM ${hwm} kB"
	((stable >= 20)) || h_fail "the flood was never held back (recording still growing at $size bytes)"
	kill -CONT "$attacker"
	kill "$attacker"
	wait
}

h_run test_channels_capped_and_memory_bounded test_refusal_told_to_vendor test_stalled_reader_memory_bounded
