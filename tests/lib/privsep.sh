# privsep.sh: the vendor-facing processes (gatewayd-front) of a running gateway, for the privilege
# separation tests (issue 14); sourced after harness.sh and sessions.sh. The contract they check:
# the listener forks one monitor per connection, the monitor forks and execs the front, which
# runs /proc/PID/exe = .../gatewayd-front as the user gatewayd-front. Owns only what it starts
# (pre-authentication connections, gdb and gcore runs, their files).

PS_FRONT_USER=gatewayd-front
PS_FRONT_EXE=$H_BUILD/front/gatewayd-front

# ps_sanitized: the sanitizer build (ASan), or the coverage build of its code (GW_SANITIZE=1 from
# tests/CMakeLists.txt), whose front runs without its seccomp filter.
ps_sanitized() { [[ ${GW_SANITIZE:-0} == 1 ]] || grep -q __asan_init "$PS_FRONT_EXE" 2>/dev/null; }

# ps_require: skips unless this machine can run the checks (root, the user, gdb when asked).
ps_require() {
	[[ $(id -u) == 0 ]] || h_skip "needs root (ptrace of another user's process, /proc of it)"
	getent passwd "$PS_FRONT_USER" >/dev/null ||
		h_fail "no user $PS_FRONT_USER (scripts/lib/setup.sh gw_create_front_user creates it)"
	if [[ ${1:-} == gdb ]]; then
		command -v gdb >/dev/null || h_fail "gdb is not installed (scripts/lib/setup.sh installs it)"
	fi
}

ps_status_field() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status" 2>/dev/null; }

# ps_is_front PID: PID runs gatewayd-front, and its parent (the monitor) is a child of the
# listener.
ps_is_front() {
	local pid=$1 exe ppid
	exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
	[[ $exe == */gatewayd-front ]] || return 1
	ppid=$(ps_status_field "$pid" PPid)
	[[ -n $ppid && $(ps_status_field "$ppid" PPid) == "$(h_pid gatewayd)" ]]
}

# ps_fronts: every front of the running gateway, one pid a line.
ps_fronts() {
	local m f
	for m in $(pgrep -P "$(h_pid gatewayd)"); do
		for f in $(pgrep -P "$m"); do
			ps_is_front "$f" && echo "$f"
		done
	done
	return 0
}

# ps_front_of_session NAME: the front of sessions.sh session NAME (the one holding its
# connection).
ps_front_of_session() {
	local p
	for p in $(es_front_pid "$1"); do
		ps_is_front "$p" && { echo "$p"; return 0; }
	done
	return 1
}

# ps_wait_front_of_session VAR NAME: VAR = the front of session NAME, within 20 s.
ps_wait_front_of_session() {
	local -n _front=$1
	local deadline=$((SECONDS + 20))
	while ((SECONDS < deadline)); do
		_front=$(ps_front_of_session "$2") && return 0
		sleep 0.1
	done
	return 1
}

# ps_preauth_start VAR: a connection that did the key exchange and never authenticates
# (hostile_grace.py); VAR = its front, the only one not listed in $PS_KNOWN_FRONTS.
ps_preauth_start() {
	local -n _pre=$1
	local out=$H_DIR/preauth.$RANDOM f deadline
	h_hostile "$H_SRC/tests/integration/hostile_grace.py" --seconds 120 >"$out" 2>&1 &
	h_defer "kill $! 2>/dev/null"
	h_wait_for 30 grep -q '^ready' "$out" || h_fail "the pre-authentication client: $(cat "$out")"
	deadline=$((SECONDS + 20))
	while ((SECONDS < deadline)); do
		for f in $(ps_fronts); do
			[[ " ${PS_KNOWN_FRONTS:-} " == *" $f "* ]] && continue
			_pre=$f
			return 0
		done
		sleep 0.1
	done
	h_fail "no front for the pre-authentication connection"
}

# ps_gdb PID COMMANDS-FILE: gdb -batch attached to PID running the commands; its output.
ps_gdb() {
	timeout -k 5 120 gdb -nx -batch -p "$1" -x "$2" 2>&1
}
