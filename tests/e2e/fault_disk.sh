#!/usr/bin/env bash
# fault_disk: a full disk (1 MiB tmpfs) and read-only directories, inside a
# private mount namespace (`unshare -rm`; works as root and as a user, because
# read-only is a ro bind mount, not mode bits).  For `flywheel stage`: the
# download path and the copy path (distdir on another filesystem) on a full
# disk, an empty and a complete read-only repository cache; for the launcher:
# $XDG_CACHE_HOME (verdict cache, bazel-version cache, staging records,
# manifest-version state, secrets file dir) read-only.  After each: the exit
# code and failure class, one `flywheel: ...` line, nothing partial under a
# final name, no temp file, and the next run with space (or rw) recovers.
#
# What is right when the launcher's own cache dir is read-only (decided here):
#  - Bazel still runs when the write was only a speed cache (version cache,
#    staging record, probe verdict: the probe's answer is known without it);
#  - one clear line and no Bazel when the write protects something: the
#    manifest's rollback state (fail closed) and the private secrets file;
#  - in both cases never exit 70 (internal): it is the user's disk.
# Product bugs found are collected (`bug`) so every check still runs; the test
# fails at the end listing them.
. "$(dirname "$0")/lib/common.sh"
if [[ "${FW_IN_MOUNTNS:-}" != 1 ]]; then
	need_cmd unshare
	unshare -rm true 2>/dev/null || skip "cannot create a mount namespace"
	rm -rf "$TMPD"
	trap - EXIT
	FW_IN_MOUNTNS=1 exec unshare -rm bash "$0" "$@"
fi
. "$(dirname "$0")/lib/nginx.sh"
. "$(dirname "$0")/lib/mirror.sh"
need_cmd nginx python3 sha256sum mount
unset XDG_RUNTIME_DIR

BUGS=()
bug() { BUGS+=("$*"); log "PRODUCT BUG: $*"; }
mnt_tmpfs() { mkdir -p "$2" && mount -t tmpfs -o "size=$1" tmpfs "$2" || skip "cannot mount a tmpfs"; on_exit "umount -l '$2'"; }
mnt_ro() { mkdir -p "$1" && mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" || skip "cannot make a ro bind mount"; on_exit "umount -l '$1'"; }
mnt_rw() { umount "$1"; }

mkdir -p "$TMPD/www/in" "$TMPD/keys"
for i in 1 2 3; do head -c $((500 * 1000 + i)) /dev/urandom >"$TMPD/www/in/blob-$i.bin"; done
start_nginx_files "$TMPD/www"
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
PUB=$TMPD/keys/test.pub
python3 -c 'import json,sys
for i in json.load(open(sys.argv[1]))["inputs"]: print(i["name"], i["sha256"])' "$M" >"$TMPD/expect.txt"

stage() { # DIST RC [ARGS]: flywheel --json stage; stdout OUT.json, stderr OUT.err, status in rc
	local d=$1 r=$2
	shift 2
	run_rc rc "$FLYWHEEL" stage --manifest "$M" --trust "$PUB" --distdir "$d" --repository-cache "$r" --no-progress "$@" \
		>"$TMPD/out.json" 2>"$TMPD/out.err"
}
final_ok() { # DIST RC CTX: every final file verified, no temp file
	local d=$1 r=$2 name sha f
	while read -r name sha; do
		for f in "$d/$name" "$r/content_addressable/sha256/$sha/file"; do
			[[ -e "$f" || -L "$f" ]] || continue
			[[ -f "$f" && ! -L "$f" ]] || fail "$3: $f is not a regular file"
			[[ "$(sha256sum <"$f" | cut -d' ' -f1)" == "$sha" ]] || fail "$3: partial or wrong file under a final name: $f"
		done
	done <"$TMPD/expect.txt"
	if find "$d" "$r" -name '.flywheel-tmp-*' 2>/dev/null | grep -q .; then fail "$3: temp files left"; fi
}
complete() { # DIST RC CTX
	local name sha
	while read -r name sha; do
		[[ -f "$1/$name" && -f "$2/content_addressable/sha256/$sha/file" ]] || fail "$3: $name not staged"
	done <"$TMPD/expect.txt"
	final_ok "$@"
}
one_line() { # FILE CTX: exactly one line, of the shape "flywheel: subject: what; fix"
	[[ $(grep -c . "$1") == 1 ]] || { cat "$1" >&2; bug "$2: not one line on stderr ($(grep -c . "$1") lines)"; }
	grep -Eq '^flywheel: [^:]+: .+; .+' "$1" || { cat "$1" >&2; bug "$2: message lacks the 'subject: what; fix' shape"; }
}
json_class() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("error",{}).get("class",""))' "$1" 2>/dev/null || true; }

