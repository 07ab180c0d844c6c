# The development shell: `bazel` on PATH is flywheel (which execs the real
# Bazel named by BAZEL_REAL), plus the tools to build and test flywheel itself.
{ pkgs, flywheel }:

let
  flywheelAsBazel = pkgs.runCommand "flywheel-as-bazel" { } ''
    mkdir -p $out/bin
    ln -s ${flywheel}/bin/flywheel $out/bin/bazel
    ln -s ${flywheel}/bin/flywheel $out/bin/flywheel
  '';
in
pkgs.mkShell {
  # flywheelAsBazel first: its `bazel` shadows the real one on PATH
  packages = [ flywheelAsBazel pkgs.bazel pkgs.scdoc pkgs.hyperfine pkgs.nginx ];
  inputsFrom = [ flywheel ];
  BAZEL_REAL = "${pkgs.bazel}/bin/bazel";
  shellHook = ''
    echo "flywheel devshell: 'bazel' runs flywheel $(flywheel --version | cut -d' ' -f2) in front of $BAZEL_REAL" >&2
  '';
}
