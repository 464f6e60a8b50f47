#!/bin/bash
# test_owner_guardrails.sh: what an asset owner relies on (issue 16): a ticket's max_sessions
# counts connections, not the channels (shells, commands, sftp) one connection opens.
. "${GW_SRC:-$(dirname "$0")/../..}/tests/lib/harness.sh"
sshd_start plc-07 || exit 1
GW_ALLOW="shell exec upload download" gw_policy_default
# plc-08: the same sshd, granted to acme without a harness ticket; the tests install their own.
gw_target_add plc-08 "${H_PORT[plc-07]}" "${H_FP[plc-07]}"
H_CFG_GRANTS+=('{ vendor = "acme"; targets = [ "plc-08" ]; allow = [ "shell", "exec", "download" ]; }')
gw_start || exit 1

# ticket_install ID MAX: a ticket for acme.alice on plc-08 with MAX sessions, signed, installed.
ticket_install() {
	local f=$H_DIR/gw/$1.ticket
	ctl ticket new --id "$1" --person acme.alice --target plc-08 --from now --to +1h \
		--approver owner --reason "guard rails" --max-sessions "$2" -o "$f" >/dev/null 2>&1 &&
		ssh-keygen -q -Y sign -n gatewayd-ticket -f "$APPROVER_KEY" "$f" &&
		ctl ticket install "$f" >/dev/null || h_fail "ticket $1"
}

master_is_up() { gw_ssh -S "$H_DIR/cm" -O check x >/dev/null 2>&1; }

test_one_connection_many_channels_is_one_use() {
	local f=$H_DIR/gw/conn.ticket out
	ticket_install conn 3
	# One connection (a stock ControlMaster); two commands and an sftp session ride on it.
	gw_ssh -M -S "$H_DIR/cm" -o ControlPersist=no -N -f acme.alice+plc-08@127.0.0.1 ||
		h_fail "master connection"
	h_wait_for 10 master_is_up || h_fail "master not up"
	out=$(gw_ssh -S "$H_DIR/cm" x 'echo first-$((6*7))' 2>&1)
	h_assert_contains "$out" "first-42" "first command"
	out=$(gw_ssh -S "$H_DIR/cm" x 'echo second-$((6*7))' 2>&1)
	h_assert_contains "$out" "second-42" "second command"
	printf 'pwd\n' >"$H_DIR/batch"
	out=$(timeout -k 5 "$H_TIMEOUT" sftp "${H_SSH_OPTS[@]}" -o ControlPath="$H_DIR/cm" \
		-b "$H_DIR/batch" x 2>&1 </dev/null) || h_fail "sftp over the connection: $out"
	h_assert_contains "$out" "Remote working directory" "sftp"
	out=$(ctl ticket verify "$f") || h_fail "verify: $out"
	h_assert_contains "$out" "sessions:  1 of 3 used" "uses after one connection"
	h_assert_match "$(ctl ticket list)" $'(^|\n)conn\tactive\tacme.alice\tplc-08\t[^\n]*\t1/3' \
		"list after one connection"
	gw_ssh -S "$H_DIR/cm" -O exit x >/dev/null 2>&1
	# A second connection is the second use.
	out=$(gw_ssh acme.alice+plc-08@127.0.0.1 'echo third-$((6*7))' 2>&1)
	h_assert_contains "$out" "third-42" "second connection"
	h_assert_contains "$(ctl ticket verify "$f")" "sessions:  2 of 3 used" "uses after two"
}

h_run test_one_connection_many_channels_is_one_use
