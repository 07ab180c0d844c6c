#!/bin/bash
# authority_mirrors: flywheel.ini [mirrors] becomes a Bazel downloader config:
# an archive not in the manifest is fetched from the mirror (its access log
# shows it) and an unlisted host is blocked with flywheel's message naming the
# fix.  Every downloader-config trap is one line naming file:line, exit 78.
# Cross-origin and https->http redirects from a mirror: the other host's log
# shows no Authorization.
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/nginx.sh"
. "$(dirname "$0")/lib/mirror.sh"
need_cmd nginx python3 curl
[[ -n "$REAL_BAZEL" ]] || skip "needs bazel"

mkdir -p "$TMPD/www/fw"
head -c 4000 /dev/urandom >"$TMPD/www/fw/routed.bin"
SHA=$(sha256sum "$TMPD/www/fw/routed.bin" | cut -d' ' -f1)
OTHER_SHA=$(head -c 100 /dev/urandom | sha256sum | cut -d' ' -f1)
start_nginx_files "$TMPD/www"
MIRROR=$NGINX_BASE MIRROR_PREFIX=$NGINX_PREFIX

WS=$TMPD/ws OUR=$TMPD/our
mkdir -p "$WS"
cat >"$WS/flywheel.ini" <<EOF2
[mirrors]
upstream.invalid/fw = $MIRROR/fw
EOF2
cat >"$WS/WORKSPACE" <<EOF2
load("@bazel_tools//tools/build_defs/repo:http.bzl", "http_file")
http_file(name = "routed", sha256 = "$SHA", urls = ["http://upstream.invalid/fw/routed.bin"])
http_file(name = "unlisted", sha256 = "$OTHER_SHA", urls = ["http://unlisted.invalid/routed-copy.bin"])
EOF2
cat >"$WS/BUILD" <<'EOF2'
genrule(name = "routed", srcs = ["@routed//file"], outs = ["r.txt"], cmd = "wc -c < $< > $@")
genrule(name = "unlisted", srcs = ["@unlisted//file"], outs = ["u.txt"], cmd = "wc -c < $< > $@")
EOF2
bazel_env "$WS" "$OUR"

log "write the downloader config from [mirrors]"
DL=$( cd "$WS" && fw inputs downloader-config --dir "$TMPD/private" )
[[ -f "$DL" ]] || fail "no downloader config written"
assert_eq "$(stat -c %a "$DL")" 600 "downloader config mode"
assert_eq "$(stat -c %a "$TMPD/private")" 700 "private dir mode"
fw inputs check-downloader-config "$DL" 2>/dev/null || fail "flywheel's own config fails its check"
bz() { (cd "$WS" && timeout 600 "$REAL_BAZEL" --output_user_root="$OUR" "$@" \
	--experimental_downloader_config="$DL" --repository_cache="$TMPD/rc"); }

log "a not-in-manifest archive comes from the mirror"
bz build //:routed --build_event_json_file="$TMPD/bep.json" >"$TMPD/build.log" 2>&1 ||
	{ tail -20 "$TMPD/build.log" >&2; fail "routed build failed"; }
assert_contains "$MIRROR_PREFIX/access.log" '"GET /fw/routed.bin HTTP' "mirror served the routed archive"
(cd "$WS" && fw inputs audit --bep "$TMPD/bep.json") >"$TMPD/audit.txt"
assert_contains "$TMPD/audit.txt" "^mirror +$MIRROR/fw/routed.bin +repository @routed" "audit calls it a mirror download"

log "an unlisted host is blocked with flywheel's message"
run_rc rc bz build //:unlisted >"$TMPD/blocked.log" 2>&1
[[ $rc -ne 0 ]] || fail "the unlisted host was not blocked"
assert_contains "$TMPD/blocked.log" "blocked all URLs.*flywheel lock URL" "blocked download names the fix"
assert_eq "$(grep -c unlisted "$MIRROR_PREFIX/access.log" || true)" 0 "nothing went to the mirror for it"

log "downloader-config traps: one line each, file:line, exit 78"
check_trap() {
	printf '%b' "$1" >"$TMPD/trap.cfg"
	run_rc rc fw inputs check-downloader-config "$TMPD/trap.cfg" 2>"$TMPD/trap.err"
	assert_eq "$rc" 78 "exit for: $1"
	assert_eq "$(wc -l <"$TMPD/trap.err")" 1 "one line for: $1"
	assert_contains "$TMPD/trap.err" "^flywheel: $TMPD/trap.cfg:$2: .*$3" "message for: $1"
}
check_trap 'rewrite (.*) https://m.example/$1\nblock *\n' 1 "blocked and not allowed"
check_trap '# x\nrewrite (.*) https://m.example/$2\n' 2 "group \\\$2"
check_trap 'block .*\n' 1 "not a host name"
check_trap 'allow m.example\nrewrite (.*) http://m.example/$1\n' 2 "plain http"

log "redirects from the mirror: no credential for another origin"
start_nginx "location / { return 200 'ok'; }"
OTHER=$NGINX_BASE OTHER_PREFIX=$NGINX_PREFIX
sed -i 's|access_log \(.*\);|log_format withauth "$request auth=[$http_authorization]"; access_log \1 withauth;|' "$OTHER_PREFIX/conf/nginx.conf"
kill -HUP "$(cat "$OTHER_PREFIX/nginx.pid")"
sleep 1
start_nginx "location /x { return 302 $OTHER/leak; } location /https { return 302 http://127.0.0.1:${OTHER#http://127.0.0.1:}/down; }"
REDIR=$NGINX_BASE
# the system's libcurl (the one flywheel links): Authorization set as a header
curl -s -L -H "Authorization: Bearer e2e-secret" "$REDIR/x" >/dev/null
# flywheel's own downloads (lock) never send one at all
fw lock --manifest "$TMPD/m.json" "$REDIR/x/file.bin" 2>/dev/null || true
assert_contains "$OTHER_PREFIX/access.log" "GET /leak" "the redirect reached the other origin"
assert_not_contains "$OTHER_PREFIX/access.log" "e2e-secret|auth=\[[^-]" "no Authorization sent to the other origin"
pass
