#!/bin/bash
# bench.sh: file transfer throughput of stock `sftp -b` and `scp` (SFTP protocol), upload and
# download of one BENCH_MB file, through OpenSSH direct, OpenSSH through a jump host
# (ProxyJump-equivalent ProxyCommand ssh -W) and gatewayd (both directions granted, evidence
# and SHA-256 on), all against the same loopback sshd in one run. Every copy's sha256 is
# checked, and for gatewayd so is the sha256 it recorded. Not part of scripts/test.sh.
# Knobs: BENCH_MB (1024); BENCH_ROUNDS (5; the table shows the medians); BENCH_MODES,
# BENCH_TOOLS, BENCH_DIRS pick a subset (for profiling).
# The modes of one round run back to back, so gw/pj is taken per round (the two copies saw
# the same machine) and the table shows the median of those ratios with their range. Each
# copy also reports the CPU time the whole machine spent on it (/proc/stat), per GiB: the
# cost of a path, which a shared machine's load moves much less than its speed.
# Needs a build in $GW_BUILD (default ./build).
set -u
here=$(cd "$(dirname "$0")" && pwd)
export GW_SRC=${GW_SRC:-$(cd "$here/../.." && pwd)} GW_BUILD=${GW_BUILD:-$(cd "$here/../.." && pwd)/build}
MB=${BENCH_MB:-1024}
ROUNDS=${BENCH_ROUNDS:-5}
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
# busy: CPU seconds the whole machine has spent working (user, nice, system, irq, softirq).
busy() { awk -v hz="$(getconf CLK_TCK)" '/^cpu / { print ($2 + $3 + $4 + $7 + $8) / hz }' /proc/stat; }
declare -A MIBS FAILS RUNS CPUS
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
# compared run back to back and each round gives its own gw/pj (the machine is shared).
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
				c0=$(busy)
				t0=$(now)
				copy "$m" "$tool" "$dir" "$src" "$dst_file" </dev/null 2>"$H_DIR/$k.err" ||
					FAILS[$m]+="$tool-$dir($(head -c 80 "$H_DIR/$k.err")) "
				t1=$(now)
				c1=$(busy)
				v=$(awk -v s="$size" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", s / 1048576 / (b - a) }')
				CPUS[$k]+="$(awk -v s="$size" -v a="$c0" -v b="$c1" 'BEGIN { printf "%.2f", (b - a) / (s / 1073741824) }') "
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
# median: of the numbers given, the lower middle for an even count; "-" for none
median() { tr ' ' '\n' <<<"$*" | grep . | sort -n | awk '{ v[NR] = $1 } END { print NR ? v[int((NR + 1) / 2)] : "-" }'; }
# per_round A B: the ratio A/B of each round's pair of figures (a failed copy counts as 0)
per_round() {
	awk -v a="$1" -v b="$2" 'BEGIN { n = split(a, x, " "); split(b, y, " ")
		for (i = 1; i <= n; i++) printf "%.2f ", (y[i] > 0 ? x[i] / y[i] : 0) }'
}
range() { tr ' ' '\n' <<<"$*" | grep . | sort -n | sed -n '1p;$p' | paste -sd- -; }
for k in "${!RUNS[@]}"; do
	MIBS[$k]=$(median "${RUNS[$k]}")
done

echo
echo "transfer bench: $MB MiB file, $ROUNDS rounds, sha256 checked; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-16s %8s %8s %8s %11s %13s  %s\n' "MiB/s (median)" direct jump gatewayd "gw/pj" "(range)" target
for tool in "${TOOLS[@]}"; do
	for dir in "${DIRS[@]}"; do
		r=$(per_round "${RUNS[gatewayd.$tool.$dir]:-}" "${RUNS[jump.$tool.$dir]:-}")
		printf '%-16s %8s %8s %8s %11s %13s  %s\n' "$tool $([[ $dir == up ]] && echo upload || echo download)" \
			"${MIBS[direct.$tool.$dir]:--}" "${MIBS[jump.$tool.$dir]:--}" "${MIBS[gatewayd.$tool.$dir]:--}" \
			"$(median "$r")" "($(range "$r"))" ">= 1.20"
	done
done
printf '%-16s %8s %8s %8s\n' "failures" "${FAILS[direct]:-none}" "${FAILS[jump]:-none}" "${FAILS[gatewayd]:-none}"
echo
printf '%-16s %8s %8s %8s %11s\n' "CPU s/GiB (med)" direct jump gatewayd "pj/gw"
for tool in "${TOOLS[@]}"; do
	for dir in "${DIRS[@]}"; do
		printf '%-16s %8s %8s %8s %11s\n' "$tool $([[ $dir == up ]] && echo upload || echo download)" \
			"$(median "${CPUS[direct.$tool.$dir]:-}")" "$(median "${CPUS[jump.$tool.$dir]:-}")" \
			"$(median "${CPUS[gatewayd.$tool.$dir]:-}")" \
			"$(median "$(per_round "${CPUS[jump.$tool.$dir]:-}" "${CPUS[gatewayd.$tool.$dir]:-}")")"
	done
done
echo
echo "every round, MiB/s [machine CPU s/GiB]:"
for tool in "${TOOLS[@]}"; do
	for dir in "${DIRS[@]}"; do
		for m in "${MODES[@]}"; do
			printf '  %-8s %-4s %-4s %s\n' "$m" "$tool" "$dir" \
				"$(paste -d' ' <(tr ' ' '\n' <<<"${RUNS[$m.$tool.$dir]:-}" | grep .) \
					<(tr ' ' '\n' <<<"${CPUS[$m.$tool.$dir]:-}" | grep . | sed 's/.*/[&]/') | paste -sd' ' -)"
		done
	done
done
