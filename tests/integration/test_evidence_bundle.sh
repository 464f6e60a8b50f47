#!/bin/bash
# The evidence bundle (issue 15): `gatewayctl evidence export` of vendor acme's period holds its
# recordings, the audit log's lines of the period with the other vendor's as their SHA-256 only,
# the public key and a signed MANIFEST; `evidence verify` passes on it and names the file when
# one byte of a recording changed, even with the MANIFEST's sums rewritten; headless Chromium
# renders the report and a session page from file:// with the player mounted and playing.
. "${GW_SRC:-$(dirname "$0")/../..}/tests/lib/harness.sh"
sshd_start plc-07 || exit 1
GW_ALLOW="shell exec upload" gw_policy_default
gw_config_extra 'display_tz = "Europe/Berlin";'
h_keygen "$H_DIR/keys/globex" || exit 1
gw_vendor_add globex
gw_person_add globex globex.bob "$H_DIR/keys/globex.pub"
gw_grant_add globex "plc-07" "shell exec"
gw_start || exit 1

# Two sessions of acme (one prints markup: the pages must show it as text), one of globex.
gw_ssh "$GW_DEST" "echo '<i>bundle-one</i>'" </dev/null >/dev/null || { echo "session 1 failed"; exit 1; }
gw_ssh "$GW_DEST" 'echo bundle-two' </dev/null >/dev/null || { echo "session 2 failed"; exit 1; }
gw_ssh -i "$H_DIR/keys/globex" globex.bob+plc-07@127.0.0.1 'echo globex-secret' </dev/null >/dev/null ||
	{ echo "globex session failed"; exit 1; }
# A file upload (its SHA-256 goes to the report) and an owner's action.
head -c 3000 /dev/urandom >"$H_DIR/upload.bin"
UPLOAD_SHA=$(sha256sum "$H_DIR/upload.bin" | cut -c1-64)
timeout -k 5 "$H_TIMEOUT" scp "${H_SSH_OPTS[@]}" -i "$VENDOR_KEY" -P "$GW_PORT" "$H_DIR/upload.bin" \
	"$GW_DEST:$H_DIR/upload.up" </dev/null || { echo "scp failed"; exit 1; }
ctl vendor disable acme >/dev/null && ctl vendor enable acme >/dev/null || { echo "vendor disable failed"; exit 1; }
# Every session's end is in the audit log before the export reads it.
ends_logged() { (($(grep -c '"event":"session_end"' "$GW_AUDIT") >= 4)); }
h_wait_for 10 ends_logged || { echo "not every session_end is logged"; exit 1; }

BUNDLE=$H_DIR/bundle
FROM=$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)
TO=$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)
EXPORT_OUT=$(ctl evidence export --vendor acme --from "$FROM" --to "$TO" -o "$BUNDLE" --zip 2>&1)
EXPORT_RC=$?

