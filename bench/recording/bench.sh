#!/bin/bash
# bench/recording/bench.sh: recording bytes on disk per byte relayed, for content chosen to be
# expensive to record: zero bytes (each "\u0000" in JSON), random bytes, text, and a vendor
# sending one byte per SSH packet (one event each). Prints one line per case:
#   CASE relayed_bytes recording_bytes ratio
# BENCH_MB (default 5) sets the size of the bulk cases, BENCH_TINY (default 20000) the packets.
#
# bench.sh --compression: the same gateway with recording_compression = "zstd", for realistic
# sessions (vi editing a file in a pty, a shell running a few commands, `top -b -n 3`, a build
# log) and bulk output (base64 text, random bytes, zeros). One line per case:
#   CASE relayed_bytes cast_bytes zst_bytes cast/relayed zst/relayed cast/zst
# (BENCH_SHOW=1: each session's last transcript lines on stderr.)
# relayed: the bytes of the recorded streams (output, stderr, input); cast: the plain recording
# as written while the session ran; zst: what is kept once it is sealed.
. "${GW_SRC:-$(dirname "$0")/../..}/tests/lib/harness.sh"
COMPRESSION=0
[[ ${1:-} == --compression ]] && COMPRESSION=1
((COMPRESSION)) && gw_config_extra 'recording_compression = "zstd";'
h_setup || exit 1

MB=${BENCH_MB:-5}
N=$((MB * 1000000))

# relayed_of FILE.cast.zst: the bytes of its o/e/i streams, exact (raw events decoded).
relayed_of() {
	zstd -q -dc "$1" | python3 -c '
import base64, json, sys
n = 0
for i, line in enumerate(sys.stdin.buffer):
    if i == 0:
        continue
    ev = json.loads(line)
    if ev[1] in ("o", "e", "i"):
        n += len(ev[2].encode("utf-8", "surrogatepass"))
    elif ev[1] in ("ob", "eb", "ib"):
        n += len(base64.b64decode(ev[2]))
print(n)'
}

# zst_case NAME CMD...: runs CMD (one session), waits for its recording to be kept compressed,
# prints the line.
zst_case() {
	local name=$1 before zst cast relayed
	shift
	before=$(ls "$GW_RECORDINGS"/*.cast.zst 2>/dev/null | wc -l)
	"$@" >/dev/null 2>&1 || { h_log "$name: session failed"; return 1; }
	more() { (($(ls "$GW_RECORDINGS"/*.cast.zst 2>/dev/null | wc -l) > before)) &&
		! ls "$GW_RECORDINGS"/*.cast >/dev/null 2>&1; }
	h_wait_for 120 more || { h_log "$name: not compressed"; return 1; }
	zst=$(ls -t "$GW_RECORDINGS"/*.cast.zst | head -n 1)
	cast=$(zstd -q -dc "$zst" | wc -c)
	relayed=$(relayed_of "$zst")
	printf '%-12s %10d %10d %10d %8.3f %8.3f %8.1f\n' "$name" "$relayed" "$cast" "$(stat -c %s "$zst")" \
		"$(echo "$cast / $relayed" | bc -l)" "$(echo "$(stat -c %s "$zst") / $relayed" | bc -l)" \
		"$(echo "$cast / $(stat -c %s "$zst")" | bc -l)"
	# What the session showed, to see that the scripted one did what it should.
	[[ -z ${BENCH_SHOW:-} ]] || "$H_GATEWAYCTL" -f "$GW_CONFIG" transcript "$zst" | tail -n 5 >&2
}

# A person at a terminal (tmux drives ssh -tt): KEYS... typed one by one with a pause, as a
# person types; then the session ends.
typed_session() {
	local k
	h_tmux_start 120 40 "ssh ${H_SSH_OPTS[*]} -tt -i $VENDOR_KEY -p $GW_PORT $GW_DEST" || return 1
	h_tmux_wait '[$#] ?$' 20 || return 1
	for k in "$@"; do
		h_tmux_send "$k"
		sleep 0.05 # human typing speed is the point of this case, not a wait for a state
	done
	h_tmux_wait_exit 30
}

if ((COMPRESSION)); then
	printf '%-12s %10s %10s %10s %8s %8s %8s\n' case relayed cast zst cast/rel zst/rel cast/zst
	seq 1 400 | sed 's/^/line /' >"$H_DIR/notes.txt"
	zst_case vi typed_session "vi $H_DIR/notes.txt" Enter 50G o "setpoint_temp = 42.5" Escape \
		/line Enter n n n 200G dd dd u ':%s/line/row/g' Enter G o "end of change WO-4711" Escape \
		':wq' Enter "exit" Enter
	zst_case shell typed_session "uname -a" Enter "ls -la /etc | head -n 40" Enter "df -h" Enter \
		"ps aux | head -n 30" Enter "cat /etc/os-release" Enter "exit" Enter
	zst_case top gw_ssh "$GW_DEST" 'top -b -n 3 -d 0.5'
	# A build log: a real compiler's verbose output over a tree of sources.
	zst_case build-log gw_ssh "$GW_DEST" "cd $H_SRC && for f in common/*.c evidence/*.c policy/*.c; do
		echo \"[cc] \$f\"; gcc -fsyntax-only -I. -D_GNU_SOURCE -Wall -Wextra -H \"\$f\" 2>&1 | head -n 200; done"
	head -c "$N" /dev/urandom >"$H_DIR/random"
	zst_case base64 gw_ssh "$GW_DEST" "base64 $H_DIR/random"
	zst_case random gw_ssh "$GW_DEST" "cat $H_DIR/random"
	zst_case zero gw_ssh "$GW_DEST" "head -c $N /dev/zero"
	exit 0
fi

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
