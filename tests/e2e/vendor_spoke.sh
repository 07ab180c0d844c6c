#!/usr/bin/env bash
# `flywheel vendor` into a fresh copy of examples/spoke/, then `bazel` (Debian's
# launcher script /usr/bin/bazel, which runs the workspace's tools/bazel with
# BAZEL_REAL set) builds through the shim and the vendored static flywheel
# against a real HTTP cache (nginx WebDAV): uploads, then after `clean` a remote
# cache hit.  Also: the shim refuses a tampered binary (126), runs without
# BAZEL_REAL and without a loop, stops a BAZEL_REAL that leads back to itself,
# and vendor refuses a foreign tools/bazel and a dynamic binary.
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/nginx.sh"
[[ -x "$REAL_BAZEL" ]] || skip "no real Bazel"
[[ -x /usr/bin/bazel && -x /usr/bin/bazel-4 ]] || skip "needs Debian's bazel launcher script (bazel-bootstrap)"
arch=$(uname -m)
static_bin=${FLYWHEEL_BUILDDIR:-$SRCDIR/build}/flywheel-linux-$arch
[[ -x "$static_bin" ]] || skip "no static launcher $static_bin (static linking unavailable?)"
need_cmd sha256sum

ws=$TMPD/spoke
cp -r "$SRCDIR/examples/spoke" "$ws"
rm -rf "$ws/tools" "$ws"/bazel-*

log "flywheel vendor $ws"
run_rc rc "$FLYWHEEL" vendor "$ws" >"$TMPD/vendor.out" 2>&1
cat "$TMPD/vendor.out" >&2
assert_eq "$rc" 0 "flywheel vendor exit status"
vbin=$ws/tools/flywheel/flywheel-linux-$arch
[[ -x "$ws/tools/bazel" && -f "$ws/tools/bazel" ]] || fail "tools/bazel is not an executable file"
[[ -x "$vbin" ]] || fail "$vbin missing or not executable"
cmp -s "$vbin" "$static_bin" || fail "the vendored binary is not the static launcher"
cmp -s "$ws/tools/bazel" "$SRCDIR/tools/bazel-shim.sh" || fail "tools/bazel differs from tools/bazel-shim.sh"
(cd "$ws/tools/flywheel" && sha256sum -c --status "flywheel-linux-$arch.sha256") || fail "sha256 file does not verify with sha256sum -c"
assert_contains "$TMPD/vendor.out" "installed $vbin \([0-9]+ bytes, static, sha256 [0-9a-f]{64}\)" "vendor reports the binary"
head -1 "$ws/tools/bazel" | grep -qx '#!/bin/sh' || fail "the shim is not a /bin/sh script"
if command -v dash >/dev/null 2>&1; then dash -n "$ws/tools/bazel" || fail "the shim is not POSIX sh (dash -n)"; fi

log "vendor again: replaces its own shim; refuses a foreign tools/bazel unless --force"
run_rc rc "$FLYWHEEL" vendor "$ws" >/dev/null 2>&1
assert_eq "$rc" 0 "re-vendoring"
mkdir -p "$TMPD/foreign"
cp -r "$SRCDIR/examples/spoke/." "$TMPD/foreign/"
mkdir -p "$TMPD/foreign/tools"
printf '#!/bin/sh\nexec /usr/bin/bazel-4 "$@"\n' >"$TMPD/foreign/tools/bazel"
run_rc rc "$FLYWHEEL" vendor "$TMPD/foreign" >"$TMPD/foreign.out" 2>&1
assert_eq "$rc" 73 "foreign tools/bazel: exit status"
assert_contains "$TMPD/foreign.out" "^flywheel: $TMPD/foreign/tools/bazel: exists and is not flywheel's shim; move it aside" "foreign shim message"
grep -q 'bazel-4' "$TMPD/foreign/tools/bazel" || fail "the foreign tools/bazel was changed"
run_rc rc "$FLYWHEEL" vendor --force "$TMPD/foreign" >/dev/null 2>&1
assert_eq "$rc" 0 "--force replaces it"
run_rc rc "$FLYWHEEL" vendor "$TMPD/nonexistent" >"$TMPD/nodir.out" 2>&1
assert_eq "$rc" 64 "missing DIR: exit status"
mkdir -p "$TMPD/notws"
run_rc rc "$FLYWHEEL" vendor "$TMPD/notws" >"$TMPD/notws.out" 2>&1
assert_eq "$rc" 64 "not a workspace root: exit status"
assert_contains "$TMPD/notws.out" "not a Bazel workspace root; name the workspace root" "not a workspace message"
if [[ -n "$(file -L "$FLYWHEEL" 2>/dev/null | grep -i 'dynamically linked')" ]]; then
	run_rc rc "$FLYWHEEL" vendor --force --binary "$FLYWHEEL" "$TMPD/notws" >"$TMPD/dyn.out" 2>&1
	assert_eq "$rc" 65 "dynamic binary: exit status"
	assert_contains "$TMPD/dyn.out" "is dynamically linked" "dynamic binary message"
	run_rc rc "$FLYWHEEL" vendor --force --allow-dynamic --binary "$FLYWHEEL" "$TMPD/notws" >/dev/null 2>&1
	assert_eq "$rc" 0 "--allow-dynamic"
