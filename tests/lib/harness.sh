# harness.sh: sourced by the integration tests, scripts/demo.sh and bench/: a throw-away world on
# 127.0.0.1 (temp dir, keys, a real sshd or dropbear target, a gateway config, a running gatewayd).
# Owns only what it starts: every process and file it makes is gone when the sourcing shell exits.
#
# Typical use:
#   . "$GW_SRC/tests/lib/harness.sh"
#   h_setup                       # target sshd "plc-07" + default policy + gatewayd
#   gw_ssh "$GW_DEST" 'exit 3'    # stock ssh as acme.alice through the gateway
#   target_ssh "$TARGET_DEST" id  # direct to the target with the gateway's key
# Tests run each behaviour with h_run TESTFN...; assertions (h_assert_*) end the test on failure.

set -u

H_SRC=${GW_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
H_BUILD=${GW_BUILD:-$H_SRC/build}
H_GATEWAYD=$H_BUILD/gatewayd/gatewayd
H_GATEWAYCTL=$H_BUILD/tools/gatewayctl
H_TIMEOUT=${H_TIMEOUT:-60}       # seconds any one client command may take
H_START_TIMEOUT=${H_START_TIMEOUT:-20} # seconds a daemon may take to accept connections
H_USER=$(id -un)

H_DIR=$(mktemp -d "${TMPDIR:-/tmp}/gwtest.XXXXXX") || exit 1
chmod 0755 "$H_DIR"
: >"$H_DIR/pids"   # "NAME PID" of every daemon started (a file, so subshells may start daemons too)
: >"$H_DIR/ports"  # ports handed out, so two daemons never get the same one
: >"$H_DIR/cleanup" # extra cleanup commands (h_defer)
mkfifo "$H_DIR/pause" # h_pause waits on it: nobody ever writes to it
mkdir -m 0700 "$H_DIR/keys"

declare -A H_PORT=() H_FP=() # per started target: listening port, host key fingerprint
declare -a H_CFG_TARGETS=() H_CFG_VENDORS=() H_CFG_GRANTS=() H_CFG_EXTRA=()
declare -a H_CFG_TARGET_NAMES=() H_TICKETS=() # "VENDOR TARGET..." per grant: a ticket each
declare -a H_CFG_APPROVERS=() # approvers' { } groups besides the harness's "owner"
declare -A H_CFG_PERSONS=() H_CFG_VENDOR_EXTRA=() # vendor id -> persons { } groups, settings

# ---- housekeeping ---------------------------------------------------------------------------

h_log() { printf '%s\n' "$*" >&2; }

h_defer() { printf '%s\n' "$*" >>"$H_DIR/cleanup"; }

# Sanitizer reports from any daemon child make the run fail even when every test passed.
h_sanitizer_reports() {
	grep -l -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$H_DIR"/*.log 2>/dev/null
}

h_cleanup() {
	local rc=$? name pid f
	trap - EXIT INT TERM
	while read -r name pid; do
		kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
	done <"$H_DIR/pids"
	bash "$H_DIR/cleanup" >/dev/null 2>&1
	# A second for them to end (a sanitized daemon checks for leaks as it exits), then KILL.
	h_wait_for 1 h_all_gone
	while read -r name pid; do
		kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
	done <"$H_DIR/pids"
	h_ports_release
	for f in $(h_sanitizer_reports); do
		h_log "FAIL: sanitizer report in $f:"
		grep -A 30 -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$f" | head -60 >&2
		rc=1
	done
	if [[ ${GW_KEEP:-0} == 1 ]]; then
		h_log "kept $H_DIR"
	else
		rm -rf "$H_DIR"
	fi
	exit "$rc"
}
trap h_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Ports handed out are registered for the whole machine, so that tests running at the same time
# (ctest -j, two build trees, two worktrees) never pick the same one between choosing it and
# binding it: one file per port in H_PORTS_DIR naming the H_DIR that owns it, taken under a lock.
# An entry whose owner directory is gone (a test that was killed) is free again. One registry per
# user: another user's files there could be neither taken nor replaced.
H_PORTS_DIR=${TMPDIR:-/tmp}/gatewayd-test-ports-$(id -u)
# Made once, by whichever test comes first: mkdir fails for the others, which find it there.
mkdir -m 0700 "$H_PORTS_DIR" 2>/dev/null || [[ -d $H_PORTS_DIR ]] || exit 1

# h_ports_release: gives this test's ports back (h_cleanup, once its daemons are gone).
h_ports_release() {
	local p
	while read -r p; do
		[[ $(cat "$H_PORTS_DIR/$p" 2>/dev/null) == "$H_DIR" ]] && rm -f "$H_PORTS_DIR/$p"
	done <"$H_DIR/ports"
}

# h_busy_ticks: the whole machine's CPU time so far (user, nice, system, irq, softirq), in
# clock ticks; h_cpu_per_mib T0 T1 MIB: the milliseconds of it per MiB between two readings
# (the benches' measure of what a transfer cost every process on the machine).
h_busy_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }
h_cpu_per_mib() {
	awk -v t=$(($2 - $1)) -v hz="$(getconf CLK_TCK)" -v mb="$3" 'BEGIN { printf "%.2f", t * 1000 / hz / mb }'
}

