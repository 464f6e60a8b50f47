#!/bin/bash
# bench.sh: file transfer throughput of stock `sftp -b` and `scp` (SFTP protocol), upload and
# download of one BENCH_MB file, through OpenSSH direct, OpenSSH through a jump host
# (ProxyJump-equivalent ProxyCommand ssh -W) and gatewayd (both directions granted, evidence
# and SHA-256 on), all against the same loopback sshd in one run. Every copy's sha256 is
# checked, and for gatewayd so is the sha256 it recorded. Not part of scripts/test.sh.
# Knobs: BENCH_MB (1024); BENCH_ROUNDS (3; the table shows the median); BENCH_MODES,
# BENCH_TOOLS, BENCH_DIRS pick a subset (for profiling).
# Needs a build in $GW_BUILD (default ./build).
set -u
here=$(cd "$(dirname "$0")" && pwd)
export GW_SRC=${GW_SRC:-$(cd "$here/../.." && pwd)} GW_BUILD=${GW_BUILD:-$(cd "$here/../.." && pwd)/build}
MB=${BENCH_MB:-1024}
ROUNDS=${BENCH_ROUNDS:-3}
H_TIMEOUT=1800
GW_ALLOW="shell exec upload download"
. "$GW_SRC/tests/lib/harness.sh"

h_setup || exit 1
sshd_start jump || exit 1
# The bench client uses the vendor key everywhere: direct and via the jump host too.
cat "$VENDOR_KEY.pub" >>"$H_DIR/plc-07/authorized_keys"
cat "$VENDOR_KEY.pub" >>"$H_DIR/jump/authorized_keys"
R=$H_DIR/remote # the target's side of every copy (the same machine, another directory)
mkdir -p -m 0755 "$R"

jump_proxy="ssh ${H_SSH_OPTS[*]} -i $VENDOR_KEY -p ${H_PORT[jump]} -W %h:%p $TARGET_DEST"
# dest_argv MODE PORT-OPTION: sets ARGV to the options and DEST to the user@host for MODE
# (scp and sftp spell the port option -P).
dest_argv() {
	ARGV=("${H_SSH_OPTS[@]}" -i "$VENDOR_KEY")
	case $1 in
	direct) ARGV+=(-P "${H_PORT[plc-07]}"); DEST=$TARGET_DEST ;;
	jump) ARGV+=(-o "ProxyCommand=$jump_proxy" -P "${H_PORT[plc-07]}"); DEST=$TARGET_DEST ;;
	gatewayd) ARGV+=(-P "$GW_PORT"); DEST=$GW_DEST ;;
	esac
}

# copy MODE TOOL DIRECTION SRC DST: one transfer; SRC/DST are local, the remote side is implied.
copy() {
	local m=$1 tool=$2 dir=$3 src=$4 dst=$5
	dest_argv "$m"
	if [[ $tool == scp ]]; then
		if [[ $dir == up ]]; then
			timeout -k 5 "$H_TIMEOUT" scp -q "${ARGV[@]}" "$src" "$DEST:$dst"
		else
			timeout -k 5 "$H_TIMEOUT" scp -q "${ARGV[@]}" "$DEST:$src" "$dst"
		fi
	else
		if [[ $dir == up ]]; then
			echo "put $src $dst" >"$H_DIR/batch"
		else
			echo "get $src $dst" >"$H_DIR/batch"
		fi
		timeout -k 5 "$H_TIMEOUT" sftp -q "${ARGV[@]}" -b "$H_DIR/batch" "$DEST" >/dev/null
	fi
}

read -ra MODES <<<"${BENCH_MODES:-direct jump gatewayd}"
read -ra TOOLS <<<"${BENCH_TOOLS:-sftp scp}"
read -ra DIRS <<<"${BENCH_DIRS:-up down}"
for m in "${MODES[@]}"; do
	echo x >"$H_DIR/probe"
	copy "$m" scp up "$H_DIR/probe" "$R/probe.$m" </dev/null 2>"$H_DIR/probe.err" ||
		{ echo "bench: $m does not work: $(cat "$H_DIR/probe.err")"; exit 1; }
done

