#!/bin/bash
# File transfer through the gateway with PuTTY's pscp (issue 7): uploads and downloads arrive
# intact and the SHA-256 the gateway records equals the file's; plain pscp picks SFTP by itself;
# pscp -scp (legacy exec "scp -t") is refused with the gateway's message on pscp's stderr; an
# upload where only download is granted is refused.
H_TIMEOUT=${H_TIMEOUT:-180} # pscp is slow on a loaded machine, even straight to sshd
. "${GW_SRC:-$(dirname "$0")/../..}/tests/lib/harness.sh"
command -v pscp >/dev/null && command -v puttygen >/dev/null || { echo "SKIP: no putty-tools"; exit 77; }
sshd_start plc-07 || exit 1
GW_ALLOW="shell exec upload download" gw_policy_default
# plc-08: the same sshd, download only.
gw_target_add plc-08 "${H_PORT[plc-07]}" "${H_FP[plc-07]}"
gw_grant_add acme "plc-08" "exec download"
gw_start || exit 1

F=$H_DIR/files
mkdir -p -m 0755 "$F"
# PuTTY keeps its random seed and host key cache under $HOME/.putty: a home of its own.
mkdir -p -m 0700 "$H_DIR/putty-home"
puttygen "$VENDOR_KEY" -O private -o "$H_DIR/keys/acme.alice.ppk" >/dev/null 2>&1 ||
	{ echo "puttygen could not convert the vendor key"; exit 1; }
# gatewayd wrote its host key on start; -hostkey pins it, so -batch never has to ask.
GW_HOSTKEY_FP=$(ssh-keygen -l -E sha256 -f "$H_DIR/gw/ssh_host_ed25519_key" | awk '{ print $2 }')
[[ $GW_HOSTKEY_FP == SHA256:* ]] || { echo "no gateway host key fingerprint"; exit 1; }

# gw_pscp ARGS...: pscp as the vendor person through the gateway, never prompting.
gw_pscp() {
	HOME=$H_DIR/putty-home timeout -k 5 "$H_TIMEOUT" pscp -batch -q -noagent \
		-hostkey "$GW_HOSTKEY_FP" -i "$H_DIR/keys/acme.alice.ppk" -P "$GW_PORT" "$@" </dev/null
}

sum() { sha256sum "$1" | awk '{ print $1 }'; }

# audit_last EVENT PATH [FLAG] FIELD: FIELD ("none" when absent) of the last audit EVENT about
# PATH (closes only for file_operation, opened with FLAG); waits up to 10 s for one to appear.
audit_last() {
	h_wait_for 10 audit_last_now "$@"
	echo "$AUDIT_LAST"
}

# audit_last_now EVENT PATH [FLAG] FIELD: as audit_last, without waiting, in AUDIT_LAST; fails
# while there is none.
audit_last_now() {
	AUDIT_LAST=$(python3 - "$GW_AUDIT" "$@" <<-'EOF'
		import json, sys
		log, event, path, field = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[-1]
		flag = sys.argv[4] if len(sys.argv) == 6 else None
		last = ""
		for line in open(log, encoding="utf-8"):
		    try:
		        e = json.loads(line)
		    except ValueError:  # a line still being written
		        continue
		    if e.get("event") != event or e.get("path") != path:
		        continue
		    if flag is not None and (e.get("op") != "close" or flag not in e.get("flags", [])):
		        continue
		    last = e.get(field, "none")
		print(last)
	EOF
	)
	[[ -n $AUDIT_LAST ]]
}

# recorded_sha256 PATH FLAG: the sha256 of the last file_operation closing PATH opened with FLAG
# ("read" or "write"), or "none" when it has none.
recorded_sha256() { audit_last file_operation "$1" "$2" sha256; }

# denied_reason PATH: the reason of the last file_denied event naming PATH.
denied_reason() { audit_last file_denied "$1" reason; }

