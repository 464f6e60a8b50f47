#!/bin/bash
# demo.sh [--ha] [--serve]: from a fresh Debian 12 machine, builds gatewayd and shows a vendor
# session end to end on 127.0.0.1: a real OpenSSH sshd as the OT host "plc-07", gatewayd in front
# of it, the stock ssh client as the vendor person acme.alice, then the recordings it made and the
# evidence bundle of the demo's period (printed as BUNDLE: DIR, verified).
# --serve: sets up the same and keeps gateway and target running until Ctrl-C, printing the ssh
# command lines to measure them with your own tools.
# --ha: two gateways A and B sharing their state on one PostgreSQL 15 (issue 19) in front of the
# same plc-07 (scripts/lib/demo_ha.sh): a ticket installed through A admits on B, and
# `gatewayctl sessions` on A lists B's session. With --serve, prints VENDOR_SSH_A/_B and
# GATEWAYCTL_A/_B lines and keeps both running until Ctrl-C. Without --ha, the gateway keeps its
# state in files (the embedded default).
set -u
serve=0 ha=0
for arg in "$@"; do
	case $arg in
	--serve) serve=1 ;;
	--ha) ha=1 ;;
	*) echo "usage: scripts/demo.sh [--ha] [--serve]" >&2; exit 2 ;;
	esac
done
. "$(dirname "$0")/lib/setup.sh"
cd "$GW_ROOT" || exit 1
gw_prepare_machine || exit 1
gw_build build || exit 1

export GW_BUILD=$GW_ROOT/build GW_SRC=$GW_ROOT
GW_ALLOW="shell exec upload download"
GW_KEEP=1 # the recordings outlive the demo
. "$GW_ROOT/tests/lib/harness.sh"
ssh_line() { # ssh_line KEY PORT DEST: a copy-and-paste ssh command line
	printf 'ssh -i %s -p %s -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null %s\n' "$@"
}
if ((ha)); then
	. "$GW_ROOT/scripts/lib/demo_ha.sh"
	exit $?
fi
gw_say "starting the OT host plc-07 (sshd) and gatewayd on 127.0.0.1"
demo_from=$(date -u +%Y-%m-%dT%H:%M:%SZ) # the bundle's period starts before the gateway does
h_setup || exit 1

gatewayctl_line="$H_GATEWAYCTL -f $GW_CONFIG"

if ((serve)); then
	echo "VENDOR_SSH: $(ssh_line "$VENDOR_KEY" "$GW_PORT" "$GW_DEST")"
	echo "TARGET_SSH: $(ssh_line "$GW_TARGET_KEY" "${H_PORT[plc-07]}" "$TARGET_DEST")"
	echo "GATEWAYCTL: $gatewayctl_line"
	echo "APPROVER_SSH: $(ssh_line "$APPROVER_KEY" "$GW_PORT" approver.owner@127.0.0.1)"
	echo "AUDITOR_SSH: $(ssh_line "$AUDITOR_KEY" "$GW_PORT" auditor.ann@127.0.0.1)"
	echo "APPROVER_KEY: $APPROVER_KEY"
	gw_say "serving until Ctrl-C (recordings in $GW_RECORDINGS)"
	while :; do
		sleep 3600 &
		wait $!
	done
fi

gw_say "vendor: ssh $GW_DEST 'hostname; uname -a; echo hello from the OT host'"
gw_ssh "$GW_DEST" 'hostname; uname -a; echo hello from the OT host'
echo "(exit status $?)"
gw_say "vendor: an interactive terminal session (ssh -tt), typing two commands"
printf 'echo typed by the vendor: $((6*7))\nexit\n' | gw_ssh -tt "$GW_DEST"
echo "(exit status $?)"
sleep 1

gw_stop
demo_rc=0
for f in $(gw_recordings); do
	echo "RECORDING: $f"
	gw_say "gatewayctl recording verify $f"
	"$H_GATEWAYCTL" -f "$GW_CONFIG" recording verify "$f" || demo_rc=1
	gw_say "asciinema cat $f"
	# asciinema cat reads /dev/tty: give it one when there is none (CI, pipes).
	script -qec "asciinema cat $(printf %q "$f")" /dev/null </dev/null
	echo
	if "$H_GATEWAYCTL" 2>&1 | grep -q '^ *replay '; then
		gw_say "gatewayctl replay $f --speed 100"
		"$H_GATEWAYCTL" -f "$GW_CONFIG" replay "$f" --speed 100 </dev/null
		echo
	fi
done
gw_say "gatewayctl audit verify $GW_AUDIT"
"$H_GATEWAYCTL" -f "$GW_CONFIG" audit verify "$GW_AUDIT" || demo_rc=1
# The evidence bundle of acme's period, beside gw/ and keys/ in the kept folder, checked with
# the gateway's public key as an assessor would.
bundle=$H_DIR/bundle
demo_to=$(date -u -d '+1 second' +%Y-%m-%dT%H:%M:%SZ)
gw_say "gatewayctl evidence export --vendor acme --from $demo_from --to $demo_to -o $bundle"
if "$H_GATEWAYCTL" -f "$GW_CONFIG" evidence export --vendor acme --from "$demo_from" \
	--to "$demo_to" -o "$bundle"; then
	echo "BUNDLE: $bundle"
	gw_say "gatewayctl evidence verify $bundle --key $H_DIR/gw/state/recording_key.pub"
	"$H_GATEWAYCTL" evidence verify "$bundle" --key "$H_DIR/gw/state/recording_key.pub" || demo_rc=1
else
	demo_rc=1
fi
echo "GATEWAYCTL: $gatewayctl_line"
exit "$demo_rc"
