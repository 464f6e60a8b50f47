#!/bin/bash
# bench.sh: the shared store's cost (issue 19): two gateways with the same policy of
# BENCH_VENDORS (1,000) vendors, one person each, and BENCH_TICKETS (10,000) installed tickets,
# in front of one loopback sshd: "files" keeps its state in state_dir (the embedded default),
# "postgresql" on a real PostgreSQL 15 (tests/lib/pg.sh). In BENCH_ROUNDS (3) interleaved rounds
# (the order of the two turns from round to round, so a slow spell of the machine hits both):
#  login: BENCH_CONNECTS (20) logins one after the other (connect, authenticate, decide, exec
#         `true`), wall time each;
#  rate:  BENCH_PARALLEL (8) clients logging in again and again for BENCH_SECONDS (20): logins
#         a second.
# Then from each gateway's audit log: the decision latency (auth_success to access_decision of
# the same session) and the admission (auth_success to session_start: decision, ticket use and
# the registry of live sessions). Figures as median [min-max]; the machine's load before and
# after. Not part of scripts/test.sh. Knobs: BENCH_STORES ("files postgresql"). Needs a build
# in $GW_BUILD (default ./build) and, for "postgresql", PostgreSQL 15.
set -u
here=$(cd "$(dirname "$0")" && pwd)
export GW_SRC=${GW_SRC:-$(cd "$here/../.." && pwd)} GW_BUILD=${GW_BUILD:-$(cd "$here/../.." && pwd)/build}
VENDORS=${BENCH_VENDORS:-1000} TICKETS=${BENCH_TICKETS:-10000} ROUNDS=${BENCH_ROUNDS:-3}
CONNECTS=${BENCH_CONNECTS:-20} PARALLEL=${BENCH_PARALLEL:-8} RATE_SECONDS=${BENCH_SECONDS:-20}
read -ra STORES <<<"${BENCH_STORES:-files postgresql}"
H_TIMEOUT=300 H_CONNECT_TIMEOUT=120 GW_CONNECT_TIMEOUT=60
. "$GW_SRC/tests/lib/harness.sh"
. "$GW_SRC/tests/lib/pg.sh"
. "$GW_SRC/tests/lib/ha.sh"
ulimit -n 65536 2>/dev/null
has_store() { [[ " ${STORES[*]} " == *" $1 "* ]]; }
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- the policy: VENDORS vendors (v0000...) besides acme, one person and one key each ----------
sshd_start plc-07 || exit 1
gw_policy_default # acme.alice on plc-07: the person the bench logs in as
h_log "store bench: $VENDORS vendors, $TICKETS tickets"
mkdir -p "$H_DIR/keys/vendors" "$H_DIR/tickets"
for ((i = 0; i < VENDORS; i++)); do
	v=$(printf 'v%04d' "$i")
	[[ -f $H_DIR/keys/vendors/$v.pub ]] || h_keygen "$H_DIR/keys/vendors/$v" || exit 1
	gw_vendor_add "$v"
	gw_person_add "$v" "$v.p" "$H_DIR/keys/vendors/$v.pub"
	GW_GRANT_NO_TICKET=1 gw_grant_add "$v" plc-07 "shell exec"
done
gw_config_extra 'max_startups = "100:30:1000";'
gw_config_extra 'per_source = { max_startups = 0; };' # every login from 127.0.0.1
gw_config_extra 'lockout = { failures = 0; person_failures = 0; };'
gw_config_write || exit 1 # the files gateway: the harness's own
ha_register files "$H_DIR/gw" "$GW_PORT" gatewayd

# ---- the tickets: made and signed once, installed into both stores ---------------------------
h_log "store bench: signing $TICKETS tickets"
export DIR=$H_DIR CTL=$H_GATEWAYCTL CONF=$GW_CONFIG KEY=$APPROVER_KEY VENDORS
# shellcheck disable=SC2016 # the script run by xargs expands its own arguments
seq 0 $((TICKETS - 1)) | xargs -P 2 -n 50 bash -c '
	for i in "$@"; do
		v=$(printf "v%04d" $((i % VENDORS)))
		f=$DIR/tickets/t$i.ticket
		[[ -f $f.sig ]] && continue
		"$CTL" -f "$CONF" ticket new --id "t$i" --vendor "$v" --target plc-07 --from now --to +1d \
			--approver owner --reason "bench work order $i" -o "$f" >/dev/null 2>&1 &&
			ssh-keygen -q -Y sign -n gatewayd-ticket -f "$KEY" "$f" || exit 1
	done' bench || { h_log "store bench: signing tickets failed"; exit 1; }
# acme.alice's, the one the bench logs in under.
"$H_GATEWAYCTL" -f "$GW_CONFIG" ticket new --id tacme --vendor acme --target plc-07 --from now \
	--to +1d --approver owner --reason "bench" -o "$H_DIR/tickets/tacme.ticket" >/dev/null 2>&1 &&
	ssh-keygen -q -Y sign -n gatewayd-ticket -f "$APPROVER_KEY" "$H_DIR/tickets/tacme.ticket" || exit 1
GW_NO_TICKETS=1

