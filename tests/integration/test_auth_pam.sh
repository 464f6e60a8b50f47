#!/bin/bash
# keyboard-interactive through PAM (service "gatewayd") with the real pam_oath module under
# pam_wrapper, codes from oathtool --totp, answered by ssh through SSH_ASKPASS: key then TOTP
# admits; a wrong code, a skipped second factor, the wrong order, or a failing PAM account
# check refuse. Each person logs in once: pam_oath refuses a code used twice (replay).
. "${GW_SRC:-$(dirname "$0")/../..}/tests/lib/harness.sh"
PAM_WRAPPER_LIB=/usr/lib/x86_64-linux-gnu/libpam_wrapper.so
PAM_MODULES=/usr/lib/x86_64-linux-gnu/security
[[ -e $PAM_WRAPPER_LIB && -e $PAM_MODULES/pam_oath.so ]] || h_skip "needs libpam-wrapper and libpam-oath"
command -v oathtool >/dev/null || h_skip "needs oathtool"
sshd_start plc-07 || exit 1

# The PAM world: a service directory for pam_wrapper, pam_oath's users file, and an account
# check that fails for acme.frank only (pam_acct_mgmt must be honoured).
P=$H_DIR/pam
mkdir -p "$P/services"
cat >"$P/services/gatewayd" <<-EOF2
	auth     required $PAM_MODULES/pam_oath.so usersfile=$P/users.oath window=2 digits=6
	account  required $PAM_MODULES/pam_listfile.so item=user sense=deny file=$P/denied onerr=fail
EOF2
echo acme.frank >"$P/denied"
: >"$P/users.oath"
declare -A SECRET=()
PERSONS=(acme.alice acme.bob acme.carol acme.dave acme.erin acme.frank acme.gina approver.lead)
for p in "${PERSONS[@]}"; do
	SECRET[$p]=$(openssl rand -hex 20)
	echo "HOTP/T30/6 $p - ${SECRET[$p]}" >>"$P/users.oath"
done
chmod 0600 "$P/users.oath"

# gatewayd under pam_wrapper (after the ASan runtime when the build is sanitized by gcc; clang
# links its runtime in). pam_wrapper loads libpam with RTLD_DEEPBIND, which clang's ASan refuses;
# Debian 12's pam_wrapper (1.1.4) reads the switch that turns it off under uid_wrapper's name.
GW_REAL=$H_GATEWAYD
H_GATEWAYD=$H_DIR/gatewayd-pam
asan=$(ldd "$GW_REAL" | awk '/libasan/ { print $3 }')
cat >"$H_GATEWAYD" <<-EOF2
	#!/bin/sh
	export PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR=$P/services PAM_WRAPPER_DISABLE_DEEPBIND=1 UID_WRAPPER_DISABLE_DEEPBIND=1
	export LD_PRELOAD=${asan:+$asan:}$PAM_WRAPPER_LIB
	exec "$GW_REAL" "\$@"
EOF2
chmod +x "$H_GATEWAYD"

