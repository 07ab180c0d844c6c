#!/usr/bin/env bash
# race_stage: 16 concurrent `flywheel stage` and 4 concurrent `flywheel bazel`
# (a fake Bazel; the launcher's warm check finds the inputs missing and stages
# them itself) on one repository cache and distdir, configured in flywheel.ini:
# all succeed, each input is downloaded exactly once (stage.c holds an flock on
# every destination directory for the whole run, so the later stagers find the
# inputs in place), distdir and cache hold one copy (same inode), no temp file
# is left, and every Bazel got the staged destinations.  Then a distdir swapped
# for a symlink to an outside directory, again and again while a stager runs:
# nothing is ever written outside, the stager errors or completes, and a later
# run completes with verified files.
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/nginx.sh"
. "$(dirname "$0")/lib/mirror.sh"
need_cmd nginx python3 sha256sum

mkdir -p "$TMPD/www/in" "$TMPD/keys" "$TMPD/ws"
N_IN=6
for i in $(seq 1 $N_IN); do
	head -c $((512 * 1024 + i * 777)) /dev/urandom >"$TMPD/www/in/input-$i.tar.gz"
done
# 4 MiB/s per connection: each download lasts ~0.13 s, so the 20 processes overlap
start_nginx "location / { root $TMPD/www; limit_rate 4m; }"
M=$TMPD/inputs.json
python3 - "$TMPD/www/in" "$NGINX_BASE/in" >"$M" <<'PY'
import hashlib, json, os, sys
d, base = sys.argv[1], sys.argv[2]
ins = []
for n in sorted(os.listdir(d)):
    b = open(os.path.join(d, n), "rb").read()
    ins.append({"name": n, "sha256": hashlib.sha256(b).hexdigest(), "size": len(b), "urls": [base + "/" + n]})
print(json.dumps({"schema": "flywheel-inputs/1", "version": 1, "expires": "2099-01-01T00:00:00Z", "inputs": ins}, indent=1))
PY
(cd "$TMPD/keys" && fw keygen test) >/dev/null 2>&1 || fail "keygen failed"
fw sign --key "$TMPD/keys/test.key" "$M" >/dev/null 2>&1 || fail "signing failed"
python3 -c 'import json,sys
for i in json.load(open(sys.argv[1]))["inputs"]: print(i["name"], i["sha256"])' "$M" >"$TMPD/expect.txt"

DIST=$TMPD/shared/dist RC=$TMPD/shared/rc
WS=$TMPD/ws
: >"$WS/WORKSPACE"
cat >"$WS/flywheel.ini" <<INI
[inputs]
manifest = $M
[bazel]
distdir = $DIST
repository_cache = $RC
[trust]
test = $TMPD/keys/test.pub
INI
make_fake_bazel "$TMPD/bin/bazel" 7.4.1
export BAZEL_REAL=$TMPD/bin/bazel
cd "$WS"

check_files() { # every input once, verified, one inode; no temp files
	local name sha c
	while read -r name sha; do
		c=$RC/content_addressable/sha256/$sha/file
		[[ -f "$DIST/$name" && ! -L "$DIST/$name" && -f "$c" ]] || fail "$1: $name not staged"
		[[ "$(sha256sum <"$c" | cut -d' ' -f1)" == "$sha" ]] || fail "$1: $c is not the pinned content"
		assert_eq "$(stat -c %i "$DIST/$name")" "$(stat -c %i "$c")" "$1: $name: one copy (inode)"
	done <"$TMPD/expect.txt"
	assert_eq "$(find "$RC/content_addressable/sha256" -name file | wc -l)" "$N_IN" "$1: cache entries"
	if find "$DIST" "$RC" -name '.flywheel-tmp-*' | grep -q .; then fail "$1: temp files left"; fi
}

log "16 x flywheel stage + 4 x flywheel bazel on one empty cache and distdir"
mkdir -p "$TMPD/race"
pids=() names=()
for i in $(seq 1 20); do
	if ((i % 5 == 0)); then
		FAKE_BAZEL_ARGV=$TMPD/race/argv.$i "$FLYWHEEL" bazel build //x >"$TMPD/race/out.$i" 2>"$TMPD/race/err.$i" &
		names+=("bazel#$i")
	else
		"$FLYWHEEL" stage --no-progress >"$TMPD/race/out.$i" 2>"$TMPD/race/err.$i" &
		names+=("stage#$i")
	fi
	pids+=($!)
done
for k in "${!pids[@]}"; do
	run_rc rc timeout 120 tail --pid="${pids[$k]}" -f /dev/null # bounded wait
	[[ "$rc" == 0 ]] || fail "${names[$k]} still running after 120 s"
	run_rc rc wait "${pids[$k]}"
	i=$((k + 1))
	[[ "$rc" == 0 ]] || { cat "$TMPD/race/err.$i" >&2; fail "${names[$k]} exited $rc"; }
done
check_files race
for i in 5 10 15 20; do
	[[ -f "$TMPD/race/argv.$i" ]] || fail "bazel#$i: Bazel never ran"
	read_argv "$TMPD/race/argv.$i" av
	printf '%s\n' "${av[@]}" >"$TMPD/race/argv.$i.txt"
	assert_contains "$TMPD/race/argv.$i.txt" "^--distdir=$DIST\$" "bazel#$i gets the distdir"
	assert_contains "$TMPD/race/argv.$i.txt" "^--repository_cache=$RC\$" "bazel#$i gets the repository cache"
