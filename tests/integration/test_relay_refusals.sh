#!/bin/bash
# What the gateway refuses: a key it does not know, a person it does not know (indistinguishable
# from a wrong key), unknown or ungranted targets, malformed user names, and every kind of port
# forwarding (-W, -L, -R): none of them ever reaches the target.
. "${GW_SRC:-$(dirname "$0")/../..}/tests/lib/harness.sh"
sshd_start plc-07 || exit 1
gw_policy_default
# plc-08 is registered (the same sshd) but granted to nobody.
gw_target_add plc-08 "${H_PORT[plc-07]}" "${H_FP[plc-07]}"
h_keygen "$H_DIR/keys/stranger" || exit 1
gw_start || exit 1

# refusal_text USER KEY: what the vendor's terminal shows, the user@host prefix removed.
refusal_text() {
	timeout -k 5 "$H_TIMEOUT" ssh "${H_SSH_OPTS[@]}" -i "$2" -p "$GW_PORT" "$1@127.0.0.1" \
		'echo reached-$((1+1))' 2>&1 | sed "s/$1@127.0.0.1: //"
	return "${PIPESTATUS[0]}"
}

test_wrong_key_refused() {
	local out
	out=$(refusal_text acme.alice+plc-07 "$H_DIR/keys/stranger")
	h_assert_eq 255 $? "ssh exit status"
	h_assert_contains "$out" "Permission denied" "message"
	h_assert_not_contains "$out" "reached-2" "output"
}

test_unknown_person_reads_as_wrong_key() {
	local unknown wrong
	unknown=$(refusal_text acme.mallory+plc-07 "$VENDOR_KEY")
	h_assert_eq 255 $? "ssh exit status"
	wrong=$(refusal_text acme.alice+plc-07 "$H_DIR/keys/stranger")
	h_assert_eq "$wrong" "$unknown" "unknown person vs wrong key"
}

test_unknown_target_refused() {
	local out
	out=$(gw_ssh acme.alice+plc-99@127.0.0.1 'echo reached-$((1+1))' 2>&1)
	[[ $? != 0 ]] || h_fail "ssh succeeded"
	h_assert_contains "$out" "no such target" "message"
	h_assert_not_contains "$out" "reached-2" "output"
}

test_ungranted_target_reads_as_unknown() {
	local ungranted unknown
	ungranted=$(gw_ssh acme.alice+plc-08@127.0.0.1 'echo reached-$((1+1))' 2>&1)
	[[ $? != 0 ]] || h_fail "ssh succeeded"
	unknown=$(gw_ssh acme.alice+plc-99@127.0.0.1 'echo reached-$((1+1))' 2>&1)
	h_assert_eq "$unknown" "${ungranted//plc-08/plc-99}" "ungranted vs unknown target"
}

test_malformed_user_names_refused() {
	local name out long
	long=acme.$(printf 'a%.0s' {1..140})+plc-07
	for name in Acme.Alice+plc-07 'acme.alice+plc-07+plc-08' '-acme.alice+plc-07' 'acme.alice+' \
		'acme.alice+plc;id' "$long"; do
		out=$(gw_ssh "$name@127.0.0.1" 'echo reached-$((1+1))' 2>&1)
		[[ $? != 0 ]] || h_fail "user name [$name] was accepted"
		h_assert_not_contains "$out" "reached-2" "output for [$name]"
	done
}

test_forwarding_W_refused() {
	local out
	out=$(gw_ssh -W "127.0.0.1:${H_PORT[plc-07]}" "$GW_DEST" </dev/null 2>&1)
	[[ $? != 0 ]] || h_fail "ssh -W succeeded"
	h_assert_not_contains "$out" "SSH-2.0" "target banner through -W"
}

test_forwarding_L_refused() {
	local lport banner=""
	h_free_port lport
	gw_ssh -N -o ExitOnForwardFailure=yes -L "127.0.0.1:$lport:127.0.0.1:${H_PORT[plc-07]}" \
		"$GW_DEST" 2>"$H_DIR/L.err" &
	local pid=$!
	h_wait_port "$lport" "$pid" || h_fail "ssh -L did not listen: $(cat "$H_DIR/L.err")"
	banner=$(timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$lport; head -c 8 <&3" 2>/dev/null)
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	h_assert_not_contains "$banner" "SSH-2.0" "target banner through -L"
}

test_forwarding_R_refused() {
	local out
	out=$(gw_ssh -o ExitOnForwardFailure=yes -R "127.0.0.1:0:127.0.0.1:${H_PORT[plc-07]}" \
		"$GW_DEST" 'echo reached-$((1+1))' 2>&1)
	[[ $? != 0 ]] || h_fail "ssh -R succeeded"
	h_assert_not_contains "$out" "reached-2" "output"
}

h_run test_wrong_key_refused test_unknown_person_reads_as_wrong_key test_unknown_target_refused \
	test_ungranted_target_reads_as_unknown test_malformed_user_names_refused \
	test_forwarding_W_refused test_forwarding_L_refused test_forwarding_R_refused
