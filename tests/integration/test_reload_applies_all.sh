#!/bin/bash
# A reload applies the whole configuration or none of it (issue 14): an added listen port
# accepts ssh and a removed one stops accepting, an added host key and a changed algorithm list
# are what the next connection is offered, a changed admin_group decides who may use
# gatewayctl, a listen address that cannot be bound refuses the whole reload (logged and
# audited) and the lockout table, the listener's memory, survives every reload.
. "${GW_SRC:-$(dirname "$0")/../..}/tests/lib/harness.sh"
[[ $(id -u) == 0 ]] && command -v setpriv >/dev/null || h_skip "needs root and setpriv"
id 65534 >/dev/null 2>&1 || h_skip "no uid 65534 on this machine"
# Two admin groups, neither of which user 65534 is in by the group database.
OLD_GROUP=adm
NEW_GROUP=staff
OLD_GID=$(getent group "$OLD_GROUP" | cut -d: -f3)
NEW_GID=$(getent group "$NEW_GROUP" | cut -d: -f3)
[[ -n $OLD_GID && -n $NEW_GID ]] || h_skip "no groups $OLD_GROUP and $NEW_GROUP"
id -nG 65534 | grep -qwE "$OLD_GROUP|$NEW_GROUP" && h_skip "user 65534 is in $OLD_GROUP or $NEW_GROUP"
mkdir -m 0755 "$H_DIR/ctl" # a directory other users can traverse (the state directory is 0700)
sshd_start plc-07 || exit 1
gw_policy_default
h_keygen "$H_DIR/keys/stranger" || exit 1
gw_config_extra "control_socket = \"$H_DIR/ctl/control.sock\";"
gw_config_extra "admin_group = \"$OLD_GROUP\";"
gw_config_extra 'lockout = { failures = 3; person_failures = 100; duration = 600; delay_ms = 10; max_delay_ms = 40; };'
gw_start || exit 1
SOCK=$H_DIR/ctl/control.sock
cp "$GW_CONFIG" "$H_DIR/gatewayd.conf.orig"

# uid 65534 with GID as its primary group: a member of that group and of no other.
as_gid() {
	local gid=$1
	shift
	setpriv --reuid=65534 --regid="$gid" --clear-groups "$H_GATEWAYCTL" -S "$SOCK" "$@"
}
restore() {
	cp "$H_DIR/gatewayd.conf.orig" "$GW_CONFIG"
	ctl reload >/dev/null 2>&1
}
# login PORT [SOURCE] [KEY]: the output of a command through the gateway on PORT.
login() {
	timeout -k 5 "$H_TIMEOUT" ssh "${H_SSH_OPTS[@]}" -b "${2:-127.0.0.1}" -i "${3:-$VENDOR_KEY}" \
		-p "$1" "$GW_DEST" 'echo reached-$((1+1))' </dev/null 2>&1
}
# listen_on PORT...: the config's listen list becomes these ports on 127.0.0.1.
listen_on() {
	local list="" p
	for p in "$@"; do list+="${list:+, }{ address = \"127.0.0.1\"; port = $p; }"; done
	sed -i "s/^listen = .*/listen = ( $list );/" "$GW_CONFIG"
}

test_added_port_accepts_and_removed_port_stops() {
	local new out
	restore
	h_free_port new || h_fail "no free port"
	listen_on "$GW_PORT" "$new"
	out=$(ctl reload 2>&1) || h_fail "reload: $out"
	h_assert_contains "$(login "$new")" "reached-2" "login on the added port"
	h_assert_contains "$(login "$GW_PORT")" "reached-2" "login on the kept port"
	listen_on "$new"
	out=$(ctl reload 2>&1) || h_fail "reload: $out"
	h_assert_contains "$(login "$new")" "reached-2" "login on the port that stays"
	out=$(login "$GW_PORT")
	h_assert_not_contains "$out" "reached-2" "login on the removed port"
	h_assert_contains "$out" "Connection refused" "the removed port"
	grep -q "no longer listening on 127.0.0.1:$GW_PORT" "$H_DIR/gatewayd.log" ||
		h_fail "the removed port is not in the log"
	restore
	h_assert_contains "$(login "$GW_PORT")" "reached-2" "login on the port listed again"
}

# keyscan TYPE: the host key of TYPE the gateway offers a new connection ("" when none).
keyscan() { ssh-keyscan -T 5 -t "$1" -p "$GW_PORT" 127.0.0.1 2>/dev/null | awk '{ print $2 }'; }

