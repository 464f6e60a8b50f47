#!/bin/bash
# `gatewayd -t -f FILE`: exit 0 on a valid configuration, exit 1 with "FILE:LINE: problem" for
# each kind of mistake; the documented example etc/gatewayd.conf is valid once its files exist.
. "${GW_SRC:-$(dirname "$0")/../..}/tests/lib/harness.sh"
[[ -x $H_GATEWAYD ]] || { echo "gatewayd not built"; exit 1; }
h_keygen "$H_DIR/keys/host" || exit 1
gw_policy_default_offline() {
	gw_vendor_add acme
	gw_person_add acme acme.alice "$VENDOR_KEY.pub"
	gw_target_add plc-07 2222 "$(h_fingerprint "$H_DIR/keys/host.pub")"
	gw_grant_add acme "plc-07" "shell exec"
}
gw_policy_default_offline
gw_config_write || exit 1
GOOD=$GW_CONFIG

# broken NAME SED-SCRIPT: a copy of the good config edited by SED-SCRIPT; prints its path.
broken() {
	sed "$2" "$GOOD" >"$H_DIR/$1.conf"
	echo "$H_DIR/$1.conf"
}

# expect_error FILE PATTERN: gatewayd -t exits 1 and reports FILE:LINE of the line matching
# PATTERN in FILE.
expect_error() {
	local out rc line
	out=$("$H_GATEWAYD" -t -f "$1" 2>&1)
	rc=$?
	h_assert_eq 1 "$rc" "exit status of gatewayd -t"
	line=$(grep -n -m1 -E -- "$2" "$1" | cut -d: -f1)
	[[ -n $line ]] || h_fail "test bug: /$2/ not in $1"
	h_assert_contains "$out" "$1:$line: " "error location"
}

test_good_config_valid() {
	local out
	out=$("$H_GATEWAYD" -t -f "$GOOD" 2>&1)
	h_assert_eq 0 $? "exit status of gatewayd -t ($out)"
}

test_unknown_key_reported() {
	expect_error "$(broken unknown_key '/^connect_timeout/a colour = "blue";')" '^colour'
}

test_unknown_key_in_target_reported() {
	expect_error "$(broken unknown_target_key 's/port = 2222;/port = 2222; hostname = "x";/')" 'hostname = '
}

test_duplicate_target_reported() {
	local f
	f=$(broken duplicate_target '/^targets = (/a { name = "plc-07"; address = "127.0.0.1"; port = 22; host_key_fingerprints = [ "'"$(h_fingerprint "$H_DIR/keys/host.pub")"'" ]; user = "u"; key_file = "'"$GW_TARGET_KEY"'"; },')
	local out
	out=$("$H_GATEWAYD" -t -f "$f" 2>&1)
	h_assert_eq 1 $? "exit status of gatewayd -t"
	h_assert_match "$out" "$f:[0-9]+: .*duplicate target" "error line"
}

test_bad_fingerprint_reported() {
	expect_error "$(broken bad_fp 's/"SHA256:[^"]*"/"SHA256:not-a-fingerprint"/')" 'SHA256:not-a'
}

test_missing_key_file_reported() {
	expect_error "$(broken missing_key "s|key_file = \"[^\"]*\"|key_file = \"$H_DIR/nonexistent\"|")" 'nonexistent'
}

test_key_file_readable_by_others_reported() {
	cp "$GW_TARGET_KEY" "$H_DIR/keys/open_key"
	chmod 0644 "$H_DIR/keys/open_key"
	expect_error "$(broken open_key "s|key_file = \"[^\"]*\"|key_file = \"$H_DIR/keys/open_key\"|")" 'open_key'
}

test_syntax_error_reported() {
	expect_error "$(broken syntax '/^connect_timeout/a login_grace_time = = 3;')" '= = 3'
}

test_documented_example_valid() {
	local ex=$H_SRC/etc/gatewayd.conf f=$H_DIR/example.conf
	[[ -f $ex ]] || h_fail "$ex missing"
	# The example's credential files live on the gateway host; point them at throw-away ones.
	sed -e "s|key_file = \"[^\"]*\"|key_file = \"$GW_TARGET_KEY\"|" \
		-e "s|password_file = \"[^\"]*\"|password_file = \"$GW_TARGET_KEY\"|" \
		-e "s|banner_file = \"[^\"]*\"|banner_file = \"$VENDOR_KEY.pub\"|" "$ex" >"$f"
	local out
	out=$("$H_GATEWAYD" -t -f "$f" 2>&1)
	h_assert_eq 0 $? "exit status of gatewayd -t on the example ($out)"
}

