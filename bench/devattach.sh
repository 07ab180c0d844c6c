#!/usr/bin/env bash
# bench/devattach.sh - what `flywheel dev-attach` costs on a healthy loopback setup
# (nginx WebDAV cache, real Bazel 4.2.3), split into the checks and the round trip,
# next to Bazel's own cold start (`bazel info release` on a fresh output base, then
# shutdown) measured in the same run.  Targets: checks <= 300 ms; the whole run
# dominated by Bazel's own start-up.  Writes the `## dev-attach` section of
# docs/PERFORMANCE.md (BENCH_NO_WRITE=1 leaves it alone).
#
# Environment: BUILD_DIR (default build), BENCH_RUNS (default 5).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${BUILD_DIR:-build}
[[ "$build_dir" == /* ]] || build_dir=$root/$build_dir
export FLYWHEEL_BIN=$build_dir/flywheel FLYWHEEL_NET=$build_dir/flywheel-net FLYWHEEL_SRCDIR=$root
[[ -x "$FLYWHEEL_BIN" ]] || (cd "$root" && bash scripts/setup.sh)
runs=${BENCH_RUNS:-5}

# the e2e helpers: private temp dir, nginx on a free loopback port, cleanup at exit
. "$root/tests/e2e/lib/common.sh"
. "$root/tests/e2e/lib/nginx.sh"

WS=$TMPD/ws
make_workspace "$WS"
bazel_env "$WS" "$TMPD/our"
start_nginx_cache "$TMPD/cache"
export BAZEL_REAL=$REAL_BAZEL FLYWHEEL_BAZEL_VERSION=4.2.3 GF_BAZEL_LOCAL_PROOF=port-forward
export BAZEL_REMOTE_CACHE=$NGINX_URL GF_BAZEL_REMOTE_UPLOAD=true XDG_CACHE_HOME=$TMPD/xdg

checks=() trips=() walls=() bazel=()
for i in $(seq 1 "$runs"); do
	t0=$(date +%s%N)
	(cd "$WS" && "$FLYWHEEL" dev-attach --json) >"$TMPD/run.json"
	t1=$(date +%s%N)
	read -r c r < <(python3 -c 'import json,sys; o=json.load(open(sys.argv[1])); assert o["attached"], o["verdict"]; print(o["checks_ms"], o["round_trip_ms"])' "$TMPD/run.json")
	checks+=("$c") trips+=("$r") walls+=("$(((t1 - t0) / 1000000))")
	ob=$TMPD/ob-$i
	t0=$(date +%s%N)
	(cd "$WS" && "$REAL_BAZEL" --output_base="$ob" info release >/dev/null 2>&1)
	t1=$(date +%s%N)
	(cd "$WS" && "$REAL_BAZEL" --output_base="$ob" shutdown >/dev/null 2>&1) || true
	bazel+=("$(((t1 - t0) / 1000000))")
done

report=$(python3 - "${checks[*]}" "${trips[*]}" "${walls[*]}" "${bazel[*]}" "$runs" <<'PY'
import statistics as st, sys
checks, trips, walls, bazel = ([float(x) for x in a.split()] for a in sys.argv[1:5])
runs = sys.argv[5]
mc, mt, mw, mb = (st.median(x) for x in (checks, trips, walls, bazel))
print(f"Median of {runs} runs, healthy loopback nginx cache, real Bazel 4.2.3, trusted-writer lane.\n")
print("| part | median |\n|---|---:|")
print(f"| checks (Bazel found, config, credentials, probe, Nix, inputs, disk) | {mc:.0f} ms |")
print(f"| round trip (nonce genrule: build, clean, build, shutdown) | {mt:.0f} ms |")
print(f"| whole `dev-attach` (wall) | {mw:.0f} ms |")
print(f"| Bazel's own cold start alone (`bazel info release` on a fresh output base) | {mb:.0f} ms |\n")
print(f"- checks target <= 300 ms: {'met' if mc <= 300 else 'NOT met'} ({mc:.0f} ms)")
print(f"- round trip / Bazel cold start: {mt / mb:.1f}x (two builds and a clean on one fresh server)")
print(f"- share of the whole run spent in the round trip: {100 * mt / mw:.0f} %")
PY
)
printf '%s\n' "$report"
if [[ "${BENCH_NO_WRITE:-0}" != 1 ]]; then
	printf '`bash bench/devattach.sh` (%s cores, %s).\n\n%s\n' "$(nproc)" "$(date -u +%Y-%m-%d)" "$report" >"$TMPD/section.md"
	python3 "$root/bench/write-section.py" "$root/docs/PERFORMANCE.md" "dev-attach" "$TMPD/section.md"
fi
pass
