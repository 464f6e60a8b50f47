#!/bin/bash
# make-cert-fixtures.sh: regenerates data/certs/ (OpenSSH user certificates made by the stock
# ssh-keygen -s) for test_sshcert.c. The fixtures are committed; rerun only to change them.
set -eu
cd "$(dirname "$0")/certs"
rm -f ./*
for t in ed25519 ecdsa rsa; do
	ssh-keygen -q -t "$t" -N '' -C "ca-$t" -f "ca-$t"
done
ssh-keygen -q -t ed25519 -N '' -C other-ca -f other-ca
ssh-keygen -q -t ed25519 -N '' -C alice -f alice
ssh-keygen -q -t ecdsa -N '' -C alice-ecdsa -f alice-ecdsa
ssh-keygen -q -t rsa -b 3072 -N '' -C alice-rsa -f alice-rsa

# sign NAME CA KEY ARGS...: NAME-cert.pub is KEY's certificate signed by CA.
sign() {
	local name=$1 ca=$2 key=$3
	shift 3
	cp "$key.pub" "$name.pub"
	ssh-keygen -q -s "$ca" "$@" "$name.pub"
	rm "$name.pub"
}
V="-V 20270101:20280101"
sign good-ed25519 ca-ed25519 alice -I alice-key -n acme.alice,acme.bob -z 42 $V
sign good-ecdsa ca-ecdsa alice-ecdsa -I alice-ecdsa -n acme.alice -z 43 $V
sign good-rsa ca-rsa alice-rsa -I alice-rsa -n acme.alice -z 44 $V
sign source ca-ed25519 alice -I src -n acme.alice -z 45 $V -O source-address=10.1.0.0/16,::1
sign force ca-ed25519 alice -I force -n acme.alice -z 46 $V -O force-command=/bin/true
sign noprincipal ca-ed25519 alice -I nop -z 47 $V
sign unknowncrit ca-ed25519 alice -I unk -n acme.alice -z 49 $V -O critical:verify-later@example.com
sign host ca-ed25519 alice -h -I host -n acme.alice -z 48 $V
# Only public halves are kept: the tests never sign.
rm -f ca-ed25519 ca-ecdsa ca-rsa other-ca alice alice-ecdsa alice-rsa
ls
