#!/usr/bin/env bash
# fault_net: network faults in a private network namespace (`unshare -rn`, lo
# up) against loopback servers, through flywheel's real binaries:
#  - black hole (iptables DROP on the cache port): probe verdict `connect`
#    within the deadline; `flywheel bazel` with FLYWHEEL_FALLBACK=local runs
#    Bazel locally with one warning line; with CI=true exits 69, Bazel not run;
#  - reset (REJECT --reject-with tcp-reset): verdict `connect`, fast;
#  - 30 % packet loss (statistic random DROP): every probe gives a verdict
#    within the deadline; staging with two mirrors completes or fails cleanly;
#  - throttled link (tc tbf 1kbit on lo): staging stops at its low-speed limit
#    with a clean error, nothing under a final name;
#  - a 2 s stall (a server that accepts and answers after 2 s): a 1 s deadline
#    is honoured (verdict `connect`), a 5 s one gets the answer (healthy);
#  - nginx killed while a probe is in flight: failed verdict; restarted on the
#    same port: the next probe is healthy;
#  - connection reset in the middle of a body while staging: the next mirror
#    is used; with no other mirror a clean failure; never a partial file.
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/remoteworker.sh"
rw_enter_netns "$@"
. "$(dirname "$0")/lib/nginx.sh"
. "$(dirname "$0")/lib/mirror.sh"
. "$(dirname "$0")/lib/probe.sh"
need_cmd iptables python3 nginx sha256sum
iptables -L INPUT >/dev/null 2>&1 || skip "iptables does not work here"
export FLYWHEEL_ALLOW_LOOPBACK=true FLYWHEEL_PROBE_TIMEOUT_MS=1500
O=$TMPD/out

# timed RC VAR SECS CMD...: run CMD with a hard bound, status in VAR, elapsed ms in ELAPSED
timed() {
	local __v=$1 secs=$2 t0
	shift 2
	t0=$(date +%s%N)
	run_rc "$__v" timeout "$secs" "$@"
	ELAPSED=$((($(date +%s%N) - t0) / 1000000))
	[[ "${!__v}" != 124 ]] || fail "$* did not finish within ${secs}s"
}
clear_verdicts() { rm -f "$XDG_CACHE_HOME"/flywheel/verdict-*; }
rule() { # add an iptables rule (args after -A INPUT) and remove it at exit
	iptables -A INPUT "$@" || fail "iptables -A INPUT $*"
	on_exit "iptables -D INPUT $(printf '%q ' "$@")"
}
unrule() { iptables -D INPUT "$@"; }

mkdir -p "$TMPD/cache" "$TMPD/ws" "$TMPD/www/in" "$TMPD/keys"
start_nginx_cache "$TMPD/cache"
CPORT=$NGINX_PORT CPREFIX=$NGINX_PREFIX CACHE=$NGINX_URL
make_fake_bazel "$TMPD/bin/bazel" 7.4.1
export BAZEL_REAL=$TMPD/bin/bazel
: >"$TMPD/ws/WORKSPACE"
cd "$TMPD/ws"

probe_expect "$O" 0 "$CACHE"

# ---- black hole -------------------------------------------------------------------
log "black hole (DROP) on the cache port"
rule -p tcp --dport "$CPORT" -j DROP
probe_expect "$O" 69 "$CACHE"
expect_class "$O" connect 'black hole|no answer|within'
clear_verdicts
timed rc 30 env BAZEL_REMOTE_CACHE="$CACHE" FLYWHEEL_FALLBACK=local FAKE_BAZEL_ARGV="$TMPD/argv.local" \
	"$FLYWHEEL" bazel build //x >"$O" 2>"$O.err"
