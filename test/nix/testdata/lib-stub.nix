# A minimal stand-in for the parts of nixpkgs' lib that nix/module.nix and
# nix/package.nix touch, for tests that cannot fetch nixpkgs. Options are
# recorded as plain attribute sets (_type = "option"), types carry a check
# function, and mkIf/mkMerge/mkAfter/mkDefault are markers that
# eval-module.nix resolves. Anything else the module reaches for is
# missing here, and its evaluation fails: that is the point.
let
  # description is what the module system's type error names.
  mkType = description: check: {
    _type = "type";
    inherit description check;
  };
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
  # As nixpkgs': the option's description names the package; default = null
  # (not nullable) leaves it without a default.
  mkPackageOption =
    pkgs: name:
    {
      nullable ? false,
      default ? name,
      example ? null,
      extraDescription ? "",
      pkgsText ? "pkgs",
    }:
    mkOption (
      (
        if default != null then
          {
            default = pkgs.${default} or (throw "${pkgsText}.${default} cannot be found in ${pkgsText}");
          }
        else if nullable then
          { default = null; }
        else
          { }
      )
      // {
        description = "The ${name} package to use." + (if extraDescription == "" then "" else " " + extraDescription);
        type = if nullable then types.nullOr types.package else types.package;
      }
    );
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
  # The types nix/module.nix uses, with nixpkgs' checks and descriptions.
  types = rec {
    bool = mkType "boolean" builtins.isBool;
    str = mkType "string" builtins.isString;
    nonEmptyStr = mkType "non-empty string" (v: builtins.isString v && builtins.match "[ \t\n]*" v == null);
    strMatching = re: mkType "string matching the pattern ${re}" (v: builtins.isString v && builtins.match re v != null);
    int = mkType "signed integer" builtins.isInt;
    ints = {
      positive = mkType "positive integer, meaning >0" (v: builtins.isInt v && v > 0);
      unsigned = mkType "unsigned integer, meaning >=0" (v: builtins.isInt v && v >= 0);
    };
    enum =
      values:
      mkType "one of ${builtins.concatStringsSep ", " (map builtins.toJSON values)}" (v: builtins.elem v values);
    package = mkType "package" (v: builtins.isAttrs v && v ? outPath);
    nullOr = t: mkType "null or ${t.description}" (v: v == null || t.check v);
    listOf = t: mkType "list of ${t.description}" (v: builtins.isList v && builtins.all t.check v);
  };

  # What nix/module.nix uses besides options, as nixpkgs defines them.
  hasPrefix = p: s: builtins.substring 0 (builtins.stringLength p) s == p;
  concatStringsSep = builtins.concatStringsSep;
  replaceStrings = builtins.replaceStrings;
  concatMapStrings = f: l: builtins.concatStringsSep "" (map f l);
  optionals = cond: l: if cond then l else [ ];
  getExe' = pkg: bin: "${pkg}/bin/${bin}";
  escapeShellArg =
    arg:
    let
      s = toString arg;
    in
    if builtins.match "[[:alnum:],._+:@%/-]+" s != null then
      s
    else
      "'" + builtins.replaceStrings [ "'" ] [ "'\\''" ] s + "'";
  escapeShellArgs = l: builtins.concatStringsSep " " (map escapeShellArg l);

  # What nix/package.nix and flake.nix use.
  optional = cond: x: if cond then [ x ] else [ ];
  optionalString = cond: s: if cond then s else "";
  genAttrs = names: f: builtins.listToAttrs (map (n: { name = n; value = f n; }) names);
  removeSuffix =
    suffix: s:
    let
      n = builtins.stringLength s - builtins.stringLength suffix;
    in
    if n >= 0 && builtins.substring n (-1) s == suffix then builtins.substring 0 n s else s;
  getExe = pkg: "${pkg}/bin/${pkg.meta.mainProgram}";
  licenses.mit = {
    spdxId = "MIT";
    shortName = "mit";
  };
  # A file set is the list of its paths; its source, their root and them.
  fileset = {
    unions = paths: paths;
    toSource =
      { root, fileset }:
      {
        _type = "fileset-source";
        root = toString root;
        files = map toString fileset;
        outPath = toString root;
      };
  };
  platforms.linux = [
    "x86_64-linux"
    "aarch64-linux"
  ];
}
