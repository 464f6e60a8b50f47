#!/bin/bash
# coverage.sh [BUILD-DIR]: which integration tests the sanitizer build must run so that ASan and
# UBSan see every line of our code that the integration tests reach. Builds BUILD-DIR (default
# build-coverage: clang-14, GW_COVERAGE, the sanitizer build's code with line counters instead of
# the sanitizers), runs each integration test alone with counters of its own, and picks a set of
# tests that together reach every line all of them reach: first the tests no other can replace,
# then, while lines are missing, the one that adds most per second of CPU, then drops any chosen
# test the others make redundant. A test that fails in this build stays in (its lines are
# counted only as far as it ran). Prints per test its lines, the lines only it reaches and its
# CPU; then the tests redundant in this run; and it fails when the tests the sanitizer run keeps
# (all but GW_SANITIZE_COVERED in tests/CMakeLists.txt) miss a line this run reached.
# GW_COVERAGE_JOBS (default 2): tests at once. GW_COVERAGE_TESTS: a ctest -R regex of the
# tests to measure (default all). The counters and reports stay in BUILD-DIR/coverage/.
set -u
. "$(dirname "$0")/lib/setup.sh"
cd "$GW_ROOT" || exit 1
BUILD=${1:-build-coverage}
[[ $BUILD == /* ]] || BUILD=$GW_ROOT/$BUILD
cc=$(command -v clang-14 || command -v clang) || { echo "coverage.sh: clang is not installed" >&2; exit 2; }
gw_build "$BUILD" -DCMAKE_C_COMPILER="$cc" -DGW_COVERAGE=ON >/dev/null || { echo "build failed"; exit 1; }
out=$BUILD/coverage
rm -rf "$out" && mkdir -p "$out" || exit 1

# measure_one TEST: runs TEST with its counters in $out/TEST/ (mode 1777: the front writes its
# own as gatewayd-front); writes $out/TEST.time (user and system seconds of it and of the
# children it waited for) and $out/TEST.rc (its exit status).
measure_one() {
	local t=$1
	mkdir -m 1777 "$out/$t" || return 1
	LLVM_PROFILE_FILE="$out/$t/%p%c.profraw" /usr/bin/time -f '%U %S' -o "$out/$t.time" \
		ctest --test-dir "$BUILD" --output-on-failure -R "^$t\$" >"$out/$t.log" 2>&1
	echo $? >"$out/$t.rc"
}
export -f measure_one
export out BUILD
mapfile -t tests < <(ctest --test-dir "$BUILD" -N -L integration -R "${GW_COVERAGE_TESTS:-.}" |
	awk '/Test +#/ { print $3 }')
gw_say "running ${#tests[@]} integration tests, ${GW_COVERAGE_JOBS:-2} at once"
printf '%s\n' "${tests[@]}" | xargs -P "${GW_COVERAGE_JOBS:-2}" -I{} bash -c 'measure_one {}'

# Our programs: every executable of the tree but the unit tests and benchmarks.
mapfile -t programs < <(find "$BUILD" -path "$BUILD/CMakeFiles" -prune -o -path "$out" -prune -o \
	-path "$BUILD/bench" -prune -o -type f -perm -u+x ! -name 'test_*' ! -name '*.so' -print)
objects=()
for p in "${programs[@]}"; do objects+=(-object "$p"); done
gw_say "line counts per test"
for t in "${tests[@]}"; do
	[[ $(cat "$out/$t.rc") == 0 ]] ||
		echo "coverage.sh: $t failed in $BUILD (log: $out/$t.log): it stays in the sanitizer run" >&2
	# llvm-profdata warns of a file whose counters do not match its program (seen once in 59
	# tests) and merges the others: the warnings are not shown.
	llvm-profdata-14 merge -sparse "$out/$t"/*.profraw -o "$out/$t.profdata" 2>/dev/null &&
		llvm-cov-14 export -format=lcov -skip-functions -instr-profile="$out/$t.profdata" \
			"${objects[@]:1}" >"$out/$t.lcov" 2>/dev/null || { echo "coverage.sh: no counters for $t" >&2; exit 1; }
done
python3 "$GW_ROOT/scripts/lib/coverset.py" "$GW_ROOT" "$out" "${tests[@]}"
