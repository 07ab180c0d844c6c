#!/bin/bash
# proof_remote.sh - `flywheel proof` against a real RemoteWorker with real Bazel 4.2.3:
# executor + forced execution -> accepted (remote_processes >= 2, equal to the
# execution log's own count); only a cache attached -> refused; a Bazel
# failure -> refused with Bazel's exit code.
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/remoteworker.sh"
rw_enter_netns "$@"
need_cmd python3
[[ -n "$REAL_BAZEL" ]] || skip "needs Bazel"
start_remoteworker

ws=$TMPD/ws
mkdir -p "$ws/app"
: >"$ws/WORKSPACE"
make_stub_repos "$TMPD/stubs" >"$ws/.bazelrc"
cp "$SRCDIR/examples/bazel/app/"*.c "$SRCDIR/examples/bazel/app/"*.h "$ws/app/"
cat >"$ws/app/BUILD" <<'B'
load("@rules_cc//cc:defs.bzl", "cc_binary", "cc_library", "cc_test")
cc_library(name = "greet", srcs = ["greet.c"], hdrs = ["greet.h"])
cc_binary(name = "app", srcs = ["main.c"], deps = [":greet"])
cc_test(name = "greet_test", srcs = ["greet_test.c"], deps = [":greet"])
cc_binary(name = "broken", srcs = ["broken.c"])
B
printf 'int main(void) { return this_is_not_c; }\n' >"$ws/app/broken.c"
bazel_env "$ws" "$TMPD/our"
export BAZEL_REAL=$REAL_BAZEL FLYWHEEL_BAZEL_VERSION=4.2.3 FLYWHEEL_ALLOW_LOOPBACK=true
export TMPDIR=$TMPD
cd "$ws"

field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }

# 1. executor attached, forced execution: accepted
log "executor mode"
run_rc rc env BAZEL_REMOTE_EXECUTOR="grpc://127.0.0.1:$RW_PORT" \
	"$FLYWHEEL" proof --out "$TMPD/p1.json" -- //app:app //app:greet_test 2>"$TMPD/p1.err"
[[ $rc == 0 ]] || { cat "$TMPD/p1.err" >&2; fail "proof with an executor exited $rc"; }
assert_eq "$(field "$TMPD/p1.json" kind)" gf-reapi-proof-result "kind"
assert_eq "$(field "$TMPD/p1.json" accepted)" True "accepted"
assert_eq "$(field "$TMPD/p1.json" force_execution)" True "forced"
assert_eq "$(field "$TMPD/p1.json" executor_attached)" True "executor attached"
remote=$(field "$TMPD/p1.json" remote_processes)
((remote >= 2)) || fail "remote_processes $remote < 2"
# the count equals what the execution log itself says
dir=$(field "$TMPD/p1.json" evidence_dir)
in_log=$(grep -c '"runner": "remote"' "$dir/execution-log.json")
assert_eq "$remote" "$in_log" "remote_processes vs the execution log"
sha=$(python3 -c 'import json,sys; print([e["sha256"] for e in json.load(open(sys.argv[1]))["evidence"] if e["name"]=="execution-log.json"][0])' "$TMPD/p1.json")
assert_eq "$sha" "$(sha256sum "$dir/execution-log.json" | cut -d' ' -f1)" "evidence sha256"
[[ "$(stat -c %a "$dir")" == 700 ]] || fail "evidence dir is not private"
assert_contains "$TMPD/p1.err" "proof: accepted" "accepted message"

# 2. only a cache attached (results served from it): refused, exit 1
log "cache mode"
run_rc rc env BAZEL_REMOTE_CACHE="grpc://127.0.0.1:$RW_PORT" \
	"$FLYWHEEL" proof --out "$TMPD/p2.json" -- //app:app 2>"$TMPD/p2.err"
assert_eq "$rc" 1 "proof with only a cache"
assert_eq "$(field "$TMPD/p2.json" accepted)" False "cache-only accepted"
assert_eq "$(field "$TMPD/p2.json" executor_attached)" False "cache-only executor"
assert_eq "$(field "$TMPD/p2.json" remote_processes)" 0 "cache-only remote processes"
assert_contains "$TMPD/p2.err" "refused: no executor was attached" "cache-only message"

# 3. a Bazel failure: refused with Bazel's exit code
log "failing build"
run_rc rc env BAZEL_REMOTE_EXECUTOR="grpc://127.0.0.1:$RW_PORT" \
	"$FLYWHEEL" proof --out "$TMPD/p3.json" -- //app:broken 2>"$TMPD/p3.err"
assert_eq "$rc" 1 "proof of a failing build (Bazel's exit code)"
assert_eq "$(field "$TMPD/p3.json" build_success)" False "failing build success"
assert_eq "$(field "$TMPD/p3.json" bazel_exit_code)" 1 "failing build exit code"
assert_contains "$TMPD/p3.err" "refused: Bazel failed \(exit 1\)" "failing build message"
pass
