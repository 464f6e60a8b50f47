#!/bin/bash
# fuzz.sh [SECONDS] [HARNESS...]: builds the libFuzzer harnesses of tests/fuzz (clang, ASan+UBSan)
# into build-fuzz and runs each for SECONDS (default 60), one at a time, niced. Prints per harness:
# executions, coverage (edges), corpus size, crashes; exits non-zero when any harness found one.
# Each harness grows its own corpus in build-fuzz/fuzz-work/NAME/ (seeded from tests/fuzz/corpus/);
# a crash leaves the input there as crash-*/leak-*/timeout-* and the report as NAME.log.
# GW_FUZZ_BUILD: build directory (default build-fuzz); GW_FUZZ_ARGS: more libFuzzer options.
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
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$GW_ROOT/tests/fuzz/lsan.supp}
# The suppressions name libconfig's functions: stacks must be symbolized (llvm-14).
[[ -x /usr/bin/llvm-symbolizer-14 ]] && export ASAN_SYMBOLIZER_PATH=${ASAN_SYMBOLIZER_PATH:-/usr/bin/llvm-symbolizer-14}
found=0
printf '%-16s %12s %8s %8s %7s %s\n' harness executions exec/s edges corpus crashes
for name in "${names[@]}"; do
	name=fuzz_${name#fuzz_}
	bin=$build/tests/fuzz/$name
	seeds=tests/fuzz/corpus/${name#fuzz_}
	work=$build/fuzz-work/$name
	[[ -x $bin ]] || { echo "fuzz.sh: no harness $bin" >&2; found=1; continue; }
	mkdir -p "$work/corpus"
	rm -f "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-*
	nice -n 15 "$bin" -max_total_time="$secs" -timeout=25 -print_final_stats=1 \
		-artifact_prefix="$work/" ${GW_FUZZ_ARGS:-} "$work/corpus" "$seeds" >"$work/$name.log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$name.log" | tail -1)
	speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/$name.log" | tail -1)
	edges=$(grep -oE ' cov: [0-9]+' "$work/$name.log" | tail -1 | tr -dc 0-9)
	crashes=$(find "$work" -maxdepth 1 -name 'crash-*' -o -maxdepth 1 -name 'leak-*' -o \
		-maxdepth 1 -name 'timeout-*' -o -maxdepth 1 -name 'oom-*' | wc -l)
	((rc != 0 && crashes == 0)) && crashes="exit $rc"
	printf '%-16s %12s %8s %8s %7s %s\n' "${name#fuzz_}" "${execs:-?}" "${speed:-?}" "${edges:-?}" \
		"$(find "$work/corpus" -type f | wc -l)" "$crashes"
	if [[ $rc != 0 || $crashes != 0 ]]; then
		found=1
		grep -m1 -A12 -E '^==[0-9]+==ERROR|runtime error|deadly signal|Timeout|out-of-memory' \
			"$work/$name.log" | sed 's/^/    /'
	fi
done
exit $found
