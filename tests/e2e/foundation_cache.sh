#!/usr/bin/env bash
# Cache mode against a real HTTP cache (nginx WebDAV on loopback): the first build
# uploads, and after `bazel clean` the second build is served from the remote cache —
# checked in Bazel's execution log (remoteCacheHit), not only in its stderr summary.
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/nginx.sh"
[[ -x "$REAL_BAZEL" ]] || skip "no real Bazel"

start_nginx_cache "$TMPD/cache"
ws=$TMPD/ws
make_workspace "$ws"
bazel_env "$ws" "$TMPD/our"
export BAZEL_REAL=$REAL_BAZEL FLYWHEEL_BAZEL_VERSION=4.2.3
export BAZEL_REMOTE_CACHE=$NGINX_URL FLYWHEEL_ALLOW_LOOPBACK=true
export GF_BAZEL_REMOTE_UPLOAD=true FLYWHEEL_FALLBACK=fail
cd "$ws"

log "explain: cache mode with uploads"
run_rc rc "$FLYWHEEL" explain build //:hello >"$TMPD/explain.out" 2>&1
assert_eq "$rc" 0 "flywheel explain exit status"
assert_contains "$TMPD/explain.out" '\bcache\b' "explain names the mode"
assert_contains "$TMPD/explain.out" "--remote_cache=$NGINX_URL" "explain shows the injected cache"

log "first build uploads to $NGINX_URL"
run_rc rc "$FLYWHEEL" bazel build --execution_log_json_file="$TMPD/exec1.json" //:hello >"$TMPD/build1.out" 2>&1
[[ $rc -eq 0 ]] || { cat "$TMPD/build1.out" >&2; fail "first build exited $rc"; }
assert_eq "$(cat bazel-bin/hello.txt)" "hello from flywheel e2e" "genrule output"
assert_not_contains "$TMPD/exec1.json" '"remoteCacheHit": *true' "first build has nothing to hit"
nac=$(find "$TMPD/cache/ac" -type f 2>/dev/null | wc -l)
ncas=$(find "$TMPD/cache/cas" -type f 2>/dev/null | wc -l)
((nac >= 1)) || fail "no action-cache entry was uploaded (ac: $nac)"
((ncas >= 1)) || fail "no CAS blob was uploaded (cas: $ncas)"
(($(nginx_count_requests "$NGINX_PREFIX" PUT) >= 2)) || fail "nginx saw no PUT requests"

log "clean, then the second build must be served from the cache"
run_rc rc "$FLYWHEEL" bazel clean >"$TMPD/clean.out" 2>&1
[[ $rc -eq 0 ]] || { cat "$TMPD/clean.out" >&2; fail "bazel clean exited $rc"; }
[[ ! -e bazel-bin/hello.txt ]] || fail "clean left the output behind"
run_rc rc "$FLYWHEEL" bazel build --execution_log_json_file="$TMPD/exec2.json" //:hello >"$TMPD/build2.out" 2>&1
[[ $rc -eq 0 ]] || { cat "$TMPD/build2.out" >&2; fail "second build exited $rc"; }
assert_eq "$(cat bazel-bin/hello.txt)" "hello from flywheel e2e" "output restored from the cache"
assert_contains "$TMPD/exec2.json" '"remoteCacheHit": *true' "execution log records a remote cache hit"
hits=$(grep -cE '"remoteCacheHit": *true' "$TMPD/exec2.json" || true)
misses=$(grep -cE '"remoteCacheHit": *false' "$TMPD/exec2.json" || true)
log "execution log: $hits remote cache hit(s), $misses miss(es)"
assert_eq "$misses" 0 "every logged spawn of the second build is a remote cache hit"
assert_contains "$TMPD/build2.out" 'remote cache hit' "Bazel's summary agrees"
(($(nginx_count_requests "$NGINX_PREFIX" GET) >= 1)) || fail "nginx saw no GET requests"

pass