# ---- A: full disk, download path (distdir and cache on one 1 MiB tmpfs) ----------
log "A: full disk while downloading"
mnt_tmpfs 1m "$TMPD/full"
stage "$TMPD/full/dist" "$TMPD/full/rc" --json
[[ "$rc" != 0 ]] || fail "A: staging 1.5 MB into 1 MiB succeeded"
cat "$TMPD/out.err" >>"$TMPD/out.json"
assert_contains "$TMPD/out.json" 'No space left on device' "A: names the full disk"
[[ "$rc" == 73 ]] || bug "A: disk full while downloading exits $rc, want 73 (cannot create output)"
cls=$(json_class "$TMPD/out.json")
[[ "$cls" == disk ]] || bug "A: disk full while downloading has class '$cls', want 'disk' (src/stage.c stage_run: every failed item becomes external-input, fix 'check the mirrors and the manifest pin')"
final_ok "$TMPD/full/dist" "$TMPD/full/rc" A
mount -o remount,size=16m "$TMPD/full"
stage "$TMPD/full/dist" "$TMPD/full/rc"
[[ "$rc" == 0 ]] || { cat "$TMPD/out.err" >&2; fail "A: the run with space exited $rc"; }
complete "$TMPD/full/dist" "$TMPD/full/rc" A-recovered

# ---- B: full disk, copy path (distdir on its own 1 MiB tmpfs: no hard link) ------
log "B: full disk while copying into a distdir on another filesystem"
mnt_tmpfs 1m "$TMPD/full2"
stage "$TMPD/full2/dist" "$TMPD/b/rc" --json
[[ "$rc" != 0 ]] || fail "B: copying 1.5 MB into 1 MiB succeeded"
grep -q 'No space left on device' "$TMPD/out.json" || bug "B: disk full while copying is not named: $(grep -m1 '"what"' "$TMPD/out.json")"
[[ "$rc" == 73 ]] || bug "B: disk full while copying exits $rc, want 73"
cls=$(json_class "$TMPD/out.json")
[[ "$cls" == disk ]] || bug "B: disk full while copying has class '$cls', want 'disk'"
final_ok "$TMPD/full2/dist" "$TMPD/b/rc" B
mount -o remount,size=16m "$TMPD/full2"
stage "$TMPD/full2/dist" "$TMPD/b/rc"
[[ "$rc" == 0 ]] || { cat "$TMPD/out.err" >&2; fail "B: the run with space exited $rc"; }
complete "$TMPD/full2/dist" "$TMPD/b/rc" B-recovered
[[ $(stat -c %d "$TMPD/full2/dist") != $(stat -c %d "$TMPD/b/rc") ]] || fail "B: not two filesystems"

# ---- C: read-only repository cache (empty), read-only distdir ----------------------
log "C: read-only repository cache and distdir"
mkdir -p "$TMPD/c/rc" "$TMPD/c/dist"
mnt_ro "$TMPD/c/rc"
stage "$TMPD/c/dist" "$TMPD/c/rc" --json
assert_eq "$rc" 73 "C: read-only repository cache: exit"
assert_eq "$(json_class "$TMPD/out.json")" disk "C: read-only repository cache: class"
assert_contains "$TMPD/out.json" 'Read-only file system' "C: names the cause"
stage "$TMPD/c/dist" "$TMPD/c/rc"
one_line "$TMPD/out.err" "C: read-only repository cache"
[[ -z "$(ls -A "$TMPD/c/rc")" ]] || fail "C: something was written into the read-only cache"
mnt_rw "$TMPD/c/rc"
mnt_ro "$TMPD/c/dist"
stage "$TMPD/c/dist" "$TMPD/c/rc" --json
assert_eq "$rc" 73 "C: read-only distdir: exit"
assert_eq "$(json_class "$TMPD/out.json")" disk "C: read-only distdir: class"
final_ok "$TMPD/c/dist" "$TMPD/c/rc" C
mnt_rw "$TMPD/c/dist"
stage "$TMPD/c/dist" "$TMPD/c/rc"
[[ "$rc" == 0 ]] || { cat "$TMPD/out.err" >&2; fail "C: the run read-write exited $rc"; }
complete "$TMPD/c/dist" "$TMPD/c/rc" C-recovered

