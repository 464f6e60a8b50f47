#!/bin/bash
# File transfer by another door (issue 13, item 6): SFTP is recognised by its content, not by
# the command that serves it. `sftp -s /path/to/sftp-serve[r]` on an exec-only grant is refused
# with a message; where upload is granted the same goes under the inspector, with per-file
# evidence; SFTP started by hand inside a shell is stopped; rsync's server mode is refused with
# the way that works.
. "${GW_SRC:-$(dirname "$0")/../..}/tests/lib/harness.sh"
sshd_start plc-07 || exit 1
GW_ALLOW="shell exec upload download" gw_policy_default
# plc-08: the same sshd, shell and exec only.
gw_target_add plc-08 "${H_PORT[plc-07]}" "${H_FP[plc-07]}"
gw_grant_add acme "plc-08" "shell exec"
gw_start || exit 1
F=$H_DIR/files
mkdir -p -m 0755 "$F"
SERVER='/usr/lib/openssh/sftp-serve[r]' # a glob: no string match on "sftp-server" sees it

gw_sftp() { timeout -k 5 "$H_TIMEOUT" sftp "${H_SSH_OPTS[@]}" -i "$VENDOR_KEY" -P "$GW_PORT" "$@" </dev/null; }
sum() { sha256sum "$1" | awk '{ print $1 }'; }

test_sftp_by_exec_refused_without_upload_grant() {
	local out rc
	echo "by exec" >"$H_DIR/x.txt"
	printf 'put %s %s/x.txt\n' "$H_DIR/x.txt" "$F" >"$H_DIR/batch"
	out=$(gw_sftp -s "$SERVER" -b "$H_DIR/batch" "acme.alice+plc-08@127.0.0.1" 2>&1)
	rc=$?
	h_log "  sftp -s on an exec-only grant: exit $rc, file on the target: $([[ -e $F/x.txt ]] && echo yes || echo no)"
	[[ $rc != 0 ]] || h_fail "sftp -s on an exec-only grant exited 0"
	[[ ! -e $F/x.txt ]] || h_fail "the file reached the target"
	h_assert_contains "$out" "gatewayd: file transfer is not granted for this target" "sftp's output"
	h_wait_for 10 grep -q '"what":"sftp by exec"' "$GW_AUDIT" || h_fail "no channel_refused audit event"
}

test_sftp_by_exec_inspected_where_granted() {
	local s
	head -c 300000 /dev/urandom >"$H_DIR/y.bin"
	s=$(sum "$H_DIR/y.bin")
	printf 'put %s %s/y.bin\n' "$H_DIR/y.bin" "$F" >"$H_DIR/batch"
	gw_sftp -s "$SERVER" -b "$H_DIR/batch" "$GW_DEST" >"$H_DIR/sftp.out" 2>&1 ||
		h_fail "sftp -s where upload is granted: $(cat "$H_DIR/sftp.out")"
	h_assert_eq "$s" "$(sum "$F/y.bin")" "uploaded file"
	h_wait_for 10 grep -q "\"sha256\":\"$s\"" "$GW_AUDIT" ||
		h_fail "no file_operation with the upload's sha256: the stream passed uninspected"
}

test_sftp_typed_into_shell_stopped() {
	local out
	out=$(h_hostile "$H_SRC/tests/integration/hostile_sftp_shell.py" --user "acme.alice+plc-08" 2>&1)
	h_log "  $(echo "$out" | tr '\n' ';')"
	h_assert_contains "$out" "version no" "the SFTP server's answer"
	h_assert_contains "$out" "gatewayd: SFTP started inside a shell" "the vendor's message"
	h_wait_for 10 grep -q '"what":"sftp in a shell"' "$GW_AUDIT" || h_fail "no channel_refused audit event"
}

test_rsync_server_refused() {
	local out rc
	out=$(gw_ssh "$GW_DEST" "rsync --server -logDtpre.iLsfxCIvu . $F/r/" </dev/null 2>&1)
	rc=$?
	[[ $rc != 0 ]] || h_fail "rsync --server exited 0"
	h_assert_contains "$out" "use scp or sftp" "the message"
}

h_run test_sftp_by_exec_refused_without_upload_grant test_sftp_by_exec_inspected_where_granted \
	test_sftp_typed_into_shell_stopped test_rsync_server_refused