assert_eq "$rc" 0 "fallback=local: exit"
((ELAPSED <= 1500 + 3000)) || fail "fallback=local: the probe took $ELAPSED ms"
[[ -f "$TMPD/argv.local" ]] || fail "fallback=local: Bazel did not run"
read_argv "$TMPD/argv.local" av
[[ " ${av[*]} " != *--remote_cache* ]] || fail "fallback=local: Bazel got a remote cache: ${av[*]}"
assert_eq "$(grep -c . "$O.err")" 1 "fallback=local: lines of warning"
assert_contains "$O.err" "^flywheel: .*127.0.0.1:$CPORT.*building locally" "fallback=local: the warning names the cache and the fallback"
clear_verdicts
timed rc 30 env CI=true BAZEL_REMOTE_CACHE="$CACHE" FAKE_BAZEL_ARGV="$TMPD/argv.ci" \
	"$FLYWHEEL" bazel build //x >"$O" 2>"$O.err"
assert_eq "$rc" 69 "CI=true, black-holed cache: exit"
[[ ! -f "$TMPD/argv.ci" ]] || fail "CI=true: Bazel was started"
assert_contains "$O.err" "^flywheel: .*127.0.0.1:$CPORT" "CI=true: the error names the cache"
assert_contains "$O.err" "CI is set" "CI=true: says why it does not fall back"
unrule -p tcp --dport "$CPORT" -j DROP

# ---- reset -------------------------------------------------------------------------
log "connection reset (REJECT tcp-reset) on the cache port"
rule -p tcp --dport "$CPORT" -j REJECT --reject-with tcp-reset
probe_expect "$O" 69 "$CACHE"
expect_class "$O" connect 'refused|reset'
((ELAPSED < 1500)) 2>/dev/null || true
unrule -p tcp --dport "$CPORT" -j REJECT --reject-with tcp-reset
probe_expect "$O" 0 "$CACHE"

# ---- 30 % packet loss -----------------------------------------------------------------
log "30 % packet loss on the cache port: a verdict within the deadline, every time"
loss() { # add|del PORT: drop 30 % of the packets to and from PORT
	local op=-A
	[[ $1 == del ]] && op=-D
	iptables $op INPUT -p tcp --dport "$2" -m statistic --mode random --probability 0.3 -j DROP
	iptables $op INPUT -p tcp --sport "$2" -m statistic --mode random --probability 0.3 -j DROP
	[[ $1 == del ]] || on_exit "loss del $2"
}
loss add "$CPORT"
healthy=0 times=""
for i in 1 2 3 4 5 6; do
	t0=$(date +%s%N)
	run_rc rc "$PROBE_NET" probe --json "$CACHE" >"$O" 2>"$O.err"
	ms=$((($(date +%s%N) - t0) / 1000000))
	[[ "$rc" == 0 || "$rc" == 69 ]] || { cat "$O" "$O.err" >&2; fail "lossy probe $i: exit $rc"; }
	((ms <= 1500 + 3000)) || fail "lossy probe $i: took $ms ms, deadline 1500 ms"
	assert_contains "$O" '"schema": "flywheel-status/1"' "lossy probe $i: a verdict"
	[[ "$rc" == 0 ]] && healthy=$((healthy + 1))
	times+=" ${ms}ms:$rc"
	[[ "$rc" == 0 ]] || expect_class "$O" connect '.'
done
log "lossy probes: $healthy of 6 healthy, the rest a connect verdict, all within the deadline ($times)"
loss del "$CPORT"