# ---- D: a complete repository cache and distdir mounted read-only ----------------
log "D: complete but read-only destinations (a pre-populated CI volume)"
WS=$TMPD/ws
mkdir -p "$WS"
: >"$WS/WORKSPACE"
cat >"$WS/flywheel.ini" <<INI
[inputs]
manifest = $M
[bazel]
distdir = $TMPD/c/dist
repository_cache = $TMPD/c/rc
[trust]
test = $PUB
INI
make_fake_bazel "$TMPD/bin/bazel" 7.4.1
export BAZEL_REAL=$TMPD/bin/bazel FAKE_BAZEL_MARK=$TMPD/bazel-ran
cd "$WS"
bazel_ran() { # CMD...: run flywheel bazel; rc; did Bazel (not only --version) run?
	rm -f "$TMPD/bazel-argv"
	run_rc rc env FAKE_BAZEL_ARGV="$TMPD/bazel-argv" "$@" >"$TMPD/b.out" 2>"$TMPD/b.err"
	[[ -f "$TMPD/bazel-argv" ]]
}
bazel_ran "$FLYWHEEL" bazel build //x || { cat "$TMPD/b.err" >&2; fail "D: Bazel did not run with a writable cache"; }
mnt_ro "$TMPD/c/rc"
mnt_ro "$TMPD/c/dist"
bazel_ran "$FLYWHEEL" bazel build //x || { cat "$TMPD/b.err" >&2; fail "D: warm check on read-only destinations: Bazel did not run (exit $rc)"; }
assert_eq "$rc" 0 "D: warm, read-only destinations: exit"
# without the staging record (a fresh user cache) the launcher must verify, not write
mv "$XDG_CACHE_HOME/flywheel/staged" "$TMPD/staged.saved"
bazel_ran "$FLYWHEEL" bazel build //x || bug "D: complete read-only repository cache and no staging record: Bazel not started (exit $rc: $(head -n1 "$TMPD/b.err")); the stager opens .flywheel.lock O_RDWR|O_CREAT before finding there is nothing to write (src/stage.c take_locks)"
rm -rf "$XDG_CACHE_HOME/flywheel/staged"
mv "$TMPD/staged.saved" "$XDG_CACHE_HOME/flywheel/staged"
final_ok "$TMPD/c/dist" "$TMPD/c/rc" D
mnt_rw "$TMPD/c/dist"
mnt_rw "$TMPD/c/rc"

# ---- E: the launcher's own cache dir ($XDG_CACHE_HOME, ~/.cache) read-only ----------
log "E: \$XDG_CACHE_HOME read-only for the launcher"
[[ "$XDG_CACHE_HOME" == "$HOME/.cache" ]] || fail "E: expected XDG_CACHE_HOME=\$HOME/.cache"
mkdir -p "$TMPD/cache-srv"
start_nginx_cache "$TMPD/cache-srv"
CACHE_URL=$NGINX_URL
# the verdicts a writable cache dir would hold, taken before it turns read-only
FLYWHEEL_ALLOW_LOOPBACK=true BAZEL_REMOTE_CACHE=$CACHE_URL GF_REAPI_CREDENTIAL_HELPER_TOKEN=fwsecret \
	"$FLYWHEEL" probe >/dev/null 2>&1 || fail "E: probe of a healthy cache failed"
FLYWHEEL_ALLOW_LOOPBACK=true BAZEL_REMOTE_CACHE=$CACHE_URL "$FLYWHEEL" probe >/dev/null 2>&1 || fail "E: probe of a healthy cache failed"
# no version cache and no manifest-version state yet (a fresh user)
rm -rf "$XDG_CACHE_HOME/flywheel/bazel-version" "$XDG_CACHE_HOME/flywheel/manifest-versions"
mnt_ro "$XDG_CACHE_HOME"
touch "$XDG_CACHE_HOME/x" 2>/dev/null && fail "E: the cache dir is still writable"

