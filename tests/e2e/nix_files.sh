#!/usr/bin/env bash
# The Nix files: every .nix file parses (nix-instantiate --parse), and the flake,
# evaluated offline against a stub nixpkgs (no nixpkgs can be fetched here), has
# packages.{default,static}, devShells.default (flywheel as `bazel`, BAZEL_REAL set),
# overlays.default and checks; its mesonFlags set exactly the options in
# meson_options.txt; its source filter keeps every file the build reads — proved by
# configuring and compiling the launcher from only the kept files.
. "$(dirname "$0")/lib/common.sh"
need_cmd nix-instantiate git meson ninja python3
export NIX_STATE_DIR=$TMPD/nix-state NIX_CONF_DIR=$TMPD/nix-conf
mkdir -p "$NIX_STATE_DIR" "$NIX_CONF_DIR"
unset NIX_CONFIG NIX_PATH

cd "$SRCDIR"
git ls-files --cached --others --exclude-standard >"$TMPD/files"
grep -E '\.nix$' "$TMPD/files" >"$TMPD/nixfiles" || true
(($(wc -l <"$TMPD/nixfiles") >= 3)) || fail "expected flake.nix and nix/*.nix"
while read -r f; do
	nix-instantiate --parse "$f" >/dev/null 2>"$TMPD/parse.err" || { cat "$TMPD/parse.err" >&2; fail "$f does not parse"; }
done <"$TMPD/nixfiles"
log "$(wc -l <"$TMPD/nixfiles") .nix files parse"

stub=$TMPD/nixpkgs
mkdir -p "$stub"
cat >"$stub/lib.nix" <<'NIX'
rec {
  fix = f: let x = f x; in x;
  genAttrs = names: f: builtins.listToAttrs (map (n: { name = n; value = f n; }) names);
  mesonOption = k: v: "-D${k}=${v}";
  mesonBool = k: v: mesonOption k (if v then "true" else "false");
  optional = c: x: if c then [ x ] else [ ];
  hasPrefix = p: s: builtins.substring 0 (builtins.stringLength p) s == p;
  removePrefix = p: s: if hasPrefix p s then builtins.substring (builtins.stringLength p) (builtins.stringLength s) s else s;
  cleanSourceWith = args: args;
  licenses.mit = "mit";
  platforms.linux = [ "x86_64-linux" "aarch64-linux" ];
}
NIX
cat >"$stub/default.nix" <<'NIX'
{ system ? "x86_64-linux", overlays ? [ ] }:
let
  lib = import ./lib.nix;
  drv = name: { type = "derivation"; inherit name; outPath = "/nix/store/00000000000000000000000000000000-${name}"; };
  base = final: {
    inherit lib system;
    stdenv.mkDerivation = args: args // drv args.pname;
    callPackage = f: args:
      let fn = import f; in fn (builtins.intersectAttrs (builtins.functionArgs fn) final // args);
    runCommand = name: env: script: drv name // { inherit script; };
    mkShell = args: args // { type = "shell"; };
    glibc = drv "glibc" // { static = drv "glibc-static"; };
  } // lib.genAttrs [ "meson" "ninja" "pkg-config" "protobufc" "python3" "scdoc" "curl" "c-ares" "openssl"
                      "libsodium" "inih" "jansson" "zstd" "cmocka" "bazel" "hyperfine" "nginx" ] drv;