# recording_of TEXT: the bundle's recording whose session printed TEXT.
recording_of() { grep -l -- "$1" "$BUNDLE"/recordings/*.cast | head -n 1; }

test_export_holds_the_vendors_recordings_and_verifies() {
	local out rc
	h_assert_eq 0 "$EXPORT_RC" "export ($EXPORT_OUT)"
	h_assert_contains "$EXPORT_OUT" "3 recording(s)" "export summary (two exec sessions, one upload)"
	[[ -n $(recording_of bundle-one) && -n $(recording_of bundle-two) ]] || h_fail "acme's recordings missing: $(ls "$BUNDLE/recordings")"
	[[ -z $(recording_of globex-secret) ]] || h_fail "globex's recording is in acme's bundle"
	cmp -s "$BUNDLE/recording_key.pub" "$GW_RECORDINGS/../state/recording_key.pub" || h_fail "public key differs"
	out=$(ctl evidence verify "$BUNDLE" --key "$GW_RECORDINGS/../state/recording_key.pub" 2>&1)
	rc=$?
	h_assert_eq 0 "$rc" "verify ($out)"
	h_assert_contains "$out" "$BUNDLE: verified" "verdict"
	h_assert_contains "$out" "$(recording_of bundle-one): intact" "recording verdict"
	# The MANIFEST is what sha256sum checks, by hand too.
	(cd "$BUNDLE" && sha256sum --quiet -c MANIFEST) || h_fail "sha256sum -c MANIFEST"
}

# --zip: the same folder as one archive, which verifies once unpacked anywhere.
test_zip_unpacks_to_a_bundle_that_verifies() {
	local out
	h_assert_contains "$EXPORT_OUT" "$BUNDLE.zip: the bundle as one archive" "export --zip"
	mkdir "$H_DIR/unzipped" && unzip -q "$BUNDLE.zip" -d "$H_DIR/unzipped" || h_fail "unzip"
	out=$(ctl evidence verify "$H_DIR/unzipped/bundle" 2>&1) || h_fail "verify of the unpacked archive: $out"
	h_assert_contains "$out" "$H_DIR/unzipped/bundle: verified" "verdict"
}

# -o -: the same bundle as a tar archive on stdout (what an auditor's ssh gets), which GNU tar
# unpacks into one folder that verifies; only bundle.json's "created" and so the MANIFEST and
# its signature differ from the folder's.
test_tar_stream_unpacks_to_the_same_bundle() {
	local out rc top
	ctl evidence export --vendor acme --from "$FROM" --to "$TO" -o - >"$H_DIR/bundle.tar" 2>"$H_DIR/tar.err"
	rc=$?
	h_assert_eq 0 "$rc" "export -o - ($(cat "$H_DIR/tar.err"))"
	h_assert_contains "$(cat "$H_DIR/tar.err")" "3 recording(s)" "summary on stderr, not in the archive"
	mkdir "$H_DIR/untarred" && tar -xf "$H_DIR/bundle.tar" -C "$H_DIR/untarred" || h_fail "tar -xf"
	top=$(ls "$H_DIR/untarred")
	[[ $top == acme-*Z-*Z ]] || h_fail "one folder named after vendor and period, got: $top"
	out=$(ctl evidence verify "$H_DIR/untarred/$top" --key "$GW_RECORDINGS/../state/recording_key.pub" 2>&1)
	rc=$?
	h_assert_eq 0 "$rc" "verify of the unpacked archive ($out)"
	h_assert_contains "$out" "$H_DIR/untarred/$top: verified" "verdict"
	out=$(diff -r -x bundle.json -x MANIFEST -x MANIFEST.sig "$BUNDLE" "$H_DIR/untarred/$top" 2>&1) ||
		h_fail "the archive's files differ from the folder's: $out"
	diff <(grep -v '"created"' "$BUNDLE/bundle.json") <(grep -v '"created"' "$H_DIR/untarred/$top/bundle.json") >/dev/null ||
		h_fail "bundle.json differs beyond its creation time"
	h_assert_eq "$(cut -c67- "$BUNDLE/MANIFEST")" "$(cut -c67- "$H_DIR/untarred/$top/MANIFEST")" "the MANIFEST lists the same files"
	# --zip writes beside a folder; a stream has none.
	ctl evidence export --vendor acme --from "$FROM" --to "$TO" -o - --zip >/dev/null 2>&1
	h_assert_eq 2 "$?" "-o - with --zip is a usage error"
}

# The slice: acme's lines exactly as in the log; globex's only as the SHA-256 of the line.
test_other_vendors_audit_lines_are_hashes_only() {
	local line n_globex n_redacted
	grep -q globex "$BUNDLE/audit.log" && h_fail "a globex line is disclosed: $(grep globex "$BUNDLE/audit.log" | head -n 1)"
	n_globex=$(grep -c '"globex' "$GW_AUDIT")
	((n_globex >= 5)) || h_fail "the log has only $n_globex globex lines"
	n_redacted=0
	while IFS= read -r line; do
		if [[ $line == '{"redacted":"'* ]]; then
			n_redacted=$((n_redacted + 1))
			continue
		fi
		grep -qxF -- "$line" "$GW_AUDIT" || h_fail "a disclosed line is not the log's: ${line:0:200}"
	done <"$BUNDLE/audit.log"
	# globex's recording_sealed names only its session: redacted without the word "globex".
	((n_redacted >= n_globex)) || h_fail "$n_redacted redacted lines for $n_globex of globex"
	grep '"globex' "$GW_AUDIT" | while IFS= read -r line; do
		grep -qxF "{\"redacted\":\"$(printf '%s' "$line" | sha256sum | cut -c1-64)\"}" "$BUNDLE/audit.log" ||
			h_fail "no hash of: ${line:0:120}"
	done || exit 1
	grep -q '"event":"session_start","person":"acme.alice"' "$BUNDLE/audit.log" || h_fail "acme's session_start not disclosed"
}

# One byte of one recording, and the MANIFEST's sums made to match: the signature fails, and
# the recording's own chain names it.
test_altered_recording_fails_even_with_rewritten_sums() {
	local copy=$H_DIR/altered f out rc
	cp -a "$BUNDLE" "$copy"
	f=$(grep -l bundle-two "$copy"/recordings/*.cast)
	sed -i 's/bundle-two/bundle-twp/' "$f"
	(cd "$copy" && sha256sum $(awk '{ print $2 }' MANIFEST) >MANIFEST) || h_fail "rewrite sums"
	out=$(ctl evidence verify "$copy" 2>&1)
	rc=$?
	h_assert_eq 1 "$rc" "verify of the altered bundle ($out)"
	h_assert_match "$out" "$f: tampered at record [0-9]+" "the recording is named"
	h_assert_contains "$out" "$copy/MANIFEST: bad signature" "the rewritten MANIFEST"
	h_assert_contains "$out" "$copy: NOT verified" "verdict"
	# Without the rewrite, the sum names it too.
	rm -rf "$copy" && cp -a "$BUNDLE" "$copy"
	f=$(grep -l bundle-two "$copy"/recordings/*.cast)
	sed -i 's/bundle-two/bundle-twp/' "$f"
	out=$(ctl evidence verify "$copy" 2>&1)
	h_assert_contains "$out" "$f: altered: its SHA-256 is not the MANIFEST's" "sum mismatch"
}

# A disclosed audit line changed (sums rewritten): its signature no longer verifies.
test_altered_audit_line_fails() {
	local copy=$H_DIR/altered-audit out rc
	cp -a "$BUNDLE" "$copy"
	sed -i '0,/"person":"acme.alice"/s//"person":"acme.alicf"/' "$copy/audit.log"
	(cd "$copy" && sha256sum $(awk '{ print $2 }' MANIFEST) >MANIFEST) || h_fail "rewrite sums"
	out=$(ctl evidence verify "$copy" 2>&1)
	rc=$?
	h_assert_eq 1 "$rc" "verify ($out)"
	h_assert_match "$out" "$copy/audit.log: line [0-9]+: bad signature" "the audit slice is named"
}

# chromium_dom URL LOG [MS]: the DOM after MS (default 5000) of virtual time (the player
# autoplays), console messages in LOG; a screenshot beside the build for a person to look at.
CHROMIUM_SHOTS=$H_BUILD/Testing/evidence-bundle
chromium_dom() {
	local profile
	profile=$(mktemp -d "$H_DIR/chromium.XXXXXX")
	timeout -k 5 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$profile" --enable-logging=stderr --v=0 --virtual-time-budget="${3:-5000}" \
		--dump-dom "$1" 2>"$2"
}

# player_dom URL LOG PATTERN: the DOM once the player's terminal matches PATTERN, asked again
# with a longer virtual time while it does not (a loaded machine plays late): the last DOM.
player_dom() {
	local ms dom
	for ms in 5000 15000 30000; do
		dom=$(chromium_dom "$1" "$2" "$ms") || return 1
		[[ $dom =~ $3 ]] && break
	done
	printf '%s' "$dom"
}
chromium_shot() {
	local profile
	profile=$(mktemp -d "$H_DIR/chromium.XXXXXX")
	mkdir -p "$CHROMIUM_SHOTS"
	timeout -k 5 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$profile" --virtual-time-budget=5000 --window-size=1400,1000 \
		--screenshot="$CHROMIUM_SHOTS/$2" "$1" >/dev/null 2>&1
}

# No message of the page's own scripts is an error.
no_console_errors() {
	grep ':CONSOLE' "$1" | grep -qiE 'error|uncaught|failed' && h_fail "console: $(grep ':CONSOLE' "$1" | head -n 3)"
	return 0
}

test_pages_render_in_chromium() {
	local dom page one
	command -v chromium >/dev/null || h_fail "chromium is not installed (scripts/lib/setup.sh installs it)"
	dom=$(chromium_dom "file://$BUNDLE/index.html" "$H_DIR/index.console") || h_fail "chromium failed on index.html"
	no_console_errors "$H_DIR/index.console"
	h_assert_contains "$dom" 'id="session-table"' "the session table"
	one=$(basename "$(recording_of bundle-one)")
	h_assert_contains "$dom" "$one" "the first session's row"
	h_assert_contains "$dom" "$(basename "$(recording_of bundle-two)")" "the second session's row"
	h_assert_contains "$dom" "harness-0" "the ticket"
	h_assert_contains "$dom" "Remote access (SP.07)" "the IEC 62443-2-4 summary"
	h_assert_not_contains "$dom" "globex" "another vendor"
	h_assert_contains "$dom" "$UPLOAD_SHA" "the upload's SHA-256 in the transfer table"
	h_assert_match "$dom" 'id="control-table">.*vendor_disable' "the owner's vendor disable"
	# display_tz: each time in the site's zone, then in UTC.
	h_assert_match "$dom" '[0-9]{2}:[0-9]{2}:[0-9]{2} CES?T <small>\([0-9T:-]+Z\)' "times in Europe/Berlin and UTC"
	chromium_shot "file://$BUNDLE/index.html" index.png

	page=$BUNDLE/sessions/$one.html
	grep -q '<i>bundle-one' "$page" && h_fail "vendor markup is not escaped in $page"
	dom=$(player_dom "file://$page" "$H_DIR/page.console" \
		'class="ap-line"[^>]*><span[^>]*>&lt;i&gt;bundle-one&lt;/i&gt;') || h_fail "chromium failed on $page"
	no_console_errors "$H_DIR/page.console"
	h_assert_contains "$dom" 'class="ap-player' "the player is mounted"
	h_assert_not_contains "$dom" 'ap-overlay-error' "the player's error overlay"
	# The transcript, and the player's terminal after playing: the session's output as text.
	h_assert_match "$dom" 'id="transcript">.*[|] &lt;i&gt;bundle-one&lt;/i&gt;.*</pre>' "the transcript"
	h_assert_match "$dom" 'class="ap-line"[^>]*><span[^>]*>&lt;i&gt;bundle-one&lt;/i&gt;' "the player's terminal"
	chromium_shot "file://$page" session.png
	# Every page opens clean: the upload's channel (no output) says so instead of a player.
	for page in "$BUNDLE"/sessions/*.html; do
		dom=$(chromium_dom "file://$page" "$H_DIR/each.console") || h_fail "chromium failed on $page"
		no_console_errors "$H_DIR/each.console"
		h_assert_not_contains "$dom" 'ap-overlay-error' "the player's error overlay on $page"
		[[ $dom == *'class="ap-player'* || $dom == *'id="no-output"'* ]] || h_fail "$page: neither player nor note"
	done
}

TESTS=(test_export_holds_the_vendors_recordings_and_verifies test_zip_unpacks_to_a_bundle_that_verifies
	test_tar_stream_unpacks_to_the_same_bundle
	test_other_vendors_audit_lines_are_hashes_only
	test_altered_recording_fails_even_with_rewritten_sums test_altered_audit_line_fails)
# In the browser no code of ours runs (gatewayctl wrote the bundle above): the sanitizer build
# (GW_SANITIZE, tests/CMakeLists.txt) leaves the pages to the normal build: 12 of the test's 14
# CPU-seconds there.
if [[ ${GW_SANITIZE:-0} == 1 ]]; then
	h_log "test_pages_render_in_chromium: the normal build's (no code of ours runs in the browser)"
else
	TESTS+=(test_pages_render_in_chromium)
fi
h_run "${TESTS[@]}"
