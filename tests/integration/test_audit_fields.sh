#!/bin/bash
# The audit log never loses a field: a command or a user name that is not UTF-8 is recorded
# (readable text and the exact bytes in a "_base64" twin), never as an event without fields;
# a connection that never authenticates leaves a login_timeout event; the log still verifies.
. "${GW_SRC:-$(dirname "$0")/../..}/tests/lib/harness.sh"
sshd_start plc-07 || exit 1
gw_policy_default
export GW_LOGIN_GRACE=3
# The login timeout below would otherwise refuse 127.0.0.1 for 30 s (tests/limits_floods has that).
gw_config_extra 'per_source = { grace_penalty = 0; };'
gw_start || exit 1

# last_event NAME: the last audit event NAME as one JSON line ("" when none).
last_event() { grep "\"event\":\"$1\"" "$GW_AUDIT" | tail -n 1; }

# field EVENT-JSON NAME: one field's value (strings bare), "" when absent.
field() {
	[[ -n $1 ]] || return 0
	python3 -c 'import json, sys; v = json.loads(sys.argv[1]).get(sys.argv[2], "")
print(v if isinstance(v, str) else json.dumps(v))' "$1" "$2"
}

test_command_with_byte_ff_gives_a_whole_channel_start() {
	local out ev
	out=$(gw_ssh "$GW_DEST" $'echo ran-$((1+1)); echo \xff' 2>&1)
	h_assert_contains "$out" "ran-2" "the command ran"
	ev=$(last_event channel_start)
	h_assert_eq acme.alice "$(field "$ev" person)" "channel_start person"
	h_assert_eq "$(printf 'echo ran-$((1+1)); echo \xff' | base64 -w0)" \
		"$(field "$ev" command_base64)" "channel_start command_base64 (the exact bytes)"
	h_assert_eq 'echo ran-$((1+1)); echo \xff' "$(field "$ev" command)" "channel_start command as text"
	[[ -f $(field "$ev" recording) ]] || h_fail "channel_start recording: [$(field "$ev" recording)]"
}

test_user_name_with_byte_ff_gives_an_auth_failure_with_the_user() {
	local out ev
	out=$(h_hostile "$GW_SRC/tests/integration/hostile_audit_bytes.py" \
		--user-hex "$(printf 'acme.al\xffice+plc-07' | od -An -tx1 | tr -d ' \n')")
	h_assert_eq refused "$out" "the login"
	ev=$(last_event auth_failure)
	h_assert_eq "$(printf 'acme.al\xffice+plc-07' | base64 -w0)" "$(field "$ev" user_base64)" \
		"auth_failure user_base64"
	h_assert_eq 'acme.al\xffice+plc-07' "$(field "$ev" user)" "auth_failure user as text"
	h_assert_eq publickey "$(field "$ev" method)" "auth_failure method"
}

# login_timeouts: how many login_timeout events the log holds.
login_timeouts() { grep -c '"event":"login_timeout"' "$GW_AUDIT"; }

test_connection_that_never_authenticates_gives_a_login_timeout() {
	local before line
	before=$(login_timeouts)
	exec 20<>"/dev/tcp/127.0.0.1/$GW_PORT" || h_fail "connect"
	read -r -t 10 line <&20
	h_assert_match "$line" "^SSH-2.0-" "the gateway's greeting"
	h_wait_for 20 eval '(($(login_timeouts) > before))' || h_fail "no login_timeout event"
	line=$(last_event login_timeout)
	h_assert_eq 127.0.0.1 "$(field "$line" client)" "login_timeout client"
	h_assert_eq 3 "$(field "$line" grace_s)" "login_timeout grace_s"
	[[ -n $(field "$line" session) ]] || h_fail "login_timeout without a session id: $line"
	exec 20>&-
}

# Which configuration was in force: its SHA-256 at the start and at every applied reload.
test_start_and_reload_name_the_config_digest() {
	local line
	line=$(last_event gateway_start)
	h_assert_eq "$(sha256sum <"$GW_CONFIG" | cut -d' ' -f1)" "$(field "$line" config_sha256)" "gateway_start config_sha256"
	printf '# edited %s\n' "$RANDOM" >>"$GW_CONFIG"
	ctl reload >/dev/null 2>&1 || h_fail "reload"
	h_wait_for 10 grep -q '"event":"config_reload".*"result":"applied"' "$GW_AUDIT" || h_fail "no applied reload"
	line=$(last_event config_reload)
	h_assert_eq "$(sha256sum <"$GW_CONFIG" | cut -d' ' -f1)" "$(field "$line" config_sha256)" "config_reload config_sha256"
}

test_audit_log_with_these_events_verifies() {
	local out
	out=$(ctl audit verify 2>&1) || h_fail "audit verify: $out"
	h_assert_contains "$out" "intact" "gatewayctl audit verify"
}

h_run test_command_with_byte_ff_gives_a_whole_channel_start \
	test_user_name_with_byte_ff_gives_an_auth_failure_with_the_user \
	test_connection_that_never_authenticates_gives_a_login_timeout \
	test_start_and_reload_name_the_config_digest test_audit_log_with_these_events_verifies
