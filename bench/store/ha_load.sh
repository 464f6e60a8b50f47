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
#  - the time from `gatewayctl ticket revoke` on A to the end of B's sessions under that ticket
#    (their ssh clients exited): the revocation reaches B through the database. Twice: first
#    for HA_PROBE (20) sessions of another vendor (beta) on B under their own ticket while the
#    1,000 stay (the propagation, the others must live on), then for the 1,000 themselves (the
#    propagation plus ending 1,000 sessions at once on this machine).
# The machine's load before and after. Not part of scripts/test.sh: it takes minutes. Needs a
# build in $GW_BUILD (default ./build) and PostgreSQL 15.
set -u
here=$(cd "$(dirname "$0")" && pwd)
export GW_SRC=${GW_SRC:-$(cd "$here/../.." && pwd)} GW_BUILD=${GW_BUILD:-$(cd "$here/../.." && pwd)/build}
N=${HA_SESSIONS:-1000} BATCH=${HA_BATCH:-25} PROBE=${HA_PROBE:-20}
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
# The probe: vendor beta, person beta.bob, its own ticket (installed through a below).
BOB_KEY=$H_DIR/keys/beta.bob
h_keygen "$BOB_KEY" || exit 1
gw_vendor_add beta
gw_person_add beta beta.bob "$BOB_KEY.pub"
GW_GRANT_NO_TICKET=1 gw_grant_add beta plc-07 "shell exec"
# A batch of handshakes at once is the bench, not an attack: no random early drop.
gw_config_extra "max_startups = \"$((BATCH * 4 > 1024 ? 1024 : BATCH * 4)):30:1024\";"
gw_config_extra "per_source = { max_startups = 0; };" # every login comes from 127.0.0.1
ha_start a b || exit 1
# The harness's ticket (harness-0) was installed through A: until B has it from the database.
ha_ticket a tbeta --vendor beta --target plc-07 || exit 1
for t in harness-0 tbeta; do
	h_wait_for 30 test -f "${HA_DIR[b]}/state/tickets/$t.ticket" ||
		{ h_log "ha load: ticket $t did not reach b"; exit 1; }
done
gw_of() { (($1 % 2)) && echo b || echo a; }
declare -A GW_OF=() # session name -> its gateway

refused=0
t0=$SECONDS
h_log "ha load: ramping up $N sessions over a and b in batches of $BATCH"
for ((i = 0; i < N; i += BATCH)); do
	for ((j = i; j < i + BATCH && j < N; j++)); do
		GW_OF[s$j]=$(gw_of "$j")
		ha_on "${GW_OF[s$j]}" es_start "s$j" || { refused=$((refused + 1)); continue; }
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

