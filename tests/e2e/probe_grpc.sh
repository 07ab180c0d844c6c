#!/usr/bin/env bash
# probe_grpc: REAPI GetCapabilities against Bazel's RemoteWorker over grpc,
# grpcs (test CA, TLS-terminating nginx in front) and mTLS, and every TLS failure class: unknown CA, wrong CA,
# name mismatch, expired certificate, client certificate required.
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/remoteworker.sh"
. "$(dirname "$0")/lib/nginx.sh"
. "$(dirname "$0")/lib/probe.sh"
rw_enter_netns "$@"
need_cmd openssl
rw_build
make_tls_pki "$TMPD/pki"
O=$TMPD/out

# plain grpc: healthy, capabilities decoded
start_remoteworker
probe_expect "$O" 0 "grpc://127.0.0.1:$RW_PORT"
assert_contains "$O" '"status": "ok"' "grpc healthy"
assert_contains "$O" 'SHA256, AC update, exec, API 2\.0' "capabilities decoded"
# executor mode from configuration: exec_enabled is checked; verdicts stored
FLYWHEEL_ALLOW_LOOPBACK=true BAZEL_REMOTE_EXECUTOR=grpc://127.0.0.1:$RW_PORT GF_BAZEL_SUBSTRATE_MODE=executor-backed \
	BAZEL_REMOTE_INSTANCE_NAME=main probe_expect "$O" 0
assert_contains "$O" '"executor": "grpc://127.0.0.1:' "executor chosen"
ls "$HOME/.cache/flywheel/"verdict-* >/dev/null 2>&1 || fail "no verdict stored"
[[ $(stat -c %a "$HOME/.cache/flywheel") == 700 ]] || fail "verdict dir not 0700"

# TLS: Debian's RemoteWorker cannot serve TLS itself (its netty wants
# netty-tcnative, which Debian does not ship), so a TLS-terminating nginx
# (grpc_pass, HTTP/2 with ALPN) fronts it, as in many real deployments.
RW=$RW_PORT
grpcs_front() { # CERT KEY [EXTRA-DIRECTIVES]
	# ignore_invalid_headers off: REAPI metadata header names hold dots
	start_nginx --tls "$1" "$2" --h2c "ignore_invalid_headers off; ${3:-} location / { grpc_pass grpc://127.0.0.1:$RW; }"
}
grpcs_front "$PKI_SRV_CERT" "$PKI_SRV_KEY"
P=$NGINX_PORT
FLYWHEEL_TLS_CA=$PKI_CA probe_expect "$O" 0 "grpcs://127.0.0.1:$P"
assert_contains "$O" '"status": "ok"' "grpcs healthy with the CA"
assert_contains "$O" 'SHA256, AC update, exec' "capabilities through TLS"
FLYWHEEL_TLS_CA=$PKI_CA probe_expect "$O" 0 "grpcs://localhost:$P"
probe_expect "$O" 69 "grpcs://127.0.0.1:$P"
expect_class "$O" tls 'unknown CA'
FLYWHEEL_TLS_CA=$PKI_OTHER_CA probe_expect "$O" 69 "grpcs://127.0.0.1:$P"
expect_class "$O" tls 'the configured one did not'
# grpc:// against a TLS port: not HTTP/2 gRPC
probe_expect "$O" 69 "grpc://127.0.0.1:$P"
assert_contains "$O" '"class": "(connect|tls)"' "plain client on a TLS port"
stop_nginx "$NGINX_PREFIX"

# name mismatch
grpcs_front "$PKI_WRONGNAME_CERT" "$PKI_WRONGNAME_KEY"
FLYWHEEL_TLS_CA=$PKI_CA probe_expect "$O" 69 "grpcs://127.0.0.1:$NGINX_PORT"
expect_class "$O" tls 'does not match the name'
stop_nginx "$NGINX_PREFIX"

# expired certificate
grpcs_front "$PKI_EXPIRED_CERT" "$PKI_EXPIRED_KEY"
FLYWHEEL_TLS_CA=$PKI_CA probe_expect "$O" 69 "grpcs://127.0.0.1:$NGINX_PORT"
expect_class "$O" tls 'expired'
stop_nginx "$NGINX_PREFIX"

# mTLS required
grpcs_front "$PKI_SRV_CERT" "$PKI_SRV_KEY" "ssl_client_certificate $PKI_CA; ssl_verify_client on;"
FLYWHEEL_TLS_CA=$PKI_CA probe_expect "$O" 69 "grpcs://127.0.0.1:$NGINX_PORT"
expect_class "$O" tls 'client certificate'
assert_contains "$O" 'tls_client_cert' "fix names the setting"
FLYWHEEL_TLS_CA=$PKI_CA FLYWHEEL_TLS_CLIENT_CERT=$PKI_CLI_CERT FLYWHEEL_TLS_CLIENT_KEY=$PKI_CLI_KEY \
	probe_expect "$O" 0 "grpcs://127.0.0.1:$NGINX_PORT"
assert_contains "$O" '"status": "ok"' "mTLS healthy with a client certificate"
pass