# E1 local mode: version cache cannot be written; Bazel runs
rm -f flywheel.ini.off; mv flywheel.ini flywheel.ini.off
bazel_ran "$FLYWHEEL" bazel build //x || { cat "$TMPD/b.err" >&2; fail "E1: local mode with a read-only cache dir: Bazel did not run (exit $rc)"; }
assert_eq "$rc" 0 "E1: exit"
# E2 manifest, inputs already staged (record present): the warm path writes nothing
mv flywheel.ini.off flywheel.ini
bazel_ran "$FLYWHEEL" bazel build //x || { cat "$TMPD/b.err" >&2; fail "E2: staged inputs, read-only cache dir: Bazel did not run (exit $rc)"; }
# E3 manifest, inputs not staged: staging runs (its record in the cache dir is
# only speed and is skipped); the manifest-version state lives in
# $XDG_STATE_HOME (writable here): Bazel runs
sed -i "s#$TMPD/c/dist#$TMPD/e/dist#; s#$TMPD/c/rc#$TMPD/e/rc#" flywheel.ini
bazel_ran "$FLYWHEEL" bazel build //x || { cat "$TMPD/b.err" >&2; fail "E3: staging with a read-only cache dir: Bazel did not run (exit $rc)"; }
complete "$TMPD/e/dist" "$TMPD/e/rc" E3
# E3b the state dir read-only too, no manifest-version state yet: the rollback
# protection cannot be kept -> fail closed, one line, Bazel not started
[[ -n "${XDG_STATE_HOME:-}" ]] || fail "E3b: XDG_STATE_HOME unset"
mkdir -p "$XDG_STATE_HOME"
rm -rf "$XDG_STATE_HOME/flywheel/manifest-versions"
mnt_ro "$XDG_STATE_HOME"
sed -i "s#$TMPD/e/dist#$TMPD/e3b/dist#; s#$TMPD/e/rc#$TMPD/e3b/rc#" flywheel.ini
if bazel_ran "$FLYWHEEL" bazel build //x; then fail "E3b: staged without recording the manifest version (rollback state)"; fi
assert_eq "$rc" 73 "E3b: exit when the manifest-version state cannot be written"
one_line "$TMPD/b.err" "E3b: manifest-version state dir read-only"
assert_contains "$TMPD/b.err" 'manifest-versions' "E3b: names the state directory"
final_ok "$TMPD/e3b/dist" "$TMPD/e3b/rc" E3b
mnt_rw "$XDG_STATE_HOME"
mv flywheel.ini flywheel.ini.off
# E4 cache mode, verdict cached: Bazel runs in cache mode
export FLYWHEEL_ALLOW_LOOPBACK=true BAZEL_REMOTE_CACHE=$CACHE_URL
bazel_ran "$FLYWHEEL" bazel build //x || { cat "$TMPD/b.err" >&2; fail "E4: cached healthy verdict, read-only cache dir: Bazel did not run (exit $rc)"; }
read_argv "$TMPD/bazel-argv" av
[[ " ${av[*]} " == *" --remote_cache=$CACHE_URL "* ]] || fail "E4: not in cache mode: ${av[*]}"
# E5 secrets for a credential-helper Bazel: the private secrets file cannot be written
run_rc rc env GF_REAPI_CREDENTIAL_HELPER_TOKEN=fwsecret "$FLYWHEEL" bazel build //x >"$TMPD/b.out" 2>"$TMPD/b.err"
if [[ -f "$TMPD/bazel-argv.e5" ]]; then :; fi
assert_eq "$rc" 73 "E5: exit when the secrets file cannot be written"
one_line "$TMPD/b.err" "E5: secrets dir read-only"
assert_contains "$TMPD/b.err" 'secrets file' "E5: says which file"
assert_not_contains "$TMPD/b.err" fwsecret "E5: the secret in the message"
# E6 no verdict cached (a different cache URL): the probe runs but cannot store its verdict
NEW_URL=${CACHE_URL/127.0.0.1/localhost}
bazel_ran env BAZEL_REMOTE_CACHE="$NEW_URL" "$FLYWHEEL" bazel build //x ||
	bug "E6: healthy cache, no verdict cached, read-only cache dir: Bazel not started (exit $rc: $(head -n1 "$TMPD/b.err")); src/launch.c check_remote needs the verdict file the probe could not write"
[[ "$rc" != 70 ]] || bug "E6: exit 70 (internal) for a read-only cache dir"
# E7 dead cache, fallback local: Bazel must still build locally with the one-line warning
DEAD=http://127.0.0.1:$(free_port)/cache
bazel_ran env BAZEL_REMOTE_CACHE="$DEAD" FLYWHEEL_FALLBACK=local "$FLYWHEEL" bazel build //x ||
	bug "E7: dead cache, fallback=local, read-only cache dir: Bazel not started (exit $rc: $(head -n1 "$TMPD/b.err"))"
unset FLYWHEEL_ALLOW_LOOPBACK BAZEL_REMOTE_CACHE
mv flywheel.ini.off flywheel.ini

# recovery: the cache dir writable again, everything works
mnt_rw "$XDG_CACHE_HOME"
bazel_ran "$FLYWHEEL" bazel build //x || { cat "$TMPD/b.err" >&2; fail "recovery: Bazel did not run (exit $rc)"; }
complete "$TMPD/e3b/dist" "$TMPD/e3b/rc" E-recovered
bazel_ran env FLYWHEEL_ALLOW_LOOPBACK=true BAZEL_REMOTE_CACHE="$NEW_URL" "$FLYWHEEL" bazel build //x ||
	{ cat "$TMPD/b.err" >&2; fail "recovery: cache mode: Bazel did not run (exit $rc)"; }

if ((${#BUGS[@]})); then
	printf 'FAIL: %s: %d product bug(s):\n' "$E2E_NAME" "${#BUGS[@]}" >&2
	printf '  - %s\n' "${BUGS[@]}" >&2
	exit 1
fi
pass
