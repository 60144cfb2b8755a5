# services.drift: drift on an impermanent NixOS machine.
#
#   - /etc/drift/declarations.json: the evaluated persistence declarations
#     (environment.persistence and preservation.preserveAt), which a plain
#     `drift check` reads when no --persist or --flake is given;
#   - auditOnShutdown: `drift check --format json` at every shutdown, the
#     report kept in persistent storage and a one-line summary in the journal;
#   - timer + prometheus.textfileDir: periodic `drift check --format prom` for
#     node_exporter's textfile collector;
#   - wipe: the boot-time rollback through `drift wipe`, for the scripted
#     initrd and for systemd stage 1 (boot.initrd.systemd.enable).
{
  config,
  lib,
  options,
  pkgs,
  utils,
  ...
}:

let
  inherit (lib)
    mkOption
    mkEnableOption
    mkPackageOption
    mkIf
    mkMerge
    mkAfter
    literalExpression
    types
    escapeShellArg
    escapeShellArgs
    ;
  cfg = config.services.drift;
  drift = lib.getExe' cfg.package "drift";

  # An absolute path on the running system (never copied to the store, one
  # line: it goes into unit files, tmpfiles lines and scripts).
  absolutePath = types.strMatching "/[^\n]*" // {
    description = "absolute path";
  };
  # A path below the btrfs top level.
  topLevelPath = types.strMatching "[^/\n][^\n]*" // {
    description = "path relative to the btrfs top level";
  };

  # The evaluated declarations, by persistent storage path. impermanence's
  # removed-option placeholders (whose value throws) are dropped by drift's
  # own projection, the one `drift check --flake` applies.
  projection = import ../internal/persist/projection.nix;
  impermanence = config.environment.persistence or { };
  preservation =
    if config.preservation.enable or false then config.preservation.preserveAt or { } else { };
  collisions = builtins.attrNames (builtins.intersectAttrs impermanence preservation);
  declarations = projection impermanence // projection preservation;
  storagePaths =
    map (n: impermanence.${n}.persistentStoragePath or n) (builtins.attrNames impermanence)
    ++ builtins.attrNames preservation;

  deviceUnit = "${utils.escapeSystemdPath cfg.wipe.device}.device";
  # A path as one word of a unit file's list of paths (RequiresMountsFor=):
  # quoted, \ and " escaped, % (a specifier) doubled.
  unitPathWord = p: "\"" + lib.replaceStrings [ "\\" "\"" "%" ] [ "\\\\" "\\\"" "%%" ] p + "\"";

  # The initrd's resume unit. systemd 255 and later: the static
  # systemd-hibernate-resume.service. Before 255 (nixpkgs 23.11 ships 254,
  # listing the template systemd-hibernate-resume@.service among its
  # initrd units): systemd-hibernate-resume-generator instantiates
  # systemd-hibernate-resume@<the escaped resume device>.service, a name an
  # After= of the static unit does not match. Both are ordered before
  # local-fs-pre.target, which drift-wipe is ordered after as well.
  initrdSystemd = config.boot.initrd.systemd.package or config.systemd.package or { };
  resumeDevice = config.boot.resumeDevice or "";
  resumeInstance = lib.optional (
    builtins.compareVersions (initrdSystemd.version or "255") "255" < 0 && lib.hasPrefix "/" resumeDevice
  ) "systemd-hibernate-resume@${utils.escapeSystemdPath resumeDevice}.service";

  wipeArgs = [
    "wipe"
    "--device"
    cfg.wipe.device
    "--subvol"
    cfg.wipe.subvolume
    "--old-roots"
    cfg.wipe.oldRoots
    "--keep-days"
    (toString cfg.wipe.keepDays)
    "--keep-min"
    (toString cfg.wipe.keepMin)
  ]
  ++ lib.optionals (cfg.wipe.blank != null) [
    "--blank"
    cfg.wipe.blank
  ];

  # Where a failed wipe leaves its mark: /run is carried into stage 2 by both
  # initrds, and `drift check` reports the mark after boot.
  failureMark = "/run/drift/wipe-failed";
  # sh (busybox ash in the scripted initrd, bash under systemd stage 1):
  # runs the wipe; on failure the kernel log and the mark say so, and then
  # onFail runs (one line).
  wipeScript = onFail: ''
    ${escapeShellArg drift} ${escapeShellArgs wipeArgs} || {
      status=$?
      echo "<2>drift: drift wipe failed (exit status $status): the root subvolume was not rolled back" > /dev/kmsg || true
      mkdir -p /run/drift
      echo "drift wipe exit status $status" > ${failureMark}
      ${onFail}
    }
  '';
  continueLine = "echo 'drift wipe failed: booting the root as it is (services.drift.wipe.onFailure = \"continue\")' >&2";
  stop = cfg.wipe.onFailure == "stop";

  # The scripted initrd's hook: after the resume attempt (postDeviceCommands
  # runs before it, and a wipe there changes a filesystem a hibernated
  # kernel still has mounted). nixpkgs before 23.11 has no
  # postResumeCommands: there the wipe goes to postDeviceCommands, and
  # drift wipe itself does nothing while the resume device holds an image.
  scriptedHook =
    if options.boot.initrd ? postResumeCommands then "postResumeCommands" else "postDeviceCommands";

  # The activation guard reads this configuration's declarations, not the
  # running one's /etc (the new /etc may not be in place yet).
  guardDeclarations = pkgs.writeText "drift-declarations.json" (builtins.toJSON declarations);
  impermanenceActive = builtins.any (p: p.enable or true) (builtins.attrValues impermanence);

  # " ARG…" for a drift check command line ("" for none).
  checkArgs = lib.concatMapStrings (a: " " + escapeShellArg a) cfg.extraCheckArgs;
  # wipe.rehearse: no wipe at boot, the shutdown audit on (drift rehearse
  # reads its reports).
  wiping = cfg.wipe.enable && !cfg.wipe.rehearse;
  auditing = cfg.auditOnShutdown.enable || cfg.wipe.rehearse;
  auditDir =
    if cfg.auditOnShutdown.directory != null then
      cfg.auditOnShutdown.directory
    else if cfg.persistentStoragePath != null then
      "${cfg.persistentStoragePath}/var/lib/drift/shutdown"
    else
      null;

  # The periodic check and the shutdown audit read the whole root, at the
  # lowest priority (as services.locate does), with no network and no way
  # to gain privileges.
  confinement = {
    Nice = 19;
    IOSchedulingClass = "idle";
    PrivateNetwork = true;
    RestrictAddressFamilies = [ "AF_UNIX" ];
    NoNewPrivileges = true;
    LockPersonality = true;
    RestrictRealtime = true;
    RestrictSUIDSGID = true;
    SystemCallArchitectures = "native";
  };
