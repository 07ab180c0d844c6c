#!/bin/bash
# stage_hostile: every hostile input gives a clear error, and nothing is ever
# placed under a final name: flipped byte, wrong size, endless body, trickling
# server, https->http redirect, every mirror bad, traversal names, bad JSON,
# flipped signature bytes, wrong key, expired, rollback, planted symlink,
# read-only and full destinations.  Signature problems are refused before any
# byte is fetched (the mirror's access log stays empty).
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/nginx.sh"
. "$(dirname "$0")/lib/mirror.sh"
need_cmd nginx python3 openssl

mirror_setup
read -r CC_NAME CC_SHA CC_SIZE < <(grep '^rules_cc' "$TMPD/archives.txt")
read -r BIG_NAME BIG_SHA BIG_SIZE < <(grep '^example_data' "$TMPD/archives.txt")

# hostile server
HPORT=$(free_port)
python3 "$SRCDIR/tests/e2e/lib/hostile_server.py" "$HPORT" &
HPID=$!
on_exit "kill $HPID"
wait_for_port "$HPORT" 20 "$HPID" || fail "hostile server did not start"
HBASE=http://127.0.0.1:$HPORT

# TLS server that redirects to plain http
make_tls_cert "$TMPD/tls"
MIRROR_PORT=$NGINX_PORT MIRROR_PREFIX=$NGINX_PREFIX
start_nginx --tls "$TLS_CERT" "$TLS_KEY" "location / { return 302 http://127.0.0.1:$MIRROR_PORT/flywheel\$uri; }"
TLSBASE=$NGINX_BASE

# one-input manifest: NAME SHA SIZE URL...
one() {
	local name=$1 sha=$2 size=$3 urls="" u
	shift 3
	for u in "$@"; do urls+="${urls:+,}\"$u\""; done
	printf '{"schema":"flywheel-inputs/1","version":1,"expires":"2099-01-01T00:00:00Z","inputs":[{"name":"%s","sha256":"%s","size":%s,"urls":[%s]}]}\n' \
		"$name" "$sha" "$size" "$urls"
}
# expect_fail REGEX [stage options...] <manifest text on stdin>: stage must fail
# with REGEX in its error, and leave nothing under a final name.
expect_fail() {
	local re=$1
	shift
	local d
	d=$(mktemp -d "$TMPD/case.XXXXXX")
	mkdir -p "$d/dist" "$d/rc" "$d/state"
	cat >"$d/m.json"
	local rc
	run_rc rc env XDG_STATE_HOME="$d/state" "$FLYWHEEL_NET_BIN" stage --manifest "$d/m.json" --allow-unsigned \
		--distdir "$d/dist" --repository-cache "$d/rc" --cacert "$TLS_CA" "$@" >"$d/out" 2>"$d/err"
	[[ $rc -ne 0 ]] || { cat "$d/err" >&2; fail "case /$re/: stage passed"; }
	assert_contains "$d/err" "$re" "case /$re/ error"
	assert_contains "$d/err" '^flywheel: ' "case /$re/ message shape"
	if find "$d/dist" "$d/rc" -type f ! -name .flywheel.lock | grep -q .; then
		find "$d/dist" "$d/rc" -type f >&2
		fail "case /$re/: something was placed"
	fi
	log "ok (exit $rc): $(grep -v 'NOT SIGNED' "$d/err" | tail -1 | cut -c1-200)"
}

log "flipped byte"
mkdir -p "$TMPD/www/bad"
cp "$MIRROR_DIR/$CC_NAME" "$TMPD/www/bad/$CC_NAME"
printf '\xff' | dd of="$TMPD/www/bad/$CC_NAME" bs=1 seek=100 conv=notrunc 2>/dev/null
one "$CC_NAME" "$CC_SHA" "$CC_SIZE" "$MIRROR_BASE/../bad/$CC_NAME" | expect_fail 'SHA-256 mismatch'

log "wrong size (pinned too small, too large)"
one "$CC_NAME" "$CC_SHA" $((CC_SIZE - 1)) "$MIRROR_BASE/$CC_NAME" | expect_fail 'longer than the pinned'
one "$CC_NAME" "$CC_SHA" $((CC_SIZE + 1)) "$MIRROR_BASE/$CC_NAME" | expect_fail "got $CC_SIZE bytes, pinned"

