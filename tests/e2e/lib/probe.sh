# shellcheck shell=bash
# tests/e2e/lib/probe.sh - run `flywheel-net probe` and check its verdict.
# Source lib/common.sh first.
#
#   PROBE_NET             the flywheel-net binary ($FLYWHEEL_NET, else build dir)
#   probe_expect OUT RC [ARGS...]
#       run `probe --json ARGS` with stdout in OUT, stderr in OUT.err; fail unless
#       it exits RC and finishes within the deadline plus slack (--timeout-ms or
#       FLYWHEEL_PROBE_TIMEOUT_MS or 2000, plus 3000 ms: a deadline that is not
#       honoured shows up as 30 s and more, never as a few hundred ms)
#   expect_class OUT CLASS REGEX
#       the JSON in OUT has a failed check of CLASS whose detail or fix matches REGEX

PROBE_NET=${FLYWHEEL_NET_BIN:-${FLYWHEEL_NET:-$SRCDIR/build/flywheel-net}}

probe_expect() {
	local out=$1 want=$2 rc t0 ms deadline=${FLYWHEEL_PROBE_TIMEOUT_MS:-2000} a
	shift 2
	for a in "$@"; do
		[[ "$a" == --timeout-ms=* ]] && deadline=${a#--timeout-ms=}
	done
	t0=$(date +%s%N)
	run_rc rc "$PROBE_NET" probe --json "$@" >"$out" 2>"$out.err"
	ms=$((($(date +%s%N) - t0) / 1000000))
	if [[ "$rc" != "$want" ]]; then
		cat "$out" "$out.err" >&2
		fail "probe $*: exit $rc, want $want"
	fi
	((ms <= deadline + 3000)) || fail "probe $*: took $ms ms, deadline $deadline ms"
	assert_contains "$out" '"schema": "flywheel-status/1"' "probe $*: status schema"
	log "probe $* -> exit $rc in $ms ms"
}

expect_class() {
	local out=$1 cls=$2 re=$3
	assert_contains "$out" "\"class\": \"$cls\"" "class $cls"
	assert_contains "$out" "$re" "text /$re/"
	assert_contains "$out" '"status": "fail"' "a failed check"
	assert_contains "$out" '"fix": "[^"]+' "a fix"
}
