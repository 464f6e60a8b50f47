#!/bin/bash
# bench.sh: the shared store's cost (issue 19): two gateways with the same policy of
# BENCH_VENDORS (1,000) vendors, one person each, and BENCH_TICKETS (10,000) installed, signed
# tickets, in front of one loopback sshd: "files" keeps its state in state_dir (the embedded
# default), "postgresql" on a real PostgreSQL 15 (tests/lib/pg.sh). The bench logs in as
# acme.alice, whose vendor is one more among them. In BENCH_ROUNDS (3) interleaved rounds
# (files, postgresql, then postgresql, files, ...: a slow spell of the machine hits both), each
# turn of a store, once the machine's load1 is under BENCH_QUIET (1.5) or after BENCH_SETTLE s:
#  sequential: BENCH_CONNECTS (30) logins one after the other (stock ssh, BatchMode: connect,
#              authenticate, decide, exec `true`): wall time each (p50, p95) and logins a second;
#  parallel:   BENCH_PARALLEL (4) clients logging in again and again for BENCH_SECONDS (20):
#              logins a second;
#  decision:   from the gateway's audit log, for the sequential logins: ms from auth_success to
#              access_decision (the policy's decision and the listener's admission: caps,
#              disabled vendors, the ticket's use; the part the store changes), and from
#              access_decision to session_start (the target connection, for scale).
# Figures: median [min-max] over the rounds; load1 before and after each turn. A turn that began
# with load1 above BENCH_QUIET is not quiet, and figures with such a turn are no headline.
# Not part of scripts/test.sh. Needs a build in $GW_BUILD (default ./build), jq and, for
# "postgresql", PostgreSQL 15. Knobs: BENCH_STORES ("files postgresql").
set -u
here=$(cd "$(dirname "$0")" && pwd)
export GW_SRC=${GW_SRC:-$(cd "$here/../.." && pwd)} GW_BUILD=${GW_BUILD:-$(cd "$here/../.." && pwd)/build}
VENDORS=${BENCH_VENDORS:-1000} TICKETS=${BENCH_TICKETS:-10000} ROUNDS=${BENCH_ROUNDS:-3}
CONNECTS=${BENCH_CONNECTS:-30} PARALLEL=${BENCH_PARALLEL:-4} RATE_SECONDS=${BENCH_SECONDS:-20}
QUIET=${BENCH_QUIET:-1.5} SETTLE=${BENCH_SETTLE:-60}
read -ra STORES <<<"${BENCH_STORES:-files postgresql}"
H_TIMEOUT=300 H_CONNECT_TIMEOUT=120 GW_CONNECT_TIMEOUT=60
. "$GW_SRC/tests/lib/harness.sh"
. "$GW_SRC/tests/lib/pg.sh"
. "$GW_SRC/tests/lib/ha.sh"
ulimit -n 65536 2>/dev/null
has_store() { [[ " ${STORES[*]} " == *" $1 "* ]]; }
load1() { cut -d' ' -f1 /proc/loadavg; }
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
T_START=$SECONDS

# ---- the policy: VENDORS vendors (v0000...) besides acme, one person and one key each ----------
sshd_start plc-07 || exit 1
gw_policy_default # acme.alice on plc-07: the person the bench logs in as
h_log "store bench: $VENDORS vendors, $TICKETS tickets, stores: ${STORES[*]}"
mkdir -p "$H_DIR/keys/vendors" "$H_DIR/tickets"
# One key a person, made in parallel (ssh-keygen is most of the setup time at 1,000).
export KDIR=$H_DIR/keys/vendors
# shellcheck disable=SC2016 # the script run by xargs expands its own arguments
seq 0 $((VENDORS - 1)) | xargs -P 2 -n 100 bash -c '
	for i in "$@"; do
		v=$(printf "v%04d" "$i")
		ssh-keygen -q -t ed25519 -N "" -C "bench-$v" -f "$KDIR/$v" </dev/null || exit 1
	done' keys || { h_log "store bench: ssh-keygen failed"; exit 1; }
for ((i = 0; i < VENDORS; i++)); do
	printf -v v 'v%04d' "$i"
	gw_vendor_add "$v"
	gw_person_add "$v" "$v.p" "$H_DIR/keys/vendors/$v.pub"
	GW_GRANT_NO_TICKET=1 gw_grant_add "$v" plc-07 "shell exec"
