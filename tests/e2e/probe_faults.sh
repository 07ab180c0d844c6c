#!/usr/bin/env bash
# probe_faults: every way a remote can be unusable ends in the right failure
# class and fix, within the deadline: refused port, black hole (iptables DROP
# in a private network namespace), silent server, garbage instead of gRPC,
# unknown host, HTTP 401/403 on a gRPC path, gRPC UNAUTHENTICATED (16) and
# PERMISSION_DENIED (7), and an endpoint list that picks the healthy one.
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/remoteworker.sh"
. "$(dirname "$0")/lib/nginx.sh"
. "$(dirname "$0")/lib/probe.sh"
rw_enter_netns "$@"
need_cmd perl iptables
O=$TMPD/out
export FLYWHEEL_PROBE_TIMEOUT_MS=1500

# refused
P=$(free_port)
probe_expect "$O" 69 "grpc://127.0.0.1:$P"
expect_class "$O" connect 'connection refused'

# black hole: SYNs to this port vanish
P=$(free_port)
iptables -A INPUT -p tcp --dport "$P" -j DROP || skip "iptables does not work here"
on_exit "iptables -D INPUT -p tcp --dport $P -j DROP"
probe_expect "$O" 69 "grpc://127.0.0.1:$P"
expect_class "$O" connect 'black hole'
assert_contains "$O" 'within 1125 ms' "names the connect budget (3/4 of the deadline)"

# a server that accepts and never answers; one that answers garbage
serve() { # MODE -> SRV_PORT
	local port
	port=$(free_port)
	perl -MIO::Socket::INET -e '
		my ($port, $mode) = @ARGV;
		my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => $port, Listen => 16, ReuseAddr => 1) or die;
		my @keep;
		while (my $c = $s->accept) {
			if ($mode eq "garbage") { my $junk = join("", map { chr(int(rand(256))) } 1..512); print $c "\x00\xffNOT-GRPC$junk"; close $c; }
			else { push @keep, $c; }
		}' "$port" "$1" &
	on_exit "kill $!"
	wait_for_port "$port" 10 $! || fail "perl server did not start"
	SRV_PORT=$port
}
serve silent
probe_expect "$O" 69 "grpc://127.0.0.1:$SRV_PORT"
expect_class "$O" connect 'no answer within 1500 ms'
probe_expect "$O" 69 "http://127.0.0.1:$SRV_PORT/cache"
expect_class "$O" connect 'no answer within 1500 ms'
serve garbage
probe_expect "$O" 69 "grpc://127.0.0.1:$SRV_PORT"
expect_class "$O" connect 'not with HTTP/2 gRPC|closed the connection|not gRPC'

# unknown host (no nameserver is reachable in the namespace, or it says no)
probe_expect "$O" 69 "grpc://no-such-host.flywheel.invalid:443"
expect_class "$O" dns 'no-such-host'

