#!/bin/bash
# notify_command (issue 16): a session allowed under a ticket, an owner's kill and an access
# request reach the site's program as the audit line itself on stdin, run as front_user with a
# bare environment; a notifier that fails or hangs is audited as notify_failed (a hung one
# killed at notify_timeout), and neither delays nor refuses the vendor's session; a ninth
# notifier at once is not run but audited.
. "${GW_SRC:-$(dirname "$0")/../..}/tests/lib/harness.sh"

# The notifier does what $N/mode says: append (its stdin to $N/out.jsonl, what it ran as to
# $N/meta), fail (exit 3) or hang (a child that sleeps, so the whole group must be killed).
N=$H_DIR/notify
mkdir -m 0777 "$N" || exit 1
cat >"$N/notifier" <<EOF
#!/bin/sh
case \$(cat "$N/mode") in
append)
	cat >>"$N/out.jsonl"
	printf '%s uid=%s args=%s env=%s fds=%s\n' "\$GATEWAYD_EVENT" "\$(id -u)" "\$*" \\
		"\$(env | grep -v -e '^PWD=' -e '^SHLVL=' -e '^_=' | sort | tr '\n' ' ')" \\
		"\$(for f in /proc/\$\$/fd/*; do echo "\${f##*/}:\$(readlink "\$f")"; done | tr '\n' ' ')" \\
		>>"$N/meta" ;;
fail) cat >/dev/null; exit 3 ;;
hang) sleep 987 ;;
esac
EOF
chmod 0755 "$N/notifier"
echo append >"$N/mode"

sshd_start plc-07 || exit 1
gw_policy_default
gw_config_extra "notify_command = [ \"$N/notifier\", \"--to\", \"ot-security@plant\" ];"
# Longer than a login takes here, so that a login that waited for a hung notifier would show.
gw_config_extra 'notify_timeout = 3;'
# Of the daemon's environment, nothing may reach the notifier.
GW_NOTIFY_SECRET=daemon-only gw_start || exit 1

# json_lines FILE EVENT [FIELD VALUE]: the lines of FILE that are JSON objects of EVENT (with
# FIELD == VALUE), as they are.
json_lines() {
	python3 - "$@" <<-'EOF'
		import json, sys
		path, event, rest = sys.argv[1], sys.argv[2], sys.argv[3:]
		try:
		    lines = open(path, encoding="utf-8").read().splitlines()
		except FileNotFoundError:
		    lines = []
		for line in lines:
		    o = json.loads(line)
		    if o.get("event") == event and (not rest or str(o.get(rest[0])) == rest[1]):
		        print(line)
	EOF
}

# has_line FILE EVENT [FIELD VALUE]: whether there is one.
has_line() { [[ -n $(json_lines "$@") ]]; }

# field LINE NAME: one member of a JSON line.
field() { python3 -c 'import json, sys; print(json.loads(sys.argv[1]).get(sys.argv[2], ""))' "$1" "$2"; }