# h_spread: "median [min-max]" of the numbers on standard input (a bench's figure over its
# rounds); h_round_ratios "A1 A2 ..." "B1 B2 ...": h_spread of the per-round ratios A / B.
h_spread() { sort -n | awk '{ v[NR] = $1 } END { printf "%s [%s-%s]", v[int((NR + 1) / 2)], v[1], v[NR] }'; }
h_round_ratios() {
	local -a a=($1) b=($2)
	local i
	for i in "${!a[@]}"; do
		awk -v x="${a[$i]}" -v y="${b[$i]}" 'BEGIN { if (y > 0) printf "%.2f\n", x / y; else print "-" }'
	done | h_spread
}

# h_free_port VAR: a free high port on 127.0.0.1 that no running test has been handed.
h_free_port() {
	local -n _port=$1
	local p i owner lock
	exec {lock}>>"$H_PORTS_DIR/lock" || { h_log "harness: cannot open $H_PORTS_DIR/lock"; return 1; }
	flock "$lock"
	for ((i = 0; i < 200; i++)); do
		# Below Linux's ephemeral range (32768-60999), which outgoing connections of the
		# tests themselves draw from: a port found free there can be taken before bind.
		p=$((10000 + (RANDOM * 32768 + RANDOM) % 22000))
		grep -qx "$p" "$H_DIR/ports" && continue
		owner=$(cat "$H_PORTS_DIR/$p" 2>/dev/null) && [[ -d $owner ]] && continue
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && continue
		echo "$p" >>"$H_DIR/ports"
		echo "$H_DIR" >"$H_PORTS_DIR/$p"
		exec {lock}>&-
		_port=$p
		return 0
	done
	exec {lock}>&-
	h_log "harness: no free port found"
	return 1
}

# h_wait_port PORT PID: until PORT accepts, at most H_START_TIMEOUT s; fails early if PID dies.
h_wait_port() {
	local port=$1 pid=$2 deadline=$((SECONDS + H_START_TIMEOUT))
	while ((SECONDS < deadline)); do
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		h_pause 0.1
	done
	return 1
}

# h_spawn NAME LOGFILE CMD...: starts CMD in its own process group (so its children stop with it).
h_spawn() {
	local name=$1 log=$2
	shift 2
	setsid "$@" </dev/null >>"$log" 2>&1 &
	echo "$name $!" >>"$H_DIR/pids"
	H_LAST_PID=$!
}

h_pid() { awk -v n="$1" '$1 == n { p = $2 } END { print p }' "$H_DIR/pids"; }

# h_stop NAME: stops a daemon started by h_spawn, with all its children.
h_stop() {
	local pid
	pid=$(h_pid "$1")
	[[ -n $pid ]] || return 0
	kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
	h_wait_for 5 h_gone "$pid"
	kill -KILL -- "-$pid" 2>/dev/null
	awk -v n="$1" '$1 != n' "$H_DIR/pids" >"$H_DIR/pids.new" && mv "$H_DIR/pids.new" "$H_DIR/pids"
}

# ---- keys -----------------------------------------------------------------------------------

