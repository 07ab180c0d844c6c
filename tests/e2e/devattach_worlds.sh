#!/usr/bin/env bash
# devattach_worlds.sh - `flywheel dev-attach` as a fresh developer meets it, in four
# worlds: everything healthy (green, exit 0, a real round trip with a remote cache
# hit, --write-env), the cache down, a bad token (401), and an executor configured
# without an eligibility manifest. Each failing world must show its ✗ line with the
# cause and the fix, and one "not attached" verdict naming it.
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/nginx.sh"
. "$(dirname "$0")/lib/remoteworker.sh"
rw_enter_netns "$@"

WS=$TMPD/ws
make_workspace "$WS"
bazel_env "$WS" "$TMPD/our"
export GF_BAZEL_LOCAL_PROOF=port-forward XDG_CACHE_HOME=$TMPD/xdg-cache
export BAZEL_REAL=$REAL_BAZEL FLYWHEEL_BAZEL_VERSION=4.2.3

attach() { (cd "$WS" && "$FLYWHEEL" dev-attach "$@"); }

log "world 1: healthy cache, trusted writer: attached, with a remote cache hit"
start_nginx_cache "$TMPD/cache"
CACHE=$NGINX_URL
run_rc rc env BAZEL_REMOTE_CACHE="$CACHE" GF_BAZEL_REMOTE_UPLOAD=true \
	bash -c 'cd "$1" && exec "$2" dev-attach --write-env' _ "$WS" "$FLYWHEEL" >"$TMPD/w1.out" 2>"$TMPD/w1.err"
