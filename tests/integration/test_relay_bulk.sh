#!/bin/bash
# Binary-clean relay of bulk data: GW_BULK_MB (default 100) MB of random bytes out and back,
# `ssh gw cat < f > g`, with equal SHA-256 (the sanitizer run may use a smaller size); and the
# same across key re-exchanges on both legs, which block channel writes while they run.
. "${GW_SRC:-$(dirname "$0")/../..}/tests/lib/harness.sh"
h_setup || exit 1

test_binary_round_trip() {
	local mb=${GW_BULK_MB:-100}
	head -c "$((mb * 1024 * 1024))" /dev/urandom >"$H_DIR/in" || h_fail "no input file"
	H_TIMEOUT=300 gw_ssh "$GW_DEST" cat <"$H_DIR/in" >"$H_DIR/out" || h_fail "ssh exited $?"
	h_assert_eq "$(stat -c %s "$H_DIR/in")" "$(stat -c %s "$H_DIR/out")" "size after the round trip"
	h_assert_eq "$(sha256sum <"$H_DIR/in")" "$(sha256sum <"$H_DIR/out")" "sha256 after the round trip"
	rm -f "$H_DIR/in" "$H_DIR/out"
}

# OpenSSH re-keys after RekeyLimit bytes: 64 KiB makes the vendor leg re-key hundreds of times
# while output streams; every byte must still arrive (it did not: the first re-key after
# 1 GiB of output ended the session with 14 MB unsent).
test_output_survives_key_reexchange() {
	local want
	head -c $((8 * 1024 * 1024)) /dev/urandom >"$H_DIR/in" || h_fail "no input file"
	want=$(sha256sum <"$H_DIR/in")
	H_TIMEOUT=300 gw_ssh -o RekeyLimit=64K "$GW_DEST" "cat $H_DIR/in" >"$H_DIR/out" ||
		h_fail "ssh exited $?"
	h_assert_eq "$want" "$(sha256sum <"$H_DIR/out")" "sha256 of the output"
	H_TIMEOUT=300 gw_ssh -o RekeyLimit=64K "$GW_DEST" "cat >$H_DIR/up" <"$H_DIR/in" ||
		h_fail "upload: ssh exited $?"
	h_assert_eq "$want" "$(sha256sum <"$H_DIR/up")" "sha256 of the input"
	rm -f "$H_DIR/in" "$H_DIR/out" "$H_DIR/up"
}

h_run test_binary_round_trip test_output_survives_key_reexchange
