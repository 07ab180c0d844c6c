#!/usr/bin/env bash
# probe_http: HTTP caches (nginx WebDAV) over http and https: the empty blob's
# CAS key is read (404 = fine), writers PUT it, basic auth answers 401 without
# and passes with a header, deny answers 403, https needs the test CA; a token
# file with loose permissions is refused before anything is sent.
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/remoteworker.sh"
. "$(dirname "$0")/lib/nginx.sh"
. "$(dirname "$0")/lib/probe.sh"
rw_enter_netns "$@"
need_cmd openssl
O=$TMPD/out
export FLYWHEEL_ALLOW_LOOPBACK=true

start_nginx_cache "$TMPD/cache"
probe_expect "$O" 0 "$NGINX_URL"
assert_contains "$O" 'GET (404|200)' "read of the empty blob"
# a writer also PUTs (the empty blob under its own key: correct content)
BAZEL_REMOTE_CACHE=$NGINX_URL GF_BAZEL_REMOTE_UPLOAD=true probe_expect "$O" 0
assert_contains "$O" 'PUT 20[014]' "writer PUT allowed"
[[ -f "$TMPD/cache/cas/e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" ]] || fail "PUT did not land"

# 401 without credentials, ok with a header; the secret never shows
start_nginx_cache --auth "user:s3cret-canary" "$TMPD/cache-auth"
A=$NGINX_URL
probe_expect "$O" 69 "$A"
expect_class "$O" auth 'not logged in \(HTTP 401'
BASIC=$(printf 'user:s3cret-canary' | base64)
BAZEL_REMOTE_HEADER="Authorization=Basic $BASIC" probe_expect "$O" 0 "$A"
BAZEL_REMOTE_HEADER="Authorization=Basic $BASIC" "$PROBE_NET" probe "$A" >"$O.human" 2>&1 || true
assert_not_contains "$O" "$BASIC|s3cret" "secret in JSON"
assert_not_contains "$O.human" "$BASIC|s3cret" "secret in the checklist"
# wrong credentials: refused, and the fix says so
BAZEL_REMOTE_HEADER="Authorization=Basic $(printf 'user:nope' | base64)" probe_expect "$O" 69 "$A"
expect_class "$O" auth 'credentials were refused'

# 403
start_nginx_cache --deny "$TMPD/cache-deny"
probe_expect "$O" 69 "$NGINX_URL"
expect_class "$O" auth 'not allowed to read \(HTTP 403'

# https: test CA needed
make_tls_cert "$TMPD/tls"
start_nginx_cache --tls "$TLS_CERT" "$TLS_KEY" "$TMPD/cache-tls"
FLYWHEEL_TLS_CA=$TLS_CA probe_expect "$O" 0 "$NGINX_URL"
probe_expect "$O" 69 "$NGINX_URL"
expect_class "$O" tls 'unknown CA'

# token file checks (doctor): loose mode refused, 0600 accepted, never printed
printf 'tok-canary-123\n' >"$TMPD/token"
chmod 644 "$TMPD/token"
run_rc rc env BAZEL_REMOTE_CACHE=$A GF_REAPI_CREDENTIAL_HELPER_TOKEN_FILE=$TMPD/token "$PROBE_NET" doctor --json >"$O" 2>&1
assert_eq "$rc" 1 "doctor exit with a loose token file"
expect_class "$O" auth 'mode 0644'
chmod 600 "$TMPD/token"
ln -s "$TMPD/token" "$TMPD/token-link"
run_rc rc env BAZEL_REMOTE_CACHE=$A GF_REAPI_CREDENTIAL_HELPER_TOKEN_FILE=$TMPD/token-link "$PROBE_NET" doctor --json >"$O" 2>&1
expect_class "$O" auth 'symbolic link'
run_rc rc env BAZEL_REMOTE_CACHE=$A GF_REAPI_CREDENTIAL_HELPER_TOKEN_FILE=$TMPD/token "$PROBE_NET" doctor >"$O" 2>&1
assert_contains "$O" 'credentials.*Authorization header' "token file loaded"
assert_contains "$O" 'no credential-helper protocol' "old Bazel warning"
assert_not_contains "$O" 'tok-canary' "token printed"
pass
