# flywheel as a Nix derivation (meson build).  flake.nix calls it twice:
# packages.default (dynamic launcher) and packages.static (static_launcher=true).
# tests/e2e/nix_files.sh evaluates this file with a stub `pkgs` and checks that
# mesonFlags cover meson_options.txt and that `src` keeps every file the build reads.
{ lib
, stdenv
, meson
, ninja
, pkg-config
, protobufc
, python3
, scdoc
, curl
, c-ares
, openssl
, libsodium
, inih
, jansson
, zstd
, cmocka
, glibc
, static ? false
}:

let
  # Files the meson build reads; everything else (bench/, examples/, .ci/,
  # build directories) stays out of the store path, so editing it does not rebuild.
  keepDirs = [ "include" "src" "proto" "tests" "doc" "completions" "tools" ];
  keepFiles = [ "meson.build" "meson_options.txt" "docs/CONFIGURATION.md" "scripts/gen-config-doc.py" ];
  root = toString ../.;
  relative = path: lib.removePrefix (root + "/") (toString path);
  keep = path: type:
    let rel = relative path; in
    builtins.elem rel keepFiles
    || (type == "directory" && (rel == "docs" || rel == "scripts"))
    || builtins.any (d: rel == d || lib.hasPrefix (d + "/") rel) keepDirs;
in
stdenv.mkDerivation {
  pname = if static then "flywheel-static" else "flywheel";
  version = "0.1.0";

  src = lib.cleanSourceWith {
    name = "flywheel-source";
    src = ../.;
    filter = keep;
  };

  nativeBuildInputs = [ meson ninja pkg-config protobufc python3 scdoc ];
  buildInputs = [ curl c-ares openssl libsodium inih jansson protobufc zstd ]
    ++ lib.optional static glibc.static;
  nativeCheckInputs = [ cmocka ];
  checkInputs = [ cmocka ];

  mesonFlags = [
    (lib.mesonBool "tests" true)
    (lib.mesonBool "static_deps" true)
    (lib.mesonBool "static_launcher" static)
    (lib.mesonBool "fuzzers" false)
  ];

  # The e2e suite needs real Bazel, nginx and loopback servers: unit tests only.
  doCheck = true;
  checkPhase = ''
    runHook preCheck
    meson test --suite unit --print-errorlogs
    runHook postCheck
  '';

  meta = {
    description = "Validate, probe and stage, then exec Bazel";
    license = lib.licenses.mit;
    platforms = lib.platforms.linux;
    mainProgram = "flywheel";
  };
}
