# A minimal stand-in for the parts of nixpkgs' lib that nix/module.nix and
# nix/package.nix touch, for tests that cannot fetch nixpkgs. Options are
# recorded as plain attribute sets (_type = "option"), types carry a check
# function, and mkIf/mkMerge/mkAfter/mkDefault are markers that
# eval-module.nix resolves. Anything else the module reaches for is
# missing here, and its evaluation fails: that is the point.
let
  mkType = name: check: { _type = "type"; inherit name check; };
in
rec {
  mkOption =
    {
      type,
      default ? null,
      defaultText ? null,
      example ? null,
      description ? null,
      readOnly ? false,
    }@args:
    {
      _type = "option";
      inherit type description;
      hasDefault = args ? default;
    }
    // (if args ? default then { inherit default; } else { });
  mkEnableOption =
    name:
    mkOption {
      type = types.bool;
      default = false;
      description = "Whether to enable ${name}.";
    };
  mkIf = condition: content: {
    _type = "if";
    inherit condition content;
  };
  mkMerge = contents: {
    _type = "merge";
    inherit contents;
  };
  mkOrder = priority: content: {
    _type = "order";
    inherit priority content;
  };
  mkAfter = mkOrder 1500;
  mkBefore = mkOrder 500;
  mkOverride = priority: content: {
    _type = "override";
    inherit priority content;
  };
  mkDefault = mkOverride 1000;
  literalExpression = text: {
    _type = "literalExpression";
    inherit text;
  };
  types = rec {
    bool = mkType "bool" builtins.isBool;
    str = mkType "str" builtins.isString;
    int = mkType "int" builtins.isInt;
    package = mkType "package" (v: builtins.isAttrs v && v ? outPath);
    nullOr = t: mkType "nullOr ${t.name}" (v: v == null || t.check v);
    listOf = t: mkType "listOf ${t.name}" (v: builtins.isList v && builtins.all t.check v);
  };

  # What nix/package.nix and flake.nix use.
  optional = cond: x: if cond then [ x ] else [ ];
  optionalString = cond: s: if cond then s else "";
  genAttrs = names: f: builtins.listToAttrs (map (n: { name = n; value = f n; }) names);
  platforms.linux = [
    "x86_64-linux"
    "aarch64-linux"
  ];
}
