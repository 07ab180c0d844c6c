#!/usr/bin/env bash
# The static launcher (flywheel-linux-<arch>, what `flywheel vendor` ships; also
# `flywheel` itself with -Dstatic_launcher=true): no dynamic loader, <= 4 MiB
# stripped, no NSS, and the launch path works without the network helper or
# libcurl, while a network command then says so in one line.
. "$(dirname "$0")/lib/common.sh"
arch=$(uname -m)
bin=${FLYWHEEL_BUILDDIR:-$SRCDIR/build}/flywheel-linux-$arch
[[ -x "$bin" ]] || skip "no static launcher $bin (static linking unavailable?)"
need_cmd ldd strip

check_static() { # PATH
	local b=$1 out size
	out=$(ldd "$b" 2>&1 || true)
	[[ "$out" == *"not a dynamic executable"* ]] || fail "ldd $b: $out"
	strip -o "$TMPD/stripped" "$b"
	size=$(stat -c %s "$TMPD/stripped")
	log "$b: static, $size bytes stripped"
	((size <= 4 * 1024 * 1024)) || fail "$b is $size bytes stripped, over the 4 MiB budget"
	# static glibc pulls in NSS (and dlopen()s libnss_*.so at run time) only when
	# getpwnam, getaddrinfo and friends are linked in
	if grep -aqE 'nsswitch\.conf|libnss_' "$b"; then
		fail "$b links NSS (getpw*/getaddrinfo/...): the launcher must not use them"
	fi
	if command -v nm >/dev/null 2>&1 && nm "$b" 2>/dev/null | grep -q .; then
		if nm "$b" | grep -qwE 'getpwnam|getpwuid|getpwnam_r|getpwuid_r|getgrnam|getaddrinfo|gethostbyname|getservbyname'; then
			fail "$b has NSS symbols"
		fi
	fi
}
check_static "$bin"
if file -L "$FLYWHEEL" 2>/dev/null | grep -q 'statically linked'; then
	log "flywheel itself is static (-Dstatic_launcher=true): same checks"
	check_static "$FLYWHEEL"
fi

make_fake_bazel "$TMPD/bin/bazel" 7.4.1
export BAZEL_REAL=$TMPD/bin/bazel
ws=$TMPD/ws
make_workspace "$ws"
cd "$ws"

log "no network helper at all: the launch path works, a network command says so in one line"
run_rc rc env FLYWHEEL_NET=$TMPD/missing/flywheel-net "$bin" bazel --version >"$TMPD/ver.out" 2>&1
assert_eq "$rc" 0 "bazel --version without the helper"
assert_contains "$TMPD/ver.out" '^bazel 7\.4\.1$' "the real Bazel answered"
FAKE_BAZEL_ARGV=$TMPD/argv run_rc rc env FLYWHEEL_NET=$TMPD/missing/flywheel-net "$bin" bazel build //:hello >"$TMPD/build.out" 2>&1
assert_eq "$rc" 0 "bazel build (local mode) without the helper"
[[ -s "$TMPD/argv" ]] || fail "the fake Bazel did not run"
run_rc rc env FLYWHEEL_NET=$TMPD/missing/flywheel-net "$bin" probe >"$TMPD/probe.out" 2>&1
[[ $rc -ne 0 ]] || fail "probe without a helper succeeded"
assert_eq "$(wc -l <"$TMPD/probe.out")" 1 "probe without the helper: one line"
assert_contains "$TMPD/probe.out" '^flywheel: ' "in flywheel's message shape"

if [[ -x "$FLYWHEEL_NET_BIN" ]] && command -v unshare >/dev/null 2>&1 && unshare -rm true 2>/dev/null; then
	curl_so=$(ldd "$FLYWHEEL_NET_BIN" | awk '$1 == "libcurl.so.4" { print $3 }')
	[[ -n "$curl_so" ]] || fail "flywheel-net does not load libcurl.so.4?"
	log "libcurl.so.4 unusable (an empty file mounted over $curl_so in a private mount namespace)"
	: >"$TMPD/empty.so"
	cat >"$TMPD/nocurl.sh" <<EOF
set -u
mount --bind "$TMPD/empty.so" "\$(readlink -f "$curl_so")" || exit 99
"$bin" bazel --version >"$TMPD/nc-ver.out" 2>&1; echo \$? >"$TMPD/nc-ver.rc"
"$bin" probe >"$TMPD/nc-probe.out" 2>&1; echo \$? >"$TMPD/nc-probe.rc"
EOF
	FLYWHEEL_NET=$FLYWHEEL_NET_BIN unshare -rm bash "$TMPD/nocurl.sh" || fail "could not hide libcurl ($?)"
	assert_eq "$(cat "$TMPD/nc-ver.rc")" 0 "bazel --version with libcurl unusable"
	assert_contains "$TMPD/nc-ver.out" '^bazel 7\.4\.1$' "the launch path does not need libcurl"
	[[ "$(cat "$TMPD/nc-probe.rc")" != 0 ]] || fail "probe succeeded without libcurl"
	sed 's/^/  nocurl| /' "$TMPD/nc-probe.out" >&2
	assert_eq "$(wc -l <"$TMPD/nc-probe.out")" 1 "probe without libcurl: one line"
	assert_contains "$TMPD/nc-probe.out" 'libcurl\.so\.4' "the line names libcurl.so.4"
else
	log "no helper or no user namespaces: the libcurl-missing case is skipped"
fi

pass
