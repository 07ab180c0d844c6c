#!/bin/bash
# bench/execlog.sh - read a 100k-spawn execution log in both formats:
# decompressed MB/s and peak RSS (GNU time -v) for flywheel's streaming readers.
# Usage: bench/execlog.sh [BUILD_DIR] [SPAWNS]   (default build dir: build)
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$src/build}
n=${2:-100000}
net=$build/flywheel-net
[[ -x "$net" ]] || { echo "bench: $net not built" >&2; exit 1; }
command -v zstd >/dev/null || { echo "bench: needs zstd" >&2; exit 1; }
[[ -x /usr/bin/time ]] || { echo "bench: needs GNU time (/usr/bin/time)" >&2; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fw-bench-execlog.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

python3 "$src/bench/gen_execlog.py" "$n" "$tmp/log.raw" "$tmp/log.json"
zstd -q -3 "$tmp/log.raw" -o "$tmp/log.zst"

run() { # name file bytes
	local name=$1 file=$2 bytes=$3 best=0 t0 t1 rss i out
	for i in 1 2 3; do
		t0=$(date +%s%N)
		out=$(/usr/bin/time -v "$net" execlog "$file" 2>"$tmp/time.txt")
		t1=$(date +%s%N)
		local ns=$((t1 - t0))
		if [[ $best == 0 || $ns -lt $best ]]; then best=$ns; fi
	done
	rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tmp/time.txt")
	local spawns
	spawns=$(printf '%s' "$out" | sed -E 's/.*"spawns": ?([0-9]+).*/\1/')
	[[ "$spawns" == "$n" ]] || { echo "bench: $name counted $spawns spawns, want $n" >&2; exit 1; }
	awk -v name="$name" -v b="$bytes" -v ns="$best" -v rss="$rss" -v z="$(stat -c %s "$file")" 'BEGIN {
		printf "| %-8s | %8.1f MB | %8.1f MB | %7.3f s | %7.0f MB/s | %6.1f MiB |\n",
			name, b / 1e6, z / 1e6, ns / 1e9, b / 1e6 / (ns / 1e9), rss / 1024 }'
}

echo "| format   | decompressed | on disk  | best of 3 | throughput   | peak RSS |"
echo "|----------|--------------|----------|-----------|--------------|----------|"
run compact "$tmp/log.zst" "$(stat -c %s "$tmp/log.raw")"
run json "$tmp/log.json" "$(stat -c %s "$tmp/log.json")"
echo "($n spawns; time includes process start; $(nproc) cores)"
