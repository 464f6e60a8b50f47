#!/bin/bash
# The service as systemd runs it (R13): systemd/gatewayd.service verifies, its offline
# `systemd-analyze security` exposure stays <= 2.0, the sysusers/tmpfiles files install (both
# users), the capabilities are the three it needs, and a session process keeps no capability and
# cannot gain one (privileges.c).
. "${GW_SRC:-$(dirname "$0")/../..}/tests/lib/harness.sh"
UNIT=$H_SRC/systemd/gatewayd.service

test_unit_exposure_at_most_2() {
	local out level
	command -v systemd-analyze >/dev/null || h_skip "no systemd-analyze"
	out=$(systemd-analyze security --offline=true "$UNIT" 2>&1)
	level=$(sed -n 's/.*Overall exposure level for gatewayd.service: \([0-9.]*\).*/\1/p' <<<"$out")
	[[ -n $level ]] || h_fail "no exposure level in: ${out:0:2000}"
	echo "  exposure level $level"
	awk -v l="$level" 'BEGIN { exit !(l <= 2.0) }' || h_fail "exposure $level > 2.0"
}

test_unit_verifies() {
	local unit=$H_DIR/unit/gatewayd.service out
	command -v systemd-analyze >/dev/null || h_skip "no systemd-analyze"
	# verify checks that the programs exist: point it at the built daemon.
	mkdir -p "$H_DIR/unit"
	sed "s#/usr/sbin/gatewayd#$H_GATEWAYD#g" "$UNIT" >"$unit"
	out=$(systemd-analyze verify --man=no "$unit" 2>&1)
	h_assert_eq 0 $? "systemd-analyze verify: $out"
	h_assert_eq "" "$out" "what systemd-analyze verify says about the unit"
}

# Installed into an empty root as the README says: the user exists, the directories get
# their owner and mode.
test_sysusers_and_tmpfiles_install() {
	local root=$H_DIR/sysroot out uid
	command -v systemd-sysusers >/dev/null && command -v systemd-tmpfiles >/dev/null ||
		h_skip "no systemd-sysusers/systemd-tmpfiles"
	mkdir -p "$root/etc"
	out=$(systemd-sysusers --root="$root" "$H_SRC/systemd/gatewayd.sysusers" 2>&1)
	h_assert_eq 0 $? "systemd-sysusers: $out"
	h_assert_match "$(cat "$root/etc/passwd")" 'gatewayd:x:[0-9]+:[0-9]+:[^:]*:/var/lib/gatewayd:/usr/sbin/nologin' \
		"the gatewayd user"
	# the vendor-facing processes' user: no home, no shell, a group of its own
	h_assert_match "$(cat "$root/etc/passwd")" 'gatewayd-front:x:[0-9]+:[0-9]+:[^:]*:/:/usr/sbin/nologin' \
		"the gatewayd-front user"
	uid=$(awk -F: '$1 == "gatewayd-front" { print $4 }' "$root/etc/passwd")
	h_assert_match "$(cat "$root/etc/group")" "(^|"$'\n'")gatewayd-front:x:$uid:" "its own group"
	out=$(systemd-tmpfiles --root="$root" --create "$H_SRC/systemd/gatewayd.tmpfiles" 2>&1)
	h_assert_eq 0 $? "systemd-tmpfiles: $out"
	uid=$(awk -F: '$1 == "gatewayd" { print $3 }' "$root/etc/passwd")
	h_assert_eq "700 $uid" "$(stat -c '%a %u' "$root/var/lib/gatewayd/recordings" 2>&1)" \
		"mode and owner of the recordings directory"
}

# The listener may bind port 22 and start vendor-facing processes as gatewayd-front (CAP_SETUID,
# CAP_SETGID and the three calls they need), nothing more.
test_unit_capabilities() {
	local unit
	unit=$(cat "$UNIT")
	h_assert_match "$unit" $'\nAmbientCapabilities=CAP_NET_BIND_SERVICE CAP_SETUID CAP_SETGID\n' \
		"ambient capabilities"
	h_assert_match "$unit" $'\nCapabilityBoundingSet=CAP_NET_BIND_SERVICE CAP_SETUID CAP_SETGID\n' \
		"bounding set"
	h_assert_match "$unit" $'\nSystemCallFilter=capset setresuid setresgid setgroups\n' \
		"set*id calls re-allowed after ~@privileged"
}

# child_status PID: the /proc status of one of PID's children in STATUS (one that lives).
child_status() {
	local child
	for child in $(pgrep -P "$1"); do
		STATUS=$(cat "/proc/$child/status" 2>/dev/null) && [[ -n $STATUS ]] && return 0
	done
	return 1
}

test_session_process_has_no_capabilities() {
	local listener client status STATUS
	sshd_start plc-07 || h_fail "target"
	gw_policy_default
	gw_start || h_fail "gatewayd"
	gw_ssh "$GW_DEST" 'sleep 4' &
	client=$!
	listener=$(h_pid gatewayd)
	# The session process of the client's login: the one that lives (the harness's own port
	# probe at start made a session process too, gone at once).
	gw_wait_listed 1
	h_wait_for 10 child_status "$listener" || h_fail "no session process under $listener"
	status=$STATUS
	h_assert_match "$status" $'CapPrm:\t0000000000000000' "permitted capabilities"
	h_assert_match "$status" $'CapEff:\t0000000000000000' "effective capabilities"
	h_assert_match "$status" $'CapAmb:\t0000000000000000' "ambient capabilities"
	h_assert_match "$status" $'NoNewPrivs:\t1' "no_new_privs"
	wait "$client"
}

h_run test_unit_exposure_at_most_2 test_unit_verifies test_sysusers_and_tmpfiles_install \
	test_unit_capabilities test_session_process_has_no_capabilities
