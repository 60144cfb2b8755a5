# Evaluates nix/module.nix against lib-stub.nix the way the NixOS module
# system would for the options it declares: the user's settings are checked
# against the declared options (an unknown option or a value of the wrong
# type is an error), merged with the defaults, and the module's config is
# resolved (mkIf dropped or kept, mkMerge merged, mkAfter/mkDefault kept as
# {_order/_override, content} so that a test sees them). The result is the
# module's config and its failed assertions, as JSON-able data.
{
  module ? ../../../nix/module.nix,
  # config.services.drift as a user writes it.
  settings ? { },
  # The rest of the system's config the module reads.
  system ? { },
  # Whether this nixpkgs has boot.initrd.postResumeCommands (23.11 and later).
  hasPostResume ? true,
  # Whether services.drift.package is set to drift's package when settings
  # do not set it (as the flake's module does).
  withPackage ? true,
  # Only the failed assertions, the config left unevaluated: NixOS checks
  # them before it builds anything.
  assertionsOnly ? false,
}:
let
  lib = import ./lib-stub.nix;
  utils = import ./utils-stub.nix;
  driftPackage = {
    outPath = "/nix/store/00000000000000000000000000000000-drift-test";
    name = "drift-test";
  };
  settings' = (if withPackage then { package = driftPackage; } else { }) // settings;
  pkgs = {
    # nixpkgs' drift is a terminal screensaver: never to be taken.
    drift = {
      outPath = "/nix/store/99999999999999999999999999999999-drift-screensaver";
      name = "drift-screensaver";
    };
    coreutils = {
      outPath = "/nix/store/11111111111111111111111111111111-coreutils";
      name = "coreutils";
    };
    jq = {
      outPath = "/nix/store/22222222222222222222222222222222-jq";
      name = "jq";
    };
    # A real file (the activation guard's declarations: its test runs it).
    writeText = builtins.toFile;
  };
  isOption = v: builtins.isAttrs v && (v._type or null) == "option";

  # settings checked against the options, merged with the defaults.
  apply =
    path: opts: set:
    builtins.mapAttrs (
      n: o:
      let
        p = "${path}.${n}";
      in
      if isOption o then
        (
          if set ? ${n} then
            (
              if o.type.check set.${n} then
                set.${n}
              else
                throw "A definition for option `${p}' is not of type `${o.type.description}'. Definition values: ${builtins.toJSON set.${n}}"
            )
          else if o.hasDefault then
            o.default
          else
            throw "The option `${p}' was accessed but has no value defined. Try setting the option."
        )
      else
        apply p o (set.${n} or { })
    ) opts;
  unknown =
    path: opts: set:
    builtins.concatMap (
      n:
      if !(opts ? ${n}) then
        [ "${path}.${n}" ]
      else if isOption opts.${n} then
        [ ]
      else
        unknown "${path}.${n}" opts.${n} set.${n}
    ) (builtins.attrNames set);

  options = {
    boot.initrd = {
      postDeviceCommands = { };
      systemd.enable = { };
    } // (if hasPostResume then { postResumeCommands = { }; } else { });
  } // {
    # Each option as the module system gives it: isDefined says whether
    # the settings or a default give it a value.
    services.drift = declared "services.drift" out.options.services.drift settings';
  };
  declared =
    path: opts: set:
    builtins.mapAttrs (
      n: o:
      if isOption o then
        o // { isDefined = set ? ${n} || o.hasDefault; }
      else
        declared "${path}.${n}" o (set.${n} or { })
    ) opts;

  config = system // {
    boot = (system.boot or { }) // {
      initrd = (system.boot.initrd or { }) // {
        systemd = (system.boot.initrd.systemd or { }) // {
          enable = system.boot.initrd.systemd.enable or false;
        };
      };
    };
    services.drift = apply "services.drift" out.options.services.drift settings';
  };

  out = import module {
    inherit lib pkgs config options utils;
  };

  # mkIf/mkMerge resolved, definitions of one option merged (lists
  # concatenated; two definitions of any other value are an error, as for
  # most NixOS option types).
  resolve =
    v:
    if builtins.isAttrs v && v ? _type then
      (
        if v._type == "if" then
          (if v.condition then resolve v.content else { })
        else if v._type == "merge" then
          builtins.foldl' merge { } (map resolve v.contents)
        else if v._type == "order" then
          {
            _order = v.priority;
            content = resolve v.content;
          }
        else if v._type == "override" then
          {
            _override = v.priority;
            content = resolve v.content;
          }
        else
          v
      )
    else if builtins.isAttrs v && !(v ? outPath) then
      builtins.mapAttrs (_: resolve) v
    else
      v;
  merge =
    a: b:
    a
    // builtins.mapAttrs (
      n: bv:
      if !(a ? ${n}) then
        bv
      else if builtins.isList a.${n} && builtins.isList bv then
        a.${n} ++ bv
      else if builtins.isAttrs a.${n} && builtins.isAttrs bv && !(bv ? _order) then
        merge a.${n} bv
      else
        throw "conflicting definitions of ${n}"
    ) b;
  resolved = resolve out.config;
  unknownSettings = unknown "services.drift" out.options.services.drift settings';
in
if unknownSettings != [ ] then
  throw "The option `${builtins.head unknownSettings}' does not exist."
else
  # Every setting is type-checked, used or not (the package only when
  # given: accessing an option without a value is an error, as in NixOS).
  builtins.deepSeq (removeAttrs config.services.drift (if settings' ? package then [ ] else [ "package" ])) (
    {
      failedAssertions = map (a: a.message) (builtins.filter (a: !a.assertion) (resolved.assertions or [ ]));
    }
    // (if assertionsOnly then { } else { config = removeAttrs resolved [ "assertions" ]; })
  )
