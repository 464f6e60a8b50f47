#!/bin/bash
# Forwarded connections recorded as pcapng (pcapng_writer, the recorder API): real tshark
# dissects the Modbus/TCP exchange with no malformed frame, bad checksum or TCP analysis
# warning; `gatewayctl recording verify` says intact, and tampered for one altered byte.
set -u
: "${GW_BUILD:?}"
CTL="$GW_BUILD/tools/gatewayctl"
WRITER="$GW_BUILD/tests/pcapng_writer"
command -v tshark >/dev/null || exit 77
command -v python3 >/dev/null || exit 77
T=$(mktemp -d /tmp/test_pcapng.XXXXXX)
trap 'rm -rf "$T"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
verdict() { "$CTL" recording verify --key "$T/key.pub" "$1"; }
# tshark as root warns on stderr; the checks read stdout only.
tsh() { tshark -n -o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE -r "$@" 2>/dev/null; }
# clean FILE: no frame tshark finds malformed, no TCP analysis flag, no bad checksum, no warning.
clean() {
	local bad
	bad=$(tsh "$1" -Y '_ws.malformed || tcp.analysis.flags || _ws.expert.severity >= warning ||
		tcp.checksum.status == 0 || ip.checksum.status == 0')
	[ -z "$bad" ] || fail "$1: tshark warns: $bad"
}

F=$("$WRITER" "$T" "$T/key" 0123456789abcdef0123456789abcdef modbus 2>"$T/modbus.err") ||
	fail "writer: $(cat "$T/modbus.err")"
[ "$F" = "$T/0123456789abcdef0123456789abcdef.0.pcapng" ] || fail "named $F"

# Write Multiple Registers (16) of 11, 22, 33, its response; Read Holding Registers (3), the
# response with the values.
got=$(tsh "$F" -Y modbus -T fields -e modbus.func_code -e modbus.regval_uint16 | tr '\t\n' ' |')
[ "$got" = "16 11,22,33|16 |3 |3 11,22,33|" ] || fail "tshark's modbus fields: $got"
[ "$(tsh "$F" -Y 'mbtcp && tcp.srcport == 502' | wc -l)" -eq 2 ] || fail "two responses from port 502"
[ "$(tsh "$F" -Y 'tcp.flags.syn == 1' | wc -l)" -eq 2 ] || fail "a handshake"
[ "$(tsh "$F" -Y 'tcp.flags.fin == 1' | wc -l)" -eq 2 ] || fail "a FIN each way"
tsh "$F" -Y 'ip.dst == 10.1.2.7 && tcp.dstport == 502 && tcp.srcport == 41234' | grep -q . ||
	fail "the destination's address and port, the originator's port"
clean "$F"
verdict "$F" | grep -q ': intact (' || fail "verify: $(verdict "$F")"

# One altered byte: the first register value of the read response (0x0b -> 0x0c).
cp "$F" "$T/altered.pcapng"
python3 - "$T/altered.pcapng" <<'PY'
import sys
p = sys.argv[1]
d = bytearray(open(p, 'rb').read())
i = d.index(bytes([0x01, 0x03, 0x06, 0x00, 0x0b]))
d[i + 4] = 0x0c
open(p, 'wb').write(d)
PY
verdict "$T/altered.pcapng" | grep -Eq ': tampered at record [0-9]+ \(record differs' ||
	fail "altered: $(verdict "$T/altered.pcapng")"
verdict "$T/altered.pcapng" >/dev/null && fail "altered: exit 0"

# Bulk: 2 MB each way in 16 KiB writes. tshark still finds nothing to warn about, and the file
# costs about 1.07 bytes per payload byte (1.12 in pcapng-v1, a digest per segment).
B=$("$WRITER" "$T" "$T/key" 11111111111111111111111111111111 bulk 2000000 2>"$T/bulk.err") ||
	fail "bulk writer: $(cat "$T/bulk.err")"
clean "$B"
verdict "$B" | grep -q ': intact (' || fail "bulk verify: $(verdict "$B")"
size=$(stat -c %s "$B")
echo "bulk: $size bytes of file for 4000000 payload bytes ($(python3 -c "print(round($size / 4000000, 3))") a byte)"
[ "$size" -le 4400000 ] || fail "bulk overhead: $size bytes"
echo "modbus: $(stat -c %s "$F") bytes of file for 58 payload bytes"

# One way only: the server's ACK each 32 KiB; the client's half-close, then the server's last
# bytes (and the FIN the seal writes for it).
U=$("$WRITER" "$T" "$T/key" 33333333333333333333333333333333 upload 1000000 2>"$T/upload.err") ||
	fail "upload writer: $(cat "$T/upload.err")"
clean "$U"
verdict "$U" | grep -q ': intact (' || fail "upload verify: $(verdict "$U")"
[ "$(tsh "$U" -Y 'tcp.srcport == 502 && tcp.len == 0 && tcp.flags.fin == 0' | wc -l)" -ge 30 ] ||
	fail "upload: the server's ACKs"
tsh "$U" -qz follow,tcp,ascii,0 | grep -q '^stored' || fail "upload: the bytes after the half-close"

# kill -9 after the exchange: the prefix up to the last checkpoint verifies, truncated.
C=$("$WRITER" "$T" "$T/key" 22222222222222222222222222222222 crash 2>/dev/null)
verdict "$C" | grep -q ': truncated (records 0-' || fail "crash: $(verdict "$C")"

[ $fails -eq 0 ] && echo "PASS" || exit 1
