#!/bin/bash
# gatewayctl report (issue 15): the evidence bundle's report of a period on stdout. After an exec
# whose command holds an ESC sequence, an scp upload, a refused target and a refused login of a
# user name with an ESC in it, the text lists the sessions with person, target and command, the
# upload's SHA-256 and the refusals, with no raw ESC byte; JSON and html carry the same sessions
# as each other and as the bundle of the same period; a copy of the recordings with one byte
# changed shows as tampered; --from/--to select by start, in UTC or local time.
. "${GW_SRC:-$(dirname "$0")/../..}/tests/lib/harness.sh"
sshd_start plc-07 || exit 1
GW_ALLOW="shell exec upload" gw_policy_default
# plc-08 is registered but granted to nobody: asking for it is refused.
gw_target_add plc-08 "${H_PORT[plc-07]}" "${H_FP[plc-07]}"
gw_config_extra 'display_tz = "Europe/Berlin";'
h_keygen "$H_DIR/keys/globex" || exit 1
gw_vendor_add globex
gw_person_add globex globex.bob "$H_DIR/keys/globex.pub"
gw_grant_add globex "plc-07" "exec"
gw_start || exit 1

PUBKEY=$GW_RECORDINGS/../state/recording_key.pub
BEFORE=$(date -u -d '-1 second' +%Y-%m-%dT%H:%M:%SZ)

gw_ssh "$GW_DEST" $'echo report-\e[31mred' </dev/null >/dev/null || { echo "exec session failed"; exit 1; }
head -c 3000 /dev/urandom >"$H_DIR/upload.bin"
UPLOAD_SHA=$(sha256sum "$H_DIR/upload.bin" | cut -c1-64)
timeout -k 5 "$H_TIMEOUT" scp "${H_SSH_OPTS[@]}" -i "$VENDOR_KEY" -P "$GW_PORT" "$H_DIR/upload.bin" \
	"$GW_DEST:$H_DIR/upload.up" </dev/null || { echo "scp failed"; exit 1; }
gw_ssh -i "$H_DIR/keys/globex" globex.bob+plc-07@127.0.0.1 'echo globex-work' </dev/null >/dev/null ||
	{ echo "globex session failed"; exit 1; }
gw_ssh acme.alice+plc-08@127.0.0.1 'echo never' </dev/null >/dev/null 2>&1 && { echo "plc-08 was reached"; exit 1; }
# A login name with an ESC sequence (stock ssh refuses to send one: paramiko does) and a wrong key.
cat >"$H_DIR/odd_user.py" <<'PY'
import paramiko, hostile
args = hostile.parser("a login name of the caller's choosing, a wrong key").parse_args()
t = hostile.transport(args)
try:
    t.auth_publickey(args.user, hostile.load_key(args.key))
except paramiko.AuthenticationException:
    hostile.say("refused")
t.close()
PY
h_hostile "$H_DIR/odd_user.py" --key "$H_DIR/keys/globex" --user $'acme.\e[7mmallory+plc-07' | grep -qx refused ||
	{ echo "the odd login name was not refused"; exit 1; }
# Every session's end and both refusals are in the audit log before the report reads it.
logged() { (($(grep -c '"event":"session_end"' "$GW_AUDIT") >= 3)) && grep -q '"event":"auth_failure"' "$GW_AUDIT"; }
h_wait_for 10 logged || { echo "the sessions' ends or the refusals are not logged"; exit 1; }
AFTER=$(date -u -d '+1 second' +%Y-%m-%dT%H:%M:%SZ)
LATER=$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)

TEXT=$(ctl report --since 1h 2>&1)
TEXT_RC=$?
EXEC_REC=$(basename "$(grep -l 'report-' "$GW_RECORDINGS"/*.cast | head -n 1)")

# json_get JSON EXPR: EXPR (python, on the parsed object j) printed.
json_get() { python3 -c 'import json, sys; j = json.loads(sys.stdin.read()); print(eval(sys.argv[1]))' "$2" <<<"$1"; }

