#!/usr/bin/env bash
# launch_stage.sh - `flywheel bazel` stages by itself when a manifest is configured:
# the first build of the example's cc_binary and cc_test fetches and verifies the
# pinned archives (nothing reaches upstream), the second call only stats (the mirror
# sees no request), the build survives `clean --expunge` with the mirror gone, and a
# manifest changed after signing stops the launch before Bazel starts.
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/nginx.sh"
. "$(dirname "$0")/lib/mirror.sh"

mirror_setup
MIRROR_PREFIX=$NGINX_PREFIX
WS=$TMPD/ws
mkdir -p "$WS"
cp -R "$SRCDIR/examples/bazel/." "$WS/"
rm -rf "$WS"/bazel-*
cp "$MANIFEST" "$WS/inputs.json"
cp "$MANIFEST.sig" "$WS/inputs.json.sig"
cat >"$WS/flywheel.ini" <<EOF
[inputs]
manifest = inputs.json
[trust]
test = $PUBKEY
[bazel]
repository_cache = $TMPD/repocache
distdir = $TMPD/distdir
EOF
bazel_env "$WS" "$TMPD/our"
export BAZEL_REAL=$REAL_BAZEL FLYWHEEL_BAZEL_VERSION=4.2.3 XDG_CACHE_HOME=$TMPD/xdg
fb() { (cd "$WS" && timeout 600 "$FLYWHEEL" bazel --output_user_root="$TMPD/our" "$@"); }
gets() { nginx_count_requests "$MIRROR_PREFIX" GET; }

log "first build: flywheel stages the pinned archives, then Bazel builds offline"
(cd "$WS" && "$FLYWHEEL" explain build //app:app) >"$TMPD/explain0"
assert_contains "$TMPD/explain0" "^inputs: $WS/inputs.json \(not staged yet\)" "explain before staging"
fb build --symlink_prefix=/ //app:app //app:greet_test >"$TMPD/b1.log" 2>&1 ||
	{ tail -30 "$TMPD/b1.log" >&2; fail "first build through flywheel failed"; }
n1=$(gets)
((n1 >= 3)) || fail "the mirror served $n1 requests; staging did not happen"
assert_contains "$TMPD/b1.log" "Build completed successfully" "first build"
[[ -f "$TMPD/distdir/rules_cc-flywheel-shim-1.tar.gz" ]] || fail "distdir not filled"

log "second call: stat only, the mirror sees nothing"
(cd "$WS" && "$FLYWHEEL" explain build //app:app) >"$TMPD/explain1"
assert_contains "$TMPD/explain1" "^inputs: $WS/inputs.json \(staged\)" "explain after staging"
assert_contains "$TMPD/explain1" "--distdir=$TMPD/distdir" "distdir passed to Bazel"
assert_contains "$TMPD/explain1" "--repository_cache=$TMPD/repocache" "repository cache passed to Bazel"
fb test --symlink_prefix=/ //app:greet_test >"$TMPD/b2.log" 2>&1 || { tail -30 "$TMPD/b2.log" >&2; fail "cc_test"; }
assert_eq "$(gets)" "$n1" "the warm launch fetched something"

log "the mirror stops; after clean --expunge the build still passes from the staged inputs"
stop_nginx "$MIRROR_PREFIX"
fb clean --expunge >/dev/null 2>&1
fb build --symlink_prefix=/ //app:app >"$TMPD/b3.log" 2>&1 || { tail -30 "$TMPD/b3.log" >&2; fail "offline rebuild"; }

log "a manifest changed after signing: one line, Bazel not started"
sed -i 's/"version": \([0-9]*\)/"version": \1 /' "$WS/inputs.json"
printf ' ' >>"$WS/inputs.json"
make_fake_bazel "$TMPD/fake" 4.2.3
export FAKE_BAZEL_ARGV=$TMPD/started
run_rc rc env BAZEL_REAL="$TMPD/fake" bash -c 'cd "$1" && exec "$2" bazel build //app:app' _ "$WS" "$FLYWHEEL" \
	>"$TMPD/tamper.out" 2>"$TMPD/tamper.err"
[[ $rc -ne 0 ]] || fail "a tampered manifest was accepted"
assert_eq "$(grep -c . "$TMPD/tamper.err")" 1 "one line for the tampered manifest"
assert_contains "$TMPD/tamper.err" "^flywheel: .*(signature|sign)" "the line names the signature"
# the fake records its argv only when it runs a command (not for --version)
[[ ! -e "$TMPD/started" ]] || fail "Bazel was started with a tampered manifest"
[[ ! -s "$TMPD/tamper.out" ]] || fail "stdout not empty"
pass
