#!/usr/bin/env bash
# bazelisk.sh - a real Bazelisk (npm @bazel/bazelisk, installed by scripts/setup.sh)
# in front of a fake Bazel 7.4.1 that a loopback server hands it instead of a
# download. flywheel must resolve the version the way Bazelisk does (.bazelversion)
# without running Bazelisk, spell the flags for 7.4.1, exec Bazelisk with
# BAZELISK_SKIP_WRAPPER=true, and never loop through a tools/bazel that is flywheel.
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/nginx.sh"

# scripts/setup.sh installs it into the normal build directory (a sanitizer build
# elsewhere uses that one too)
BZK=
for d in "${FLYWHEEL_BUILDDIR:-}" "${BUILD_DIR:+$SRCDIR/${BUILD_DIR#"$SRCDIR"/}}" "$SRCDIR/build"; do
	[[ -n "$d" && -x "$d/npm/node_modules/@bazel/bazelisk/bazelisk-linux_amd64" ]] || continue
	BZK=$d/npm/node_modules/@bazel/bazelisk/bazelisk-linux_amd64
	break
done
[[ -n "$BZK" ]] || fail "Bazelisk is not installed (scripts/setup.sh installs it into the build directory's npm/)"

# the "download": a fake Bazel 7.4.1 served on loopback where Bazelisk looks for it
mkdir -p "$TMPD/mirror/7.4.1"
make_fake_bazel "$TMPD/mirror/7.4.1/bazel-7.4.1-linux-x86_64" 7.4.1
start_nginx_files "$TMPD/mirror"
MIRROR_PREFIX=$NGINX_PREFIX
export BAZELISK_BASE_URL=$NGINX_URL BAZELISK_HOME=$TMPD/bazelisk-home
export FAKE_BAZEL_ARGV=$TMPD/argv FAKE_BAZEL_PID=$TMPD/pid XDG_CACHE_HOME=$TMPD/xdg

mkdir -p "$TMPD/bin"
ln -s "$BZK" "$TMPD/bin/bazelisk"
export PATH=$TMPD/bin:$PATH

WS=$TMPD/ws
mkdir -p "$WS/sub/dir"
: >"$WS/WORKSPACE"
echo "7.4.1" >"$WS/.bazelversion"

log "flywheel resolves 7.4.1 from .bazelversion (searched upward) without running Bazelisk"
(cd "$WS/sub/dir" && "$FLYWHEEL" explain build //:x) >"$TMPD/explain"
assert_contains "$TMPD/explain" "^bazel: $TMPD/bin/bazelisk " "Bazelisk found on PATH"
assert_contains "$TMPD/explain" "^bazel version: 7\.4\.1 .*\.bazelversion" "version from .bazelversion"
assert_eq "$(nginx_count_requests "$MIRROR_PREFIX" GET)" 0 "Bazelisk downloaded something during explain"

log "USE_BAZEL_VERSION wins, with a fork prefix; latest cannot be resolved offline"
(cd "$WS" && USE_BAZEL_VERSION=myorg/8.2.0 "$FLYWHEEL" explain build //:x) >"$TMPD/explain2"
assert_contains "$TMPD/explain2" "^bazel version: 8\.2\.0 " "USE_BAZEL_VERSION with a fork prefix"
(cd "$WS" && USE_BAZEL_VERSION=latest "$FLYWHEEL" explain build //:x) >"$TMPD/explain3"
assert_contains "$TMPD/explain3" "^bazel version: unknown" "latest is unknown offline"
assert_eq "$(nginx_count_requests "$MIRROR_PREFIX" GET)" 0 "no download for version resolution"

log "a build in cache mode: 7.4.1 spellings reach the Bazel that Bazelisk starts"
start_nginx_cache "$TMPD/cache"
printf 'tok' >"$TMPD/token"
chmod 600 "$TMPD/token"
(cd "$WS" && GF_BAZEL_LOCAL_PROOF=port-forward BAZEL_REMOTE_CACHE=$NGINX_URL \
	GF_REAPI_CREDENTIAL_HELPER_TOKEN_FILE=$TMPD/token "$FLYWHEEL" bazel build //:x) >"$TMPD/build.out" 2>&1 ||
	{ cat "$TMPD/build.out" >&2; fail "build through flywheel and Bazelisk failed"; }
read_argv "$TMPD/argv" got
printf '%s\n' "${got[@]}" >"$TMPD/argv.txt"
assert_contains "$TMPD/argv.txt" "^--remote_cache=$NGINX_URL$" "remote cache reached the fake Bazel"
assert_contains "$TMPD/argv.txt" "^--credential_helper=127\.0\.0\.1=" "Bazel 7 spelling of the credential helper"
assert_not_contains "$TMPD/argv.txt" "experimental_credential_helper|override_repository" "no older spelling"
assert_eq "$(nginx_count_requests "$MIRROR_PREFIX" GET)" 1 "Bazelisk fetched the fake Bazel once, from loopback"

log "tools/bazel that is flywheel: no loop either way"
mkdir -p "$WS/tools"
ln -s "$FLYWHEEL" "$WS/tools/bazel"
rm -f "$TMPD/argv" "$TMPD/pid"
# Bazelisk runs tools/bazel with BAZEL_REAL set; flywheel execs that Bazel directly
(cd "$WS" && timeout 60 bazelisk build //:y) >"$TMPD/wrap.out" 2>&1 || { cat "$TMPD/wrap.out" >&2; fail "bazelisk -> tools/bazel"; }
read_argv "$TMPD/argv" got
assert_eq "${got[0]}" build "Bazel ran the command"
assert_eq "${got[-1]}" //:y "with the target"
# flywheel as tools/bazel without BAZEL_REAL finds Bazelisk and sets BAZELISK_SKIP_WRAPPER
rm -f "$TMPD/argv"
(cd "$WS" && timeout 60 tools/bazel build //:z) >"$TMPD/direct.out" 2>&1 || { cat "$TMPD/direct.out" >&2; fail "tools/bazel -> bazelisk"; }
read_argv "$TMPD/argv" got
assert_eq "${got[-1]}" //:z "tools/bazel reached Bazel once through Bazelisk"
pass
