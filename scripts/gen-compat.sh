#!/bin/bash
# Regenerate docs/COMPATIBILITY.md from the version table in src/bazel_version.c.
# The unit test `bazel_version` fails whenever the committed file and the
# table disagree; this script runs that test in its rewrite mode.
#   scripts/gen-compat.sh [BUILDDIR]     (default: ./build)
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-"$src/build"}
if [ ! -d "$build" ]; then
	meson setup "$build" "$src" >/dev/null
fi
meson compile -C "$build" tests/test_bazel_version >/dev/null
FLYWHEEL_SRCDIR="$src" FLYWHEEL_REGEN_COMPAT=1 "$build/tests/test_bazel_version" >/dev/null 2>&1
if ! FLYWHEEL_SRCDIR="$src" "$build/tests/test_bazel_version" >/dev/null 2>&1; then
	echo "gen-compat: the bazel_version test still fails; run it for details" >&2
	exit 1
fi
echo "docs/COMPATIBILITY.md regenerated"
