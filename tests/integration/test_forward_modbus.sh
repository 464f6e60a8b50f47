#!/bin/bash
# Port forwarding to OT devices (issue 18): a pymodbus PLC (rtu-11, a device without SSH) reached
# through `ssh -N -L` via the gateway with a real pymodbus client; each forwarded connection is a
# pcapng that tshark dissects as Modbus and `gatewayctl recording verify` checks; destinations the
# grant does not list, hosts that are no target and targets without their own ticket are refused;
# a revocation cuts a live tunnel within a second; OpenSSH and dropbear targets' ports forward too.
. "${GW_SRC:-$(dirname "$0")/../..}/tests/lib/harness.sh"
command -v tshark >/dev/null || { echo "tshark is not installed"; exit 1; }

sshd_start plc-07 || exit 1
h_free_port MB_PORT || exit 1
h_free_port MB_OTHER || exit 1
h_spawn plc "$H_DIR/plc.log" /usr/bin/python3 "$H_SRC/tests/integration/modbus_plc.py" "$MB_PORT"
h_wait_port "$MB_PORT" "$H_LAST_PID" || { cat "$H_DIR/plc.log"; exit 1; }
gw_vendor_add acme
gw_person_add acme acme.alice "$VENDOR_KEY.pub"
gw_target_add plc-07 "${H_PORT[plc-07]}" "${H_FP[plc-07]}"
gw_device_add rtu-11
gw_grant_add acme "rtu-11" "shell" "rtu-11:$MB_PORT"                   # ticket harness-0
gw_grant_add acme "plc-07" "shell exec" "plc-07:${H_PORT[plc-07]}"     # ticket harness-1
# A device the grant lists for forwarding, but no ticket approves: its own approval is needed.
gw_device_add rtu-12
GW_GRANT_NO_TICKET=1 gw_grant_add acme "rtu-12" "shell" "rtu-12:$MB_PORT"
# A vendor whose recordings may hold 2 MB: a bulk stream through its tunnel meets the quota.
h_free_port SINK || exit 1
h_spawn sink "$H_DIR/sink.log" /usr/bin/python3 "$H_SRC/bench/forward/tcp_bulk.py" serve "$SINK"
h_wait_port "$SINK" "$H_LAST_PID" || exit 1
h_keygen "$H_DIR/bulk_key" || exit 1
gw_vendor_add bulk "$H_ALWAYS max_recording_bytes = 2000000;"
gw_person_add bulk bulk.bob "$H_DIR/bulk_key.pub"
gw_device_add sink
gw_grant_add bulk "sink" "" "sink:$SINK"
DROPBEAR=0
if dropbear_start ews-01; then
	DROPBEAR=1
	gw_target_add ews-01 "${H_PORT[ews-01]}" "${H_FP[ews-01]}"
	gw_grant_add acme "ews-01" "shell" "ews-01:${H_PORT[ews-01]}"
fi
gw_start || exit 1
RTU=acme.alice+rtu-11@127.0.0.1

# tunnel_start NAME LOCAL-PORT-VAR SPEC [LOGIN]: `ssh -N -L PORT:SPEC` in the background, until
# the local port accepts.
tunnel_start() {
	local name=$1 spec=$3 login=${4:-$RTU}
	local -n _lport=$2
	h_free_port _lport || return 1
	h_spawn "$name" "$H_DIR/$name.log" ssh "${H_SSH_OPTS[@]}" -i "$VENDOR_KEY" -p "$GW_PORT" \
		-N -o ExitOnForwardFailure=yes -L "$_lport:$spec" "$login"
	h_wait_port "$_lport" "$H_LAST_PID" || { cat "$H_DIR/$name.log" >&2; return 1; }
}

