#!/usr/bin/env bash
# launch_checks.sh - what `flywheel bazel` refuses before Bazel starts, and what
# `explain` shows: validation errors through the real binary (exit 78, one line,
# Bazel never started), downloader-config traps, [mirrors] routing, secret
# redaction in explain for an old and a new Bazel, eligibility fallback and
# --strict, and the version table choosing credential routes.
. "$(dirname "$0")/lib/common.sh"

WS=$TMPD/ws
mkdir -p "$WS"
: >"$WS/WORKSPACE"
printf 'genrule(name = "g", outs = ["g.txt"], cmd = "echo hi > $@")\n' >"$WS/BUILD"
FAKE=$TMPD/bin/bazel-fake
make_fake_bazel "$FAKE" 7.4.1
OLD=$TMPD/bin/bazel-old
make_fake_bazel "$OLD" 4.2.3
export BAZEL_REAL=$FAKE
export FAKE_BAZEL_MARK=$TMPD/started
export FAKE_BAZEL_ARGV=$TMPD/argv
export XDG_CACHE_HOME=$TMPD/cache

fw() { (cd "$WS" && "$FLYWHEEL" "$@"); }

# refuse VAR=VALUE... MESSAGE-REGEX: exit 78, exactly one line, Bazel not started
refuse() {
	local msg=${*: -1}
	local -a assigns=("${@:1:$#-1}")
	rm -f "$FAKE_BAZEL_MARK"
	# --version is answered from the cache: warm it first so the mark means "run"
	run_rc rc env "${assigns[@]}" bash -c 'cd "$1" && shift && exec "$@"' _ "$WS" "$FLYWHEEL" bazel build //:g \
		>"$TMPD/out" 2>"$TMPD/err"
	assert_eq "$rc" 78 "exit for ${assigns[*]}"
	assert_eq "$(wc -l <"$TMPD/err")" 1 "one line for ${assigns[*]}"
	assert_contains "$TMPD/err" "$msg" "message for ${assigns[*]}"
	[[ ! -s "$TMPD/out" ]] || fail "stdout not empty for ${assigns[*]}"
	if [[ -e "$TMPD/argv" ]] && [[ "$TMPD/argv" -nt "$TMPD/before" ]]; then
		fail "Bazel ran for ${assigns[*]}"
	fi
}

log "version cache warm-up"
fw bazel --version >/dev/null
touch "$TMPD/before"
sleep 0.01

log "validation rules through the binary"
refuse BAZEL_REMOTE_CACHE='grpcs://${HOST}' 'BAZEL_REMOTE_CACHE from environment: holds an unexpanded placeholder; '
refuse BAZEL_REMOTE_CACHE=ftp://c.example "'ftp://c.example': unknown URL scheme; "
refuse BAZEL_REMOTE_CACHE=grpcs://u:pw@c.example "'<redacted>': credentials in the URL"
refuse BAZEL_REMOTE_CACHE=grpc://127.0.0.1:1 "is a loopback address; loopback endpoints are refused unless"
refuse BAZEL_REMOTE_INSTANCE_NAME=a..b "instance name holds '..'"
refuse GF_BAZEL_SUBSTRATE_MODE=executor-backed "executor mode needs an executor endpoint"
refuse GF_BAZEL_CACHE_ROLE=writer "unknown role 'writer'"
refuse BAZEL_REMOTE_EXECUTOR=https://e.example GF_BAZEL_SUBSTRATE_MODE=executor "scheme not allowed here"
refuse FLYWHEEL_DENYLIST=old.example BAZEL_REMOTE_CACHE=grpcs://old.example "is on the denylist"
grep -q pw "$TMPD/err" && fail "password echoed"

log "downloader-config traps: one line each, exit 78, Bazel not started"
trap_case() {
	printf "$1" >"$TMPD/dl.cfg"
	rm -f "$FAKE_BAZEL_MARK"
	run_rc rc fw bazel build --experimental_downloader_config="$TMPD/dl.cfg" //:g 2>"$TMPD/err"
	assert_eq "$rc" 78 "exit for trap $2"
	assert_contains "$TMPD/err" "^flywheel: $TMPD/dl.cfg:[0-9]+: .*$2" "message for trap $2"
	[[ -e "$FAKE_BAZEL_MARK" ]] && fail "Bazel started for trap $2"
	true
}
trap_case 'rewrite (.*) https://m.example/$1\nblock *\n' "blocked and not allowed"
trap_case 'rewrite (.*) https://m.example/$2\n' 'group'
trap_case 'block .*\n' "not a host name"
trap_case 'allow m.example\nrewrite (.*) http://m.example/$1\n' "plain http"

log "[mirrors] routing becomes a private downloader config"
cat >"$WS/flywheel.ini" <<'EOF'
[mirrors]
upstream.invalid = https://mirror.example/upstream
EOF
fw explain build //:g >"$TMPD/explain"
assert_contains "$TMPD/explain" "--experimental_downloader_config=$TMPD/cache/flywheel|--experimental_downloader_config=/" "downloader config injected"
cfg=$(grep -o -- '--experimental_downloader_config=[^ ]*' "$TMPD/explain" | head -1 | cut -d= -f2)
[[ -f "$cfg" ]] || fail "downloader config $cfg not written"
assert_eq "$(stat -c %a "$cfg")" 600 "downloader config mode"
assert_eq "$(stat -c %a "$(dirname "$cfg")")" 700 "downloader config dir mode"
assert_contains "$cfg" "rewrite" "rewrite line"
rm "$WS/flywheel.ini"