# revoke TICKET PREFIX: `gatewayctl ticket revoke TICKET` on a (in the background: the sessions
# may end before it returns), then until every live session named PREFIX* has exited (120 s at
# most), polling every 20 ms. Sets R[ctl], R[first_b], R[all_b], R[all_a] (s since the revoke,
# or "-"), R[n_a], R[n_b], R[left] (sessions still open).
declare -A R=()
revoke() {
	local ticket=$1 prefix=$2 name i t_rev rev_pid t_ret="" first_b="" end_b="" end_a="" rest
	local -a open_a=() open_b=()
	for name in "${!ES_PID[@]}"; do
		[[ $name == "$prefix"* ]] && es_alive "$name" || continue
		if [[ ${GW_OF[$name]} == b ]]; then open_b+=("$name"); else open_a+=("$name"); fi
	done
	R[n_a]=${#open_a[@]} R[n_b]=${#open_b[@]}
	((${#open_a[@]} == 0)) && end_a=now
	((${#open_b[@]} == 0)) && end_b=now
	t_rev=$EPOCHREALTIME
	ha_ctl a ticket revoke "$ticket" --reason "ha load bench" >"$H_DIR/revoke-$ticket.log" 2>&1 &
	rev_pid=$!
	while ((${#open_a[@]} + ${#open_b[@]} > 0)) || [[ -z $t_ret ]]; do
		[[ -z $t_ret ]] && ! kill -0 "$rev_pid" 2>/dev/null && t_ret=$EPOCHREALTIME
		rest=()
		for i in "${open_b[@]}"; do es_alive "$i" && rest+=("$i"); done
		((${#rest[@]} < ${#open_b[@]})) && [[ -z $first_b ]] && first_b=$EPOCHREALTIME
		open_b=("${rest[@]}")
		((${#open_b[@]} == 0)) && [[ -z $end_b ]] && end_b=$EPOCHREALTIME
		rest=()
		for i in "${open_a[@]}"; do es_alive "$i" && rest+=("$i"); done
		open_a=("${rest[@]}")
		((${#open_a[@]} == 0)) && [[ -z $end_a ]] && end_a=$EPOCHREALTIME
		awk -v a="$t_rev" -v b="$EPOCHREALTIME" 'BEGIN { exit !(b - a > 120) }' && break
		sleep 0.02
	done
	wait "$rev_pid" || h_log "ha load: revoke $ticket failed: $(cat "$H_DIR/revoke-$ticket.log")"
	since() { [[ -n $1 && $1 != now ]] && awk -v a="$t_rev" -v b="$1" 'BEGIN { printf "%.2f", b - a }' || echo "-"; }
	R[ctl]=$(since "$t_ret") R[first_b]=$(since "$first_b") R[all_b]=$(since "$end_b")
	R[all_a]=$(since "$end_a") R[left]=$((${#open_a[@]} + ${#open_b[@]}))
	# When b's listener wrote it into b's state_dir (the file's mtime): the database's part.
	R[on_b]=$(since "$(stat -c %.9Y "${HA_DIR[b]}/state/revocations" 2>/dev/null)")
	# The gateways' own view, which a starved poll above cannot blur: the first and the last
	# session_end with this reason in b's audit log (ts in ms), since the revoke.
	R[audit_b]=$(audit_ends "${HA_AUDIT[b]}" "$t_rev" "$ticket")
}

# audit_ends LOG T0 TICKET: "FIRST-LAST" s after T0 (epoch) of the session_end events in LOG
# whose reason names TICKET, and how many.
audit_ends() {
	jq -r --arg t "$3" 'select(.event == "session_end" and ((.reason // "") | contains($t))) | .ts' "$1" |
		python3 -c '
import sys, datetime
t0 = float(sys.argv[1])
v = sorted(datetime.datetime.strptime(l.strip(), "%Y-%m-%dT%H:%M:%S.%fZ").replace(
    tzinfo=datetime.timezone.utc).timestamp() - t0 for l in sys.stdin if l.strip())
print("%.2f-%.2f (%d ended)" % (v[0], v[-1], len(v)) if v else "-")' "$2"
}

# The probe: PROBE sessions of beta.bob on b, then their ticket revoked on a.
h_log "ha load: $PROBE sessions of beta.bob on b; gatewayctl ticket revoke tbeta on a"
for ((i = 0; i < PROBE; i++)); do
	VENDOR_KEY=$BOB_KEY ha_on b es_start "p$i" "beta.bob+plc-07@127.0.0.1"
	GW_OF[p$i]=b
	es_send "p$i" "hello-p$i"
done
probe_up=0
for ((i = 0; i < PROBE; i++)); do es_expect "p$i" "hello-p$i" 120 && probe_up=$((probe_up + 1)); done
revoke tbeta p
declare -A P=()
for k in "${!R[@]}"; do P[$k]=${R[$k]}; done
alive=0
for ((i = 0; i < N; i++)); do es_alive "s$i" && alive=$((alive + 1)); done
h_log "ha load: probe: $probe_up up; all of b's ended after ${P[all_b]} s; $alive of acme's alive"

h_log "ha load: gatewayctl ticket revoke harness-0 on a"
revoke harness-0 s
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
printf '%-52s %s\n' "probe: $PROBE beta sessions on b, up" "$probe_up"
printf '%-52s %s\n' "probe revoke on a: gatewayctl itself (s)" "${P[ctl]}"
printf '%-52s %s\n' "probe revoke on a: in b's state_dir (s)" "${P[on_b]}"
printf '%-52s %s\n' "probe revoke on a: b's session_end, first-last (s)" "${P[audit_b]}"
printf '%-52s %s\n' "probe revoke on a: first of b's ended (s)" "${P[first_b]}"
printf '%-52s %s\n' "probe revoke on a: all ${P[n_b]} of b's ended (s)" "${P[all_b]}"
printf '%-52s %s\n' "acme sessions alive after the probe revoke" "$alive of $want"
printf '%-52s %s\n' "revoke of all on a: gatewayctl itself (s)" "${R[ctl]}"
printf '%-52s %s\n' "revoke of all on a: in b's state_dir (s)" "${R[on_b]}"
printf '%-52s %s\n' "revoke of all on a: b's session_end, first-last (s)" "${R[audit_b]}"
printf '%-52s %s\n' "revoke of all on a: first of b's ended (s)" "${R[first_b]}"
printf '%-52s %s\n' "revoke of all on a: all ${R[n_b]} of b's ended (s)" "${R[all_b]}"
printf '%-52s %s\n' "revoke of all on a: all ${R[n_a]} of a's ended (s)" "${R[all_a]}"
printf '%-52s %s\n' "sessions still open 120 s after a revoke" "$((P[left] + R[left]))"
printf '%-52s %s\n' "listed on a once all ended" "$after_a"
((refused == 0 && lost == 0 && list_a == N && list_a_a + list_a_b == N && probe_up == PROBE &&
	alive == want && P[left] + R[left] == 0))
