#!/usr/bin/env bash
# Nix substituter check against a real HTTP binary cache (nginx on loopback):
# nix-cache-info, and narinfos signed with Ed25519 keys this test makes (openssl):
# good, tampered, signed by an unknown key, unsigned, missing, replayed under
# another hash; a cache for another store directory; a cache that is down.
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/nginx.sh"
need_cmd openssl python3
[[ -x "$FLYWHEEL_NET_BIN" ]] || skip "no flywheel-net helper (FLYWHEEL_NET)"
unset NIX_CONFIG NIX_USER_CONF_FILES NIX_STORE_DIR NIX_SSL_CERT_FILE
export XDG_CONFIG_DIRS=$TMPD/xdg

cache=$TMPD/cache
mkdir -p "$cache/nar" "$cache/gnu" "$TMPD/etc"
printf 'StoreDir: /nix/store\nWantMassQuery: 1\nPriority: 40\n' >"$cache/nix-cache-info"
printf 'StoreDir: /gnu/store\n' >"$cache/gnu/nix-cache-info"

# keys: team-1 is trusted, rogue-1 is not
keygen() {
	openssl genpkey -algorithm ed25519 -out "$TMPD/$1.pem" 2>/dev/null
	printf '%s:%s' "$1" "$(openssl pkey -in "$TMPD/$1.pem" -pubout -outform DER | tail -c 32 | base64 -w0)"
}
team_pub=$(keygen team-1)
rogue_pub=$(keygen rogue-1)
sign() { # KEYNAME TEXT -> base64 signature
	printf '%s' "$2" >"$TMPD/fp.txt"
	openssl pkeyutl -sign -inkey "$TMPD/$1.pem" -rawin -in "$TMPD/fp.txt" | base64 -w0
}

narhash=sha256:04zwf782yjwnh3q6hz5izfd6jyip8kgw6g6yj43fiqhbyhdd0dqw
ref_a=1p9q0bz6f22dyxh4lw8xs08p4201vyq4-glibc-2.37
ref_b=y0misapf2x2sqkrjsjysr6wng31h9wkq-zlib-1.3
# write_narinfo HASH NAME KEY|- [NARSIZE-AFTER-SIGNING]
write_narinfo() {
	local h=$1 name=$2 key=$3 size=4096 path=/nix/store/$1-$2 fp
	# the signed fingerprint lists references as full store paths, sorted
	fp="1;$path;$narhash;$size;/nix/store/$ref_a,/nix/store/$ref_b"
	{
		printf 'StorePath: %s\nURL: nar/%s.nar\nCompression: none\n' "$path" "${narhash#sha256:}"
		printf 'NarHash: %s\nNarSize: %s\n' "$narhash" "${4:-$size}"
		printf 'References: %s %s\n' "$ref_b" "$ref_a" # unsorted on purpose
		if [[ "$key" != - ]]; then printf 'Sig: %s:%s\n' "$key" "$(sign "$key" "$fp")"; fi
	} >"$cache/$h.narinfo"
}
good=0a0b0c0d0f0g0h0i0j0k0l0m0n0p0q0r
tampered=1a1b1c1d1f1g1h1i1j1k1l1m1n1p1q1r
unknown=2a2b2c2d2f2g2h2i2j2k2l2m2n2p2q2r
unsigned=3a3b3c3d3f3g3h3i3j3k3l3m3n3p3q3r
missing=4a4b4c4d4f4g4h4i4j4k4l4m4n4p4q4r
replayed=5a5b5c5d5f5g5h5i5j5k5l5m5n5p5q5r
write_narinfo "$good" hello-2.12 team-1
write_narinfo "$tampered" hello-2.12 team-1 4097
write_narinfo "$unknown" hello-2.12 rogue-1
write_narinfo "$unsigned" hello-2.12 -
cp "$cache/$good.narinfo" "$cache/$replayed.narinfo"

start_nginx_files "$cache"
cat >"$TMPD/etc/nix.conf" <<EOF
# test nix.conf
substituters = $NGINX_BASE/
trusted-public-keys = $team_pub
experimental-features = nix-command
EOF
export NIX_CONF_DIR=$TMPD/etc

check() { # NAME HASH -> runs nix-check, output in $TMPD/NAME.out, status in rc
	run_rc rc "$FLYWHEEL_NET_BIN" nix-check --narinfo "$2" >"$TMPD/$1.out" 2>"$TMPD/$1.err"
	sed "s/^/  $1| /" "$TMPD/$1.out" >&2
}

log "good narinfo, signed by the trusted key"
check good "$good"
assert_eq "$rc" 0 "good narinfo: exit status"
assert_contains "$TMPD/good.out" "✓ nix config  $TMPD/etc/nix.conf: 1 substituter, 1 trusted key" "config line"
assert_contains "$TMPD/good.out" "✓ nix cache $NGINX_BASE  [0-9]+ ms  StoreDir /nix/store, Priority 40" "cache-info line"
assert_contains "$TMPD/good.out" "✓ nix narinfo $good from $NGINX_BASE  [0-9]+ ms  /nix/store/$good-hello-2.12 signed by team-1" "narinfo line"
assert_not_contains "$TMPD/good.out" "✗" "no failed line"
[[ ! -s "$TMPD/good.err" ]] || fail "stderr not empty: $(cat "$TMPD/good.err")"

log "tampered narinfo (NarSize changed after signing)"
check tampered "$tampered"
assert_eq "$rc" 1 "tampered: exit status"
assert_contains "$TMPD/tampered.out" "✗ nix narinfo $tampered .*signature by 'team-1' does not verify" "tampered line"
assert_contains "$TMPD/tampered.out" "^ +auth: do not use this cache" "tampered fix line"

