#!/bin/bash
# A ticket's max_sessions holds under simultaneous logins (issue 14): the listener alone counts
# and records a ticket's uses, so of 8 logins at once under a `max_sessions = 1` ticket exactly
# one gets in and 7 are refused as a used-up ticket is refused, each an audit event.
. "${GW_SRC:-$(dirname "$0")/../..}/tests/lib/harness.sh"
sshd_start plc-07 || exit 1
gw_policy_default
# plc-08: the same sshd, granted to acme without a harness ticket; the test installs its own.
gw_target_add plc-08 "${H_PORT[plc-07]}" "${H_FP[plc-07]}"
H_CFG_GRANTS+=('{ vendor = "acme"; targets = [ "plc-08" ]; allow = [ "shell", "exec" ]; }')
gw_config_extra 'max_startups = "100:30:1000";'
gw_config_extra 'per_source = { max_startups = 0; };' # 8 logins at once, all from 127.0.0.1
gw_start || exit 1

LOGINS=8
FILLERS=${FILLERS:-100}

# fillers N: N other valid tickets installed (signed, for plc-07), as on a gateway with many
# work orders. Each decision reads and verifies them all, which makes reading a ticket's use
# count and recording a use far apart in time: the race this test is about, made visible.
# gatewayctl writes the first; the others differ from it only in id and reason and are written
# from its text (99 more gatewayctl runs cost 3 s of CPU under ASan); one ssh-keygen signs all.
fillers() {
	local i d=$H_DIR/gw/fillers text text_i
	mkdir -p "$d" &&
		ctl ticket new --id filler-0 --vendor acme --target plc-07 --from now --to +1d \
			--approver owner --reason "filler 0" -o "$d/filler-0.ticket" >/dev/null 2>&1 || return 1
	text=$(<"$d/filler-0.ticket")
	for ((i = 1; i < $1; i++)); do
		text_i=${text//filler-0/filler-$i}
		printf '%s\n' "${text_i//filler 0/filler $i}" >"$d/filler-$i.ticket" || return 1
	done
	ssh-keygen -q -Y sign -n gatewayd-ticket -f "$APPROVER_KEY" "$d"/*.ticket &&
		cp "$d"/* "$H_DIR/gw/state/tickets/"
}

test_eight_logins_one_ticket_use() {
	local f=$H_DIR/gw/once.ticket i pids=() in=0 refused=0 out allowed denied
	ctl ticket new --id once --person acme.alice --target plc-08 --from now --to +1d \
		--approver owner --reason "one session" --max-sessions 1 -o "$f" >/dev/null &&
		ssh-keygen -q -Y sign -n gatewayd-ticket -f "$APPROVER_KEY" "$f" &&
		ctl ticket install "$f" >/dev/null || h_fail "ticket once"
	fillers "$FILLERS" || h_fail "filler tickets"
	# The one that gets in stays a few seconds: the others arrive while it is live.
	for ((i = 0; i < LOGINS; i++)); do
		gw_ssh acme.alice+plc-08@127.0.0.1 'echo got-in-$((40+2)); sleep 3' \
			</dev/null >"$H_DIR/login-$i.out" 2>&1 &
		pids+=($!)
	done
	for i in "${pids[@]}"; do wait "$i"; done
	for ((i = 0; i < LOGINS; i++)); do
		out=$(cat "$H_DIR/login-$i.out")
		if [[ $out == *got-in-42* ]]; then
			((in++))
		elif [[ $out == *"access denied: approval ticket once has no sessions left"* ]]; then
			((refused++))
		else
			h_fail "login $i neither got in nor was refused as used up: $out"
		fi
	done
	h_assert_eq 1 "$in" "sessions that got in"
	h_assert_eq $((LOGINS - 1)) "$refused" "logins refused"
	h_assert_eq 1 "$(wc -l <"$H_DIR/gw/state/tickets/once.used")" "uses recorded in once.used"
	allowed=$(grep '"event":"access_decision"' "$GW_AUDIT" | grep '"ticket":"once"' |
		grep -c '"allow":true')
	denied=$(grep '"event":"access_decision"' "$GW_AUDIT" | grep '"ticket":"once"' |
		grep '"allow":false' | grep -c '"reason":"ticket_used_up"')
	h_assert_eq 1 "$allowed" "allowed decisions in the audit log"
	h_assert_eq $((LOGINS - 1)) "$denied" "ticket_used_up refusals in the audit log"
	h_assert_eq 1 "$(grep '"event":"session_end"' "$GW_AUDIT" | grep -c '"target":"plc-08"')" \
		"sessions that ran to plc-08"
}

h_run test_eight_logins_one_ticket_use
