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
#
# Only builtins and these lib functions are used, so that the module can be
# evaluated against a small stub in tests (test/nix): mkOption,
# mkEnableOption, mkIf, mkMerge, mkAfter, literalExpression, types.
{
  config,
  lib,
  options,
  pkgs,
  ...
}:

let
  inherit (lib)
    mkOption
    mkEnableOption
    mkIf
    mkMerge
    mkAfter
    literalExpression
    types
    ;
  cfg = config.services.drift;
  drift = "${cfg.package}/bin/drift";

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

  # A word for sh: 'x' with every ' as '\''.
  shellArg = s: "'" + builtins.replaceStrings [ "'" ] [ "'\\''" ] s + "'";
  shellArgs = l: builtins.concatStringsSep " " (map shellArg l);
  # A word for a systemd Exec line: double-quoted, with \ and " escaped and
  # % (specifiers) and $ (variables) doubled.
  execArg =
    s: "\"" + builtins.replaceStrings [ "\\" "\"" "%" "$" ] [ "\\\\" "\\\"" "%%" "$$" ] s + "\"";
  execLine = l: builtins.concatStringsSep " " (map execArg l);

  # systemd-escape --path: redundant and outer slashes dropped, "/" -> "-",
  # every byte outside [A-Za-z0-9:_.] (and a leading ".") as \xNN.
  hex = {
    " " = "20"; "!" = "21"; "\"" = "22"; "#" = "23"; "$" = "24"; "%" = "25"; "&" = "26";
    "'" = "27"; "(" = "28"; ")" = "29"; "*" = "2a"; "+" = "2b"; "," = "2c"; "-" = "2d";
    ";" = "3b"; "<" = "3c"; "=" = "3d"; ">" = "3e"; "?" = "3f"; "@" = "40"; "[" = "5b";
    "\\" = "5c"; "]" = "5d"; "^" = "5e"; "`" = "60"; "{" = "7b"; "|" = "7c"; "}" = "7d";
    "~" = "7e";
  };
  escapeChar =
    option: c:
    if builtins.match "[A-Za-z0-9:_.]" c != null then
      c
    else if hex ? ${c} then
      "\\x" + hex.${c}
    else
      throw "${option}: cannot name the unit of a path with ${builtins.toJSON c}; use a /dev/disk/by-* path";
  escapeSystemdPath =
    option: p:
    let
      parts = builtins.filter (x: builtins.isString x && x != "") (builtins.split "/" p);
      escapePart =
        part:
        let
          chars = builtins.genList (i: builtins.substring i 1 part) (builtins.stringLength part);
          s = builtins.concatStringsSep "" (map (escapeChar option) chars);
        in
        s;
      joined = builtins.concatStringsSep "-" (map escapePart parts);
    in
    if parts == [ ] then
      "-"
    else if builtins.substring 0 1 joined == "." then
      "\\x2e" + builtins.substring 1 (-1) joined
    else
      joined;

  deviceUnit = "${escapeSystemdPath "services.drift.wipe.device" cfg.wipe.device}.device";

  # The initrd's resume unit. systemd 255 and later: the static
  # systemd-hibernate-resume.service. Before 255 (nixpkgs 23.11 ships 254,
  # listing the template systemd-hibernate-resume@.service among its
  # initrd units): systemd-hibernate-resume-generator instantiates
  # systemd-hibernate-resume@<the escaped resume device>.service, a name an
  # After= of the static unit does not match. Both are ordered before
  # local-fs-pre.target, which drift-wipe is ordered after as well.
  initrdSystemd = config.boot.initrd.systemd.package or config.systemd.package or { };
  resumeDevice = config.boot.resumeDevice or "";
  resumeInstance =
    if
      builtins.compareVersions (initrdSystemd.version or "255") "255" < 0
      && builtins.substring 0 1 resumeDevice == "/"
    then
      [ "systemd-hibernate-resume@${escapeSystemdPath "boot.resumeDevice" resumeDevice}.service" ]
    else
      [ ];
  wipeArgs =
    [
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
    ++ (if cfg.wipe.blank != null then [ "--blank" cfg.wipe.blank ] else [ ]);

  # The scripted initrd's hook: after the resume attempt (field case C11:
  # postDeviceCommands runs before it, and a wipe there changes a filesystem
  # a hibernated kernel still has mounted). nixpkgs before 23.11 has no
  # postResumeCommands: there the wipe goes to postDeviceCommands, and
  # drift wipe itself does nothing while the resume device holds an image.
  scriptedHook =
    if options.boot.initrd ? postResumeCommands then "postResumeCommands" else "postDeviceCommands";

  # " ARG…" for a drift check command line ("" for none).
  checkArgs = builtins.concatStringsSep "" (map (a: " " + shellArg a) cfg.extraCheckArgs);
  auditDir =
    if cfg.auditOnShutdown.directory != null then
      cfg.auditOnShutdown.directory
    else if cfg.persistentStoragePath != null then
      "${cfg.persistentStoragePath}/var/lib/drift/shutdown"
    else
      null;
in
{
  options.services.drift = {
    enable = mkEnableOption "drift, the auditor of an impermanent root (/etc/drift/declarations.json and the drift command)";

    package = mkOption {
      type = types.package;
      default = pkgs.drift;
      defaultText = literalExpression "pkgs.drift";
      description = "The drift package (the flake's nixosModules.default sets it to the flake's own build).";
    };

    persistentStoragePath = mkOption {
      type = types.nullOr types.str;
      default = if storagePaths == [ ] then null else builtins.head storagePaths;
      defaultText = literalExpression ''the first persistent storage path of config.environment.persistence, else of config.preservation.preserveAt, else null'';
      example = "/nix/persist";
      description = "Where persistent storage lives; the shutdown reports are kept below it.";
    };

    extraCheckArgs = mkOption {
      type = types.listOf types.str;
      default = [ ];
      example = [ "--ignore" "/var/cache" "--ignore-file" "/etc/drift/ignore" ];
      description = "Arguments added to every drift check the module runs (shutdown audit, timer).";
    };

    auditOnShutdown = {
      enable = mkEnableOption "a drift check at every shutdown, its JSON report kept in persistent storage and a one-line summary in the journal";
      directory = mkOption {
        type = types.nullOr types.str;
        default = null;
        description = ''
          Where the reports go: shutdown-<UTC time>.json and latest.json. It
          must be in persistent storage to survive the wipe; null means
          <persistentStoragePath>/var/lib/drift/shutdown.
        '';
      };
      keep = mkOption {
        type = types.int;
        default = 10;
        description = "How many reports to keep (the newest).";
      };
    };

    timer = {
      enable = mkEnableOption "a periodic drift check (metrics for node_exporter when prometheus.textfileDir is set, else the report in the journal)";
      onCalendar = mkOption {
        type = types.str;
        default = "hourly";
        description = "When the check runs (systemd.time(7) calendar event).";
      };
    };

    prometheus.textfileDir = mkOption {
      type = types.nullOr types.str;
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
        type = types.nullOr types.str;
        default = null;
        example = "/dev/disk/by-partlabel/disk-main-root";
        description = "The btrfs partition whose root subvolume is rolled back (drift wipe --device).";
      };
      keepDays = mkOption {
        type = types.int;
        default = 30;
        description = "Delete old roots older than this many whole days (drift wipe --keep-days).";
      };
      keepMin = mkOption {
        type = types.int;
        default = 1;
        description = "Always keep this many of the newest old roots (drift wipe --keep-min).";
      };
      subvolume = mkOption {
        type = types.str;
        default = "root";
        description = "The root subvolume, relative to the top level (drift wipe --subvol).";
      };
      oldRoots = mkOption {
        type = types.str;
        default = "old_roots";
        description = "Where old roots are kept, relative to the top level (drift wipe --old-roots).";
      };
      blank = mkOption {
        type = types.nullOr types.str;
        default = null;
        example = "root-blank";
        description = "Make the fresh root a snapshot of this subvolume (drift wipe --blank).";
      };
    };
  };

  config = mkIf cfg.enable (mkMerge [
    {
      environment.systemPackages = [ cfg.package ];
      environment.etc."drift/declarations.json".text = builtins.toJSON declarations;
      warnings =
        if collisions == [ ] then
          [ ]
        else
          [
            "services.drift: ${builtins.concatStringsSep ", " collisions} is a storage path of both environment.persistence and preservation.preserveAt; /etc/drift/declarations.json keeps preservation's"
          ];
      assertions = [
        {
          assertion = !cfg.auditOnShutdown.enable || auditDir != null;
          message = "services.drift.auditOnShutdown needs services.drift.persistentStoragePath or auditOnShutdown.directory (no environment.persistence or preservation.preserveAt to take it from)";
        }
        {
          assertion = !cfg.wipe.enable || cfg.wipe.device != null;
          message = "services.drift.wipe.enable needs services.drift.wipe.device, e.g. \"/dev/disk/by-partlabel/disk-main-root\"";
        }
        {
          assertion =
            !(cfg.wipe.enable && config.boot.initrd.systemd.enable)
            || (cfg.wipe.device != null && builtins.substring 0 5 cfg.wipe.device == "/dev/");
          message = "services.drift.wipe.device must be a /dev path under systemd stage 1 (the wipe waits for its device unit)";
        }
      ];
    }

    (mkIf (cfg.auditOnShutdown.enable && auditDir != null) {
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
        unitConfig.RequiresMountsFor = [ auditDir ];
        path = [
          cfg.package
          pkgs.coreutils
          pkgs.jq
        ];
        serviceConfig = {
          Type = "oneshot";
          RemainAfterExit = true;
          TimeoutStopSec = "10min";
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
          dir=${shellArg auditDir}
          mkdir -p "$dir"
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
          ls -1 "$dir"/shutdown-*.json | sort -r | tail -n +${toString (cfg.auditOnShutdown.keep + 1)} | xargs -r rm -f --
        '';
      };
    })

    (mkIf cfg.timer.enable {
      systemd.services.drift-check = {
        description = "drift: periodic check of what the next boot destroys";
        after = [ "local-fs.target" ];
        path = [
          cfg.package
          pkgs.coreutils
        ];
        serviceConfig.Type = "oneshot";
        script =
          if cfg.prometheus.textfileDir != null then
            ''
              set -u
              dir=${shellArg cfg.prometheus.textfileDir}
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
      systemd.tmpfiles.rules =
        if cfg.prometheus.textfileDir != null then
          [ "d ${cfg.prometheus.textfileDir} 0755 root root -" ]
        else
          [ ];
    })

    # (Without a device the assertion above says so; nothing is generated.)
    (mkIf (cfg.wipe.enable && cfg.wipe.device != null && !config.boot.initrd.systemd.enable) {
      boot.initrd.extraUtilsCommands = ''
        copy_bin_and_libs ${drift}
      '';
      boot.initrd.${scriptedHook} = mkAfter ''
        # services.drift.wipe: roll the root subvolume back before it is mounted.
        waitDevice ${shellArg cfg.wipe.device}
        drift ${shellArgs wipeArgs} || echo "drift wipe failed (exit status $?): the root is booted as it is"
      '';
    })

    (mkIf (cfg.wipe.enable && cfg.wipe.device != null && config.boot.initrd.systemd.enable) {
      boot.initrd.systemd.storePaths = [ drift ];
      boot.initrd.systemd.services.drift-wipe = {
        description = "drift: roll the root subvolume back";
        wantedBy = [ "initrd.target" ];
        # After the device exists and after the resume attempt (C11); before
        # the root is mounted at /sysroot (a wipe after that would retire
        # the mounted root: C18, which drift wipe refuses).
        requires = [ deviceUnit ];
        after = [
          deviceUnit
          "systemd-hibernate-resume.service"
          # The resume unit of every systemd version is ordered before it,
          # whatever device resume= names (also when it comes from
          # boot.kernelParams, not boot.resumeDevice).
          "local-fs-pre.target"
        ] ++ resumeInstance;
        before = [ "sysroot.mount" ];
        unitConfig.DefaultDependencies = "no";
        serviceConfig = {
          Type = "oneshot";
          # Active once done: a later transaction in the initrd (the
          # daemon-reload of initrd-parse-etc.service) does not start the
          # wipe again once the root is mounted (drift wipe would refuse,
          # but it must not even try).
          RemainAfterExit = true;
          ExecStart = execLine ([ drift ] ++ wipeArgs);
        };
      };
    })
  ]);
}
