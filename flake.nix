{
  description = "drift: audit an impermanent NixOS root (what the next boot destroys, and why)";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";

  outputs =
    { self, nixpkgs }:
    let
      systems = [
        "x86_64-linux"
        "aarch64-linux"
      ];
      forAllSystems = f: nixpkgs.lib.genAttrs systems f;
      date = self.lastModifiedDate or "19700101000000";
      version = "0-unstable-${builtins.substring 0 4 date}-${builtins.substring 4 2 date}-${builtins.substring 6 2 date}";
      commit = self.rev or null;
      drift = pkgs: pkgs.callPackage ./nix/package.nix {
        src = self;
        inherit version commit;
      };
    in
    {
      packages = forAllSystems (system: rec {
        drift = self.lib.drift nixpkgs.legacyPackages.${system};
        default = drift;
      });

      apps = forAllSystems (system: {
        default = {
          type = "app";
          program = "${self.packages.${system}.default}/bin/drift";
        };
      });

      # drift under its own name: nixpkgs' pkgs.drift is another program (a
      # terminal screensaver), left alone.
      overlays.default = final: _prev: { nix-drift = drift final; };

      # services.drift, its package built from this flake with the system's
      # own nixpkgs (so it follows the system's platform).
      nixosModules.default =
        { lib, pkgs, ... }:
        {
          imports = [ ./nix/module.nix ];
          services.drift.package = lib.mkDefault (drift pkgs);
        };

      # lib.drift pkgs: the package for any package set.
      lib.drift = drift;
    };
}