test_text_lists_the_sessions_with_person_target_and_command() {
	h_assert_eq 0 "$TEXT_RC" "report ($TEXT)"
	h_assert_match "$TEXT" '^Report: all vendors, from .* CES?T \([0-9T:-]+Z\) to .*: 3 session\(s\) in 3 recorded channel\(s\), [0-9]+ refusal\(s\) or lockout\(s\), [0-9]+ file transfer\(s\), [0-9]+ owner action\(s\); verdicts: 3 intact' "summary line"
	h_assert_match "$TEXT" "${EXEC_REC//./\\.} +acme\\.alice +127\\.0\\.0\\.1 +plc-07 +echo report-\\\\e\\[31mred" "the exec session's row"
	h_assert_contains "$TEXT" "globex.bob" "another vendor's session (no --vendor: all of them)"
	h_assert_match "$TEXT" "[0-9]{2}:[0-9]{2}:[0-9]{2} CES?T \([0-9T:-]+Z\)" "times in Europe/Berlin and UTC"
}

test_text_has_no_raw_escape_byte() {
	local n
	n=$(printf '%s' "$TEXT" | LC_ALL=C tr -cd '\033' | wc -c)
	h_assert_eq 0 "$n" "raw ESC bytes in the text report"
	grep -q $'\e' "$GW_AUDIT" || grep -qi '\\u001b' "$GW_AUDIT" || h_fail "the audit log has no ESC to escape"
	h_assert_contains "$TEXT" 'acme.\e[7mmallory+plc-07' "the refused user name, escaped"
}

test_text_shows_the_upload_with_its_sha256() {
	h_assert_match "$TEXT" "File transfers \([0-9]+\)" "transfer section"
	h_assert_match "$TEXT" "close +[^ ]*/upload\.up +3000 +0 +$UPLOAD_SHA" "the upload's row and SHA-256"
}

test_text_shows_the_refusals() {
	h_assert_match "$TEXT" 'access_decision +acme\.alice .*plc-08' "the refused target"
	h_assert_match "$TEXT" 'auth_failure +acme\.\\e\[7mmallory' "the refused login"
}

test_json_has_the_sessions_of_text_and_of_the_bundle() {
	local json n_json n_bundle out
	json=$(ctl report --since 1h --format json) || h_fail "report --format json"
	n_json=$(json_get "$json" 'len(j["sessions"])') || h_fail "the JSON does not parse: ${json:0:300}"
	h_assert_eq 3 "$n_json" "sessions in the JSON"
	h_assert_contains "$TEXT" "Sessions ($n_json)" "the text's session table"
	h_assert_contains "$TEXT" " in $n_json recorded channel(s)" "the text's summary line"
	h_assert_eq "$n_json" "$(json_get "$json" 'j["summary"]["channels"]')" "summary.channels"
	h_assert_eq "$UPLOAD_SHA" "$(json_get "$json" '[t["sha256"] for t in j["transfers"] if t["sha256"]][0]')" "the transfer's SHA-256"
	h_assert_eq 'echo report-\e[31mred' "$(json_get "$json" '[s["command"] for s in j["sessions"] if s["recording"] == "'"$EXEC_REC"'"][0]')" "command as termsafe text"
	# acme's part: the same recordings as acme's bundle of the same period.
	json=$(ctl report --vendor acme --from "$BEFORE" --to "$LATER" --format json) || h_fail "report --vendor acme"
	out=$(ctl evidence export --vendor acme --from "$BEFORE" --to "$LATER" -o "$H_DIR/bundle" 2>&1) || h_fail "export: $out"
	n_bundle=$(python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["recordings"]))' "$H_DIR/bundle/bundle.json")
	h_assert_eq 2 "$n_bundle" "acme's recordings in the bundle"
	h_assert_eq "$n_bundle" "$(json_get "$json" 'len(j["sessions"])')" "acme's sessions in the report"
	h_assert_eq "$(python3 -c 'import json, sys; print(sorted(json.load(open(sys.argv[1]))["recordings"]))' "$H_DIR/bundle/bundle.json")" \
		"$(json_get "$json" 'sorted(s["recording"] for s in j["sessions"])')" "the same recordings"
}

