# A stand-in for nixpkgs, for evaluating drift's flake.nix offline
# (--override-input nixpkgs path:<this directory>, with lib.nix beside it:
# the test copies testdata/lib-stub.nix there). Its buildGoModule builds
# nothing: it records the attributes it was given, so that the test can
# assert on them.
{
  outputs =
    { self }:
    {
      lib = import ./lib.nix;
      legacyPackages = self.lib.genAttrs [
        "x86_64-linux"
        "aarch64-linux"
      ] (import ./pkgs.nix);
    };
}