# h_keygen PATH [TYPE [BITS]]: a throw-away key pair without passphrase.
h_keygen() {
	local type=${2:-ed25519} bits=()
	[[ -n ${3:-} ]] && bits=(-b "$3")
	ssh-keygen -q -t "$type" "${bits[@]}" -N '' -C "gwtest-$(basename "$1")" -f "$1" </dev/null ||
		{ h_log "harness: ssh-keygen $1 failed"; return 1; }
}

# h_fingerprint PUBFILE: "SHA256:..." as pinned in the gateway config.
h_fingerprint() { ssh-keygen -l -E sha256 -f "$1" | awk '{ print $2 }'; }

# The key the gateway uses towards its targets, and the vendor person's key.
GW_TARGET_KEY=$H_DIR/keys/gateway_to_target
VENDOR_KEY=$H_DIR/keys/acme.alice
APPROVER_KEY=$H_DIR/keys/owner # the asset owner who signs the harness's tickets
AUDITOR_KEY=$H_DIR/keys/auditor # the auditor "ann", who logs in as auditor.ann
# H_CFG_AUDITOR_VENDORS="V...": the vendors ann may read (default: every vendor of the config)
h_keygen "$GW_TARGET_KEY" || exit 1
h_keygen "$VENDOR_KEY" || exit 1
h_keygen "$APPROVER_KEY" || exit 1
h_keygen "$AUDITOR_KEY" || exit 1

# ---- targets --------------------------------------------------------------------------------

# sshd_start NAME: a real unprivileged-style OpenSSH sshd on 127.0.0.1 accepting the gateway's
# target key for the current user. Sets H_PORT[NAME], H_FP[NAME]; authorized keys in
# $H_DIR/NAME/authorized_keys (append to admit more keys, e.g. for a bench).
sshd_start() {
	local name=$1 d=$H_DIR/$1 port
	mkdir -p "$d/home"
	h_keygen "$d/ssh_host_ed25519_key" || return 1
	cp "$GW_TARGET_KEY.pub" "$d/authorized_keys"
	h_free_port port || return 1
	# FOO is accepted here on purpose: the env test must see the gateway, not sshd, drop it.
	# HOME points at an empty directory: bash run by sshd reads ~/.bashrc, and the user's own
	# (pyenv init on this machine costs 0.6 s) would otherwise time every command we run.
	cat >"$d/sshd_config" <<-EOF
		Port $port
		ListenAddress 127.0.0.1
		HostKey $d/ssh_host_ed25519_key
		AuthorizedKeysFile $d/authorized_keys
		AllowUsers $H_USER
		PermitRootLogin prohibit-password
		PubkeyAuthentication yes
		PasswordAuthentication no
		KbdInteractiveAuthentication no
		UsePAM no
		StrictModes no
		PidFile none
		PrintMotd no
		PrintLastLog no
		AcceptEnv LANG LC_* TERM FOO
		MaxStartups 1000
		MaxSessions 100
		Subsystem sftp internal-sftp
		SetEnv HOME=$d/home
	EOF
	# H_SSHD_EXTRA: more sshd_config lines, e.g. "LogLevel DEBUG1" to see what a leg negotiated.
	[[ -n ${H_SSHD_EXTRA:-} ]] && printf '%s\n' "$H_SSHD_EXTRA" >>"$d/sshd_config"
	# sshd re-executes itself and so needs an absolute path; as root it wants its privsep dir.
	[[ $(id -u) == 0 ]] && mkdir -p /run/sshd && chmod 0755 /run/sshd
	/usr/sbin/sshd -t -f "$d/sshd_config" || { h_log "harness: sshd -t failed for $name"; return 1; }
	h_spawn "$name" "$H_DIR/$name.log" /usr/sbin/sshd -D -e -f "$d/sshd_config"
	if ! h_wait_port "$port" "$H_LAST_PID"; then
		h_log "harness: sshd $name did not start:"; cat "$H_DIR/$name.log" >&2
		return 1
	fi
	H_PORT[$name]=$port
	H_FP[$name]=$(h_fingerprint "$d/ssh_host_ed25519_key.pub")
}