in
{
  options.services.drift = {
    enable = mkEnableOption "drift, the auditor of an impermanent root (/etc/drift/declarations.json and the drift command)";

    # No default: nixpkgs' pkgs.drift is another program (a terminal
    # screensaver). The flake's nixosModules.default sets it.
    package = mkPackageOption pkgs "drift" {
      default = null;
      extraDescription = ''
        drift's own package: drift's flake module (nixosModules.default) sets
        it; otherwise set it to `pkgs.nix-drift` (drift's overlay,
        overlays.default) or to the flake's packages.<system>.default.
        nixpkgs' `pkgs.drift` is a different program.
      '';
    };

    persistentStoragePath = mkOption {
      type = types.nullOr absolutePath;
      default = if storagePaths == [ ] then null else builtins.head storagePaths;
      defaultText = literalExpression "the first persistent storage path of config.environment.persistence, else of config.preservation.preserveAt, else null";
      example = "/nix/persist";
      description = "Where persistent storage lives; the shutdown reports are kept below it.";
    };

    extraCheckArgs = mkOption {
      type = types.listOf types.str;
      default = [ ];
      example = [
        "--ignore"
        "/var/cache"
        "--ignore-file"
        "/etc/drift/ignore"
      ];
      description = "Arguments added to every drift check the module runs (shutdown audit, timer) and to the activation guard's drift adopt.";
    };

    auditOnShutdown = {
      enable = mkEnableOption "a drift check at every shutdown, its JSON report kept in persistent storage and a one-line summary in the journal";
      directory = mkOption {
        type = types.nullOr absolutePath;
        default = null;
        description = ''
          Where the reports go: shutdown-<UTC time>.json and latest.json. It
          must be in persistent storage to survive the wipe; null means
          <persistentStoragePath>/var/lib/drift/shutdown.
        '';
      };
      keep = mkOption {
        type = types.ints.positive;
        default = 10;
        description = "How many reports to keep (the newest).";
      };
      timeout = mkOption {
        type = types.ints.positive;
        default = 60;
        description = ''
          How long, in seconds, the audit may hold up a shutdown
          (TimeoutStopSec). When the check takes longer it is stopped, no
          report is written for that shutdown and the shutdown goes on.
        '';
      };
    };

    activationGuard = {
      enable = mkOption {
        type = types.bool;
        default = true;
        description = ''
          At every activation (nixos-rebuild switch, and each boot), before
          impermanence's activation (createPersistentStorageDirs) makes new
          declarations take effect, run `drift adopt --pending --dry-run
          --format summary` against this configuration's declarations:
          every declared path whose live data has no persistent copy is
          named, with what its bind mount would hide and the `drift adopt`
          command that keeps it. It reads the root as `drift check` does
          (extraCheckArgs apply), and never stops the activation: a failure
          is a line on stderr.
        '';
      };
      adopt = mkEnableOption ''
        adopting that data first: the guard runs `drift adopt --pending`
        (without --dry-run), copying the live data into its persistent copy
        before the declaration takes effect. Data whose persistent copy
        already holds other bytes is left for you (drift adopt --prefer)
      '';
    };

    timer = {
      enable = mkEnableOption "a periodic drift check (metrics for node_exporter when prometheus.textfileDir is set, else the report in the journal)";
      onCalendar = mkOption {
        type = types.nonEmptyStr;
        default = "hourly";
        description = "When the check runs (systemd.time(7) calendar event).";
      };
    };

    prometheus.textfileDir = mkOption {
      type = types.nullOr absolutePath;
      default = null;
      example = "/var/lib/prometheus-node-exporter/textfile";
      description = ''
        Directory of node_exporter's textfile collector
        (--collector.textfile.directory): the timer writes drift.prom there
        atomically (drift check --format prom).
      '';
    };

    wipe = {
      enable = mkEnableOption "the boot-time rollback of the root subvolume through drift wipe (scripted initrd or systemd stage 1)";
      device = mkOption {
        type = types.nullOr absolutePath;
        default = null;
        example = "/dev/disk/by-partlabel/disk-main-root";
        description = "The btrfs partition whose root subvolume is rolled back (drift wipe --device).";
      };
      keepDays = mkOption {
        type = types.ints.unsigned;
        default = 30;
        description = "Delete old roots older than this many whole days (drift wipe --keep-days).";
      };
      keepMin = mkOption {
        type = types.ints.unsigned;
        default = 1;
        description = "Always keep this many of the newest old roots (drift wipe --keep-min); the root retired at this boot is kept in any case.";
      };
      subvolume = mkOption {
        type = topLevelPath;
        default = "root";
        description = "The root subvolume, relative to the top level (drift wipe --subvol).";
      };
      oldRoots = mkOption {
        type = topLevelPath;
        default = "old_roots";
        description = "Where old roots are kept, relative to the top level (drift wipe --old-roots).";
      };
      blank = mkOption {
        type = types.nullOr topLevelPath;
        default = null;
        example = "root-blank";
        description = "Make the fresh root a snapshot of this subvolume (drift wipe --blank).";
      };
      rehearse = mkOption {
        type = types.bool;
        default = false;
        description = ''
          Rehearse the wipe: no wipe at boot (whatever wipe.enable says) and
          the shutdown audit on, so that `drift rehearse` can read what each
          wipe would have destroyed and say when you are ready. Set it to
          false once it says so.
        '';
      };
      onFailure = mkOption {
        type = types.enum [
          "stop"
          "continue"
        ];
        default = "stop";
        description = ''
          What a failed wipe does to the boot. "stop": the boot stops before
          the root is mounted (systemd stage 1: emergency.target; scripted
          initrd: stage 1's failure prompt), since a root that was not
          rolled back is the state the wipe exists to prevent. "continue":
          the un-wiped root is booted; the failure goes to the kernel log
          and leaves /run/drift/wipe-failed, which `drift check` reports.
        '';
      };
    };
  };

  config = mkIf cfg.enable (mkMerge [
    {
      environment.systemPackages = [ cfg.package ];
      environment.etc."drift/declarations.json".text = builtins.toJSON declarations;
      warnings = lib.optional (collisions != [ ]) "services.drift: ${lib.concatStringsSep ", " collisions} is a storage path of both environment.persistence and preservation.preserveAt; /etc/drift/declarations.json keeps preservation's";
      assertions = [
        {
          assertion = options.services.drift.package.isDefined;
          message = "services.drift.package is not set: set it to drift's package (pkgs.nix-drift from drift's overlay, or its flake's packages.<system>.default), or import the flake's nixosModules.default, which sets it. nixpkgs' pkgs.drift is a different program (a terminal screensaver).";
        }
        {
          assertion = !auditing || auditDir != null;
          message = "services.drift.auditOnShutdown needs services.drift.persistentStoragePath or auditOnShutdown.directory (no environment.persistence or preservation.preserveAt to take it from)";
        }
        {
          assertion = !cfg.wipe.enable || cfg.wipe.device != null;
          message = "services.drift.wipe.enable needs services.drift.wipe.device, e.g. \"/dev/disk/by-partlabel/disk-main-root\"";
        }
        {
          assertion =
            !(cfg.wipe.enable && config.boot.initrd.systemd.enable)
            || (cfg.wipe.device != null && lib.hasPrefix "/dev/" cfg.wipe.device);
          message = "services.drift.wipe.device must be a /dev path under systemd stage 1 (the wipe waits for its device unit)";
        }
      ];
    }

    (mkIf (auditing && auditDir != null) {
      # Started at boot and stopped at shutdown: ExecStop (preStop) runs while
      # the file systems, the bind mounts from persistent storage and the
      # journal are still there (ordered after them, so stopped before them).
      systemd.services.drift-audit-shutdown = {
        description = "drift: audit what this shutdown's reboot destroys";
        wantedBy = [ "multi-user.target" ];
        after = [
          "local-fs.target"
          "systemd-journald.service"
        ];
        unitConfig.RequiresMountsFor = [ (unitPathWord auditDir) ];
        path = [
          cfg.package
          pkgs.coreutils
          pkgs.jq
        ];
        serviceConfig = confinement // {
          Type = "oneshot";
          RemainAfterExit = true;
          # A bounded wait: the shutdown goes on without this report.
          TimeoutStopSec = cfg.auditOnShutdown.timeout;
        };
        # A nixos-rebuild switch that changes the unit (a new drift, new
        # settings) must not stop it: its preStop would audit a reboot that
        # is not happening. The new unit file is read at the daemon-reload
        # of the switch all the same. (stopIfChanged only chooses between
        # stop-then-start and restart, and X-StopOnReconfiguration would
        # stop it at every switch: neither applies.)
        restartIfChanged = false;
        # Any other stop (systemctl stop, the unit removed by a switch)
        # is not a shutdown either: the guard at the top of preStop.
        # systemctl is in every NixOS service's PATH.
        preStop = ''
          set -u
          state=$(systemctl is-system-running || true)
          if [ "$state" != stopping ]; then
            echo "drift: stopped while the system is $state, not shutting down: no audit" >&2
            exit 0
          fi
          dir=${escapeShellArg auditDir}
          mkdir -p "$dir"
          # A check stopped by the timeout leaves its temporary file.
          rm -f "$dir"/shutdown-*.json.tmp
          report="$dir/shutdown-$(date -u +%Y-%m-%dT%H:%M:%S.%NZ).json"
          status=0
          drift check --quiet --format json${checkArgs} > "$report.tmp" || status=$?
          if [ "$status" -gt 1 ]; then
            rm -f "$report.tmp"
            echo "drift: the shutdown audit failed (exit status $status)" >&2
            exit 0 # never hold up the shutdown
          fi
          mv "$report.tmp" "$report"
          cp "$report" "$dir/latest.json.tmp" && mv "$dir/latest.json.tmp" "$dir/latest.json"
          jq -r --arg report "$report" '"drift: \(.summary.lost.entries) paths (\(.summary.lost.bytes) bytes) lost at this reboot"
            + (if .summary.lost.entries > 0 then ": " + ([.summary.categories | to_entries[] | select(.value.entries > 0 and .key != "recreated" and .key != "ignored") | "\(.value.entries) \(.key)"] | join(", ")) else "" end)
            + "; report: \($report) (drift restore brings a path back from the old root)"' "$report"
          # The names sort by time, and so does the glob: the oldest first.
          reports=("$dir"/shutdown-*.json)
          excess=$(( ''${#reports[@]} - ${toString cfg.auditOnShutdown.keep} ))
          if [ "$excess" -gt 0 ]; then
            rm -f -- "''${reports[@]:0:excess}"
          fi
        '';
      };
    })

    (mkIf cfg.activationGuard.enable {
      # Before impermanence's activation creates the (empty) persistent
      # copies that its mounts then put over the live data; preservation
      # acts at boot, in the initrd, where the guard has nothing to say.
      system.activationScripts.driftActivationGuard = {
        deps = [ "specialfs" ];
        text = ''
          # services.drift.activationGuard: what new persistence declarations would hide.
          ${escapeShellArg drift} adopt --pending${lib.optionalString (!cfg.activationGuard.adopt) " --dry-run"} --format summary --quiet --persist ${guardDeclarations}${checkArgs} \
            || echo "drift: the activation guard (drift adopt --pending) exited with status $?; the activation goes on" >&2
        '';
      };
    })

    (mkIf (cfg.activationGuard.enable && impermanenceActive) {
      system.activationScripts.createPersistentStorageDirs.deps = [ "driftActivationGuard" ];
    })

    (mkIf cfg.timer.enable {
      systemd.services.drift-check = {
        description = "drift: periodic check of what the next boot destroys";
        after = [ "local-fs.target" ];
        path = [
          cfg.package
          pkgs.coreutils
        ];
        serviceConfig = confinement // {
          Type = "oneshot";
        };
        script =
          if cfg.prometheus.textfileDir != null then
            ''
              set -u
              dir=${escapeShellArg cfg.prometheus.textfileDir}
              tmp=$(mktemp -p "$dir" .drift.prom.XXXXXX)
              status=0
              drift check --quiet --format prom${checkArgs} > "$tmp" || status=$?
              if [ "$status" -gt 1 ]; then
                rm -f "$tmp"
                exit "$status"
              fi
              chmod 0644 "$tmp"
              mv "$tmp" "$dir/drift.prom"
            ''
          else
            ''
              drift check --quiet${checkArgs} || [ $? -eq 1 ]
            '';
      };
      systemd.timers.drift-check = {
        wantedBy = [ "timers.target" ];
        timerConfig = {
          OnCalendar = cfg.timer.onCalendar;
          Persistent = true;
          RandomizedDelaySec = "5min";
        };
      };
      systemd.tmpfiles.settings.drift = mkIf (cfg.prometheus.textfileDir != null) {
        ${cfg.prometheus.textfileDir}.d = {
          mode = "0755";
          user = "root";
          group = "root";
        };
      };
    })

    # (Without a device the assertion above says so; nothing is generated.)
    (mkIf (wiping && cfg.wipe.device != null && !config.boot.initrd.systemd.enable) {
      boot.initrd.extraUtilsCommands = ''
        copy_bin_and_libs ${drift}
      '';
      boot.initrd.extraUtilsCommandsTest = ''
        $out/bin/drift version
      '';
      # On failure, "stop" calls stage 1's fail (its prompt: a shell,
      # reboot, or going on), after leaving the mark.
      boot.initrd.${scriptedHook} = mkAfter (
        ''
          # services.drift.wipe: roll the root subvolume back before it is mounted.
          waitDevice ${escapeShellArg cfg.wipe.device}
        ''
        + wipeScript (
          if stop then
            "echo 'drift wipe failed: the boot stops here, the root was not rolled back (services.drift.wipe.onFailure)' >&2; fail"
          else
            continueLine
        )
      );
    })

    (mkIf (wiping && cfg.wipe.device != null && config.boot.initrd.systemd.enable) {
      boot.initrd.systemd.storePaths = [ drift ];
      boot.initrd.systemd.services.drift-wipe = mkMerge [
        {
          description = "drift: roll the root subvolume back";
          wantedBy = [ "initrd.target" ];
          # After the device exists and after the resume attempt; before
          # the root is mounted at /sysroot (drift wipe refuses to retire
          # a mounted root).
          requires = [ deviceUnit ];
          after = [
            deviceUnit
            "systemd-hibernate-resume.service"
            # The resume unit of every systemd version is ordered before it,
            # whatever device resume= names (also when it comes from
            # boot.kernelParams, not boot.resumeDevice).
            "local-fs-pre.target"
          ]
          ++ resumeInstance;
          before = [ "sysroot.mount" ];
          unitConfig.DefaultDependencies = false;
          serviceConfig = {
            Type = "oneshot";
            # Active once done: a later transaction in the initrd (the
            # daemon-reload of initrd-parse-etc.service) does not start the
            # wipe again once the root is mounted (drift wipe would refuse,
            # but it must not even try).
            RemainAfterExit = true;
          };
        }
        (
          if stop then
            {
              # A failed wipe fails sysroot.mount (so the old root is never
              # mounted) and starts the emergency shell, as the initrd's own
              # units do (initrd-parse-etc.service).
              requiredBy = [ "sysroot.mount" ];
              unitConfig = {
                OnFailure = [ "emergency.target" ];
                OnFailureJobMode = "replace-irreversibly";
              };
              serviceConfig.ExecStart = utils.escapeSystemdExecArgs ([ drift ] ++ wipeArgs);
            }
          else
            {
              script = wipeScript continueLine;
            }
        )
      ];
    })
  ]);
}