# gRPC status 16, 7 and 12: a tiny h2c server (perl) answering every stream
# with a trailers-only response (:status 200, content-type application/grpc,
# grpc-status N) in one HEADERS frame, HPACK literals, no Huffman; CODE
# "httpNNN" answers a plain HTTP status NNN instead.  (nginx is not used here:
# it answers before reading the request body and resets the stream, and
# libcurl 7.88 then drops the answer — a race, not a test.)
grpc_status() { # CODE MESSAGE -> SRV_PORT
	local port
	port=$(free_port)
	perl -MIO::Socket::INET -MIO::Select -e '
		my ($port, $code, $msg) = @ARGV;
		sub lit { my ($n, $v) = @_; return "\x00" . chr(length $n) . $n . chr(length $v) . $v; }
		sub frame { my ($type, $flags, $sid, $p) = @_; return substr(pack("N", length $p), 1) . chr($type) . chr($flags) . pack("N", $sid) . $p; }
		my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => $port, Listen => 16, ReuseAddr => 1) or die;
		while (my $c = $s->accept) {
			binmode $c;
			my $sel = IO::Select->new($c);
			my ($in, $got) = ("", 0);
			# read frames after the 24-byte preface until the request HEADERS (type 1)
			while (!$got && $sel->can_read(2)) {
				my $n = sysread($c, my $buf, 65536); last unless $n; $in .= $buf;
				my $off = 24;
				while (length($in) >= $off + 9) {
					my $len = unpack("N", "\x00" . substr($in, $off, 3));
					if (ord(substr($in, $off + 3, 1)) == 1) { $got = 1; last; }
					$off += 9 + $len;
				}
			}
			my $hdr = $code =~ /^http(\d+)$/ ? lit(":status", $1) . lit("content-type", "text/html")
				: "\x88" . lit("content-type", "application/grpc") . lit("grpc-status", $code) . lit("grpc-message", $msg);
			syswrite($c, frame(4, 0, 0, "") . frame(4, 1, 0, "") . frame(1, 5, 1, $hdr));
			while ($sel->can_read(0.5)) { my $n = sysread($c, my $buf, 65536); last unless $n; }
			close $c;
		}' "$port" "$1" "$2" &
	on_exit "kill $!"
	wait_for_port "$port" 10 $! || fail "perl h2c server did not start"
	SRV_PORT=$port
}
# HTTP 401 / 403 in front of a gRPC path (an auth proxy)
grpc_status http401 x
probe_expect "$O" 69 "grpc://127.0.0.1:$SRV_PORT"
expect_class "$O" auth 'not logged in \(HTTP 401'
grpc_status http403 x
probe_expect "$O" 69 "grpc://127.0.0.1:$SRV_PORT"
expect_class "$O" auth 'not allowed to read \(HTTP 403'
grpc_status 16 token-expired
probe_expect "$O" 69 "grpc://127.0.0.1:$SRV_PORT"
expect_class "$O" auth 'not logged in \(gRPC UNAUTHENTICATED'
grpc_status 7 no-access
probe_expect "$O" 69 "grpc://127.0.0.1:$SRV_PORT"
expect_class "$O" auth 'logged in, but not allowed .*PERMISSION_DENIED'
grpc_status 12 nope
probe_expect "$O" 69 "grpc://127.0.0.1:$SRV_PORT"
expect_class "$O" capabilities 'does not implement'

# an endpoint list: a dead cache and a healthy one; the healthy one is chosen
start_remoteworker
DEAD=$(free_port)
FLYWHEEL_ALLOW_LOOPBACK=true BAZEL_REMOTE_CACHE="grpc://127.0.0.1:$DEAD,grpc://127.0.0.1:$RW_PORT" \
	probe_expect "$O" 0
assert_contains "$O" "\"cache\": \"grpc://127.0.0.1:$RW_PORT\"" "healthy cache chosen"
assert_contains "$O" '"why": "the only healthy one of 2' "why it was chosen"
# --for-launch: quiet, exit 69 when no cache is healthy, verdicts stored
run_rc rc env FLYWHEEL_ALLOW_LOOPBACK=true BAZEL_REMOTE_CACHE="grpc://127.0.0.1:$DEAD" \
	"$PROBE_NET" probe --for-launch >"$O" 2>"$O.err"
assert_eq "$rc" 69 "for-launch exit with a dead cache"
[[ ! -s "$O" && ! -s "$O.err" ]] || fail "for-launch printed something"
grep -l 'state failed' "$HOME/.cache/flywheel/"verdict-* >/dev/null || fail "failed verdict not stored"
run_rc rc env FLYWHEEL_ALLOW_LOOPBACK=true BAZEL_REMOTE_CACHE="grpc://127.0.0.1:$RW_PORT" \
	"$PROBE_NET" probe --for-launch >"$O" 2>"$O.err"
assert_eq "$rc" 0 "for-launch exit with a healthy cache"
grep -l 'state healthy' "$HOME/.cache/flywheel/"verdict-* >/dev/null || fail "healthy verdict not stored"
pass
