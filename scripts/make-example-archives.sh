#!/bin/bash
# make-example-archives.sh OUTDIR - build the example workspace's rule archives
# deterministically (sorted entries, fixed mtime and owner, gzip -n), so the
# sha256 pinned in examples/bazel/WORKSPACE and inputs.json never changes.
#
#   rules_cc-flywheel-shim-1.tar.gz    third_party/src/rules_cc  (prefix rules_cc-shim-1/)
#   rules_java-flywheel-shim-1.tar.gz  third_party/src/rules_java (prefix rules_java-shim-1/)
#   coverage_tools-flywheel-shim-1.tar.gz  third_party/src/remote_coverage_tools
#                                      (prefix coverage_tools-shim-1/; every test rule needs it)
#   example_data-1.tar.gz              4 MiB of generated (AES-CTR keystream) data
#                                      plus a BUILD file (prefix example_data-1/)
# Prints "name sha256 size" for each archive.
set -euo pipefail
out=${1:?usage: make-example-archives.sh OUTDIR}
here=$(cd "$(dirname "$0")/.." && pwd)
src=$here/examples/bazel/third_party/src
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

pack() { # pack NAME PREFIX SRCDIR
	local name=$1 prefix=$2 dir=$3
	rm -rf "${work:?}/$prefix"
	mkdir -p "$work/$prefix"
	cp -R "$dir/." "$work/$prefix/"
	find "$work/$prefix" -type d -exec chmod 0755 {} +
	find "$work/$prefix" -type f ! -name '*.sh' -exec chmod 0644 {} +
	find "$work/$prefix" -type f -name '*.sh' -exec chmod 0755 {} +
	(cd "$work" && LC_ALL=C tar --sort=name --mtime=@946684800 --owner=0 --group=0 \
		--numeric-owner --format=ustar -cf - "$prefix") | gzip -n -9 >"$out/$name.tmp"
	mv "$out/$name.tmp" "$out/$name"
	printf '%s %s %s\n' "$name" "$(sha256sum "$out/$name" | cut -d' ' -f1)" "$(stat -c %s "$out/$name")"
}

pack rules_cc-flywheel-shim-1.tar.gz rules_cc-shim-1 "$src/rules_cc"
pack rules_java-flywheel-shim-1.tar.gz rules_java-shim-1 "$src/rules_java"
pack coverage_tools-flywheel-shim-1.tar.gz coverage_tools-shim-1 "$src/remote_coverage_tools"

data=$work/data-src
mkdir -p "$data"
printf 'workspace(name = "example_data")\n' >"$data/WORKSPACE"
cat >"$data/BUILD" <<'BUILD'
filegroup(
    name = "blob",
    srcs = ["blob.bin"],
    visibility = ["//visibility:public"],
)
BUILD
# Incompressible and reproducible: an AES-128-CTR keystream with a fixed key.
head -c 4194304 /dev/zero | openssl enc -aes-128-ctr -nosalt \
	-K 000102030405060708090a0b0c0d0e0f -iv 00000000000000000000000000000000 >"$data/blob.bin"
pack example_data-1.tar.gz example_data-1 "$data"
