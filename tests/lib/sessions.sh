# sessions.sh: long-lived vendor sessions for the fault tests and the load bench, sourced after
# harness.sh. Each session echoes lines on the target (sed) through the gateway, its stdin a
# FIFO the test writes to, so a test can ask any live session at any time: do you still echo?
# Owns only the FIFOs, output files and ssh clients it starts.
#
#   es_start a                 # session "a" on plc-07; es_echo a ping-1 proves it lives
#   es_gateway_pid a           # its session process in the gateway (kill -9 it, ...)
#   es_end a                   # the line "es-end": the echo ends, the session closes normally

declare -A ES_FD=() ES_PID=()

# es_start NAME [DEST [COMMAND]]: starts session NAME in the background (not waiting for it);
# COMMAND replaces the echo on the target.
es_start() {
	local name=$1 fifo=$H_DIR/es-$1.in fd cmd=${3:-'sed -u /^es-end$/q'}
	mkfifo "$fifo" || return 1
	# No timeout wrapper: ES_PID must be the ssh client itself (SIGSTOP freezes it).
	ssh "${H_SSH_OPTS[@]}" -o ServerAliveInterval=0 -i "$VENDOR_KEY" -p "$GW_PORT" \
		"${2:-$GW_DEST}" "$cmd # es:$name" <"$fifo" >"$H_DIR/es-$name.out" 2>&1 &
	ES_PID[$name]=$!
	h_defer "kill -9 $! 2>/dev/null"
	exec {fd}>"$fifo"
	ES_FD[$name]=$fd
}

# es_out NAME: what the vendor saw so far (stdout and stderr).
es_out() { cat "$H_DIR/es-$1.out"; }

# es_send NAME LINE: a line to the session's stdin. In a subshell: a dead reader raises
# SIGPIPE there, not in the test.
es_send() { (printf '%s\n' "$2" >&"${ES_FD[$1]}") 2>/dev/null; }

# es_echo NAME TOKEN [SECONDS]: sends a line and waits until it came back (default 20 s).
es_echo() { es_send "$1" "$2" && es_expect "$@"; }

# es_expect NAME TOKEN [SECONDS]: until the session printed the line TOKEN.
es_expect() {
	local deadline=$((SECONDS + ${3:-20}))
	while ((SECONDS < deadline)); do
		grep -qxF -- "$2" "$H_DIR/es-$1.out" && return 0
		kill -0 "${ES_PID[$1]}" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# es_alive NAME: the ssh client has not exited.
es_alive() { kill -0 "${ES_PID[$1]}" 2>/dev/null; }

# es_wait_exit NAME SECONDS: until the ssh client exited; its status in ES_RC.
es_wait_exit() {
	h_wait_for "$2" h_gone "${ES_PID[$1]}" || return 1
	wait "${ES_PID[$1]}"
	ES_RC=$?
}

# es_end NAME: the echo on the target ends and with it the session. (Not EOF: every process
# the test starts later inherits the FIFO's write end, so EOF might never come.)
es_end() { es_send "$1" es-end; }

# es_local_port NAME: the ssh client's local port of its connection to the gateway.
es_local_port() {
	ss -Htnp state established "( dport = :$GW_PORT )" |
		awk -v p="pid=${ES_PID[$1]}," 'index($0, p) { n = split($3, a, ":"); print a[n]; exit }'
}

# h_socket_pids SPORT DPORT: the pids holding the established connection SPORT -> DPORT.
h_socket_pids() {
	ss -Htnp state established "( sport = :$1 and dport = :$2 )" | grep -o 'pid=[0-9]*' |
		cut -d= -f2 | sort -u
}

# es_gateway_pid NAME: the gateway's session process (the monitor) serving NAME. Its
# vendor-facing process (gatewayd-front) holds the same connection: es_front_pid NAME.
es_gateway_pid() { es_socket_holder "$1" -v; }
es_front_pid() { es_socket_holder "$1" ""; }
# es_socket_holder NAME GREP-FLAG: of the holders of NAME's connection, the one that is (or,
# with -v, is not) gatewayd-front.
es_socket_holder() {
	local lport pid exe
	lport=$(es_local_port "$1")
	[[ -n $lport ]] || return 1
	for pid in $(h_socket_pids "$GW_PORT" "$lport"); do
		exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || continue
		if [[ $2 == -v ]]; then
			[[ $exe == */gatewayd-front ]] || echo "$pid"
		else
			[[ $exe == */gatewayd-front ]] && echo "$pid"
		fi
	done
	return 0
}

# es_cast NAME: the recording of session NAME.
es_cast() {
	local f
	# One awk over the header lines of all recordings: the bench asks this for 1,000 sessions.
	f=$(awk -v tag="# es:$1\"" 'index($0, tag) { print FILENAME; exit } { nextfile }' \
		"$GW_RECORDINGS"/*.cast 2>/dev/null)
	[[ -n $f ]] && echo "$f"
}
