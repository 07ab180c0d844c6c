# shellcheck shell=bash
# tests/e2e/lib/common.sh - shared helpers for flywheel's end-to-end tests.
#
# Source it first thing:  . "$(dirname "$0")/lib/common.sh"
# It sets `set -euo pipefail`, creates a private temp dir and installs one EXIT trap
# that runs every registered cleanup (last registered first), then removes the temp
# dir (kept when E2E_KEEP=1).  Never install your own EXIT trap: use on_exit.
#
# Variables set on sourcing (also NIX_CONF_DIR: an empty private dir):
#   E2E_NAME       test name (basename of the script without .sh)
#   TMPD           private temp dir, removed at exit
#   FLYWHEEL       the flywheel binary under test ($FLYWHEEL_BIN from meson, else build/flywheel)
#   FLYWHEEL_NET_BIN  the flywheel-net helper ($FLYWHEEL_NET, may be empty)
#   SRCDIR         repository root
#   REAL_BAZEL     the real Bazel client: $E2E_BAZEL, else /usr/bin/bazel-4, else `bazel` on PATH
#   HOME, XDG_CONFIG_HOME  point into TMPD so no user file leaks into a test
#   (every BAZEL_* / GF_* / FLYWHEEL_* variable of the caller is unset, except the
#   FLYWHEEL_BIN / FLYWHEEL_NET / FLYWHEEL_SRCDIR / FLYWHEEL_BUILDDIR that meson passes)
#
# Functions (stable; other tests rely on them):
#   on_exit CMD...              run CMD at exit (LIFO); quote it as one word or several
#   log MSG...                  progress line on stderr ("e2e[NAME]: MSG")
#   fail MSG...                 print "FAIL: MSG" and exit 1
#   skip MSG...                 print "SKIP: MSG" and exit 77 (meson counts it skipped)
#   pass                        print "PASS: NAME" (call at the end)
#   need_cmd CMD...             skip unless every CMD is on PATH
#   assert_eq GOT WANT MSG      fail unless GOT == WANT
#   assert_contains FILE REGEX MSG      fail unless grep -E finds REGEX in FILE
#   assert_not_contains FILE REGEX MSG  fail if grep -E finds REGEX in FILE
#   free_port                   print a loopback TCP port nobody listens on
#   wait_for_port PORT [SECS] [PID]     wait until 127.0.0.1:PORT accepts (default 20 s);
#                               returns 1 on timeout or when PID (if given) has died
#   run_rc VAR CMD...           run CMD, store its exit status in VAR (no set -e abort)
#   make_workspace DIR          tiny Bazel workspace: WORKSPACE, .bazelrc with the offline
#                               stub repositories, BUILD with genrules :hello, :a, :b, :c
#   make_stub_repos DIR         offline stubs for rules_cc, rules_java, remote_coverage_tools
#                               (Bazel 4 would download them for sh_test); prints rc lines
#   bazel_env WS OUR            export BAZEL_OUTPUT_USER_ROOT=OUR and register a shutdown
#                               of the Bazel server of workspace WS at exit
#   bazel_shutdown WS OUR       `bazel shutdown` for WS under output user root OUR, then
#                               kill any server left under OUR (bounded)
#   make_fake_bazel PATH [VERSION]  a fake Bazel script: answers --version with
#                               "bazel VERSION" (default 7.4.1); otherwise appends its
#                               argv NUL-separated to $FAKE_BAZEL_ARGV (if set), its pid
#                               to $FAKE_BAZEL_PID (if set), touches $FAKE_BAZEL_MARK (if
#                               set, on every call, --version included), then kills itself
#                               with $FAKE_BAZEL_SIGNAL or exits $FAKE_BAZEL_EXIT (default 0)
#   read_argv FILE ARRAYNAME    read a NUL-separated argv record into an array
set -euo pipefail