log "endless body is cut off at the pinned size"
start=$(date +%s)
one endless.tgz "$CC_SHA" 1000000 "$HBASE/endless" | expect_fail 'longer than the pinned 1000000 bytes'
(($(date +%s) - start < 30)) || fail "endless body was not cut off quickly"

log "trickling server hits the low-speed limit"
one trickle.tgz "$CC_SHA" 1000 "$HBASE/trickle" | expect_fail 'too slow|deadline' --low-speed-time 2

log "per-input deadline"
one trickle.tgz "$CC_SHA" 1000 "$HBASE/trickle" | expect_fail 'too slow|deadline' --deadline 2 --low-speed-time 60

log "https -> http redirect refused"
one "$CC_NAME" "$CC_SHA" "$CC_SIZE" "$TLSBASE/$CC_NAME" | expect_fail 'refused protocol'

log "every mirror bad: each reason listed"
one "$CC_NAME" "$CC_SHA" "$CC_SIZE" "$MIRROR_BASE/nope.tgz" "$MIRROR_BASE/../bad/$CC_NAME" "http://127.0.0.1:1/x.tgz" |
	expect_fail 'HTTP 404.*SHA-256 mismatch.*127\.0\.0\.1:1'

log "mirror fallback: a bad first mirror, a good second"
d=$TMPD/fallback
mkdir -p "$d/dist"
one "$CC_NAME" "$CC_SHA" "$CC_SIZE" "$MIRROR_BASE/nope.tgz" "$MIRROR_BASE/$CC_NAME" >"$d/m.json"
fw stage --manifest "$d/m.json" --allow-unsigned --distdir "$d/dist" --json >"$d/out.json" 2>/dev/null || fail "fallback failed"
assert_eq "$(json_get "$d/out.json" 'd["inputs"][0]["url"]')" "$MIRROR_BASE/$CC_NAME" "fallback url"

log "manifest problems: refused before anything is fetched"
before=$(nginx_count_requests "$MIRROR_PREFIX" GET)
one "../$CC_NAME" "$CC_SHA" "$CC_SIZE" "$MIRROR_BASE/$CC_NAME" | expect_fail 'inputs\[0\].*name'
one "sub/x.tgz" "$CC_SHA" "$CC_SIZE" "$MIRROR_BASE/$CC_NAME" | expect_fail 'path separator'
echo '{"schema": "flywheel-inputs/1", "version": 1,' | expect_fail 'not valid JSON'

signed_case() { # signed_case REGEX MANIFEST-TEXT-FILE [extra stage args]: like expect_fail, signature on
	local re=$1 f=$2
	shift 2
	local d
	d=$(mktemp -d "$TMPD/case.XXXXXX")
	mkdir -p "$d/dist"
	cp "$f" "$d/m.json"
	[[ -f "$f.sig" ]] && cp "$f.sig" "$d/m.json.sig"
	run_rc rc "$FLYWHEEL_NET_BIN" stage --manifest "$d/m.json" --trust "$PUBKEY" --distdir "$d/dist" "$@" >"$d/out" 2>"$d/err"
	[[ $rc -eq 65 ]] || fail "case /$re/: stage exited $rc, want 65"
	assert_contains "$d/err" "$re" "case /$re/ error"
	if find "$d/dist" -type f ! -name .flywheel.lock | grep -q .; then fail "case /$re/: something placed"; fi
	log "ok (exit $rc): $(tail -1 "$d/err" | cut -c1-200)"
}
cp "$MANIFEST" "$TMPD/flip.json"
cp "$MANIFEST.sig" "$TMPD/flip.json.sig"
python3 - "$TMPD/flip.json.sig" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
i = s.index(":") + 10
s = s[:i] + ("B" if s[i] != "B" else "C") + s[i + 1:]
open(p, "w").write(s)
PY
signed_case 'does not match' "$TMPD/flip.json"
cp "$MANIFEST" "$TMPD/unsigned.json"
signed_case 'not signed' "$TMPD/unsigned.json"
(cd "$TMPD/keys" && fw keygen other) 2>/dev/null
cp "$MANIFEST" "$TMPD/wrongkey.json"
fw sign --key "$TMPD/keys/other.key" "$TMPD/wrongkey.json" 2>/dev/null
signed_case 'not trusted' "$TMPD/wrongkey.json"
sed 's/"expires": "[^"]*"/"expires": "2001-01-01T00:00:00Z"/' "$MANIFEST" >"$TMPD/expired.json"
sign_manifest "$TMPD/expired.json"
signed_case 'expired' "$TMPD/expired.json"
after=$(nginx_count_requests "$MIRROR_PREFIX" GET)
assert_eq "$after" "$before" "requests made for refused manifests"