test_added_host_key_and_changed_kex_offered_to_new_connections() {
	local out
	restore
	h_assert_eq "" "$(keyscan ecdsa)" "an ECDSA host key before the reload"
	out=$(gw_ssh -o KexAlgorithms=diffie-hellman-group16-sha512 "$GW_DEST" 'echo reached-$((1+1))' </dev/null 2>&1)
	h_assert_contains "$out" "reached-2" "diffie-hellman-group16 before the reload"
	sed -i "s|^host_keys = \[ \(.*\) \];|host_keys = [ \1, \"$H_DIR/gw/ssh_host_ecdsa_key\" ];|" "$GW_CONFIG"
	echo 'kex_algorithms = "curve25519-sha256";' >>"$GW_CONFIG"
	out=$(ctl reload 2>&1) || h_fail "reload: $out"
	h_assert_eq "ecdsa-sha2-nistp256" "$(keyscan ecdsa)" "the added host key after the reload"
	out=$(gw_ssh -o KexAlgorithms=diffie-hellman-group16-sha512 "$GW_DEST" 'echo reached-$((1+1))' </dev/null 2>&1)
	h_assert_eq 255 $? "ssh exit status with a key exchange no longer offered"
	h_assert_not_contains "$out" "reached-2" "a key exchange no longer offered"
	h_assert_contains "$(login "$GW_PORT")" "reached-2" "login with the offered key exchange"
	restore
	h_assert_eq "" "$(keyscan ecdsa)" "the ECDSA host key after restoring"
}

test_changed_admin_group_applies_to_gatewayctl() {
	local out
	restore
	out=$(as_gid "$OLD_GID" sessions 2>&1) || h_fail "an $OLD_GROUP member was refused: $out"
	sed -i "s/^admin_group = .*/admin_group = \"$NEW_GROUP\";/" "$GW_CONFIG"
	out=$(ctl reload 2>&1) || h_fail "reload: $out"
	h_assert_eq "660 $NEW_GROUP" "$(stat -c '%a %G' "$SOCK")" "the socket's mode and group"
	out=$(as_gid "$NEW_GID" sessions 2>&1) || h_fail "a $NEW_GROUP member was refused: $out"
	h_assert_contains "$out" "ID" "listing header for a $NEW_GROUP member"
	out=$(as_gid "$OLD_GID" sessions 2>&1) && h_fail "an $OLD_GROUP member was served: $out"
	# Past the file mode too: the daemon's own check refuses the old group.
	chmod 0666 "$SOCK"
	out=$(as_gid "$OLD_GID" sessions 2>&1) && h_fail "an $OLD_GROUP member was served: $out"
	chmod 0660 "$SOCK"
	h_assert_contains "$out" "permission denied: not root or a member of admin_group" "refusal"
	restore
	h_assert_eq "660 $OLD_GROUP" "$(stat -c '%a %G' "$SOCK")" "the socket's group restored"
}

test_unbindable_listen_refuses_the_whole_reload() {
	local out
	restore
	# The target's sshd holds this port: the bind fails.
	listen_on "$GW_PORT" "${H_PORT[plc-07]}"
	sed -i "s/^admin_group = .*/admin_group = \"$NEW_GROUP\";/" "$GW_CONFIG"
	out=$(ctl reload 2>&1) && h_fail "a reload that cannot bind was applied: $out"
	h_assert_contains "$out" "cannot listen on 127.0.0.1:${H_PORT[plc-07]}" "the reason"
	grep '"event":"config_reload"' "$GW_AUDIT" | tail -n 1 | grep -q '"result":"refused"' ||
		h_fail "no refused config_reload event: $(grep config_reload "$GW_AUDIT" | tail -n 1)"
	grep -q "reload refused" "$H_DIR/gatewayd.log" || h_fail "the refusal is not in the log"
	h_assert_eq "660 $OLD_GROUP" "$(stat -c '%a %G' "$SOCK")" "admin_group unchanged"
	h_assert_contains "$(login "$GW_PORT")" "reached-2" "login on the running port"
	restore
}

test_lockout_survives_reload() {
	local i out
	restore
	for i in 1 2 3; do
		out=$(login "$GW_PORT" 127.0.0.2 "$H_DIR/keys/stranger")
		h_assert_contains "$out" "Permission denied" "wrong key $i"
	done
	h_assert_not_contains "$(login "$GW_PORT" 127.0.0.2)" "reached-2" "locked source before the reload"
	listen_on "$GW_PORT"
	out=$(ctl reload 2>&1) || h_fail "reload: $out"
	kill -HUP "$(h_pid gatewayd)"
	h_wait_for 10 test "$(grep -c '"event":"config_reload".*"applied"' "$GW_AUDIT")" -ge 2 ||
		h_fail "no reload"
	out=$(login "$GW_PORT" 127.0.0.2)
	h_assert_not_contains "$out" "reached-2" "locked source after the reloads"
	h_assert_not_contains "$out" "Permission denied" "locked source is closed before authentication"
	h_assert_contains "$(login "$GW_PORT" 127.0.0.1)" "reached-2" "another source after the reloads"
}

h_run test_added_port_accepts_and_removed_port_stops \
	test_added_host_key_and_changed_kex_offered_to_new_connections \
	test_changed_admin_group_applies_to_gatewayctl \
	test_unbindable_listen_refuses_the_whole_reload test_lockout_survives_reload
