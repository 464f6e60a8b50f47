#!/bin/bash
# bench.sh: a forwarded TCP stream (ssh -N -L) through gatewayd (recorded as pcapng) against
# the same through OpenSSH's sshd (AllowTcpForwarding, unrecorded) and the bare TCP connection,
# in one run: MiB/s down (device to vendor) and up, in interleaved rounds (each round runs every
# mode once, the order rotated), median and range, the machine's load before and after; and the
# CPU the whole machine spent per MiB moved (/proc/stat around each transfer), whose ratio is the
# throughput's when both keep the cores busy.
# Not part of scripts/test.sh. Knobs: BENCH_MB (200), BENCH_ROUNDS (5), BENCH_DIRS ("down up").
# Needs a build in $GW_BUILD (default ./build).
set -u
here=$(cd "$(dirname "$0")" && pwd)
export GW_SRC=${GW_SRC:-$(cd "$here/../.." && pwd)} GW_BUILD=${GW_BUILD:-$(cd "$here/../.." && pwd)/build}
MB=${BENCH_MB:-200} ROUNDS=${BENCH_ROUNDS:-5}
read -ra DIRS <<<"${BENCH_DIRS:-down up}"
H_TIMEOUT=900
. "$GW_SRC/tests/lib/harness.sh"

sshd_start plc-07 || exit 1
cat "$VENDOR_KEY.pub" >>"$H_DIR/plc-07/authorized_keys"
h_free_port SINK || exit 1
h_spawn sink "$H_DIR/sink.log" /usr/bin/python3 "$here/tcp_bulk.py" serve "$SINK"
h_wait_port "$SINK" "$H_LAST_PID" || exit 1
# One session carries every round: gigabytes of pcapng, past the default recording quota.
gw_vendor_add acme "$H_ALWAYS max_recording_bytes = 0;"
gw_person_add acme acme.alice "$VENDOR_KEY.pub"
gw_device_add sink
gw_grant_add acme "sink" "" "sink:$SINK"
gw_start || exit 1

# A tunnel per mode, held for the whole run (a vendor's tool connects through it repeatedly).
declare -A LPORT
lp=0
h_free_port lp && LPORT[sshL]=$lp
h_spawn tun-ssh "$H_DIR/tun-ssh.log" ssh "${H_SSH_OPTS[@]}" -i "$VENDOR_KEY" \
	-p "${H_PORT[plc-07]}" -N -L "${LPORT[sshL]}:127.0.0.1:$SINK" "$TARGET_DEST"
h_wait_port "${LPORT[sshL]}" "$H_LAST_PID" || exit 1
h_free_port lp && LPORT[gatewayd]=$lp
h_spawn tun-gw "$H_DIR/tun-gw.log" ssh "${H_SSH_OPTS[@]}" -i "$VENDOR_KEY" \
	-p "$GW_PORT" -N -L "${LPORT[gatewayd]}:sink:$SINK" acme.alice+sink@127.0.0.1
h_wait_port "${LPORT[gatewayd]}" "$H_LAST_PID" || exit 1
LPORT[direct]=$SINK
MODES=(direct sshL gatewayd)

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
declare -A RATE CPU
for ((r = 0; r < ROUNDS; r++)); do
	for d in "${DIRS[@]}"; do
		for ((k = 0; k < ${#MODES[@]}; k++)); do
			m=${MODES[(k + r) % ${#MODES[@]}]}
			h_log "round $((r + 1))/$ROUNDS: $d via $m"
			b0=$(h_busy_ticks)
			rate=$(/usr/bin/python3 "$here/tcp_bulk.py" "$d" "${LPORT[$m]}" "$MB") ||
				{ echo "bench: $d via $m failed"; exit 1; }
			RATE[$d.$m]+=" $rate"
			CPU[$d.$m]+=" $(h_cpu_per_mib "$b0" "$(h_busy_ticks)" "$MB")"
		done
	done
done
echo
echo "forward bench: $(nproc) cores; load average before $LOAD_BEFORE, after $(cut -d' ' -f1-3 /proc/loadavg)"
echo "$MB MiB per transfer, $ROUNDS interleaved rounds: MiB/s median [min-max]"
# table NAME A B: per direction, each mode's "median [min-max]" of NAME's per-round figures,
# then that of the per-round ratios of mode A's to mode B's.
table() {
	local -n v=$1
	local d m
	printf '%-6s' dir
	for m in "${MODES[@]}"; do printf ' %24s' "$m"; done
	printf ' %24s\n' "$2 / $3"
	for d in "${DIRS[@]}"; do
		printf '%-6s' "$d"
		for m in "${MODES[@]}"; do printf ' %24s' "$(printf '%s\n' ${v[$d.$m]} | h_spread)"; done
		printf ' %24s\n' "$(h_round_ratios "${v[$d.$2]}" "${v[$d.$3]}")"
	done
}
table RATE gatewayd sshL
echo "CPU of the whole machine per MiB moved (ms), median [min-max]:"
table CPU sshL gatewayd
# What the evidence costs on disk: the pcapngs of the gateway's transfers per byte moved.
total=$(cat "$GW_RECORDINGS"/*.pcapng | wc -c)
echo "pcapng bytes per payload byte: $(awk -v t="$total" -v n="$((ROUNDS * ${#DIRS[@]} * MB * 1048576))" 'BEGIN { printf "%.3f", t / n }')"