done
gw_config_extra 'max_startups = "100:30:1000";'
gw_config_extra 'per_source = { max_startups = 0; };' # every login from 127.0.0.1
gw_config_extra 'lockout = { failures = 0; person_failures = 0; };'
gw_config_write || exit 1 # the files gateway: the harness's own
ha_register files "$H_DIR/gw" "$GW_PORT" gatewayd
GW_NO_TICKETS=1

# ---- the tickets: written once, signed, installed into both stores ---------------------------
# gatewayctl writes the first (t0); the others are its text with their own id, vendor and
# reason (the format is plain libconfig, docs/tickets.md), so that 10,000 tickets cost one
# gatewayctl and a few ssh-keygen runs, each signing a batch of files with the approver's key
# (-Y sign takes several files). They are real: each .sig verifies over its text, and the
# gateway checks it before any decision counts the ticket.
h_log "store bench: writing and signing $TICKETS tickets"
T_TICKETS=$SECONDS
"$H_GATEWAYCTL" -f "$GW_CONFIG" ticket new --id t0 --vendor v0000 --target plc-07 --from now \
	--to +1d --approver owner --reason "bench work order 0" -o "$H_DIR/tickets/t0.ticket" \
	>/dev/null || exit 1
awk -v n="$TICKETS" -v vendors="$VENDORS" -v dir="$H_DIR/tickets" '
	{ line[NR] = $0 }
	END {
		for (i = 1; i < n; i++) {
			f = sprintf("%s/t%d.ticket", dir, i)
			for (k = 1; k <= NR; k++) {
				l = line[k]
				if (l ~ /^id = /) l = sprintf("id = \"t%d\";", i)
				else if (l ~ /^vendor = /) l = sprintf("vendor = \"v%04d\";", i % vendors)
				else if (l ~ /^reason = /) l = sprintf("reason = \"bench work order %d\";", i)
				print l > f
			}
			close(f)
		}
	}' "$H_DIR/tickets/t0.ticket" || exit 1
# acme.alice's, the one the bench logs in under: written by gatewayctl too.
"$H_GATEWAYCTL" -f "$GW_CONFIG" ticket new --id tacme --vendor acme --target plc-07 --from now \
	--to +1d --approver owner --reason "bench" -o "$H_DIR/tickets/tacme.ticket" >/dev/null || exit 1
(cd "$H_DIR/tickets" && ls -1 -- *.ticket) | xargs -P 2 -n 500 bash -c \
	'cd "$0" && ssh-keygen -q -Y sign -n gatewayd-ticket -f "$1" "${@:2}" </dev/null' \
	"$H_DIR/tickets" "$APPROVER_KEY" || { h_log "store bench: signing tickets failed"; exit 1; }
nsig=$(find "$H_DIR/tickets" -name '*.ticket.sig' | wc -l)
((nsig == TICKETS + 1)) || { h_log "store bench: $nsig signatures for $((TICKETS + 1)) tickets"; exit 1; }
# A sample verifies as gatewayctl reads it (exit 0 only if valid now).
for i in 1 $((TICKETS / 2)) $((TICKETS - 1)); do
	"$H_GATEWAYCTL" -f "$GW_CONFIG" ticket verify "$H_DIR/tickets/t$i.ticket" >"$H_DIR/verify.log" 2>&1 ||
		{ h_log "store bench: ticket t$i does not verify:"; cat "$H_DIR/verify.log" >&2; exit 1; }
done
h_log "store bench: $((TICKETS + 1)) tickets signed in $((SECONDS - T_TICKETS)) s"