# dropbear_start NAME: dropbear as the alternative target. Dropbear reads only
# ~USER/.ssh/authorized_keys, so as root it runs in a private mount namespace where a temp
# directory is mounted over that ~/.ssh: the real home is never touched. Returns 2 when this
# machine cannot do that (not root, or no mount namespaces): the caller skips.
dropbear_start() {
	local name=$1 d=$H_DIR/$1 port home sshdir
	command -v dropbear >/dev/null || return 2
	[[ $(id -u) == 0 ]] || return 2
	unshare --mount --propagation private true 2>/dev/null || return 2
	home=$(getent passwd "$H_USER" | cut -d: -f6)
	mkdir -p "$d/dotssh"
	chmod 0700 "$d/dotssh"
	cp "$GW_TARGET_KEY.pub" "$d/dotssh/authorized_keys"
	chmod 0600 "$d/dotssh/authorized_keys"
	dropbearkey -t ed25519 -f "$d/dropbear_ed25519_host_key" >/dev/null 2>&1 || return 1
	dropbearkey -y -f "$d/dropbear_ed25519_host_key" | grep '^ssh-' >"$d/host_key.pub"
	h_free_port port || return 1
	# Mount over ~/.ssh when it exists, else over the home directory itself.
	sshdir=$home/.ssh
	[[ -d $sshdir ]] || { sshdir=$home; mkdir -p "$d/home"; cp -a "$d/dotssh" "$d/home/.ssh"; }
	h_spawn "$name" "$H_DIR/$name.log" unshare --mount --propagation private \
		sh -c 'mount --bind "$1" "$2" && shift 2 && exec "$@"' sh \
		"$([[ $sshdir == "$home" ]] && echo "$d/home" || echo "$d/dotssh")" "$sshdir" \
		dropbear -F -E -s -p "127.0.0.1:$port" -r "$d/dropbear_ed25519_host_key" -P "$d/dropbear.pid"
	if ! h_wait_port "$port" "$H_LAST_PID"; then
		h_log "harness: dropbear $name did not start:"; cat "$H_DIR/$name.log" >&2
		return 1
	fi
	H_PORT[$name]=$port
	H_FP[$name]=$(h_fingerprint "$d/host_key.pub")
}

# ---- gateway configuration: the one place it is written -------------------------------------

