#!/bin/bash
# bench.sh: OpenSSH direct, OpenSSH through a jump host (ProxyJump-equivalent ProxyCommand
# ssh -W) and gatewayd (recording on), all against the same loopback sshd, in one run:
# bulk throughput, connect + exec `true`, key-echo latency through a pty, PSS of idle sessions.
# Not part of scripts/test.sh. Knobs: BENCH_MB (1024), BENCH_CONNECTS (20), BENCH_KEYS (300),
# BENCH_SESSIONS (200). Needs a build in $GW_BUILD (default ./build).
set -u
here=$(cd "$(dirname "$0")" && pwd)
export GW_SRC=${GW_SRC:-$(cd "$here/../.." && pwd)} GW_BUILD=${GW_BUILD:-$(cd "$here/../.." && pwd)/build}
MB=${BENCH_MB:-1024} CONNECTS=${BENCH_CONNECTS:-20} KEYS=${BENCH_KEYS:-300} SESSIONS=${BENCH_SESSIONS:-200}
H_TIMEOUT=900
. "$GW_SRC/tests/lib/harness.sh"
ulimit -n 65536 2>/dev/null

h_setup || exit 1
sshd_start jump || exit 1
# The bench client uses the vendor key everywhere: direct and via the jump host too.
cat "$VENDOR_KEY.pub" >>"$H_DIR/plc-07/authorized_keys"
cat "$VENDOR_KEY.pub" >>"$H_DIR/jump/authorized_keys"

jump_proxy="ssh ${H_SSH_OPTS[*]} -i $VENDOR_KEY -p ${H_PORT[jump]} -W %h:%p $TARGET_DEST"
# ssh_argv MODE [-tt] CMD...: sets ARGV to the bench's ssh command line for MODE.
ssh_argv() {
	local m=$1
	shift
	ARGV=(ssh "${H_SSH_OPTS[@]}" -i "$VENDOR_KEY")
	case $m in
	direct) ARGV+=(-p "${H_PORT[plc-07]}" "$TARGET_DEST") ;;
	jump) ARGV+=(-o "ProxyCommand=$jump_proxy" -p "${H_PORT[plc-07]}" "$TARGET_DEST") ;;
	gatewayd) ARGV+=(-p "$GW_PORT" "$GW_DEST") ;;
	esac
	if [[ ${1:-} == -tt ]]; then
		ARGV=("${ARGV[@]:0:${#ARGV[@]}-1}" -tt "${ARGV[-1]}")
		shift
	fi
	ARGV+=("$@")
}
client() { ssh_argv "$@"; timeout -k 5 "$H_TIMEOUT" "${ARGV[@]}"; }

MODES=(direct jump gatewayd)
declare -A THR CONN P50 P99 PSS FAILS
for m in "${MODES[@]}"; do
	client "$m" true || { echo "bench: $m does not work"; exit 1; }
done

h_log "preparing $MB MiB of base64 text on the target"
head -c $((MB * 1024 * 1024 * 3 / 4)) /dev/urandom | base64 >"$H_DIR/bulk.txt"
size=$(stat -c %s "$H_DIR/bulk.txt")

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
pct() { sort -n | awk -v p="$1" '{ v[NR] = $1 } END { i = int(NR * p / 100 + 0.5); if (i < 1) i = 1; print v[i] }'; }
now() { date +%s.%N; }

for m in "${MODES[@]}"; do
	h_log "$m: throughput"
	t0=$(now)
	client "$m" "cat $H_DIR/bulk.txt" >/dev/null || FAILS[$m]+="bulk "
	t1=$(now)
	THR[$m]=$(awk -v s="$size" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", s / 1048576 / (b - a) }')

	h_log "$m: connect + exec true x$CONNECTS"
	CONN[$m]=$(for ((i = 0; i < CONNECTS; i++)); do
		t0=$(now); client "$m" true; t1=$(now)
		awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f\n", (b - a) * 1000 }'
	done | median)

	h_log "$m: key echo x$KEYS"
	ssh_argv "$m" -tt 'stty -icanon; echo READY; exec cat >/dev/null'
	python3 "$here/echo_latency.py" "$KEYS" "${ARGV[@]}" >"$H_DIR/echo.$m" 2>"$H_DIR/echo.$m.err" ||
		FAILS[$m]+="echo "
	P50[$m]=$(pct 50 <"$H_DIR/echo.$m")
	P99[$m]=$(pct 99 <"$H_DIR/echo.$m")
done

# descendants PID: PID's child processes, recursively (not PID itself).
descendants() {
	ps -e -o pid=,ppid= | awk -v root="$1" '{ parent[$1] = $2 } END {
		for (p in parent) { q = parent[p]; while (q != "" && q != root && q != 1 && q != 0) q = parent[q]; if (q == root) print p } }'
}
pss_kib() { local p s=0; for p in "$@"; do s=$((s + $(awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0))); done; echo "$s"; }