# Key then second factor for the vendor; erin's own setting overrides it (key only).
gw_vendor_add acme "$H_ALWAYS auth_methods = \"publickey,keyboard-interactive\";"
for p in "${PERSONS[@]:1}"; do h_keygen "$H_DIR/keys/$p" || exit 1; done
for p in acme.bob acme.carol acme.dave acme.frank; do gw_person_add acme "$p" "$H_DIR/keys/$p.pub"; done
gw_person_add acme acme.alice "$VENDOR_KEY.pub"
H_CFG_PERSONS[acme]+=", { id = \"acme.erin\"; keys = [ \"$(cat "$H_DIR/keys/acme.erin.pub")\" ];
        auth_methods = \"publickey\"; },
      { id = \"acme.gina\"; auth_methods = \"keyboard-interactive\"; }"
gw_target_add plc-07 "${H_PORT[plc-07]}" "${H_FP[plc-07]}"
gw_grant_add acme "plc-07" "shell exec"
# An approver whose console login needs its key and a TOTP code (auth_methods applies).
h_keygen "$H_DIR/keys/lead" || exit 1
H_CFG_APPROVERS+=("{ name = \"lead\"; key = \"$(cat "$H_DIR/keys/lead.pub")\"; vendors = [ \"acme\" ];
    targets = [ \"plc-07\" ]; auth_methods = \"publickey,keyboard-interactive\"; }")
gw_start || exit 1

# The askpass program: logs each prompt, answers with the code in $P/answer.
cat >"$P/askpass" <<-EOF2
	#!/bin/sh
	printf '%s\n' "\$1" >>"$P/prompts"
	cat "$P/answer"
EOF2
chmod +x "$P/askpass"

# H_SSH_OPTS without BatchMode (which turns keyboard-interactive off).
SSH_OPTS=()
for ((i = 0; i < ${#H_SSH_OPTS[@]}; i++)); do
	if [[ ${H_SSH_OPTS[i]} == -o && ${H_SSH_OPTS[i + 1]} == BatchMode=yes ]]; then
		((i++))
		continue
	fi
	SSH_OPTS+=("${H_SSH_OPTS[i]}")
done

# kbd_ssh PERSON KEY ANSWER [SSH-ARGS...]: ssh as PERSON+plc-07, prompts answered with ANSWER.
kbd_ssh() {
	local person=$1 key=$2
	printf '%s\n' "$3" >"$P/answer"
	printf '%s\n' "$3" >>"$P/answers-used"
	: >"$P/prompts"
	shift 3
	SSH_ASKPASS=$P/askpass SSH_ASKPASS_REQUIRE=force DISPLAY=none \
		timeout -k 5 "$H_TIMEOUT" setsid ssh "${SSH_OPTS[@]}" -i "$key" -p "$GW_PORT" "$@" \
		"$person+plc-07@127.0.0.1" 'echo reached-$((1+1))' </dev/null
}

totp() { oathtool --totp "${SECRET[$1]}"; }
# console_ssh ANSWER [SSH-ARGS...]: the approver "lead" runs `requests` at the console.
console_ssh() {
	printf '%s\n' "$1" >"$P/answer"
	: >"$P/prompts"
	shift
	SSH_ASKPASS=$P/askpass SSH_ASKPASS_REQUIRE=force DISPLAY=none \
		timeout -k 5 "$H_TIMEOUT" setsid ssh "${SSH_OPTS[@]}" -i "$H_DIR/keys/lead" -p "$GW_PORT" \
		"$@" approver.lead@127.0.0.1 requests </dev/null
}
wrong_totp() { printf '%06d' $(((10#$(totp "$1") + 1) % 1000000)); }
last_audit() { grep "\"$1\"" "$GW_AUDIT" | grep "\"$2[\"+]" | tail -n 1; }

test_approver_console_needs_totp() {
	local out
	out=$(console_ssh "$(totp approver.lead)" -o PreferredAuthentications=publickey 2>&1)
	h_assert_eq 255 $? "the key alone ($out)"
	out=$(console_ssh "$(totp approver.lead)" 2>&1)
	h_assert_eq 0 $? "key and code ($out)"
	h_assert_contains "$out" "no requests" "the console answered"
	h_assert_contains "$(cat "$P/prompts")" "approver.lead" "PAM asked for the approver's code"
	h_assert_contains "$(last_audit auth_success approver.lead)" \
		'"method":"publickey,keyboard-interactive"' "audit method chain"
}

test_key_then_totp_admitted() {
	local out
	out=$(kbd_ssh acme.alice "$VENDOR_KEY" "$(totp acme.alice)" 2>&1)
	h_assert_eq 0 $? "ssh exit status ($out)"
	h_assert_contains "$out" "reached-2" "output"
	h_assert_contains "$(cat "$P/prompts")" "One-time password (OATH) for \`acme.alice'" "PAM prompt relayed"
	h_assert_contains "$(last_audit auth_partial acme.alice)" '"method":"publickey"' "partial success"
	h_assert_contains "$(last_audit auth_success acme.alice)" \
		'"method":"publickey,keyboard-interactive"' "audit method chain"
}

test_wrong_totp_refused() {
	local out
	out=$(kbd_ssh acme.bob "$H_DIR/keys/acme.bob" "$(wrong_totp acme.bob)" \
		-o NumberOfPasswordPrompts=1 2>&1)
	h_assert_eq 255 $? "ssh exit status"
	h_assert_not_contains "$out" "reached-2" "output"
	h_assert_contains "$(last_audit auth_failure acme.bob)" "pam_authenticate" "audit reason"
	h_assert_eq "" "$(last_audit auth_success acme.bob)" "no auth_success"
}

test_key_alone_cannot_skip_second_factor() {
	local out
	out=$(kbd_ssh acme.carol "$H_DIR/keys/acme.carol" "$(totp acme.carol)" \
		-o PreferredAuthentications=publickey 2>&1)
	h_assert_eq 255 $? "ssh exit status"
	h_assert_not_contains "$out" "reached-2" "output"
	h_assert_contains "$(last_audit auth_partial acme.carol)" '"method":"publickey"' "key accepted"
	h_assert_eq "" "$(last_audit auth_success acme.carol)" "no auth_success"
}

test_totp_before_key_refused() {
	local out
	out=$(kbd_ssh acme.dave "$H_DIR/keys/acme.dave" "$(totp acme.dave)" \
		-o PreferredAuthentications=keyboard-interactive 2>&1)
	h_assert_eq 255 $? "ssh exit status"
	h_assert_not_contains "$out" "reached-2" "output"
	h_assert_eq "" "$(cat "$P/prompts")" "PAM never prompted"
	h_assert_contains "$(last_audit auth_failure acme.dave)" "not allowed at this step" "audit"
}

test_person_setting_overrides_vendor() {
	local out
	out=$(kbd_ssh acme.erin "$H_DIR/keys/acme.erin" "not-asked" 2>&1)
	h_assert_eq 0 $? "ssh exit status ($out)"
	h_assert_eq "" "$(cat "$P/prompts")" "no second factor asked"
	h_assert_contains "$(last_audit auth_success acme.erin)" '"method":"publickey"' "audit"
}

test_pam_alone_when_configured() {
	local out
	out=$(kbd_ssh acme.gina "$H_DIR/keys/acme.gina" "$(totp acme.gina)" 2>&1)
	h_assert_eq 0 $? "ssh exit status ($out)"
	h_assert_contains "$(last_audit auth_success acme.gina)" '"method":"keyboard-interactive"' "audit"
}

test_pam_account_check_honoured() {
	local out
	out=$(kbd_ssh acme.frank "$H_DIR/keys/acme.frank" "$(totp acme.frank)" \
		-o NumberOfPasswordPrompts=1 2>&1)
	h_assert_eq 255 $? "ssh exit status"
	h_assert_not_contains "$out" "reached-2" "output"
	h_assert_contains "$(last_audit auth_failure acme.frank)" "pam_acct_mgmt" "audit reason"
}

test_answers_never_logged() {
	local code
	while read -r code; do
		[[ $code =~ ^[0-9]{6}$ ]] || continue
		! grep -q -- "\"$code\"\|[^0-9a-f]$code[^0-9a-f]" "$GW_AUDIT" "$H_DIR/gatewayd.log" ||
			h_fail "the answer $code was logged"
	done <"$P/answers-used"
}

h_run test_key_then_totp_admitted test_approver_console_needs_totp test_wrong_totp_refused \
	test_key_alone_cannot_skip_second_factor \
	test_totp_before_key_refused test_person_setting_overrides_vendor test_pam_alone_when_configured \
	test_pam_account_check_honoured \
	test_answers_never_logged
