#!/bin/bash
# bench/audit.sh [BUILD_DIR] - `flywheel inputs audit` over a build event file
# with 10,000 fetch events (plus as many progress events that name them, as
# Bazel writes), against a 2,000-input manifest.  Target: <= 100 ms.
set -euo pipefail
build=${1:-build}
net=$build/flywheel-net
[[ -x "$net" ]] || { echo "build flywheel-net first ($net)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 - "$tmp" <<'EOF2'
import json, sys, hashlib
d = sys.argv[1]
ins = []
for i in range(2000):
    n = f"in-{i}.tar.gz"
    ins.append({"name": n, "sha256": hashlib.sha256(n.encode()).hexdigest(), "size": 100,
                "urls": [f"https://mirror.example/fw/{n}", f"https://upstream.example/{n}"],
                "canonical_urls": [f"https://upstream.example/{n}"]})
json.dump({"schema": "flywheel-inputs/1", "version": 1, "expires": "2030-01-01T00:00:00Z", "inputs": ins},
          open(f"{d}/inputs.json", "w"))
with open(f"{d}/bep.json", "w") as f:
    for i in range(10000):
        url = f"https://mirror.example/fw/in-{i}.tar.gz" if i < 2000 else f"https://upstream.example/x/dep-{i}.tar.gz"
        f.write(json.dumps({"id": {"progress": {"opaqueCount": i}}, "children": [{"fetch": {"url": url}}],
                            "progress": {"stderr": "Fetching @dep; fetching\n" * 3}}) + "\n")
        f.write(json.dumps({"id": {"fetch": {"url": url}}, "fetch": {"success": i % 10 != 0}}) + "\n")
EOF2
echo "bep: $(wc -l <"$tmp/bep.json") events, $(du -h "$tmp/bep.json" | cut -f1)"
cd "$tmp"
if command -v hyperfine >/dev/null; then
	hyperfine -N --warmup 3 --runs 20 --export-json "$tmp/h.json" \
		"$net inputs audit --manifest $tmp/inputs.json --bep $tmp/bep.json --json" >/dev/null
	python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][0]; print("audit of 10,000 fetch events: median %.1f ms (min %.1f, max %.1f)" % (r["median"]*1e3, r["min"]*1e3, r["max"]*1e3))' "$tmp/h.json"
else
	s=$(date +%s%N); for _ in 1 2 3 4 5; do "$net" inputs audit --manifest inputs.json --bep bep.json --json >/dev/null; done
	echo "audit of 10,000 fetch events: mean $(( ($(date +%s%N) - s) / 5000000 )) ms"
fi
