#!/bin/bash
# Privilege separation (issue 14), the "compromised session": gdb attached to the live
# gatewayd-front makes it call open() on the seal key, a target key, the audit log, another
# session's recording and the world-readable /etc/hostname (so that the sandbox, not file modes,
# refuses), and socket() + connect() to the target's port. Every call fails (EPERM from seccomp;
# EACCES from Landlock in the sanitizer build, which has no seccomp filter); the session goes on
# and its recording and the audit log still verify intact. The same against a front whose
# connection has not authenticated. And the connection's monitor (the session process), fenced
# in by Landlock once authenticated and connected (gatewayd/monitor_sandbox.c): it cannot open
# the seal key, another target's credential, its own (read before), the audit log or the
# configuration, while its own recording goes on. An auditor's monitor reads the evidence only.
. "${GW_SRC:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$H_SRC/tests/lib/sessions.sh"
. "$H_SRC/tests/lib/privsep.sh"
# A second target with a credential of its own, which plc-07's sessions must not reach.
OTHER_TARGET_KEY=$H_DIR/keys/gateway_to_rtu
h_keygen "$OTHER_TARGET_KEY" || exit 1
sshd_start plc-07 || exit 1
gw_policy_default
gw_target_add rtu-02 1 "${H_FP[plc-07]}" "" "$OTHER_TARGET_KEY"
gw_start || exit 1
SEAL_KEY=$H_DIR/gw/state/recording_key

cast_intact() { ctl recording verify "$1" 2>/dev/null | grep -q intact; }

