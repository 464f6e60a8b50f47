#!/bin/bash
# valgrind.sh [BUILD-DIR]: one real integration scenario with gatewayd (listener and every
# session process) under valgrind memcheck: shell, exec, sftp up- and download, a refused
# target, a failed login and a keepalive cut. Fails on any memcheck error or any definite leak
# not suppressed by tests/valgrind.supp (which holds only what is not ours, each with a reason).
# Builds BUILD-DIR (default build-valgrind, no sanitizers) first. Logs: $GW_VG_LOGS if set.
set -u
. "$(dirname "$0")/lib/setup.sh"
cd "$GW_ROOT" || exit 1
command -v valgrind >/dev/null || { echo "valgrind is not installed (apt-get install valgrind)"; exit 1; }
BUILD=${1:-build-valgrind}
[[ $BUILD == /* ]] || BUILD=$GW_ROOT/$BUILD
gw_build "$BUILD" -DGW_SANITIZE=OFF >/dev/null || { echo "build failed"; exit 1; }
# Under valgrind a session process execs its front by path, as the user gatewayd-front: a build
# tree that user cannot reach (a clone under /root, mode 0700) runs from a copy under /tmp (a
# second build there cost 37 CPU-seconds; the copy, a fraction of one).
copy=
if ! setpriv --reuid=gatewayd-front --regid=gatewayd-front --clear-groups \
	test -x "$(dirname "$BUILD")" 2>/dev/null; then
	copy=$(mktemp -d "${TMPDIR:-/tmp}/gatewayd-valgrind.XXXXXX") && chmod 0755 "$copy" &&
		cp -a "$BUILD/." "$copy/" || { echo "valgrind.sh: cannot copy $BUILD"; exit 1; }
	echo "valgrind.sh: $BUILD is closed to gatewayd-front: running a copy in $copy"
	BUILD=$copy
fi

export GW_SRC=$GW_ROOT GW_BUILD=$BUILD
# Everything is 20-50 times slower under memcheck.
export H_START_TIMEOUT=120 H_TIMEOUT=300 H_CONNECT_TIMEOUT=120 GW_CONNECT_TIMEOUT=60
. "$GW_ROOT/tests/lib/harness.sh"
[[ -z $copy ]] || h_defer "rm -rf '$copy'"

VG_LOGS=${GW_VG_LOGS:-$H_DIR/valgrind}
mkdir -p "$VG_LOGS"
# The vendor-facing processes (gatewayd-front) run natively, not under memcheck: their sandbox
# refuses what valgrind needs; their memory is checked by the sanitizer build. The rest of this
# note is for a run that traces them anyway: they run as their own user and write their own
# logs here, as in /tmp. %n: a session process's fork child and the
# front it execs have the same pid, and the front may not reopen the child's root-owned log
# (nor its gdbserver FIFOs in /tmp: --vgdb=no).
chmod 1777 "$VG_LOGS"
# The harness starts "$H_GATEWAYD": a wrapper puts memcheck in front of the real daemon.
# Forked session processes stay under valgrind without --trace-children (that is for exec).
cat >"$H_DIR/gatewayd-vg" <<EOF
#!/bin/sh
exec valgrind --leak-check=full --show-leak-kinds=definite \\
	--errors-for-leak-kinds=definite --trace-children=yes --child-silent-after-fork=no \\
	--track-fds=no --num-callers=30 --error-exitcode=99 --vgdb=no \\
	--trace-children-skip='/proc/self/fd/*,*/gatewayd-front' \\
	--suppressions="$GW_ROOT/tests/valgrind.supp" --log-file="$VG_LOGS/vg.%p.%n.log" \\
	"$H_GATEWAYD" "\$@"
EOF
chmod +x "$H_DIR/gatewayd-vg"
H_GATEWAYD=$H_DIR/gatewayd-vg

sshd_start plc-07 || exit 1
GW_ALLOW="shell exec upload download" gw_policy_default
gw_config_extra "client_alive_interval = 2;
client_alive_count_max = 1;"
gw_start || exit 1

fail=0
step() { printf '  %-44s' "$1"; }
ok() { echo ok; }
bad() { echo "FAILED: $*"; fail=1; }

step "exec"
out=$(gw_ssh "$GW_DEST" 'echo exec-$((1+1))' </dev/null 2>&1)
[[ $out == exec-2 ]] && ok || bad "$out"

step "interactive shell with a pty"
out=$(printf 'echo shell-$((2+2))\nexit\n' | gw_ssh -tt "$GW_DEST" 2>&1)
[[ $out == *shell-4* ]] && ok || bad "$out"

step "sftp upload and download"
head -c 300000 /dev/urandom >"$H_DIR/up.bin"
printf 'put %s %s\nget %s %s\n' "$H_DIR/up.bin" "$H_DIR/up.remote" "$H_DIR/up.remote" "$H_DIR/down.bin" \
	>"$H_DIR/batch"
out=$(timeout -k 5 "$H_TIMEOUT" sftp "${H_SSH_OPTS[@]}" -i "$VENDOR_KEY" -P "$GW_PORT" \
	-b "$H_DIR/batch" "$GW_DEST" </dev/null 2>&1)
cmp -s "$H_DIR/up.bin" "$H_DIR/down.bin" && ok || bad "$out"

step "refused target"
out=$(gw_ssh acme.alice+plc-99@127.0.0.1 true </dev/null 2>&1)
[[ $out == *denied* ]] && ok || bad "$out"

step "failed login (unknown key)"
h_keygen "$H_DIR/keys/stranger"
timeout -k 5 "$H_TIMEOUT" ssh "${H_SSH_OPTS[@]}" -i "$H_DIR/keys/stranger" -p "$GW_PORT" \
	"$GW_DEST" true </dev/null >/dev/null 2>&1 && bad "a stranger got in" || ok

step "frozen vendor cut by keepalives"
ssh "${H_SSH_OPTS[@]}" -i "$VENDOR_KEY" -p "$GW_PORT" "$GW_DEST" 'echo frozen-start; sleep 600' \
	</dev/null >"$H_DIR/frozen.out" 2>&1 &
frozen=$!
for ((i = 0; i < 600; i++)); do grep -q frozen-start "$H_DIR/frozen.out" && break; sleep 0.1; done
kill -STOP "$frozen"
for ((i = 0; i < 600; i++)); do
	grep -qs keepalive "$GW_AUDIT" && break
	sleep 0.1
done
kill -CONT "$frozen"
wait "$frozen"
grep -qs keepalive "$GW_AUDIT" && ok || bad "no keepalive cut in the audit log"

# Every session process ends by itself; then the listener is stopped alone, normally.
listener=$(h_pid gatewayd)
for ((i = 0; i < 600; i++)); do
	[[ -z $(pgrep -P "$listener") ]] && break
	sleep 0.1
done
kill -TERM "$listener"
for ((i = 0; i < 600; i++)); do kill -0 "$listener" 2>/dev/null || break; sleep 0.1; done

step "recordings verify intact"
out=$("$H_GATEWAYCTL" -f "$GW_CONFIG" recording verify $(gw_recordings) 2>&1)
[[ $(grep -vc ': intact' <<<"$out") == 0 ]] && ok || bad "$out"

nlogs=$(ls "$VG_LOGS"/vg.*.log 2>/dev/null | wc -l)
step "memcheck of $nlogs processes"
reports=$(grep -l -E 'ERROR SUMMARY: [1-9]|definitely lost: [1-9]' "$VG_LOGS"/vg.*.log 2>/dev/null)
if ((nlogs < 5)); then
	bad "only $nlogs valgrind logs: did the daemon run under valgrind?"
elif [[ -n $reports ]]; then
	bad "$(echo "$reports" | wc -l) processes with reports"
	for f in $reports; do echo "--- $f"; head -120 "$f"; done
else
	ok
fi
((fail == 0)) && echo "valgrind: clean" || echo "valgrind: FAILED"
exit "$fail"