# install STATE_DIR: the tickets as `gatewayctl ticket install` leaves them (ID.ticket and
# ID.ticket.sig in state_dir/tickets; one install of each would reload all the others first),
# acme's through gatewayctl itself.
install() {
	mkdir -p -m 0700 "$1/tickets" || return 1
	find "$H_DIR/tickets" -name 't[0-9]*.ticket*' -exec cp -t "$1/tickets/" {} + || return 1
	chmod 0600 "$1"/tickets/*
}

# files: the harness's gateway.
if has_store files; then
	install "$H_DIR/gw/state" || exit 1
	"$H_GATEWAYCTL" -f "$GW_CONFIG" ticket install "$H_DIR/tickets/tacme.ticket" >/dev/null || exit 1
	gw_start || exit 1
fi

# postgresql: gateway "pg" derived from the files one. Its listener sends the tickets it finds
# in state_dir to the database when it connects (store.md: both sides brought level).
if has_store postgresql; then
	pg_available || { h_log "store bench: no PostgreSQL 15 ($PG_BIN)"; exit 1; }
	pg_start || exit 1
	ha_config_derive pg || exit 1
	ha_store_block pg >>"${HA_CONF[pg]}"
	ha_migrate "${HA_CONF[pg]}" && ha_role_add pg || exit 1
	install "${HA_DIR[pg]}/state" || exit 1
	ha_ctl pg ticket install "$H_DIR/tickets/tacme.ticket" >/dev/null || exit 1
	T_SYNC=$SECONDS
	ha_gw_start pg || exit 1
	h_wait_for 600 eval '(($(pg_sql "SELECT count(*) FROM tickets") == TICKETS + 1))' ||
		{ h_log "store bench: only $(pg_sql "SELECT count(*) FROM tickets") tickets reached the store"; exit 1; }
	h_log "store bench: $((TICKETS + 1)) tickets in PostgreSQL after $((SECONDS - T_SYNC)) s"
fi
declare -A PORT=([files]=$GW_PORT) AUDIT=([files]=$GW_AUDIT)
if has_store postgresql; then
	PORT[postgresql]=${HA_PORT[pg]}
	AUDIT[postgresql]=${HA_AUDIT[pg]}
fi

login() { # login STORE: one login running `true`, through STORE's gateway
	timeout -k 5 60 ssh "${H_SSH_OPTS[@]}" -i "$VENDOR_KEY" -p "${PORT[$1]}" "$GW_DEST" true \
		</dev/null >/dev/null 2>&1
}
for s in "${STORES[@]}"; do
	login "$s" || { h_log "store bench: $s does not admit acme.alice:"; ssh "${H_SSH_OPTS[@]}" \
		-i "$VENDOR_KEY" -p "${PORT[$s]}" "$GW_DEST" true </dev/null; exit 1; }
done
h_log "store bench: set up in $((SECONDS - T_START)) s"

# ---- figures ------------------------------------------------------------------------------
# pct P: the P-th percentile (nearest rank) of the numbers on stdin.
pct() { sort -n | awk -v p="$1" 'NF { v[++n] = $1 } END { if (!n) { print "-"; exit }
	r = int((p * n + 99) / 100); if (r < 1) r = 1; print v[r] }'; }
# spread: "median [min-max]" of the numbers on stdin (the per-round figures).
spread() { sort -n | awk '$1 ~ /^[0-9.]+$/ { v[++n] = $1 } END {
	if (n) printf "%s [%s-%s]\n", v[int((n + 1) / 2)], v[1], v[n]; else print "-" }'; }

# audit_ms FILE FIRST FROM TO: for the sessions in FILE's lines from FIRST on, ms from each
# one's FROM event to its TO event (the listener and the session stamp ts in ms), one a line.
audit_ms() {
	tail -n "+$2" "$1" | jq -r --arg a "$3" --arg b "$4" \
		'select(.session != null and (.event == $a or .event == $b)) | [.session, .event, .ts] | @tsv' |
		python3 -c '
import sys, datetime
a, b = sys.argv[1], sys.argv[2]
seen = {}
for line in sys.stdin:
    sid, ev, ts = line.rstrip("\n").split("\t")
    t = datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").timestamp()
    if ev == a:
        seen[sid] = t
    elif sid in seen:
        print("%.0f" % ((t - seen.pop(sid)) * 1000))' "$3" "$4"
}

# settle: until load1 is under QUIET, at most SETTLE s (the previous turn's clients raise it).
settle() {
	local end=$((SECONDS + SETTLE))
	while ((SECONDS < end)) && awk -v l="$(load1)" -v q="$QUIET" 'BEGIN { exit !(l > q) }'; do
		sleep 2
	done
}

# rate STORE: PARALLEL clients logging in for RATE_SECONDS; prints logins a second and the
# failures.
rate() {
	local s=$1 j end=$((SECONDS + RATE_SECONDS)) t0=$EPOCHREALTIME
	for ((j = 0; j < PARALLEL; j++)); do
		(
			n=0 f=0
			while ((SECONDS < end)); do
				if login "$s"; then ((n++)); else ((f++)); fi
			done
			echo "$n $f"
		) >"$H_DIR/rate.$s.$j" &
	done
	wait
	cat "$H_DIR"/rate."$s".* | awk -v a="$t0" -v b="$EPOCHREALTIME" \
		'{ n += $1; f += $2 } END { printf "%.2f %d\n", n / (b - a), f }'
	rm -f "$H_DIR"/rate."$s".*
}

# One figure a round and store in FIG[METRIC.STORE] (a list), every login's wall time in WALL.
declare -A FIG=() WALL=() FAILS=() NOTQUIET=()
echo
echo "store bench: $(nproc) cores, $VENDORS vendors, $TICKETS tickets; load1 before/after each turn"
for ((r = 0; r < ROUNDS; r++)); do
	for ((k = 0; k < ${#STORES[@]}; k++)); do
		s=${STORES[(k + r) % ${#STORES[@]}]}
		settle
		l0=$(load1)
		awk -v l="$l0" -v q="$QUIET" 'BEGIN { exit !(l > q) }' && NOTQUIET[$s]+=" $((r + 1))"
		first=$(($(wc -l <"${AUDIT[$s]}") + 1))
		walls=() t_seq=$EPOCHREALTIME f=0
		for ((i = 0; i < CONNECTS; i++)); do
			t0=$EPOCHREALTIME
			login "$s" || ((f++))
			walls+=("$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", (b - a) * 1000 }')")
		done
		seq_rate=$(awk -v a="$t_seq" -v b="$EPOCHREALTIME" -v n="$CONNECTS" 'BEGIN { printf "%.2f", n / (b - a) }')
		dec=$(audit_ms "${AUDIT[$s]}" "$first" auth_success access_decision)
		tgt=$(audit_ms "${AUDIT[$s]}" "$first" access_decision session_start)
		read -r par_rate pf < <(rate "$s")
		l1=$(load1)
		WALL[$s]+=" ${walls[*]}"
		FAILS[$s]=$((${FAILS[$s]:-0} + f + pf))
		FIG[p50.$s]+=" $(printf '%s\n' "${walls[@]}" | pct 50)"
		FIG[p95.$s]+=" $(printf '%s\n' "${walls[@]}" | pct 95)"
		FIG[seq.$s]+=" $seq_rate"
		FIG[par.$s]+=" $par_rate"
		FIG[dec50.$s]+=" $(pct 50 <<<"$dec")"
		FIG[dec95.$s]+=" $(pct 95 <<<"$dec")"
		FIG[tgt50.$s]+=" $(pct 50 <<<"$tgt")"
		printf 'round %d %-10s load1 %s -> %s  login p50 %s ms p95 %s ms, %s/s sequential, %s/s x%d, decision p50 %s ms, failed %d%s\n' \
			$((r + 1)) "$s" "$l0" "$l1" "$(printf '%s\n' "${walls[@]}" | pct 50)" \
			"$(printf '%s\n' "${walls[@]}" | pct 95)" "$seq_rate" "$par_rate" "$PARALLEL" \
			"$(pct 50 <<<"$dec")" $((f + pf)) \
			"$(awk -v l="$l0" -v q="$QUIET" 'BEGIN { if (l > q) print "  (not quiet)" }')"
	done
done

echo
echo "store bench: $(nproc) cores; load average at the start $LOAD_BEFORE, at the end $(cut -d' ' -f1-3 /proc/loadavg)"
echo "$VENDORS vendors, $TICKETS tickets; $ROUNDS interleaved rounds of $CONNECTS sequential logins and $PARALLEL clients for $RATE_SECONDS s; median [min-max] over the rounds"
printf '%-46s' metric
for s in "${STORES[@]}"; do printf ' %22s' "$s"; done
echo
row() { # row LABEL METRIC
	local s
	printf '%-46s' "$1"
	for s in "${STORES[@]}"; do printf ' %22s' "$(printf '%s\n' ${FIG[$2.$s]} | spread)"; done
	echo
}
row "login + exec true, wall p50 (ms)" p50
row "login + exec true, wall p95 (ms)" p95
row "logins a second, sequential" seq
row "logins a second, $PARALLEL clients" par
row "decision: auth_success to access_decision p50" dec50
row "decision: auth_success to access_decision p95" dec95
row "target: access_decision to session_start p50" tgt50
printf '%-46s' "login wall p50 / p95, all rounds pooled (ms)"
for s in "${STORES[@]}"; do
	printf ' %22s' "$(printf '%s\n' ${WALL[$s]} | pct 50) / $(printf '%s\n' ${WALL[$s]} | pct 95)"
done
echo
printf '%-46s' "failed logins"
for s in "${STORES[@]}"; do printf ' %22s' "${FAILS[$s]:-0}"; done
echo
bad=0
for s in "${STORES[@]}"; do
	if [[ -n ${NOTQUIET[$s]:-} ]]; then
		echo "WARNING: $s: load1 above $QUIET at the start of round(s)${NOTQUIET[$s]}: these figures are no headline"
		bad=1
	fi
done
((bad == 0)) && echo "every turn began with load1 at or under $QUIET"
total=0
for s in "${STORES[@]}"; do total=$((total + ${FAILS[$s]:-0})); done
((total == 0))
