#!/bin/bash
# The listener is the notary (issue 14): during a live session, the session process that has the
# vendor's connection holds no descriptor on the audit log and no copy of the seal key's private
# bytes (a core of it is searched), while the listener holds the key and the log, write-only;
# the session's evidence, signed by the listener, verifies intact.
. "${GW_SRC:-$(dirname "$0")/../..}/tests/lib/harness.sh"
h_setup || exit 1

ctl() { "$H_GATEWAYCTL" -f "$GW_CONFIG" "$@"; }

# session_process: the child of the listener that serves the vendor (one session live).
session_process() {
	SESSION_PID=$(pgrep -P "$(h_pid gatewayd)" | head -n 1)
	[[ -n $SESSION_PID ]]
}

# seal_secret: the seal key's 32 private bytes, as hex. The key file is PEM PKCS#8
# (evidence/seal.c); for Ed25519 its DER ends with the raw private key.
seal_secret() {
	openssl pkey -in "$H_DIR/gw/state/recording_key" -outform DER | tail -c 32 | od -An -v -tx1 | tr -d " \n"
}

# core_holds FILE HEX: whether the bytes HEX occur in FILE (mapped, not read: cores are large);
# a core that cannot be searched fails the test rather than counting as "absent".
core_holds() {
	/usr/bin/python3 -c 'import mmap, sys
with open(sys.argv[1], "rb") as f:
    sys.exit(0 if mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ).find(bytes.fromhex(sys.argv[2])) != -1 else 1)' "$1" "$2"
	case $? in
	0) return 0 ;;
	1) return 1 ;;
	*) h_fail "cannot search the core $1" ;;
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
	local listener=$1
	gcore -o "$H_DIR/core" "$SESSION_PID" >"$H_DIR/gcore.log" 2>&1 ||
		h_fail "gcore $SESSION_PID: $(tail -3 "$H_DIR/gcore.log")"
	[[ -s $H_DIR/core.$SESSION_PID ]] || h_fail "no core of $SESSION_PID"
	core_holds "$H_DIR/core.$SESSION_PID" "$SECRET" &&
		h_fail "the session process's memory holds the seal key's private bytes"
	rm -f "$H_DIR/core.$SESSION_PID"
	# The search finds the key where it is: in the listener.
	gcore -o "$H_DIR/core" "$listener" >"$H_DIR/gcore.log" 2>&1 || h_fail "gcore $listener"
	core_holds "$H_DIR/core.$listener" "$SECRET" ||
		h_fail "the key's bytes are not found even in the listener: the search is blind"
	rm -f "$H_DIR/core.$listener"
}

test_session_process_has_neither_key_nor_log_evidence_verifies() {
	local client flags cast out listener
	command -v gcore >/dev/null || h_skip "no gcore (gdb) here"
	SECRET=$(seal_secret)
	[[ ${#SECRET} == 64 ]] || h_fail "cannot read the seal key's private bytes: [$SECRET]"
	gw_ssh "$GW_DEST" 'echo notary-$((40+2)); sleep 6' >"$H_DIR/client.out" 2>&1 &
	client=$!
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