listed() { [[ $(ctl sessions --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))') == "$1" ]]; }

test_a_session_under_a_ticket_is_notified_with_the_audit_line_as_front_user() {
	local line meta session
	echo append >"$N/mode"
	h_assert_eq hello "$(gw_ssh "$GW_DEST" 'echo hello')" "the session's output"
	h_wait_for 15 has_line "$N/out.jsonl" access_decision || h_fail "no access_decision notified"
	line=$(json_lines "$N/out.jsonl" access_decision | tail -n 1)
	h_assert_eq acme.alice "$(field "$line" person)" "person"
	h_assert_eq plc-07 "$(field "$line" target)" "target"
	h_assert_eq harness-0 "$(field "$line" ticket)" "ticket"
	h_assert_eq owner "$(field "$line" approver)" "approver"
	session=$(field "$line" session)
	h_assert_match "$session" '^[0-9a-f]{32}$' "session id"
	# The very line the evidence holds, signature included.
	grep -qxF -- "$line" "$GW_AUDIT" || h_fail "the notified line is not a line of the audit log: $line"
	h_assert_contains "$line" '"sig":"' "the line's signature"
	# One event per session start: session_start and session_end are not notified.
	has_line "$N/out.jsonl" session_start && h_fail "session_start notified"
	meta=$(grep '^access_decision ' "$N/meta" | tail -n 1)
	h_assert_contains "$meta" "uid=$(id -u gatewayd-front) " "run as front_user"
	h_assert_contains "$meta" "args=--to ot-security@plant " "the configured arguments"
	h_assert_contains "$meta" "env=GATEWAYD_EVENT=access_decision PATH=/usr/bin:/bin  " \
		"an environment of its own"
	# stdin the event's pipe, stdout and stderr /dev/null; besides them only the shell's own
	# (its script, its command substitution): no socket, nothing of the gateway's files.
	h_assert_contains "$meta" "fds=0:pipe:" "stdin"
	h_assert_contains "$meta" " 1:/dev/null " "stdout"
	h_assert_contains "$meta" " 2:/dev/null " "stderr"
	h_assert_not_contains "$meta" "socket:" "no socket of the listener"
	h_assert_not_contains "$meta" "$H_DIR/gw" "no file of the gateway"
}

test_an_owners_kill_is_notified_as_the_cut_and_who_asked() {
	local id line
	echo append >"$N/mode"
	gw_ssh "$GW_DEST" 'echo started; sleep 60' >"$H_DIR/k.out" 2>&1 &
	h_wait_for 30 listed 1 || h_fail "the session is not listed"
	id=$(ctl sessions --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
	h_assert_contains "$(ctl kill "$id")" "1 session(s) told to end" "kill output"
	h_wait_for 15 has_line "$N/out.jsonl" session_cut session "$id" || h_fail "no session_cut notified"
	line=$(json_lines "$N/out.jsonl" session_cut session "$id")
	h_assert_eq "killed by the asset owner (root, uid 0)" "$(field "$line" reason)" "cut reason"
	h_assert_eq acme.alice "$(field "$line" person)" "person"
	h_wait_for 15 has_line "$N/out.jsonl" control name "$id" || h_fail "no control kill notified"
	h_assert_eq kill "$(field "$(json_lines "$N/out.jsonl" control name "$id")" action)" "action"
	h_wait_for 15 listed 0 || h_fail "the session is still listed"
}

test_an_access_request_is_notified() {
	local out id line
	echo append >"$N/mode"
	out=$(gw_ssh acme.alice@127.0.0.1 request plc-07 --for 2h --reason "WO-4711 firmware" </dev/null) ||
		h_fail "request exited $?: $out"
	id=$(sed -n 's/^request: //p' <<<"$out")
	[[ -n $id ]] || h_fail "no request id in: $out"
	h_wait_for 15 has_line "$N/out.jsonl" request_created request "$id" ||
		h_fail "no request_created notified"
	line=$(json_lines "$N/out.jsonl" request_created request "$id")
	h_assert_eq acme.alice "$(field "$line" person)" "person"
	h_assert_eq plc-07 "$(field "$line" target)" "target"
	h_assert_eq "WO-4711 firmware" "$(field "$line" reason)" "reason"
}

test_a_failing_notifier_is_audited_and_the_session_still_works() {
	local before line
	echo fail >"$N/mode"
	before=$(json_lines "$GW_AUDIT" notify_failed | wc -l)
	h_assert_eq works "$(gw_ssh "$GW_DEST" 'echo works')" "the session's output"
	h_wait_for 15 eval '(($(json_lines "$GW_AUDIT" notify_failed | wc -l) > before))' ||
		h_fail "no notify_failed in the audit log"
	line=$(json_lines "$GW_AUDIT" notify_failed | tail -n 1)
	h_assert_eq access_decision "$(field "$line" notified_event)" "the event not notified"
	h_assert_eq "exit status 3" "$(field "$line" reason)" "reason"
	h_assert_eq 3 "$(field "$line" status)" "status"
	grep -q "notifier for access_decision: exit status 3" "$H_DIR/gatewayd.log" ||
		h_fail "not in the gateway's log"
}

test_a_hanging_notifier_is_killed_at_notify_timeout_and_the_login_does_not_wait() {
	local before line
	echo hang >"$N/mode"
	before=$(json_lines "$GW_AUDIT" notify_failed | wc -l)
	h_assert_eq quick "$(gw_ssh "$GW_DEST" 'echo quick')" "the session's output"
	# The session is over while its notifier still hangs: nobody waited for it.
	(($(json_lines "$GW_AUDIT" notify_failed | wc -l) == before)) ||
		h_fail "notify_failed before the session ended: the login waited for the notifier"
	pgrep -u gatewayd-front -f 'sleep 987' >/dev/null || h_fail "the notifier is not running"
	h_wait_for 15 eval '(($(json_lines "$GW_AUDIT" notify_failed | wc -l) > before))' ||
		h_fail "no notify_failed in the audit log"
	line=$(json_lines "$GW_AUDIT" notify_failed | tail -n 1)
	h_assert_eq "killed after notify_timeout (3 s)" "$(field "$line" reason)" "reason"
	h_assert_eq 137 "$(field "$line" status)" "status"
	# The whole group: the script's sleep too.
	h_wait_for 5 eval '! pgrep -u gatewayd-front -f "sleep 987" >/dev/null' ||
		h_fail "the notifier's child outlived it"
}

test_a_ninth_notifier_at_once_is_not_run_but_audited() {
	local i line
	echo hang >"$N/mode"
	# Nine owner's kills (of no session) within notify_timeout: eight notifiers hang at once.
	for i in 1 2 3 4 5 6 7 8 9; do
		ctl kill 0123456789abcdef0123456789abcd0$i >/dev/null
	done
	h_wait_for 15 has_line "$GW_AUDIT" notify_failed reason "too many notifiers running" ||
		h_fail "no notify_failed for the ninth"
	line=$(json_lines "$GW_AUDIT" notify_failed reason "too many notifiers running" | tail -n 1)
	h_assert_eq control "$(field "$line" notified_event)" "the event not notified"
	h_assert_eq "" "$(field "$line" status)" "no status: it did not run"
	# The eight end at their timeout, not later.
	h_wait_for 15 eval '! pgrep -u gatewayd-front -f "sleep 987" >/dev/null' ||
		h_fail "the hung notifiers outlived notify_timeout"
}

h_run test_a_session_under_a_ticket_is_notified_with_the_audit_line_as_front_user \
	test_an_owners_kill_is_notified_as_the_cut_and_who_asked \
	test_an_access_request_is_notified \
	test_a_failing_notifier_is_audited_and_the_session_still_works \
	test_a_hanging_notifier_is_killed_at_notify_timeout_and_the_login_does_not_wait \
	test_a_ninth_notifier_at_once_is_not_run_but_audited
