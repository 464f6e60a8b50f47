#!/bin/bash
# bench.sh: OpenSSH direct, OpenSSH through a jump host (ProxyJump-equivalent ProxyCommand
# ssh -W) and gatewayd (recording on), all against the same loopback sshd, in one run:
# bulk throughput, connect + exec `true`, key-echo latency through a pty, PSS of idle sessions.
# Not part of scripts/test.sh. Knobs: BENCH_MB (300), BENCH_ROUNDS (3), BENCH_CONNECTS (20),
# BENCH_KEYS (300), BENCH_SESSIONS (200), BENCH_PARTS ("bulk connect echo pss"; "hops", the
# CPU each process spends per echoed key, needs perf and root), BENCH_HOP_SECONDS (4),
# BENCH_CONTENTS ("text random zeros"), BENCH_DIRS ("out in"), BENCH_REF_BUILD (a second
# build to compare, e.g. the commit before a change). Needs a build in $GW_BUILD (default
# ./build).
set -u
here=$(cd "$(dirname "$0")" && pwd)
export GW_SRC=${GW_SRC:-$(cd "$here/../.." && pwd)} GW_BUILD=${GW_BUILD:-$(cd "$here/../.." && pwd)/build}
MB=${BENCH_MB:-300} CONNECTS=${BENCH_CONNECTS:-20} KEYS=${BENCH_KEYS:-300} SESSIONS=${BENCH_SESSIONS:-200}
ROUNDS=${BENCH_ROUNDS:-3} PARTS=${BENCH_PARTS:-bulk connect echo pss}
H_TIMEOUT=900
# 200 concurrent handshakes on a small machine: neither the clients nor the gateway may give up.
H_CONNECT_TIMEOUT=120 GW_CONNECT_TIMEOUT=60
. "$GW_SRC/tests/lib/harness.sh"
ulimit -n 65536 2>/dev/null

# Sessions start 20 at a time, all from 127.0.0.1: the startup limits must not refuse them.
gw_config_extra 'max_startups = "100:30:1000";'
gw_config_extra 'per_source = { max_startups = 0; };'
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
	ref) ARGV+=(-p "$REF_PORT" "$GW_DEST") ;;
	esac
	if [[ ${1:-} == -tt ]]; then
		ARGV=("${ARGV[@]:0:${#ARGV[@]}-1}" -tt "${ARGV[-1]}")
		shift
	fi
	ARGV+=("$@")
}
client() { ssh_argv "$@"; timeout -k 5 "$H_TIMEOUT" "${ARGV[@]}"; }

MODES=(direct jump gatewayd)
# BENCH_REF_BUILD: a second gatewayd from another build (e.g. the commit before a change) with
# the same configuration, its own port, state and recordings: a before/after in one run.
if [[ -n ${BENCH_REF_BUILD:-} ]]; then
	ref=$H_DIR/gwref
	mkdir -p -m 0700 "$ref" "$ref/recordings"
	cp -a "$H_DIR/gw/state" "$ref/state"
	h_free_port REF_PORT || exit 1
	sed -e "s|port = $GW_PORT;|port = $REF_PORT;|" -e "s|$H_DIR/gw/state|$ref/state|" \
		-e "s|$H_DIR/gw/recordings|$ref/recordings|" -e "s|$H_DIR/gw/audit.log|$ref/audit.log|" \
		-e '/^auditors = /,/} );$/d' "$GW_CONFIG" >"$ref/gatewayd.conf" # older builds had none
	h_spawn gwref "$H_DIR/gwref.log" "$BENCH_REF_BUILD/gatewayd/gatewayd" -D -f "$ref/gatewayd.conf"
	h_wait_port "$REF_PORT" "$H_LAST_PID" || { cat "$H_DIR/gwref.log"; exit 1; }
	MODES+=(ref)
fi
declare -A CONN P50 P99 PSS FAILS
for m in "${MODES[@]}"; do
	client "$m" true || { echo "bench: $m does not work"; exit 1; }
done

