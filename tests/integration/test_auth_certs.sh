#!/bin/bash
# OpenSSH user certificates made by the real ssh-keygen -s: admitted when signed by the vendor's
# CA for the person, now valid, from an allowed address and not revoked; every other case is
# refused with the precise reason in the audit log. Also: the legal banner before authentication.
. "${GW_SRC:-$(dirname "$0")/../..}/tests/lib/harness.sh"
sshd_start plc-07 || exit 1
K=$H_DIR/keys
h_keygen "$K/acme-ca" && h_keygen "$K/other-ca" && h_keygen "$K/cert-user" || exit 1
REVOKED=$H_DIR/revoked_certs
printf '# revoked by the owner\nserial 666\nkey-id lost-laptop\n' >"$REVOKED"
printf 'AUTHORISED USE ONLY. Sessions are recorded as evidence.\n' >"$H_DIR/banner.txt"
gw_vendor_add acme "$H_ALWAYS cert_authorities = [ \"$(cat "$K/acme-ca.pub")\" ];
    revoked_certs = \"$REVOKED\";"
gw_person_add acme acme.alice "$VENDOR_KEY.pub"
gw_target_add plc-07 "${H_PORT[plc-07]}" "${H_FP[plc-07]}"
gw_grant_add acme "plc-07" "shell exec"
gw_config_extra "banner_file = \"$H_DIR/banner.txt\";"
# Every refused certificate here is a failed attempt from 127.0.0.1: no lockout, no delays.
gw_config_extra "lockout = { failures = 0; person_failures = 0; delay_ms = 0; };"
gw_start || exit 1

# cert NAME CA ARGS...: a certificate for the key cert-user, as $K/NAME-cert.pub.
cert() {
	local name=$1 ca=$2
	shift 2
	cp "$K/cert-user" "$K/$name" && cp "$K/cert-user.pub" "$K/$name.pub" &&
		ssh-keygen -q -s "$K/$ca" "$@" "$K/$name.pub" ||
		h_fail "ssh-keygen -s for $name failed"
}

# cert_ssh NAME [SSH-ARGS...]: ssh as acme.alice+plc-07 with only that certificate.
cert_ssh() {
	local name=$1
	shift
	timeout -k 5 "$H_TIMEOUT" ssh "${H_SSH_OPTS[@]}" -i "$K/$name" \
		-o CertificateFile="$K/$name-cert.pub" -p "$GW_PORT" "$@" "$GW_DEST" 'echo reached-$((1+1))'
}

# refused NAME REASON: the certificate is refused and the audit log says why.
refused() {
	local out
	out=$(cert_ssh "$1" 2>&1)
	[[ $? == 255 ]] || h_fail "ssh with certificate $1 was not refused: $out"
	h_assert_not_contains "$out" "reached-2" "output"
	h_assert_contains "$out" "Permission denied" "message"
	h_assert_contains "$(grep auth_failure "$GW_AUDIT")" "$2" "audit reason for $1"
}

test_good_certificate_admitted() {
	local out
	cert good acme-ca -I alice-laptop -n acme.alice -z 7 -V -5m:+1h
	out=$(cert_ssh good 2>&1)
	h_assert_eq 0 $? "ssh exit status ($out)"
	h_assert_contains "$out" "reached-2" "output"
	out=$(grep '"auth_success"' "$GW_AUDIT" | tail -n 1)
	h_assert_contains "$out" '"cert_serial":"7"' "audit serial"
	h_assert_contains "$out" '"cert_key_id":"alice-laptop"' "audit key id"
	h_assert_contains "$out" "\"key_fp\":\"$(h_fingerprint "$K/cert-user.pub")\"" "audit key"
}

test_expired_certificate_refused() {
	cert expired acme-ca -I old -n acme.alice -V -2d:-1d
	refused expired "certificate expired"
}

test_not_yet_valid_certificate_refused() {
	cert future acme-ca -I future -n acme.alice -V +1d:+2d
	refused future "certificate not yet valid"
}

test_wrong_principal_refused() {
	cert bob acme-ca -I bob -n acme.bob -V -5m:+1h
	refused bob "principals do not name acme.alice"
}

test_untrusted_ca_refused() {
	cert other other-ca -I other -n acme.alice -V -5m:+1h
	refused other "does not trust ($(h_fingerprint "$K/other-ca.pub"))"
}

test_revoked_serial_refused() {
	cert revoked acme-ca -I fine -n acme.alice -z 666 -V -5m:+1h
	refused revoked "certificate revoked by $REVOKED line 2: serial 666"
}

test_revoked_key_id_refused() {
	cert lost acme-ca -I lost-laptop -n acme.alice -z 8 -V -5m:+1h
	refused lost "line 3: key-id lost-laptop"
}

test_source_address_mismatch_refused() {
	cert elsewhere acme-ca -I elsewhere -n acme.alice -V -5m:+1h -O source-address=10.9.9.0/24
	refused elsewhere "source-address does not allow 127.0.0.1"
}

test_force_command_refused() {
	cert forced acme-ca -I forced -n acme.alice -V -5m:+1h -O force-command=/bin/true
	refused forced "force-command"
}

test_certificate_signed_for_by_another_key_refused() {
	local out before
	cert stolen acme-ca -I stolen -n acme.alice -V -5m:+1h
	h_keygen "$K/thief" || h_fail "keygen"
	before=$(grep -c '"auth_success"' "$GW_AUDIT")
	out=$(timeout -k 5 20 "$H_BUILD/tests/cert_wrong_signer" "$GW_PORT" "$GW_DEST" "$K/thief" \
		"$K/stolen-cert.pub" 2>&1)
	h_assert_eq 0 $? "cert_wrong_signer exit status ($out)"
	h_assert_eq "$before" "$(grep -c '"auth_success"' "$GW_AUDIT")" "no new auth_success"
}

test_banner_shown_before_authentication() {
	local out
	# The banner comes before any method: a person without a valid key still sees it.
	# ssh prints the banner at LogLevel INFO; the first LogLevel given wins.
	out=$(timeout -k 5 "$H_TIMEOUT" ssh -o LogLevel=INFO "${H_SSH_OPTS[@]}" -i "$K/other-ca" \
		-p "$GW_PORT" "$GW_DEST" true 2>&1)
	h_assert_contains "$out" "AUTHORISED USE ONLY. Sessions are recorded as evidence." "banner"
	h_assert_contains "$out" "Permission denied" "refused after the banner"
}

h_run test_good_certificate_admitted test_expired_certificate_refused \
	test_not_yet_valid_certificate_refused test_wrong_principal_refused test_untrusted_ca_refused \
	test_revoked_serial_refused test_revoked_key_id_refused test_source_address_mismatch_refused \
	test_force_command_refused test_certificate_signed_for_by_another_key_refused \
	test_banner_shown_before_authentication
