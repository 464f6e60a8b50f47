#!/bin/bash
# Access requests over the gateway's own SSH port (issue 16), with stock ssh and ssh-keygen only:
# a person requests a target, an approver reads the exact ticket text, signs it and approves
# (with gatewayctl approve --via), and the person gets in; a denial, an out-of-scope approver,
# a request outside the grants and control characters are refused with their reasons.
. "${GW_SRC:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$H_SRC/tests/lib/sessions.sh"
sshd_start plc-07 || exit 1
gw_policy_default
# plc-08: granted to acme, no harness ticket: reachable only through a request.
gw_target_add plc-08 "${H_PORT[plc-07]}" "${H_FP[plc-07]}"
H_CFG_GRANTS+=('{ vendor = "acme"; targets = [ "plc-08" ]; allow = [ "shell", "exec" ]; }')
# vendor beta, and a second approver "other" whose scope is beta alone: it must not see acme's
# requests or sessions.
BOB_KEY=$H_DIR/keys/beta.bob
OTHER_KEY=$H_DIR/keys/other
h_keygen "$BOB_KEY" || exit 1
h_keygen "$OTHER_KEY" || exit 1
gw_vendor_add beta
gw_person_add beta beta.bob "$BOB_KEY.pub"
gw_grant_add beta "plc-07" "shell exec"
H_CFG_APPROVERS+=("{ name = \"other\"; key = \"$(cat "$OTHER_KEY.pub")\"; vendors = [ \"beta\" ]; targets = [ \"plc-07\", \"plc-08\" ]; }")
# plc-09 needs two approvals (dual control): owner's and second's.
SECOND_KEY=$H_DIR/keys/second
h_keygen "$SECOND_KEY" || exit 1
gw_target_add plc-09 "${H_PORT[plc-07]}" "${H_FP[plc-07]}" "approvals = 2;"
H_CFG_GRANTS+=('{ vendor = "acme"; targets = [ "plc-09" ]; allow = [ "shell", "exec" ]; }')
H_CFG_APPROVERS+=("{ name = \"second\"; key = \"$(cat "$SECOND_KEY.pub")\"; vendors = [ \"acme\" ]; targets = [ \"plc-09\" ]; }")
gw_start || exit 1

# as_approver ARGS...: ssh to the console as approver "owner" with its key; as_other: "other"
as_approver() { gw_console "$APPROVER_KEY" approver.owner "$@"; }
as_other() { gw_console "$OTHER_KEY" approver.other "$@"; }
as_auditor() { gw_console "$AUDITOR_KEY" auditor.ann "$@"; }
# new_request TARGET: alice's request for TARGET for 2h; prints its id
new_request() {
	gw_ssh acme.alice@127.0.0.1 request "$1" --for 2h --reason "WO-4711 firmware update" </dev/null |
		sed -n 's/^request: //p'
}
# approve_via ID [KEY]: gatewayctl approve --via as the approver "owner", signing with KEY
approve_via() {
	timeout -k 5 "$H_TIMEOUT" "$H_GATEWAYCTL" approve --via approver.owner@127.0.0.1 -p "$GW_PORT" \
		-o IdentitiesOnly=yes -o IdentityAgent=none -o BatchMode=yes -o StrictHostKeyChecking=no \
		-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -i "${2:-$APPROVER_KEY}" "$1"
}

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
	h_assert_contains "$out" "at most 168 hours" "lifetime"
	out=$(gw_ssh acme.alice@127.0.0.1 "request plc-08 --for 1h --reason bad"$'\x1b'"[31m" </dev/null 2>&1) &&
		h_fail "control character accepted"
	h_assert_contains "$out" "control character" "control characters"
	out=$(gw_ssh acme.alice@127.0.0.1 approve nosuch </dev/null 2>&1) && h_fail "a person ran approve"
	h_assert_contains "$out" "unknown command" "role"
}

test_approve_via_admits() {
	local id out
	id=$(new_request plc-08)
	[[ -n $id ]] || h_fail "no request"
	out=$(gw_ssh acme.alice+plc-08@127.0.0.1 'echo in-$((6*7))' </dev/null 2>&1) && h_fail "admitted before approval"
	h_assert_contains "$out" "request" "the refusal says how to request"
	out=$(approve_via "$id" </dev/null 2>&1) || h_fail "approve --via failed: $out"
	h_assert_contains "$out" "id = \"$id\"" "what was signed is shown"
	h_assert_contains "$out" "approved" "the gateway's answer"
	out=$(gw_ssh acme.alice+plc-08@127.0.0.1 'echo in-$((6*7))' </dev/null) || h_fail "not admitted after approval: $out"
	h_assert_eq "in-42" "$out" "output"
	out=$(gw_ssh acme.alice@127.0.0.1 requests </dev/null)
	h_assert_contains "$out" "approved until" "state"
	grep -q '"event":"request_approved".*"request":"'"$id"'".*"approver":"owner"' "$GW_AUDIT" ||
		h_fail "no request_approved event"
	grep -q '"event":"access_decision".*"ticket":"'"$id"'"' "$GW_AUDIT" || h_fail "the session did not use the request's ticket"
}

