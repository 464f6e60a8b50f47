#!/bin/bash
# The listener is the notary (issue 14): during a live session, the session process that has the
# vendor's connection holds no descriptor on the audit log and no copy of the seal key's private
# bytes (a core of it is searched), while the listener holds the key and the log, write-only;
# the session's evidence, signed by the listener, verifies intact.
. "${GW_SRC:-$(dirname "$0")/../..}/tests/lib/harness.sh"
h_setup || exit 1

# session_process: the child of the listener that serves the vendor (one session live).
session_process() {
	SESSION_PID=$(pgrep -P "$(h_pid gatewayd)" | head -n 1)
	[[ -n $SESSION_PID ]]
}

# seal_in_core PID: a core of PID, searched for the seal key's raw private bytes
# (tests/lib/keysearch.py): 0 found, 1 absent; a core that cannot be made or searched fails.
seal_in_core() {
	local out
	gcore -o "$H_DIR/core" "$1" >"$H_DIR/gcore.log" 2>&1 || h_fail "gcore $1: $(tail -3 "$H_DIR/gcore.log")"
	out=$(/usr/bin/python3 "$H_SRC/tests/lib/keysearch.py" "$H_DIR/core.$1" \
		"seal=$H_DIR/gw/state/recording_key" 2>&1) || h_fail "keysearch: $out"
	rm -f "$H_DIR/core.$1"
	case $(awk '$2 == "raw" { print $3 }' <<<"$out") in
	found) return 0 ;;
	absent) return 1 ;;
	*) h_fail "keysearch said: $out" ;;
	esac
}

# fd_flags PID PATH: the open flags (octal, /proc fdinfo) of PID's descriptor on PATH, if any.
fd_flags() {
	local fd
	for fd in /proc/$1/fd/*; do
		[[ $(readlink "$fd") == "$2" ]] || continue
		awk '$1 == "flags:" { print $2 }' "/proc/$1/fdinfo/${fd##*/}"
		return 0
	done
	return 1
}

# notary_core_search LISTENER: a core of the live session process holds no copy of the seal key's
# private bytes; one of the listener does (the search works).
notary_core_search() {
	seal_in_core "$SESSION_PID" && h_fail "the session process's memory holds the seal key's private bytes"
	# The search finds the key where it is: in the listener.
	seal_in_core "$1" || h_fail "the key's bytes are not found even in the listener: the search is blind"
}

test_session_process_has_neither_key_nor_log_evidence_verifies() {
	local client flags cast out listener hold
	command -v gcore >/dev/null || h_skip "no gcore (gdb) here"
	# The session lasts until its input ends (the test closes the fifo once done with the
	# live process): not a fixed time, which a loaded machine can outlast before the core.
	mkfifo "$H_DIR/client.in"
	gw_ssh "$GW_DEST" 'echo notary-$((40+2)); cat >/dev/null' <"$H_DIR/client.in" >"$H_DIR/client.out" 2>&1 &
	client=$!
	exec {hold}>"$H_DIR/client.in"
	h_wait_for 20 grep -q notary-42 "$H_DIR/client.out" || h_fail "no session: $(cat "$H_DIR/client.out")"
	h_wait_for 10 session_process || h_fail "no session process"
	listener=$(h_pid gatewayd)
	# Descriptors: the log is the listener's alone, and opened to append only.
	fd_flags "$SESSION_PID" "$GW_AUDIT" && h_fail "the session process has the audit log open"
	fd_flags "$SESSION_PID" "$H_DIR/gw/state/recording_key" && h_fail "the session process has the key file open"
	flags=$(fd_flags "$listener" "$GW_AUDIT") || h_fail "the listener has no descriptor on the audit log"
	(((8#$flags & 3) == 1 && (8#$flags & 8#2000) != 0)) ||
		h_fail "the listener's audit log descriptor is not O_WRONLY|O_APPEND: flags $flags"
	# Memory: a core of the live session process, searched for the private key. Not in the
	# sanitizer build: a core of a process under ASan (terabytes of shadow reserved) takes
	# minutes; the descriptors above are checked there too.
	if grep -q __asan_init "$H_GATEWAYD"; then
		h_log "  sanitizer build: no core search"
	else
		notary_core_search "$listener"
	fi
	exec {hold}>&-
	wait "$client" || h_fail "the session failed: $(cat "$H_DIR/client.out")"
	cast=$(gw_recordings | head -n 1)
	[[ -n $cast ]] || h_fail "no recording"
	out=$(ctl recording verify "$cast" 2>&1) || h_fail "recording verify: $out"
	h_assert_contains "$out" "intact" "recording verdict"
	out=$(ctl audit verify 2>&1) || h_fail "audit verify: $out"
	h_assert_contains "$out" "intact" "audit verdict"
	# The session's audit lines carry the id the listener gave it: its recording's name.
	h_assert_contains "$(grep '"event":"session_start"' "$GW_AUDIT")" \
		"\"session\":\"$(basename "$cast" .0.cast)\"" "session id of session_start"
}

h_run test_session_process_has_neither_key_nor_log_evidence_verifies
