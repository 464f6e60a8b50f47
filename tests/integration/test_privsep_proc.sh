#!/bin/bash
# Privilege separation (issue 14) as /proc shows it: during a live vendor session, and on a
# connection that did the key exchange but never authenticated, the process that talks SSH to
# the vendor is a fresh exec of gatewayd-front under the session's monitor, runs as the user
# gatewayd-front with no capability, no_new_privs and a seccomp filter of its own (not in the
# sanitizer build: front/sandbox.c), holds no key, recording, audit log or configuration, and
# its memory layout is not the listener's.
. "${GW_SRC:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$H_SRC/tests/lib/sessions.sh"
. "$H_SRC/tests/lib/privsep.sh"
h_setup || exit 1

# front_checks PID WHAT: every /proc fact of one front.
front_checks() {
	local pid=$1 what=$2 status uid gid fd target listener lmaps fmaps monitor mfilters ffilters
	listener=$(h_pid gatewayd)
	status=$(cat "/proc/$pid/status") || h_fail "$what: front $pid vanished"
	uid=$(id -u "$PS_FRONT_USER")
	h_assert_match "$(readlink "/proc/$pid/exe")" '/gatewayd-front$' "$what: executable"
	gid=$(id -g "$PS_FRONT_USER")
	h_assert_match "$status" $'\nUid:\t'"$uid"$'\t'"$uid"$'\t'"$uid"$'\t'"$uid"$'\n' "$what: uids"
	h_assert_match "$status" $'\nGid:\t'"$gid"$'\t'"$gid"$'\t'"$gid"$'\t'"$gid"$'\n' "$what: gids"
	h_assert_match "$status" $'\nGroups:[\t ]*\n' "$what: no supplementary groups"
	h_assert_match "$status" $'\nCapEff:\t0000000000000000\n' "$what: effective capabilities"
	h_assert_match "$status" $'\nCapPrm:\t0000000000000000\n' "$what: permitted capabilities"
	h_assert_match "$status" $'\nCapAmb:\t0000000000000000\n' "$what: ambient capabilities"
	h_assert_match "$status" $'\nNoNewPrivs:\t1\n' "$what: no_new_privs"
	# Its own filter on top of those it inherits (the listener's set*id filter): one more
	# than its monitor has; none of its own in the sanitizer build.
	monitor=$(ps_status_field "$pid" PPid)
	mfilters=$(ps_status_field "$monitor" Seccomp_filters)
	ffilters=$(ps_status_field "$pid" Seccomp_filters)
	if ps_sanitized; then
		h_log "  sanitizer build: no seccomp filter of its own expected ($what)"
		h_assert_eq "${mfilters:-0}" "${ffilters:-0}" "$what: seccomp filters, as its monitor's"
	else
		h_assert_match "$status" $'\nSeccomp:\t2\n' "$what: seccomp filter mode"
		h_assert_eq "$((${mfilters:-0} + 1))" "${ffilters:-0}" "$what: seccomp filters (its monitor's + 1)"
	fi
	# The monitor is the listener's child, the front the monitor's.
	h_assert_eq "$listener" "$(ps_status_field "$(ps_status_field "$pid" PPid)" PPid)" \
		"$what: the front's grandparent"
	# Descriptors: sockets, pipes, /dev/null; fd 2 is the daemon's own stderr (here the
	# harness's log file). Never a key, a recording, the audit log or the configuration.
	for fd in /proc/"$pid"/fd/*; do
		target=$(readlink "$fd") || continue
		case $target in
		"$H_DIR"/keys/* | "$H_DIR"/gw/ssh_host_* | "$H_DIR"/gw/state/* | "$GW_RECORDINGS"* | \
			"$GW_AUDIT"* | "$GW_CONFIG" | *gateway_to_target*)
			h_fail "$what: fd ${fd##*/} is $target" ;;
		esac
		if [[ ${fd##*/} == 2 ]]; then
			h_assert_eq "$(readlink "/proc/$listener/fd/2")" "$target" "$what: fd 2 (stderr)"
			continue
		fi
		# The coverage build's counters (scripts/coverage.sh), mapped before main().
		[[ -n ${LLVM_PROFILE_FILE:-} && $target == "${LLVM_PROFILE_FILE%/*}"/* ]] && continue
		[[ $target =~ ^(socket:\[[0-9]+\]|pipe:\[[0-9]+\]|/dev/null|anon_inode:.*)$ ]] ||
			h_fail "$what: fd ${fd##*/} is $target (not a socket, pipe or /dev/null)"
	done
	h_assert_match "$(readlink "/proc/$pid/fd/3")" '^socket:' "$what: fd 3 (the vendor)"
	h_assert_match "$(readlink "/proc/$pid/fd/4")" '^socket:' "$what: fd 4 (the monitor link)"
	# A fresh exec: its own executable mapped, and libc at an address of its own.
	fmaps=$(cat "/proc/$pid/maps")
	lmaps=$(cat "/proc/$listener/maps")
	h_assert_contains "$fmaps" "/gatewayd-front" "$what: gatewayd-front mapped"
	h_assert_not_contains "$fmaps" "/gatewayd/gatewayd"$'\n' "$what: the listener's executable mapped"
	local flibc llibc
	flibc=$(awk '/\/libc[.-]/ { print $1; exit }' <<<"$fmaps")
	llibc=$(awk '/\/libc[.-]/ { print $1; exit }' <<<"$lmaps")
	[[ -n $flibc && -n $llibc ]] || h_fail "$what: libc not found in the maps"
	[[ $flibc != "$llibc" ]] || h_fail "$what: libc at the listener's address $llibc (no fresh exec?)"
	h_log "  $what: front $pid, libc at $flibc (listener: $llibc)"
}

test_live_session_front_is_unprivileged_and_sandboxed() {
	local front
	ps_require
	es_start live || h_fail "session did not start"
	es_echo live hello-live 30 || h_fail "session does not echo: $(es_out live)"
	ps_wait_front_of_session front live || h_fail "no gatewayd-front serving the session"
	front_checks "$front" "live session"
	es_echo live still-alive || h_fail "the session stopped echoing after the checks"
	es_end live
	es_wait_exit live 20 || h_fail "the session did not end"
}

test_preauth_front_is_unprivileged_and_sandboxed() {
	local front
	ps_require
	PS_KNOWN_FRONTS=$(ps_fronts | tr '\n' ' ')
	ps_preauth_start front
	front_checks "$front" "pre-authentication"
}

h_run test_live_session_front_is_unprivileged_and_sandboxed test_preauth_front_is_unprivileged_and_sandboxed
