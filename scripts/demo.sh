#!/usr/bin/env bash
# demo.sh - flywheel in front of a real Bazel and a real HTTP cache, end to end.
#
#   1. set up and build flywheel (scripts/setup.sh)
#   2. start a private nginx WebDAV cache on a free loopback port
#   3. run the hooks in scripts/demo.d/*.sh (e.g. staging external inputs)
#   4. build examples/bazel //hello:hello through `flywheel bazel build` in cache mode
#   5. `bazel clean`, build again: now served from the remote cache
#   6. show Bazel's process summary and the execution log's remote cache hits
#
# Everything lives in a temp dir (Bazel's output user root, the cache, nginx's files)
# and is removed at exit; nginx and the Bazel server are stopped even on failure.
# Exits non-zero when the second build was not served from the cache.
#
# Extending: a hook in scripts/demo.d/NAME.sh is sourced (in name order) after the
# cache is up and before the first build.  It sees the variables below and may export
# more configuration, append Bazel options to DEMO_BAZEL_OPTS or targets to
# DEMO_TARGETS, and use every function of tests/e2e/lib/{common,nginx}.sh.
#   DEMO_WS        the example workspace (examples/bazel)
#   DEMO_TMP       the demo's temp dir ($TMPD)
#   FLYWHEEL       the flywheel binary
#   NGINX_URL      the cache URL; NGINX_PREFIX its nginx prefix
#
# Environment: BUILD_DIR as for scripts/setup.sh; E2E_KEEP=1 keeps the temp dir.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash scripts/setup.sh

build_dir=${BUILD_DIR:-build}
[[ "$build_dir" == /* ]] || build_dir=$root/$build_dir
export FLYWHEEL_BIN=$build_dir/flywheel FLYWHEEL_NET=$build_dir/flywheel-net FLYWHEEL_SRCDIR=$root
# shellcheck source=../tests/e2e/lib/common.sh
. "$root/tests/e2e/lib/common.sh"
# shellcheck source=../tests/e2e/lib/nginx.sh
. "$root/tests/e2e/lib/nginx.sh"

banner() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
[[ -t 1 ]] || banner() { printf '\n== %s\n' "$*"; }

[[ -x "$REAL_BAZEL" ]] || fail "no real Bazel found (install bazel-bootstrap: bash scripts/setup.sh)"
export DEMO_WS=$root/examples/bazel
export DEMO_TMP=$TMPD
DEMO_TARGETS=(//hello:hello)
# No bazel-* symlinks in the source tree: outputs are read through `bazel info`.
DEMO_BAZEL_OPTS=(--symlink_prefix=/)
[[ -f "$DEMO_WS/WORKSPACE" ]] || : >"$DEMO_WS/WORKSPACE"

banner "start an HTTP cache (nginx WebDAV) on loopback"
start_nginx_cache "$TMPD/cache"
echo "cache: $NGINX_URL (files in $TMPD/cache, nginx prefix $NGINX_PREFIX)"

# The configuration flywheel reads: the same environment contract CI uses.
bazel_env "$DEMO_WS" "$TMPD/our"
export BAZEL_REAL=$REAL_BAZEL
# Debian's Bazel prints `bazel no_version`; tell flywheel which one it is.
FLYWHEEL_BAZEL_VERSION=$(dpkg-query -W -f='${Version}' bazel-bootstrap 2>/dev/null | sed 's/[^0-9.].*//')
export FLYWHEEL_BAZEL_VERSION=${FLYWHEEL_BAZEL_VERSION:-4.2.3}
export BAZEL_REMOTE_CACHE=$NGINX_URL
export FLYWHEEL_ALLOW_LOOPBACK=true # the cache is on 127.0.0.1 on purpose
export GF_BAZEL_REMOTE_UPLOAD=true  # this lane is a trusted writer
export FLYWHEEL_FALLBACK=fail       # a demo of the cache must not quietly build locally

for hook in "$root"/scripts/demo.d/*.sh; do
	[[ -f "$hook" ]] || continue
	banner "hook: $(basename "$hook")"
	# shellcheck disable=SC1090
	. "$hook"
done

cd "$DEMO_WS"

banner "what flywheel will run"
"$FLYWHEEL" explain build "${DEMO_BAZEL_OPTS[@]}" "${DEMO_TARGETS[@]}"

build() { # N
	local n=$1 st
	banner "build $n: flywheel bazel build ${DEMO_TARGETS[*]}"
	set +e
	"$FLYWHEEL" bazel build "${DEMO_BAZEL_OPTS[@]}" \
		--execution_log_json_file="$TMPD/exec$n.json" "${DEMO_TARGETS[@]}" 2>&1 |
		tee "$TMPD/build$n.out" | grep -E '^(INFO: (Elapsed|[0-9]+ process|Build)|ERROR|FAILED|flywheel)'
	st=${PIPESTATUS[0]}
	set -e
	[[ $st -eq 0 ]] || { cat "$TMPD/build$n.out" >&2; fail "build $n exited $st"; }
}

build 1
nfiles=$(find "$TMPD/cache" -type f | wc -l)
echo "cache now holds $nfiles file(s): $(find "$TMPD/cache/ac" -type f | wc -l) action result(s), $(find "$TMPD/cache/cas" -type f | wc -l) blob(s)"

banner "bazel clean (the local action cache and outputs are gone)"
"$FLYWHEEL" bazel clean 2>&1 | grep -E '^(INFO|ERROR)' || true

build 2

banner "result"
bin=$("$FLYWHEEL" bazel info "${DEMO_BAZEL_OPTS[@]}" bazel-bin 2>/dev/null)
echo "output ($bin/hello/hello.txt):"
sed 's/^/  /' "$bin/hello/hello.txt"
for n in 1 2; do
	procs=$(grep -E '^INFO: [0-9]+ process' "$TMPD/build$n.out" | tail -n 1)
	spawns=$(grep -cE '"remoteCacheHit": *(true|false)' "$TMPD/exec$n.json" || true)
	hits=$(grep -cE '"remoteCacheHit": *true' "$TMPD/exec$n.json" || true)
	printf 'build %s: %s\n         execution log: %s spawn(s), %s remote cache hit(s)\n' "$n" "$procs" "$spawns" "$hits"
done
hits=$(grep -cE '"remoteCacheHit": *true' "$TMPD/exec2.json" || true)
((hits > 0)) || fail "the second build was not served from the remote cache"
echo "demo ok: the second build came from the remote cache"