done
while read -r name sha; do
	got=$(grep -c "GET /in/$name " "$NGINX_PREFIX/access.log" || true)
	assert_eq "$got" 1 "$name: downloads by 20 concurrent processes"
done <"$TMPD/expect.txt"
assert_not_contains "$NGINX_PREFIX/access.log" '" (4|5)[0-9][0-9] ' "mirror errors"
log "race: 20 processes, each input fetched once, one copy each"

log "a second round on the warm cache: all 20 succeed, nothing downloaded"
gets=$(nginx_count_requests "$NGINX_PREFIX" GET)
pids=()
for i in $(seq 1 20); do
	if ((i % 5 == 0)); then
		FAKE_BAZEL_ARGV=$TMPD/race/argv.$i "$FLYWHEEL" bazel build //x >/dev/null 2>"$TMPD/race/err.$i" &
	else
		"$FLYWHEEL" stage --no-progress >/dev/null 2>"$TMPD/race/err.$i" &
	fi
	pids+=($!)
done
for k in "${!pids[@]}"; do
	run_rc rc timeout 60 tail --pid="${pids[$k]}" -f /dev/null
	run_rc rc wait "${pids[$k]}"
	[[ "$rc" == 0 ]] || { cat "$TMPD/race/err.$((k + 1))" >&2; fail "warm process $((k + 1)) exited $rc"; }
done
assert_eq "$(nginx_count_requests "$NGINX_PREFIX" GET)" "$gets" "downloads on a warm cache"
check_files warm

# ---- a symlink swapped in for the distdir while the stager runs --------------
log "distdir swapped for a symlink to an outside directory during staging"
OUT=$TMPD/outside
mkdir -p "$OUT"
SDIST=$TMPD/swap/dist SRC=$TMPD/swap/rc
ROUNDS=${RACE_SWAP_ROUNDS:-12}
ok=0 errored=0 swaps=0
for r in $(seq 1 "$ROUNDS"); do
	rm -rf "$TMPD/swap"
	mkdir -p "$SDIST" "$SRC"
	"$FLYWHEEL" stage --no-progress --distdir "$SDIST" --repository-cache "$SRC" --jobs 2 \
		>"$TMPD/swap.out" 2>"$TMPD/swap.err" &
	pid=$!
	# start swapping once the stager holds the distdir open (it opened it as a directory)
	for ((w = 0; w < 500; w++)); do
		for f in /proc/"$pid"/fd/*; do
			[[ "$(readlink "$f" 2>/dev/null)" == "$SDIST" ]] && break 2
		done
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.005
	done
	# swap back and forth while it runs (bounded: at most 400 swaps a round)
	for ((k = 0; k < 400; k++)); do
		kill -0 "$pid" 2>/dev/null || break
		mv -T "$SDIST" "$SDIST.real" && ln -s "$OUT" "$SDIST"
		swaps=$((swaps + 1))
		[[ -z "$(ls -A "$OUT")" ]] || fail "round $r: written outside the distdir: $(ls -A "$OUT")"
		rm -f "$SDIST" && mv -T "$SDIST.real" "$SDIST"
	done
	run_rc rc wait "$pid"
	[[ -z "$(ls -A "$OUT")" ]] || fail "round $r: written outside the distdir: $(ls -A "$OUT")"
	if [[ "$rc" == 0 ]]; then
		ok=$((ok + 1))
		# it completed: into the real distdir (the directory it opened), not elsewhere
		while read -r name sha; do
			[[ -f "$SDIST/$name" ]] || fail "round $r: completed but $name is not in the distdir"
		done <"$TMPD/expect.txt"
	else
		# an error is fine if it is one clean line of the documented shape
		grep -q '^flywheel: ' "$TMPD/swap.err" || { cat "$TMPD/swap.err" >&2; fail "round $r: exit $rc without a message"; }
		errored=$((errored + 1))
	fi
	[[ -d "$SDIST" && ! -L "$SDIST" ]] || fail "round $r: the distdir was not restored"
	# whatever is under a final name is verified
	while read -r name sha; do
		for f in "$SDIST/$name" "$SRC/content_addressable/sha256/$sha/file"; do
			[[ -e "$f" ]] || continue
			[[ "$(sha256sum <"$f" | cut -d' ' -f1)" == "$sha" ]] || fail "round $r: wrong content at $f"
		done
	done <"$TMPD/expect.txt"
done
log "$ROUNDS rounds, $swaps swaps: $ok completed, $errored errored cleanly; outside stayed empty"
((swaps > 0)) || fail "no swap happened while a stager ran"
# the next run, undisturbed, completes
run_rc rc "$FLYWHEEL" stage --no-progress --distdir "$SDIST" --repository-cache "$SRC" >/dev/null 2>"$TMPD/swap.err"
[[ "$rc" == 0 ]] || { cat "$TMPD/swap.err" >&2; fail "stage after the swaps exited $rc"; }
DIST=$SDIST RC=$SRC check_files after-swap
[[ -z "$(ls -A "$OUT")" ]] || fail "written outside the distdir"
pass
