#!/bin/bash
# stage_bazel: with the mirror up, `flywheel stage` then a Bazel 4.2.3 build of
# the example's cc_binary, cc_test and genrule succeeds with every upstream URL
# unreachable; without staging the same build fails; after staging the mirror
# can be stopped and the build (after clean --expunge) still passes.
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/nginx.sh"
. "$(dirname "$0")/lib/mirror.sh"
need_cmd nginx python3 openssl
[[ -n "$REAL_BAZEL" ]] || skip "needs bazel"

mirror_setup
WS=$TMPD/ws OUR=$TMPD/our DIST=$TMPD/distdir RC=$TMPD/repocache
mkdir -p "$WS"
cp -R "$SRCDIR/examples/bazel/." "$WS/"
rm -rf "$WS"/bazel-*
bazel_env "$WS" "$OUR"
bz() { (cd "$WS" && timeout 600 "$REAL_BAZEL" --output_user_root="$OUR" "$@" --symlink_prefix=/ \
	--distdir="$DIST" --repository_cache="$RC"); }

log "build without staging must fail (upstream unreachable)"
mkdir -p "$DIST" "$RC"
run_rc rc bz build //app:app >"$TMPD/nostage.log" 2>&1
[[ $rc -ne 0 ]] || fail "build passed without staged inputs"
assert_contains "$TMPD/nostage.log" "upstream.invalid|rules_cc|Unknown host" "unstaged build failure names the download"

log "stage from the mirror"
run_rc rc fw stage --manifest "$MANIFEST" --trust "$PUBKEY" --distdir "$DIST" --repository-cache "$RC" --json \
	>"$TMPD/stage.json" 2>"$TMPD/stage.err"
[[ $rc -eq 0 ]] || { cat "$TMPD/stage.err" "$TMPD/stage.json" >&2; fail "stage exited $rc"; }
assert_eq "$(json_get "$TMPD/stage.json" 'd["counts"]["fetched"]')" 4 "fetched count"
while read -r name sha size; do
	[[ -f "$DIST/$name" ]] || fail "$name not in the distdir"
	[[ -f "$RC/content_addressable/sha256/$sha/file" ]] || fail "$name not in the repository cache"
	assert_eq "$(sha256sum <"$DIST/$name" | cut -d' ' -f1)" "$sha" "$name distdir hash"
	assert_eq "$(stat -c %i "$DIST/$name")" "$(stat -c %i "$RC/content_addressable/sha256/$sha/file")" "$name hard-linked"
	# Bazel 7+ canonical-id marker: sha256 of the WORKSPACE rule's URL
	id=$(printf '%s' "https://upstream.invalid/flywheel/$name" | sha256sum | cut -d' ' -f1)
	[[ -f "$RC/content_addressable/sha256/$sha/id-$id" ]] || fail "$name has no canonical-id marker id-$id"
done <"$TMPD/archives.txt"
if ls -a "$DIST" "$RC"/content_addressable/sha256/* | grep -q flywheel-tmp; then fail "temp files left"; fi

log "warm stage only stats"
fw stage --manifest "$MANIFEST" --trust "$PUBKEY" --distdir "$DIST" --repository-cache "$RC" --json >"$TMPD/warm.json" 2>/dev/null
assert_eq "$(json_get "$TMPD/warm.json" 'd["counts"]["present"]')" 4 "warm present count"

log "build and test with staged inputs"
bz build //app:app //app:data_size >"$TMPD/build.log" 2>&1 || { tail -30 "$TMPD/build.log" >&2; fail "build after staging failed"; }
bz test //app:greet_test >"$TMPD/test.log" 2>&1 || { tail -30 "$TMPD/test.log" >&2; fail "cc_test after staging failed"; }
assert_eq "$(tr -d ' \n' <"$OUR"/*/execroot/flywheel_example/bazel-out/k8-fastbuild/bin/app/data_size.txt)" \
	4194304 "genrule saw the large archive"

log "mirror down, clean --expunge, build again from the staged inputs"
stop_nginx "$NGINX_PREFIX"
fw stage --offline --manifest "$MANIFEST" --trust "$PUBKEY" --distdir "$DIST" --repository-cache "$RC" 2>"$TMPD/offline.err" ||
	{ cat "$TMPD/offline.err" >&2; fail "offline stage failed after staging"; }
bz clean --expunge >/dev/null 2>&1
bz build //app:app >"$TMPD/build2.log" 2>&1 || { tail -30 "$TMPD/build2.log" >&2; fail "build after expunge failed"; }
pass
