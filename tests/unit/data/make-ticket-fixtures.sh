#!/bin/sh
# make-ticket-fixtures.sh: regenerates tests/unit/data/tickets/ with the stock ssh-keygen:
# approver keys (public halves only are kept), tickets and their SSHSIG signatures, and the
# broken variants the unit tests refuse. Run from anywhere; rewrites the directory.
set -eu
out=$(cd "$(dirname "$0")" && pwd)/tickets
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rm -f "$out"/*
mkdir -p "$out"

key() { # NAME TYPE [BITS]
	ssh-keygen -q -t "$2" ${3:+-b "$3"} -N '' -C "$1" -f "$tmp/$1"
	cp "$tmp/$1.pub" "$out/$1.pub"
}
ticket() { # ID APPROVER|- [TARGETS] [WHO]; APPROVER "-": the ticket names none
	who=${4:-'vendor = "acme";'}
	approver="approver = \"$2\";"
	[ "$2" = - ] && approver="# any approver in scope may sign"
	cat > "$out/$1.ticket" <<EOT
# Approval for gatewayd, signed with ssh-keygen -Y sign -n gatewayd-ticket
id = "$1";
$who
targets = [ "${3:-plc-07}" ];
not_before = "2027-03-01T06:00:00Z";
not_after = "2027-03-01T18:00:00Z";
$approver
reason = "WO-4711 firmware update on the filling line";
EOT
}
sign() { # ID KEY [NAMESPACE] [extra ssh-keygen options]
	ssh-keygen -q -Y sign -n "${3:-gatewayd-ticket}" -f "$tmp/$2" ${4:-} "$out/$1.ticket"
}

key lead-ed25519 ed25519
key lead-ecdsa256 ecdsa 256
key lead-ecdsa384 ecdsa 384
key lead-ecdsa521 ecdsa 521
key lead-rsa rsa 3072
key area-b ed25519
key outsider ed25519

for k in ed25519 ecdsa256 ecdsa384 ecdsa521 rsa; do
	ticket "t-$k" "lead-$k"
	sign "t-$k" "lead-$k"
done
ticket t-rsa-sha256 lead-rsa
sign t-rsa-sha256 lead-rsa gatewayd-ticket "-O hashalg=sha256"
ticket t-person lead-ed25519 plc-07 'person = "acme.alice";'
sign t-person lead-ed25519

# One byte changed after signing: 4711 -> 4712.
ticket t-altered lead-ed25519
sign t-altered lead-ed25519
sed -i 's/WO-4711/WO-4712/' "$out/t-altered.ticket"

ticket t-outsider lead-ed25519
sign t-outsider outsider
ticket t-wrong-namespace lead-ed25519
sign t-wrong-namespace lead-ed25519 file
ticket t-wrong-signer lead-ed25519
sign t-wrong-signer area-b
ticket t-out-of-scope area-b plc-07
sign t-out-of-scope area-b
ticket t-unsigned lead-ed25519
# Dual control: several approvers' signatures concatenated in one .sig, in the order given.
cosign() { # ID KEY...
	id=$1
	shift
	: > "$tmp/cosigned"
	for k in "$@"; do
		sign "$id" "$k"
		cat "$out/$id.ticket.sig" >> "$tmp/cosigned"
		rm "$out/$id.ticket.sig"
	done
	mv "$tmp/cosigned" "$out/$id.ticket.sig"
}
key dual-a ed25519
key dual-b ecdsa 256
key dual-c ed25519
key dual-out ed25519
key dual-stranger ed25519
both='plc-07", "rtu-09'
for t in t-dual t-dual-one t-dual-three t-dual-same t-dual-out t-dual-altered \
    t-dual-stranger t-dual-unsigned; do
	ticket "$t" - "$both"
done
ticket t-dual-legacy dual-b "$both"
ticket t-dual-legacy-missing dual-b "$both"
cosign t-dual dual-a dual-b
cosign t-dual-one dual-a
cosign t-dual-three dual-a dual-b dual-c
cosign t-dual-same dual-a dual-a
cosign t-dual-out dual-a dual-out
cosign t-dual-stranger dual-a dual-stranger
cosign t-dual-legacy dual-a dual-b
cosign t-dual-legacy-missing dual-a
# The second block is dual-b's valid signature of another ticket (t-dual).
cosign t-dual-altered dual-a
awk '/BEGIN/{n++} n==2' "$out/t-dual.ticket.sig" >> "$out/t-dual-altered.ticket.sig"
for k in lead-ed25519 lead-ecdsa256 lead-ecdsa384 lead-ecdsa521 lead-rsa area-b outsider \
    dual-a dual-b dual-c dual-out dual-stranger; do
	ssh-keygen -lf "$out/$k.pub" | cut -d" " -f2 > "$out/$k.fp"
done