# idle_sessions MODE SERVER-NAME: SESSIONS idle pty sessions; PSS of SERVER's per-connection processes.
idle_sessions() {
	local m=$1 server=$2 i up pids=() deadline
	mkdir -p "$H_DIR/idle.$m"
	rm -f "$H_DIR/fifo.$m"; mkfifo "$H_DIR/fifo.$m"
	exec 7<>"$H_DIR/fifo.$m"
	ssh_argv "$m" -tt 'echo UP; exec sleep 3600'
	for ((i = 0; i < SESSIONS; i++)); do
		setsid "${ARGV[@]}" \
			<"$H_DIR/fifo.$m" >"$H_DIR/idle.$m/$i" 2>&1 &
		pids+=($!)
		((i % 20 == 19)) && sleep 0.5
	done
	deadline=$((SECONDS + 120))
	while up=$(grep -l UP "$H_DIR/idle.$m"/* 2>/dev/null | wc -l); ((up < SESSIONS && SECONDS < deadline)); do
		sleep 1
	done
	sleep 2
	up=$(grep -l UP "$H_DIR/idle.$m"/* 2>/dev/null | wc -l)
	FAILS[$m]+=$( ((up < SESSIONS)) && echo "idle:$((SESSIONS - up))-not-up ")
	local procs
	procs=$(descendants "$(h_pid "$server")")
	PSS[$m]=$(awk -v s="$(pss_kib $procs)" -v n="$up" 'BEGIN { printf "%.0f", (n ? s / n : 0) }')
	NPROC[$m]=$(wc -w <<<"$procs")
	kill "${pids[@]}" 2>/dev/null
	wait "${pids[@]}" 2>/dev/null
	exec 7>&-
	sleep 3
}
declare -A NPROC
h_log "gatewayd: $SESSIONS idle sessions"
idle_sessions gatewayd gatewayd
h_log "jump: $SESSIONS idle sessions"
idle_sessions jump jump

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
echo
echo "relay bench: $MB MiB bulk, $CONNECTS connects, $KEYS keys, $SESSIONS idle sessions; $(nproc) cores"
printf '%-34s %10s %10s %10s %8s  %s\n' metric direct proxyjump gatewayd gw/pj target
printf '%-34s %10s %10s %10s %8s  %s\n' "bulk throughput (MiB/s)" "${THR[direct]}" "${THR[jump]}" "${THR[gatewayd]}" "$(ratio "${THR[gatewayd]}" "${THR[jump]}")" ">= 1.20"
printf '%-34s %10s %10s %10s %8s  %s\n' "connect + exec true, median (ms)" "${CONN[direct]}" "${CONN[jump]}" "${CONN[gatewayd]}" "$(ratio "${CONN[gatewayd]}" "${CONN[jump]}")" "<= 1.00"
printf '%-34s %10s %10s %10s %8s  %s\n' "key echo p50 (ms)" "${P50[direct]}" "${P50[jump]}" "${P50[gatewayd]}" "$(ratio "${P50[gatewayd]}" "${P50[jump]}")" "<= 1.00"
printf '%-34s %10s %10s %10s %8s  %s\n' "key echo p99 (ms)" "${P99[direct]}" "${P99[jump]}" "${P99[gatewayd]}" "$(ratio "${P99[gatewayd]}" "${P99[jump]}")" ""
printf '%-34s %10s %10s %10s %8s  %s\n' "PSS per idle session (KiB)" "-" "${PSS[jump]}" "${PSS[gatewayd]}" "$(ratio "${PSS[gatewayd]}" "${PSS[jump]}")" "gatewayd <= 1536"
printf '%-34s %10s %10s %10s\n' "server processes for the sessions" "-" "${NPROC[jump]}" "${NPROC[gatewayd]}"
printf '%-34s %10s %10s %10s\n' "failures" "${FAILS[direct]:-none}" "${FAILS[jump]:-none}" "${FAILS[gatewayd]:-none}"
