#!/bin/bash
# test.sh: everything CI checks, from a fresh Debian 12 machine: installs missing packages,
# builds the normal build (gcc) and the sanitizer build (clang: ASan+UBSan, and the libFuzzer
# harnesses), runs every unit and integration test in the first and the fuzz corpora, the unit
# tests and the integration tests that together reach every line of our code any of them reaches
# in the second (label "covered" marks the others: scripts/coverage.sh measured it; the search of
# a core for keys and the browser's rendering of an evidence bundle are the first's alone:
# tests/CMakeLists.txt), checks the C style (clang-format), runs each libFuzzer harness
# briefly (scripts/fuzz.sh, GW_FUZZ_SMOKE seconds of CPU each, default 10) and one scenario under
# valgrind (scripts/valgrind.sh), prints "N passed, N failed" and exits non-zero on any failure.
# The sanitizer build, and right after it the fuzz smoke, run in the background at idle priority
# (SCHED_IDLE): they use the CPU the test suites leave while they wait on their processes, and
# yield it as soon as a test wants it. The smoke counts CPU seconds, so it does the same work.
# GW_BULK_MB_SANITIZE (default 20) sizes the bulk round trip in the slower sanitizer run.
# GW_TEST_JOBS (default 4) is how many tests ctest runs at once (ctest -j): most integration tests
# wait on their processes rather than compute, so twice the cores halves the wall time; of the
# CPU-bound ones (label "heavy", tests/CMakeLists.txt) only one runs at a time. `ctest -L unit`,
# `-L integration`, `-L heavy`, `-L fuzz-corpus` select by label.
set -u
. "$(dirname "$0")/lib/setup.sh"
cd "$GW_ROOT" || exit 1
gw_prepare_machine || { echo "0 passed, 1 failed (packages or the gatewayd-front user)"; exit 1; }

passed=0 failed=0 skipped=0
# run_suite BUILD-DIR [VAR=VALUE...] [-- CTEST-ARGS...]: ctest in BUILD-DIR, counting its results.
run_suite() {
	local dir=$1 log vars=()
	shift
	while (($# > 0)) && [[ $1 != -- ]]; do vars+=("$1") && shift; done
	(($# == 0)) || shift
	log=$dir/ctest.log
	gw_say "testing $dir"
	env "${vars[@]}" ctest --test-dir "$dir" --output-on-failure -j "${GW_TEST_JOBS:-4}" "$@" 2>&1 |
		tee "$log"
	passed=$((passed + $(grep -cE '^ *[0-9]+/[0-9]+ Test +#[0-9]+: .* Passed' "$log")))
	failed=$((failed + $(grep -cE '^ *[0-9]+/[0-9]+ Test +#[0-9]+: .*\*\*\*(Failed|Timeout|Exception)|Not Run' "$log")))
	skipped=$((skipped + $(grep -cE '^ *[0-9]+/[0-9]+ Test +#[0-9]+: .*\*\*\*Skipped' "$log")))
}

# idle NAME CMD...: runs CMD in the background at idle priority (SCHED_IDLE), its output kept in
# a log named NAME; sets idle_pid. idle_wait NAME: waits for it, prints the log, returns its status.
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
idle() {
	local name=$1
	shift
	(chrt --idle -p 0 "$BASHPID" >/dev/null && "$@") >"$logs/$name" 2>&1 &
	idle_pid=$!
}
idle_wait() {
	local rc
	wait "$idle_pid"
	rc=$?
	cat "$logs/$1"
	return $rc
}
# The sanitizer build: clang's ASan and UBSan (which checks more than gcc's, e.g. arithmetic on
# NULL), its tree also holding the libFuzzer harnesses (GW_FUZZ builds them with the rest), so
# one build serves both.
build_sanitizer() {
	# A tree an older test.sh configured with gcc is configured afresh: CMake's own switch of
	# compiler in place deletes the cache and then fails to generate.
	grep -qs '^CMAKE_C_COMPILER:.*clang' build-sanitize/CMakeCache.txt ||
		rm -rf build-sanitize/CMakeCache.txt build-sanitize/CMakeFiles
	gw_build build-sanitize -DCMAKE_C_COMPILER="$(command -v clang-14 || echo clang)" \
		-DGW_SANITIZE=ON -DGW_FUZZ=ON
}

# sanitizer_job: the sanitizer build, whose status it sends to the suites through the pipe
# $built as soon as it is known, then the fuzz smoke at once: started only after the normal suite,
# the smoke had left the CPU idle for a fifth of that suite and kept test.sh waiting 35 s at the end.
sanitizer_job() {
	local rc
	build_sanitizer >"$logs/sanitizer-build" 2>&1
	rc=$?
	echo "$rc" >&"$built"
	((rc == 0)) || return 1
	# Fuzz smoke: each harness over its seed corpus and onwards; any crash fails.
	GW_FUZZ_BUILD=build-sanitize GW_FUZZ_CPU=1 "$GW_ROOT/scripts/fuzz.sh" "${GW_FUZZ_SMOKE:-10}"
}

start=$SECONDS
gw_build build
normal=$?
# Opened for reading and writing, the FIFO neither blocks the job that writes to it nor ends
# the read that waits for it.
mkfifo "$logs/built" && exec {built}<>"$logs/built"
idle fuzz-smoke sanitizer_job
if ((normal == 0)); then
	run_suite build
else
	failed=$((failed + 1))
fi
read -r -u "$built" sanitizer
cat "$logs/sanitizer-build"
if ((sanitizer == 0)); then
	run_suite build-sanitize \
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		GW_BULK_MB="${GW_BULK_MB_SANITIZE:-20}" -- -LE '^covered$'
else
	failed=$((failed + 1))
fi
# The C sources stay in the project's style (.clang-format).
gw_say "clang-format"
if find common policy evidence gatewayd front tools tests bench -name '*.[ch]' -print0 |
	xargs -0 clang-format --dry-run -Werror; then
	passed=$((passed + 1))
else
	failed=$((failed + 1))
fi
# One integration scenario with gatewayd under valgrind memcheck (scripts/valgrind.sh), on the
# normal build: it has no sanitizer, which is all memcheck needs, and a build of its own cost
# 20 s here.
gw_say "valgrind"
if "$GW_ROOT/scripts/valgrind.sh" build; then
	passed=$((passed + 1))
else
	failed=$((failed + 1))
fi
gw_say "fuzz smoke"
if idle_wait fuzz-smoke; then
	passed=$((passed + 1))
else
	failed=$((failed + 1))
fi
echo "tests took $((SECONDS - start)) s; skipped: $skipped"
echo "$passed passed, $failed failed"
((failed == 0 && passed > 0))