E2E_NAME=$(basename "$0" .sh)
SRCDIR=${FLYWHEEL_SRCDIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
FLYWHEEL=${FLYWHEEL_BIN:-$SRCDIR/build/flywheel}
FLYWHEEL_NET_BIN=${FLYWHEEL_NET:-}

if [[ -n "${E2E_BAZEL:-}" ]]; then
	REAL_BAZEL=$E2E_BAZEL
elif [[ -x /usr/bin/bazel-4 ]]; then
	REAL_BAZEL=/usr/bin/bazel-4
else
	REAL_BAZEL=$(command -v bazel || true)
fi

# A test sees only the configuration it sets itself.
_e2e_keep_env=" FLYWHEEL_BIN FLYWHEEL_NET FLYWHEEL_SRCDIR FLYWHEEL_BUILDDIR "
while IFS= read -r _v; do
	case "$_e2e_keep_env" in *" $_v "*) continue ;; esac
	unset "$_v"
done < <(compgen -e | grep -E '^(BAZEL_|GF_|FLYWHEEL_|BAZELISK_|USE_BAZEL_VERSION$|CI$)' || true)
unset _v

TMPD=$(mktemp -d "${TMPDIR:-/tmp}/fw-e2e-$E2E_NAME.XXXXXX")
export HOME=$TMPD/home XDG_CONFIG_HOME=$TMPD/home/.config
# no test reads the machine's nix.conf (whose default substituter is on the internet)
export NIX_CONF_DIR=$TMPD/home/nix-conf NIX_CONFIG=
unset NIX_CONFIG
mkdir -p "$HOME" "$XDG_CONFIG_HOME" "$NIX_CONF_DIR"
export NO_COLOR=1

