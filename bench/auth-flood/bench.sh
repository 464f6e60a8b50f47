#!/bin/bash
# bench.sh: two floods from one source each, while the legitimate person logs in from another
# source (127.0.0.2) again and again:
#  auth: 10,000 failed logins from 127.0.0.1 (the vendor person's own name with a wrong key,
#        BENCH_PROCS parallel libssh clients); reports how many flood attempts reached
#        authentication and how many were dropped before it, and the gateway's CPU time
#        (listener and all session processes);
#  idle: BENCH_IDLE (100) unauthenticated connections from 127.0.0.3 that never send a byte,
#        each one the gateway drops made again, for BENCH_IDLE_SECONDS (60).
# For each: the legitimate logins' success rate and times (target: all succeed, each within 2 s).
# Not part of scripts/test.sh. Knobs: BENCH_FLOODS ("auth idle"), BENCH_ATTEMPTS (10000),
# BENCH_PROCS (8), BENCH_LOCKOUT and BENCH_PER_SOURCE (gateway settings, default: built-in).
set -u
here=$(cd "$(dirname "$0")" && pwd)
export GW_SRC=${GW_SRC:-$(cd "$here/../.." && pwd)} GW_BUILD=${GW_BUILD:-$(cd "$here/../.." && pwd)/build}
ATTEMPTS=${BENCH_ATTEMPTS:-10000} PROCS=${BENCH_PROCS:-8}
FLOOD=$GW_BUILD/bench/auth-flood/auth_flood
. "$GW_SRC/tests/lib/harness.sh"
[[ -x $FLOOD ]] || { h_log "build $FLOOD first"; exit 1; }

sshd_start plc-07 || exit 1
gw_policy_default
[[ -n ${BENCH_LOCKOUT:-} ]] && gw_config_extra "lockout = { $BENCH_LOCKOUT };"
[[ -n ${BENCH_PER_SOURCE:-} ]] && gw_config_extra "per_source = { $BENCH_PER_SOURCE };"
h_keygen "$H_DIR/keys/attacker" || exit 1
gw_start || exit 1
gw_pid=$(h_pid gatewayd)

# cpu_seconds PID: user + system time of PID and its reaped children.
cpu_seconds() {
	awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15 + $16 + $17) / hz }' "/proc/$1/stat"
}

legit_login() {
	local t0=$EPOCHREALTIME out
	out=$(timeout -k 5 30 ssh "${H_SSH_OPTS[@]}" -b 127.0.0.2 -i "$VENDOR_KEY" -p "$GW_PORT" \
		"$GW_DEST" 'echo in' 2>&1)
	[[ $out == *in* ]] || { echo "FAILED $out"; return; }
	python3 -c "import sys; print('%.3f' % (float(sys.argv[2]) - float(sys.argv[1])))" \
		"$t0" "$EPOCHREALTIME"
}

# legit_report FILE: success rate and times of the legitimate logins listed in FILE.
legit_report() {
	python3 - "$1" <<'PY'
import statistics, sys
times, failed = [], 0
for line in open(sys.argv[1]):
    if line.startswith("FAILED"):
        failed += 1
    else:
        times.append(float(line))
n = len(times) + failed
if times:
    print("legitimate logins from 127.0.0.2: %d of %d ok (%.0f %%); median %.3f s, max %.3f s"
          % (len(times), n, 100.0 * len(times) / n, statistics.median(times), max(times)))
    print("target (every login within 2 s): %s" % ("met" if failed == 0 and max(times) <= 2 else "MISSED"))
else:
    print("legitimate logins: none of %d succeeded: target MISSED" % failed)
PY
}

# login_while PID: legitimate logins into $H_DIR/legit.times while PID runs, and once after.
login_while() {
	: >"$H_DIR/legit.times"
	sleep 0.2
	while kill -0 "$1" 2>/dev/null; do
		legit_login >>"$H_DIR/legit.times"
		sleep 0.3
	done
}

auth_phase() {
	echo "== auth flood: $ATTEMPTS failed logins from 127.0.0.1"
	cpu0=$(cpu_seconds "$gw_pid")
	t0=$EPOCHREALTIME
	"$FLOOD" "$GW_PORT" 127.0.0.1 "acme.alice+plc-07" "$H_DIR/keys/attacker.pub" "$ATTEMPTS" "$PROCS" \
		>"$H_DIR/flood.out" 2>&1 &
	flood=$!
	login_while "$flood"
	wait "$flood"
	t1=$EPOCHREALTIME
	legit_login >>"$H_DIR/legit.times" # once more, right after the flood
	sleep 1 # the last session processes are reaped and counted
	cpu1=$(cpu_seconds "$gw_pid")

	echo "flood: $(cat "$H_DIR/flood.out")"
	python3 - "$t0" "$t1" "$cpu0" "$cpu1" "$GW_AUDIT" <<'PY'
import json, sys
t0, t1, c0, c1 = map(float, sys.argv[1:5])
reached = lockouts = 0
for line in open(sys.argv[5]):
    ev = json.loads(line)
    if ev.get("event") == "auth_failure" and ev.get("client") == "127.0.0.1":
        reached += 1
    if ev.get("event") == "lockout":
        lockouts += 1
wall = t1 - t0
print("flood wall time: %.1f s" % wall)
print("flood attempts that reached authentication (audit auth_failure): %d" % reached)
print("lockout audit events: %d" % lockouts)
print("gateway CPU during the flood: %.2f s (%.0f %% of one core)" % (c1 - c0, 100 * (c1 - c0) / wall))
PY
	legit_report "$H_DIR/legit.times"
}

idle_phase() {
	local n=${BENCH_IDLE:-100} secs=${BENCH_IDLE_SECONDS:-60} flood
	echo "== idle flood: $n unauthenticated connections from 127.0.0.3 for $secs s"
	"$FLOOD" idle "$GW_PORT" 127.0.0.3 "$n" "$secs" >"$H_DIR/idle.out" 2>&1 &
	flood=$!
	login_while "$flood"
	wait "$flood"
	echo "flood: $(cat "$H_DIR/idle.out")"
	legit_report "$H_DIR/legit.times"
}

echo "baseline legitimate login (no flood): $(legit_login) s"
echo "machine load before: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)"
for phase in ${BENCH_FLOODS:-auth idle}; do
	"${phase}_phase"
done
echo "machine load after: $(cut -d' ' -f1-3 /proc/loadavg)"
