#!/bin/sh
# tools/bazel - run Bazel through the vendored flywheel (installed by `flywheel vendor`).
# flywheel-vendor-shim 1
#
# Bazelisk and Bazel's own launcher script run this file with BAZEL_REAL set to
# the real Bazel; flywheel then validates the configuration, probes the remote
# cache and execs BAZEL_REAL.  The binary's SHA-256 is checked before every run;
# a mismatch is refused (exit 126).  Regenerate with `flywheel vendor DIR`.
set -eu

# Re-entered in the same process: flywheel found a Bazel launcher script on
# PATH that ran this file again (with BAZEL_REAL set).  Go straight to the real
# Bazel; a third entry means BAZEL_REAL leads back here.
case "${FLYWHEEL_SHIM:-}" in
"$$:1")
	FLYWHEEL_SHIM="$$:2"
	export FLYWHEEL_SHIM
	if [ -n "${BAZEL_REAL:-}" ] && [ -x "$BAZEL_REAL" ]; then
		exec "$BAZEL_REAL" "$@"
	fi
	echo "flywheel: tools/bazel: re-entered without a usable BAZEL_REAL; set BAZEL_REAL to the real Bazel binary" >&2
	exit 127
	;;
"$$:2")
	echo "flywheel: tools/bazel: BAZEL_REAL (${BAZEL_REAL:-unset}) leads back to this script; set BAZEL_REAL to the real Bazel binary, not a wrapper" >&2
	exit 127
	;;
esac

# Entered from a child process of a run of this shim: flywheel asks the Bazel it
# found for `--version`, and a BAZEL_REAL that leads back here would recurse.
# Nested Bazel calls (a `bazel run` tool calling bazel) stay well below the cap.
depth=${FLYWHEEL_SHIM_DEPTH:-0}
case $depth in '' | *[!0-9]*) depth=0 ;; esac
if [ "$depth" -ge 4 ]; then
	echo "flywheel: tools/bazel: nested $depth deep (BAZEL_REAL=${BAZEL_REAL:-unset} leads back to this script?); set BAZEL_REAL to the real Bazel binary, not a wrapper" >&2
	exit 127
fi
FLYWHEEL_SHIM_DEPTH=$((depth + 1))
export FLYWHEEL_SHIM_DEPTH

dir=$(dirname -- "$0")/flywheel
case "$(uname -s)-$(uname -m)" in
Linux-x86_64 | Linux-amd64) bin=flywheel-linux-x86_64 ;;
Linux-aarch64 | Linux-arm64) bin=flywheel-linux-aarch64 ;;
*)
	echo "flywheel: tools/bazel: no vendored flywheel for $(uname -s) $(uname -m); run 'flywheel vendor' on such a machine, or set BAZEL_REAL and run Bazel directly" >&2
	exit 127
	;;
esac
exe=$dir/$bin
if [ ! -f "$exe" ] || [ ! -f "$exe.sha256" ]; then
	echo "flywheel: $exe: missing (or its .sha256); run 'flywheel vendor' on the workspace root" >&2
	exit 127
fi

want=$(sed -n '1s/^\([0-9a-f]\{64\}\)[ *].*$/\1/p' "$exe.sha256")
if command -v sha256sum >/dev/null 2>&1; then
	got=$(sha256sum <"$exe")
elif command -v shasum >/dev/null 2>&1; then
	got=$(shasum -a 256 <"$exe")
else
	echo "flywheel: tools/bazel: neither sha256sum nor shasum is installed; install coreutils (or perl's shasum) so the vendored binary can be verified" >&2
	exit 126
fi
got=${got%% *}
if [ -z "$want" ] || [ "$got" != "$want" ]; then
	echo "flywheel: $exe: SHA-256 mismatch (expected ${want:-none}, got $got); refusing to run it: restore it from version control or re-run 'flywheel vendor'" >&2
	exit 126
fi

FLYWHEEL_SHIM="$$:1"
export FLYWHEEL_SHIM
exec "$exe" bazel "$@"
