#!/usr/bin/env bash
# secret_paths: a canary token through every credential path flywheel reads —
# token file, token variable, header variable, an external credential helper —
# reaches Bazel only through the credential-helper protocol: never in any
# process's argv (sampled from /proc while flywheel runs), never in explain's
# text or JSON, never in a file under the temp dir other than the user's own
# 0600 token file.  Also: the helper answers nothing for a host that is not a
# configured remote; flywheel is not dumpable while it holds secrets (a process
# of the same unprivileged user cannot read its /proc/PID/environ); files and
# directories it creates for secrets are private.  The full-build canary with
# real Bazel 4.2.3 (which copies headers into its output base) is probe_canary.
. "$(dirname "$0")/lib/common.sh"
need_cmd python3 setpriv
CANARY=fwcanary$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
WS=$TMPD/ws
mkdir -p "$WS"
: >"$WS/WORKSPACE"
cd "$WS"
printf '%s\n' "$CANARY" >"$TMPD/token"
chmod 600 "$TMPD/token"
cat >"$TMPD/helper.sh" <<H
#!/bin/sh
cat >/dev/null
printf '{"headers":{"Authorization":["Bearer $CANARY"]}}\n'
H
chmod 700 "$TMPD/helper.sh"
export BAZEL_REAL=/usr/bin/true FLYWHEEL_BAZEL_VERSION=7.4.1 BAZEL_REMOTE_CACHE=grpcs://cache.example.invalid
export TMPDIR=$TMPD/tmp
mkdir -p "$TMPDIR"

# sample every process's command line while the commands below run
: >"$TMPD/cmdlines"
: >"$TMPD/watch"
(
	while [[ -f "$TMPD/watch" ]]; do
		for f in /proc/[0-9]*/cmdline; do { tr '\0' ' ' <"$f" && echo; } 2>/dev/null; done >>"$TMPD/cmdlines"
		sleep 0.02
	done
) &
WATCH=$!
on_exit "rm -f '$TMPD/watch'; kill $WATCH"

paths=0
check_path() { # NAME: run explain (text, JSON) and the helper with the current variables
	local name=$1 rc
	run_rc rc "$FLYWHEEL" explain build //x >"$TMPD/explain-$name.txt" 2>&1
	run_rc rc "$FLYWHEEL" --json explain build //x >"$TMPD/explain-$name.json" 2>&1
	assert_not_contains "$TMPD/explain-$name.txt" "$CANARY" "$name: canary in explain"
	assert_not_contains "$TMPD/explain-$name.json" "$CANARY" "$name: canary in explain --json"
	printf '{"uri":"grpcs://cache.example.invalid"}' | "$FLYWHEEL" credential-helper get >"$TMPD/helper-$name.out" 2>"$TMPD/helper-$name.err" ||
		fail "$name: credential helper failed: $(cat "$TMPD/helper-$name.err")"
	assert_contains "$TMPD/helper-$name.out" "$CANARY" "$name: the configured remote gets the credential"
	assert_not_contains "$TMPD/helper-$name.err" "$CANARY" "$name: canary on the helper's stderr"
	# another host (Bazel 6.3+ asks for downloads too) gets nothing
	printf '{"uri":"https://github.com/x.tgz"}' | "$FLYWHEEL" credential-helper get >"$TMPD/other-$name.out" 2>&1 || true
	assert_not_contains "$TMPD/other-$name.out" "$CANARY" "$name: credential sent to a host that is not a remote"
	paths=$((paths + 1))
}

GF_REAPI_CREDENTIAL_HELPER_TOKEN_FILE=$TMPD/token check_path token-file
GF_REAPI_CREDENTIAL_HELPER_TOKEN=$CANARY check_path token-env
BAZEL_REMOTE_HEADER="Authorization=Bearer $CANARY" check_path header-env
BAZEL_REMOTE_CACHE_HEADER="x-api-key=$CANARY" check_path cache-header-env
BAZEL_CREDENTIAL_HELPER=$TMPD/helper.sh check_path external-helper
printf 'GF_REAPI_CREDENTIAL_HELPER_TOKEN_FILE=%s\n' "$TMPD/token" >"$WS/.env.flywheel.local"
check_path env-file
rm -f "$WS/.env.flywheel.local"

# a token file others can read is refused, and the message does not quote it
chmod 644 "$TMPD/token"
run_rc rc env GF_REAPI_CREDENTIAL_HELPER_TOKEN_FILE="$TMPD/token" "$FLYWHEEL" credential-helper get \
	<<<'{"uri":"grpcs://cache.example.invalid"}' >"$TMPD/loose.out" 2>&1
chmod 600 "$TMPD/token"
[[ $rc != 0 ]] || fail "a 0644 token file was used"
assert_not_contains "$TMPD/loose.out" "$CANARY" "canary in the refusal"

# not dumpable while secrets are held: the same unprivileged user cannot read
# its environment (a dumpable process's /proc/PID/environ is readable by its owner)
mkfifo "$TMPD/fifo"
chmod 755 "$TMPD" "$TMPD/home" 2>/dev/null || true
chmod 644 "$TMPD/token"
setpriv --reuid=65534 --regid=65534 --clear-groups env GF_REAPI_CREDENTIAL_HELPER_TOKEN=$CANARY \
	"$FLYWHEEL" credential-helper get <"$TMPD/fifo" >/dev/null 2>&1 &
HP=$!
exec 7>"$TMPD/fifo"
sleep 0.3
dump=$(setpriv --reuid=65534 --regid=65534 --clear-groups cat "/proc/$HP/environ" 2>&1 | tr '\0' '\n' | grep -c "$CANARY" || true)
sleep_pid=
setpriv --reuid=65534 --regid=65534 --clear-groups sleep 5 &
sleep_pid=$!
sleep 0.2
control=$(setpriv --reuid=65534 --regid=65534 --clear-groups cat "/proc/$sleep_pid/environ" >/dev/null 2>&1 && echo readable || echo unreadable)
kill "$sleep_pid" 2>/dev/null || true
exec 7>&-
wait "$HP" 2>/dev/null || true
chmod 600 "$TMPD/token"
[[ $control == readable ]] || skip "cannot tell dumpable processes apart here (control process unreadable)"
[[ $dump == 0 ]] || fail "flywheel credential-helper is dumpable: its environment (with the token) is readable"

rm -f "$TMPD/watch"
wait "$WATCH" 2>/dev/null || true
[[ $(wc -l <"$TMPD/cmdlines") -gt 10 ]] || fail "process sampling saw nothing"
grep -v -- "grep\|od -An" "$TMPD/cmdlines" >"$TMPD/cmdlines.f" || true
assert_not_contains "$TMPD/cmdlines.f" "$CANARY" "canary in a process's argv"
# no file under the temp dir holds the canary except the token file and this test's own records
hits=$(grep -rl --exclude-dir=home "$CANARY" "$TMPD" 2>/dev/null | grep -v -e "/token$" -e "/helper.sh$" -e "/helper-[a-z-]*.out$" -e "/cmdlines" || true)
[[ -z "$hits" ]] || fail "canary written to: $hits"
# files flywheel created for itself are private
while IFS= read -r f; do
	m=$(stat -c %a "$f")
	(((8#$m & 8#077) == 0)) || fail "$f created by flywheel is mode $m"
done < <(find "$TMPD/tmp" "$TMPD/home/.cache" "$TMPD/home/.local" -newer "$TMPD/token" \( -type f -o -type d \) 2>/dev/null | grep -v "^$TMPD/tmp$" || true)
log "$paths credential paths checked"
pass
