#!/bin/bash
# The recording disk is not a weapon: with the recordings on a 30 MB tmpfs, a vendor flooding
# its session with zero bytes (6 bytes each as JSON text) is cut at its max_recording_bytes with
# the reason, while another vendor's session goes on and its evidence verifies intact; below
# recording_min_free free, a new session is refused with a clear message; a session whose
# recording would take the disk below half of it is cut with its recording sealed; a vendor's
# sessions together are held to its quota too.
. "${GW_SRC:-$(dirname "$0")/../..}/tests/lib/harness.sh"
sshd_start plc-07 || exit 1
gw_policy_default
# Vendor "beta" records without a quota of its own (0): only the free space bounds it.
BOB_KEY=$H_DIR/keys/beta.bob
h_keygen "$BOB_KEY" || exit 1
gw_vendor_add beta "$H_ALWAYS max_recording_bytes = 0;"
gw_person_add beta beta.bob "$BOB_KEY.pub"
gw_grant_add beta "plc-07" "shell exec"
QUOTA=8000000
RESERVE=12000000
gw_config_extra "max_recording_bytes = $QUOTA;"
gw_config_extra "recording_min_free = $RESERVE;"
gw_start || exit 1

mount -t tmpfs -o size=30m,mode=0700 tmpfs "$GW_RECORDINGS" 2>"$H_DIR/mount.err" ||
	SKIP_REASON="cannot mount a tmpfs for the recordings: $(cat "$H_DIR/mount.err")"
h_defer "umount -l '$GW_RECORDINGS'"

