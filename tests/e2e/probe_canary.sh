#!/usr/bin/env bash
# probe_canary: a full `flywheel bazel build` against an HTTP cache that only
# accepts a bearer canary token.  The canary must appear nowhere: not in any
# spawned process's /proc/*/cmdline, not in the build event file, not in the
# environment the Bazel server got, not in flywheel's output.  Where Bazel 4
# itself copies the header into its output base logs, nobody but the user may
# read them (output user root 0700).  Needs the launcher (flywheel bazel).
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/nginx.sh"
[[ -n "$REAL_BAZEL" ]] || skip "needs a real Bazel"
CANARY=fwcanary$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')

mkdir -p "$TMPD/cache"
start_nginx "location /cache/ {
            if (\$http_authorization != \"Bearer $CANARY\") { return 401; }
            alias $TMPD/cache/;
            dav_methods PUT;
            create_full_put_path on;
            client_max_body_size 0;
        }"
WS=$TMPD/ws
make_workspace "$WS"
OUR=$TMPD/our
bazel_env "$WS" "$OUR"
printf '%s\n' "$CANARY" >"$TMPD/token"
chmod 600 "$TMPD/token"

export BAZEL_REAL=$REAL_BAZEL FLYWHEEL_ALLOW_LOOPBACK=true BAZEL_REMOTE_CACHE=$NGINX_BASE/cache \
	GF_BAZEL_REMOTE_UPLOAD=true GF_REAPI_CREDENTIAL_HELPER_TOKEN=$CANARY

# watch every process while the build runs
: >"$TMPD/cmdlines"
: >"$TMPD/watch" # before the watcher starts, or it may look, find nothing and stop
(
	end=$((SECONDS + 600)) # bounded even if the build hangs
	while [[ -f "$TMPD/watch" ]] && ((SECONDS < end)); do
		for f in /proc/[0-9]*/cmdline; do tr '\0' ' ' <"$f" 2>/dev/null && echo; done >>"$TMPD/cmdlines"
		sleep 0.05
	done
) &
WATCH=$!
on_exit "rm -f '$TMPD/watch'; kill $WATCH"
cd "$WS"
run_rc rc "$FLYWHEEL" bazel build //:hello --build_event_json_file="$TMPD/bep.json" >"$TMPD/out" 2>&1
# the Bazel server's environment, while it still runs
pidf=$(ls "$OUR"/*/server/server.pid.txt 2>/dev/null | head -n1 || true)
[[ -n "$pidf" ]] && tr '\0' '\n' <"/proc/$(cat "$pidf")/environ" >"$TMPD/server.env" 2>/dev/null || true
rm -f "$TMPD/watch"
wait "$WATCH" 2>/dev/null || true
[[ "$rc" == 0 ]] || { cat "$TMPD/out" >&2; fail "build failed: exit $rc"; }

[[ $(wc -l <"$TMPD/cmdlines") -gt 10 ]] || fail "process watch saw nothing"
assert_not_contains "$TMPD/cmdlines" "$CANARY" "canary in a command line"
assert_not_contains "$TMPD/out" "$CANARY" "canary in flywheel/Bazel output"
# Bazel 4 (no credential helpers) copies rc-file options, the header included,
# into the build event file's structured command line: then the file must be
# private to the user (the launcher runs old Bazel with umask 077).
if grep -q "$CANARY" "$TMPD/bep.json"; then
	mode=$(stat -c %a "$TMPD/bep.json")
	log "Bazel copied the header into the build event file (Bazel 4 does); mode $mode"
	(((8#$mode & 8#077) == 0)) || fail "build event file holds the canary and is mode $mode (readable by others)"
fi
[[ -s "$TMPD/server.env" ]] && assert_not_contains "$TMPD/server.env" "$CANARY" "canary in Bazel's environment"
# the token really reached the cache: uploads succeeded, nothing was refused
[[ $(nginx_count_requests "$NGINX_PREFIX" PUT) -gt 0 ]] || fail "nothing uploaded to the cache"
assert_not_contains "$NGINX_PREFIX/access.log" '" 401 ' "cache refused the token"
# Bazel 4 logs headers in its output base: the output user root must be private
[[ $(stat -c %a "$OUR") == 700 ]] || fail "output user root is $(stat -c %a "$OUR"), not 700"
if grep -rlq "$CANARY" "$OUR" 2>/dev/null; then
	log "Bazel copied the header into its output base (as Bazel 4 does); checking it is private"
	while IFS= read -r f; do
		p=$f
		ok=0
		while [[ "$p" != / && "$p" != "$(dirname "$OUR")" ]]; do
			[[ $(stat -c %a "$p") == 700 ]] && ok=1
			p=$(dirname "$p")
		done
		[[ $ok == 1 ]] || fail "$f holds the canary and is reachable by others"
	done < <(grep -rl "$CANARY" "$OUR")
fi
pass
