#!/bin/bash
# ha_load.sh: HA_SESSIONS (1000) concurrent recorded sessions spread over two gateways A and B
# sharing one PostgreSQL 15 (issue 19), in front of one loopback sshd; even-numbered sessions
# through A, odd ones through B, ramped up HA_BATCH (25) at a time as bench/load/bench.sh does
# (tests/lib/sessions.sh: each session echoes lines on the target, its stdin a FIFO). Every
# session is acme.alice under the one ticket the harness installs through A. Reports:
#  - sessions refused (not echoing after the ramp) and lost (not echoing after the listing):
#    both must be 0;
#  - what `gatewayctl sessions --json` on A (and on B) lists: all of them, A's and B's, each
#    with its "gateway";
#  - the time from `gatewayctl ticket revoke` on A to the end of every one of B's sessions (the
#    ssh clients exited), and of A's: the revocation reaches B through the database.
# The machine's load before and after. Not part of scripts/test.sh: it takes minutes. Needs a
# build in $GW_BUILD (default ./build) and PostgreSQL 15.
set -u
here=$(cd "$(dirname "$0")" && pwd)
export GW_SRC=${GW_SRC:-$(cd "$here/../.." && pwd)} GW_BUILD=${GW_BUILD:-$(cd "$here/../.." && pwd)/build}
N=${HA_SESSIONS:-1000} BATCH=${HA_BATCH:-25}
# Hundreds of handshakes queued on two cores: neither side may give up early.
H_CONNECT_TIMEOUT=300 GW_CONNECT_TIMEOUT=120
. "$GW_SRC/tests/lib/harness.sh"
. "$GW_SRC/tests/lib/sessions.sh"
. "$GW_SRC/tests/lib/pg.sh"
. "$GW_SRC/tests/lib/ha.sh"
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
ulimit -u unlimited 2>/dev/null
trap '' PIPE # a write to a dead session's FIFO fails instead of ending the bench
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

pg_available || { h_log "ha load: no PostgreSQL 15 ($PG_BIN)"; exit 1; }
pg_start || exit 1
sshd_start plc-07 || exit 1
gw_policy_default
# A batch of handshakes at once is the bench, not an attack: no random early drop.
gw_config_extra "max_startups = \"$((BATCH * 4 > 1024 ? 1024 : BATCH * 4)):30:1024\";"
gw_config_extra "per_source = { max_startups = 0; };" # every login comes from 127.0.0.1
ha_start a b || exit 1
# The harness's ticket (harness-0) was installed through A: until B has it from the database.
h_wait_for 30 test -f "${HA_DIR[b]}/state/tickets/harness-0.ticket" ||
	{ h_log "ha load: the ticket did not reach b"; exit 1; }
gw_of() { (($1 % 2)) && echo b || echo a; }

refused=0
t0=$SECONDS
h_log "ha load: ramping up $N sessions over a and b in batches of $BATCH"
for ((i = 0; i < N; i += BATCH)); do
	for ((j = i; j < i + BATCH && j < N; j++)); do
		ha_on "$(gw_of "$j")" es_start "s$j" || { refused=$((refused + 1)); continue; }
		es_send "s$j" "hello-$j"
	done
	for ((j = i; j < i + BATCH && j < N; j++)); do
		es_expect "s$j" "hello-$j" 300 ||
			{ refused=$((refused + 1)); h_log "  s$j ($(gw_of "$j")) refused: $(es_out "s$j" | head -c 200)"; }
	done
	((i % 200 == 0)) && h_log "  $((i + BATCH)) up after $((SECONDS - t0)) s"
done
ramp_s=$((SECONDS - t0))
LOAD_PEAK=$(cut -d' ' -f1-3 /proc/loadavg)
h_log "ha load: $((N - refused)) sessions up after $ramp_s s"