log "rollback: version 3 accepted, then version 2 refused"
d=$TMPD/rollback
mkdir -p "$d/dist"
sed 's/"version": [0-9]*/"version": 3/' "$MANIFEST" >"$d/m.json"
sign_manifest "$d/m.json"
fw stage --manifest "$d/m.json" --trust "$PUBKEY" --distdir "$d/dist" 2>/dev/null || fail "version 3 refused"
sed 's/"version": [0-9]*/"version": 2/' "$MANIFEST" >"$d/m.json"
sign_manifest "$d/m.json"
run_rc rc fw stage --manifest "$d/m.json" --trust "$PUBKEY" --distdir "$d/dist" 2>"$d/err"
[[ $rc -eq 65 ]] || fail "rollback: exit $rc"
assert_contains "$d/err" 'version 2 is lower than version 3' "rollback message"

log "symlink planted at a destination is neither followed nor replaced"
d=$TMPD/planted
mkdir -p "$d/dist" "$d/elsewhere"
ln -s "$d/elsewhere/target" "$d/dist/$CC_NAME"
one "$CC_NAME" "$CC_SHA" "$CC_SIZE" "$MIRROR_BASE/$CC_NAME" >"$d/m.json"
run_rc rc fw stage --manifest "$d/m.json" --allow-unsigned --distdir "$d/dist" 2>"$d/err"
[[ $rc -ne 0 ]] || fail "planted symlink: stage passed"
assert_contains "$d/err" 'symbolic link' "planted symlink message"
[[ -L "$d/dist/$CC_NAME" && ! -e "$d/elsewhere/target" ]] || fail "planted symlink was followed or replaced"

if unshare -rm true 2>/dev/null; then
	log "full destination (1 MiB tmpfs) and read-only destination"
	d=$TMPD/small
	mkdir -p "$d/dist" "$d/ro"
	one "$BIG_NAME" "$BIG_SHA" "$BIG_SIZE" "$MIRROR_BASE/$BIG_NAME" >"$d/m.json"
	cat >"$d/run.sh" <<EOS
set -e
mount -t tmpfs -o size=1m tmpfs "$d/dist"
mount -t tmpfs -o size=1m,ro tmpfs "$d/ro"
set +e
"$FLYWHEEL_NET_BIN" stage --manifest "$d/m.json" --allow-unsigned --distdir "$d/dist" 2>"$d/full.err"
echo "full=\$?" >"$d/rcs"
ls -A "$d/dist" >"$d/full.ls"
"$FLYWHEEL_NET_BIN" stage --manifest "$d/m.json" --allow-unsigned --distdir "$d/ro" 2>"$d/ro.err"
echo "ro=\$?" >>"$d/rcs"
EOS
	XDG_STATE_HOME=$d/state unshare -rm bash "$d/run.sh" || fail "tmpfs run failed"
	grep -q '^full=0' "$d/rcs" && fail "full disk: stage passed"
	grep -q '^ro=0' "$d/rcs" && fail "read-only: stage passed"
	assert_contains "$d/full.err" 'No space left' "full disk message"
	assert_contains "$d/ro.err" 'Read-only' "read-only message"
	assert_not_contains "$d/full.ls" "$BIG_NAME|flywheel-tmp" "full disk left a file"
else
	log "unshare -rm unavailable: full/read-only destination cases skipped"
fi
pass
