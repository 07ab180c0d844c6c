# shellcheck shell=bash
# tests/e2e/lib/nginx.sh - test-owned nginx servers: HTTP cache (WebDAV PUT), mirror,
# TLS, 401 and 403.  Source lib/common.sh first, then this file.
#
# Each server runs as `nginx -p PREFIX -c CONF -g 'daemon off; pid PREFIX/nginx.pid;'`
# on a free loopback port, with its own prefix under $TMPD, and is stopped by the
# common EXIT trap.  Call these functions directly, NOT inside $(...): they set
# variables in the calling shell and register the stop there.
#
# Functions (stable; other tests rely on them):
#   start_nginx [OPTIONS] SNIPPET
#       Start a server whose `server { }` block holds SNIPPET (nginx directives, e.g.
#       `location / { root /x; }`).  Sets:
#         NGINX_PORT    the port
#         NGINX_PREFIX  its prefix dir (access.log, error.log, conf/nginx.conf)
#         NGINX_PID     the master's pid
#         NGINX_BASE    "http://127.0.0.1:PORT" or "https://127.0.0.1:PORT"
#       OPTIONS:
#         --tls CERT KEY    listen with TLS using that certificate and key
#         --auth USER:PASS  require HTTP basic auth on the whole server (else 401)
#         --deny            answer 403 to everything (deny all)
#         --h2c             plain HTTP/2 with prior knowledge (a gRPC-like endpoint)
#   start_nginx_cache [OPTIONS] DIR
#       A Bazel HTTP cache over DIR (created if missing): GET/HEAD/PUT under /cache/,
#       dav_methods PUT, create_full_put_path, client_max_body_size 0.
#       Same OPTIONS and variables as start_nginx, plus
#         NGINX_URL     "$NGINX_BASE/cache" (give this to --remote_cache / BAZEL_REMOTE_CACHE)
#   start_nginx_files [OPTIONS] DIR
#       Serve DIR read-only at / (an archive mirror).  Sets NGINX_URL="$NGINX_BASE".
#   stop_nginx PREFIX
#       Stop one server now (it is also stopped at exit).
#   make_tls_cert DIR [HOST]
#       Self-signed CA plus a server certificate for HOST (default 127.0.0.1, also
#       valid for localhost).  Sets TLS_CA, TLS_CERT, TLS_KEY (files in DIR).
#   nginx_count_requests PREFIX METHOD
#       Print how many METHOD requests PREFIX's access log holds.

_nginx_n=0

stop_nginx() {
	local prefix=$1 pid i
	[[ -f "$prefix/nginx.pid" ]] || return 0
	pid=$(cat "$prefix/nginx.pid" 2>/dev/null || true)
	[[ "$pid" =~ ^[0-9]+$ ]] || return 0
	kill -QUIT "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$pid" 2>/dev/null || true
	rm -f "$prefix/nginx.pid"
}

