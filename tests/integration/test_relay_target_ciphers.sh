#!/bin/bash
# The gateway's own leg to a target: AES-GCM unless the target's `ciphers` says otherwise, as
# the target's sshd reports the key exchange; a list the target shares nothing with is refused,
# the vendor told the target is unreachable and the audit log naming the mismatch.
. "${GW_SRC:-$(dirname "$0")/../..}/tests/lib/harness.sh"
H_SSHD_EXTRA="LogLevel DEBUG1"
sshd_start plc-07 || exit 1
sshd_start plc-08 || exit 1
H_SSHD_EXTRA=$'LogLevel DEBUG1\nCiphers aes128-gcm@openssh.com'
sshd_start plc-09 || exit 1
gw_policy_default
gw_target_add plc-08 "${H_PORT[plc-08]}" "${H_FP[plc-08]}" 'ciphers = "aes256-ctr";'
gw_target_add plc-09 "${H_PORT[plc-09]}" "${H_FP[plc-09]}" 'ciphers = "aes256-ctr";'
gw_grant_add acme "plc-08 plc-09" "shell exec"
gw_start || exit 1

# kex_cipher NAME: the client->server cipher of NAME's sshd's last key exchange.
kex_cipher() {
	grep -o 'kex: client->server cipher: [^ ]*' "$H_DIR/$1.log" | tail -1 | awk '{ print $4 }'
}

test_target_leg_prefers_aes_gcm() {
	local out
	out=$(gw_ssh "$GW_DEST" 'echo gcm-$((1+1))') || h_fail "ssh exited $?"
	h_assert_eq "gcm-2" "$out" "output"
	h_assert_eq "aes128-gcm@openssh.com" "$(kex_cipher plc-07)" "cipher of the target leg"
}

test_target_ciphers_setting_is_used() {
	local out
	out=$(gw_ssh acme.alice+plc-08@127.0.0.1 'echo ctr-$((2+2))') || h_fail "ssh exited $?"
	h_assert_eq "ctr-4" "$out" "output"
	h_assert_eq "aes256-ctr" "$(kex_cipher plc-08)" "cipher of the target leg"
}

test_no_common_cipher_is_refused() {
	local err
	err=$(gw_ssh acme.alice+plc-09@127.0.0.1 'echo never' 2>&1 >/dev/null) && h_fail "ssh succeeded"
	h_assert_contains "$err" "target plc-09 is unreachable" "what the vendor is told"
	h_wait_for 5 grep -q '"event":"target_connect_failed".*no match for method encryption' "$GW_AUDIT" ||
		h_fail "no audit event names the cipher mismatch: $(tail -c 600 "$GW_AUDIT")"
}

h_run test_target_leg_prefers_aes_gcm test_target_ciphers_setting_is_used \
	test_no_common_cipher_is_refused
