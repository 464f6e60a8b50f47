#!/bin/bash
# bench.sh: load on one gateway (issue 6): LOAD_SESSIONS (1000) concurrent recorded sessions
# through gatewayd to one loopback sshd, most idle, LOAD_ECHOING (50) echoing LOAD_RATE (2)
# lines a second each for LOAD_SECONDS (60). Reports refused and lost sessions (both must be
# 0), lost echo lines, echo latency, PSS per session (the gateway's processes / N), the
# gateway's CPU while ramping up and while steady, and the verdict on every recording.
# Not part of scripts/test.sh: it takes minutes. Needs a build in $GW_BUILD (default ./build).
set -u
here=$(cd "$(dirname "$0")" && pwd)
export GW_SRC=${GW_SRC:-$(cd "$here/../.." && pwd)}
export GW_BUILD=${GW_BUILD:-$GW_SRC/build}
N=${LOAD_SESSIONS:-1000} ECHOING=${LOAD_ECHOING:-50} RATE=${LOAD_RATE:-2} STEADY=${LOAD_SECONDS:-60}
BATCH=${LOAD_BATCH:-25}
# Hundreds of handshakes queued on two cores: neither side may give up early.
H_CONNECT_TIMEOUT=300 GW_CONNECT_TIMEOUT=120
. "$GW_SRC/tests/lib/harness.sh"
. "$GW_SRC/tests/lib/sessions.sh"
# Every session holds a FIFO here and ~3 processes on the target; the clients live here too.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
ulimit -u unlimited 2>/dev/null
trap '' PIPE # a write to a dead session's FIFO fails instead of ending the bench

sshd_start plc-07 || exit 1
gw_policy_default
# A batch of handshakes at once is the bench, not an attack: no random early drop.
gw_config_extra "max_startups = \"$((BATCH * 4 > 1024 ? 1024 : BATCH * 4)):30:1024\";"
gw_config_extra "per_source = { max_startups = 0; };" # every login comes from 127.0.0.1
gw_start || exit 1
listener=$(h_pid gatewayd)
hz=$(getconf CLK_TCK)

# gw_pids: the listener and every process below it: each session's monitor and its front.
gw_pids() {
	echo "$listener"
	ps -e -o pid=,ppid= | awk -v root="$listener" '{ parent[$1] = $2 } END {
		for (p in parent) { q = parent[p]; while (q != "" && q != root && q > 1) q = parent[q]; if (q == root) print p } }'
}
# cpu_ticks PID...: utime + stime of those processes (and their reaped children).
cpu_ticks() { (cd /proc && cat $(printf '%s/stat ' "$@") 2>/dev/null) |
	awk '{ sub(/^.*\) /, ""); s += $12 + $13 + $14 + $15 } END { print s + 0 }'; }
pss_kib() { (cd /proc && cat $(printf '%s/smaps_rollup ' "$@") 2>/dev/null) |
	awk '/^Pss:/ { s += $2 } END { print s + 0 }'; }

refused=0
cpu0=$(cpu_ticks "$listener")
t0=$SECONDS
h_log "load: ramping up $N sessions in batches of $BATCH"
for ((i = 0; i < N; i += BATCH)); do
	for ((j = i; j < i + BATCH && j < N; j++)); do
		es_start "s$j" || { refused=$((refused + 1)); continue; }
		es_send "s$j" "hello-$j"
	done
	for ((j = i; j < i + BATCH && j < N; j++)); do
		es_expect "s$j" "hello-$j" 300 || { refused=$((refused + 1)); h_log "  s$j refused: $(es_out "s$j" | head -c 200)"; }
	done
	((i % 200 == 0)) && h_log "  $((i + BATCH)) up after $((SECONDS - t0)) s"
done
ramp_s=$((SECONDS - t0))
pids=$(gw_pids)
nproc_gw=$(($(wc -w <<<"$pids") - 1)) # monitors and fronts
ramp_cpu=$(awk -v a="$cpu0" -v b="$(cpu_ticks $pids)" -v hz="$hz" 'BEGIN { printf "%.1f", (b - a) / hz }')
h_log "load: $nproc_gw session processes after $ramp_s s; settling"
sleep 5

pss=$(pss_kib $pids)
h_log "load: $ECHOING sessions echo $RATE lines/s for $STEADY s, $((N - ECHOING)) idle"
args=()
for ((i = 0; i < ECHOING; i++)); do args+=("$H_DIR/es-s$i.in:$H_DIR/es-s$i.out"); done
c0=$(cpu_ticks $pids)
w0=$(date +%s.%N)
echo_figures=$(python3 "$here/echo_driver.py" "$RATE" "$STEADY" "${args[@]}")
c1=$(cpu_ticks $pids)
w1=$(date +%s.%N)
steady_cpu=$(awk -v a="$c0" -v b="$c1" -v x="$w0" -v y="$w1" -v hz="$hz" \
	'BEGIN { printf "%.1f", 100 * (b - a) / hz / (y - x) }')

h_log "load: checking that every session is still there"
lost=0
for ((i = 0; i < N; i++)); do es_send "s$i" "bye-$i"; done
for ((i = 0; i < N; i++)); do
	es_expect "s$i" "bye-$i" 120 || { lost=$((lost + 1)); h_log "  s$i lost: $(es_out "s$i" | tail -c 200)"; }
done
lost=$((lost - refused))

h_log "load: ending the sessions"
for ((i = 0; i < N; i++)); do es_end "s$i"; done
for ((i = 0; i < N; i++)); do es_wait_exit "s$i" 120 || h_log "  s$i did not end"; done
for ((i = 0; i < 300; i++)); do [[ -z $(pgrep -P "$listener") ]] && break; sleep 0.2; done
verdicts=$("$H_GATEWAYCTL" -f "$GW_CONFIG" recording verify $(gw_recordings) 2>&1)
nrec=$(gw_recordings | wc -l)
intact=$(grep -c ': intact' <<<"$verdicts")
audit=$("$H_GATEWAYCTL" -f "$GW_CONFIG" audit verify 2>&1)

echo
echo "load bench: $N concurrent recorded sessions ($ECHOING echoing $RATE lines/s, $((N - ECHOING)) idle), $(nproc) cores"
printf '%-44s %s\n' "sessions refused / lost" "$refused / $lost"
printf '%-44s %s\n' "gateway processes at peak (monitors, fronts)" "$nproc_gw"
printf '%-44s %s\n' "ramp-up time (s), gateway CPU during it (s)" "$ramp_s, $ramp_cpu"
printf '%-44s %s\n' "gateway PSS total (MiB), per session (KiB)" \
	"$((pss / 1024)), $(awk -v s="$pss" -v n="$((N - refused))" 'BEGIN { printf "%.0f", n ? s / n : 0 }')"
printf '%-44s %s\n' "gateway CPU while steady (% of one core)" "$steady_cpu"
printf '%-44s %s\n' "echo lines" "$echo_figures"
printf '%-44s %s\n' "recordings intact / written" "$intact / $nrec"
printf '%-44s %s\n' "audit log" "$(sed 's/^[^:]*: //' <<<"$audit")"
((refused == 0 && lost == 0 && intact == N && nrec == N))
