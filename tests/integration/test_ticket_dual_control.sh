#!/bin/bash
# Dual control (issue 16): a target with approvals = 2 refuses a ticket signed by one approver
# (the vendor is told, the audit log names who signed), a second signature by the same approver
# does not make two, and the signature of a second approver, added with `gatewayctl ticket
# install`, admits; the recording header, `gatewayctl ticket show` and the evidence report name
# both approvers.
. "${GW_SRC:-$(dirname "$0")/../..}/tests/lib/harness.sh"
sshd_start plc-07 || exit 1
gw_policy_default
# plc-11: the same sshd, needing two approvals; granted without a harness ticket.
gw_target_add plc-11 "${H_PORT[plc-07]}" "${H_FP[plc-07]}" "approvals = 2;"
H_CFG_GRANTS+=('{ vendor = "acme"; targets = [ "plc-11" ]; allow = [ "shell", "exec" ]; }')
SAFETY_KEY=$H_DIR/keys/safety
h_keygen "$SAFETY_KEY" || exit 1
h_keygen "$H_DIR/keys/stranger" || exit 1
H_CFG_APPROVERS+=("{ name = \"safety\"; key = \"$(cat "$SAFETY_KEY.pub")\"; vendors = [ \"acme\" ]; targets = [ \"plc-11\" ]; }")
gw_start || exit 1

# sign_copy DIR KEY [OPTION...]: wo-1.ticket copied into DIR and signed there with KEY.
sign_copy() {
	local dir=$H_DIR/$1 key=$2
	shift 2
	mkdir -p "$dir" && cp "$H_DIR/wo-1.ticket" "$dir/" || h_fail "copy to $dir"
	ssh-keygen -q -Y sign -n gatewayd-ticket -f "$key" "$@" "$dir/wo-1.ticket" || h_fail "sign in $dir"
}

# The last access_decision event for plc-11, compact JSON.
last_decision() {
	jq -c 'select(.event == "access_decision" and .target == "plc-11")' "$GW_AUDIT" | tail -n 1
}

test_one_approval_refused() {
	local out
	# No --approver: any approver in scope may sign.
	ctl ticket new --id wo-1 --vendor acme --target plc-11 --from now --to +1d \
		--reason "WO-1 safety interlock" -o "$H_DIR/wo-1.ticket" 2>/dev/null || h_fail "ticket new"
	grep -q approver "$H_DIR/wo-1.ticket" && h_fail "the ticket names an approver"
	sign_copy owner "$APPROVER_KEY"
	out=$(ctl ticket install "$H_DIR/owner/wo-1.ticket") || h_fail "install: $out"
	h_assert_contains "$out" "ticket wo-1: signed by owner (1 approval)" "install"
	out=$(ctl ticket show wo-1) && h_fail "show says valid: $out"
	h_assert_contains "$out" "approvals: 1 of 2 required for plc-11" "show"
	h_assert_contains "$out" "NOT VALID: plc-11 needs 2 approvals" "show"
	out=$(gw_ssh acme.alice+plc-11@127.0.0.1 'echo reached-$((1+1))' 2>&1)
	[[ $? != 0 ]] || h_fail "ssh succeeded"
	h_assert_contains "$out" "approval ticket wo-1 has 1 of 2 approvals" "vendor message"
	h_assert_not_contains "$out" "reached-2" "output"
	out=$(last_decision)
	h_assert_contains "$out" '"allow":false' "audit"
	h_assert_contains "$out" '"reason":"ticket_needs_approvals"' "audit"
	h_assert_contains "$out" '"approvers":["owner"]' "audit"
	h_assert_contains "$out" "(signed by owner)" "audit detail"
}

test_same_approver_twice_is_one_approval() {
	local out
	# Another hash gives another signature block by the same key.
	sign_copy owner2 "$APPROVER_KEY" -O hashalg=sha256
	cmp -s "$H_DIR/owner/wo-1.ticket.sig" "$H_DIR/owner2/wo-1.ticket.sig" && h_fail "same block"
	out=$(ctl ticket install "$H_DIR/owner2/wo-1.ticket") || h_fail "install: $out"
	h_assert_contains "$out" "ticket wo-1: signed by owner (1 approval)" "install"
	h_assert_eq 2 "$(grep -c 'BEGIN SSH SIGNATURE' "$GW_CONFIG_STATE/tickets/wo-1.ticket.sig")" "blocks"
	out=$(gw_ssh acme.alice+plc-11@127.0.0.1 'echo reached-$((1+1))' 2>&1)
	[[ $? != 0 ]] || h_fail "ssh succeeded"
	h_assert_contains "$out" "has 1 of 2 approvals" "vendor message"
}

