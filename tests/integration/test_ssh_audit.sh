#!/bin/bash
# ssh-audit (the Debian package) against the gateway's vendor port: the default key exchange,
# cipher, MAC and host key lists draw no [fail] or [warn]; the four lists are configurable
# (kex_algorithms, ciphers, macs, hostkey_algorithms) and a malformed one is a FILE:LINE error.
. "${GW_SRC:-$(dirname "$0")/../..}/tests/lib/harness.sh"
command -v ssh-audit >/dev/null || { echo "ssh-audit not installed"; exit 77; }
h_setup || exit 1

# audit_run: ssh-audit's report on the gateway, without colours.
audit_run() { timeout -k 5 "$H_TIMEOUT" ssh-audit -n -t 10 -p "$GW_PORT" 127.0.0.1; }

# audit_findings REPORT: the algorithm lines marked [fail] or [warn]. Not counted:
# kex-strict-s-v00@openssh.com, the strict key exchange marker (the Terrapin countermeasure,
# CVE-2023-48795) that ssh-audit 2.5 does not know yet, and the "(cve)" section, which
# compares versions as strings ("0.10.6" < "0.7.2") and so lists libssh 0.7 bugs.
audit_findings() {
	awk '/^\((kex|key|enc|mac)\) / { alg = $2 }
	     /^\((kex|key|enc|mac)\) |^ +`- / {
	         if ($0 ~ /\[(fail|warn)\]/ && alg != "kex-strict-s-v00@openssh.com") print }' <<<"$1"
}

# audit_offered REPORT SECTION: the algorithm names of one section (kex, key, enc, mac), comma-joined.
audit_offered() {
	awk -v s="($2)" '$1 == s && $2 != "kex-strict-s-v00@openssh.com" { print $2 }' <<<"$1" |
		paste -sd,
}

test_default_algorithms_draw_no_warning() {
	local report
	report=$(audit_run)
	h_assert_contains "$report" "(kex) curve25519-sha256" "ssh-audit report"
	h_assert_eq "" "$(audit_findings "$report")" "weak algorithms offered"
	h_assert_eq "ssh-ed25519" "$(audit_offered "$report" key)" "host key algorithms"
}

test_stock_client_connects_with_defaults() {
	local out
	out=$(gw_ssh "$GW_DEST" 'echo through') || h_fail "ssh exited $?"
	h_assert_eq "through" "$out" "exec through the gateway"
}

test_bad_algorithm_list_is_config_error() {
	local bad=$H_DIR/bad-ciphers.conf out line
	sed 's/^state_dir/ciphers = "aes128-ctr, 3des-cbc";\nstate_dir/' "$GW_CONFIG" >"$bad"
	line=$(grep -n '^ciphers' "$bad" | cut -d: -f1)
	out=$("$H_GATEWAYD" -t -f "$bad" 2>&1)
	h_assert_eq 1 $? "gatewayd -t exit status"
	h_assert_contains "$out" "$bad:$line: \"ciphers\" must be algorithm names" "error"
}

test_configured_lists_are_what_is_offered() {
	local report
	gw_stop # the ticket installed at the first start stays in the state directory
	gw_config_extra 'kex_algorithms = "curve25519-sha256";'
	gw_config_extra 'ciphers = "aes256-gcm@openssh.com,aes128-ctr";'
	gw_config_extra 'macs = "hmac-sha2-512-etm@openssh.com";'
	gw_config_extra 'hostkey_algorithms = "ssh-ed25519";'
	GW_NO_TICKETS=1 gw_start || h_fail "gatewayd did not start with configured algorithm lists"
	report=$(audit_run)
	h_assert_eq "curve25519-sha256" "$(audit_offered "$report" kex)" "key exchange"
	h_assert_eq "aes256-gcm@openssh.com,aes128-ctr" "$(audit_offered "$report" enc)" "ciphers"
	h_assert_eq "hmac-sha2-512-etm@openssh.com" "$(audit_offered "$report" mac)" "MACs"
	gw_ssh "$GW_DEST" true || h_fail "ssh with the configured lists exited $?"
}

h_run test_default_algorithms_draw_no_warning test_stock_client_connects_with_defaults \
	test_bad_algorithm_list_is_config_error test_configured_lists_are_what_is_offered