# The daemon refuses to start without a usable front user: the check says so beforehand.
test_front_user_checked() {
	local f out
	f=$(broken no_front_user '/^connect_timeout/a front_user = "gw-no-such-user";')
	out=$("$H_GATEWAYD" -t -f "$f" 2>&1)
	h_assert_eq 1 $? "exit status of gatewayd -t with a missing front user"
	h_assert_contains "$out" 'front_user "gw-no-such-user": no such user' "missing front user"
	f=$(broken root_front_user '/^connect_timeout/a front_user = "root";')
	out=$("$H_GATEWAYD" -t -f "$f" 2>&1)
	h_assert_eq 1 $? "exit status of gatewayd -t with root as the front user"
	h_assert_contains "$out" 'front_user "root" is root' "root front user"
}

# Windows that can never open are warnings with their line; the configuration stays valid.
test_windows_that_never_open_warned() {
	local f out err line
	f=$(broken windows '/^vendors = (/a { id = "nowin"; persons = ( ); },\
{ id = "past"; persons = ( ); windows = ( { from = "2020-01-01T00:00:00Z"; to = "2020-01-02T00:00:00Z"; } ); },')
	out=$("$H_GATEWAYD" -t -f "$f" 2>"$H_DIR/err")
	h_assert_eq 0 $? "exit status of gatewayd -t with warnings"
	h_assert_contains "$out" "configuration valid" "still valid"
	err=$(cat "$H_DIR/err")
	line=$(grep -n -m1 'id = "nowin"' "$f" | cut -d: -f1)
	h_assert_contains "$err" "$f:$line: warning: vendor nowin has no access windows" "vendor without windows"
	line=$(grep -n -m1 '2020-01-01T00:00:00Z' "$f" | cut -d: -f1)
	h_assert_contains "$err" "$f:$line: warning: the access windows of vendor past never open again" \
		"windows in the past"
	h_assert_not_contains "$err" "vendor acme" "acme's windows open"
	err=$("$H_GATEWAYD" -t -f "$GOOD" 2>&1 >/dev/null)
	h_assert_eq "" "$err" "no warning for a configuration whose windows open"
}

# --help is asked for: usage on stdout, exit 0, on both binaries and each gatewayctl command.
test_help_prints_usage() {
	local out err cmd
	out=$("$H_GATEWAYD" --help 2>"$H_DIR/err")
	h_assert_eq 0 $? "exit status of gatewayd --help"
	h_assert_contains "$out" "usage: gatewayd" "gatewayd --help on stdout"
	h_assert_eq "" "$(cat "$H_DIR/err")" "gatewayd --help stderr"
	out=$("$H_GATEWAYCTL" --help 2>/dev/null)
	h_assert_eq 0 $? "exit status of gatewayctl --help"
	h_assert_contains "$out" "usage: gatewayctl" "gatewayctl --help on stdout"
	for cmd in $(printf '%s\n' "$out" | sed -n 's/^  \([a-z]*\) .*/\1/p'); do
		out=$("$H_GATEWAYCTL" -f /nonexistent "$cmd" --help 2>"$H_DIR/err")
		h_assert_eq 0 $? "exit status of gatewayctl $cmd --help"
		h_assert_contains "$out" "usage: gatewayctl $cmd " "gatewayctl $cmd --help on stdout"
		h_assert_eq "" "$(cat "$H_DIR/err")" "gatewayctl $cmd --help stderr"
	done
	out=$("$H_GATEWAYCTL" kill --no-such-option 2>&1)
	h_assert_eq 2 $? "a wrong option is still a usage error"
}

h_run test_help_prints_usage test_windows_that_never_open_warned test_front_user_checked test_good_config_valid test_unknown_key_reported test_unknown_key_in_target_reported \
	test_duplicate_target_reported test_bad_fingerprint_reported test_missing_key_file_reported \
	test_key_file_readable_by_others_reported test_syntax_error_reported test_documented_example_valid