_e2e_cleanups=()
on_exit() { _e2e_cleanups+=("$*"); }
_e2e_exit() {
	local rc=$? i
	set +e
	for ((i = ${#_e2e_cleanups[@]} - 1; i >= 0; i--)); do
		eval "${_e2e_cleanups[i]}" >/dev/null 2>&1
	done
	if [[ "${E2E_KEEP:-0}" == 1 ]]; then
		printf 'e2e[%s]: kept %s\n' "$E2E_NAME" "$TMPD" >&2
	else
		rm -rf "$TMPD"
	fi
	exit "$rc"
}
trap _e2e_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log() { printf 'e2e[%s]: %s\n' "$E2E_NAME" "$*" >&2; }
fail() {
	printf 'FAIL: %s: %s\n' "$E2E_NAME" "$*" >&2
	exit 1
}
skip() {
	printf 'SKIP: %s: %s\n' "$E2E_NAME" "$*" >&2
	exit 77
}
pass() { printf 'PASS: %s\n' "$E2E_NAME" >&2; }

need_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || skip "needs $c"
	done
}

assert_eq() {
	[[ "$1" == "$2" ]] || fail "$3: got '$1', want '$2'"
}
assert_contains() {
	grep -Eq -- "$2" "$1" || { sed 's/^/  | /' "$1" >&2; fail "$3: no match for /$2/ in $1"; }
}
assert_not_contains() {
	if grep -Eq -- "$2" "$1"; then
		sed 's/^/  | /' "$1" >&2
		fail "$3: unexpected match for /$2/ in $1"
	fi
}

run_rc() {
	local __var=$1
	shift
	set +e
	"$@"
	printf -v "$__var" '%d' $?
	set -e
}

_port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

free_port() {
	local i p
	for ((i = 0; i < 100; i++)); do
		p=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
		_port_open "$p" || { printf '%d\n' "$p"; return 0; }
	done
	fail "no free loopback port found"
}

wait_for_port() {
	local port=$1 secs=${2:-20} pid=${3:-} i
	for ((i = 0; i < secs * 10; i++)); do
		_port_open "$port" && return 0
		if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then
			return 1
		fi
		sleep 0.1
	done
	return 1
}

make_stub_repos() {
	local d=$1
	mkdir -p "$d/rules_cc/cc" "$d/rules_java/java" "$d/remote_coverage_tools"
	touch "$d/rules_cc/WORKSPACE" "$d/rules_cc/BUILD" "$d/rules_cc/cc/BUILD" \
		"$d/rules_java/WORKSPACE" "$d/rules_java/BUILD" "$d/rules_java/java/BUILD" \
		"$d/remote_coverage_tools/WORKSPACE"
	cat >"$d/rules_cc/cc/defs.bzl" <<'EOF'
cc_binary = native.cc_binary
cc_library = native.cc_library
cc_test = native.cc_test
cc_toolchain = native.cc_toolchain
cc_toolchain_suite = native.cc_toolchain_suite
EOF
	cat >"$d/rules_java/java/defs.bzl" <<'EOF'
java_binary = native.java_binary
java_library = native.java_library
java_test = native.java_test
java_import = native.java_import
java_toolchain = native.java_toolchain
java_runtime = native.java_runtime
java_plugin = native.java_plugin
java_package_configuration = native.java_package_configuration
EOF
	cat >"$d/remote_coverage_tools/BUILD" <<'EOF'
package(default_visibility = ["//visibility:public"])
filegroup(name = "coverage_report_generator", srcs = [])
filegroup(name = "lcov_merger", srcs = [])
EOF
	local r
	for r in rules_cc rules_java remote_coverage_tools; do
		printf 'build --override_repository=%s=%s\n' "$r" "$d/$r"
	done
}

make_workspace() {
	local ws=$1
	mkdir -p "$ws"
	: >"$ws/WORKSPACE"
	make_stub_repos "$TMPD/stubs" >"$ws/.bazelrc"
	cat >"$ws/BUILD" <<'EOF'
genrule(name = "hello", outs = ["hello.txt"], cmd = "echo hello from flywheel e2e > $@")
genrule(name = "a", outs = ["a.txt"], cmd = "echo a > $@")
genrule(name = "b", outs = ["b.txt"], cmd = "echo b > $@")
genrule(name = "c", outs = ["c.txt"], cmd = "echo c > $@")
EOF
}

bazel_shutdown() {
	local ws=$1 our=$2 pidf pid i
	if [[ -n "$REAL_BAZEL" && -d "$ws" && -d "$our" ]]; then
		(cd "$ws" && timeout 60 "$REAL_BAZEL" --output_user_root="$our" shutdown) >/dev/null 2>&1 || true
	fi
	# Backstop: a server whose client could not reach it.
	for pidf in "$our"/*/server/server.pid.txt; do
		[[ -f "$pidf" ]] || continue
		pid=$(cat "$pidf" 2>/dev/null || true)
		[[ "$pid" =~ ^[0-9]+$ ]] || continue
		kill "$pid" 2>/dev/null || continue
		for ((i = 0; i < 50; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$pid" 2>/dev/null || true
	done
}

bazel_env() {
	export BAZEL_OUTPUT_USER_ROOT=$2
	mkdir -p "$2"
	on_exit "bazel_shutdown '$1' '$2'"
}

make_fake_bazel() {
	local path=$1 version=${2:-7.4.1}
	mkdir -p "$(dirname "$path")"
	cat >"$path" <<EOF
#!/bin/bash
[[ -n "\${FAKE_BAZEL_MARK:-}" ]] && : >>"\$FAKE_BAZEL_MARK"
if [[ "\${1:-}" == --version ]]; then
	echo "bazel $version"
	exit 0
fi
[[ -n "\${FAKE_BAZEL_ARGV:-}" ]] && printf '%s\0' "\$@" >"\$FAKE_BAZEL_ARGV"
[[ -n "\${FAKE_BAZEL_PID:-}" ]] && echo \$\$ >"\$FAKE_BAZEL_PID"
if [[ -n "\${FAKE_BAZEL_SIGNAL:-}" ]]; then
	trap - "\$FAKE_BAZEL_SIGNAL"
	kill -s "\$FAKE_BAZEL_SIGNAL" \$\$
	sleep 5
fi
exit "\${FAKE_BAZEL_EXIT:-0}"
EOF
	chmod +x "$path"
}

read_argv() {
	mapfile -d '' -t "$2" <"$1"
}