pct() { sort -n | awk -v p="$1" '{ v[NR] = $1 } END { i = int(NR * p / 100 + 0.5); if (i < 1) i = 1; print v[i] }'; }
median() { h_spread | cut -d' ' -f1; }
now() { date +%s.%N; }
has_part() { [[ " $PARTS " == *" $1 "* ]]; }
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
# descendants PID: PID's child processes, recursively (not PID itself).
descendants() {
	ps -e -o pid=,ppid= | awk -v root="$1" '{ parent[$1] = $2 } END {
		for (p in parent) { q = parent[p]; while (q != "" && q != root && q != 1 && q != 0) q = parent[q]; if (q == root) print p } }'
}

# Bulk: for each content (base64 text, random binary, zeros) and direction (output of `cat`,
# input to `wc -c`), ROUNDS rounds; each round runs every mode once, in an order
# rotated from round to round, so that a slow spell of the machine hits all modes alike.
read -ra CONTENTS <<<"${BENCH_CONTENTS:-text random zeros}"
read -ra DIRS <<<"${BENCH_DIRS:-out in}"
declare -A RATE CPU
if has_part bulk; then
	h_log "preparing $MB MiB of each content on the target"
	head -c $((MB * 1024 * 1024 * 3 / 4)) /dev/urandom | base64 | head -c $((MB * 1024 * 1024)) >"$H_DIR/bulk.text"
	head -c $((MB * 1024 * 1024)) /dev/urandom >"$H_DIR/bulk.random"
	head -c $((MB * 1024 * 1024)) /dev/zero >"$H_DIR/bulk.zeros"
	size=$((MB * 1024 * 1024))
	for ((r = 0; r < ROUNDS; r++)); do
		for c in "${CONTENTS[@]}"; do
			for d in "${DIRS[@]}"; do
				for ((k = 0; k < ${#MODES[@]}; k++)); do
					m=${MODES[(k + r) % ${#MODES[@]}]}
					h_log "round $((r + 1))/$ROUNDS: $c $d via $m"
					b0=$(h_busy_ticks) t0=$(now)
					if [[ $d == out ]]; then
						got=$(client "$m" "cat $H_DIR/bulk.$c" 2>"$H_DIR/bulk.err" | wc -c)
					else
						got=$(client "$m" "wc -c" <"$H_DIR/bulk.$c" 2>"$H_DIR/bulk.err")
					fi
					t1=$(now)
					CPU[$c.$d.$m]+=" $(h_cpu_per_mib "$b0" "$(h_busy_ticks)" "$MB")"
					[[ $got == "$size" ]] || FAILS[$m]+="$c-$d(${got}B:$(head -c 80 "$H_DIR/bulk.err")) "
					RATE[$c.$d.$m]+=" $(awk -v s="$size" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", s / 1048576 / (b - a) }')"
				done
			done
		done
	done
fi

for m in "${MODES[@]}"; do
	if has_part connect; then
		h_log "$m: connect + exec true x$CONNECTS"
		CONN[$m]=$(for ((i = 0; i < CONNECTS; i++)); do
			t0=$(now); client "$m" true; t1=$(now)
			awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f\n", (b - a) * 1000 }'
		done | median)
	fi
done

# Key echo: ROUNDS interleaved rounds like the bulk runs; each run's p50 and p99 are kept, and
# the tables give the median and range of them over the rounds.
if has_part echo; then
	for ((r = 0; r < ROUNDS; r++)); do
		for ((k = 0; k < ${#MODES[@]}; k++)); do
			m=${MODES[(k + r) % ${#MODES[@]}]}
			h_log "round $((r + 1))/$ROUNDS: key echo x$KEYS via $m"
			ssh_argv "$m" -tt 'stty -icanon; echo READY; exec cat >/dev/null'
			python3 "$here/echo_latency.py" "$KEYS" "${ARGV[@]}" >"$H_DIR/echo.$m" 2>"$H_DIR/echo.$m.err" ||
				FAILS[$m]+="echo($(tail -c 120 "$H_DIR/echo.$m.err" | tr '\n' ' ')) "
			P50[$m]+=" $(pct 50 <"$H_DIR/echo.$m")"
			P99[$m]+=" $(pct 99 <"$H_DIR/echo.$m")"
		done
	done
fi

# Hops (BENCH_PARTS=hops; needs perf and root): the CPU a key's echo costs each process on its
# way, on the way in (until the target's pty echoed it) and on the way back, from `perf sched`
# over BENCH_HOP_SECONDS (4) of keys; ProxyJump, gatewayd and the reference build, ROUNDS rounds
# (echo_hops.py).
HOP_SECONDS=${BENCH_HOP_SECONDS:-4}
HOP_MODES=(jump gatewayd)
[[ -n ${BENCH_REF_BUILD:-} ]] && HOP_MODES+=(ref)
declare -A HOPS
# below DAEMON COMM: the pids, comma separated, of the processes named COMM that the harness's
# DAEMON (h_pid) started, at any depth.
below() { pgrep -x "$2" | grep -xF "$(descendants "$(h_pid "$1")")" | paste -sd,; }
# hop_roles MODE TYPIST: sets ROLES (role=pids for echo_hops.py) once MODE's session is up
# (the target's `cat` runs).
hop_roles() {
	local client hop1 hop2
	[[ -n $(below plc-07 cat) ]] || return 1
	client=$(pgrep -x ssh -P "$2") || return 1
	if [[ $1 == jump ]]; then
		hop1=$(pgrep -x ssh -P "$client" | paste -sd,)
		hop2=$(below jump sshd)
	else # gatewayd, or the reference build's (daemon gwref)
		local d=gatewayd
		[[ $1 == ref ]] && d=gwref
		hop1=$(below $d gatewayd-front)
		hop2=$(below $d gatewayd)
	fi
	ROLES=("client=$client" "hop1=$hop1" "hop2=$hop2" "target=$(below plc-07 sshd)")
	[[ -n $hop1 && -n $hop2 && ${ROLES[3]} != target= ]]
}
if has_part hops; then
	for ((r = 0; r < ROUNDS; r++)); do
		for m in "${HOP_MODES[@]}"; do
			h_log "round $((r + 1))/$ROUNDS: where key echo spends CPU via $m"
			ssh_argv "$m" -tt 'stty -icanon; echo READY; exec cat >/dev/null'
			python3 "$here/echo_latency.py" $((HOP_SECONDS * 50 + 250)) "${ARGV[@]}" >/dev/null 2>"$H_DIR/hops.err" &
			typist=$!
			if h_wait_for 30 hop_roles "$m" "$typist" &&
				perf sched record -q -o "$H_DIR/hops.data" -- sleep "$HOP_SECONDS" >/dev/null 2>&1 &&
				python3 "$here/echo_hops.py" "$H_DIR/hops.data" "$typist" "${ROLES[@]}" >"$H_DIR/hops.$m"; then
				while read -r role in out total; do
					HOPS[$role.in.$m]+=" $in" HOPS[$role.out.$m]+=" $out" HOPS[$role.total.$m]+=" $total"
				done <"$H_DIR/hops.$m"
			else
				FAILS[$m]+="hops "
			fi
			wait "$typist" || FAILS[$m]+="hops-echo "
		done
	done
fi
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
		# Ramp in batches of 20, each up before the next: idle sessions, not a connect storm.
		if ((i % 20 == 19)); then
			deadline=$((SECONDS + 60))
			while (($(grep -l UP "$H_DIR/idle.$m"/* 2>/dev/null | wc -l) <= i && SECONDS < deadline)); do
				sleep 0.5
			done
		fi
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
if has_part pss; then
	h_log "gatewayd: $SESSIONS idle sessions"
	idle_sessions gatewayd gatewayd
	h_log "jump: $SESSIONS idle sessions"
	idle_sessions jump jump
fi

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
# table_head TITLE COLUMN: a table's title and header: COLUMN, the modes, the ratios.
table_head() {
	echo
	echo "$1"
	printf '%-12s' "$2"
	for m in "${MODES[@]}"; do printf ' %22s' "$m"; done
	printf ' %20s' gw/proxyjump
	[[ -n ${BENCH_REF_BUILD:-} ]] && printf ' %20s' gw/ref
	echo
}
# table_row LABEL ARRAY KEY: a row of the per-round lists ARRAY[KEY<mode>]: each mode's
# "median [min-max]", then those of the per-round ratios gatewayd / ProxyJump (and / ref).
table_row() {
	local -n list=$2
	local m
	printf '%-12s' "$1"
	for m in "${MODES[@]}"; do printf ' %22s' "$(printf '%s\n' ${list[$3$m]} | h_spread)"; done
	printf ' %20s' "$(h_round_ratios "${list[${3}gatewayd]}" "${list[${3}jump]}")"
	[[ -n ${BENCH_REF_BUILD:-} ]] && printf ' %20s' "$(h_round_ratios "${list[${3}gatewayd]}" "${list[${3}ref]}")"
	echo
}
echo
echo "relay bench: $(nproc) cores; load average before $LOAD_BEFORE, after $(cut -d' ' -f1-3 /proc/loadavg)"
echo "modes: ${MODES[*]}"
if has_part bulk; then
	table_head "bulk, $MB MiB per run, $ROUNDS interleaved rounds: MiB/s median [min-max]" content
	for c in "${CONTENTS[@]}"; do
		for d in "${DIRS[@]}"; do
			table_row "$c $d" RATE "$c.$d."
		done
	done
	table_head "CPU of the whole machine per MiB moved (ms, every process: client, servers, gateway), median [min-max]; gw/proxyjump below 1 is less" content
	for c in "${CONTENTS[@]}"; do
		for d in "${DIRS[@]}"; do
			table_row "$c $d" CPU "$c.$d."
		done
	done
fi
if has_part echo; then
	table_head "key echo through a pty, $KEYS keys a run, $ROUNDS interleaved rounds: ms, median [min-max] of the rounds' p50 and p99; target: gw/proxyjump p50 <= 1.00" percentile
	table_row p50 P50 ""
	table_row p99 P99 ""
fi
if has_part hops; then
	echo
	echo "CPU a key's echo costs each process (perf sched): us per key on the way in (until the target's pty echoed it) and back; median [min-max] of the $ROUNDS rounds' per-key medians; total: the rounds' median of the mean per key"
	printf '%-34s' process
	for m in "${HOP_MODES[@]}"; do printf ' %18s %18s' "$m in" "$m back"; done
	for m in "${HOP_MODES[@]}"; do printf ' %10s' "$m"; done
	echo
	for role in client hop1 hop2 target; do
		case $role in
		client) label="vendor's ssh" ;;
		hop1) label="first hop (ssh -W | front)" ;;
		hop2) label="second hop (jump sshd | monitor)" ;;
		target) label="target's sshd" ;;
		esac
		printf '%-34s' "$label"
		for m in "${HOP_MODES[@]}"; do
			for k in in out; do printf ' %18s' "$(printf '%s\n' ${HOPS[$role.$k.$m]:-} | h_spread)"; done
		done
		for m in "${HOP_MODES[@]}"; do printf ' %10s' "$(printf '%s\n' ${HOPS[$role.total.$m]:-} | median)"; done
		echo
	done
fi
echo
printf '%-34s %10s %10s %10s %8s  %s\n' metric direct proxyjump gatewayd gw/pj target
if has_part connect; then
	printf '%-34s %10s %10s %10s %8s  %s\n' "connect + exec true, median (ms)" "${CONN[direct]}" "${CONN[jump]}" "${CONN[gatewayd]}" "$(ratio "${CONN[gatewayd]}" "${CONN[jump]}")" "<= 1.00"
	[[ -n ${BENCH_REF_BUILD:-} ]] && printf '%-34s %32s\n' "  reference build" "${CONN[ref]}"
fi
if has_part pss; then
	printf '%-34s %10s %10s %10s %8s  %s\n' "PSS per idle session (KiB)" "-" "${PSS[jump]}" "${PSS[gatewayd]}" "$(ratio "${PSS[gatewayd]}" "${PSS[jump]}")" "gatewayd <= 1536"
	printf '%-34s %10s %10s %10s\n' "server processes for the sessions" "-" "${NPROC[jump]}" "${NPROC[gatewayd]}"
fi
printf '%-34s' failures
for m in "${MODES[@]}"; do printf ' %s=%s' "$m" "${FAILS[$m]:-none}"; done
echo
