#!/bin/bash
# File transfer through the gateway (issue 7): scp and sftp over the relayed sftp subsystem under
# the grant. Uploads and downloads arrive intact and their SHA-256 is in the recording and the
# audit log; a grant without upload, or with path prefixes, refuses what it does not cover; the
# legacy scp protocol (scp -O, i.e. exec "scp -t") is refused.
. "${GW_SRC:-$(dirname "$0")/../..}/tests/lib/harness.sh"
sshd_start plc-07 || exit 1
GW_ALLOW="shell exec upload download" gw_policy_default
F=$H_DIR/files
mkdir -p -m 0755 "$F" "$F/allowed" "$F/outside"
# plc-08: the same sshd, download only; plc-09: the same sshd, only under $F/allowed.
gw_target_add plc-08 "${H_PORT[plc-07]}" "${H_FP[plc-07]}"
gw_target_add plc-09 "${H_PORT[plc-07]}" "${H_FP[plc-07]}"
gw_grant_add acme "plc-08" "exec download"
H_TICKETS+=("acme plc-09")
H_CFG_GRANTS+=("{ vendor = \"acme\"; targets = [ \"plc-09\" ]; allow = [ \"exec\", \"upload\", \"download\" ];
    transfer_paths = [ \"$F/allowed\" ]; }")
gw_start || exit 1

# gw_scp ARGS...: stock scp (SFTP protocol unless -O) as the vendor person through the gateway.
gw_scp() { timeout -k 5 "$H_TIMEOUT" scp "${H_SSH_OPTS[@]}" -i "$VENDOR_KEY" -P "$GW_PORT" "$@" </dev/null; }
gw_sftp() { timeout -k 5 "$H_TIMEOUT" sftp "${H_SSH_OPTS[@]}" -i "$VENDOR_KEY" -P "$GW_PORT" "$@" </dev/null; }

sum() { sha256sum "$1" | awk '{ print $1 }'; }

# sftp_casts: the recordings of sftp channels (header command "sftp").
sftp_casts() {
	local f
	for f in $(gw_recordings); do
		h_cast_header "$f" | grep -q '"sftp"' && echo "$f"
	done
}

# sftp_closes SHA: how many sftp-close events with SHA the sftp channels' recordings hold.
sftp_closes() {
	local cast n=0
	for cast in $(sftp_casts); do
		n=$((n + $(grep 'sftp-close' "$cast" | grep -c "$1")))
	done
	echo "$n"
}

test_scp_upload_download_hashed() {
	local s
	head -c $((20 * 1024 * 1024)) /dev/urandom >"$H_DIR/big.bin"
	s=$(sum "$H_DIR/big.bin")
	gw_scp "$H_DIR/big.bin" "$GW_DEST:$F/big.up" 2>"$H_DIR/scp.err" || h_fail "scp upload: $(cat "$H_DIR/scp.err")"
	h_assert_eq "$s" "$(sum "$F/big.up")" "uploaded file's sha256"
	gw_scp "$GW_DEST:$F/big.up" "$H_DIR/big.down" 2>"$H_DIR/scp.err" || h_fail "scp download: $(cat "$H_DIR/scp.err")"
	h_assert_eq "$s" "$(sum "$H_DIR/big.down")" "downloaded file's sha256"
	# The recordings and the audit log are written as the channels close: until they are.
	h_wait_for 10 eval '(($(sftp_closes "$s") >= 2))' ||
		h_fail "recordings of sftp channels hold $(sftp_closes "$s") sftp-close events with sha256 $s (want 2)"
	h_wait_for 10 eval 'grep file_operation "$GW_AUDIT" | grep -q "$s"' ||
		h_fail "no file_operation audit event with sha256 $s"
}

# A vendor that reads slowly (scp -l, 40 Mbit/s) leaves the target's answers waiting in the
# gateway: they must come out whole, in order, and hashed.
test_slow_vendor_download_intact() {
	local s
	head -c $((16 * 1024 * 1024)) /dev/urandom >"$F/slow.bin"
	s=$(sum "$F/slow.bin")
	gw_scp -l 40000 "$GW_DEST:$F/slow.bin" "$H_DIR/slow.down" 2>"$H_DIR/scp.err" ||
		h_fail "slow scp download: $(cat "$H_DIR/scp.err")"
	h_assert_eq "$s" "$(sum "$H_DIR/slow.down")" "slowly downloaded file's sha256"
	h_wait_for 10 eval 'grep file_operation "$GW_AUDIT" | grep "\"read\"" | grep -q "$s"' ||
		h_fail "no file_operation audit event with the slow download's sha256 $s"
}

test_sftp_batch_operations() {
	local out
	echo "batch content" >"$H_DIR/b.txt"
	rm -rf "$F/batch"
	cat >"$H_DIR/batch" <<-EOF
		mkdir $F/batch
		put $H_DIR/b.txt $F/batch/b.txt
		ls $F/batch
		rename $F/batch/b.txt $F/batch/c.txt
		get $F/batch/c.txt $H_DIR/c.txt
		rm $F/batch/c.txt
		ls -l $F
	EOF
	out=$(gw_sftp -b "$H_DIR/batch" "$GW_DEST" 2>&1) || h_fail "sftp -b failed: $out"
	h_assert_contains "$out" "b.txt" "ls output"
	h_assert_eq "batch content" "$(cat "$H_DIR/c.txt")" "downloaded after rename"
	[[ -d $F/batch ]] || h_fail "mkdir did not reach the target"
	[[ ! -e $F/batch/c.txt && ! -e $F/batch/b.txt ]] || h_fail "rm did not reach the target"
}

test_download_only_grant() {
	local out
	echo "only down" >"$F/down.txt"
	echo "try up" >"$H_DIR/up.txt"
	out=$(gw_scp "$H_DIR/up.txt" "acme.alice+plc-08@127.0.0.1:$F/up-denied.txt" 2>&1)
	[[ $? != 0 ]] || h_fail "upload on a download-only grant succeeded"
	h_assert_contains "$out" "ermission denied" "message"
	[[ ! -e $F/up-denied.txt ]] || h_fail "refused upload reached the target"
	gw_scp "acme.alice+plc-08@127.0.0.1:$F/down.txt" "$H_DIR/down.txt" 2>"$H_DIR/scp.err" ||
		h_fail "download: $(cat "$H_DIR/scp.err")"
	h_assert_eq "only down" "$(cat "$H_DIR/down.txt")" "downloaded content"
	h_wait_for 10 grep -q 'file_denied' "$GW_AUDIT" || h_fail "no file_denied audit event"
}

test_transfer_paths_limit() {
	local out
	echo "in" >"$H_DIR/in.txt"
	echo "secret" >"$F/outside/secret.txt"
	gw_scp "$H_DIR/in.txt" "acme.alice+plc-09@127.0.0.1:$F/allowed/in.txt" 2>"$H_DIR/scp.err" ||
		h_fail "upload inside the prefix: $(cat "$H_DIR/scp.err")"
	h_assert_eq "in" "$(cat "$F/allowed/in.txt")" "uploaded inside the prefix"
	out=$(gw_scp "$H_DIR/in.txt" "acme.alice+plc-09@127.0.0.1:$F/outside/in.txt" 2>&1)
	[[ $? != 0 ]] || h_fail "upload outside the prefix succeeded"
	[[ ! -e $F/outside/in.txt ]] || h_fail "upload outside the prefix reached the target"
	out=$(gw_scp "acme.alice+plc-09@127.0.0.1:$F/outside/secret.txt" "$H_DIR/secret.txt" 2>&1)
	[[ $? != 0 ]] || h_fail "download outside the prefix succeeded"
	[[ ! -s $H_DIR/secret.txt ]] || h_fail "file outside the prefix reached the vendor"
}

test_legacy_scp_refused() {
	local out
	echo "legacy" >"$H_DIR/legacy.txt"
	out=$(gw_scp -O "$H_DIR/legacy.txt" "$GW_DEST:$F/legacy.txt" 2>&1)
	[[ $? != 0 ]] || h_fail "scp -O succeeded"
	[[ ! -e $F/legacy.txt ]] || h_fail "legacy scp reached the target"
	h_wait_for 10 eval 'grep channel_refused "$GW_AUDIT" | grep -q "scp -t"' || h_fail "no channel_refused audit event for scp -t"
	# Not checked: the vendor seeing "legacy scp" (see the lead's report: OpenSSH's ssh exits on
	# the failed exec request before it writes the stderr text the gateway sent ahead of it).
}

h_run test_scp_upload_download_hashed test_slow_vendor_download_intact test_sftp_batch_operations test_download_only_grant \
	test_transfer_paths_limit test_legacy_scp_refused