in lib.fix (final: builtins.foldl' (prev: o: prev // o final prev) (base final) overlays)
NIX
cat >"$TMPD/eval.nix" <<'NIX'
{ src, stub, files }:
let
  flake = import (src + "/flake.nix");
  nixpkgs = { outPath = stub; lib = import (stub + "/lib.nix"); };
  outs = flake.outputs { self = outs; inherit nixpkgs; };
  sys = "x86_64-linux";
  pkg = outs.packages.${sys}.default;
  st = outs.packages.${sys}.static;
  shell = outs.devShells.${sys}.default;
  parts = f: builtins.filter builtins.isString (builtins.split "/" f);
  # a file is in the source when it and every directory above it pass the filter
  keptFile = f:
    let p = parts f; n = builtins.length p;
        dirs = builtins.genList (i: builtins.concatStringsSep "/" (builtins.genList (j: builtins.elemAt p j) (i + 1))) (n - 1);
    in builtins.all (d: pkg.src.filter "${src}/${d}" "directory") dirs && pkg.src.filter "${src}/${f}" "regular";
in {
  flake = builtins.attrNames flake;
  outputs = builtins.attrNames outs;
  systems = builtins.attrNames outs.packages;
  packages = builtins.attrNames outs.packages.${sys};
  checks = builtins.attrNames outs.checks.${sys};
  overlay = builtins.isFunction outs.overlays.default && builtins.isAttrs (outs.overlays.default { } { });
  defaultFlags = pkg.mesonFlags;
  staticFlags = st.mesonFlags;
  version = pkg.version;
  doCheck = pkg.doCheck;
  checkPhase = pkg.checkPhase;
  staticInputs = map (p: p.name) st.buildInputs;
  shellPackages = map (p: p.name) shell.packages;
  shellBazelReal = shell.BAZEL_REAL;
  shellWrapper = (builtins.head shell.packages).script;
  kept = builtins.filter keptFile (builtins.filter (x: builtins.isString x && x != "") (builtins.split "\n" files));
}
NIX
run_rc rc nix-instantiate --eval --strict --json "$TMPD/eval.nix" --argstr src "$SRCDIR" --argstr stub "$stub" \
	--arg files "builtins.readFile $TMPD/files" >"$TMPD/eval.json" 2>"$TMPD/eval.err"
[[ $rc -eq 0 ]] || { cat "$TMPD/eval.err" >&2; fail "evaluating the flake against the stub nixpkgs failed"; }

python3 - "$TMPD/eval.json" "$SRCDIR" "$TMPD" <<'EOF' || fail "flake structure or meson flags are wrong"
import json, re, sys
d = json.load(open(sys.argv[1]))
src, tmpd = sys.argv[2], sys.argv[3]
def need(cond, msg):
    if not cond:
        print("  " + msg, file=sys.stderr)
        sys.exit(1)
need({"description", "inputs", "outputs"} <= set(d["flake"]), "flake attributes: %s" % d["flake"])
need({"packages", "devShells", "overlays", "checks"} <= set(d["outputs"]), "outputs: %s" % d["outputs"])
need(d["systems"] == ["aarch64-linux", "x86_64-linux"], "systems: %s" % d["systems"])
need(d["packages"] == ["default", "static"], "packages: %s" % d["packages"])
need(len(d["checks"]) >= 1, "no checks")
need(d["overlay"], "overlays.default is not an overlay")
opts = re.findall(r"option\('([^']+)',\s*type:\s*'(\w+)'", open(src + "/meson_options.txt").read())
names = {n for n, _ in opts}
for key in ("defaultFlags", "staticFlags"):
    flags = dict(f[2:].split("=", 1) for f in d[key])
    need(all(f.startswith("-D") for f in d[key]), "%s: not -D flags: %s" % (key, d[key]))
    need(set(flags) == names, "%s sets %s, meson_options.txt has %s" % (key, sorted(flags), sorted(names)))
    for n, t in opts:
        if t == "boolean":
            need(flags[n] in ("true", "false"), "%s: %s=%s is not a boolean" % (key, n, flags[n]))
dflt = dict(f[2:].split("=", 1) for f in d["defaultFlags"])
stat = dict(f[2:].split("=", 1) for f in d["staticFlags"])
need(dflt["static_launcher"] == "false" and stat["static_launcher"] == "true", "static_launcher flags")
need(dflt["tests"] == "true", "checks need -Dtests=true")
need("glibc-static" in d["staticInputs"], "packages.static lacks glibc.static")
version = re.search(r"version:\s*'([^']+)'", open(src + "/meson.build").read()).group(1)
need(d["version"] == version, "version %s != meson.build's %s" % (d["version"], version))
need(d["doCheck"] and "meson test --suite unit" in d["checkPhase"], "checkPhase must run the unit suite")
need(d["shellPackages"][0] == "flywheel-as-bazel" and "bazel" in d["shellPackages"], "devshell packages: %s" % d["shellPackages"])
need("ln -s /nix/store/00000000000000000000000000000000-flywheel/bin/flywheel $out/bin/bazel" in d["shellWrapper"],
     "the devshell does not put flywheel on PATH as bazel")
need(d["shellBazelReal"].endswith("-bazel/bin/bazel"), "devshell BAZEL_REAL: %s" % d["shellBazelReal"])
kept = d["kept"]
for must in ("meson.build", "meson_options.txt", "src/main.c", "include/flywheel/error.h",
             "tools/bazel-shim.sh", "doc/flywheel.1.scd", "completions/flywheel.bash"):
    need(must in kept, "the source filter drops %s" % must)
for never in ("bench/startup.sh", "examples/spoke/WORKSPACE", "README.md"):
    need(never not in kept, "the source filter keeps %s" % never)
open(tmpd + "/kept", "w").write("\n".join(kept) + "\n")
open(tmpd + "/flags", "w").write("\n".join(d["defaultFlags"]) + "\n")
EOF
log "flake structure and mesonFlags agree with meson_options.txt; $(wc -l <"$TMPD/kept") files kept"

# every file meson itself reads must survive the filter: configure and build the
# launcher from exactly the kept files
mkdir -p "$TMPD/src"
while read -r f; do
	[[ -f "$SRCDIR/$f" ]] || continue
	mkdir -p "$TMPD/src/$(dirname "$f")"
	cp -p "$SRCDIR/$f" "$TMPD/src/$f"
done <"$TMPD/kept"
mapfile -t flags <"$TMPD/flags"
run_rc rc meson setup "$TMPD/build" "$TMPD/src" "${flags[@]}" >"$TMPD/setup.out" 2>&1
[[ $rc -eq 0 ]] || { tail -20 "$TMPD/setup.out" >&2; fail "meson setup on the flake's source set failed"; }
run_rc rc ninja -C "$TMPD/build" flywheel >"$TMPD/ninja.out" 2>&1
[[ $rc -eq 0 ]] || { tail -20 "$TMPD/ninja.out" >&2; fail "the launcher does not build from the flake's source set"; }
"$TMPD/build/flywheel" --version | grep -q '^flywheel ' || fail "the launcher built from the flake's sources does not run"
pass