# listed NAME: how many sessions `gatewayctl sessions --json` on NAME lists, and of which gateway.
listed() {
	ha_ctl "$1" sessions --json >"$H_DIR/sessions-$1.json" 2>"$H_DIR/sessions-$1.err"
	jq -r '"\(length) \(map(select(.gateway == "a")) | length) \(map(select(.gateway == "b")) | length)"' \
		"$H_DIR/sessions-$1.json" 2>/dev/null || echo "0 0 0"
}
want=$((N - refused))
t_list=$SECONDS
h_wait_for 60 eval '[[ $(listed a | cut -d" " -f1) == $want ]]'
list_s=$((SECONDS - t_list))
read -r list_a list_a_a list_a_b < <(listed a)
read -r list_b list_b_a list_b_b < <(listed b)
h_log "ha load: a lists $list_a ($list_a_a of a, $list_a_b of b), b lists $list_b"
(( list_a == want )) || h_log "  a's listing: $(head -c 300 "$H_DIR/sessions-a.json") $(cat "$H_DIR/sessions-a.err")"
t_ctl=$EPOCHREALTIME
ha_ctl a sessions --json >/dev/null 2>&1
ctl_ms=$(awk -v a="$t_ctl" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", (b - a) * 1000 }')

h_log "ha load: checking that every session still echoes"
lost=0
for ((i = 0; i < N; i++)); do es_send "s$i" "bye-$i"; done
for ((i = 0; i < N; i++)); do
	es_expect "s$i" "bye-$i" 120 || { lost=$((lost + 1)); h_log "  s$i ($(gw_of "$i")) lost: $(es_out "s$i" | tail -c 200)"; }
done
lost=$((lost - refused))

# The revocation through A; then until every client of B (and of A) has exited.
h_log "ha load: gatewayctl ticket revoke harness-0 on a"
declare -a open_a=() open_b=()
for ((i = 0; i < N; i++)); do
	es_alive "s$i" || continue
	if ((i % 2)); then open_b+=("$i"); else open_a+=("$i"); fi
done
n_b=${#open_b[@]} n_a=${#open_a[@]}
# gatewayctl runs in the background: the sessions may end before it returns.
t_rev=$EPOCHREALTIME
ha_ctl a ticket revoke harness-0 --reason "ha load bench" >"$H_DIR/revoke.log" 2>&1 &
rev_pid=$!
end_b="" end_a="" first_b="" t_ret=""
while ((${#open_a[@]} + ${#open_b[@]} > 0)) || [[ -z $t_ret ]]; do
	[[ -z $t_ret ]] && ! kill -0 "$rev_pid" 2>/dev/null && t_ret=$EPOCHREALTIME
	rest=()
	for i in "${open_b[@]}"; do es_alive "s$i" && rest+=("$i"); done
	((${#rest[@]} < n_b)) && [[ -z $first_b ]] && first_b=$EPOCHREALTIME
	open_b=("${rest[@]}")
	((${#open_b[@]} == 0)) && [[ -z $end_b ]] && end_b=$EPOCHREALTIME
	rest=()
	for i in "${open_a[@]}"; do es_alive "s$i" && rest+=("$i"); done
	open_a=("${rest[@]}")
	((${#open_a[@]} == 0)) && [[ -z $end_a ]] && end_a=$EPOCHREALTIME
	awk -v a="$t_rev" -v b="$EPOCHREALTIME" 'BEGIN { exit !(b - a > 120) }' && break
	sleep 0.02
done
wait "$rev_pid" || h_log "ha load: revoke failed: $(cat "$H_DIR/revoke.log")"
since() { [[ -n $1 ]] && awk -v a="$t_rev" -v b="$1" 'BEGIN { printf "%.2f", b - a }' || echo "not within 120 s"; }
left_a=${#open_a[@]} left_b=${#open_b[@]}
h_wait_for 60 eval '[[ $(listed a | cut -d" " -f1) == 0 ]]'
read -r after_a _ _ < <(listed a)

echo
echo "HA load bench: $N concurrent recorded sessions over gateways a and b on one PostgreSQL 15, $(nproc) cores"
echo "load average before $LOAD_BEFORE, after the ramp $LOAD_PEAK, at the end $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-52s %s\n' "sessions refused / lost" "$refused / $lost"
printf '%-52s %s\n' "ramp-up time (s)" "$ramp_s"
printf '%-52s %s\n' "listed by gatewayctl sessions on a (of a, of b)" "$list_a ($list_a_a, $list_a_b) of $want, after ${list_s} s"
printf '%-52s %s\n' "listed by gatewayctl sessions on b (of a, of b)" "$list_b ($list_b_a, $list_b_b)"
printf '%-52s %s\n' "gatewayctl sessions --json on a (ms)" "$ctl_ms"
printf '%-52s %s\n' "revoke on a: gatewayctl itself (s)" "$(since "$t_ret")"
printf '%-52s %s\n' "revoke on a: first of b's sessions ended (s)" "$(since "$first_b")"
printf '%-52s %s\n' "revoke on a: all $n_b of b's sessions ended (s)" "$(since "$end_b")"
printf '%-52s %s\n' "revoke on a: all $n_a of a's sessions ended (s)" "$(since "$end_a")"
printf '%-52s %s\n' "sessions still open after 120 s (a, b)" "$left_a, $left_b"
printf '%-52s %s\n' "listed on a once all ended" "$after_a"
((refused == 0 && lost == 0 && list_a == N && list_a_a + list_a_b == N && left_a + left_b == 0))