# gdb_open_probes NAME[:FLAGS]=PATH...: gdb commands calling open(PATH, FLAGS) in the process
# (FLAGS 0, O_RDONLY, unless given: 1 is O_WRONLY), each printing "PROBE NAME RC ERRNO".
gdb_open_probes() {
	local probe name path flags
	echo "set pagination off"
	echo "set confirm off"
	# Paths are copied into one buffer the process allocates and frees: a string literal in a
	# call would be malloc'ed by gdb in the process and never freed (LeakSanitizer).
	echo "set \$p = (char *)((void *(*)(unsigned long))malloc)(4096)"
	for probe in "$@"; do
		name=${probe%%=*} path=${probe#*=} flags=0
		[[ $name == *:* ]] && flags=${name#*:} name=${name%%:*}
		((${#path} < 4000)) || h_fail "path too long for the probe: $path"
		echo "set var {char[$((${#path} + 1))]}\$p = \"$path\""
		echo "set \$r = (int)((int(*)(const char *, int))open)(\$p, $flags)"
		echo "set \$e = *((int *(*)(void))__errno_location)()"
		echo "printf \"PROBE $name %d %d\\n\", \$r, \$e"
	done
	echo "call (void)((void(*)(void *))free)(\$p)"
}

# gdb_probe_script FILE OTHER-RECORDING: gdb commands for a front; each probe prints
# "PROBE NAME RC ERRNO".
gdb_probe_script() {
	local f=$1 other=$2 port=${H_PORT[plc-07]}
	{
		gdb_open_probes "seal=$SEAL_KEY" "target=$GW_TARGET_KEY" "audit=$GW_AUDIT" \
			"other_recording=$other" "hostname=/etc/hostname"
		# socket(AF_INET, SOCK_STREAM, 0), then connect() of it to 127.0.0.1:port
		echo "set \$s = (int)((int(*)(int, int, int))socket)(2, 1, 0)"
		echo "set \$e = *((int *(*)(void))__errno_location)()"
		echo "printf \"PROBE socket %d %d\\n\", \$s, \$e"
		echo "set \$sa = (unsigned char *)((void *(*)(unsigned long))malloc)(16)"
		echo "set {unsigned long}\$sa = 0"
		echo "set {unsigned long}(\$sa + 8) = 0"
		echo "set {unsigned short}\$sa = 2"
		echo "set {unsigned short}(\$sa + 2) = $(((port >> 8) | ((port & 255) << 8)))"
		echo "set {unsigned int}(\$sa + 4) = 0x0100007f"
		echo "set \$r = (int)((int(*)(int, void *, unsigned int))connect)(\$s, \$sa, 16)"
		echo "set \$e = *((int *(*)(void))__errno_location)()"
		echo "printf \"PROBE connect %d %d\\n\", \$r, \$e"
		echo "call (void)((void(*)(void *))free)(\$sa)"
		echo "detach"
	} >"$f"
}

# probes_refused PID WHAT OTHER-RECORDING: every probe in PID returned -1, with the errno of
# the layer that refused.
probes_refused() {
	local pid=$1 what=$2 other=$3 out probe want
	[[ -s $SEAL_KEY && -s $other ]] || h_fail "$what: no seal key or recording to probe"
	gdb_probe_script "$H_DIR/probe.gdb" "$other"
	out=$(ps_gdb "$pid" "$H_DIR/probe.gdb")
	h_log "  $what: $(grep '^PROBE' <<<"$out" | tr '\n' ';')"
	# seccomp says EPERM (1); without it (sanitizer build) Landlock says EACCES (13)
	want=1
	ps_sanitized && want=13
	for probe in seal target audit other_recording hostname connect; do
		h_assert_match "$out" $'(^|\n)'"PROBE $probe -1 $want"$'(\n|$)' "$what: $probe"
	done
	if ps_sanitized; then
		h_log "  sanitizer build: socket() itself is not refused (no seccomp filter)"
	else
		h_assert_match "$out" $'(^|\n)PROBE socket -1 1(\n|$)' "$what: socket"
	fi
	kill -0 "$pid" 2>/dev/null || h_fail "$what: the front died under gdb"
}

# live_pair: sessions a and b, both echoing; b's recording exists.
live_pair() {
	local n
	for n in a b; do es_start "$n" || h_fail "session $n did not start"; done
	for n in a b; do es_echo "$n" "hello-$n" 30 || h_fail "session $n does not echo: $(es_out "$n")"; done
	h_wait_for 20 es_cast b >/dev/null || h_fail "no recording of session b"
}

test_live_front_cannot_open_or_connect_and_evidence_verifies() {
	local front cast out
	ps_require gdb
	live_pair
	ps_wait_front_of_session front a || h_fail "no gatewayd-front serving session a"
	probes_refused "$front" "live session" "$(es_cast b)"
	es_echo a after-gdb-a || h_fail "session a stopped echoing after gdb"
	es_echo b after-gdb-b || h_fail "session b stopped echoing"
	es_end a
	es_end b
	es_wait_exit a 20 || h_fail "session a did not end"
	h_assert_eq 0 "$ES_RC" "session a's exit status"
	es_wait_exit b 20 || h_fail "session b did not end"
	cast=$(es_cast a) || h_fail "no recording of session a"
	h_wait_for 20 cast_intact "$cast" ||
		h_fail "session a's recording: $(ctl recording verify "$cast" 2>&1)"
	out=$(ctl audit verify 2>&1) || h_fail "audit verify: $out"
	h_assert_contains "$out" "intact" "the audit log"
}

test_preauth_front_cannot_open_or_connect() {
	local front
	ps_require gdb
	es_start other || h_fail "session did not start"
	es_echo other hello-other 30 || h_fail "session does not echo: $(es_out other)"
	h_wait_for 20 es_cast other >/dev/null || h_fail "no recording of the other session"
	PS_KNOWN_FRONTS=$(ps_fronts | tr '\n' ' ')
	ps_preauth_start front
	probes_refused "$front" "pre-authentication" "$(es_cast other)"
	es_end other
	es_wait_exit other 20 || h_fail "the other session did not end"
}

# The monitor has no seccomp filter on open(): what refuses is Landlock (EACCES), in every build.
# Another session's recording can be neither read nor written (the listener creates each and
# hands over the descriptor). Its own recording grows after the probes and verifies intact.
test_live_monitor_cannot_open_secrets_and_its_recording_goes_on() {
	local monitor cast other out probe size
	ps_require gdb
	es_start mo || h_fail "the other session did not start"
	es_echo mo hello-mo 30 || h_fail "the other session does not echo: $(es_out mo)"
	h_wait_for 20 es_cast mo >/dev/null || h_fail "no recording of the other session"
	other=$(es_cast mo)
	es_start m || h_fail "session did not start"
	es_echo m hello-m 30 || h_fail "session does not echo: $(es_out m)"
	monitor=$(es_gateway_pid m) || h_fail "no session process serving the session"
	h_wait_for 20 es_cast m >/dev/null || h_fail "no recording of the session"
	cast=$(es_cast m)
	size=$(stat -c %s "$cast")
	{
		gdb_open_probes "seal=$SEAL_KEY" "other_target=$OTHER_TARGET_KEY" \
			"own_target=$GW_TARGET_KEY" "audit=$GW_AUDIT" "config=$GW_CONFIG" \
			"other_recording=$other" "other_recording_write:1=$other"
		echo "detach"
	} >"$H_DIR/monitor.gdb"
	out=$(ps_gdb "$monitor" "$H_DIR/monitor.gdb")
	h_log "  monitor: $(grep '^PROBE' <<<"$out" | tr '\n' ';')"
	for probe in seal other_target own_target audit config other_recording \
		other_recording_write; do
		h_assert_match "$out" $'(^|\n)'"PROBE $probe -1 13"$'(\n|$)' "monitor: $probe"
	done
	kill -0 "$monitor" 2>/dev/null || h_fail "the session process died under gdb"
	es_echo m after-gdb-m || h_fail "the session stopped echoing after gdb"
	es_end m
	es_end mo
	es_wait_exit m 20 || h_fail "the session did not end"
	h_assert_eq 0 "$ES_RC" "the session's exit status"
	h_wait_for 20 cast_intact "$cast" ||
		h_fail "the recording: $(ctl recording verify "$cast" 2>&1)"
	(($(stat -c %s "$cast") > size)) || h_fail "the recording did not grow after the probes"
	grep -q after-gdb-m "$cast" || h_fail "the recording lacks what was relayed after the probes"
	es_wait_exit mo 20 || h_fail "the other session did not end"
	h_wait_for 20 cast_intact "$other" ||
		h_fail "the other recording: $(ctl recording verify "$other" 2>&1)"
	out=$(ctl audit verify 2>&1) || h_fail "audit verify: $out"
	h_assert_contains "$out" "intact" "the audit log"
}

# ps_auditor_monitor: the session process of the auditor's console, the one listener child with a
# child of its own that is not a front (the command it runs, console_auditor.c).
ps_auditor_monitor() {
	local m c
	for m in $(pgrep -P "$(h_pid gatewayd)"); do
		for c in $(pgrep -P "$m"); do
			ps_is_front "$c" || { echo "$m"; return 0; }
		done
	done
	return 1
}

# An auditor's session process (its console's commands, gatewayd/console_auditor.c) reads the
# evidence and writes none of it: the recordings, the audit log and the seal key's public half
# open read-only; the seal key, a target's credential, the configuration, and writing a recording
# or the audit log are refused (Landlock, EACCES). A slow replay keeps it running.
test_auditor_monitor_reads_evidence_only() {
	local monitor cast out probe
	ps_require gdb
	es_start au || h_fail "session did not start"
	es_echo au hello-au 30 || h_fail "session does not echo: $(es_out au)"
	h_wait_for 20 es_cast au >/dev/null || h_fail "no recording of the session"
	cast=$(es_cast au)
	timeout -k 5 120 ssh "${H_SSH_OPTS[@]}" -tt -i "$AUDITOR_KEY" -p "$GW_PORT" auditor.ann@127.0.0.1 \
		replay "$(basename "$cast" | cut -d. -f1)" --speed 0.0001 </dev/null >"$H_DIR/replay.out" 2>&1 &
	h_defer "kill $! 2>/dev/null"
	h_wait_for 20 ps_auditor_monitor >/dev/null || h_fail "no auditor session process: $(cat "$H_DIR/replay.out")"
	monitor=$(ps_auditor_monitor)
	{
		gdb_open_probes "seal=$SEAL_KEY" "target=$GW_TARGET_KEY" "config=$GW_CONFIG" \
			"recording_write:1=$cast" "audit_write:1=$GW_AUDIT" "recording=$cast" \
			"audit=$GW_AUDIT" "seal_public=$SEAL_KEY.pub"
		echo "detach"
	} >"$H_DIR/auditor.gdb"
	out=$(ps_gdb "$monitor" "$H_DIR/auditor.gdb")
	h_log "  auditor's monitor: $(grep '^PROBE' <<<"$out" | tr '\n' ';')"
	for probe in seal target config recording_write audit_write; do
		h_assert_match "$out" $'(^|\n)'"PROBE $probe -1 13"$'(\n|$)' "auditor's monitor: $probe"
	done
	for probe in recording audit seal_public; do
		h_assert_match "$out" $'(^|\n)'"PROBE $probe [0-9]+ "  "auditor's monitor: $probe"
	done
	es_end au
	es_wait_exit au 20 || h_fail "the session did not end"
}

h_run test_live_front_cannot_open_or_connect_and_evidence_verifies test_preauth_front_cannot_open_or_connect \
	test_live_monitor_cannot_open_secrets_and_its_recording_goes_on test_auditor_monitor_reads_evidence_only
