#!/usr/bin/env bash
# A `bazel` symlink to flywheel first on PATH (how a devshell or tools/bazel installs
# it) must not make flywheel run itself: with no real Bazel anywhere it exits 127 with
# a message; with one later on PATH it runs that one.  Symlinks named bazel and
# bazelisk in several PATH directories are all skipped.
. "$(dirname "$0")/lib/common.sh"

fw=$(readlink -f "$FLYWHEEL")
mkdir -p "$TMPD/bin1" "$TMPD/bin2" "$TMPD/real" "$TMPD/ws"
ln -s "$fw" "$TMPD/bin1/bazel"
ln -s "$fw" "$TMPD/bin2/bazel"
ln -s "$fw" "$TMPD/bin2/bazelisk"
ln -s "$TMPD/bin1/bazel" "$TMPD/bin2/bazel-chain"
make_fake_bazel "$TMPD/real/bazel" 7.4.1
: >"$TMPD/ws/WORKSPACE"
cd "$TMPD/ws"
export FAKE_BAZEL_ARGV=$TMPD/argv

log "no real Bazel: 127 and a message, no loop"
run_rc rc timeout 20 env PATH="$TMPD/bin1:$TMPD/bin2" bazel build //:x >"$TMPD/none.out" 2>"$TMPD/none.err"
[[ $rc -ne 124 ]] || fail "flywheel looped (killed by timeout)"
[[ $rc -eq 127 ]] || { cat "$TMPD/none.err" >&2; fail "no real Bazel: exit $rc, want 127"; }
assert_contains "$TMPD/none.err" '^flywheel: ' "a flywheel message explains it"
assert_contains "$TMPD/none.err" '[Bb]azel' "the message is about Bazel"

log "same through a symlink chain, invoked by full path"
run_rc rc timeout 20 env PATH="$TMPD/bin1:$TMPD/bin2" "$TMPD/bin2/bazel-chain" build //:x >/dev/null 2>"$TMPD/chain.err"
[[ $rc -ne 124 ]] || fail "flywheel looped through the symlink chain"
# bazel-chain is not named bazel: the multi-call rule does not apply; anything but a loop is fine.

log "real Bazel later on PATH is found"
run_rc rc timeout 20 env PATH="$TMPD/bin1:$TMPD/bin2:$TMPD/real" bazel build //:x >"$TMPD/found.out" 2>"$TMPD/found.err"
[[ $rc -eq 0 ]] || { cat "$TMPD/found.err" >&2; fail "with a real Bazel on PATH: exit $rc, want 0"; }
[[ -s "$FAKE_BAZEL_ARGV" ]] || fail "the real (fake) Bazel was not run"
read_argv "$FAKE_BAZEL_ARGV" got
printf '%s\n' "${got[@]}" >"$TMPD/got.txt"
assert_contains "$TMPD/got.txt" '^build$' "command reached Bazel"
assert_contains "$TMPD/got.txt" '^//:x$' "target reached Bazel"
rm -f "$FAKE_BAZEL_ARGV"

log "flywheel bazel, too"
run_rc rc timeout 20 env PATH="$TMPD/bin1:$TMPD/real" "$FLYWHEEL" bazel build //:y >/dev/null 2>"$TMPD/fw.err"
[[ $rc -eq 0 ]] || { cat "$TMPD/fw.err" >&2; fail "flywheel bazel with bazel->flywheel first on PATH: exit $rc"; }
[[ -s "$FAKE_BAZEL_ARGV" ]] || fail "the real (fake) Bazel was not run"
rm -f "$FAKE_BAZEL_ARGV"

log "BAZEL_REAL pointing back at flywheel does not loop"
run_rc rc timeout 20 env PATH="$TMPD/real" BAZEL_REAL="$TMPD/bin1/bazel" "$FLYWHEEL" bazel build //:z >/dev/null 2>"$TMPD/self.err"
[[ $rc -ne 124 ]] || fail "BAZEL_REAL=flywheel looped (killed by timeout)"

pass
