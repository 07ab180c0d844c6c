#!/usr/bin/env bash
# .env.flywheel.local is data, never shell: a value holding $(...), `...` or ${...}
# is a configuration error — exit 78, exactly one line on stderr in the shape
# `flywheel: <subject>: <what>; <fix>`, nothing executed, nothing created, and Bazel
# never started (not even for --version).
. "$(dirname "$0")/lib/common.sh"

fake=$TMPD/bin/fake-bazel
make_fake_bazel "$fake" 7.4.1
ws=$TMPD/ws
mkdir -p "$ws"
: >"$ws/WORKSPACE"
export BAZEL_REAL=$fake FAKE_BAZEL_MARK=$TMPD/bazel-ran
cd "$ws"

pwned=/tmp/pwned-$$
rm -f "$pwned"
lines=(
	"X=\$(touch $pwned)"
	"BAZEL_REMOTE_CACHE=\$(touch $pwned)"
	"export BAZEL_REMOTE_INSTANCE_NAME=\`touch $pwned\`"
	"GF_BAZEL_JOBS=\"\$(touch $pwned)\""
	"BAZEL_REMOTE_CACHE=https://\${CACHE_HOST}/cache"
)

for line in "${lines[@]}"; do
	printf '# written by %s\n%s\n' "$E2E_NAME" "$line" >"$ws/.env.flywheel.local"
	for cmd in "bazel build //:x" "explain build //:x"; do
		# shellcheck disable=SC2086 # cmd is split on purpose
		run_rc rc "$FLYWHEEL" $cmd >"$TMPD/out" 2>"$TMPD/err"
		label="'$line' ($cmd)"
		[[ $rc -eq 78 ]] || { cat "$TMPD/err" >&2; fail "$label: exit $rc, want 78"; }
		assert_eq "$(wc -l <"$TMPD/err")" 1 "$label: stderr lines"
		assert_contains "$TMPD/err" '^flywheel: [^:]+.*: .+; .+$' "$label: message shape"
		assert_contains "$TMPD/err" '\.env\.flywheel\.local' "$label: message names the file"
		[[ ! -e "$pwned" ]] || { rm -f "$pwned"; fail "$label: the value was executed"; }
		[[ ! -e "$FAKE_BAZEL_MARK" ]] || fail "$label: Bazel was started"
		[[ ! -s "$TMPD/out" ]] || fail "$label: something was printed on stdout"
	done
done
# Nothing besides the files the test made appeared in the workspace.
assert_eq "$(cd "$ws" && find . | LC_ALL=C sort | tr '\n' ' ')" ". ./.env.flywheel.local ./WORKSPACE " "workspace contents"

log "the same key as plain data is accepted (control)"
printf 'FLYWHEEL_FALLBACK=local\n' >"$ws/.env.flywheel.local"
run_rc rc "$FLYWHEEL" bazel build //:x >/dev/null 2>"$TMPD/err"
[[ $rc -eq 0 ]] || { cat "$TMPD/err" >&2; fail "a plain value: exit $rc, want 0"; }
[[ -e "$FAKE_BAZEL_MARK" ]] || fail "Bazel did not run with a valid config"

pass
