# The stub package set for one system (see flake.nix).
system:
let
  lib = import ./lib.nix;
  fake = name: {
    inherit name system;
    type = "derivation";
    outPath = "/nix/store/${builtins.substring 0 32 (builtins.hashString "sha256" "${system}/${name}")}-${name}";
  };
  # Records its arguments (a function of finalAttrs, as nixpkgs' is, or a
  # set); src is replaced by its store path.
  goModule =
    builder: attrsOrFn:
    let
      attrs = if builtins.isFunction attrsOrFn then attrsOrFn attrs else attrsOrFn;
    in
    fake "${attrs.pname}-${attrs.version}"
    // {
      _builder = builder;
      _src = attrs.src;
      inherit (attrs) meta;
      args = attrs // {
        src = "${attrs.src}";
        nativeBuildInputs = map (p: p.name) (attrs.nativeBuildInputs or [ ]);
        nativeInstallCheckInputs = map (p: p.name) (attrs.nativeInstallCheckInputs or [ ]);
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
    versionCheckHook = fake "version-check-hook";
    nixfmt-tree = fake "nixfmt-tree";
    buildGoModule = goModule "buildGoModule";
    mkShell = attrs: fake "nix-shell" // { _args = attrs; };
    runCommand = name: env: script: fake name;
    callPackage =
      fn: args:
      let
        f = if builtins.isFunction fn then fn else import fn;
      in
      f (builtins.intersectAttrs (builtins.functionArgs f) pkgs // args);
  }
  // lib.genAttrs [ "go" "gopls" "btrfs-progs" "nix" "nixfmt" "shellcheck" "jq" "prometheus" ] fake;
in
pkgs
