#!/usr/bin/env bash
# Bazel's exit codes pass through flywheel unchanged with the real Bazel 4.2.3:
# a failing sh_test gives 3, a passing one 0, a failing build action 1.
. "$(dirname "$0")/lib/common.sh"
[[ -x "$REAL_BAZEL" ]] || skip "no real Bazel"

ws=$TMPD/ws
make_workspace "$ws"
cat >>"$ws/BUILD" <<'B'
sh_test(name = "fails", srcs = ["fails.sh"])
sh_test(name = "passes", srcs = ["passes.sh"])
genrule(name = "broken", outs = ["broken.txt"], cmd = "exit 1")
B
printf '#!/bin/sh\necho failing on purpose\nexit 1\n' >"$ws/fails.sh"
printf '#!/bin/sh\nexit 0\n' >"$ws/passes.sh"
chmod +x "$ws/fails.sh" "$ws/passes.sh"
bazel_env "$ws" "$TMPD/our"
export BAZEL_REAL=$REAL_BAZEL FLYWHEEL_BAZEL_VERSION=4.2.3
cd "$ws"

run_rc rc "$FLYWHEEL" bazel test //:fails >"$TMPD/fails.out" 2>&1
[[ $rc -eq 3 ]] || { cat "$TMPD/fails.out" >&2; fail "failing test: exit $rc, want 3"; }
assert_contains "$TMPD/fails.out" '//:fails +FAILED' "Bazel reports the test failure"

run_rc rc "$FLYWHEEL" bazel test //:passes >"$TMPD/passes.out" 2>&1
[[ $rc -eq 0 ]] || { cat "$TMPD/passes.out" >&2; fail "passing test: exit $rc, want 0"; }

run_rc rc "$FLYWHEEL" bazel build //:broken >"$TMPD/broken.out" 2>&1
[[ $rc -eq 1 ]] || { cat "$TMPD/broken.out" >&2; fail "failing build: exit $rc, want 1"; }

# Through the real Bazel a usage error is exit 2.
run_rc rc "$FLYWHEEL" bazel build --no_such_option_anywhere //:hello >"$TMPD/usage.out" 2>&1
[[ $rc -eq 2 ]] || { cat "$TMPD/usage.out" >&2; fail "unknown Bazel option: exit $rc, want 2"; }

pass