# staging through a lossy link, two mirrors per input
for i in 1 2 3; do head -c $((200 * 1000 + i)) /dev/urandom >"$TMPD/www/in/blob-$i.bin"; done
start_nginx_files "$TMPD/www"
MPORT=$NGINX_PORT MIRROR=$NGINX_BASE
make_manifest() { # OUT URL-PREFIX... : every input gets one URL per prefix
	local out=$1
	shift
	python3 - "$TMPD/www/in" "$@" >"$out" <<'PY'
import hashlib, json, os, sys
d, bases = sys.argv[1], sys.argv[2:]
ins = []
for n in sorted(os.listdir(d)):
    b = open(os.path.join(d, n), "rb").read()
    ins.append({"name": n, "sha256": hashlib.sha256(b).hexdigest(), "size": len(b), "urls": [p + "/" + n for p in bases]})
print(json.dumps({"schema": "flywheel-inputs/1", "version": 1, "expires": "2099-01-01T00:00:00Z", "inputs": ins}, indent=1))
PY
	fw sign --key "$TMPD/keys/test.key" "$out" >/dev/null 2>&1 || fail "signing $out failed"
}
(cd "$TMPD/keys" && fw keygen test) >/dev/null 2>&1 || fail "keygen failed"
PUB=$TMPD/keys/test.pub
python3 -c 'import hashlib,os,sys
d=sys.argv[1]
for n in sorted(os.listdir(d)): print(n, hashlib.sha256(open(os.path.join(d,n),"rb").read()).hexdigest())' "$TMPD/www/in" >"$TMPD/expect.txt"
final_ok() { # DIR CTX [complete]: every final file verified, no temp file
	local name sha f
	while read -r name sha; do
		for f in "$1/dist/$name" "$1/rc/content_addressable/sha256/$sha/file"; do
			if [[ ! -e "$f" ]]; then
				[[ "${3:-}" != complete ]] || fail "$2: $f missing"
				continue
			fi
			[[ "$(sha256sum <"$f" | cut -d' ' -f1)" == "$sha" ]] || fail "$2: partial or wrong file under a final name: $f"
		done
	done <"$TMPD/expect.txt"
	if find "$1" -name '.flywheel-tmp-*' | grep -q .; then fail "$2: temp files left"; fi
}
stage_into() { # DIR MANIFEST SECS [ARGS]: status in rc
	local d=$1 m=$2 secs=$3
	shift 3
	timed rc "$secs" "$FLYWHEEL" stage --manifest "$m" --trust "$PUB" --distdir "$d/dist" --repository-cache "$d/rc" \
		--no-progress "$@" >"$O" 2>"$O.err"
}
make_manifest "$TMPD/two.json" "$MIRROR/in" "http://localhost:$MPORT/in"
log "staging with 30 % loss on the mirror port"
loss add "$MPORT"
stage_into "$TMPD/lossy" "$TMPD/two.json" 150 --deadline 60
if [[ "$rc" == 0 ]]; then
	final_ok "$TMPD/lossy" lossy complete
	log "lossy staging completed in $ELAPSED ms"
else
	[[ "$rc" == 69 ]] || { cat "$O.err" >&2; fail "lossy staging: exit $rc"; }
	grep -q '^flywheel: ' "$O.err" || fail "lossy staging failed without a message"
	final_ok "$TMPD/lossy" lossy
	log "lossy staging failed cleanly in $ELAPSED ms"
fi
loss del "$MPORT"
stage_into "$TMPD/lossy" "$TMPD/two.json" 60
assert_eq "$rc" 0 "staging after the loss ended"
final_ok "$TMPD/lossy" lossy-recovered complete

# ---- throttled link -------------------------------------------------------------------
if command -v tc >/dev/null && tc qdisc add dev lo root tbf rate 1kbit burst 1600 latency 50ms 2>/dev/null; then
	on_exit "tc qdisc del dev lo root"
	log "throttled link (tbf 1kbit): staging stops at the low-speed limit"
	stage_into "$TMPD/slow" "$TMPD/two.json" 90 --low-speed-time 3 --jobs 3
	tc qdisc del dev lo root
	[[ "$rc" != 0 ]] || fail "throttled staging of 600 kB at 1 kbit/s succeeded"
	assert_eq "$rc" 69 "throttled staging: exit"
	assert_contains "$O.err" '^flywheel: input ' "throttled: names the input"
	assert_contains "$O.err" 'too slow' "throttled: says it was too slow"
	((ELAPSED < 60000)) || fail "throttled: the low-speed limit (3 s per mirror) was not enforced: $ELAPSED ms"
	log "throttled staging failed in $ELAPSED ms: $(head -n1 "$O.err")"
	final_ok "$TMPD/slow" throttled
	stage_into "$TMPD/slow" "$TMPD/two.json" 60
	assert_eq "$rc" 0 "staging after the throttle ended"
	final_ok "$TMPD/slow" throttled-recovered complete
else
	log "tc tbf is not available here: throttled link not tested"
fi