cat "$TMPD/w1.out" >&2
assert_eq "$rc" 0 "healthy world exit"
assert_contains "$TMPD/w1.out" "^ +[0-9]+ ✓ bazel( \([0-9.]+ ms\))?: /usr/bin/bazel" "bazel line"
assert_contains "$TMPD/w1.out" "^ +[0-9]+ ✓ cache $CACHE \(" "cache line with latency"
assert_contains "$TMPD/w1.out" "✓ round trip \([0-9.]+ ms\): second build after clean: [1-9][0-9]* remote cache hit" "round trip hit"
assert_contains "$TMPD/w1.out" "^attached: cache mode, [0-9]+ ms to $CACHE$" "verdict line"
assert_not_contains "$TMPD/w1.out" $'\e\\[' "no colour in a pipe"
[[ -f "$WS/.env.flywheel.local" ]] || fail "--write-env wrote nothing"
assert_eq "$(stat -c %a "$WS/.env.flywheel.local")" 600 ".env.flywheel.local mode"
assert_contains "$WS/.env.flywheel.local" "^BAZEL_REMOTE_CACHE='$CACHE'$" "env file names the cache"
log "the written env file makes the next call just work, in cache mode"
(cd "$WS" && "$FLYWHEEL" explain build //:hello) >"$TMPD/w1.explain"
assert_contains "$TMPD/w1.explain" "^mode: cache$" "explain after --write-env"
assert_contains "$TMPD/w1.explain" "BAZEL_REMOTE_CACHE from $WS/.env.flywheel.local:[0-9]+" "layer named"
rm -f "$WS/.env.flywheel.local"

log "world 1, --json: one flywheel-status/1 object"
BAZEL_REMOTE_CACHE=$CACHE GF_BAZEL_REMOTE_UPLOAD=true attach --json --no-round-trip >"$TMPD/w1.json"
python3 - "$TMPD/w1.json" <<'EOF' || fail "dev-attach --json content"
import json, sys
o = json.load(open(sys.argv[1]))
assert o["schema"] == "flywheel-status/1", o
assert o["attached"] is True and o["mode"] == "cache", o
assert any(c["name"] == "round trip" and c["status"] == "skip" for c in o["checks"]), o["checks"]
assert all(c["status"] in ("ok", "warn", "skip") for c in o["checks"]), o["checks"]
EOF

log "world 2: the cache is down"
DEAD=http://127.0.0.1:$(free_port)/cache
run_rc rc env BAZEL_REMOTE_CACHE="$DEAD" bash -c 'cd "$1" && exec "$2" dev-attach' _ "$WS" "$FLYWHEEL" \
	>"$TMPD/w2.out" 2>&1
assert_eq "$rc" 69 "cache down exit"
assert_contains "$TMPD/w2.out" "✗ cache $DEAD .*" "✗ cache line"
assert_contains "$TMPD/w2.out" "cause: connect" "cause line"
assert_contains "$TMPD/w2.out" "fix: " "fix line"
assert_contains "$TMPD/w2.out" "^not attached: cache $DEAD: " "verdict names the cache"
assert_contains "$TMPD/w2.out" "round trip: not run: an earlier check failed" "no round trip"

log "world 3: a bad token (401)"
start_nginx_cache --auth user:secret "$TMPD/cache-auth"
printf 'wrong-token' >"$TMPD/token"
chmod 600 "$TMPD/token"
run_rc rc env BAZEL_REMOTE_CACHE="$NGINX_URL" GF_REAPI_CREDENTIAL_HELPER_TOKEN_FILE="$TMPD/token" \
	bash -c 'cd "$1" && exec "$2" dev-attach' _ "$WS" "$FLYWHEEL" >"$TMPD/w3.out" 2>&1
assert_eq "$rc" 77 "bad token exit"
assert_contains "$TMPD/w3.out" "✗ cache $NGINX_URL .*" "✗ cache line"
assert_contains "$TMPD/w3.out" "cause: auth" "auth class"
assert_contains "$TMPD/w3.out" "401|not logged in" "401 told apart"
assert_contains "$TMPD/w3.out" "^not attached: " "verdict"
assert_not_contains "$TMPD/w3.out" "wrong-token" "token printed"

log "world 4: an executor without an eligibility manifest"
rw_build
start_remoteworker
run_rc rc env GF_BAZEL_SUBSTRATE_MODE=executor-backed BAZEL_REMOTE_EXECUTOR="grpc://127.0.0.1:$RW_PORT" \
	bash -c 'cd "$1" && exec "$2" dev-attach' _ "$WS" "$FLYWHEEL" >"$TMPD/w4.out" 2>&1
cat "$TMPD/w4.out" >&2
assert_eq "$rc" 78 "executor without eligibility exit"
assert_contains "$TMPD/w4.out" "✓ executor grpc://127.0.0.1:$RW_PORT" "executor itself is healthy"
assert_contains "$TMPD/w4.out" "✗ eligibility: executor mode is configured but no eligibility manifest" "✗ eligibility"
assert_contains "$TMPD/w4.out" "fix: set executor.eligibility" "eligibility fix"
assert_contains "$TMPD/w4.out" "^not attached: eligibility: " "verdict names eligibility"

log "world 4b: with a proved class, the executor round trip runs remote processes"
cat >"$TMPD/elig.json" <<'EOF'
{ "schema_version": 1, "classes": [
  { "name": "all", "status": "proved", "labels": ["//..."], "allowed_modes": ["local", "cache", "executor"],
    "requirements": [], "proof_required": true } ] }
EOF
run_rc rc env GF_BAZEL_SUBSTRATE_MODE=executor-backed BAZEL_REMOTE_EXECUTOR="grpc://127.0.0.1:$RW_PORT" \
	FLYWHEEL_ELIGIBILITY="$TMPD/elig.json" bash -c 'cd "$1" && exec "$2" dev-attach' _ "$WS" "$FLYWHEEL" \
	>"$TMPD/w4b.out" 2>&1
cat "$TMPD/w4b.out" >&2
assert_eq "$rc" 0 "executor world exit"
assert_contains "$TMPD/w4b.out" "✓ round trip \([0-9.]+ ms\): [1-9][0-9]* remote process" "remote process"
assert_contains "$TMPD/w4b.out" "^attached: executor mode, [0-9]+ ms to grpc://127.0.0.1:$RW_PORT$" "executor verdict"
pass