test_stranger_signature_not_added() {
	local out
	sign_copy stranger "$H_DIR/keys/stranger"
	out=$(ctl ticket install "$H_DIR/stranger/wo-1.ticket" 2>&1) && h_fail "install accepted: $out"
	h_assert_contains "$out" "which is no approver's key" "install"
	grep -q "$(sed -n 2p "$H_DIR/stranger/wo-1.ticket.sig")" "$GW_CONFIG_STATE/tickets/wo-1.ticket.sig" &&
		h_fail "the stranger's block was stored"
	ctl ticket show wo-1 | grep -q "approvals: 1 of 2" || h_fail "the installed ticket changed"
}

test_second_approver_admits() {
	local out cast
	sign_copy safety "$SAFETY_KEY"
	out=$(ctl ticket install "$H_DIR/safety/wo-1.ticket") || h_fail "install: $out"
	h_assert_contains "$out" "ticket wo-1: signed by owner, safety (2 approvals)" "install"
	out=$(ctl ticket show wo-1) || h_fail "show says not valid: $out"
	h_assert_contains "$out" "signature: good, by approver owner ($(h_fingerprint "$APPROVER_KEY.pub"))" "show"
	h_assert_contains "$out" "signature: good, by approver safety ($(h_fingerprint "$SAFETY_KEY.pub"))" "show"
	h_assert_contains "$out" "approvals: 2 of 2 required for plc-11" "show"
	out=$(gw_ssh acme.alice+plc-11@127.0.0.1 'echo reached-$((1+1))' 2>&1) || h_fail "ssh refused: $out"
	h_assert_contains "$out" "reached-2" "output"
	out=$(last_decision)
	h_assert_contains "$out" '"allow":true' "audit"
	h_assert_contains "$out" '"approver":"owner"' "audit"
	h_assert_contains "$out" '"approvers":["owner","safety"]' "audit"
	h_wait_for 10 grep -lq '"target":"plc-11"' $(gw_recordings) || h_fail "no recording for plc-11"
	cast=$(grep -l '"target":"plc-11"' $(gw_recordings) | head -n 1)
	out=$(h_cast_header "$cast" | jq -c .gatewayd)
	h_assert_contains "$out" '"ticket_id":"wo-1"' "header"
	h_assert_contains "$out" '"approver":"owner"' "header"
	h_assert_contains "$out" '"approvers":["owner","safety"]' "header"
}

# The evidence report names both, for the session and for the ticket.
test_report_names_every_approver() {
	local json
	json=$(ctl report --since 1h --format json) || h_fail "report --format json"
	h_assert_eq "owner, safety" "$(jq -r '.sessions[] | select(.target == "plc-11") | .approvers' <<<"$json")" "session"
	h_assert_eq "owner, safety" "$(jq -r '.tickets[] | select(.ticket == "wo-1") | .approvers' <<<"$json")" "ticket"
	h_assert_eq "$(h_fingerprint "$APPROVER_KEY.pub"), $(h_fingerprint "$SAFETY_KEY.pub")" \
		"$(jq -r '.tickets[] | select(.ticket == "wo-1") | .signer' <<<"$json")" "ticket keys"
}

# A ticket that names its approver still needs that approver's signature among the others.
test_named_approver_must_sign() {
	local out
	ctl ticket new --id wo-2 --vendor acme --target plc-11 --from now --to +1d --approver owner \
		--reason "WO-2" -o "$H_DIR/wo-2.ticket" 2>/dev/null || h_fail "ticket new"
	ssh-keygen -q -Y sign -n gatewayd-ticket -f "$SAFETY_KEY" "$H_DIR/wo-2.ticket" || h_fail "sign"
	out=$(ctl ticket verify "$H_DIR/wo-2.ticket") && h_fail "verify accepted: $out"
	h_assert_contains "$out" "names approver owner but was signed by approver safety" "verify"
	# Both signatures in one file, as an owner may hand them over.
	mv "$H_DIR/wo-2.ticket.sig" "$H_DIR/wo-2.safety.sig"
	ssh-keygen -q -Y sign -n gatewayd-ticket -f "$APPROVER_KEY" "$H_DIR/wo-2.ticket" || h_fail "sign"
	cat "$H_DIR/wo-2.safety.sig" >>"$H_DIR/wo-2.ticket.sig"
	out=$(ctl ticket verify "$H_DIR/wo-2.ticket") || h_fail "verify refused: $out"
	h_assert_contains "$out" "signature: good, by approver owner" "verify"
	h_assert_contains "$out" "signature: good, by approver safety" "verify"
	h_assert_contains "$out" "approvals: 2 of 2 required for plc-11" "verify"
}

GW_CONFIG_STATE=$H_DIR/gw/state
h_run test_one_approval_refused test_same_approver_twice_is_one_approval \
	test_stranger_signature_not_added test_second_approver_admits test_report_names_every_approver \
	test_named_approver_must_sign
