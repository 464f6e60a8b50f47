#!/bin/bash
# The vendor-facing process's sandbox (front/sandbox.c) carries a whole libssh server session
# with a real OpenSSH client: key exchange, public key authentication, exec, a shell moving
# 1 MB with a rekey every 64 KiB, DH-GEX (whose /etc/ssh/moduli the sandbox refuses); the
# server is tests/integration/sandbox_sshd.c, which enters the sandbox before the first byte.
. "${GW_SRC:-$(dirname "$0")/../..}/tests/lib/harness.sh"
H_SANDBOX_SSHD=$H_BUILD/tests/sandbox_sshd

# sandbox_serve PORT: sandbox_sshd for one connection, as nobody when we are root (the sandbox
# refuses to run with capabilities left).
sandbox_serve() {
	local port=$1 as=()
	[[ $(id -u) == 0 ]] && as=(setpriv --reuid=65534 --regid=65534 --clear-groups)
	chmod 0644 "$H_DIR/keys/sandbox_host" # a throw-away key in a throw-away directory
	chmod 0711 "$H_DIR/keys"
	: >"$H_DIR/sandbox.$port.out"
	h_spawn "sandbox$port" "$H_DIR/sandbox.$port.log" sh -c 'exec "$@" >"$0"' \
		"$H_DIR/sandbox.$port.out" "${as[@]}" "$H_SANDBOX_SSHD" "$port" "$H_DIR/keys/sandbox_host"
	h_wait_for 20 grep -q ready "$H_DIR/sandbox.$port.out" || h_fail "sandbox_sshd did not start"
}

sandbox_ssh() {
	local port=$1
	shift
	timeout -k 5 "$H_TIMEOUT" ssh "${H_SSH_OPTS[@]}" -i "$VENDOR_KEY" -p "$port" x@127.0.0.1 "$@"
}

# sandbox_done PORT: the server ended, authenticated and sandboxed, with exit status 0.
sandbox_done() {
	local port=$1 pid
	pid=$(h_pid "sandbox$port")
	h_wait_for 20 bash -c "! kill -0 $pid 2>/dev/null" || h_fail "sandbox_sshd still running"
	h_assert_contains "$(cat "$H_DIR/sandbox.$port.log")" "sandbox_sshd: sandboxed" "server log"
	h_assert_contains "$(cat "$H_DIR/sandbox.$port.log")" "session over (authenticated)" "server log"
}

test_exec_in_sandbox() {
	local port out
	[[ -x $H_SANDBOX_SSHD ]] || h_fail "$H_SANDBOX_SSHD not built"
	h_keygen "$H_DIR/keys/sandbox_host"
	h_free_port port
	sandbox_serve "$port"
	out=$(sandbox_ssh "$port" 'echo from the vendor')
	h_assert_eq 0 $? "ssh exit status"
	h_assert_eq "echo from the vendor" "$out" "what exec answered"
	sandbox_done "$port"
}

test_bulk_shell_with_rekeys_in_sandbox() {
	local port kex
	h_keygen "$H_DIR/keys/sandbox_host"
	head -c 1000000 /dev/urandom >"$H_DIR/bulk"
	for kex in curve25519-sha256 diffie-hellman-group-exchange-sha256; do
		h_free_port port
		sandbox_serve "$port"
		sandbox_ssh "$port" -o RekeyLimit=64K -o KexAlgorithms=$kex <"$H_DIR/bulk" >"$H_DIR/bulk.back"
		h_assert_eq 0 $? "ssh exit status ($kex)"
		cmp -s "$H_DIR/bulk" "$H_DIR/bulk.back" || h_fail "the echoed megabyte differs ($kex)"
		sandbox_done "$port"
	done
}

h_run test_exec_in_sandbox test_bulk_shell_with_rekeys_in_sandbox