# 8 MiB: pscp then has over 1024 writes in flight, more than the gateway keeps outstanding.
test_pscp_sftp_upload_download_hashed() {
	local s
	head -c $((8 * 1024 * 1024)) /dev/urandom >"$H_DIR/fw.bin"
	s=$(sum "$H_DIR/fw.bin")
	gw_pscp -sftp "$H_DIR/fw.bin" "$GW_DEST:$F/fw.up" 2>"$H_DIR/pscp.err" ||
		h_fail "pscp -sftp upload: $(cat "$H_DIR/pscp.err")"
	h_assert_eq "$s" "$(sum "$F/fw.up")" "uploaded file's sha256"
	gw_pscp -sftp "$GW_DEST:$F/fw.up" "$H_DIR/fw.down" 2>"$H_DIR/pscp.err" ||
		h_fail "pscp -sftp download: $(cat "$H_DIR/pscp.err")"
	h_assert_eq "$s" "$(sum "$H_DIR/fw.down")" "downloaded file's sha256"
	h_assert_eq "$s" "$(recorded_sha256 "$F/fw.up" write)" "sha256 recorded for the upload"
	h_assert_eq "$s" "$(recorded_sha256 "$F/fw.up" read)" "sha256 recorded for the download"
}

# pscp without -sftp or -scp tries SFTP first and only falls back to SCP when the server has
# no sftp subsystem: through the gateway it transfers over SFTP, with the same evidence.
test_pscp_default_protocol_is_sftp() {
	local s
	head -c $((1024 * 1024 + 17)) /dev/urandom >"$H_DIR/plain.bin"
	s=$(sum "$H_DIR/plain.bin")
	gw_pscp "$H_DIR/plain.bin" "$GW_DEST:$F/plain.up" 2>"$H_DIR/pscp.err" ||
		h_fail "pscp upload: $(cat "$H_DIR/pscp.err")"
	h_assert_eq "$s" "$(sum "$F/plain.up")" "uploaded file's sha256"
	h_assert_eq "$s" "$(recorded_sha256 "$F/plain.up" write)" "sha256 recorded"
	if grep '"channel_refused"' "$GW_AUDIT" | grep -q "plain.up"; then
		h_fail "plain pscp tried legacy scp first"
	fi
}

# pscp -scp forces the legacy protocol (exec "scp -t"): refused, and pscp shows why.
test_pscp_forced_scp_refused() {
	local out
	echo "legacy" >"$H_DIR/legacy.txt"
	out=$(gw_pscp -scp "$H_DIR/legacy.txt" "$GW_DEST:$F/legacy.txt" 2>&1)
	[[ $? != 0 ]] || h_fail "pscp -scp succeeded"
	h_assert_contains "$out" "gatewayd: legacy scp" "pscp's message"
	[[ ! -e $F/legacy.txt ]] || h_fail "legacy scp reached the target"
	h_wait_for 10 eval 'grep "\"channel_refused\"" "$GW_AUDIT" | grep -q "scp -t $F/legacy.txt"' ||
		h_fail "no channel_refused audit event for scp -t"
}

test_pscp_upload_refused_download_only() {
	local out
	echo "only down" >"$F/down.txt"
	echo "try up" >"$H_DIR/up.txt"
	out=$(gw_pscp -sftp "$H_DIR/up.txt" "acme.alice+plc-08@127.0.0.1:$F/up-denied.txt" 2>&1)
	[[ $? != 0 ]] || h_fail "upload on a download-only grant succeeded"
	h_assert_contains "$out" "permission denied" "pscp's message"
	[[ ! -e $F/up-denied.txt ]] || h_fail "refused upload reached the target"
	gw_pscp -sftp "acme.alice+plc-08@127.0.0.1:$F/down.txt" "$H_DIR/down.txt" 2>"$H_DIR/pscp.err" ||
		h_fail "download on a download-only grant: $(cat "$H_DIR/pscp.err")"
	h_assert_eq "only down" "$(cat "$H_DIR/down.txt")" "downloaded content"
	h_assert_eq "upload not granted" "$(denied_reason "$F/up-denied.txt")" "file_denied audit event"
}

h_run test_pscp_sftp_upload_download_hashed test_pscp_default_protocol_is_sftp \
	test_pscp_forced_scp_refused test_pscp_upload_refused_download_only