# ---- a 2 s stall, a reset mid-body (a small python server of the test's own) -------------
SPORT=$(free_port)
python3 - "$SPORT" "$TMPD/www/in" >"$TMPD/srv.log" 2>&1 <<'PY' &
import http.server, os, socket, socketserver, struct, sys, time
root = sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    def log_message(self, *a): pass
    def do_GET(self):
        if self.path.startswith("/stall/"):      # accept, say nothing for 2 s, then 404
            time.sleep(2)
            self.send_error(404)
        elif self.path.startswith("/reset/"):    # half the body, then a TCP reset
            data = open(os.path.join(root, os.path.basename(self.path)), "rb").read()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            time.sleep(0.2)
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        else:
            self.send_error(404)
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
S(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
SRV=$!
on_exit "kill $SRV"
wait_for_port "$SPORT" 20 "$SRV" || fail "python server did not start"

log "a server that stalls 2 s"
FLYWHEEL_PROBE_TIMEOUT_MS=1000 probe_expect "$O" 69 "http://127.0.0.1:$SPORT/stall"
expect_class "$O" connect 'no answer within 1000 ms|within'
((ELAPSED = 0)) || true
t0=$(date +%s%N)
FLYWHEEL_PROBE_TIMEOUT_MS=5000 probe_expect "$O" 0 "http://127.0.0.1:$SPORT/stall"
ms=$((($(date +%s%N) - t0) / 1000000))
((ms >= 1900)) || fail "the stalling server answered in $ms ms (the stall did not happen)"

log "reset in the middle of a body while staging"
make_manifest "$TMPD/reset2.json" "http://127.0.0.1:$SPORT/reset" "$MIRROR/in"
stage_into "$TMPD/reset" "$TMPD/reset2.json" 60
[[ "$rc" == 0 ]] || { cat "$O.err" >&2; fail "reset mid-body with a second mirror: exit $rc"; }
final_ok "$TMPD/reset" reset-2 complete
make_manifest "$TMPD/reset1.json" "http://127.0.0.1:$SPORT/reset"
stage_into "$TMPD/reset1" "$TMPD/reset1.json" 60 --json
assert_eq "$rc" 69 "reset mid-body, no other mirror: exit"
assert_contains "$O" '"class": "external-input"' "reset mid-body: class"
assert_contains "$O" 'reset|Recv failure|got [0-9]+ bytes' "reset mid-body: says what happened"
final_ok "$TMPD/reset1" reset-1
[[ -z "$(find "$TMPD/reset1" -type f -name 'blob-*')" ]] || fail "reset mid-body: a file under a final name"

# ---- nginx killed while a probe is in flight, then restarted ------------------------------
log "nginx killed while a probe is in flight"
# hold the probe's SYNs, kill nginx, let them through to a closed port
rule -p tcp --dport "$CPORT" -j DROP
FLYWHEEL_PROBE_TIMEOUT_MS=4000 "$PROBE_NET" probe --json "$CACHE" >"$O" 2>"$O.err" &
P=$!
sleep 0.4
kill -0 "$P" 2>/dev/null || fail "the probe finished before the server was killed"
stop_nginx "$CPREFIX"
unrule -p tcp --dport "$CPORT" -j DROP
run_rc rc timeout 20 tail --pid="$P" -f /dev/null
run_rc rc wait "$P"
assert_eq "$rc" 69 "probe across a server kill: exit"
expect_class "$O" connect 'refused|no answer|within'
# restart on the same port
nginx -p "$CPREFIX" -e "$CPREFIX/error.log" -c "$CPREFIX/conf/nginx.conf" -g "daemon off; pid $CPREFIX/nginx.pid;" \
	</dev/null >>"$CPREFIX/stdout.log" 2>&1 &
wait_for_port "$CPORT" 20 $! || fail "nginx did not restart"
probe_expect "$O" 0 "$CACHE"
clear_verdicts
run_rc rc env BAZEL_REMOTE_CACHE="$CACHE" CI=true FAKE_BAZEL_ARGV="$TMPD/argv.back" "$FLYWHEEL" bazel build //x >/dev/null 2>"$O.err"
assert_eq "$rc" 0 "flywheel bazel after the restart"
read_argv "$TMPD/argv.back" av
[[ " ${av[*]} " == *" --remote_cache=$CACHE "* ]] || fail "after the restart: not in cache mode: ${av[*]}"
pass
