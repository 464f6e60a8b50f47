#!/bin/bash
# bench.sh: load on one gateway (issue 6): LOAD_SESSIONS (1000) concurrent recorded sessions
# through gatewayd to one loopback sshd, most idle, LOAD_ECHOING (50) echoing LOAD_RATE (2)
# lines a second each for LOAD_SECONDS (60). Reports refused and lost sessions (both must be
# 0), lost echo lines, echo latency, PSS per session (the gateway's processes / N), the
# gateway's CPU while ramping up and while steady, and the verdict on every recording.
# LOAD_GATEWAYS=2 (issue 19): the sessions spread over two gateways a and b sharing their state
# on a real PostgreSQL 15 (tests/lib/pg.sh, ha.sh), every other session through b; the figures
# then add up both gateways.
# Not part of scripts/test.sh: it takes minutes. Needs a build in $GW_BUILD (default ./build).
set -u
here=$(cd "$(dirname "$0")" && pwd)
export GW_SRC=${GW_SRC:-$(cd "$here/../.." && pwd)}
export GW_BUILD=${GW_BUILD:-$GW_SRC/build}
N=${LOAD_SESSIONS:-1000} ECHOING=${LOAD_ECHOING:-50} RATE=${LOAD_RATE:-2} STEADY=${LOAD_SECONDS:-60}
BATCH=${LOAD_BATCH:-25} GATEWAYS=${LOAD_GATEWAYS:-1}
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
if ((GATEWAYS == 2)); then
	. "$GW_SRC/tests/lib/pg.sh"
	. "$GW_SRC/tests/lib/ha.sh"
	pg_start || exit 1
	ha_start a b || exit 1
	listeners="$(h_pid gatewayd) $(h_pid gatewayd-b)"
	names=(a b)
else
	gw_start || exit 1
	listeners=$(h_pid gatewayd)
fi
hz=$(getconf CLK_TCK)

# gw_pids: the listeners and every process below them: each session's monitor and its front.
gw_pids() {
	echo "$listeners" | tr ' ' '\n'
	ps -e -o pid=,ppid= | awk -v roots="$listeners" 'BEGIN { n = split(roots, r, " "); for (i = 1; i <= n; i++) root[r[i]] = 1 }
		{ parent[$1] = $2 } END {
		for (p in parent) { q = parent[p]; while (q != "" && !(q in root) && q > 1) q = parent[q]; if (q in root) print p } }'
}
# cpu_ticks PID...: utime + stime of those processes (and their reaped children).
cpu_ticks() { (cd /proc && cat $(printf '%s/stat ' "$@") 2>/dev/null) |
	awk '{ sub(/^.*\) /, ""); s += $12 + $13 + $14 + $15 } END { print s + 0 }'; }
pss_kib() { (cd /proc && cat $(printf '%s/smaps_rollup ' "$@") 2>/dev/null) |
	awk '/^Pss:/ { s += $2 } END { print s + 0 }'; }

refused=0
cpu0=$(cpu_ticks $listeners)
t0=$SECONDS
h_log "load: ramping up $N sessions in batches of $BATCH"
for ((i = 0; i < N; i += BATCH)); do
	for ((j = i; j < i + BATCH && j < N; j++)); do
		if ((GATEWAYS == 2)); then
			ha_on "${names[j % 2]}" es_start "s$j"
		else
			es_start "s$j"
		fi || { refused=$((refused + 1)); continue; }
		es_send "s$j" "hello-$j"
	done
	for ((j = i; j < i + BATCH && j < N; j++)); do
		es_expect "s$j" "hello-$j" 300 || { refused=$((refused + 1)); h_log "  s$j refused: $(es_out "s$j" | head -c 200)"; }
	done
	((i % 200 == 0)) && h_log "  $((i + BATCH)) up after $((SECONDS - t0)) s"
done
ramp_s=$((SECONDS - t0))
pids=$(gw_pids)
nproc_gw=$(($(wc -w <<<"$pids") - $(wc -w <<<"$listeners"))) # monitors and fronts
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
for ((i = 0; i < 300; i++)); do [[ -z $(pgrep -P "${listeners// /,}") ]] && break; sleep 0.2; done
verdicts=$("$H_GATEWAYCTL" -f "$GW_CONFIG" recording verify $(gw_recordings) 2>&1)
nrec=$(gw_recordings | wc -l)
if ((GATEWAYS == 2)); then
	verdicts+=$'\n'$(ha_ctl b recording verify $(ha_on b gw_recordings) 2>&1)
	nrec=$((nrec + $(ha_on b gw_recordings | wc -l)))
fi
intact=$(grep -c ': intact' <<<"$verdicts")
audit=$("$H_GATEWAYCTL" -f "$GW_CONFIG" audit verify 2>&1)
((GATEWAYS == 2)) && audit+="; b: $(ha_ctl b audit verify 2>&1 | sed 's/^[^:]*: //')"

echo
echo "load bench: $N concurrent recorded sessions$( ((GATEWAYS == 2)) && echo " over two gateways on PostgreSQL") ($ECHOING echoing $RATE lines/s, $((N - ECHOING)) idle), $(nproc) cores"
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
