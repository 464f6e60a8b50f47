#!/bin/bash
# Several channels at once: a channel opened (and its command requested) while the gateway is
# writing another channel's output to the vendor is relayed like any other, never refused
# (tests/integration/hostile_busy_channels.py: one channel prints without end, read as fast as it
# comes, while 20 exec channels open one after another; and stock ssh's ControlMaster beside a
# busy channel).
. "${GW_SRC:-$(dirname "$0")/../..}/tests/lib/harness.sh"
h_setup || exit 1

test_channels_open_while_output_flows() {
	local out rc
	h_hostile "$H_SRC/tests/integration/hostile_busy_channels.py" --channels 20 \
		>"$H_DIR/channels.out" 2>"$H_DIR/channels.err"
	rc=$?
	out=$(cat "$H_DIR/channels.out")
	((rc == 0)) || h_fail "hostile client failed (exit $rc) after $(grep -c '^channel' <<<"$out") channels: \
$(grep -v ' ok$' <<<"$out" | head -n 5) $(tail -n 3 "$H_DIR/channels.err")"
	h_log "    $(grep -E '^(printed|summary)' <<<"$out" | tr '\n' ' ')"
	grep -v ' ok$' <<<"$out" | grep '^channel' | head -n 5 | sed 's/^/    /' >&2
	h_assert_contains "$out" "busy_throughout yes" "the printing channel ran all along"
	h_assert_contains "$out" "summary opened 20 ok 20 refused_open 0 refused_request 0 failed 0" \
		"channels opened while output flowed"
	grep -q '"event":"channel_start"' "$GW_AUDIT" || h_fail "no channel_start event"
}

# Stock ssh: a master connection, one client printing through it, others opening beside it.
test_control_master_beside_a_busy_channel() {
	local sock=$H_DIR/cm.sock i rc out printer bad=0
	gw_ssh -o ControlMaster=yes -o ControlPath="$sock" -o ControlPersist=no -N -f "$GW_DEST" ||
		h_fail "control master did not start"
	h_defer "ssh -o ControlPath='$sock' -O exit x 2>/dev/null"
	gw_ssh -o ControlPath="$sock" "$GW_DEST" yes >/dev/null &
	printer=$!
	for ((i = 0; i < 20; i++)); do
		out=$(gw_ssh -o ControlPath="$sock" "$GW_DEST" "echo cm-$i" 2>&1)
		rc=$?
		[[ $rc == 0 && $out == "cm-$i" ]] || { bad=$((bad + 1)); h_log "    cm-$i: rc $rc: $out"; }
	done
	kill -0 "$printer" 2>/dev/null || h_fail "the printing client ended before the others"
	h_kill_job "$printer"
	h_assert_eq 0 "$bad" "ControlMaster clients refused beside a busy channel"
}

h_run test_channels_open_while_output_flows test_control_master_beside_a_busy_channel
