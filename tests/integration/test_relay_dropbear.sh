#!/bin/bash
# A target that is not OpenSSH: dropbear, reached through the gateway with the gateway's key.
. "${GW_SRC:-$(dirname "$0")/../..}/tests/lib/harness.sh"
sshd_start plc-07 || exit 1
dropbear_start rtu-03
case $? in
0) ;;
2) echo "SKIP: dropbear needs root and mount namespaces here"; exit 77 ;;
*) exit 1 ;;
esac
gw_policy_default
gw_target_add rtu-03 "${H_PORT[rtu-03]}" "${H_FP[rtu-03]}"
gw_grant_add acme "rtu-03" "shell exec"
gw_start || exit 1

test_dropbear_target_exec() {
	local out
	out=$(TARGET_NAME=rtu-03 target_ssh "$TARGET_DEST" 'echo direct-$((1+1))')
	h_assert_eq "direct-2" "$out" "direct to dropbear (sanity)"
	out=$(gw_ssh acme.alice+rtu-03@127.0.0.1 'echo via-dropbear-$((2+2))') || h_fail "ssh exited $?"
	h_assert_eq "via-dropbear-4" "$out" "output"
}

test_dropbear_target_exit_status() {
	gw_ssh acme.alice+rtu-03@127.0.0.1 'exit 5'
	h_assert_eq 5 $? "exit status"
}

h_run test_dropbear_target_exec test_dropbear_target_exit_status
