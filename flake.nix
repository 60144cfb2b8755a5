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

      # A NixOS system with services.drift, evaluated (not built): its
      # assertions and every unit and script the module generates.
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
        }).config.system.build.toplevel;
      # A check that passes when the system evaluates: the derivation's path
      # is written, nothing of the system is built.
      evalCheck =
        pkgs: name: toplevel:
        pkgs.runCommand "drift-eval-${name}" { } ''
          echo ${builtins.unsafeDiscardStringContext toplevel.drvPath} > $out
        '';
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

      # nix flake check: the package (built, its version checked) and the
      # module evaluated in a NixOS system for the scripted initrd, systemd
      # stage 1 and a wipe that lets the boot go on, with strict shell
      # checks on (the evaluations need no network once nixpkgs is there).
      checks = forAllSystems (
        pkgs:
        let
          inherit (pkgs.stdenv.hostPlatform) system;
        in
        {
          package = self.packages.${system}.default;
          module-scripted = evalCheck pkgs "scripted" (nixos system { });
          module-systemd = evalCheck pkgs "systemd" (nixos system { boot.initrd.systemd.enable = true; });
          module-continue = evalCheck pkgs "continue" (
            nixos system {
              boot.initrd.systemd.enable = true;
              services.drift.wipe.onFailure = "continue";
            }
          );
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