test_approve_via_agent() {
	local id out agent_out rc
	id=$(new_request plc-08)
	# no -i: ssh logs in and ssh-keygen signs with the agent's key
	agent_out=$(ssh-agent -s) || h_skip "no ssh-agent"
	eval "$agent_out" >/dev/null
	ssh-add -q "$APPROVER_KEY" 2>/dev/null || { ssh-agent -k >/dev/null; h_fail "ssh-add"; }
	out=$(timeout -k 5 "$H_TIMEOUT" "$H_GATEWAYCTL" approve --via approver.owner@127.0.0.1 \
		-p "$GW_PORT" -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
		-o LogLevel=ERROR "$id" </dev/null 2>&1)
	rc=$?
	ssh-agent -k >/dev/null
	((rc == 0)) || h_fail "approve --via with the agent: $out"
	h_assert_contains "$out" "approved" "the gateway's answer"
}

test_deny() {
	local id out
	id=$(new_request plc-08)
	out=$(as_approver deny "$id" --reason not this week </dev/null 2>&1) || h_fail "deny failed: $out"
	out=$(gw_ssh acme.alice@127.0.0.1 requests </dev/null)
	h_assert_contains "$out" "denied by owner: not this week" "the person sees the denial"
	out=$(approve_via "$id" </dev/null 2>&1) && h_fail "a denied request was approved"
	h_assert_contains "$out" "was denied" "approve after deny"
	grep -q '"event":"request_denied".*"request":"'"$id"'"' "$GW_AUDIT" || h_fail "no request_denied event"
}

test_expired_request() {
	local id out f now
	id=$(new_request plc-08)
	f=$H_DIR/gw/state/requests/$id.json
	[[ -f $f ]] || h_fail "no request file $f"
	# as time would: its end moves into the past
	now=$(date +%s)
	sed -i -E "s/\"not_before\":[0-9]+/\"not_before\":$((now - 7200))/; s/\"not_after\":[0-9]+/\"not_after\":$((now - 60))/" "$f"
	out=$(gw_ssh acme.alice@127.0.0.1 requests </dev/null)
	h_assert_contains "$(grep -A1 "^$id" <<<"$out")" "expired" "the person sees it expired"
	out=$(as_approver requests </dev/null)
	h_assert_not_contains "$out" "$id" "no longer pending for the approver"
	out=$(approve_via "$id" </dev/null 2>&1) && h_fail "an expired request was approved"
	h_assert_contains "$out" "has expired" "approve refused"
}

test_wrong_key_refused() {
	local id out
	id=$(new_request plc-08)
	# logs in as owner but signs with the vendor's key: not the approver's signature
	as_approver request show "$id" </dev/null >"$H_DIR/wrong.ticket" || h_fail "request show"
	ssh-keygen -q -Y sign -n gatewayd-ticket -f "$VENDOR_KEY" "$H_DIR/wrong.ticket" || h_fail "sign"
	out=$(as_approver approve "$id" <"$H_DIR/wrong.ticket.sig" 2>&1) && h_fail "another key's signature approved"
	h_assert_contains "$out" "not by approver owner's key" "reason"
	# the right key over altered text
	sed 's/WO-4711/WO-4712/' "$H_DIR/wrong.ticket" >"$H_DIR/altered.ticket"
	ssh-keygen -q -Y sign -n gatewayd-ticket -f "$APPROVER_KEY" "$H_DIR/altered.ticket" || h_fail "sign"
	out=$(as_approver approve "$id" <"$H_DIR/altered.ticket.sig" 2>&1) && h_fail "a signature over other text approved"
	h_assert_contains "$out" "not a valid signature" "reason"
	out=$(gw_ssh acme.alice@127.0.0.1 requests </dev/null)
	h_assert_contains "$(grep -A1 "^$id" <<<"$out")" "pending" "the request stays pending"
	grep -q '"event":"request_approved".*"request":"'"$id"'"' "$GW_AUDIT" && h_fail "approved by a bad signature"
	true
}

test_out_of_scope_approver() {
	local id out
	id=$(new_request plc-08)
	out=$(as_other requests --all </dev/null)
	h_assert_not_contains "$out" "$id" "other's list"
	out=$(as_other request show "$id" </dev/null 2>&1) && h_fail "other read acme's request"
	h_assert_contains "$out" "no request $id in your scope" "show"
	out=$(as_other approve "$id" </dev/null 2>&1) && h_fail "other approved"
	h_assert_contains "$out" "in your scope" "approve"
}