log "narinfo signed only by a key nobody trusts: fail closed"
check unknown "$unknown"
assert_eq "$rc" 1 "unknown key: exit status"
assert_contains "$TMPD/unknown.out" "✗ nix narinfo $unknown .*signed only by 'rogue-1', which is not in trusted-public-keys; refusing \(fail closed\)" "unknown key line"
assert_contains "$TMPD/unknown.out" "auth: if you trust this cache, add its public key" "unknown key fix"

log "the same narinfo is accepted once rogue-1 is trusted (extra-trusted-public-keys)"
NIX_CONFIG="extra-trusted-public-keys = $rogue_pub" check unknown2 "$unknown"
assert_eq "$rc" 0 "unknown key, now trusted: exit status"
assert_contains "$TMPD/unknown2.out" "signed by rogue-1" "verified by the extra key"
assert_contains "$TMPD/unknown2.out" "nix.conf, NIX_CONFIG: 1 substituter, 2 trusted keys" "NIX_CONFIG is read last"

log "unsigned narinfo"
check unsigned "$unsigned"
assert_eq "$rc" 1 "unsigned: exit status"
assert_contains "$TMPD/unsigned.out" "is not signed; Nix would refuse it" "unsigned line"

log "missing narinfo"
check missing "$missing"
assert_eq "$rc" 1 "missing: exit status"
assert_contains "$TMPD/missing.out" "✗ nix narinfo $missing .*$missing.narinfo is not on the cache" "missing line"
assert_contains "$TMPD/missing.out" "external-input: push that path to the cache" "missing fix"

log "a validly signed narinfo served under another hash"
check replayed "$replayed"
assert_eq "$rc" 1 "replayed: exit status"
assert_contains "$TMPD/replayed.out" "asked for $replayed but the narinfo describes /nix/store/$good-hello-2.12" "replay line"

log "JSON: every check has name, status, latency, detail, class, fix"
run_rc rc "$FLYWHEEL_NET_BIN" nix-check --json --narinfo "$tampered" >"$TMPD/json.out"
assert_eq "$rc" 1 "json: exit status"
python3 - "$TMPD/json.out" "$tampered" <<'EOF' || fail "JSON output is wrong"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["schema"] == "flywheel-nix-check/1", d
assert d["ok"] is False and d["nix_configured"] is True, d
c = d["checks"]
assert [x["status"] for x in c] == ["ok", "ok", "fail"], c
for x in c:
    assert set(x) == {"name", "status", "latency_ms", "detail", "class", "fix"}, x
assert c[2]["class"] == "auth" and c[2]["fix"] and c[2]["latency_ms"] >= 0, c[2]
assert c[2]["name"].startswith("nix narinfo " + sys.argv[2]), c[2]
EOF

log "a second substituter for another store directory, and one that is down"
down=http://127.0.0.1:$(free_port)
cat >"$TMPD/other.conf" <<EOF
substituters = $NGINX_BASE $NGINX_BASE/gnu $down
trusted-public-keys = $team_pub
EOF
run_rc rc "$FLYWHEEL_NET_BIN" nix-check --nix-conf "$TMPD/other.conf" --narinfo "$good" >"$TMPD/other.out" 2>&1
sed 's/^/  other| /' "$TMPD/other.out" >&2
assert_eq "$rc" 1 "mixed substituters: exit status"
assert_contains "$TMPD/other.out" "✓ nix narinfo $good from $NGINX_BASE " "the good cache still passes"
assert_contains "$TMPD/other.out" "✗ nix cache $NGINX_BASE/gnu .*the cache serves store /gnu/store, this machine uses /nix/store" "store dir mismatch"
assert_contains "$TMPD/other.out" "✗ nix cache $down .*Couldn't connect|✗ nix cache $down .*Connection refused" "cache down"
assert_contains "$TMPD/other.out" "^ +connect: " "cache down is a connect failure"

log "Nix not configured at all: one skip line, exit 0"
NIX_CONF_DIR=$TMPD/none run_rc rc "$FLYWHEEL_NET_BIN" nix-check >"$TMPD/none.out" 2>&1
assert_eq "$rc" 0 "no nix.conf: exit status"
assert_contains "$TMPD/none.out" "^ 1 - nix config  Nix is not configured here" "skip line"

log "usage errors"
run_rc rc "$FLYWHEEL_NET_BIN" nix-check --narinfo not-a-hash >"$TMPD/usage.out" 2>&1
assert_eq "$rc" 64 "bad hash: exit status"
assert_contains "$TMPD/usage.out" "^flywheel: not-a-hash: not a store path hash; give the 32-character hash part of a store path" "bad hash message"

if command -v nix >/dev/null 2>&1; then
	log "real Nix agrees on the fingerprint: nix store verify accepts good, refuses tampered and unknown"
	nixv() {
		NIX_CONFIG="experimental-features = nix-command" timeout 60 nix store verify --no-contents \
			--store "$NGINX_BASE" --trusted-public-keys "$team_pub" "/nix/store/$1-hello-2.12" >"$TMPD/nixv.out" 2>&1
	}
	run_rc rc nixv "$good"
	[[ $rc -eq 0 ]] || { cat "$TMPD/nixv.out" >&2; fail "real Nix refuses the narinfo flywheel accepts"; }
	run_rc rc nixv "$tampered"
	[[ $rc -ne 0 ]] || fail "real Nix accepts the tampered narinfo"
	run_rc rc nixv "$unknown"
	[[ $rc -ne 0 ]] || fail "real Nix accepts the narinfo signed by an untrusted key"
else
	log "nix not installed (Debian nix-bin): cross-check with real Nix skipped"
fi

pass
