#!/bin/bash
# The auditor's evidence export (issue 16) with stock ssh: `ssh auditor.ann@gw evidence export`
# of acme's period is a tar on standard output that GNU tar unpacks into a bundle the assessor's
# `gatewayctl evidence verify --key` passes, with the files of `gatewayctl evidence export -o DIR`
# of the same period; the listener signed its MANIFEST and audited that; beta is out of scope.
. "${GW_SRC:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$H_SRC/tests/lib/auditor.sh"
auditor_scenario || exit 1

KEY=$GW_RECORDINGS/../state/recording_key.pub

FROM=$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)
auditor_sessions
ends_logged() { (($(grep -c '"event":"session_end"' "$GW_AUDIT") >= 2)); }
h_wait_for 10 ends_logged || h_fail "not every session_end is logged"
# The period ends before the auditor logs in: the audit lines of the export itself are after it,
# so both exports hold the same slice.
TO=$(date -u -d '+1 second' +%Y-%m-%dT%H:%M:%SZ)
past_to() { (($(date -u +%s) > $(date -u -d "$TO" +%s))); }
h_wait_for 5 past_to || h_fail "the clock did not pass $TO"

test_export_streams_a_bundle_that_verifies() {
	local rc out top BUNDLE
	as_auditor evidence export --vendor acme --from "$FROM" --to "$TO" \
		</dev/null >"$H_DIR/acme.tar" 2>"$H_DIR/export.err"
	rc=$?
	h_assert_eq 0 "$rc" "export over ssh ($(cat "$H_DIR/export.err"))"
	mkdir "$H_DIR/assessor" && tar -xf "$H_DIR/acme.tar" -C "$H_DIR/assessor" || h_fail "tar -xf"
	top=$(ls "$H_DIR/assessor")
	BUNDLE=$H_DIR/assessor/$top
	[[ -f $BUNDLE/recordings/$(basename "$ACME") ]] || h_fail "acme's recording not in it: $(ls -R "$H_DIR/assessor")"
	[[ ! -e $BUNDLE/recordings/$(basename "$BETA") ]] || h_fail "beta's recording in acme's bundle"
	out=$(ctl evidence verify "$BUNDLE" --key "$KEY" 2>&1)
	rc=$?
	h_assert_eq 0 "$rc" "the assessor's verify ($out)"
	h_assert_contains "$out" "$BUNDLE: verified" "verdict"
	h_assert_contains "$out" "MANIFEST: signed by" "the MANIFEST's signature"
}

test_export_equals_the_owners() {
	local out BUNDLE
	BUNDLE=$H_DIR/assessor/$(ls "$H_DIR/assessor" 2>/dev/null)
	[[ -f $BUNDLE/MANIFEST ]] || h_fail "no bundle exported over ssh"
	out=$(ctl evidence export --vendor acme --from "$FROM" --to "$TO" -o "$H_DIR/owner" 2>&1) ||
		h_fail "gatewayctl evidence export: $out"
	out=$(diff -r -x bundle.json -x MANIFEST -x MANIFEST.sig "$H_DIR/owner" "$BUNDLE" 2>&1) ||
		h_fail "the streamed bundle's files differ from the owner's: $out"
	diff <(grep -v '"created"' "$H_DIR/owner/bundle.json") <(grep -v '"created"' "$BUNDLE/bundle.json") >/dev/null ||
		h_fail "bundle.json differs beyond its creation time"
	h_assert_eq "$(cut -c67- "$H_DIR/owner/MANIFEST")" "$(cut -c67- "$BUNDLE/MANIFEST")" "the same files listed"
}

test_export_out_of_scope_and_audited() {
	local out
	out=$(as_auditor evidence export --vendor beta --from "$FROM" --to "$TO" </dev/null 2>&1 >"$H_DIR/beta.tar") &&
		h_fail "beta's bundle exported"
	h_assert_contains "$out" "no vendor beta in your scope" "beta refused"
	[[ ! -s $H_DIR/beta.tar ]] || h_fail "bytes of beta's bundle on stdout"
	out=$(as_auditor evidence export --vendor acme --from "$FROM" --to "$TO" -o /tmp/x </dev/null 2>&1 >/dev/null) &&
		h_fail "-o accepted over the console"
	h_assert_contains "$out" "streams the bundle as a tar" "-o refused"
	# A terminal would turn the tar's line ends into CR LF.
	out=$(timeout -k 5 "$H_TIMEOUT" ssh -tt "${H_SSH_OPTS[@]}" -i "$AUDITOR_KEY" -p "$GW_PORT" \
		auditor.ann@127.0.0.1 evidence export --vendor acme --from "$FROM" --to "$TO" </dev/null 2>&1) &&
		h_fail "an export over ssh -t"
	h_assert_contains "$out" "evidence writes a file: without -t" "ssh -t refused"
	grep -q '"event":"bundle_signed".*"principal":"auditor.ann"' "$GW_AUDIT" ||
		h_fail "no bundle_signed event"
	grep -q '"event":"console_command".*"principal":"auditor.ann".*"command":"evidence export --vendor acme.*"status":0' \
		"$GW_AUDIT" || h_fail "no console_command event for the export"
	grep -q '"event":"console_command".*"command":"evidence export --vendor beta.*"status":2' \
		"$GW_AUDIT" || h_fail "no console_command event for the refused export"
}

h_run test_export_streams_a_bundle_that_verifies test_export_equals_the_owners \
	test_export_out_of_scope_and_audited
