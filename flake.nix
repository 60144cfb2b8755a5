{
  description = "drift: audit an impermanent NixOS root (what the next boot destroys, and why)";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";

  outputs =
    { self, nixpkgs }:
    let
      inherit (nixpkgs) lib;
      systems = [
        "x86_64-linux"
        "aarch64-linux"
      ];
      forAllSystems = f: lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
      # The package for any package set; the version is in ./VERSION.
      drift = pkgs: pkgs.callPackage ./nix/package.nix { commit = self.rev or null; };

      # A NixOS system with services.drift (its config).
      nixos =
        system: config:
        (lib.nixosSystem {
          modules = [
            self.nixosModules.default
            {
              nixpkgs.hostPlatform = system;
              system.stateVersion = lib.trivial.release;
              boot.loader.grub.enable = false;
              fileSystems."/" = {
                device = "/dev/disk/by-partlabel/disk-main-root";
                fsType = "btrfs";
                options = [ "subvol=root" ];
              };
              services.drift = {
                enable = true;
                auditOnShutdown.enable = true;
                auditOnShutdown.directory = "/persist/var/lib/drift/shutdown";
                timer.enable = true;
                prometheus.textfileDir = "/var/lib/prometheus-node-exporter/textfile";
                wipe = {
                  enable = true;
                  device = "/dev/disk/by-partlabel/disk-main-root";
                };
              };
              systemd.enableStrictShellChecks = true;
            }
            config
          ];
        }).config;
      # A check that passes when the system evaluates (its assertions, every
      # unit): the derivation's path is written, nothing of it is built.
      evalCheck =
        pkgs: name: config:
        pkgs.runCommand "drift-eval-${name}" { } ''
          echo ${builtins.unsafeDiscardStringContext config.system.build.toplevel.drvPath} > $out
        '';
      # drift's units of a system, built: their job scripts pass shellcheck
      # (systemd.enableStrictShellChecks).
      units =
        pkgs: config:
        pkgs.linkFarm "drift-units" (
          lib.mapAttrsToList (name: u: {
            inherit name;
            path = u.unit;
          }) (lib.filterAttrs (name: _: lib.hasPrefix "drift" name) (config.systemd.units // config.boot.initrd.systemd.units))
        );
    in
    {
      packages = forAllSystems (pkgs: rec {
        drift = self.lib.drift pkgs;
        default = drift;
      });

      apps = forAllSystems (pkgs: {
        default = {
          type = "app";
          program = lib.getExe self.packages.${pkgs.stdenv.hostPlatform.system}.default;
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

      # nix flake check: the package (built, its version checked); the
      # module evaluated in a NixOS system for the scripted initrd, systemd
      # stage 1 and a wipe that lets the boot go on, with strict shell
      # checks on (the evaluations need no network once nixpkgs is there);
      # its units built (their scripts shellchecked).
      checks = forAllSystems (
        pkgs:
        let
          inherit (pkgs.stdenv.hostPlatform) system;
          onFailureContinue = nixos system {
            boot.initrd.systemd.enable = true;
            services.drift.wipe.onFailure = "continue";
          };
        in
        {
          package = self.packages.${system}.default;
          module-scripted = evalCheck pkgs "scripted" (nixos system { });
          module-systemd = evalCheck pkgs "systemd" (nixos system { boot.initrd.systemd.enable = true; });
          module-continue = evalCheck pkgs "continue" onFailureContinue;
          module-units = units pkgs onFailureContinue;
        }
      );

      formatter = forAllSystems (pkgs: pkgs.nixfmt-tree);

      devShells = forAllSystems (pkgs: {
        default = pkgs.mkShell {
          inputsFrom = [ self.packages.${pkgs.stdenv.hostPlatform.system}.default ];
          packages = with pkgs; [
            go
            gopls
            btrfs-progs
            nix
            nixfmt
            shellcheck
            jq
            prometheus # promtool
          ];
        };
      });
    };
}
