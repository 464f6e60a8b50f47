#!/bin/bash
# Recordings written through the recorder API: gatewayctl's verdicts for each kind of
# damage, stock asciinema reading the file, transcript/search/history, the audit chain.
set -u
: "${GW_BUILD:?}"
CTL="$GW_BUILD/tools/gatewayctl"
WRITER="$GW_BUILD/tests/evidence_writer"
command -v python3 >/dev/null || exit 77
T=$(mktemp -d /tmp/test_evidence.XXXXXX)
trap 'rm -rf "$T"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
write() { "$WRITER" "$T" "$T/key" "$1" "$2" >/dev/null 2>&1; }
verdict() { "$CTL" recording verify --key "$T/key.pub" "$1"; }
# edit FILE PYTHON: runs PYTHON with the list of lines L, then writes L back.
edit() { python3 -c "import sys
L = open(sys.argv[1], 'rb').read().split(b'\n')[:-1]
$2
open(sys.argv[1], 'wb').write(b''.join(l + b'\n' for l in L))" "$1"; }
expect() { # expect NAME PATTERN: the verdict of $T/NAME matches and exit is non-zero unless intact
	local out rc
	out=$(verdict "$T/$1"); rc=$?
	echo "$out" | grep -Eq -- "$2" || fail "$1: want /$2/, got: $out"
	if [[ "$2" == *": intact"* ]]; then [ $rc -eq 0 ] || fail "$1: exit $rc"
	else [ $rc -ne 0 ] || fail "$1: exit 0"; fi
}

write aa seal || fail "writer"
write bb seal || fail "writer"
for name in flip delete swap truncate splice header forged lasttime; do cp "$T/aa.0.cast" "$T/$name.cast"; done
expect aa.0.cast '^.*: intact \(11 records, sealed .*: vendor disconnected\)'
edit "$T/flip.cast" 'L[8] = L[8].replace(b"secret", b"sekret")'
expect flip.cast "tampered at record 8"
edit "$T/delete.cast" 'del L[2]'
expect delete.cast 'tampered at record 2'
edit "$T/swap.cast" 'L[3], L[4] = L[4], L[3]'
expect swap.cast 'tampered at record 3'
edit "$T/truncate.cast" 'del L[-3:]'
expect truncate.cast 'truncated \(records 0-6 intact, last checkpoint 20'
edit "$T/splice.cast" 'L[7:] = open(sys.argv[1].replace("splice.cast", "bb.0.cast"), "rb").read().split(b"\n")[7:-1]'
expect splice.cast 'tampered at record 7'
edit "$T/header.cast" 'L[0] = L[0].replace(b"plc-07", b"plc-08")'
expect header.cast 'tampered at record 0'
edit "$T/forged.cast" 'import re; L[6] = re.sub(rb"\"sig\":\"(.)", lambda m: b"\"sig\":\"" + (b"B" if m.group(1) == b"A" else b"A"), L[6])'
expect forged.cast 'bad signature at record 6'
# The seal's own checkpoint is the last line: its elapsed time is covered by its signature.
edit "$T/lasttime.cast" 'import re; L[-1] = re.sub(rb"^\[[0-9.]+,", b"[99.000000,", L[-1])'
expect lasttime.cast 'bad signature at record 10'
openssl genpkey -algorithm ed25519 2>/dev/null | openssl pkey -pubout > "$T/other.pub"
"$CTL" recording verify --key "$T/other.pub" "$T/aa.0.cast" | grep -q 'unknown key' ||
	fail "another key is not reported as unknown"

# kill -9 mid-session: the flushed prefix verifies, the verdict is truncated.
write cc crash
expect cc.0.cast 'truncated \(records 0-6 intact'
# A file size limit (full disk) makes the recorder fail: the writer exits 3.
write dd fsize; [ $? -eq 3 ] || fail "recorder did not fail on RLIMIT_FSIZE"
# Several files: one verdict each, non-zero exit since one is not intact.
"$CTL" recording verify --key "$T/key.pub" "$T/aa.0.cast" "$T/flip.cast" > "$T/both"
[ $? -ne 0 ] && [ "$(wc -l < "$T/both")" -eq 2 ] || fail "one line per file: $(cat "$T/both")"

# Stock asciinema accepts the file and prints the output (it needs a tty: script).
if command -v asciinema >/dev/null && command -v script >/dev/null; then
	script -qec "asciinema cat $T/aa.0.cast" /dev/null > "$T/cat.out" 2>&1 || fail "asciinema cat failed"
	grep -q 'secret-marker' "$T/cat.out" || fail "asciinema cat did not print the output"
	script -qec "asciinema play -s 100 $T/aa.0.cast" /dev/null > "$T/play.out" 2>&1 || fail "asciinema play failed"
	grep -q 'progress 100%' "$T/play.out" || fail "asciinema play did not show the output"
fi
"$CTL" replay --speed 100 "$T/aa.0.cast" | grep -q 'secret-marker' || fail "replay"

# The transcript shows the final text: the typo fixed by backspace, the redrawn line.
"$CTL" transcript "$T/aa.0.cast" > "$T/transcript"
grep -q '^ *| \$ ls -l$' "$T/transcript" || fail "transcript lacks the corrected command"
grep -q '> ls -l$' "$T/transcript" || fail "transcript lacks the typed line"
grep -q '| progress 100%$' "$T/transcript" || fail "transcript lacks the redrawn line"
grep -q 'lx\|progress 10%$' "$T/transcript" && fail "transcript shows overwritten text"

"$CTL" search --dir "$T" --person acme.alice 'secret-marker' | grep -q '^aa	.*	typed	echo secret-marker$' ||
	fail "search did not find the typed line"
"$CTL" search --dir "$T" --person nobody 'secret-marker' >/dev/null && fail "search ignores --person"
"$CTL" history --dir "$T" --key "$T/key.pub" --target plc-07 > "$T/history"
grep -q '^[-0-9T:.Z]*	aa	0	shell	acme	acme.alice	service@plc-07	T-42	owner.bob	-	.*	vendor disconnected	intact	.*/aa\.0\.cast$' "$T/history" ||
	fail "history: $(cat "$T/history")"
grep -q '^[^	]*	cc	.*	truncated	' "$T/history" || fail "history lacks the crashed session"
"$CTL" sessions --history --dir "$T" --key "$T/key.pub" --target plc-07 | cmp -s - "$T/history" ||
	fail "sessions --history differs from history"

# transcript, search and history verify as they read and say what they found.
"$CTL" transcript --key "$T/key.pub" "$T/aa.0.cast" | head -n 1 | grep -q '^verify: intact (11 records' ||
	fail "transcript does not report the intact recording"
"$CTL" transcript --key "$T/key.pub" "$T/flip.cast" | head -n 1 | grep -q '^verify: tampered at record 8' ||
	fail "transcript does not report the tampering"
"$CTL" transcript --key "$T/key.pub" "$T/truncate.cast" | head -n 1 | grep -q '^verify: truncated (records 0-6' ||
	fail "transcript does not report the cut"
mkdir "$T/damaged"
cp "$T/flip.cast" "$T/damaged/ee.0.cast"
"$CTL" search --dir "$T/damaged" --key "$T/key.pub" 'ls -l' | grep -q '^aa	.*	tampered	typed	ls -l$' ||
	fail "search does not report the tampering: $("$CTL" search --dir "$T/damaged" --key "$T/key.pub" 'ls -l')"
"$CTL" history --dir "$T/damaged" --key "$T/key.pub" | grep -q '	tampered	.*/ee\.0\.cast$' ||
	fail "history does not report the tampering"

# The audit log chain.
"$WRITER" "$T" "$T/key" 00 audit 2>/dev/null || fail "audit writer"
"$CTL" audit verify --key "$T/key.pub" "$T/audit.log" | grep -q 'intact (3 events)' || fail "audit intact"
edit "$T/audit.log" 'del L[1]'
"$CTL" audit verify --key "$T/key.pub" "$T/audit.log" | grep -q 'tampered at record 2' || fail "audit deletion"

# A recording by the recorder before events merged under the disk budget (tests/data/
# recording-v1): every reader still reads it.
V1=${GW_SRC:-$(dirname "$0")/../..}/tests/data/recording-v1
V1_CAST=$V1/00000000000000000000000000000001.0.cast
"$CTL" recording verify --key "$V1/recording_key.pub" "$V1_CAST" | grep -q ': intact (11 records' ||
	fail "the first recorder's recording does not verify intact"
"$CTL" replay --speed 100 "$V1_CAST" | grep -q 'secret-marker' || fail "replay of the first recorder's"
"$CTL" transcript "$V1_CAST" | grep -q '> echo secret-marker$' || fail "transcript of the first recorder's"

[ $fails -eq 0 ] && echo "all evidence checks passed"
exit $((fails > 0))
