# The stub package set for one system (see flake.nix).
system:
let
  lib = import ./lib.nix;
  fake = name: {
    inherit name system;
    type = "derivation";
    outPath = "/nix/store/${builtins.substring 0 32 (builtins.hashString "sha256" "${system}/${name}")}-${name}";
  };
  # Records its arguments; src is replaced by its store path.
  goModule =
    builder: attrs:
    fake "${attrs.pname}-${attrs.version}"
    // {
      _builder = builder;
      args = attrs // {
        src = "${attrs.src}";
        nativeBuildInputs = map (p: p.name) (attrs.nativeBuildInputs or [ ]);
      };
    };
  pkgs = {
    inherit lib;
    stdenv = {
      hostPlatform = { inherit system; };
      buildPlatform = {
        inherit system;
        canExecute = p: p.system == system;
      };
    };
    installShellFiles = fake "install-shell-files";
    buildGoModule = goModule "buildGoModule";
    buildGo126Module = goModule "buildGo126Module";
    callPackage =
      fn: args:
      let
        f = if builtins.isFunction fn then fn else import fn;
      in
      f (builtins.intersectAttrs (builtins.functionArgs f) pkgs // args);
  };
in
pkgs
