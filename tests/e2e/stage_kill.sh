#!/bin/bash
# stage_kill: kill -9 of a stager at random moments (many trials, bounded
# time): never a partial or unverified file under a final name, and the next
# run completes.  Then 8 concurrent stagers on one empty cache: all succeed,
# each input is downloaded once and exists as one copy (distdir and cache
# hard-linked).
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/nginx.sh"
. "$(dirname "$0")/lib/mirror.sh"
need_cmd nginx python3 openssl

mirror_setup
# more and larger inputs so a kill lands mid-download often
for i in $(seq 1 12); do
	head -c $((1024 * 1024 + i * 4096)) /dev/urandom >"$MIRROR_DIR/blob-$i.bin"
done
M=$TMPD/kill.json
cp "$MANIFEST" "$M"
fw lock --manifest "$M" --url-base "$MIRROR_BASE/" "$MIRROR_DIR"/blob-*.bin 2>/dev/null || fail "lock failed"
sign_manifest "$M"
python3 - "$M" >"$TMPD/expect.txt" <<'PY'
import json, sys
for i in json.load(open(sys.argv[1]))["inputs"]:
    print(i["name"], i["sha256"])
PY
N_INPUTS=$(wc -l <"$TMPD/expect.txt")

# check DIST RC: every file under a final name is complete and verified
check_final() {
	local dist=$1 rc=$2 name sha f
	while read -r name sha; do
		for f in "$dist/$name" "$rc/content_addressable/sha256/$sha/file"; do
			[[ -e "$f" || -L "$f" ]] || continue
			[[ -f "$f" && ! -L "$f" ]] || fail "$f is not a regular file"
			[[ "$(sha256sum <"$f" | cut -d' ' -f1)" == "$sha" ]] || fail "partial or wrong file under final name: $f"
		done
	done <"$TMPD/expect.txt"
}
check_complete() {
	local dist=$1 rc=$2 name sha
	while read -r name sha; do
		[[ -f "$dist/$name" && -f "$rc/content_addressable/sha256/$sha/file" ]] || fail "$name missing after a full run"
	done <"$TMPD/expect.txt"
	check_final "$dist" "$rc"
	if find "$dist" "$rc" -name '.flywheel-tmp-*' | grep -q .; then fail "temp files left after a full run"; fi
}

TRIALS=${STAGE_KILL_TRIALS:-100}
BUDGET=${STAGE_KILL_SECONDS:-150}
log "kill -9 trials: up to $TRIALS in ${BUDGET}s"
DIST=$TMPD/k/dist RC=$TMPD/k/rc
start=$SECONDS
t=0 killed_mid=0
while ((t < TRIALS && SECONDS - start < BUDGET)); do
	t=$((t + 1))
	((t % 2 == 1)) && rm -rf "$TMPD/k" # every other trial starts from empty
	mkdir -p "$DIST" "$RC"
	# the binary itself, not the fw function: `fw ... &` would be a subshell, and
	# killing it would leave the stager running into the next trial's rm -rf
	"${FLYWHEEL_NET_BIN:-$FLYWHEEL}" stage --manifest "$M" --trust "$PUBKEY" --distdir "$DIST" \
		--repository-cache "$RC" --jobs 4 >/dev/null 2>&1 &
	pid=$!
	sleep "0.$(printf "%03d" $((RANDOM % 200)))"
	kill -9 "$pid" 2>/dev/null || true
	# it was killed mid-run only if it died of the signal (a finished, unreaped
	# stager can still be signalled)
	rc=0
	wait "$pid" 2>/dev/null || rc=$?
	((rc == 137)) && killed_mid=$((killed_mid + 1))
	check_final "$DIST" "$RC"
	if ((t % 10 == 0)); then
		fw stage --manifest "$M" --trust "$PUBKEY" --distdir "$DIST" --repository-cache "$RC" >/dev/null 2>"$TMPD/after.err" ||
			{ cat "$TMPD/after.err" >&2; fail "trial $t: the run after a kill failed"; }
		check_complete "$DIST" "$RC"
	fi
done
fw stage --manifest "$M" --trust "$PUBKEY" --distdir "$DIST" --repository-cache "$RC" >/dev/null 2>"$TMPD/final.err" ||
	{ cat "$TMPD/final.err" >&2; fail "final run after kills failed"; }
check_complete "$DIST" "$RC"
log "$t trials, $killed_mid killed while running"
((killed_mid > 0)) || fail "no stager was ever killed mid-run"

log "8 concurrent stagers on one empty cache"
DIST=$TMPD/c/dist RC=$TMPD/c/rc
mkdir -p "$DIST" "$RC"
: >"$NGINX_PREFIX/access.log"
kill -USR1 "$(cat "$NGINX_PREFIX/nginx.pid")" # reopen the log
sleep 0.3
pids=()
for i in $(seq 1 8); do
	fw stage --manifest "$M" --trust "$PUBKEY" --distdir "$DIST" --repository-cache "$RC" \
		>"$TMPD/c/out.$i" 2>"$TMPD/c/err.$i" &
	pids+=($!)
done
for i in "${!pids[@]}"; do
	wait "${pids[$i]}" || { cat "$TMPD/c/err.$((i + 1))" >&2; fail "concurrent stager $((i + 1)) failed"; }
done
check_complete "$DIST" "$RC"
while read -r name sha; do
	assert_eq "$(stat -c %i "$DIST/$name")" "$(stat -c %i "$RC/content_addressable/sha256/$sha/file")" "$name one copy"
	got=$(grep -c "GET /flywheel/$name " "$NGINX_PREFIX/access.log" || true)
	assert_eq "$got" 1 "$name downloads by 8 stagers"
done <"$TMPD/expect.txt"
assert_eq "$(find "$RC/content_addressable/sha256" -name file | wc -l)" "$N_INPUTS" "cache entries"
pass
