#!/usr/bin/env bash
# child_modes.sh - Bazel as a child of flywheel (--report, proof): quota exhaustion
# retried with announced, bounded waits; the report's summary line and its
# flywheel-status/1 file; SIGINT to `flywheel proof` reaching Bazel, and flywheel
# exiting with Bazel's status.
. "$(dirname "$0")/lib/common.sh"

WS=$TMPD/ws
mkdir -p "$WS"
: >"$WS/WORKSPACE"
export XDG_CACHE_HOME=$TMPD/xdg

log "quota: RESOURCE_EXHAUSTED twice, then success: three attempts"
cat >"$TMPD/quota-bazel" <<EOF
#!/bin/bash
[[ "\${1:-}" == --version ]] && { echo "bazel 7.4.1"; exit 0; }
n=\$(cat "$TMPD/attempts" 2>/dev/null || echo 0)
echo \$((n + 1)) >"$TMPD/attempts"
if ((n < 2)); then
	echo "ERROR: RESOURCE_EXHAUSTED: quota exceeded for the remote executor" >&2
	exit 34
fi
echo "INFO: 3 processes: 1 internal, 2 remote." >&2
exit 0
EOF
chmod +x "$TMPD/quota-bazel"
run_rc rc env BAZEL_REAL="$TMPD/quota-bazel" GF_BAZEL_QUOTA_RETRIES=3 \
	bash -c 'cd "$1" && exec "$2" --report="$3" bazel build //:x' _ "$WS" "$FLYWHEEL" "$TMPD/report.json" \
	>"$TMPD/quota.out" 2>"$TMPD/quota.err"
cat "$TMPD/quota.err" >&2
assert_eq "$rc" 0 "exit after the third attempt"
assert_eq "$(cat "$TMPD/attempts")" 3 "attempts"
assert_eq "$(grep -c 'RESOURCE_EXHAUSTED); retry' "$TMPD/quota.err")" 2 "each wait announced"
assert_contains "$TMPD/quota.err" "retry 1 of 3 in [0-9]+ ms" "first wait announced with its length"
python3 - "$TMPD/report.json" <<'EOF' || fail "report JSON"
import json, sys
o = json.load(open(sys.argv[1]))
assert o["schema"] == "flywheel-status/1", o
s = json.dumps(o)
assert '"attempts": 3' in s, s
EOF
[[ "$(stat -c %a "$TMPD/report.json")" == 600 ]] || fail "report file mode"

log "quota retries run out: Bazel's exit 34 passes through"
rm -f "$TMPD/attempts"
run_rc rc env BAZEL_REAL="$TMPD/quota-bazel" GF_BAZEL_QUOTA_RETRIES=1 \
	bash -c 'cd "$1" && exec "$2" --report bazel build //:x' _ "$WS" "$FLYWHEEL" >/dev/null 2>"$TMPD/quota2.err"
assert_eq "$rc" 34 "exit when retries run out"
assert_eq "$(cat "$TMPD/attempts")" 2 "one retry"

log "plain exec (no --report): no retry, 34 passes through at once"
rm -f "$TMPD/attempts"
run_rc rc env BAZEL_REAL="$TMPD/quota-bazel" GF_BAZEL_QUOTA_RETRIES=3 \
	bash -c 'cd "$1" && exec "$2" bazel build //:x' _ "$WS" "$FLYWHEEL" >/dev/null 2>&1
assert_eq "$rc" 34 "exec mode passes 34 through"
assert_eq "$(cat "$TMPD/attempts")" 1 "exec mode does not retry"

log "SIGINT to flywheel proof reaches Bazel; flywheel exits with Bazel's status"
cat >"$TMPD/slow-bazel" <<EOF
#!/bin/bash
[[ "\${1:-}" == --version ]] && { echo "bazel 7.4.1"; exit 0; }
trap 'echo interrupted >"$TMPD/got-int"; exit 8' INT
echo \$\$ >"$TMPD/bazel.pid"
for _ in \$(seq 1 300); do sleep 0.1; done
exit 0
EOF
chmod +x "$TMPD/slow-bazel"
(cd "$WS" && BAZEL_REAL="$TMPD/slow-bazel" exec "$FLYWHEEL" proof --out "$TMPD/proof.json" -- //:x) \
	>"$TMPD/proof.out" 2>"$TMPD/proof.err" &
fpid=$!
for _ in $(seq 1 100); do [[ -s "$TMPD/bazel.pid" ]] && break; sleep 0.1; done
[[ -s "$TMPD/bazel.pid" ]] || fail "Bazel did not start under proof"
kill -INT "$fpid"
run_rc rc wait "$fpid"
[[ -s "$TMPD/got-int" ]] || fail "SIGINT did not reach Bazel"
assert_eq "$rc" 8 "flywheel proof exits with Bazel's status"
assert_contains "$TMPD/proof.err" "refused" "the interrupted proof is refused"
pass