bob_ssh() { timeout -k 5 "$H_TIMEOUT" ssh "${H_SSH_OPTS[@]}" -i "$BOB_KEY" -p "$GW_PORT" beta.bob+plc-07@127.0.0.1 "$@"; }
free_bytes() { df -B1 --output=avail "$GW_RECORDINGS" | tail -n 1; }
newest_cast_of() { grep -l "\"person\":\"$1\"" "$GW_RECORDINGS"/*.cast | xargs ls -t | head -n 1; }
verify() { "$H_GATEWAYCTL" -f "$GW_CONFIG" recording verify "$1" 2>&1; }
# recorded_at_least TEXT BYTES: the recording whose header holds TEXT has BYTES or more.
recorded_at_least() {
	local f
	f=$(grep -l -- "$1" "$GW_RECORDINGS"/*.cast 2>/dev/null | head -n 1)
	[[ -n $f ]] && (($(stat -c %s "$f") >= $2))
}

# Leaves FREE bytes free on the recordings disk with a filler file (other recordings, say).
fill_to() {
	local free
	free=$(free_bytes)
	((free > $1)) || return 0
	head -c $((free - $1)) /dev/zero >>"$GW_RECORDINGS/filler" || true
}

test_flooding_vendor_is_cut_by_quota_while_another_goes_on() {
	[[ -z ${SKIP_REASON:-} ]] || h_skip "$SKIP_REASON"
	local bob_pid flood rc cast size v
	# Bob's session is live before the flood and goes on after it.
	bob_ssh 'for i in $(seq 1 50); do echo tick $i; sleep 0.1; done' >"$H_DIR/bob.out" 2>&1 &
	bob_pid=$!
	h_wait_for 20 grep -q 'tick 1$' "$H_DIR/bob.out" || h_fail "bob's session did not start"
	flood=$(gw_ssh "$GW_DEST" 'head -c 50000000 /dev/zero' 2>&1 >"$H_DIR/flood.out")
	rc=$?
	((rc != 0)) || h_fail "the flood ended normally (exit 0)"
	h_assert_contains "$flood" "gatewayd: session ended: it reached its recording quota" \
		"what the flooding vendor is told"
	(($(stat -c %s "$H_DIR/flood.out") < 50000000)) || h_fail "the whole flood was relayed"
	wait "$bob_pid" || h_fail "bob's session failed ($?): $(tail -n 3 "$H_DIR/bob.out")"
	h_assert_contains "$(cat "$H_DIR/bob.out")" "tick 50" "bob's session went on to its end"

	cast=$(newest_cast_of acme.alice)
	size=$(stat -c %s "$cast")
	# The quota is checked after each poll round: at most a few MB of overshoot.
	((size < QUOTA + 4000000)) || h_fail "the flood's recording has $size bytes, quota $QUOTA"
	v=$(verify "$cast") || h_fail "the flood's recording: $v"
	h_assert_contains "$v" "intact" "the flood's recording"
	h_assert_contains "$v" "recording quota reached" "the seal's reason"
	grep '"session_cut"' "$GW_AUDIT" | grep '"acme.alice"' | grep -q 'recording quota reached' ||
		h_fail "no session_cut audit event with the quota"
	v=$(verify "$(newest_cast_of beta.bob)") || h_fail "bob's recording: $v"
	h_assert_contains "$v" "intact" "bob's recording"
	h_assert_not_contains "$(grep '"session_cut"' "$GW_AUDIT")" '"beta.bob"' "bob's session cut"
}

test_new_session_is_refused_below_the_reserve() {
	[[ -z ${SKIP_REASON:-} ]] || h_skip "$SKIP_REASON"
	local out
	fill_to $((RESERVE - 2000000))
	out=$(bob_ssh 'echo reached-$((1+1))' 2>&1) && h_fail "a session started: $out"
	rm -f "$GW_RECORDINGS/filler"
	h_assert_contains "$out" "gatewayd: session refused: the gateway cannot record: recording disk full" \
		"what the vendor is told"
	h_assert_not_contains "$out" "reached-2" "the command ran"
	grep '"session_refused"' "$GW_AUDIT" | grep '"beta.bob"' | grep '"recording_disk_full"' |
		grep -q "below recording_min_free $RESERVE" || h_fail "no session_refused audit event"
	out=$(bob_ssh 'echo reached-$((1+1))' 2>&1)
	h_assert_contains "$out" "reached-2" "a session once the space is back"
}

test_session_below_the_floor_is_cut_with_its_recording_sealed() {
	[[ -z ${SKIP_REASON:-} ]] || h_skip "$SKIP_REASON"
	local out v
	fill_to $((RESERVE + 3000000))
	out=$(bob_ssh 'head -c 50000000 /dev/zero' 2>&1 >/dev/null) && h_fail "the flood ended normally"
	h_assert_contains "$out" "gatewayd: session ended: the gateway cannot record: recording disk full" \
		"what the vendor is told"
	v=$(verify "$(newest_cast_of beta.bob)") || h_fail "the recording: $v"
	rm -f "$GW_RECORDINGS/filler"
	h_assert_contains "$v" "intact" "the recording cut at the floor"
	h_assert_contains "$v" "recording disk full" "the seal's reason"
	grep '"session_cut"' "$GW_AUDIT" | grep '"beta.bob"' | grep -q 'recording disk full' ||
		h_fail "no session_cut audit event"
}

# Two sessions of one vendor, each below the quota, together above it: the listener orders the
# larger one to end (it learns the sizes every 2 s), the other goes on.
test_vendor_sessions_together_are_held_to_the_quota() {
	[[ -z ${SKIP_REASON:-} ]] || h_skip "$SKIP_REASON"
	local p1 p2 cast v
	rm -f "$GW_RECORDINGS"/*.cast
	gw_ssh "$GW_DEST" 'head -c 4000000 /dev/zero; sleep 15; echo done-$((0+1))' \
		>"$H_DIR/a1.out" 2>"$H_DIR/a1.err" &
	p1=$!
	h_wait_for 20 recorded_at_least 'done-\$((0+1))' 5000000 || h_fail "the first session did not record 5 MB"
	gw_ssh "$GW_DEST" 'head -c 2500000 /dev/zero; sleep 8; echo done-$((1+1))' \
		>"$H_DIR/a2.out" 2>"$H_DIR/a2.err" &
	p2=$!
	wait "$p1" && h_fail "the larger session ran to its end"
	h_assert_contains "$(cat "$H_DIR/a1.err")" \
		"gatewayd: session ended: your vendor's sessions reached their recording quota ($QUOTA bytes)" \
		"what the larger session is told"
	grep -q "done-1" "$H_DIR/a1.out" && h_fail "the larger session's last output arrived"
	wait "$p2" || h_fail "the smaller session failed: $(cat "$H_DIR/a2.err")"
	grep -q "done-2" "$H_DIR/a2.out" || h_fail "the smaller session did not go on to its end"
	cast=$(grep -l 'done-\$((0+1))' "$GW_RECORDINGS"/*.cast)
	v=$(verify "$cast") || h_fail "the larger session's recording: $v"
	h_assert_contains "$v" "vendor recording quota reached" "the seal's reason"
	grep '"session_cut"' "$GW_AUDIT" | grep -q 'vendor recording quota reached (.* by 2 sessions of acme' ||
		h_fail "no session_cut audit event with the vendor's quota"
}

h_run test_flooding_vendor_is_cut_by_quota_while_another_goes_on \
	test_new_session_is_refused_below_the_reserve \
	test_session_below_the_floor_is_cut_with_its_recording_sealed \
	test_vendor_sessions_together_are_held_to_the_quota
