#!/bin/bash
# fuzz.sh [SECONDS] [HARNESS...]: builds the libFuzzer harnesses of tests/fuzz (clang, ASan+UBSan)
# into build-fuzz and runs each for SECONDS (default 60), as many at once as there are cores
# (GW_FUZZ_JOBS), niced; then prints per harness, in order:
# executions, coverage (edges), corpus size, crashes; exits non-zero when any harness found one.
# Each harness grows its own corpus in build-fuzz/fuzz-work/NAME/ (seeded from tests/fuzz/corpus/);
# a crash leaves the input there as crash-*/leak-*/timeout-* and the report as NAME.log.
# GW_FUZZ_BUILD: build directory (default build-fuzz); GW_FUZZ_ARGS: more libFuzzer options.
# GW_FUZZ_CPU=1: SECONDS are seconds of CPU each harness uses rather than of the clock, so that it
# does the same work on a machine that other jobs share (scripts/test.sh runs it beside the tests).
# GW_FUZZ_RUNS=N: a campaign instead of SECONDS: each harness runs in processes of GW_FUZZ_CHUNK
# (500000) executions on its growing corpus until N executions in all (see docs/fuzzing.md).
set -u
. "$(dirname "$0")/lib/setup.sh"
cd "$GW_ROOT" || exit 1
secs=60
if [[ $# -gt 0 && $1 =~ ^[0-9]+$ ]]; then secs=$1; shift; fi
build=${GW_FUZZ_BUILD:-build-fuzz}
cc=$(command -v clang-14 || command -v clang) || { echo "fuzz.sh: clang is not installed" >&2; exit 2; }
gw_say "building $build (libFuzzer, $cc)"
CC=$cc cmake -S "$GW_ROOT" -B "$build" -G Ninja -DGW_FUZZ=ON >/dev/null &&
	nice -n 10 cmake --build "$build" -j "${GW_JOBS:-2}" --target fuzzers || exit 2

names=("$@")
if ((${#names[@]} == 0)); then
	for f in tests/fuzz/fuzz_*.c; do names+=("$(basename "$f" .c)"); done
fi
# Two frames of allocation stack: unwinding every malloc was a third of a harness's time.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:malloc_context_size=2}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$GW_ROOT/tests/fuzz/lsan.supp}
# The suppressions name libconfig's functions: stacks must be symbolized (llvm-14).
[[ -x /usr/bin/llvm-symbolizer-14 ]] && export ASAN_SYMBOLIZER_PATH=${ASAN_SYMBOLIZER_PATH:-/usr/bin/llvm-symbolizer-14}
found=0
printf '%-16s %12s %8s %8s %7s %s\n' harness executions exec/s edges corpus crashes
# Harnesses over libconfig 1.5, which leaks on every syntax error (see lsan.supp): with leak
# checks on, each refused input costs a leak scan and they run at a tenth of the speed, and in
# a campaign their memory grows. Campaign chunks run them without leak checks; the grown corpus
# is then replayed once with leak checks on.
leaky=" config window ticket "
# fuzz_stop_at_cpu PID SECONDS: asks PID to end once it has used SECONDS of CPU. SIGUSR1, on which
# libFuzzer only sets a flag, ends the run between two inputs (stats printed, exit 0); SIGINT's
# handler prints and removes files at once, and deadlocked when it struck inside malloc.
fuzz_stop_at_cpu() {
	local pid=$1 ticks=$(($2 * $(getconf CLK_TCK))) stat fields
	while read -r stat 2>/dev/null <"/proc/$pid/stat"; do
		# utime, stime, cutime, cstime: the 12th to 15th fields after the command's closing
		# parenthesis; the children are LeakSanitizer's, which scans from a process of its own.
		read -ra fields <<<"${stat##*) }"
		if ((fields[11] + fields[12] + fields[13] + fields[14] >= ticks)); then
			kill -USR1 "$pid"
			return
		fi
		sleep 0.2
	done
}
# fuzz_one NAME LOG ARGS...: one libFuzzer process; sets rc, execs, speed. With CPU_SECONDS set,
# it is stopped after that much CPU, the clock limit ARGS give being only a backstop.
fuzz_one() {
	local name=$1 log=$2 pid
	shift 2
	nice -n 15 "$build/tests/fuzz/$name" -timeout=25 -print_final_stats=1 -artifact_prefix="$work/" \
		${GW_FUZZ_ARGS:-} "$@" "$work/corpus" "$seeds" >"$log" 2>&1 &
	pid=$!
	[[ -n ${CPU_SECONDS:-} ]] && fuzz_stop_at_cpu "$pid" "$CPU_SECONDS"
	wait "$pid"
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
}
# fuzz_harness NAME: runs one harness (SECONDS, or a campaign), prints its line (and its first
# error) to $build/fuzz-work/NAME/result, and exits non-zero when it found anything.
fuzz_harness() {
	local name=fuzz_${1#fuzz_} bin seeds work log rc execs speed total chunks t0 leaks edges crashes
	bin=$build/tests/fuzz/$name
	seeds=tests/fuzz/corpus/${name#fuzz_}
	work=$build/fuzz-work/$name
	mkdir -p "$work/corpus"
	[[ -x $bin ]] || { echo "fuzz.sh: no harness $bin" >"$work/result"; return 1; }
	rm -f "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-*
	log=$work/$name.log
	if [[ ${GW_FUZZ_RUNS:-} =~ ^[0-9]+$ ]]; then
		total=0 chunks=0 t0=$SECONDS
		leaks=()
		[[ $leaky == *" ${name#fuzz_} "* ]] && leaks=(-detect_leaks=0)
		while ((total < GW_FUZZ_RUNS)); do
			fuzz_one "$name" "$log" -runs="${GW_FUZZ_CHUNK:-500000}" -rss_limit_mb=4096 "${leaks[@]}"
			((rc == 0)) || break
			total=$((total + ${execs:-0})) chunks=$((chunks + 1))
			echo "$(date +%T) ${name#fuzz_} chunk $chunks: ${execs:-?} executions, $total in all" >>"$work/campaign.log"
		done
		if ((rc == 0 && ${#leaks[@]} > 0)); then
			fuzz_one "$name" "$log" -runs=0
			echo "$(date +%T) ${name#fuzz_} corpus replayed with leak checks: rc $rc" >>"$work/campaign.log"
		fi
		execs=$total speed=$((total / (SECONDS - t0 + 1)))
	elif [[ ${GW_FUZZ_CPU:-0} == 1 ]]; then
		CPU_SECONDS=$secs fuzz_one "$name" "$log" -max_total_time=$((secs * 60))
	else
		fuzz_one "$name" "$log" -max_total_time="$secs"
	fi
	edges=$(grep -oE ' cov: [0-9]+' "$log" | tail -1 | tr -dc 0-9)
	crashes=$(find "$work" -maxdepth 1 -name 'crash-*' -o -maxdepth 1 -name 'leak-*' -o \
		-maxdepth 1 -name 'timeout-*' -o -maxdepth 1 -name 'oom-*' | wc -l)
	((rc != 0 && crashes == 0)) && crashes="exit $rc"
	{
		printf '%-16s %12s %8s %8s %7s %s\n' "${name#fuzz_}" "${execs:-?}" "${speed:-?}" \
			"${edges:-?}" "$(find "$work/corpus" -type f | wc -l)" "$crashes"
		if [[ $rc != 0 || $crashes != 0 ]]; then
			grep -m1 -A12 -E '^==[0-9]+==ERROR|runtime error|deadly signal|Timeout|out-of-memory' \
				"$log" | sed 's/^/    /'
		fi
	} >"$work/result"
	[[ $rc == 0 && $crashes == 0 ]]
}
# As many harnesses at once as there are cores (GW_FUZZ_JOBS): each is one single-threaded
# process, so the smoke takes half the time on two cores and each harness still gets its SECONDS.
jobs_max=${GW_FUZZ_JOBS:-$(nproc)}
declare -A pid_of
for name in "${names[@]}"; do
	name=fuzz_${name#fuzz_}
	while (($(jobs -rp | wc -l) >= jobs_max)); do wait -n; done
	rm -f "$build/fuzz-work/$name/result"
	fuzz_harness "$name" &
	pid_of[$name]=$!
done
for name in "${names[@]}"; do
	name=fuzz_${name#fuzz_}
	wait "${pid_of[$name]}" || found=1
	cat "$build/fuzz-work/$name/result" 2>/dev/null || { echo "${name#fuzz_}: no result"; found=1; }
done
exit $found
