#!/usr/bin/env bash
# setup.sh - make this Debian machine ready to build and test flywheel, then build it.
#
# Idempotent: installs only the packages from scripts/packages.txt that are missing
# (running `apt-get update` once, and only then), configures the meson build directory
# (or reconfigures an existing one) and compiles.  A second run on a ready machine
# installs nothing and only rebuilds what changed.
#
# Environment:
#   BUILD_DIR   build directory (default: build, relative to the repository root)
#   CI          when set to true/1, the build is configured with -Dwerror=true
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
build_dir=${BUILD_DIR:-build}

say() { printf 'setup: %s\n' "$*" >&2; }

# ---- packages ----------------------------------------------------------------
missing=()
while read -r pkg cmd _; do
	case "$pkg" in '' | '#'*) continue ;; esac
	if [[ -n "${cmd:-}" ]] && command -v "$cmd" >/dev/null 2>&1; then
		continue
	fi
	status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null || true)
	[[ "$status" == ii* ]] && continue
	missing+=("$pkg")
done <"$root/scripts/packages.txt"

if ((${#missing[@]} > 0)); then
	say "installing ${#missing[@]} missing package(s): ${missing[*]}"
	sudo=()
	if [[ $(id -u) -ne 0 ]]; then
		if command -v sudo >/dev/null 2>&1; then
			sudo=(sudo)
		else
			say "not root and no sudo: install these packages first: ${missing[*]}"
			exit 77
		fi
	fi
	export DEBIAN_FRONTEND=noninteractive
	"${sudo[@]}" apt-get update -q
	"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
else
	say "all packages present"
fi

# ---- build -------------------------------------------------------------------
meson_opts=()
case "${CI:-}" in true | 1 | yes) meson_opts+=(-Dwerror=true) ;; esac

if [[ -f "$build_dir/build.ninja" ]]; then
	# Reconfigure so that newly added test files and options are picked up.
	if ! out=$(meson setup --reconfigure "${meson_opts[@]}" "$build_dir" 2>&1); then
		if grep -qiE 'incompatible|not a (valid )?(meson )?build dir' <<<"$out"; then
			# Made by another meson version: start the directory over.
			say "build directory $build_dir is stale; wiping it"
			meson setup --wipe "${meson_opts[@]}" "$build_dir"
		else
			printf '%s\n' "$out" >&2
			say "meson could not configure $build_dir (see above)"
			exit 1
		fi
	fi
else
	meson setup "${meson_opts[@]}" "$build_dir"
fi
meson compile -C "$build_dir"
say "built in $build_dir"

# ---- npm: a real Bazelisk for the version-resolution test ----------------------
# (pinned; it never downloads a Bazel in the tests: they serve a fake one on loopback)
bazelisk_dir=$build_dir/npm
bazelisk_version=1.28.1
if [[ ! -x "$bazelisk_dir/node_modules/@bazel/bazelisk/bazelisk-linux_amd64" ]] ||
	! grep -qE "\"version\": \"v?$bazelisk_version\"" "$bazelisk_dir/node_modules/@bazel/bazelisk/package.json" 2>/dev/null; then
	say "installing @bazel/bazelisk@$bazelisk_version into $bazelisk_dir"
	mkdir -p "$bazelisk_dir"
	npm install --silent --no-audit --no-fund --prefix "$bazelisk_dir" "@bazel/bazelisk@$bazelisk_version" >/dev/null
fi