test_approver_sessions_and_kill() {
	local out pid id
	gw_ssh "$GW_DEST" 'echo started; sleep 60' </dev/null >"$H_DIR/live.out" 2>&1 &
	pid=$!
	h_wait_for 11 grep -q started "$H_DIR/live.out"
	out=$(as_approver sessions </dev/null)
	h_assert_contains "$out" "acme.alice -> plc-07" "owner sees the session"
	id=$(awk '/acme.alice -> plc-07/ { print $1; exit }' <<<"$out")
	out=$(as_other sessions </dev/null)
	h_assert_not_contains "$out" "acme.alice" "other does not see acme's session"
	out=$(as_other kill "${id:0:8}" </dev/null 2>&1) && h_fail "other killed acme's session"
	out=$(as_auditor kill "${id:0:8}" </dev/null 2>&1) && h_fail "the auditor killed a session"
	out=$(as_approver kill "${id:0:8}" --reason "stop now" </dev/null 2>&1) || h_fail "kill: $out"
	h_wait_for 5 h_gone "$pid" || h_fail "the session outlived the approver's kill"
	grep -q '"event":"control".*"peer_user":"approver.owner".*"action":"kill"' "$GW_AUDIT" || h_fail "no control event"
}

test_approver_watch() {
	local id out pid deadline
	es_start w1 || h_fail "session w1"
	es_echo w1 before-watch || h_fail "w1 does not echo"
	id=$(as_approver sessions </dev/null | awk '/acme.alice -> plc-07/ { print $1; exit }')
	[[ -n $id ]] || h_fail "the owner does not see w1"
	out=$(as_other watch "${id:0:12}" </dev/null 2>&1) && h_fail "other watched acme's session"
	h_assert_contains "$out" "no live session" "other's watch"
	as_approver -tt watch "${id:0:12}" </dev/null >"$H_DIR/awatch.out" 2>&1 &
	pid=$!
	# the stream is relayed once the watch is in place: echo until the view shows a line
	deadline=$((SECONDS + 15))
	until grep -q 'watched-42' "$H_DIR/awatch.out" || ((SECONDS > deadline)); do
		es_echo w1 "watched-$((6 * 7))" 5 >/dev/null
	done
	grep -q 'watched-42' "$H_DIR/awatch.out" || h_fail "the approver's view shows nothing: $(cat "$H_DIR/awatch.out")"
	es_end w1
	h_wait_for 10 h_gone "$pid" || { kill "$pid"; h_fail "the watch outlived the session"; }
	h_assert_contains "$(cat "$H_DIR/awatch.out")" "[session ended:" "the end is announced"
	grep -q '"event":"control".*"peer_user":"approver.owner".*"action":"watch"' "$GW_AUDIT" ||
		h_fail "no control event for the watch"
}

test_dual_control_through_requests() {
	local id out
	id=$(new_request plc-09)
	out=$(approve_via "$id" </dev/null 2>&1) || h_fail "owner's approval: $out"
	h_assert_contains "$out" "1 of 2 approvals" "the first approval"
	out=$(gw_ssh acme.alice+plc-09@127.0.0.1 'echo in-$((6*7))' </dev/null 2>&1) && h_fail "admitted with one approval"
	h_assert_contains "$out" "1 of 2 approvals" "the vendor is told"
	out=$(gw_ssh acme.alice@127.0.0.1 requests </dev/null)
	h_assert_contains "$out" "more approvals needed" "still pending"
	# the second approver, with its own key, over the same text
	gw_console "$SECOND_KEY" approver.second request show "$id" </dev/null >"$H_DIR/dual.ticket" ||
		h_fail "second: request show"
	ssh-keygen -q -Y sign -n gatewayd-ticket -f "$SECOND_KEY" "$H_DIR/dual.ticket" || h_fail "sign"
	out=$(gw_console "$SECOND_KEY" approver.second approve "$id" <"$H_DIR/dual.ticket.sig" 2>&1) ||
		h_fail "second's approval: $out"
	h_assert_contains "$out" "2 of 2 approvals" "the second approval"
	out=$(gw_ssh acme.alice+plc-09@127.0.0.1 'echo in-$((6*7))' </dev/null) || h_fail "not admitted with two approvals: $out"
	h_assert_eq "in-42" "$out" "output"
	"$H_GATEWAYCTL" -f "$GW_CONFIG" ticket show "$id" >"$H_DIR/dual.show" 2>&1
	h_assert_contains "$(cat "$H_DIR/dual.show")" "owner" "ticket show names the first approver"
	h_assert_contains "$(cat "$H_DIR/dual.show")" "second" "and the second"
	grep -q '"event":"ticket_signed".*"ticket":"'"$id"'".*"approvers":\["owner","second"\]' "$GW_AUDIT" ||
		h_fail "no ticket_signed event naming both approvers"
}

test_auditor_cannot_approve() {
	local id out
	id=$(new_request plc-08)
	out=$(as_auditor approve "$id" </dev/null 2>&1) && h_fail "the auditor approved"
	h_assert_contains "$out" "unknown command" "role"
}

h_run test_request_then_list test_request_refusals test_approve_via_admits test_approve_via_agent test_deny \
	test_expired_request \
	test_wrong_key_refused test_out_of_scope_approver test_approver_sessions_and_kill \
	test_approver_watch test_dual_control_through_requests test_auditor_cannot_approve
