# ha.sh: two or three gateways sharing one store (issue 19), sourced after harness.sh and pg.sh.
# The first gateway is the harness's own ($H_DIR/gw, GW_PORT, GW_CONFIG, process "gatewayd"), so
# every helper of harness.sh and sessions.sh works on it as in any test; each further gateway is
# derived from its configuration: the same policy, its own port, host key, state_dir (and so
# control socket and recording key), recordings and audit log in $H_DIR/gw-NAME, and its own
# name and login role in the store. Owns only the gateways and login roles it makes.
#
#   pg_start && gw_policy_default
#   ha_start a b                   # schema migrated, roles gw_a and gw_b, both gateways running
#   ha_ssh b "$GW_DEST" id         # the vendor through gateway b
#   ha_ctl a sessions              # gatewayctl with a's configuration
#   ha_on b es_start s1            # any harness helper with b as "the" gateway

declare -A HA_PORT=() HA_CONF=() HA_DIR=() HA_AUDIT=() HA_REC=() HA_PROC=()
declare -a HA_NAMES=()
HA_UNAVAILABLE=${HA_UNAVAILABLE:-refuse} # store_unavailable: refuse or cached
HA_ROLE=gatewayd_gateway                  # the NOLOGIN role gatewayd --migrate creates

# ha_role NAME: the login role gateway NAME connects as.
ha_role() { echo "gw_$1"; }

# ha_store_block NAME: gateway NAME's store settings; `gatewayd --migrate` connects as the
# superuser (admin_conninfo), the gateway itself as its own least-privileged role.
ha_store_block() {
	printf 'store = { kind = "postgresql"; conninfo = "%s"; gateway = "%s";\n' \
		"$(pg_conninfo "$(ha_role "$1")")" "$1"
	printf '  admin_conninfo = "%s"; };\n' "$(pg_conninfo "$PG_SUPERUSER")"
	printf 'store_unavailable = "%s";\n' "$HA_UNAVAILABLE"
}

# ha_migrate [CONFIG]: gatewayd --migrate with CONFIG (default: the first gateway's), its output
# in $H_DIR/migrate.log.
ha_migrate() {
	"$H_GATEWAYD" -f "${1:-$GW_CONFIG}" --migrate >>"$H_DIR/migrate.log" 2>&1 ||
		{ h_log "ha: gatewayd --migrate failed:"; cat "$H_DIR/migrate.log" >&2; return 1; }
}

# ha_role_add NAME: the DBA's part: gateway NAME's login role, a member of gatewayd_gateway.
ha_role_add() {
	local r
	r=$(ha_role "$1")
	[[ -n $(pg_sql "SELECT 1 FROM pg_roles WHERE rolname = '$r'") ]] && return 0
	pg_sql "CREATE ROLE $r LOGIN IN ROLE $HA_ROLE" ||
		{ h_log "ha: cannot create role $r"; return 1; }
}

# ha_register NAME DIR PORT PROCESS: remembers where gateway NAME lives.
ha_register() {
	HA_NAMES+=("$1")
	HA_DIR[$1]=$2
	HA_PORT[$1]=$3
	HA_PROC[$1]=$4
	HA_CONF[$1]=$2/gatewayd.conf
	HA_AUDIT[$1]=$2/audit.log
	HA_REC[$1]=$2/recordings
}

# ha_config_derive NAME: $H_DIR/gw-NAME/gatewayd.conf from the first gateway's configuration.
ha_config_derive() {
	local n=$1 first=${HA_NAMES[0]} d=$H_DIR/gw-$1 port conf
	mkdir -p -m 0700 "$d" "$d/state" "$d/recordings"
	h_free_port port || return 1
	conf=$(<"$GW_CONFIG")
	conf=${conf//"$H_DIR/gw/"/"$d/"}
	conf=${conf//"port = $GW_PORT; } );"/"port = $port; } );"}
	conf=${conf//"gateway = \"$first\";"/"gateway = \"$n\";"}
	conf=${conf//"user=$(ha_role "$first") "/"user=$(ha_role "$n") "}
	printf '%s\n' "$conf" >"$d/gatewayd.conf"
	ha_register "$n" "$d" "$port" "gatewayd-$n"
}

# ha_start NAME...: the first NAME is the harness's gateway, the others derived from it; all on
# the running PostgreSQL (pg_start first), from the policy added so far (gw_policy_default...).
# Migrates the schema, adds each gateway's login role, starts them all (the harness's tickets
# are installed through the first one) and waits until each accepts connections.
ha_start() {
	local n
	gw_config_extra "$(ha_store_block "$1")"
	gw_config_write || return 1
	ha_register "$1" "$H_DIR/gw" "$GW_PORT" gatewayd
	ha_migrate || return 1
	for n in "$@"; do ha_role_add "$n" || return 1; done
	gw_start || return 1
	for n in "${@:2}"; do
		ha_config_derive "$n" || return 1
		ha_gw_start "$n" || return 1
	done
}

# ha_gw_start NAME: starts (or starts again) a derived gateway; log $H_DIR/gatewayd-NAME.log.
ha_gw_start() {
	h_spawn "${HA_PROC[$1]}" "$H_DIR/${HA_PROC[$1]}.log" "$H_GATEWAYD" -D -f "${HA_CONF[$1]}"
	if ! h_wait_port "${HA_PORT[$1]}" "$H_LAST_PID"; then
		h_log "ha: gateway $1 did not start:"; cat "$H_DIR/${HA_PROC[$1]}.log" >&2
		return 1
	fi
}

# ha_gw_stop NAME: stops gateway NAME.
ha_gw_stop() { h_stop "${HA_PROC[$1]}"; }

# ha_on NAME CMD...: CMD (a harness helper) with gateway NAME as the harness's gateway.
ha_on() {
	local n=$1
	shift
	GW_PORT=${HA_PORT[$n]} GW_CONFIG=${HA_CONF[$n]} GW_AUDIT=${HA_AUDIT[$n]} \
		GW_RECORDINGS=${HA_REC[$n]} "$@"
}

# ha_ssh NAME ARGS...: stock ssh as the vendor person through gateway NAME.
ha_ssh() { ha_on "$1" gw_ssh "${@:2}"; }

# ha_ctl NAME ARGS...: gatewayctl with gateway NAME's configuration.
ha_ctl() { "$H_GATEWAYCTL" -f "${HA_CONF[$1]}" "${@:2}"; }

# ha_ticket NAME ID ARGS...: a ticket ID made, signed by the approver "owner" and installed
# through gateway NAME; ARGS are `ticket new` options (--vendor/--person, --target...).
ha_ticket() {
	local n=$1 id=$2 f=$H_DIR/ticket-$2
	shift 2
	ha_ctl "$n" ticket new --id "$id" "$@" --from now --to +1d --approver owner \
		--reason "work order $id" -o "$f" >>"$H_DIR/tickets.log" 2>&1 &&
		ssh-keygen -q -Y sign -n gatewayd-ticket -f "$APPROVER_KEY" "$f" &&
		ha_ctl "$n" ticket install "$f" >>"$H_DIR/tickets.log" 2>&1 ||
		{ h_log "ha: ticket $id through $n failed: $(tail -n 3 "$H_DIR/tickets.log")"; return 1; }
}
