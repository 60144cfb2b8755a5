# drift lint --flake's projection of a NixOS configuration: the
# persistence declarations and the few other options drift's rules read.
# EvalFlake applies it as `(this) (projection.nix)`: project is
# projection.nix, which projects a map of storage paths
# (environment.persistence, preservation.preserveAt, home.persistence)
# dropping only removed-option placeholders whose value throws; errors in
# environment.persistence go through.
#
# Everything else is guarded (`or null`, builtins.tryEval): a module that is
# not imported (preservation, home-manager), an option an older NixOS does
# not have (boot.tmp.useTmpfs was boot.tmpOnTmpfs) or one that fails to
# evaluate gives null, never a failed evaluation.
project:
let
  # try: v fully evaluated, or null when that throws.
  try = v: let r = builtins.tryEval (builtins.deepSeq v v); in if r.success then r.value else null;
  # try0: v evaluated only to its outer shape (an attribute set of users
  # must not force every user's packages), or null.
  try0 = v: let r = builtins.tryEval v; in if r.success then r.value else null;
  str = v: if builtins.isString v || builtins.isPath v then toString v else null;
  attrsOr = v: if builtins.isAttrs v then v else { };
in
config: {
  persistence =
    let p = config.environment.persistence or null;
    in if p == null then null else project p;
  preservation = try (
    let p = config.preservation or null;
    in if p == null || !(p.enable or false) then null
    else { enable = true; preserveAt = project (attrsOr (p.preserveAt or { })); });
  homeManager = builtins.mapAttrs
    (_: u: try (project (attrsOr (u.home.persistence or { }))))
    (attrsOr (try0 (config.home-manager.users or { })));
  fileSystems = builtins.mapAttrs
    (n: fs: { mountPoint = try (str (fs.mountPoint or n)); fsType = try (fs.fsType or null); device = try (str (fs.device or null)); options = try (builtins.filter builtins.isString (fs.options or [ ])); })
    (attrsOr (try0 (config.fileSystems or { })));
  mutableUsers = try (config.users.mutableUsers or null);
  opensshEnable = try (config.services.openssh.enable or null);
  hostKeys = try (map (k: str (k.path or null)) (config.services.openssh.hostKeys or [ ]));
  # systemd-tmpfiles' links (persist.Link): the rules' lines, and each
  # setting's argument by name, path and type.
  tmpfilesRules = try (builtins.filter builtins.isString (config.systemd.tmpfiles.rules or [ ]));
  tmpfilesSettings = try (builtins.mapAttrs
    (_: paths: builtins.mapAttrs (_: types: builtins.mapAttrs (_: v: str ((attrsOr v).argument or null)) (attrsOr types)) (attrsOr paths))
    (attrsOr (config.systemd.tmpfiles.settings or { })));
  users = builtins.mapAttrs
    (n: u: {
      hasUid = try ((u.uid or null) != null);
      group = try (str (u.group or null));
      home = try (str (u.home or null));
      hashedPasswordFile = try (str (u.hashedPasswordFile or u.passwordFile or null));
      isSystemUser = try (u.isSystemUser or false);
    })
    (attrsOr (try0 (config.users.users or { })));
  groups = builtins.mapAttrs (_: g: { hasGid = try ((g.gid or null) != null); }) (attrsOr (try0 (config.users.groups or { })));
  sopsKeyFile = try (str (config.sops.age.keyFile or null));
  sopsSshKeyPaths = try (map str (config.sops.age.sshKeyPaths or [ ]));
  ageIdentityPaths = try (map str (config.age.identityPaths or [ ]));
  tmpOnTmpfs = try (config.boot.tmp.useTmpfs or config.boot.tmpOnTmpfs or null);
  # Stage 1 and the root's wipe (persist.Initrd): the shell hooks, the
  # initrd's systemd services with what pulls them in and orders them, and
  # what hibernation resumes from. Lists of words; strings stay strings.
  initrd =
    let
      words = v: if builtins.isList v then map toString v else if v == null then [ ] else [ (toString v) ];
      text = v: if builtins.isString v then v else null;
      initrd = config.boot.initrd or { };
      unit = s:
        let
          uc = attrsOr (s.unitConfig or { });
          pick = names: builtins.listToAttrs (builtins.concatMap
            (n: if uc ? ${n} then [ { name = n; value = try (words uc.${n}); } ] else [ ]) names);
        in
        {
          wantedBy = try (words (s.wantedBy or [ ]));
          requiredBy = try (words (s.requiredBy or [ ]));
          upheldBy = try (words (s.upheldBy or [ ]));
          wants = try (words (s.wants or [ ]));
          requires = try (words (s.requires or [ ]));
          bindsTo = try (words (s.bindsTo or [ ]));
          requisite = try (words (s.requisite or [ ]));
          after = try (words (s.after or [ ]));
          before = try (words (s.before or [ ]));
          unitConfig = try (pick [ "Wants" "Requires" "BindsTo" "Requisite" "After" "Before" "OnFailure" "FailureAction" ]);
          script = try (text (s.script or null));
          preStart = try (text (s.preStart or null));
          execStart = try (words ((attrsOr (s.serviceConfig or { })).ExecStart or [ ]));
        };
    in
    {
      systemd = try (initrd.systemd.enable or null);
      release = try (config.system.nixos.release or null);
      hooks = builtins.listToAttrs (map (n: { name = n; value = try (text (initrd.${n} or null)); })
        [ "preDeviceCommands" "preLVMCommands" "postDeviceCommands" "postResumeCommands" "postMountCommands" ]);
      services = builtins.mapAttrs (_: unit) (attrsOr (try0 (initrd.systemd.services or { })));
      resumeDevice = try (str (config.boot.resumeDevice or null));
      kernelParams = try (words (config.boot.kernelParams or [ ]));
      swapDevices = try (map (d: str (d.device or d.label or null)) (config.swapDevices or [ ]));
      driftWipe = try (config.services.drift.wipe.enable or null);
      driftWipeSubvol = try (str (config.services.drift.wipe.subvolume or null));
      driftWipeBlank = try (str (config.services.drift.wipe.blank or null));
      driftWipeOldRoots = try (str (config.services.drift.wipe.oldRoots or null));
    };
}
