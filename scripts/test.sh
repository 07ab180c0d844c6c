#!/usr/bin/env bash
# test.sh - set the machine up, build, run every test suite, print one summary line.
#
# The last line is exactly `N passed, N failed` (with `, N skipped` when any test was
# skipped), counted from meson's testlog.json: each registered test counts once
# (a cmocka binary with many cases is one test).  Exits non-zero when any test failed,
# timed out or could not run, or when meson itself failed.
#
# Extra arguments go to `meson test` (e.g. `--suite unit`, a test name).
# Environment: BUILD_DIR as for scripts/setup.sh.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
build_dir=${BUILD_DIR:-build}

bash scripts/setup.sh

log="$build_dir/meson-logs/testlog.json"
rm -f "$log"
meson_rc=0
meson test -C "$build_dir" --print-errorlogs "$@" || meson_rc=$?

passed=0 failed=0 skipped=0
if [[ -f "$log" ]]; then
	# One JSON object per line; "result" is OK, EXPECTEDFAIL, SKIP, FAIL, TIMEOUT,
	# UNEXPECTEDPASS, ERROR, ...  Anything that is not a pass or a skip is a failure.
	read -r passed failed skipped < <(python3 - "$log" <<'EOF'
import json, sys
p = f = s = 0
with open(sys.argv[1], encoding="utf-8", errors="replace") as fh:
    for line in fh:
        line = line.strip()
        if not line:
            continue
        r = json.loads(line).get("result", "")
        if r in ("OK", "EXPECTEDFAIL"):
            p += 1
        elif r == "SKIP":
            s += 1
        else:
            f += 1
print(p, f, s)
EOF
	) || { passed=0 failed=1 skipped=0; }
fi

# meson failed without recording a failed test (e.g. it could not start): count it.
if ((meson_rc != 0 && failed == 0)); then
	failed=1
fi

# The reliability battery (ASan+UBSan over the unit and e2e suites, valgrind over
# the unit suite, every fuzzer): each stage counts as one test.  Only for a whole
# run (no meson test arguments) unless FLYWHEEL_RELIABILITY=0 turns it off.
if [[ $# -eq 0 && "${FLYWHEEL_RELIABILITY:-1}" != 0 ]]; then
	rel_log="$build_dir/meson-logs/reliability.log"
	BUILD_DIR="$build_dir" bash scripts/reliability.sh 2>&1 | tee "$rel_log" || true
	rel_ok=$(grep -cE '^reliability: [a-z]+: ok' "$rel_log" || true)
	rel_failed=$(grep -cE '^reliability: [a-z]+: FAILED' "$rel_log" || true)
	passed=$((passed + rel_ok))
	failed=$((failed + rel_failed))
	if ((rel_ok + rel_failed == 0)); then
		echo "reliability: the battery reported no stage" >&2
		failed=$((failed + 1))
	fi
fi

summary="$passed passed, $failed failed"
((skipped > 0)) && summary+=", $skipped skipped"
printf '%s\n' "$summary"
((failed == 0))
