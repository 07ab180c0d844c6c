#!/usr/bin/env bash
# bench/report.sh - what `flywheel --report` (Bazel as a child, then the report)
# costs over a plain exec, on a no-op build, measured in one hyperfine run:
#   exec      flywheel bazel build //:x            (execve, nothing after)
#   report    flywheel --report bazel build //:x   (flywheel-net, fork, wait, report)
# first against a compiled fake Bazel (so the difference is flywheel's alone),
# then against the real Bazel 4.2.3 with a warm server (a real no-op build).
# Target: report overhead <= 50 ms.  Writes the `## Build report (child mode)`
# section of docs/PERFORMANCE.md (BENCH_NO_WRITE=1 leaves it alone).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${BUILD_DIR:-build}
[[ "$build_dir" == /* ]] || build_dir=$root/$build_dir
export FLYWHEEL_BIN=$build_dir/flywheel FLYWHEEL_NET=$build_dir/flywheel-net FLYWHEEL_SRCDIR=$root
[[ -x "$FLYWHEEL_BIN" ]] || (cd "$root" && bash scripts/setup.sh)
runs=${BENCH_RUNS:-40}
. "$root/tests/e2e/lib/common.sh"
command -v hyperfine >/dev/null || fail "hyperfine is needed (scripts/packages.txt installs it)"

cc -O2 -static -o "$TMPD/fake_bazel" "$root/bench/fake_bazel.c"
WS=$TMPD/ws
make_workspace "$WS"
export XDG_CACHE_HOME=$TMPD/xdg FLYWHEEL_REPORT_FILE=$TMPD/report.json
cd "$WS"

median() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(" ".join(str(r["median"]) for r in d["results"]))' "$1"; }

BAZEL_REAL=$TMPD/fake_bazel hyperfine -N --warmup 5 --runs "$runs" --export-json "$TMPD/fake.json" \
	"$FLYWHEEL bazel build //:hello" "$FLYWHEEL --report bazel build //:hello" >/dev/null 2>&1
read -r fe fr < <(median "$TMPD/fake.json")

bazel_env "$WS" "$TMPD/our"
export BAZEL_REAL=$REAL_BAZEL FLYWHEEL_BAZEL_VERSION=4.2.3
"$FLYWHEEL" bazel build //:hello >/dev/null 2>&1   # warm the server and the outputs
hyperfine -N --warmup 2 --runs "$((runs / 4 > 5 ? runs / 4 : 5))" --export-json "$TMPD/real.json" \
	"$FLYWHEEL bazel build //:hello" "$FLYWHEEL --report bazel build //:hello" >/dev/null 2>&1
read -r re rr < <(median "$TMPD/real.json")

report=$(python3 - "$fe" "$fr" "$re" "$rr" <<'PY'
import sys
fe, fr, re_, rr = (float(x) * 1e3 for x in sys.argv[1:5])
print("| Bazel | plain exec | --report | overhead |\n|---|---:|---:|---:|")
print(f"| compiled fake (no work) | {fe:.1f} ms | {fr:.1f} ms | {fr - fe:.1f} ms |")
print(f"| real 4.2.3, warm server, no-op build | {re_:.1f} ms | {rr:.1f} ms | {rr - re_:.1f} ms |\n")
worst = max(fr - fe, rr - re_)
print(f"- target overhead <= 50 ms: {'met' if worst <= 50 else 'NOT met'} ({worst:.1f} ms)")
print("- the overhead is flywheel-net's start (libcurl and OpenSSL are loaded only in child modes),")
print("  a fork and wait, the execution log and build event file read and the report written")
PY
)
printf '%s\n' "$report"
if [[ "${BENCH_NO_WRITE:-0}" != 1 ]]; then
	printf '`bash bench/report.sh` (%s cores, %s).\n\n%s\n' "$(nproc)" "$(date -u +%Y-%m-%d)" "$report" >"$TMPD/section.md"
	python3 "$root/bench/write-section.py" "$root/docs/PERFORMANCE.md" "Build report (child mode)" "$TMPD/section.md"
fi
pass