# gw_target_add NAME PORT FINGERPRINT [EXTRA-SETTINGS [KEY-FILE]]: a target on 127.0.0.1 reached
# as the current user with the gateway's key (or KEY-FILE).
gw_target_add() {
	H_CFG_TARGET_NAMES+=("$1")
	H_CFG_TARGETS+=("{ name = \"$1\"; address = \"127.0.0.1\"; port = $2;
      host_key_fingerprints = [ \"$3\" ];
      user = \"$H_USER\"; key_file = \"${5:-$GW_TARGET_KEY}\"; ${4:-} }")
}

# gw_vendor_add ID [EXTRA-SETTINGS]: by default the vendor's access window is the whole week.
H_ALWAYS='windows = ( { days = [ "mon-sun" ]; start = "00:00"; end = "24:00"; tz = "UTC"; } );'
gw_vendor_add() {
	H_CFG_VENDORS+=("$1")
	H_CFG_PERSONS[$1]=""
	H_CFG_VENDOR_EXTRA[$1]=${2:-$H_ALWAYS}
}

# gw_person_add VENDOR PERSON-ID PUBKEY-FILE...
gw_person_add() {
	local vendor=$1 id=$2 keys="" f
	shift 2
	for f in "$@"; do
		keys+="${keys:+, }\"$(cat "$f")\""
	done
	H_CFG_PERSONS[$vendor]+="${H_CFG_PERSONS[$vendor]:+, }
        { id = \"$id\"; name = \"Test person $id\"; keys = [ $keys ]; }"
}

# gw_grant_add VENDOR "TARGET..." "CHANNEL-KIND..." ["TARGET:PORT..."]: gw_start also installs
# a signed ticket (one day from now) covering it, unless GW_NO_TICKETS=1 or GW_GRANT_NO_TICKET=1.
# The fourth argument lists the destinations the grant lets the vendor forward to.
gw_grant_add() {
	[[ ${GW_GRANT_NO_TICKET:-0} == 1 ]] || H_TICKETS+=("$1 $2")
	local targets="" allow="" forward="" t
	for t in $2; do targets+="${targets:+, }\"$t\""; done
	for t in $3; do allow+="${allow:+, }\"$t\""; done
	for t in ${4:-}; do forward+="${forward:+, }\"$t\""; done
	H_CFG_GRANTS+=("{ vendor = \"$1\"; targets = [ $targets ]; allow = [ $allow ];${forward:+ forward = [ $forward ];} }")
}

# gw_device_add NAME: a target without SSH (a PLC) on 127.0.0.1, reached by forwarding only.
gw_device_add() {
	H_CFG_TARGET_NAMES+=("$1")
	H_CFG_TARGETS+=("{ name = \"$1\"; address = \"127.0.0.1\"; ssh = false; }")
}

# gw_config_extra TEXT: top-level settings appended verbatim (windows, approvers, tickets...).
gw_config_extra() { H_CFG_EXTRA+=("$1"); }

# h_join ITEM...: libconfig list elements, comma separated.
h_join() {
	local i
	for ((i = 1; i <= $#; i++)); do
		printf '  %s%s\n' "${!i}" "$( ((i < $#)) && echo ,)"
	done
}

# gw_config_write: writes $GW_CONFIG from what was added above.
gw_config_write() {
	local g=$H_DIR/gw v a vs=()
	mkdir -p -m 0700 "$g" "$g/state" "$g/recordings"
	[[ -n ${GW_PORT:-} ]] || h_free_port GW_PORT || return 1
	GW_CONFIG=$g/gatewayd.conf
	GW_RECORDINGS=$g/recordings
	GW_AUDIT=$g/audit.log
	{
		echo "# generated by tests/lib/harness.sh"
		echo "listen = ( { address = \"127.0.0.1\"; port = $GW_PORT; } );"
		echo "host_keys = [ \"$g/ssh_host_ed25519_key\" ];"
		echo "state_dir = \"$g/state\";"
		echo "recording_dir = \"$GW_RECORDINGS\";"
		echo "audit_log = \"$GW_AUDIT\";"
		echo "connect_timeout = ${GW_CONNECT_TIMEOUT:-5};"
		echo "login_grace_time = ${GW_LOGIN_GRACE:-30};"
		echo "vendors = ("
		for v in "${H_CFG_VENDORS[@]}"; do
			vs+=("{ id = \"$v\"; name = \"Vendor $v\"; enabled = true; ${H_CFG_VENDOR_EXTRA[$v]}
    persons = ( ${H_CFG_PERSONS[$v]} ); }")
		done
		h_join "${vs[@]}"
		echo ");"
		echo "targets = ("
		h_join "${H_CFG_TARGETS[@]}"
		echo ");"
		echo "grants = ("
		h_join "${H_CFG_GRANTS[@]}"
		echo ");"
		h_quote_list() { local x o=""; for x in "$@"; do o+="${o:+, }\"$x\""; done; echo "$o"; }
		echo "approvers = ( { name = \"owner\"; key = \"$(cat "$APPROVER_KEY.pub")\";"
		echo "  vendors = [ $(h_quote_list "${H_CFG_VENDORS[@]}") ];"
		echo "  targets = [ $(h_quote_list "${H_CFG_TARGET_NAMES[@]}") ]; }"
		for a in "${H_CFG_APPROVERS[@]}"; do echo ", $a"; done
		echo ");"
		echo "auditors = ( { name = \"ann\"; keys = [ \"$(cat "$AUDITOR_KEY.pub")\" ];"
		# shellcheck disable=SC2086 # H_CFG_AUDITOR_VENDORS: words, the vendors ann may read
		echo "  vendors = [ $(h_quote_list ${H_CFG_AUDITOR_VENDORS:-"${H_CFG_VENDORS[@]}"}) ]; } );"
		printf '%s\n' "${H_CFG_EXTRA[@]}"
	} >"$GW_CONFIG"
}

# gw_policy_default: vendor acme with person acme.alice, target plc-07 = the sshd "plc-07",
# granted GW_ALLOW (default shell exec).
gw_policy_default() {
	gw_vendor_add acme
	gw_person_add acme acme.alice "$VENDOR_KEY.pub"
	gw_target_add plc-07 "${H_PORT[plc-07]}" "${H_FP[plc-07]}"
	gw_grant_add acme "plc-07" "${GW_ALLOW:-shell exec}"
}

# gw_tickets_install: one ticket per grant, valid from now for a day, signed by the approver
# "owner" with the stock ssh-keygen and installed with gatewayctl.
gw_tickets_install() {
	local i vendor targets t args f
	for i in "${!H_TICKETS[@]}"; do
		read -r vendor targets <<<"${H_TICKETS[$i]}"
		args=()
		for t in $targets; do args+=(--target "$t"); done
		f=$H_DIR/gw/ticket-$i
		"$H_GATEWAYCTL" -f "$GW_CONFIG" ticket new --id "harness-$i" --vendor "$vendor" "${args[@]}" \
			--from now --to +1d --approver owner --reason "harness work order $i" -o "$f" \
			>>"$H_DIR/tickets.log" 2>&1 &&
			ssh-keygen -q -Y sign -n gatewayd-ticket -f "$APPROVER_KEY" "$f" &&
			"$H_GATEWAYCTL" -f "$GW_CONFIG" ticket install "$f" >/dev/null ||
			{ h_log "harness: ticket for $vendor ($targets) failed"; return 1; }
	done
}

# ---- the gateway ----------------------------------------------------------------------------

# gw_start: writes the config and starts gatewayd -D in the foreground of its own group.
gw_start() {
	[[ -x $H_GATEWAYD ]] || { h_log "harness: $H_GATEWAYD not built"; return 1; }
	gw_config_write || return 1
	[[ ${GW_NO_TICKETS:-0} == 1 ]] || gw_tickets_install || return 1
	h_spawn gatewayd "$H_DIR/gatewayd.log" "$H_GATEWAYD" -D -f "$GW_CONFIG"
	if ! h_wait_port "$GW_PORT" "$H_LAST_PID"; then
		h_log "harness: gatewayd did not start:"; cat "$H_DIR/gatewayd.log" >&2
		return 1
	fi
}

gw_stop() { h_stop gatewayd; }

# gw_events EVENT: how many EVENT events the audit log holds.
gw_events() { grep -c "\"event\":\"$1\"" "$GW_AUDIT" 2>/dev/null; }
# gw_events_reach EVENT N: the audit log holds N or more EVENT events (for h_wait_for).
gw_events_reach() { (($(gw_events "$1") >= $2)); }

# gw_reload: SIGHUP to the gateway, then until it has audited the reload as applied (10 s at most).
gw_reloads() { grep -c '"event":"config_reload".*"result":"applied"' "$GW_AUDIT" 2>/dev/null; }
gw_reload() {
	local before
	before=$(gw_reloads)
	kill -HUP "$(h_pid gatewayd)" || return 1
	h_wait_for 10 eval "((\$(gw_reloads) > $before))" ||
		{ h_log "harness: reload not applied"; return 1; }
}

# h_setup: the standard world: target sshd plc-07, default policy, running gateway.
h_setup() {
	sshd_start plc-07 || return 1
	gw_policy_default
	gw_start
}

GW_DEST=acme.alice+plc-07@127.0.0.1
TARGET_DEST=$H_USER@127.0.0.1

# Stock ssh with a clean configuration: no user or system ssh_config, no agent.
H_SSH_OPTS=(-F /dev/null -o IdentitiesOnly=yes -o IdentityAgent=none -o BatchMode=yes
	-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR
	-o ConnectTimeout="${H_CONNECT_TIMEOUT:-10}")

# gw_ssh ARGS...: ssh as the vendor person (VENDOR_KEY) to the gateway; ARGS name the destination.
gw_ssh() { timeout -k 5 "$H_TIMEOUT" ssh "${H_SSH_OPTS[@]}" -i "$VENDOR_KEY" -p "$GW_PORT" "$@"; }
# gw_console KEY LOGIN ARGS...: ssh with KEY to the gateway's console as LOGIN
# (approver.NAME, auditor.NAME), running ARGS there.
gw_console() {
	local key=$1 login=$2
	shift 2
	timeout -k 5 "$H_TIMEOUT" ssh "${H_SSH_OPTS[@]}" -i "$key" -p "$GW_PORT" "$login@127.0.0.1" "$@"
}

# target_ssh ARGS...: ssh direct to the target plc-07 (or TARGET_NAME) with the gateway's key.
target_ssh() {
	timeout -k 5 "$H_TIMEOUT" ssh "${H_SSH_OPTS[@]}" -i "$GW_TARGET_KEY" \
		-p "${H_PORT[${TARGET_NAME:-plc-07}]}" "$@"
}

# ctl ARGS...: gatewayctl with this test's gateway configuration.
ctl() { "$H_GATEWAYCTL" -f "$GW_CONFIG" "$@"; }

# gw_sessions_listed: how many live sessions `gatewayctl sessions` lists (one "id" each); no
# JSON parser started, as the tests poll it.
gw_sessions_listed() { ctl sessions --json | grep -o '"id":' | wc -l; }

# gw_wait_listed N: until N sessions are listed (at most 30 s); ends the test otherwise.
gw_wait_listed() {
	h_wait_for 30 eval "((\$(gw_sessions_listed) == $1))" ||
		h_fail "not $1 sessions listed: $(ctl sessions)"
}

# gw_session_running NAME...: until each background session NAME has printed "started" to
# $H_DIR/NAME.out (30 s at most), i.e. its channel is open: a session killed before that has no
# channel on which the vendor could be told why. Ends the test otherwise.
gw_session_running() {
	local n
	for n in "$@"; do
		h_wait_for 30 grep -q started "$H_DIR/$n.out" ||
			h_fail "session $n did not start: $(cat "$H_DIR/$n.err" 2>/dev/null)"
	done
}

# ---- recordings -----------------------------------------------------------------------------

gw_recordings() { ls -1 "$GW_RECORDINGS"/*.cast 2>/dev/null; }

# h_cast_events FILE TYPE: the data of all events of TYPE ("i", "o", "r") concatenated.
h_cast_events() {
	python3 - "$1" "$2" <<-'EOF'
		import json, sys
		path, kind = sys.argv[1], sys.argv[2]
		with open(path, encoding="utf-8", errors="surrogateescape") as f:
		    lines = f.read().splitlines()
		json.loads(lines[0])  # the header must be JSON
		out = []
		for line in lines[1:]:
		    if not line.strip():
		        continue
		    ev = json.loads(line)
		    if isinstance(ev, list) and len(ev) >= 3 and ev[1] == kind:
		        out.append(ev[2])
		sys.stdout.write("".join(out))
	EOF
}

# h_cast_header FILE: the header line, pretty enough to grep.
h_cast_header() { head -n 1 "$1"; }

# ---- interactive sessions in tmux ----------------------------------------------------------

H_TMUX=(tmux -S "$H_DIR/tmux.sock" -f /dev/null)
h_defer "tmux -S '$H_DIR/tmux.sock' kill-server"

# h_tmux_start COLS ROWS CMD: runs CMD in a detached tmux window of that size. The server
# outlives the session it replaces (exit-empty off): a server that exits as its last session is
# killed made the next new-session fail with "server exited unexpectedly" now and then.
h_tmux_start() {
	"${H_TMUX[@]}" kill-session -t t 2>/dev/null
	h_wait_for 10 env TERM="${TERM:-xterm}" "${H_TMUX[@]}" \
		new-session -d -s t -x "$1" -y "$2" "$3" \; set-option -g exit-empty off ||
		{ h_log "harness: tmux failed"; return 1; }
	"${H_TMUX[@]}" set-option -t t remain-on-exit on >/dev/null
}

h_tmux_send() { "${H_TMUX[@]}" send-keys -t t "$@"; }
h_tmux_screen() { "${H_TMUX[@]}" capture-pane -p -J -t t -S -200; }

# h_tmux_wait REGEX [SECONDS]: until the screen matches REGEX (grep -E).
h_tmux_matches() { h_tmux_screen | grep -qE -- "$1"; }
h_tmux_wait() { h_wait_for "${2:-20}" h_tmux_matches "$1"; }

# h_tmux_wait_exit [SECONDS]: until the program in the window has ended.
h_tmux_dead() { [[ $("${H_TMUX[@]}" display-message -p -t t '#{pane_dead}') == 1 ]]; }
h_tmux_wait_exit() { h_wait_for "${1:-15}" h_tmux_dead; }

# h_pause SECONDS: waits SECONDS (fractions too) in read's timeout on a FIFO no one writes to
# (opened read-write, so at once), not in a sleep process: a fork and exec cost about 1.7 ms of
# CPU on the 2-core VM, and the suites started sleep thousands of times. (A pipe of a process
# substitution would change $!, which callers use for their own background job.)
h_pause() {
	local fd
	exec {fd}<>"$H_DIR/pause"
	read -r -t "$1" -u "$fd" _
	exec {fd}>&-
	return 0
}

# h_wait_for SECONDS CMD...: polls CMD (every 0.1 s) until it succeeds; fails after SECONDS.
h_wait_for() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		((SECONDS < deadline)) || return 1
		h_pause 0.1
	done
}

# h_gone PID: PID has ended (for h_wait_for SECONDS h_gone PID).
h_gone() { ! kill -0 "$1" 2>/dev/null; }

# h_all_gone: every daemon this test started has ended.
h_all_gone() {
	local name pid
	while read -r name pid; do
		kill -0 "$pid" 2>/dev/null && return 1
	done <"$H_DIR/pids"
	return 0
}

# h_kill_job PID: ends a background job ("h_hostile ... &", "gw_ssh ... &": a subshell waiting
# for timeout and its client) at once, the client first, and reaps it. Killing only the subshell
# leaves the client running, and a later `wait` then waits for the client's own end.
h_kill_job() {
	pkill -TERM -P "$1" 2>/dev/null
	kill -TERM "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}

# h_hostile SCRIPT ARGS...: a scripted hostile SSH client (python3-paramiko; SCRIPT imports
# tests/lib/hostile.py) against this gateway, as acme.alice unless ARGS say otherwise.
h_hostile() {
	local script=$1
	shift
	PYTHONPATH=$H_SRC/tests/lib timeout -k 5 "$H_TIMEOUT" /usr/bin/python3 "$script" \
		--port "$GW_PORT" --key "$VENDOR_KEY" "$@"
}

# ---- tests ----------------------------------------------------------------------------------

# Assertions end the current test (each test runs in a subshell).
h_fail() { printf '  %s\n' "$@" >&2; exit 1; }
h_skip() { printf '  skipped: %s\n' "$*" >&2; exit 77; }
h_assert_eq() { [[ $2 == "$1" ]] || h_fail "$3: expected [$1], got [$2]"; }
h_assert_contains() { [[ $1 == *"$2"* ]] || h_fail "$3: expected to contain [$2], got [${1:0:2000}]"; }
h_assert_not_contains() { [[ $1 != *"$2"* ]] || h_fail "$3: must not contain [$2], got [${1:0:2000}]"; }
h_assert_match() { [[ $1 =~ $2 ]] || h_fail "$3: expected to match /$2/, got [${1:0:2000}]"; }

# h_run TESTFN...: runs each test function in a subshell, prints PASS/FAIL/SKIP lines and
# "N passed, N failed"; exits 1 on any failure, 77 when everything was skipped.
h_run() {
	local t rc pass=0 fail=0 skip=0 t0 took
	for t in "$@"; do
		t0=$EPOCHREALTIME
		(set -u; "$t")
		rc=$?
		# How long each test took, to see where a slow script spends its time.
		took=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f s", b - a }')
		case $rc in
		0) echo "PASS: $t ($took)"; ((pass++)) ;;
		77) echo "SKIP: $t ($took)"; ((skip++)) ;;
		*) echo "FAIL: $t ($took)"; ((fail++)) ;;
		esac
	done
	echo "$pass passed, $fail failed$( ((skip > 0)) && echo ", $skip skipped")"
	if ((fail > 0)); then
		# Without the checkpoint anchors (one per checkpoint): what went wrong, not the flow.
		[[ -s $H_DIR/gatewayd.log ]] && { echo "--- gatewayd log (last 40 lines but anchors)"; grep -v ': notary_sign: anchor ' "$H_DIR/gatewayd.log" | tail -n 40; }
		exit 1
	fi
	((pass == 0 && skip > 0)) && exit 77
	exit 0
}