# files: the ticket files in state_dir, as `ticket install` leaves them.
if has_store files; then
	mkdir -p -m 0700 "$H_DIR/gw/state/tickets" && cp "$H_DIR"/tickets/*.ticket* "$H_DIR/gw/state/tickets/" || exit 1
	gw_start || exit 1
fi

# postgresql: gateway "pg" derived from the files one, the tickets installed through it.
if has_store postgresql; then
	pg_available || { h_log "store bench: no PostgreSQL 15 ($PG_BIN)"; exit 1; }
	pg_start || exit 1
	ha_config_derive pg || exit 1
	ha_store_block pg >>"${HA_CONF[pg]}"
	ha_migrate "${HA_CONF[pg]}" && ha_role_add pg || exit 1
	# As `ticket install` leaves them in its state_dir: the gateway sends what the database
	# lacks when it connects (docs/store.md); the bench waits until the store has them all.
	h_log "store bench: $TICKETS tickets into PostgreSQL (through gateway pg's state_dir)"
	mkdir -p -m 0700 "${HA_DIR[pg]}/state/tickets" &&
		cp "$H_DIR"/tickets/*.ticket* "${HA_DIR[pg]}/state/tickets/" || exit 1
	ha_gw_start pg || exit 1
	h_wait_for 1800 eval '(($(pg_sql "SELECT count(*) FROM tickets") > TICKETS))' ||
		{ h_log "store bench: only $(pg_sql "SELECT count(*) FROM tickets") tickets in the store"; exit 1; }
	h_log "store bench: $(pg_sql "SELECT count(*) FROM tickets") tickets in the store"
fi
declare -A PORT=([files]=$GW_PORT)
has_store postgresql && PORT[postgresql]=${HA_PORT[pg]}
declare -A AUDIT=([files]=$GW_AUDIT)
has_store postgresql && AUDIT[postgresql]=${HA_AUDIT[pg]}

login() { # login STORE: one login running `true`, through STORE's gateway
	timeout -k 5 60 ssh "${H_SSH_OPTS[@]}" -i "$VENDOR_KEY" -p "${PORT[$1]}" "$GW_DEST" true \
		</dev/null >/dev/null 2>&1
}
for s in "${STORES[@]}"; do
	login "$s" || { h_log "store bench: $s does not admit acme.alice"; exit 1; }
done

spread() { sort -n | awk '{ v[NR] = $1 } END { if (NR) printf "%s [%s-%s]", v[int((NR + 1) / 2)], v[1], v[NR]; else print "-" }'; }
median() { spread | cut -d' ' -f1; }

# rate STORE: PARALLEL clients logging in for RATE_SECONDS; prints logins a second (and
# failures to $H_DIR/rate-fails.STORE).
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
	cat "$H_DIR"/rate."$s".* | awk -v a="$t0" -v b="$EPOCHREALTIME" -v ff="$H_DIR/rate-fails.$s" \
		'{ n += $1; f += $2 } END { printf "%.1f\n", n / (b - a); print f >> ff }'
	rm -f "$H_DIR"/rate."$s".*
}

declare -A LOGIN RATE
for ((r = 0; r < ROUNDS; r++)); do
	for ((k = 0; k < ${#STORES[@]}; k++)); do
		s=${STORES[(k + r) % ${#STORES[@]}]}
		h_log "round $((r + 1))/$ROUNDS: $s: $CONNECTS logins, then $PARALLEL clients for $RATE_SECONDS s"
		for ((i = 0; i < CONNECTS; i++)); do
			t0=$EPOCHREALTIME
			login "$s" || LOGIN[$s.fails]=$((${LOGIN[$s.fails]:-0} + 1))
			LOGIN[$s]+=" $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", (b - a) * 1000 }')"
		done
		RATE[$s]+=" $(rate "$s")"
	done
done

# audit_ms FILE FROM TO: per session, ms from its FROM event to its TO event, one a line.
audit_ms() {
	jq -r --arg a "$2" --arg b "$3" 'select(.session != null and (.event == $a or .event == $b)) |
		[.session, .event, .ts] | @tsv' "$1" | python3 -c '
import sys, datetime
a, b = sys.argv[1], sys.argv[2]
seen = {}
for line in sys.stdin:
    sid, ev, ts = line.rstrip("\n").split("\t")
    t = datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").timestamp()
    if ev == a:
        seen[sid] = t
    elif sid in seen:
        print("%.0f" % ((t - seen.pop(sid)) * 1000))' "$2" "$3"
}

echo
echo "store bench: $(nproc) cores; load average before $LOAD_BEFORE, after $(cut -d' ' -f1-3 /proc/loadavg)"
echo "$VENDORS vendors, $TICKETS tickets; $ROUNDS interleaved rounds; median [min-max]"
printf '%-44s' metric
for s in "${STORES[@]}"; do printf ' %22s' "$s"; done
echo
row() { # row LABEL CMD...: one line, CMD STORE printing the figure
	local label=$1 s
	shift
	printf '%-44s' "$label"
	for s in "${STORES[@]}"; do printf ' %22s' "$("$@" "$s")"; done
	echo
}
fig_login() { printf '%s\n' ${LOGIN[$1]} | spread; }
fig_rate() { printf '%s\n' ${RATE[$1]} | spread; }
fig_decision() { audit_ms "${AUDIT[$1]}" auth_success access_decision | spread; }
fig_admission() { audit_ms "${AUDIT[$1]}" auth_success session_start | spread; }
fig_fails() { echo "$((${LOGIN[$1.fails]:-0} + $(awk '{ s += $1 } END { print s + 0 }' "$H_DIR/rate-fails.$1" 2>/dev/null || echo 0)))"; }
row "login + exec true, wall (ms)" fig_login
row "logins a second ($PARALLEL clients)" fig_rate
row "decision: auth to access_decision (ms)" fig_decision
row "admission: auth to session_start (ms)" fig_admission
row "failed logins" fig_fails
