# demo_ha.sh: scripts/demo.sh --ha [--serve], sourced by demo.sh once the harness is loaded: two
# gateways A and B in front of the one OT host plc-07 share their state on a real PostgreSQL 15
# (issue 19), all in the kept demo folder: pg/ (the cluster), gw/ (A: config, state, recordings,
# audit log), gw-b/ (B: the same), keys/, pids. A ticket installed through A admits the vendor
# on B, and `gatewayctl sessions` on A lists the session running on B. --serve keeps them
# running until Ctrl-C and prints the command lines (VENDOR_SSH_A: ...).
. "$GW_ROOT/tests/lib/pg.sh"
. "$GW_ROOT/tests/lib/ha.sh"
. "$GW_ROOT/tests/lib/sessions.sh"

pg_available || { echo "demo --ha: PostgreSQL 15 is not installed ($PG_BIN)" >&2; exit 1; }
gw_say "starting PostgreSQL 15 in $PG_DIR (as $PG_OS_USER, trust on 127.0.0.1 only)"
pg_start || exit 1
echo "(127.0.0.1:$PG_PORT, database $PG_DB)"
gw_say "starting the OT host plc-07 (sshd)"
sshd_start plc-07 || exit 1
gw_policy_default
GW_NO_TICKETS=1 # the demo installs its ticket itself, through A
gw_say "gatewayd --migrate (schema, role $HA_ROLE), roles gw_a and gw_b, gateways A and B"
ha_start a b || exit 1
sed 's/^/    /' "$H_DIR/migrate.log"
echo "A: 127.0.0.1:${HA_PORT[a]} (${HA_CONF[a]})"
echo "B: 127.0.0.1:${HA_PORT[b]} (${HA_CONF[b]})"
gatewayctl_a="$H_GATEWAYCTL -f ${HA_CONF[a]}"
gatewayctl_b="$H_GATEWAYCTL -f ${HA_CONF[b]}"

gw_say "a ticket for acme on plc-07, signed by the approver owner, installed through A:"
echo "    $gatewayctl_a ticket install $H_DIR/ticket-demo-1"
ha_ticket a demo-1 --vendor acme --target plc-07 || exit 1

gw_say "vendor through B: ssh -p ${HA_PORT[b]} $GW_DEST 'hostname; echo hello through gateway B'"
# B may take a moment to hear of the ticket (LISTEN/NOTIFY): at most 2 s.
h_wait_for 5 eval "ha_ssh b '$GW_DEST' 'hostname; echo hello through gateway B' </dev/null" ||
	{ echo "B did not admit acme under the ticket installed through A" >&2; exit 1; }
gw_say "the ticket as B has it: $gatewayctl_b ticket list"
ha_ctl b ticket list | sed 's/^/    /'

gw_say "a session held open through B, and gatewayctl sessions on A:"
ha_on b es_start demo-b "$GW_DEST" || exit 1
es_echo demo-b "typed on B" 30 || { echo "no session through B: $(es_out demo-b)" >&2; exit 1; }
echo "    $gatewayctl_a sessions"
h_wait_for 5 eval 'ha_ctl a sessions --json | jq -e "any(.[]; .gateway == \"b\")" >/dev/null' ||
	{ echo "A does not list B's session:" >&2; ha_ctl a sessions >&2; exit 1; }
ha_ctl a sessions

if ((serve)); then
	echo "VENDOR_SSH_A: $(ssh_line "$VENDOR_KEY" "${HA_PORT[a]}" "$GW_DEST")"
	echo "VENDOR_SSH_B: $(ssh_line "$VENDOR_KEY" "${HA_PORT[b]}" "$GW_DEST")"
	echo "TARGET_SSH: $(ssh_line "$GW_TARGET_KEY" "${H_PORT[plc-07]}" "$TARGET_DEST")"
	echo "GATEWAYCTL_A: $gatewayctl_a"
	echo "GATEWAYCTL_B: $gatewayctl_b"
	echo "PSQL: $PG_BIN/psql -h 127.0.0.1 -p $PG_PORT -U $PG_SUPERUSER $PG_DB"
	echo "APPROVER_KEY: $APPROVER_KEY"
	gw_say "serving until Ctrl-C (the session held through B stays listed; demo folder $H_DIR)"
	while :; do
		sleep 3600 &
		wait $!
	done
fi

es_end demo-b
es_wait_exit demo-b 20
demo_rc=0
# in_store N: the store holds every line of gateway N's audit log (sent in the background).
in_store() {
	[[ $(pg_sql "SELECT count(*) FROM audit_events WHERE gateway = '$1'") == "$(wc -l <"${HA_AUDIT[$1]}")" ]]
}
h_wait_for 10 in_store a && h_wait_for 10 in_store b || demo_rc=1
gw_say "audit events in the shared store, per gateway (gateway|events|last seq):"
pg_sql "SELECT gateway, count(*), max(seq) FROM audit_events GROUP BY gateway ORDER BY gateway" |
	sed 's/^/    /'
for n in a b; do
	gw_say "gatewayctl -f ${HA_CONF[$n]} audit verify"
	ha_ctl "$n" audit verify "${HA_AUDIT[$n]}" || demo_rc=1
done
# What a central auditor does: B's chain out of the store, verified with B's public key.
gw_say "B's chain as the store has it, verified with B's key:"
pg_sql "SELECT line FROM audit_events WHERE gateway = 'b' ORDER BY seq" >"$H_DIR/store-audit-b.log"
"$H_GATEWAYCTL" audit verify --key "${HA_DIR[b]}/state/recording_key.pub" "$H_DIR/store-audit-b.log" ||
	demo_rc=1
echo "GATEWAYCTL_A: $gatewayctl_a"
echo "GATEWAYCTL_B: $gatewayctl_b"
exit "$demo_rc"