# The page parses, its tables are closed, and it names every session.
test_html_parses_and_names_the_sessions() {
	local html f id
	html=$(ctl report --since 1h --format html) || h_fail "report --format html"
	python3 - "$html" <<'PY' || h_fail "html.parser: the page is not well formed"
import sys
from html.parser import HTMLParser
VOID = {"meta", "link", "br", "img", "input", "hr"}
class P(HTMLParser):
    def __init__(self):
        super().__init__()
        self.stack, self.tables = [], 0
    def handle_starttag(self, tag, attrs):
        if tag not in VOID:
            self.stack.append(tag)
        self.tables += tag == "table"
    def handle_endtag(self, tag):
        if not self.stack or self.stack.pop() != tag:
            sys.exit("unbalanced </%s>" % tag)
p = P()
p.feed(sys.argv[1])
p.close()
if p.stack or p.tables != 5:
    sys.exit("open: %s, tables: %d" % (p.stack, p.tables))
PY
	for f in "$GW_RECORDINGS"/*.cast; do
		id=$(basename "$f" | cut -d. -f1)
		h_assert_contains "$html" "$id" "session $id"
	done
	h_assert_contains "$html" 'echo report-\e[31mred' "the command, terminal-safe"
	h_assert_contains "$html" "$UPLOAD_SHA" "the upload's SHA-256"
}

# Off the gateway: copies of the recordings and the log, and the public key; no configuration.
test_copy_with_a_changed_byte_shows_tampered() {
	local copy=$H_DIR/copy out
	mkdir -p "$copy" && cp -a "$GW_RECORDINGS"/*.cast "$GW_AUDIT" "$copy/" || h_fail "copy"
	sed -i '2,$s/report-/reporT-/' "$copy/$EXEC_REC" # an output record, not the header
	out=$("$H_GATEWAYCTL" -f "$H_DIR/no-such.conf" report --since 1h --dir "$copy" \
		--audit "$copy/$(basename "$GW_AUDIT")" --key "$PUBKEY" 2>&1) || h_fail "report of the copy: $out"
	h_assert_match "$out" "verdicts: 2 intact, 1 tampered" "summary"
	h_assert_match "$out" "${EXEC_REC//./\\.} .*tampered at record [0-9]+" "the changed recording's verdict"
	h_assert_match "$out" "Times in UTC" "no configuration: UTC"
	# Cut off before its seal: truncated.
	cp -a "$GW_RECORDINGS/$EXEC_REC" "$copy/$EXEC_REC" && sed -i '$d' "$copy/$EXEC_REC"
	out=$("$H_GATEWAYCTL" -f "$H_DIR/no-such.conf" report --since 1h --dir "$copy" \
		--audit "$copy/$(basename "$GW_AUDIT")" --key "$PUBKEY" --format json 2>&1) || h_fail "report: $out"
	h_assert_eq truncated "$(json_get "$out" '[s["verdict_kind"] for s in j["sessions"] if s["recording"] == "'"$EXEC_REC"'"][0]')" "the cut recording's verdict"
}

test_period_selects_by_start() {
	local json
	json=$(ctl report --from "$AFTER" --to "$LATER" --format json) || h_fail "report --from after"
	h_assert_eq 0 "$(json_get "$json" 'len(j["sessions"])')" "sessions started after the period's start"
	h_assert_eq 0 "$(json_get "$json" 'len(j["refusals"])')" "refusals after the period's start"
	json=$(ctl report --from "$(date -d '-1 hour' '+%Y-%m-%d %H:%M')" --to "$BEFORE" --format json) || h_fail "report --to before"
	h_assert_eq 0 "$(json_get "$json" 'len(j["sessions"])')" "sessions before the period's end (local --from)"
	json=$(ctl report --from "$(date -d '-1 hour' '+%Y-%m-%dT%H:%M')" --format json) || h_fail "report --from local"
	h_assert_eq 3 "$(json_get "$json" 'len(j["sessions"])')" "sessions since an hour ago, local time"
	ctl report --from "$AFTER" --to "$BEFORE" >/dev/null 2>&1
	h_assert_eq 2 $? "an empty period is a usage error"
}

h_run test_text_lists_the_sessions_with_person_target_and_command test_text_has_no_raw_escape_byte \
	test_text_shows_the_upload_with_its_sha256 test_text_shows_the_refusals \
	test_json_has_the_sessions_of_text_and_of_the_bundle test_html_parses_and_names_the_sessions \
	test_copy_with_a_changed_byte_shows_tampered test_period_selects_by_start
