#!/bin/bash
# Who may use the control socket: it is made 0660 with group admin_group; the daemon checks
# every client with SO_PEERCRED and serves root, its own user and admin_group members only.
# Anyone else is refused with a message and an audit event. gatewayctl runs as another
# user through setpriv (needs root), and with -S, since that user cannot read the config.
. "${GW_SRC:-$(dirname "$0")/../..}/tests/lib/harness.sh"
[[ $(id -u) == 0 ]] && command -v setpriv >/dev/null || h_skip "needs root and setpriv"
id 65534 >/dev/null 2>&1 || h_skip "no uid 65534 on this machine"
# The admin group: one that user 65534 is not in by the group database.
ADMIN_GROUP=adm
ADMIN_GID=$(getent group "$ADMIN_GROUP" | cut -d: -f3)
[[ -n $ADMIN_GID ]] || h_skip "no group $ADMIN_GROUP"
id -nG 65534 | grep -qw "$ADMIN_GROUP" && h_skip "user 65534 is in $ADMIN_GROUP here"
# A directory other users can traverse (the state directory is 0700).
mkdir -m 0755 "$H_DIR/ctl"
gw_config_extra "control_socket = \"$H_DIR/ctl/control.sock\";"
gw_config_extra "admin_group = \"$ADMIN_GROUP\";"
h_setup || exit 1
SOCK=$H_DIR/ctl/control.sock

# uid 65534 with the admin group as its primary group (a member), or with its own (not one).
as_member() { setpriv --reuid=65534 --regid="$ADMIN_GID" --clear-groups "$H_GATEWAYCTL" -S "$SOCK" "$@"; }
as_other() { setpriv --reuid=65534 --regid=65534 --clear-groups "$H_GATEWAYCTL" -S "$SOCK" "$@"; }

test_socket_is_0660_owned_by_admin_group() {
	h_assert_eq "660 $ADMIN_GROUP" "$(stat -c '%a %G' "$SOCK")" "mode and group"
}

test_admin_group_member_is_served() {
	local out
	out=$(as_member sessions 2>&1) || h_fail "an admin_group member was refused: $out"
	h_assert_contains "$out" "ID" "listing header"
}

test_non_admin_is_refused_by_peer_credentials() {
	local out
	# Let anyone reach the socket, so only the daemon's SO_PEERCRED check stands in the way.
	chmod 0666 "$SOCK"
	out=$(as_other sessions 2>&1) && h_fail "a non-admin was served: $out"
	chmod 0660 "$SOCK"
	h_assert_contains "$out" "permission denied: not root or a member of admin_group" "refusal text"
	grep -q '"event":"control_refused","peer_user":"nobody","peer_uid":65534' "$GW_AUDIT" ||
		h_fail "no control_refused audit event"
}

test_non_admin_cannot_kill() {
	local out
	chmod 0666 "$SOCK"
	out=$(as_other kill --vendor acme 2>&1) && h_fail "a non-admin killed: $out"
	chmod 0660 "$SOCK"
	h_assert_contains "$out" "permission denied" "refusal text"
}

test_non_member_cannot_even_connect() {
	local out
	out=$(as_other sessions 2>&1) && h_fail "connected past the socket's mode: $out"
	h_assert_contains "$out" "cannot reach gatewayd" "connect refused by the file mode"
}

h_run test_socket_is_0660_owned_by_admin_group test_admin_group_member_is_served \
	test_non_admin_is_refused_by_peer_credentials test_non_admin_cannot_kill \
	test_non_member_cannot_even_connect
