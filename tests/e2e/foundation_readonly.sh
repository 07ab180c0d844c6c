#!/usr/bin/env bash
# Read-only lanes never write the cache: with GF_BAZEL_CACHE_ROLE=read-only (even with
# GF_BAZEL_REMOTE_UPLOAD=true), and with uploads simply not enabled, a build that runs
# new actions leaves the cache directory byte-for-byte as it was and nginx sees no PUT —
# while reads still work (a target a trusted writer uploaded is a remote cache hit).
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/nginx.sh"
[[ -x "$REAL_BAZEL" ]] || skip "no real Bazel"

cache=$TMPD/cache
start_nginx_cache "$cache"
ws=$TMPD/ws
make_workspace "$ws"
bazel_env "$ws" "$TMPD/our"
export BAZEL_REAL=$REAL_BAZEL FLYWHEEL_BAZEL_VERSION=4.2.3
export BAZEL_REMOTE_CACHE=$NGINX_URL FLYWHEEL_ALLOW_LOOPBACK=true FLYWHEEL_FALLBACK=fail
cd "$ws"

listing() { (cd "$cache" && find . -printf '%y %P %s\n' | LC_ALL=C sort && find . -type f -exec sha256sum {} + | LC_ALL=C sort); }

build() { # name targets...
	local name=$1
	shift
	run_rc rc "$FLYWHEEL" bazel build --execution_log_json_file="$TMPD/$name.json" "$@" >"$TMPD/$name.out" 2>&1
	[[ $rc -eq 0 ]] || { cat "$TMPD/$name.out" >&2; fail "$name build exited $rc"; }
}

log "trusted writer uploads //:a"
GF_BAZEL_REMOTE_UPLOAD=true build writer //:a
[[ -n "$(find "$cache/ac" -type f 2>/dev/null)" ]] || fail "writer lane uploaded nothing"
listing >"$TMPD/before.txt"
puts=$(nginx_count_requests "$NGINX_PREFIX" PUT)

log "read-only role (upload=true is overridden)"
export GF_BAZEL_CACHE_ROLE=read-only GF_BAZEL_REMOTE_UPLOAD=true
run_rc rc "$FLYWHEEL" explain build //:a //:b >"$TMPD/explain-ro.out" 2>&1
assert_eq "$rc" 0 "explain exit status (read-only)"
assert_contains "$TMPD/explain-ro.out" '--remote_upload_local_results=false' "read-only lane disables uploads"
"$FLYWHEEL" bazel clean >/dev/null 2>&1 || fail "clean failed"
build readonly //:a //:b
assert_contains "$TMPD/readonly.json" '"remoteCacheHit": *true' "read-only lane still reads the cache (//:a)"
assert_eq "$(cat bazel-bin/b.txt)" b "//:b built locally"
listing >"$TMPD/after-ro.txt"
diff -u "$TMPD/before.txt" "$TMPD/after-ro.txt" >&2 || fail "read-only lane changed the cache directory"
assert_eq "$(nginx_count_requests "$NGINX_PREFIX" PUT)" "$puts" "PUT requests during the read-only lane"

log "upload not enabled (default)"
unset GF_BAZEL_CACHE_ROLE GF_BAZEL_REMOTE_UPLOAD
run_rc rc "$FLYWHEEL" explain build //:c >"$TMPD/explain-def.out" 2>&1
assert_eq "$rc" 0 "explain exit status (default lane)"
assert_contains "$TMPD/explain-def.out" '--remote_upload_local_results=false' "uploads are off unless enabled"
"$FLYWHEEL" bazel clean >/dev/null 2>&1 || fail "clean failed"
build default //:a //:c
assert_contains "$TMPD/default.json" '"remoteCacheHit": *true' "default lane reads the cache (//:a)"
assert_eq "$(cat bazel-bin/c.txt)" c "//:c built locally"
listing >"$TMPD/after-def.txt"
diff -u "$TMPD/before.txt" "$TMPD/after-def.txt" >&2 || fail "default lane changed the cache directory"
assert_eq "$(nginx_count_requests "$NGINX_PREFIX" PUT)" "$puts" "PUT requests during the default lane"

pass
