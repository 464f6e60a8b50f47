#!/bin/bash
# bench/recording/bench.sh: recording bytes on disk per byte relayed, for content chosen to be
# expensive to record: zero bytes (each "\u0000" in JSON), random bytes, text, and a vendor
# sending one byte per SSH packet (one event each). Prints one line per case:
#   CASE relayed_bytes recording_bytes ratio
# BENCH_MB (default 5) sets the size of the bulk cases, BENCH_TINY (default 20000) the packets.
. "${GW_SRC:-$(dirname "$0")/../..}/tests/lib/harness.sh"
h_setup || exit 1

MB=${BENCH_MB:-5}
N=$((MB * 1000000))

bench_case() {
	local name=$1 relayed=$2 before after
	after=$(cat "$GW_RECORDINGS"/*.cast | wc -c)
	printf '%-12s %10d %10d %6.3f\n' "$name" "$relayed" "$((after - BEFORE))" \
		"$(echo "($after - $BEFORE) / $relayed" | bc -l)"
	BEFORE=$after
}

BEFORE=0
gw_ssh "$GW_DEST" "head -c $N /dev/zero" >/dev/null && bench_case zero "$N"
head -c "$N" /dev/urandom >"$H_DIR/random"
gw_ssh "$GW_DEST" "cat $H_DIR/random" >/dev/null && bench_case random "$N"
yes 'PLC-07 status: running, cycle 12 ms, inputs 0x3f, outputs ok' | head -c "$N" >"$H_DIR/text"
gw_ssh "$GW_DEST" "cat $H_DIR/text" >/dev/null && bench_case text "$N"
T=${BENCH_TINY:-20000}
h_hostile "$H_SRC/tests/integration/hostile_recording.py" --bytes "$T" >/dev/null &&
	bench_case one-byte "$T"