fi
run_rc rc "$FLYWHEEL" vendor --force --binary "$SRCDIR/tools/bazel-shim.sh" "$TMPD/notws" >"$TMPD/notelf.out" 2>&1
assert_eq "$rc" 65 "not an ELF file: exit status"

start_nginx_cache "$TMPD/cache"
make_stub_repos "$TMPD/stubs" >>"$ws/.bazelrc"
bazel_env "$ws" "$TMPD/our"
export FLYWHEEL_BAZEL_VERSION=4.2.3 BAZEL_REMOTE_CACHE=$NGINX_URL FLYWHEEL_ALLOW_LOOPBACK=true
export GF_BAZEL_REMOTE_UPLOAD=true FLYWHEEL_FALLBACK=fail
unset BAZEL_REAL BAZEL_BIN
# `bazel` is Debian's launcher script: it finds tools/bazel and runs it with BAZEL_REAL
export PATH=/usr/bin:/bin
cd "$ws"

log "bazel build (launcher script -> tools/bazel -> vendored flywheel -> bazel-4), uploads"
run_rc rc timeout 300 bazel build --execution_log_json_file="$TMPD/exec1.json" //:hello >"$TMPD/build1.out" 2>&1
[[ $rc -eq 0 ]] || { cat "$TMPD/build1.out" >&2; fail "first build exited $rc"; }
assert_contains bazel-bin/hello.txt "hello from a spoke repository" "genrule output"
(($(find "$TMPD/cache/ac" -type f 2>/dev/null | wc -l) >= 1)) || fail "nothing was uploaded to the cache: flywheel did not inject --remote_cache"
(($(nginx_count_requests "$NGINX_PREFIX" PUT) >= 1)) || fail "nginx saw no PUT"

log "clean, then the second build must be served from the remote cache"
run_rc rc timeout 120 bazel clean >"$TMPD/clean.out" 2>&1
assert_eq "$rc" 0 "bazel clean"
run_rc rc timeout 300 bazel build --execution_log_json_file="$TMPD/exec2.json" //:hello >"$TMPD/build2.out" 2>&1
[[ $rc -eq 0 ]] || { cat "$TMPD/build2.out" >&2; fail "second build exited $rc"; }
assert_contains "$TMPD/exec2.json" '"remoteCacheHit": *true' "remote cache hit in the execution log"
assert_contains "$TMPD/build2.out" 'remote cache hit' "Bazel's summary agrees"

log "tools/bazel run directly (no BAZEL_REAL): flywheel finds the launcher script, which re-enters the shim; no loop"
run_rc rc timeout 60 tools/bazel --version >"$TMPD/direct.out" 2>&1
assert_eq "$rc" 0 "direct run: exit status"
assert_contains "$TMPD/direct.out" "^bazel " "direct run reaches the real Bazel"

log "BAZEL_REAL pointing back at the shim is stopped"
run_rc rc env BAZEL_REAL="$ws/tools/bazel" timeout 60 tools/bazel --version >"$TMPD/loop.out" 2>&1
assert_eq "$rc" 127 "self-referencing BAZEL_REAL: exit status"
assert_contains "$TMPD/loop.out" "^flywheel: tools/bazel: BAZEL_REAL .* leads back to this script; set BAZEL_REAL to the real Bazel binary" "loop message"

log "a tampered binary is refused before it runs"
cp "$vbin" "$TMPD/good-bin"
printf 'x' >>"$vbin"
run_rc rc timeout 60 bazel build //:hello >"$TMPD/tampered.out" 2>&1
assert_eq "$rc" 126 "tampered binary: exit status"
assert_contains "$TMPD/tampered.out" "^flywheel: .*/tools/flywheel/flywheel-linux-$arch: SHA-256 mismatch \(expected [0-9a-f]{64}, got [0-9a-f]{64}\); refusing to run it" "mismatch message"
assert_eq "$(wc -l <"$TMPD/tampered.out")" 1 "the refusal is one line"
cp "$TMPD/good-bin" "$vbin"
rm -f "$vbin.sha256"
run_rc rc timeout 60 tools/bazel --version >"$TMPD/nosum.out" 2>&1
assert_eq "$rc" 127 "missing checksum file: exit status"
assert_contains "$TMPD/nosum.out" "missing \(or its .sha256\)" "missing checksum message"

pass
