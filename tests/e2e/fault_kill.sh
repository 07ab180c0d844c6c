#!/usr/bin/env bash
# fault_kill: kill -9 of `flywheel stage` at many random moments while its
# downloads are in flight (a rate-limited nginx mirror makes each body last
# about half a second, and the kill comes 5-300 ms after the start).  After
# every kill: each file under a final name (distdir and repository cache) is
# the verified content, temp files belong only to killed stagers, and the next
# `flywheel stage` completes and leaves no temp file behind.  Needs >= 100
# kills that landed while the stager was running (by its wait status: killed by
# SIGKILL, not exited), and counts those that left a partly written body.
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/nginx.sh"
. "$(dirname "$0")/lib/mirror.sh"
need_cmd nginx python3 sha256sum

WANT_MID=${FAULT_KILL_MID:-100}   # kills that must land mid-run
MAX_TRIALS=${FAULT_KILL_TRIALS:-400}
BUDGET=${FAULT_KILL_SECONDS:-240} # bound on the whole loop

mkdir -p "$TMPD/www/blobs" "$TMPD/keys"
N_IN=4
for i in $(seq 1 $N_IN); do
	head -c $((384 * 1024 + i * 1000)) /dev/urandom >"$TMPD/www/blobs/blob-$i.bin"
done
# 1 MiB/s per connection: each body takes ~0.4 s, so most kills land mid-body
start_nginx "location / { root $TMPD/www; limit_rate 1m; }"
M=$TMPD/inputs.json
python3 - "$TMPD/www/blobs" "$NGINX_BASE/blobs" >"$M" <<'PY'
import hashlib, json, os, sys
d, base = sys.argv[1], sys.argv[2]
ins = []
for n in sorted(os.listdir(d)):
    b = open(os.path.join(d, n), "rb").read()
    ins.append({"name": n, "sha256": hashlib.sha256(b).hexdigest(), "size": len(b), "urls": [base + "/" + n]})
print(json.dumps({"schema": "flywheel-inputs/1", "version": 1, "expires": "2099-01-01T00:00:00Z", "inputs": ins}, indent=1))
PY
(cd "$TMPD/keys" && fw keygen test) >/dev/null 2>&1 || fail "keygen failed"
PUB=$TMPD/keys/test.pub
fw sign --key "$TMPD/keys/test.key" "$M" >/dev/null 2>&1 || fail "signing failed"
python3 -c 'import json,sys
for i in json.load(open(sys.argv[1]))["inputs"]: print(i["name"], i["sha256"])' "$M" >"$TMPD/expect.txt"

DIST=$TMPD/k/dist RC=$TMPD/k/rc
STAGE=("$FLYWHEEL" stage --manifest "$M" --trust "$PUB" --distdir "$DIST" --repository-cache "$RC" --jobs 4 --no-progress)

# every file under a final name is a regular file with the pinned content
check_final() {
	local name sha f
	while read -r name sha; do
		for f in "$DIST/$name" "$RC/content_addressable/sha256/$sha/file"; do
			[[ -e "$f" || -L "$f" ]] || continue
			[[ -f "$f" && ! -L "$f" ]] || fail "trial $t: $f is not a regular file"
			[[ "$(sha256sum <"$f" | cut -d' ' -f1)" == "$sha" ]] || fail "trial $t: partial or wrong file under a final name: $f ($(stat -c %s "$f") bytes)"
		done
	done <"$TMPD/expect.txt"
	# nothing else under a final-looking name: only inputs, temp files and the lock
	local other
	other=$(find "$DIST" "$RC" -type f ! -name '.flywheel-tmp-*' ! -name .flywheel.lock ! -name file ! -name 'id-*' \
		-printf '%f\n' 2>/dev/null | grep -vxF -f <(cut -d' ' -f1 "$TMPD/expect.txt") || true)
	[[ -z "$other" ]] || fail "trial $t: unexpected files: $other"
	# Bazel 7+ canonical-id markers are empty regular files
	other=$(find "$RC" -name 'id-*' \( ! -type f -o -size +0 \) 2>/dev/null)
	[[ -z "$other" ]] || fail "trial $t: a canonical-id marker is not an empty file: $other"
}
temps() { find "$DIST" "$RC" -name '.flywheel-tmp-*' 2>/dev/null || true; }

log "kill -9 of 'flywheel stage' at random moments (want >= $WANT_MID mid-run, <= $MAX_TRIALS trials, <= ${BUDGET}s)"
t=0 mid=0 mid_body=0 finished=0 killed_pids=" "
start=$SECONDS
while ((mid < WANT_MID && t < MAX_TRIALS && SECONDS - start < BUDGET)); do
	t=$((t + 1))
	# mostly from empty; sometimes keep what the last run left (partly staged)
	((t % 4 == 0)) || rm -rf "$TMPD/k"
	if ((t % 4 == 0)); then rm -f "$DIST/blob-$((RANDOM % N_IN + 1)).bin"; rm -rf "$RC/content_addressable/sha256/$(sed -n "$((RANDOM % N_IN + 1))p" "$TMPD/expect.txt" | cut -d' ' -f2)"; fi
	mkdir -p "$DIST" "$RC"
	"${STAGE[@]}" >/dev/null 2>&1 & # the launcher execs flywheel-net: one pid
	pid=$!
	sleep "$(printf '0.%03d' $((5 + RANDOM % 296)))"
	kill -9 "$pid" 2>/dev/null || true
	run_rc st wait "$pid" 2>/dev/null
	if [[ "$st" == 137 ]]; then
		mid=$((mid + 1))
		killed_pids+="$pid "
	elif [[ "$st" == 0 ]]; then
		finished=$((finished + 1))
	else
		fail "trial $t: stager exited $st before the kill"
	fi
	# temp files may be left, but only by stagers that were killed
	partial=0
	while IFS= read -r f; do
		[[ -n "$f" ]] || continue
		owner=$(basename "$f" | sed -E 's/^\.flywheel-tmp-([0-9]+)-.*/\1/')
		[[ "$killed_pids" == *" $owner "* ]] || fail "trial $t: temp file $f of a stager that was not killed"
		[[ -s "$f" ]] && partial=1
	done < <(temps)
	((partial)) && mid_body=$((mid_body + 1))
	check_final
	# the next run completes, sweeps the leftovers, and everything verifies
	run_rc rc "${STAGE[@]}" >"$TMPD/next.out" 2>"$TMPD/next.err"
	[[ "$rc" == 0 ]] || { cat "$TMPD/next.err" >&2; fail "trial $t: the run after the kill exited $rc"; }
	check_final
	while read -r name sha; do
		[[ -f "$DIST/$name" && -f "$RC/content_addressable/sha256/$sha/file" ]] || fail "trial $t: $name missing after a full run"
		[[ $(stat -c %i "$DIST/$name") == $(stat -c %i "$RC/content_addressable/sha256/$sha/file") ]] ||
			fail "trial $t: $name: distdir and cache are two copies"
	done <"$TMPD/expect.txt"
	[[ -z "$(temps)" ]] || { temps >&2; fail "trial $t: temp files left after a full run"; }
done
log "$t trials in $((SECONDS - start))s: $mid killed mid-run ($mid_body with a partly written body on disk), $finished finished before the kill"
echo "fault_kill: trials=$t killed_mid_run=$mid killed_mid_body=$mid_body finished_first=$finished"
((mid >= WANT_MID)) || fail "only $mid kills landed mid-run (want $WANT_MID) in $t trials"
((mid_body > 0)) || fail "no kill ever landed mid-body"
pass