start_nginx() {
	local cert="" key="" auth="" deny=0 h2c=0
	while (($#)); do
		case "$1" in
		--tls) cert=$2 key=$3; shift 3 ;;
		--auth) auth=$2; shift 2 ;;
		--deny) deny=1; shift ;;
		--h2c) h2c=1; shift ;;
		--) shift; break ;;
		-*) fail "start_nginx: unknown option $1" ;;
		*) break ;;
		esac
	done
	local snippet=${1:?start_nginx needs a config snippet}
	command -v nginx >/dev/null 2>&1 || skip "needs nginx"

	_nginx_n=$((_nginx_n + 1))
	local prefix=$TMPD/nginx-$_nginx_n attempt port pid listen extra=""
	mkdir -p "$prefix/conf" "$prefix/tmp"
	if [[ -n "$auth" ]]; then
		local user=${auth%%:*} pass=${auth#*:}
		printf '%s:%s\n' "$user" "$(openssl passwd -apr1 "$pass")" >"$prefix/conf/htpasswd"
		extra+="auth_basic \"flywheel-e2e\"; auth_basic_user_file $prefix/conf/htpasswd;"
	fi
	((deny)) && extra+="deny all;"

	for attempt in 1 2 3; do
		port=$(free_port)
		listen="127.0.0.1:$port"
		[[ -n "$cert" ]] && listen+=" ssl"
		((h2c)) && listen+=" http2"
		{
			[[ $(id -u) -eq 0 ]] && echo "user root;"
			cat <<EOF
worker_processes 1;
error_log $prefix/error.log warn;
events { worker_connections 256; }
http {
    access_log $prefix/access.log;
    client_body_temp_path $prefix/tmp/body;
    proxy_temp_path $prefix/tmp/proxy;
    fastcgi_temp_path $prefix/tmp/fastcgi;
    uwsgi_temp_path $prefix/tmp/uwsgi;
    scgi_temp_path $prefix/tmp/scgi;
    default_type application/octet-stream;
    server {
        listen $listen;
        server_name localhost;
EOF
			if [[ -n "$cert" ]]; then
				echo "        ssl_certificate $cert;"
				echo "        ssl_certificate_key $key;"
			fi
			[[ -n "$extra" ]] && echo "        $extra"
			echo "        $snippet"
			echo "    }"
			echo "}"
		} >"$prefix/conf/nginx.conf"
		nginx -p "$prefix" -e "$prefix/error.log" -c "$prefix/conf/nginx.conf" \
			-g "daemon off; pid $prefix/nginx.pid;" </dev/null >>"$prefix/stdout.log" 2>&1 &
		pid=$!
		if wait_for_port "$port" 20 "$pid"; then
			NGINX_PORT=$port NGINX_PREFIX=$prefix NGINX_PID=$pid
			if [[ -n "$cert" ]]; then NGINX_BASE=https://127.0.0.1:$port; else NGINX_BASE=http://127.0.0.1:$port; fi
			on_exit "stop_nginx '$prefix'"
			return 0
		fi
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	cat "$prefix/error.log" "$prefix/stdout.log" >&2 2>/dev/null || true
	fail "nginx did not start (see above)"
}

start_nginx_cache() {
	local opts=()
	while (($# > 1)); do opts+=("$1"); shift; done
	local dir=${1:?start_nginx_cache needs a directory}
	mkdir -p "$dir"
	start_nginx "${opts[@]}" "location /cache/ {
            alias $dir/;
            dav_methods PUT;
            create_full_put_path on;
            dav_access user:rw group:r all:r;
            client_max_body_size 0;
        }"
	NGINX_URL=$NGINX_BASE/cache
}

start_nginx_files() {
	local opts=()
	while (($# > 1)); do opts+=("$1"); shift; done
	local dir=${1:?start_nginx_files needs a directory}
	start_nginx "${opts[@]}" "location / { root $dir; }"
	NGINX_URL=$NGINX_BASE
}

make_tls_cert() {
	local d=$1 host=${2:-127.0.0.1}
	mkdir -p "$d"
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=flywheel-e2e-ca" \
		-keyout "$d/ca.key" -out "$d/ca.pem" >/dev/null 2>&1
	openssl req -newkey rsa:2048 -nodes -subj "/CN=$host" \
		-keyout "$d/server.key" -out "$d/server.csr" >/dev/null 2>&1
	local san="DNS:localhost,IP:127.0.0.1"
	[[ "$host" != 127.0.0.1 && "$host" != localhost ]] && san+=",DNS:$host"
	printf 'subjectAltName=%s\n' "$san" >"$d/ext.cnf"
	openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
		-days 2 -extfile "$d/ext.cnf" -out "$d/server.pem" >/dev/null 2>&1
	TLS_CA=$d/ca.pem TLS_CERT=$d/server.pem TLS_KEY=$d/server.key
}

nginx_count_requests() {
	local n
	n=$(grep -c "\"$2 " "$1/access.log" 2>/dev/null) || true
	printf '%d\n' "${n:-0}"
}
