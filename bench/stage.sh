#!/bin/bash
# bench/stage.sh BUILDDIR - staging benchmarks, ratios in one run (issue 4):
#  1. staging 1 GiB (64 x 16 MiB) from a loopback nginx: flywheel stage vs
#     sequential `curl | sha256sum` vs Bazel 4.2.3 fetching the same archives
#  2. hashing throughput (stage_hash_fd, via `lock FILE`) vs `openssl speed -evp sha256`
#  3. warm re-stage of 1000 staged inputs: `flywheel stage` (helper) and the
#     launcher's stat-only stagecheck_warm()
#  4. peak RSS while staging one 1 GiB input
# Set BENCH_SKIP_BAZEL=1 to skip the Bazel comparison.
set -euo pipefail
BUILD=$(cd "${1:?usage: bench/stage.sh BUILDDIR}" && pwd)
SRC=$(cd "$(dirname "$0")/.." && pwd)
NET=$BUILD/flywheel-net
export FLYWHEEL_SRCDIR=$SRC FLYWHEEL_NET=$NET FLYWHEEL_BIN=$BUILD/flywheel
# reuse the e2e helpers (temp dir, nginx, cleanup)
. "$SRC/tests/e2e/lib/common.sh"
. "$SRC/tests/e2e/lib/nginx.sh"
. "$SRC/tests/e2e/lib/mirror.sh"
E2E_NAME=bench-stage
ms() { python3 -c "import sys; print(round(float(sys.argv[1])*1000, 1))" "$1"; }
now() { date +%s.%N; }
elapsed() { python3 -c "import sys; print(float(sys.argv[2]) - float(sys.argv[1]))" "$1" "$2"; }

W=$TMPD/www/big
mkdir -p "$W"
log "generating 64 x 16 MiB"
head -c 16777216 /dev/urandom >"$W/seed"
for i in $(seq -w 1 64); do
	{ printf '%s' "$i"; head -c 16777214 "$W/seed"; } >"$W/a$i.bin"
done
rm "$W/seed"
start_nginx_files "$TMPD/www"
(cd "$TMPD" && "$NET" keygen bench) 2>/dev/null
M=$TMPD/big.json
"$NET" lock --manifest "$M" --url-base "$NGINX_BASE/big/" "$W"/a*.bin 2>/dev/null
"$NET" sign --key "$TMPD/bench.key" "$M" 2>/dev/null
sync

# 1. 1 GiB staging
best_fw=999
for run in 1 2 3; do
	rm -rf "$TMPD/s"
	mkdir -p "$TMPD/s/d" "$TMPD/s/rc"
	t0=$(now)
	"$NET" stage --manifest "$M" --trust "$TMPD/bench.pub" --distdir "$TMPD/s/d" --repository-cache "$TMPD/s/rc" >/dev/null 2>&1
	t=$(elapsed "$t0" "$(now)")
	best_fw=$(python3 -c "print(min($best_fw, $t))")
