#!/bin/bash
# authority_audit: a workspace with three pinned http_file rules, two in the
# manifest and staged.  After a real Bazel 4.2.3 build the audit names exactly
# the third (repository and URL) and --strict fails; lock --from-audit + stage
# adopt it; the next audit and coverage report full coverage; with both servers
# stopped, clean --expunge and the build still passes.
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/nginx.sh"
. "$(dirname "$0")/lib/mirror.sh"
need_cmd nginx python3
[[ -n "$REAL_BAZEL" ]] || skip "needs bazel"

mkdir -p "$TMPD/mirror/fw" "$TMPD/up"
for n in one two; do head -c 3000 /dev/urandom >"$TMPD/mirror/fw/$n.bin"; done
head -c 5000 /dev/urandom >"$TMPD/up/third.bin"
sha() { sha256sum "$1" | cut -d' ' -f1; }
start_nginx_files "$TMPD/mirror"
MIRROR=$NGINX_BASE MIRROR_PREFIX=$NGINX_PREFIX
start_nginx_files "$TMPD/up"
UP=$NGINX_BASE UP_PREFIX=$NGINX_PREFIX

WS=$TMPD/ws OUR=$TMPD/our DIST=$TMPD/dist RC=$TMPD/rc M=$TMPD/inputs.json
mkdir -p "$WS" "$DIST" "$RC"
cat >"$WS/WORKSPACE" <<EOF2
load("@bazel_tools//tools/build_defs/repo:http.bzl", "http_file")
http_file(name = "one", sha256 = "$(sha "$TMPD/mirror/fw/one.bin")", urls = ["https://upstream.invalid/fw/one.bin"])
http_file(name = "two", sha256 = "$(sha "$TMPD/mirror/fw/two.bin")", urls = ["https://upstream.invalid/fw/two.bin"])
http_file(
    name = "third",
    sha256 = "$(sha "$TMPD/up/third.bin")",
    urls = ["$UP/third.bin"],
)
EOF2
cat >"$WS/BUILD" <<'EOF2'
genrule(name = "all", srcs = ["@one//file", "@two//file", "@third//file"], outs = ["all.txt"],
        cmd = "cat $(SRCS) | wc -c > $@")
EOF2
python3 - "$M" "$MIRROR" "$TMPD/mirror/fw" <<'EOF2'
import hashlib, json, os, sys
m, base, d = sys.argv[1:]
ins = []
for n in ("one.bin", "two.bin"):
    b = open(os.path.join(d, n), "rb").read()
    ins.append({"name": n, "sha256": hashlib.sha256(b).hexdigest(), "size": len(b),
                "urls": [f"{base}/fw/{n}", f"https://upstream.invalid/fw/{n}"],
                "canonical_urls": [f"https://upstream.invalid/fw/{n}"]})
json.dump({"schema": "flywheel-inputs/1", "version": 1, "expires": "2030-01-01T00:00:00Z", "inputs": ins},
          open(m, "w"), indent=2)
EOF2
bazel_env "$WS" "$OUR"
bz() { (cd "$WS" && timeout 600 "$REAL_BAZEL" --output_user_root="$OUR" "$@" --distdir="$DIST" --repository_cache="$RC"); }
stage() { fw stage --manifest "$M" --allow-unsigned --distdir "$DIST" --repository-cache "$RC" --no-progress "$@"; }

log "stage the two pinned inputs, build"
stage 2>"$TMPD/stage1.err" || { cat "$TMPD/stage1.err" >&2; fail "stage failed"; }
bz build //:all --build_event_json_file="$TMPD/bep1.json" >"$TMPD/build1.log" 2>&1 ||
	{ tail -20 "$TMPD/build1.log" >&2; fail "first build failed"; }

