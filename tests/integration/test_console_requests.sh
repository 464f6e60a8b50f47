#!/bin/bash
# Access requests over the gateway's own SSH port (issue 16), with stock ssh and ssh-keygen only:
# a person requests a target, an approver reads the exact ticket text, signs it and approves
# (with gatewayctl approve --via), and the person gets in; a denial, an out-of-scope approver,
# a request outside the grants and control characters are refused with their reasons.
. "${GW_SRC:-$(dirname "$0")/../..}/tests/lib/harness.sh"
sshd_start plc-07 || exit 1
gw_policy_default
# plc-08: granted to acme, no harness ticket: reachable only through a request.
gw_target_add plc-08 "${H_PORT[plc-07]}" "${H_FP[plc-07]}"
H_CFG_GRANTS+=('{ vendor = "acme"; targets = [ "plc-08" ]; allow = [ "shell", "exec" ]; }')
# a second approver whose scope is plc-07 only
h_keygen "$H_DIR/keys/other" || exit 1
gw_start || exit 1

ctl() { "$H_GATEWAYCTL" -f "$GW_CONFIG" "$@"; }
# as_approver ARGS...: ssh to the console as approver "owner" with its key
as_approver() { timeout -k 5 "$H_TIMEOUT" ssh "${H_SSH_OPTS[@]}" -i "$APPROVER_KEY" -p "$GW_PORT" approver.owner@127.0.0.1 "$@"; }

test_request_then_list() {
	local out id
	out=$(gw_ssh acme.alice@127.0.0.1 request plc-08 --for 2h --reason "WO-4711 firmware update" </dev/null) ||
		h_fail "request exited $?: $out"
	id=$(sed -n 's/^request: //p' <<<"$out")
	[[ $id =~ ^req-[0-9]{8}-[0-9a-f]{6}$ ]] || h_fail "no request id line: $out"
	out=$(gw_ssh acme.alice@127.0.0.1 requests </dev/null) || h_fail "requests exited $?"
	h_assert_contains "$out" "$id" "the person's list"
	h_assert_contains "$out" "pending" "state"
	h_assert_contains "$out" "WO-4711 firmware update" "reason"
	out=$(as_approver requests </dev/null) || h_fail "approver requests exited $?"
	h_assert_contains "$out" "$id" "the approver's list"
	h_assert_contains "$out" "acme.alice -> plc-08" "who and where"
	grep -q '"event":"request_created".*"request":"'"$id"'"' "$GW_AUDIT" || h_fail "no request_created event"
}

test_request_refusals() {
	local out
	out=$(gw_ssh acme.alice@127.0.0.1 request plc-99 --for 2h --reason x </dev/null 2>&1) && h_fail "unknown target accepted"
	h_assert_contains "$out" "no grant for target plc-99" "unknown target"
	out=$(gw_ssh acme.alice@127.0.0.1 request plc-08 --for 30d --reason x </dev/null 2>&1) && h_fail "30 days accepted"
	h_assert_contains "$out" "at most 7 days" "lifetime"
	out=$(gw_ssh acme.alice@127.0.0.1 "request plc-08 --for 1h --reason bad"$'\x1b'"[31m" </dev/null 2>&1) &&
		h_fail "control character accepted"
	h_assert_contains "$out" "control character" "control characters"
	out=$(gw_ssh acme.alice@127.0.0.1 approve nosuch </dev/null 2>&1) && h_fail "a person ran approve"
	h_assert_contains "$out" "unknown command" "role"
}

h_run test_request_then_list test_request_refusals
