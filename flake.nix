{
  description = "flywheel: validate, probe and stage, then exec Bazel";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-24.05";

  outputs = { self, nixpkgs }:
    let
      systems = [ "x86_64-linux" "aarch64-linux" ];
      forAllSystems = f: nixpkgs.lib.genAttrs systems (system:
        f (import nixpkgs { inherit system; overlays = [ self.overlays.default ]; }));
    in
    {
      overlays.default = final: prev: {
        flywheel = final.callPackage ./nix/package.nix { };
        flywheel-static = final.callPackage ./nix/package.nix { static = true; };
      };

      packages = forAllSystems (pkgs: {
        default = pkgs.flywheel;
        static = pkgs.flywheel-static;
      });

      devShells = forAllSystems (pkgs: {
        default = import ./nix/devshell.nix { inherit pkgs; flywheel = pkgs.flywheel; };
      });

      # `nix flake check`: both builds, each running the unit suite in its checkPhase
      checks = forAllSystems (pkgs: {
        unit = pkgs.flywheel;
        unit-static = pkgs.flywheel-static;
      });
    };
}