log "audit names exactly the third"
fw inputs audit --manifest "$M" --bep "$TMPD/bep1.json" --workspace "$WS" >"$TMPD/audit1.txt"
assert_contains "$TMPD/audit1.txt" "^upstream +$UP/third.bin +repository @third +checksum pinned by the rule +fix: flywheel lock $UP/third.bin" "audit line for the third"
assert_eq "$(grep -c '^upstream' "$TMPD/audit1.txt")" 1 "exactly one upstream download"
assert_not_contains "$TMPD/audit1.txt" "one.bin|two.bin" "the staged inputs made no download"
assert_contains "$TMPD/audit1.txt" "2 manifest inputs used without a download" "staged inputs counted"
run_rc rc fw inputs audit --manifest "$M" --bep "$TMPD/bep1.json" --workspace "$WS" --strict --json --out "$TMPD/audit1.json"
assert_eq "$rc" 1 "--strict exit status"
assert_eq "$(json_get "$TMPD/audit1.json" 'len(d["uncovered"])')" 1 "one uncovered input"
assert_eq "$(json_get "$TMPD/audit1.json" 'd["uncovered"][0]["repository"]')" third "uncovered repository"

log "coverage before adoption: the two required inputs are covered"
fw inputs coverage --manifest "$M" --distdir "$DIST" --repository-cache "$RC" >"$TMPD/cov1.txt"
assert_contains "$TMPD/cov1.txt" "^covered: 2 of 2" "coverage verdict"

log "a checksum mismatch is refused"
python3 - "$TMPD/audit1.json" "$TMPD/bad.json" <<'EOF2'
import json, sys
d = json.load(open(sys.argv[1])); d["uncovered"][0]["sha256"] = "0" * 64
json.dump(d, open(sys.argv[2], "w"))
EOF2
cp "$M" "$TMPD/before.json"
run_rc rc fw lock --from-audit "$TMPD/bad.json" --manifest "$M" 2>"$TMPD/bad.err"
assert_eq "$rc" 65 "mismatch exit"
assert_contains "$TMPD/bad.err" "declared 0{64}" "mismatch message"
cmp -s "$M" "$TMPD/before.json" || fail "a refused adoption changed the manifest"

log "adopt and stage"
fw lock --from-audit "$TMPD/audit1.json" --manifest "$M" 2>"$TMPD/lock.err" || { cat "$TMPD/lock.err" >&2; fail "lock --from-audit failed"; }
assert_eq "$(json_get "$M" '[i["name"] for i in d["inputs"]]')" "['one.bin', 'third.bin', 'two.bin']" "adopted names"
assert_eq "$(json_get "$M" 'd["version"]')" 2 "version bumped"
cp "$M" "$TMPD/adopted.json"
fw lock --from-audit "$TMPD/audit1.json" --manifest "$M" 2>/dev/null
cmp -s "$M" "$TMPD/adopted.json" || fail "adopting again is not deterministic"
stage 2>"$TMPD/stage2.err" || { cat "$TMPD/stage2.err" >&2; fail "stage after adoption failed"; }
fw inputs coverage --manifest "$M" --distdir "$DIST" --repository-cache "$RC" --json >"$TMPD/cov2.json"
assert_eq "$(json_get "$TMPD/cov2.json" 'd["covered"], d["required_staged"]')" "(True, 3)" "coverage after adoption"

log "clean --expunge, both servers stopped, build again: full coverage"
stop_nginx "$MIRROR_PREFIX"
stop_nginx "$UP_PREFIX"
bz clean --expunge >/dev/null 2>&1
bz build //:all --build_event_json_file="$TMPD/bep2.json" >"$TMPD/build2.log" 2>&1 ||
	{ tail -20 "$TMPD/build2.log" >&2; fail "build from staged inputs failed"; }
fw inputs audit --manifest "$M" --bep "$TMPD/bep2.json" --workspace "$WS" --strict >"$TMPD/audit2.txt" ||
	{ cat "$TMPD/audit2.txt" >&2; fail "strict audit after adoption failed"; }
assert_contains "$TMPD/audit2.txt" "^0 downloads .*3 manifest inputs used without a download" "no download at all"
assert_contains "$TMPD/audit2.txt" "^covered" "audit verdict"
pass
