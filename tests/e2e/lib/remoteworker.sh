# shellcheck shell=bash
# tests/e2e/lib/remoteworker.sh - Bazel's own REAPI server (RemoteWorker) for tests.
# Source lib/common.sh first, then this file.
#
# RemoteWorker binds every interface, so run it only inside a private network
# namespace: the calling test re-executes itself under `unshare -rn` (see
# rw_enter_netns) and starts the worker, flywheel and any Bazel there.
#
# Functions (stable):
#   rw_enter_netns "$@"   first thing in a test: re-exec the script inside
#                         `unshare -rn` with lo up (no-op when already inside)
#   rw_build              compile the worker classes once into
#                         ${FLYWHEEL_TEST_CACHE:-/tmp/flywheel-test-cache}/remoteworker
#                         (skips the test when javac or the sources are missing)
#   start_remoteworker    (plain grpc only: Debian's server jar lacks netty-tcnative,
#                         which RemoteWorker's TLS needs; put nginx grpc_pass in front)
#                         start a worker on a free loopback port, wait until it
#                         accepts; sets RW_PORT, RW_PID, RW_DIR; stopped at exit
#   make_tls_pki DIR      CA + server cert (127.0.0.1, localhost) + client cert +
#                         expired server cert + wrong-name cert + a second CA; sets
#                         PKI_CA PKI_SRV_CERT PKI_SRV_KEY PKI_CLI_CERT PKI_CLI_KEY
#                         PKI_EXPIRED_CERT PKI_EXPIRED_KEY PKI_WRONGNAME_CERT
#                         PKI_WRONGNAME_KEY PKI_OTHER_CA

RW_SRC=/usr/src/bazel-bootstrap/src/tools/remote/src/main/java/com/google/devtools/build/remote/worker
RW_JAR=/usr/share/bazel/A-server.jar
RW_CACHE=${FLYWHEEL_TEST_CACHE:-/tmp/flywheel-test-cache}/remoteworker

rw_enter_netns() {
	if [[ "${FW_IN_NETNS:-}" != 1 ]]; then
		command -v unshare >/dev/null 2>&1 || skip "needs unshare"
		unshare -rn true 2>/dev/null || skip "cannot create a network namespace"
		FW_IN_NETNS=1 exec unshare -rn bash "$0" "$@"
	fi
	ip link set lo up 2>/dev/null || true
}

rw_build() {
	need_cmd java javac
	[[ -d "$RW_SRC" && -f "$RW_JAR" ]] || skip "needs bazel-bootstrap-source and bazel-bootstrap"
	local stamp=$RW_CACHE/.built
	if [[ -f "$stamp" ]]; then return 0; fi
	mkdir -p "$RW_CACHE"
	local tmp
	tmp=$(mktemp -d "$RW_CACHE/build.XXXXXX")
	# shellcheck disable=SC2046
	javac -proc:none -nowarn -d "$tmp" -cp "$RW_JAR" $(find "$RW_SRC" -name '*.java') >"$tmp.log" 2>&1 ||
		{ cat "$tmp.log" >&2; fail "RemoteWorker does not compile"; }
	rm -rf "$RW_CACHE/classes"
	mv "$tmp" "$RW_CACHE/classes"
	rm -f "$tmp.log"
	: >"$stamp"
}

_rw_n=0
stop_remoteworker() {
	local pid=$1 i
	kill "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -9 "$pid" 2>/dev/null || true
}

start_remoteworker() {
	local attempt port
	rw_build
	_rw_n=$((_rw_n + 1))
	RW_DIR=$TMPD/rw-$_rw_n
	mkdir -p "$RW_DIR/work" "$RW_DIR/cas"
	for attempt in 1 2 3; do
		port=$(free_port)
		java -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -cp "$RW_CACHE/classes:$RW_JAR" \
			com.google.devtools.build.remote.worker.RemoteWorker \
			--work_path="$RW_DIR/work" --cas_path="$RW_DIR/cas" --listen_port="$port" \
			>"$RW_DIR/log" 2>&1 &
		RW_PID=$!
		if wait_for_port "$port" 60 "$RW_PID"; then
			RW_PORT=$port
			on_exit "stop_remoteworker $RW_PID"
			return 0
		fi
		stop_remoteworker "$RW_PID"
	done
	cat "$RW_DIR/log" >&2
	fail "RemoteWorker did not start"
}

make_tls_pki() {
	local d=$1
	mkdir -p "$d"
	(
		cd "$d"
		q() { openssl "$@" >/dev/null 2>&1; }
		q req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=fw-test-ca -keyout ca.key -out ca.pem
		q req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=fw-other-ca -keyout other.key -out other.pem
		printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >san.cnf
		printf 'subjectAltName=DNS:wrong.example\n' >wrong.cnf
		printf 'extendedKeyUsage=clientAuth\n' >cli.cnf
		q req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout srv.key -out srv.csr
		q x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile san.cnf -out srv.pem
		q req -newkey rsa:2048 -nodes -subj /CN=wrong.example -keyout wrong.key -out wrong.csr
		q x509 -req -in wrong.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile wrong.cnf -out wrong.pem
		q req -newkey rsa:2048 -nodes -subj /CN=fw-client -keyout cli.key -out cli.csr
		q x509 -req -in cli.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile cli.cnf -out cli.pem
		# expired: notAfter a day before notBefore (OpenSSL 3.0 accepts -days -1)
		q req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout exp.key -out exp.csr
		q x509 -req -in exp.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days -1 -extfile san.cnf -out exp.pem
		# netty wants PKCS#8 keys
		for k in srv wrong exp cli; do
			openssl pkcs8 -topk8 -nocrypt -in $k.key -out $k.p8 2>/dev/null
		done
	)
	PKI_CA=$d/ca.pem PKI_OTHER_CA=$d/other.pem
	PKI_SRV_CERT=$d/srv.pem PKI_SRV_KEY=$d/srv.p8
	PKI_CLI_CERT=$d/cli.pem PKI_CLI_KEY=$d/cli.key
	PKI_EXPIRED_CERT=$d/exp.pem PKI_EXPIRED_KEY=$d/exp.p8
	PKI_WRONGNAME_CERT=$d/wrong.pem PKI_WRONGNAME_KEY=$d/wrong.p8
}
