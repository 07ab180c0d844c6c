#!/usr/bin/env bash
# readonly_reapi.sh - read-only lanes against a real REAPI server (Bazel's RemoteWorker):
# in cache mode a developer lane adds nothing to the server's action cache; in
# executor mode the executor's own results are the server's to keep, but a target
# tagged no-remote-exec, which runs locally, is not uploaded. A trusted writer is the
# control that shows the same build would have written.
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/remoteworker.sh"
rw_enter_netns "$@"
rw_build
start_remoteworker
EP=grpc://127.0.0.1:$RW_PORT
AC=$RW_DIR/cas/ac

WS=$TMPD/ws
make_workspace "$WS"
cat >>"$WS/BUILD" <<'EOF'
genrule(name = "remote_one", outs = ["remote_one.txt"], cmd = "echo remote-$$RANDOM-one > $@")
genrule(name = "local_one", outs = ["local_one.txt"], cmd = "echo local-$$RANDOM-one > $@",
        tags = ["no-remote-exec"])
EOF
cat >"$TMPD/elig.json" <<'EOF'
{ "schema_version": 1, "classes": [
  { "name": "all", "status": "proved", "labels": ["//..."], "allowed_modes": ["local", "cache", "executor"],
    "requirements": [], "proof_required": true } ] }
EOF
bazel_env "$WS" "$TMPD/our"
export BAZEL_REAL=$REAL_BAZEL FLYWHEEL_BAZEL_VERSION=4.2.3 GF_BAZEL_LOCAL_PROOF=port-forward XDG_CACHE_HOME=$TMPD/xdg
fb() { (cd "$WS" && timeout 600 "$FLYWHEEL" bazel "$@") >>"$TMPD/build.log" 2>&1 || { tail -30 "$TMPD/build.log" >&2; fail "build: $*"; }; }
ac_count() { find "$AC" -type f 2>/dev/null | wc -l; }
ac_list() { (cd "$RW_DIR/cas" && find . -type f | sort); }

log "cache mode, developer lane (default: no upload): the action cache gains nothing"
ac_list >"$TMPD/before"
BAZEL_REMOTE_CACHE=$EP fb build --symlink_prefix=/ //:a //:b
ac_list >"$TMPD/after"
diff -u "$TMPD/before" "$TMPD/after" >&2 || fail "a read-only lane wrote to the server's storage"

log "cache mode, GF_BAZEL_CACHE_ROLE=read-only even with upload=true: nothing written"
fb clean
BAZEL_REMOTE_CACHE=$EP GF_BAZEL_REMOTE_UPLOAD=true GF_BAZEL_CACHE_ROLE=read-only fb build --symlink_prefix=/ //:a //:b
ac_list >"$TMPD/after2"
diff -u "$TMPD/before" "$TMPD/after2" >&2 || fail "read-only role wrote to the server's storage"

log "control: a trusted writer's same build does write"
fb clean
BAZEL_REMOTE_CACHE=$EP GF_BAZEL_REMOTE_UPLOAD=true fb build --symlink_prefix=/ //:a //:b
(($(ac_count) > 0)) || fail "the writer control wrote no action-cache entry: the check above proves nothing"

log "executor mode, developer lane: the executor's result is stored, the local one is not"
n0=$(ac_count)
GF_BAZEL_SUBSTRATE_MODE=executor BAZEL_REMOTE_EXECUTOR=$EP FLYWHEEL_ELIGIBILITY=$TMPD/elig.json \
	fb build --symlink_prefix=/ --execution_log_json_file="$TMPD/exec.json" //:remote_one //:local_one
n1=$(ac_count)
grep -q '"runner": "remote"' "$TMPD/exec.json" || fail "remote_one did not run remotely"
grep -qE '"runner": "(linux-sandbox|local|processwrapper-sandbox)"' "$TMPD/exec.json" || fail "local_one did not run locally"
assert_eq "$((n1 - n0))" 1 "action-cache entries added (the executor's one, not the local one)"

log "control: a writer's local result is uploaded"
GF_BAZEL_SUBSTRATE_MODE=executor BAZEL_REMOTE_EXECUTOR=$EP FLYWHEEL_ELIGIBILITY=$TMPD/elig.json \
	GF_BAZEL_REMOTE_UPLOAD=true fb build --symlink_prefix=/ //:local_one --remote_accept_cached=false \
	--action_env=FLYWHEEL_NONCE=$RANDOM$RANDOM
n2=$(ac_count)
((n2 > n1)) || fail "the writer's local result was not uploaded: the executor-mode check proves nothing"
pass