# pcap_of CHANNEL-GLOB: the newest pcapng recording.
newest_pcap() { ls -1t "$GW_RECORDINGS"/*.pcapng 2>/dev/null | head -n 1; }
pcap_count() { ls -1 "$GW_RECORDINGS"/*.pcapng 2>/dev/null | wc -l; }
audit_has() { grep -q "$1" "$GW_AUDIT"; }

test_modbus_write_and_read_through_tunnel() {
	local lport out pcap fields before
	before=$(pcap_count)
	tunnel_start t1 lport "rtu-11:$MB_PORT" || h_fail "tunnel did not start"
	/usr/bin/python3 "$H_SRC/tests/integration/modbus_client.py" "$lport" write 11 22 33 ||
		h_fail "modbus write through the tunnel failed"
	out=$(/usr/bin/python3 "$H_SRC/tests/integration/modbus_client.py" "$lport" read 3) ||
		h_fail "modbus read through the tunnel failed"
	h_assert_eq "11 22 33" "$out" "holding registers read back through the gateway"
	h_stop t1
	# Each connection its own pcapng, sealed once the vendor left: the probe of tunnel_start,
	# the write, the read.
	h_wait_for 10 bash -c "(( \$(ls -1 '$GW_RECORDINGS'/*.pcapng | wc -l) == $before + 3 ))" ||
		h_fail "expected three new pcapng recordings"
	h_wait_for 10 bash -c "grep -c '\"event\":\"tunnel_close\"' '$GW_AUDIT' | grep -qx 3" ||
		h_fail "no tunnel_close events"
	for pcap in $(ls -1t "$GW_RECORDINGS"/*.pcapng | head -n 2); do
		out=$(ctl recording verify "$pcap" 2>&1) || h_fail "verify $pcap: $out"
		h_assert_contains "$out" "intact" "verify of $pcap"
		# No malformed frames, no TCP analysis complaints: what an assessor's Wireshark shows.
		out=$(tshark -r "$pcap" -Y '_ws.malformed || _ws.expert.severity >= warning' 2>/dev/null)
		h_assert_eq "" "$out" "tshark warnings in $pcap"
	done
	fields=$(for pcap in $(ls -1t "$GW_RECORDINGS"/*.pcapng | head -n 2); do
		# The PLC listens on a free test port, not 502: tshark is told it speaks Modbus/TCP.
		tshark -r "$pcap" -o "mbtcp.tcp.port:$MB_PORT" -Y modbus -T fields \
			-e modbus.func_code -e modbus.regval_uint16 2>/dev/null
	done)
	h_assert_match "$fields" $'16\t' "tshark sees Write Multiple Registers (16)"
	h_assert_match "$fields" $'3\t11,22,33' "tshark sees Read Holding Registers (3) answered 11,22,33"
	audit_has '"event":"tunnel_open".*"destination":"rtu-11:'"$MB_PORT"'"' ||
		h_fail "no tunnel_open event naming the destination"
	audit_has '"event":"tunnel_close".*"bytes_to_destination":[1-9]' ||
		h_fail "tunnel_close without the bytes sent"
}

# The auditor's lists show the tunnels beside the channels: history, the report, the bundle.
test_tunnels_in_history_report_and_export() {
	local out dir=$H_DIR/bundle
	out=$(ctl history --vendor acme 2>&1) || h_fail "history: $out"
	h_assert_match "$out" $'\tforward\tacme\tacme.alice\t-@rtu-11\tharness-0\t[^\t]*\tforward rtu-11:'"$MB_PORT" \
		"history's row of a tunnel"
	h_assert_match "$out" $'\tintact\t[^\t]*\\.pcapng' "history's verdict of a tunnel"
	out=$(ctl report --vendor acme --format json 2>&1) || h_fail "report: $out"
	h_assert_contains "$out" "\"command\": \"forward rtu-11:$MB_PORT\"" "the report's row of a tunnel"
	out=$(ctl evidence export --vendor acme --from "$(date -u +%F)" --to "$(date -u -d tomorrow +%F)" \
		-o "$dir" 2>&1) || h_fail "export: $out"
	ls "$dir"/recordings/*.pcapng >/dev/null 2>&1 || h_fail "the bundle holds no pcapng"
	grep -l 'id="tunnel"' "$dir"/sessions/*.pcapng.html >/dev/null ||
		h_fail "no page for a tunnel in the bundle"
	out=$(ctl evidence verify "$dir" 2>&1) || h_fail "the bundle does not verify: $out"
	h_assert_match "$out" "pcapng: intact" "the bundle's verdict of a tunnel"
}

# ssh -D: a SOCKS client reaches the granted destination by name, and nothing else.
test_dynamic_forward_only_to_granted() {
	local lport out
	h_free_port lport
	h_spawn socks "$H_DIR/socks.log" ssh "${H_SSH_OPTS[@]}" -i "$VENDOR_KEY" -p "$GW_PORT" \
		-N -D "$lport" "$RTU"
	h_wait_port "$lport" "$H_LAST_PID" || h_fail "ssh -D did not listen: $(cat "$H_DIR/socks.log")"
	out=$(/usr/bin/python3 "$H_SRC/tests/integration/socks_modbus.py" "$lport" rtu-11 "$MB_PORT")
	h_assert_eq "11 22 33" "$out" "registers read through SOCKS"
	out=$(/usr/bin/python3 "$H_SRC/tests/integration/socks_modbus.py" "$lport" rtu-11 "$MB_OTHER")
	# OpenSSH closes the SOCKS connection without a reply when the channel open fails.
	h_assert_match "$out" "^refused" "an ungranted port through SOCKS"
	h_stop socks
}

test_altered_byte_reported_as_tampered() {
	local pcap copy out size
	pcap=$(newest_pcap)
	[[ -n $pcap ]] || h_fail "no pcapng recording to alter"
	copy=$H_DIR/altered.pcapng
	cp "$pcap" "$copy"
	size=$(stat -c %s "$copy")
	# A byte in the middle of the packet data: inside an Enhanced Packet Block.
	printf '\x5a' | dd of="$copy" bs=1 seek=$((size / 2)) conv=notrunc status=none
	out=$(ctl recording verify "$copy" 2>&1)
	[[ $? != 0 ]] || h_fail "verify accepted an altered pcapng: $out"
	h_assert_contains "$out" "tampered" "verdict on one altered byte"
}

test_ungranted_port_refused() {
	local out
	out=$(gw_ssh -W "rtu-11:$MB_OTHER" "$RTU" </dev/null 2>&1)
	[[ $? != 0 ]] || h_fail "a port the grant does not list was forwarded"
	h_assert_contains "$out" "forwarding failed" "client's refusal"
	h_wait_for 5 audit_has '"event":"forward_refused".*"reason":"forward_not_granted"' ||
		h_fail "no forward_refused audit event"
}

test_host_that_is_no_target_refused() {
	local out
	out=$(gw_ssh -W "127.0.0.1:$MB_PORT" "$RTU" </dev/null 2>&1)
	[[ $? != 0 ]] || h_fail "an address that is no target was forwarded"
	h_assert_contains "$out" "forwarding failed" "client's refusal"
	h_wait_for 5 audit_has '"destination":"127.0.0.1:'"$MB_PORT"'","reason":"unknown_target"' ||
		h_fail "no forward_refused event for an unregistered host"
}

test_other_target_needs_its_own_ticket() {
	local out
	out=$(gw_ssh -W "rtu-12:$MB_PORT" "$RTU" </dev/null 2>&1)
	[[ $? != 0 ]] || h_fail "rtu-12 was reached without a ticket for it"
	h_wait_for 5 audit_has '"destination":"rtu-12:'"$MB_PORT"'","reason":"no_ticket"' ||
		h_fail "no forward_refused event naming the missing ticket"
}

# A scripted client opening refused tunnels in a loop, then granted ones past the channel cap:
# every refusal holds, the audit log gets a sample of them, the cap holds, the session works on.
test_hostile_tunnel_flood() {
	local out n
	out=$(h_hostile "$H_SRC/tests/integration/hostile_tunnels.py" --user acme.alice+rtu-11 \
		--denied "plc-07:$MB_OTHER" --granted "rtu-11:$MB_PORT" --refused 200) ||
		h_fail "hostile client failed: $out"
	h_assert_contains "$out" "refused 200" "every ungranted open refused"
	h_assert_contains "$out" "opened 10" "tunnels held up to max_channels (10)"
	h_assert_match "$out" "answer [0-9]+ [0-9]+ [0-9]+" "a Modbus read after the flood"
	# 1st, 10th, 100th refusal of the connection: 3 lines for 200 refusals.
	n=$(grep '"event":"forward_refused"' "$GW_AUDIT" |
		grep -c '"destination":"plc-07:'"$MB_OTHER"'".*"refused":\(1\|10\|100\)[,}]')
	h_assert_eq 3 "$n" "forward_refused lines of the flood in the audit log"
}

# The pcapng counts towards the recording quota like a .cast: past it the session is cut, the
# tunnel's device connection closed first, and its pcapng sealed and intact.
test_tunnel_meets_recording_quota() {
	local lport out pcap
	h_free_port lport
	h_spawn t3 "$H_DIR/t3.log" ssh "${H_SSH_OPTS[@]}" -i "$H_DIR/bulk_key" -p "$GW_PORT" \
		-N -L "$lport:sink:$SINK" bulk.bob+sink@127.0.0.1
	h_wait_port "$lport" "$H_LAST_PID" || h_fail "tunnel did not start: $(cat "$H_DIR/t3.log")"
	out=$(timeout 60 /usr/bin/python3 "$H_SRC/bench/forward/tcp_bulk.py" down "$lport" 50 2>&1)
	[[ $? != 0 ]] || h_fail "50 MiB passed a 2 MB recording quota: $out"
	h_wait_for 10 audit_has '"event":"tunnel_close".*"reason":"recording quota reached' ||
		h_fail "no tunnel_close naming the quota"
	pcap=$(grep -o '"event":"tunnel_open".*"destination":"sink:[0-9]*".*' "$GW_AUDIT" |
		grep -o '"recording":"[^"]*"' | tail -n 1 | cut -d'"' -f4)
	out=$(ctl recording verify "$pcap" 2>&1) || h_fail "verify $pcap: $out"
	h_assert_contains "$out" "intact" "the quota's tunnel recording"
	# The quota is checked between chunks of 64 KiB: a few of them over it at most.
	(($(stat -c %s "$pcap") < 2500000)) || h_fail "the pcapng grew to $(stat -c %s "$pcap") bytes"
	h_stop t3
}

# No pcapng, no tunnel: with recording_dir unusable, a connection through a tunnel of a session
# admitted before never carries a byte to the device, and the session ends (fail closed).
test_tunnel_without_recording_fails_closed() {
	local lport real=$GW_RECORDINGS.real rc=0 out
	tunnel_start t4 lport "rtu-11:$MB_PORT" || h_fail "tunnel did not start"
	mv "$GW_RECORDINGS" "$real" && : >"$GW_RECORDINGS" || h_fail "cannot replace recording_dir"
	/usr/bin/python3 "$H_SRC/tests/integration/modbus_client.py" "$lport" write 77 88 99 \
		>/dev/null 2>&1 && rc=1
	rm -f "$GW_RECORDINGS"
	mv "$real" "$GW_RECORDINGS"
	((rc == 0)) || h_fail "a Modbus write went through without a recording"
	out=$(/usr/bin/python3 "$H_SRC/tests/integration/modbus_client.py" "$MB_PORT" read 3)
	h_assert_not_contains "$out" "77 88 99" "the PLC's registers, read directly"
	h_wait_for 5 audit_has '"event":"recorder_failure".*"cannot create the recording of a tunnel"' ||
		h_fail "no recorder_failure event"
	h_wait_for 5 bash -c "! kill -0 $(h_pid t4) 2>/dev/null" || h_fail "the session outlived its evidence"
	h_stop t4
}

test_remote_agent_and_x11_forwarding_refused() {
	local out port
	h_free_port port
	out=$(gw_ssh -N -o ExitOnForwardFailure=yes -R "$port:127.0.0.1:$MB_PORT" "$RTU" </dev/null 2>&1)
	[[ $? != 0 ]] || h_fail "remote forwarding was granted"
	h_assert_contains "$out" "remote port forwarding failed" "ssh -R"
	# Agent and X11 forwarding asked for on a session to plc-07: the target sees neither.
	eval "$(ssh-agent -s)" >/dev/null
	h_defer "kill $SSH_AGENT_PID"
	out=$(DISPLAY=:0 gw_ssh -A -o ForwardX11=yes acme.alice+plc-07@127.0.0.1 \
		'echo agent=${SSH_AUTH_SOCK:-none} display=${DISPLAY:-none}' </dev/null 2>/dev/null)
	h_assert_eq "agent=none display=none" "$out" "agent and X11 forwarding on the target"
}

test_device_takes_no_shell() {
	local out
	out=$(gw_ssh "$RTU" true 2>&1)
	[[ $? != 0 ]] || h_fail "a command ran on a device without SSH"
	h_assert_contains "$out" "rtu-11 has no SSH service; it is reached by forwarding only" \
		"what the vendor reads"
	h_assert_contains "$(ctl config targets)" $'rtu-11\t127.0.0.1\tforwarding only' \
		"the owner's list of targets"
}

test_forward_to_openssh_and_dropbear_targets() {
	local out
	out=$(gw_ssh -W "plc-07:${H_PORT[plc-07]}" "$RTU" </dev/null 2>/dev/null | head -c 64 | tr -d '\0')
	h_assert_contains "$out" "SSH-2.0-OpenSSH" "the OpenSSH target's banner through the tunnel"
	((DROPBEAR == 1)) || h_skip "dropbear target not available (needs root and unshare)"
	out=$(gw_ssh -W "ews-01:${H_PORT[ews-01]}" "acme.alice+ews-01@127.0.0.1" </dev/null \
		2>/dev/null | head -c 64 | tr -d '\0')
	h_assert_contains "$out" "SSH-2.0-dropbear" "the dropbear target's banner through the tunnel"
}

# A session to plc-07 (ticket harness-1) with a tunnel to rtu-11 (ticket harness-0): revoking
# rtu-11's ticket ends the tunnel within a second and leaves the session.
tunnel_listed() {
	ctl sessions --json | /usr/bin/python3 -c 'import json,sys
sys.exit(0 if any(s["target"] == "plc-07" and s["tunnels"] == 1 and s["packets"] > 0 for s in json.load(sys.stdin)) else 1)'
}

test_revocation_cuts_live_tunnel_within_a_second() {
	local lport t0 closed pcap last id out
	tunnel_start t2 lport "rtu-11:$MB_PORT" "acme.alice+plc-07@127.0.0.1" ||
		h_fail "tunnel did not start"
	h_spawn poll "$H_DIR/poll.log" /usr/bin/python3 -u \
		"$H_SRC/tests/integration/modbus_client.py" "$lport" poll
	h_wait_for 10 grep -q '^ok 5$' "$H_DIR/poll.log" || h_fail "polling did not start"
	# The owner sees the tunnel: listed with its packets, and counted live by watch.
	h_wait_for 10 tunnel_listed || h_fail "sessions does not list the open tunnel: $(ctl sessions --json)"
	id=$(ctl sessions --json | /usr/bin/python3 -c 'import json,sys; print([s["id"] for s in json.load(sys.stdin) if s["target"] == "plc-07"][0])')
	out=$(timeout 6 "$H_GATEWAYCTL" -f "$GW_CONFIG" watch "$id" 2>&1 </dev/null |
		grep -m 1 "tunnels open")
	h_assert_match "$out" "tunnels open: 1, packets recorded: [1-9]" "watch of a session with a tunnel"
	t0=$(date +%s.%N)
	ctl ticket revoke harness-0 --reason "work cancelled" >/dev/null || h_fail "revoke failed"
	h_wait_for 5 grep -q '^closed ' "$H_DIR/poll.log" || h_fail "the tunnel outlived the revocation"
	closed=$(awk '/^closed / { print $2 }' "$H_DIR/poll.log")
	awk -v a="$t0" -v b="$closed" 'BEGIN { exit !(b - a <= 1.0) }' ||
		h_fail "cut took $(awk -v a="$t0" -v b="$closed" 'BEGIN { print b - a }') s"
	h_wait_for 10 audit_has '"event":"tunnel_close".*"reason":"access withdrawn: ticket harness-0' ||
		h_fail "no tunnel_close naming the withdrawal"
	kill -0 "$(h_pid t2)" 2>/dev/null || h_fail "the session to plc-07 ended with the tunnel"
	pcap=$(newest_pcap)
	# Nothing forwarded after the cut: the last data segment is before the client saw the end.
	last=$(tshark -r "$pcap" -Y 'tcp.len > 0' -T fields -e frame.time_epoch 2>/dev/null | tail -n 1)
	awk -v l="$last" -v b="$closed" 'BEGIN { exit !(l <= b) }' ||
		h_fail "data recorded at $last, after the cut at $closed"
	h_stop poll
	h_stop t2
}

h_run test_modbus_write_and_read_through_tunnel test_tunnels_in_history_report_and_export \
	test_dynamic_forward_only_to_granted \
	test_altered_byte_reported_as_tampered \
	test_ungranted_port_refused test_host_that_is_no_target_refused \
	test_other_target_needs_its_own_ticket test_hostile_tunnel_flood \
	test_tunnel_meets_recording_quota \
	test_remote_agent_and_x11_forwarding_refused \
	test_device_takes_no_shell test_forward_to_openssh_and_dropbear_targets \
	test_tunnel_without_recording_fails_closed \
	test_revocation_cuts_live_tunnel_within_a_second
