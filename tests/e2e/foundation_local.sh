#!/usr/bin/env bash
# Local mode: with nothing remote configured, `flywheel bazel build` runs the real
# Bazel 4.2.3 with no remote flags and the genrule's output is produced locally.
. "$(dirname "$0")/lib/common.sh"
[[ -x "$REAL_BAZEL" ]] || skip "no real Bazel"

ws=$TMPD/ws
make_workspace "$ws"
bazel_env "$ws" "$TMPD/our"
export BAZEL_REAL=$REAL_BAZEL FLYWHEEL_BAZEL_VERSION=4.2.3
cd "$ws"

log "explain: mode local, no remote options"
run_rc rc "$FLYWHEEL" explain build //:hello >"$TMPD/explain.out" 2>&1
assert_eq "$rc" 0 "flywheel explain exit status"
assert_contains "$TMPD/explain.out" '\blocal\b' "explain names the mode"
assert_not_contains "$TMPD/explain.out" '--remote_(cache|executor)=' "local mode injects no remote endpoint"
assert_contains "$TMPD/explain.out" "--output_user_root=$TMPD/our" "BAZEL_OUTPUT_USER_ROOT becomes a startup option"

log "build"
run_rc rc "$FLYWHEEL" bazel build --execution_log_json_file="$TMPD/exec.json" //:hello >"$TMPD/build.out" 2>&1
[[ $rc -eq 0 ]] || { cat "$TMPD/build.out" >&2; fail "flywheel bazel build exited $rc"; }
out=$(cat "$ws/bazel-bin/hello.txt")
assert_eq "$out" "hello from flywheel e2e" "genrule output"
assert_contains "$TMPD/build.out" 'INFO: [0-9]+ processes: .*(linux-sandbox|local|processwrapper-sandbox)' "action ran locally"
assert_not_contains "$TMPD/build.out" 'remote cache hit|[0-9]+ remote\b' "no remote activity in local mode"
assert_not_contains "$TMPD/exec.json" '"remoteCacheHit": *true' "no remote cache hit in the execution log"
[[ -d "$TMPD/our" && -n "$(ls -A "$TMPD/our")" ]] || fail "Bazel did not use the private output user root"

pass