log "explain redacts header values; the credential route follows the version"
export GF_BAZEL_LOCAL_PROOF=port-forward
CANARY=canary-$RANDOM$RANDOM
BAZEL_REAL=$FAKE BAZEL_REMOTE_CACHE=grpc://127.0.0.1:1 BAZEL_REMOTE_HEADER="Authorization=Bearer $CANARY" \
	fw explain build //:g >"$TMPD/new.txt" 2>&1
BAZEL_REAL=$FAKE BAZEL_REMOTE_CACHE=grpc://127.0.0.1:1 BAZEL_REMOTE_HEADER="Authorization=Bearer $CANARY" \
	fw --json explain build //:g >"$TMPD/new.json" 2>&1
assert_not_contains "$TMPD/new.txt" "$CANARY" "secret in explain (7.4.1)"
assert_not_contains "$TMPD/new.json" "$CANARY" "secret in explain --json (7.4.1)"
assert_contains "$TMPD/new.txt" "--credential_helper=127.0.0.1=" "Bazel 7 gets flywheel as its credential helper"
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$TMPD/new.json" || fail "explain --json is not JSON"
BAZEL_REAL=$OLD BAZEL_REMOTE_CACHE=grpc://127.0.0.1:1 BAZEL_REMOTE_HEADER="Authorization=Bearer $CANARY" \
	fw explain build //:g >"$TMPD/old.txt" 2>&1
assert_not_contains "$TMPD/old.txt" "$CANARY" "secret in explain (4.2.3)"
assert_not_contains "$TMPD/old.txt" "credential_helper" "no credential helper flag for Bazel 4"
assert_contains "$TMPD/old.txt" "private 0600 rc file" "explain says how Bazel 4 gets headers"

log "the secret never reaches Bazel's argv or environment (Bazel 7 route)"
cat >"$TMPD/bin/bazel-env" <<EOF
#!/bin/bash
[[ "\${1:-}" == --version ]] && { echo "bazel 7.4.1"; exit 0; }
printf '%s\0' "\$@" >"$TMPD/argv7"
env >"$TMPD/env7"
EOF
chmod +x "$TMPD/bin/bazel-env"
# the probe would fail on port 1: pretend a healthy verdict by using local fallback policy
BAZEL_REAL=$TMPD/bin/bazel-env BAZEL_REMOTE_CACHE=grpc://127.0.0.1:1 GF_REAPI_CREDENTIAL_HELPER_TOKEN=$CANARY \
	FLYWHEEL_FALLBACK=local fw bazel build //:g >/dev/null 2>"$TMPD/fallback.err" || true
assert_contains "$TMPD/fallback.err" "building locally" "one-line fallback warning"
assert_not_contains "$TMPD/argv7" "$CANARY" "token in Bazel's argv"
assert_not_contains "$TMPD/env7" "$CANARY" "token in Bazel's environment"
assert_not_contains "$TMPD/fallback.err" "$CANARY" "token in flywheel's output"

log "eligibility: executor mode drops to cache mode, --strict refuses"
mkdir -p "$TMPD/elig"
cat >"$TMPD/elig/e.json" <<'EOF'
{ "schema_version": 1, "classes": [
  { "name": "gen", "status": "proved", "labels": ["//gen/..."], "allowed_modes": ["local", "cache", "executor"],
    "requirements": [], "proof_required": true },
  { "name": "net", "status": "candidate", "labels": ["//net/..."], "allowed_modes": ["local", "cache"],
    "requirements": [], "proof_required": true, "go_condition": "a proof with remote_processes > 0" } ] }
EOF
export BAZEL_REMOTE_EXECUTOR=grpc://127.0.0.1:1 FLYWHEEL_ELIGIBILITY=$TMPD/elig/e.json
fw --mode=executor explain build //gen/... >"$TMPD/e1"
assert_contains "$TMPD/e1" "^mode: executor" "proved class keeps executor mode"
assert_contains "$TMPD/e1" "--remote_executor=grpc://127.0.0.1:1" "executor flag"
fw --mode=executor explain build //gen/... //net:x >"$TMPD/e2"
assert_contains "$TMPD/e2" "^mode: cache \(requested executor: //net:x" "candidate class drops to cache mode with the target"
assert_not_contains "$TMPD/e2" "--remote_executor" "no executor flag after the drop"
run_rc rc fw --strict --mode=executor bazel build //net:x 2>"$TMPD/e3"
assert_eq "$rc" 78 "--strict refuses"
assert_contains "$TMPD/e3" "//net:x: not eligible for remote execution" "strict message names the target"
unset BAZEL_REMOTE_EXECUTOR FLYWHEEL_ELIGIBILITY GF_BAZEL_LOCAL_PROOF
pass