h_log "preparing $MB MiB of random data"
head -c $((MB * 1024 * 1024)) /dev/urandom >"$R/src.bin"
size=$(stat -c %s "$R/src.bin")
sum=$(sha256sum "$R/src.bin" | awk '{ print $1 }')

now() { date +%s.%N; }
declare -A MIBS FAILS RUNS
# gw_recorded PATH FLAG: the sha256 gatewayd recorded for the last close of PATH opened with FLAG.
gw_recorded() {
	python3 - "$GW_AUDIT" "$1" "$2" <<-'EOF'
		import json, sys
		log, path, flag = sys.argv[1:4]
		last = "none"
		for line in open(log, encoding="utf-8"):
		    e = json.loads(line)
		    if (e.get("event") == "file_operation" and e.get("op") == "close"
		            and e.get("path") == path and flag in e.get("flags", [])):
		        last = e.get("sha256", "none")
		print(last)
	EOF
}

# Each round copies every tool and direction through each mode in turn, so the modes being
# compared run back to back; the table shows the median round (the machine is shared).
for ((round = 1; round <= ROUNDS; round++)); do
	for tool in "${TOOLS[@]}"; do
		for dir in "${DIRS[@]}"; do
			for m in "${MODES[@]}"; do
				k=$m.$tool.$dir
				src=$R/src.bin
				dst_file=$([[ $dir == up ]] && echo "$R/up.bin" || echo "$H_DIR/down.bin")
				rm -f "$dst_file"
				sync
				h_log "round $round: $m: $tool $dir"
				t0=$(now)
				copy "$m" "$tool" "$dir" "$src" "$dst_file" </dev/null 2>"$H_DIR/$k.err" ||
					FAILS[$m]+="$tool-$dir($(head -c 80 "$H_DIR/$k.err")) "
				t1=$(now)
				v=$(awk -v s="$size" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", s / 1048576 / (b - a) }')
				[[ -f $dst_file && $(sha256sum "$dst_file" | awk '{ print $1 }') == "$sum" ]] ||
					{ FAILS[$m]+="$tool-$dir(sha256) "; v=0; }
				if [[ $m == gatewayd ]]; then
					flag=$([[ $dir == up ]] && echo write || echo read)
					path=$([[ $dir == up ]] && echo "$dst_file" || echo "$src")
					[[ $(gw_recorded "$path" "$flag") == "$sum" ]] ||
						FAILS[$m]+="$tool-$dir(recorded sha256) "
				fi
				RUNS[$k]+="$v "
				rm -f "$dst_file"
			done
		done
	done
done
# median of the rounds (the lower middle for an even count); a failed copy counts as 0
for k in "${!RUNS[@]}"; do
	MIBS[$k]=$(tr ' ' '\n' <<<"${RUNS[$k]}" | grep . | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "-" && b > 0) printf "%.2f", a / b; else print "-" }'; }
echo
echo "transfer bench: $MB MiB file, median of $ROUNDS rounds, sha256 checked; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-22s %10s %10s %10s %8s  %s\n' "MiB/s" direct proxyjump gatewayd gw/pj target
for tool in "${TOOLS[@]}"; do
	for dir in "${DIRS[@]}"; do
		printf '%-22s %10s %10s %10s %8s  %s\n' "$tool $([[ $dir == up ]] && echo upload || echo download)" \
			"${MIBS[direct.$tool.$dir]:--}" "${MIBS[jump.$tool.$dir]:--}" "${MIBS[gatewayd.$tool.$dir]:--}" \
			"$(ratio "${MIBS[gatewayd.$tool.$dir]:--}" "${MIBS[jump.$tool.$dir]:--}")" ">= 1.20"
	done
done
printf '%-22s %10s %10s %10s\n' "failures" "${FAILS[direct]:-none}" "${FAILS[jump]:-none}" "${FAILS[gatewayd]:-none}"
echo "every round (MiB/s):"
for tool in "${TOOLS[@]}"; do
	for dir in "${DIRS[@]}"; do
		for m in "${MODES[@]}"; do
			printf '  %-8s %-4s %-4s %s\n' "$m" "$tool" "$dir" "${RUNS[$m.$tool.$dir]:-}"
		done
	done
done
