#!/usr/bin/env bash
# flywheel execs Bazel: same pid, and every exit status 0..255 and death by a signal
# passes through unchanged.  A fake Bazel (BAZEL_REAL) exits with $FAKE_BAZEL_EXIT or
# kills itself with $FAKE_BAZEL_SIGNAL.
. "$(dirname "$0")/lib/common.sh"

fake=$TMPD/bin/fake-bazel
make_fake_bazel "$fake" 7.4.1
mkdir -p "$TMPD/ws"
: >"$TMPD/ws/WORKSPACE"
cd "$TMPD/ws"
export BAZEL_REAL=$fake FAKE_BAZEL_PID=$TMPD/pid

for n in 0 1 2 3 4 8 34 36 37 64 78 125 126 127 128 200 254 255; do
	FAKE_BAZEL_EXIT=$n "$FLYWHEEL" bazel build //:x >/dev/null 2>"$TMPD/err" &
	pid=$!
	run_rc rc wait "$pid"
	[[ $rc -eq $n ]] || { cat "$TMPD/err" >&2; fail "fake Bazel exit $n came back as $rc"; }
	[[ "$(cat "$TMPD/pid" 2>/dev/null)" == "$pid" ]] || fail "Bazel ran as pid $(cat "$TMPD/pid" 2>/dev/null), not flywheel's $pid (no exec?)"
	rm -f "$TMPD/pid"
done
log "exit codes pass through, same pid"

for sig in TERM KILL USR1 ABRT; do
	num=$(kill -l "$sig")
	FAKE_BAZEL_SIGNAL=$sig "$FLYWHEEL" bazel build //:x >/dev/null 2>"$TMPD/err" &
	pid=$!
	run_rc rc wait "$pid"
	[[ $rc -eq $((128 + num)) ]] || { cat "$TMPD/err" >&2; fail "fake Bazel killed by SIG$sig: status $rc, want $((128 + num))"; }
done
log "death by signal passes through"

log "a signal sent to flywheel's pid reaches Bazel"
cat >"$TMPD/bin/sleepy-bazel" <<'S'
#!/bin/bash
[[ "${1:-}" == --version ]] && { echo "bazel 7.4.1"; exit 0; }
trap 'echo got-term >"$FAKE_BAZEL_TERM"; exit 42' TERM
: >"$FAKE_BAZEL_READY"
for ((i = 0; i < 200; i++)); do sleep 0.1; done
exit 0
S
chmod +x "$TMPD/bin/sleepy-bazel"
export FAKE_BAZEL_TERM=$TMPD/term FAKE_BAZEL_READY=$TMPD/ready
BAZEL_REAL=$TMPD/bin/sleepy-bazel "$FLYWHEEL" bazel build //:x >/dev/null 2>"$TMPD/err" &
pid=$!
for ((i = 0; i < 200; i++)); do
	[[ -e "$FAKE_BAZEL_READY" ]] && break
	sleep 0.1
done
[[ -e "$FAKE_BAZEL_READY" ]] || { kill -9 "$pid" 2>/dev/null; fail "sleepy Bazel never started"; }
kill -TERM "$pid"
run_rc rc wait "$pid"
assert_eq "$rc" 42 "Bazel's exit status after its SIGTERM handler"
assert_eq "$(cat "$FAKE_BAZEL_TERM" 2>/dev/null)" got-term "Bazel received SIGTERM"

pass