done
t0=$(now)
for i in $(seq -w 1 64); do curl -s "$NGINX_BASE/big/a$i.bin" | sha256sum >/dev/null; done
t_curl=$(elapsed "$t0" "$(now)")
t_bazel=""
if [[ "${BENCH_SKIP_BAZEL:-0}" != 1 && -n "$REAL_BAZEL" ]]; then
	BW=$TMPD/bzws
	mkdir -p "$BW"
	{
		echo 'load("@bazel_tools//tools/build_defs/repo:http.bzl", "http_file")'
		python3 - "$M" <<'PY'
import json, sys
for i in json.load(open(sys.argv[1]))["inputs"]:
    n = i["name"].replace(".bin", "")
    print('http_file(name = "%s", sha256 = "%s", urls = ["%s"])' % (n, i["sha256"], i["urls"][0]))
PY
	} >"$BW/WORKSPACE"
	targets=$(python3 -c "print(' '.join('@a%02d//file' % i for i in range(1, 65)))")
	echo 'filegroup(name = "all", srcs = [' >"$BW/BUILD"
	for i in $(seq -w 1 64); do echo "\"@a$i//file\"," >>"$BW/BUILD"; done
	echo '])' >>"$BW/BUILD"
	bazel_env "$BW" "$TMPD/bzour"
	(cd "$BW" && "$REAL_BAZEL" --output_user_root="$TMPD/bzour" info >/dev/null 2>&1)
	t0=$(now)
	(cd "$BW" && "$REAL_BAZEL" --output_user_root="$TMPD/bzour" fetch //:all >/dev/null 2>&1)
	t_bazel=$(elapsed "$t0" "$(now)")
	bazel_shutdown "$BW" "$TMPD/bzour"
fi

# 2. hashing throughput: one core, file in page cache
cat "$W"/a*.bin >"$TMPD/one-gib.bin"
cat "$TMPD/one-gib.bin" >/dev/null
t0=$(now)
"$NET" lock --manifest "$TMPD/hash.json" --url-base http://x.invalid/ "$TMPD/one-gib.bin" >/dev/null 2>&1
t_hash=$(elapsed "$t0" "$(now)")
fw_mbs=$(python3 -c "print(round(1073741824 / $t_hash / 1e6))")
ossl_mbs=$(openssl speed -evp sha256 -bytes 16384 -seconds 3 2>/dev/null | awk '/^sha256/ {v=$NF; sub(/k$/, "", v); print int(v * 1000 / 1e6)}')

# 4. peak RSS staging one 1 GiB input
"$NET" lock --manifest "$TMPD/one.json" --url-base "$NGINX_BASE/" "$TMPD/one-gib.bin" >/dev/null 2>&1
mv "$TMPD/one-gib.bin" "$TMPD/www/one-gib.bin"
"$NET" sign --key "$TMPD/bench.key" "$TMPD/one.json" 2>/dev/null
mkdir -p "$TMPD/r/d"
rss_kb=$(/usr/bin/time -f '%M' "$NET" stage --manifest "$TMPD/one.json" --trust "$TMPD/bench.pub" \
	--distdir "$TMPD/r/d" 2>&1 >/dev/null | tail -1)
rm -rf "$TMPD/r" "$TMPD/www/one-gib.bin" "$TMPD/s"

# 3. warm re-stage of 1000 inputs (small files on disk, already staged)
S=$TMPD/warm
mkdir -p "$S/files"
for i in $(seq 1 1000); do printf 'input %d\n' "$i" >"$S/files/in$i.tgz"; done
"$NET" lock --manifest "$S/m.json" --url-base http://mirror.invalid/ "$S"/files/in*.tgz >/dev/null 2>&1
"$NET" sign --key "$TMPD/bench.key" "$S/m.json" 2>/dev/null
mkdir -p "$S/d"
cp "$S"/files/* "$S/d/"
stage_warm=("$NET" stage --manifest "$S/m.json" --trust "$TMPD/bench.pub" --distdir "$S/d" --repository-cache "$S/rc")
"${stage_warm[@]}" --offline >/dev/null 2>&1
"${stage_warm[@]}" --offline >/dev/null 2>&1
warm_helper=$(hyperfine -N --warmup 3 --runs 30 --export-json "$TMPD/h.json" "${stage_warm[*]} --offline" >/dev/null 2>&1 &&
	python3 -c "import json; print(round(json.load(open('$TMPD/h.json'))['results'][0]['median']*1000, 1))")
cc -O2 -std=c11 -D_GNU_SOURCE -I"$SRC/include" -I"$BUILD" "$SRC/bench/stagecheck_bench.c" \
	"$BUILD/libflywheel-core.a" $(pkg-config --libs libsodium inih jansson) -o "$TMPD/scb"
warm_check=$("$TMPD/scb" "$S/m.json" "$S/rc" "$S/d" 50 "$TMPD/bench.pub")

r() { python3 -c "import sys; print(round(float(sys.argv[1]) / float(sys.argv[2]), 2))" "$1" "$2"; }
section=$(cat <<EOT

Measured by \`bench/stage.sh\` on this machine (2 cores, loopback nginx), one run:

| what | flywheel | alternative | ratio |
|---|---|---|---|
| stage 1 GiB (64 x 16 MiB), verified, into distdir + repository cache | $(ms "$best_fw") ms (best of 3) | sequential \`curl \| sha256sum\`: $(ms "$t_curl") ms | $(r "$t_curl" "$best_fw")x faster |
| same | $(ms "$best_fw") ms | Bazel 4.2.3 \`fetch\` of the same 64 \`http_file\`s: ${t_bazel:+$(ms "$t_bazel") ms} | ${t_bazel:+$(r "$t_bazel" "$best_fw")x faster} |
| SHA-256 throughput, one core (\`flywheel lock FILE\` on 1 GiB in page cache, hashed from a read-only mapping) | $fw_mbs MB/s | \`openssl speed -evp sha256\` (16 KiB blocks): $ossl_mbs MB/s | $(r "$fw_mbs" "$ossl_mbs") of it (target >= 0.8) |
| warm re-stage of 1000 staged inputs, \`flywheel stage\` (helper process: record + stat of every file; no manifest parse, no download) | $warm_helper ms | target 30 ms | |
| warm check of 1000 staged inputs, launcher path \`stagecheck_warm()\` (stat only) | $warm_check ms | target 30 ms | |
| peak RSS staging one 1 GiB input | $((rss_kb / 1024)) MiB | target 16 MiB | |
EOT
)
printf '## Staging\n%s\n' "$section"
if [[ "${BENCH_NO_WRITE:-0}" != 1 ]]; then
	printf '%s\n' "$section" >"$TMPD/section.md"
	python3 "$SRC/bench/write-section.py" "$SRC/docs/PERFORMANCE.md" "Staging" "$TMPD/section.md"
fi
