# shellcheck shell=bash
# tests/e2e/lib/mirror.sh - the example archives behind a test-owned nginx mirror,
# a signed manifest pointing at it, and a `fw` function running the inputs
# commands.  Source lib/common.sh and lib/nginx.sh first.
#
# Functions:
#   fw ARGS...            run flywheel-net ARGS (the inputs commands), falling back
#                         to `flywheel ARGS` when the helper path is unknown
#   mirror_setup          build the example archives (scripts/make-example-archives.sh)
#                         into $TMPD/www/flywheel, start nginx on it, write
#                         $TMPD/inputs.json (examples/bazel/inputs.json with the mirror
#                         port), generate test key $TMPD/keys/test.{key,pub} and sign it.
#                         Sets MIRROR_DIR, MIRROR_BASE, MANIFEST, PUBKEY, SECKEY, NGINX_*.
#   sign_manifest FILE    sign FILE with the test key
#   json_get FILE EXPR    python3 json lookup (EXPR is a Python expression on `d`)
export XDG_CACHE_HOME=$TMPD/home/.cache XDG_STATE_HOME=$TMPD/home/.local/state

fw() {
	if [[ -n "$FLYWHEEL_NET_BIN" ]]; then
		"$FLYWHEEL_NET_BIN" "$@"
	else
		"$FLYWHEEL" "$@"
	fi
}

mirror_setup() {
	MIRROR_DIR=$TMPD/www/flywheel
	mkdir -p "$MIRROR_DIR" "$TMPD/keys"
	"$SRCDIR/scripts/make-example-archives.sh" "$MIRROR_DIR" >"$TMPD/archives.txt"
	start_nginx_files "$TMPD/www"
	MIRROR_BASE=$NGINX_BASE/flywheel
	MANIFEST=$TMPD/inputs.json
	sed "s#http://127.0.0.1:18080#$NGINX_BASE#g" "$SRCDIR/examples/bazel/inputs.json" >"$MANIFEST"
	(cd "$TMPD/keys" && fw keygen test) 2>/dev/null || fail "keygen failed"
	PUBKEY=$TMPD/keys/test.pub SECKEY=$TMPD/keys/test.key
	sign_manifest "$MANIFEST"
}

sign_manifest() {
	fw sign --key "$SECKEY" "$1" 2>/dev/null || fail "signing $1 failed"
}

json_get() {
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}
