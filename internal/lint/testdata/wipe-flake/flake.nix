{
  description = "drift lint test flake: the wipe shapes of testdata/wipe as evaluated configurations (no inputs; each host a plain attrset)";
  outputs = { self }:
    let
      seed = ''
    mkdir /btrfs_tmp
    mount /dev/disk/by-partlabel/disk-main-root /btrfs_tmp
    if [[ -e /btrfs_tmp/root ]]; then
        mkdir -p /btrfs_tmp/old_roots
        timestamp=$(date --date="@$(stat -c %Y /btrfs_tmp/root)" "+%Y-%m-%-d_%H:%M:%S")
        mv /btrfs_tmp/root "/btrfs_tmp/old_roots/$timestamp"
    fi
    delete_subvolume_recursively() {
        IFS=$'\n'
        for i in $(btrfs subvolume list -o "$1" | cut -f 9- -d ' '); do
            delete_subvolume_recursively "/btrfs_tmp/$i"
        done
        btrfs subvolume delete "$1"
    }
    for i in $(find /btrfs_tmp/old_roots/ -maxdepth 1 -mtime +30); do
        delete_subvolume_recursively "$i"
    done
    btrfs subvolume create /btrfs_tmp/root
    umount /btrfs_tmp
  '';
      # What services.drift.wipe generates (nix/module.nix), evaluated.
      driftHook = ''
        # services.drift.wipe: roll the root subvolume back before it is mounted.
        waitDevice '/dev/disk/by-partlabel/disk-main-root'
        drift 'wipe' '--device' '/dev/disk/by-partlabel/disk-main-root' '--subvol' 'root' '--old-roots' 'old_roots' '--keep-days' '30' '--keep-min' '1' || echo "drift wipe failed (exit status $?): the root is booted as it is"
      '';
      driftUnit = {
        wantedBy = [ "initrd.target" ];
        requires = [ "dev-disk-by\\x2dpartlabel-disk\\x2dmain\\x2droot.device" ];
        after = [ "dev-disk-by\\x2dpartlabel-disk\\x2dmain\\x2droot.device" "systemd-hibernate-resume.service" "local-fs-pre.target" ];
        before = [ "sysroot.mount" ];
        unitConfig.DefaultDependencies = "no";
        serviceConfig = {
          Type = "oneshot";
          RemainAfterExit = true;
          ExecStart = "\"/nix/store/00000000000000000000000000000000-drift/bin/drift\" \"wipe\" \"--device\" \"/dev/disk/by-partlabel/disk-main-root\"";
        };
        script = "";
      };
      host = release: cfg: { config = { system.nixos.release = release; } // cfg; };
    in
    {
      nixosConfigurations = {
        # 26.05: systemd stage 1 (the default), the seed's hook.
        seed26 = host "26.05" {
          boot.initrd = { systemd.enable = true; postResumeCommands = seed; };
        };
        # 25.11: scripted, the seed's script in postDeviceCommands, swap.
        seed2511 = host "25.11" {
          boot.initrd = { systemd.enable = false; postDeviceCommands = seed; postResumeCommands = ""; };
          swapDevices = [ { device = "/dev/vda3"; } ];
        };
        # A unit under the scripted stage 1.
        unitScripted = host "25.11" {
          boot.initrd = {
            systemd.enable = false;
            systemd.services.rollback = driftUnit // {
              serviceConfig = { Type = "oneshot"; };
              requiredBy = [ "sysroot.mount" ];
              script = "btrfs subvolume delete /mnt/root; btrfs subvolume create /mnt/root";
            };
          };
        };
        # The forum unit: wanted only, after initrd-root-device.target only.
        unitCommon = host "26.05" {
          boot.initrd.systemd = {
            enable = true;
            services.rollback = {
              wantedBy = [ "initrd.target" ];
              after = [ "initrd-root-device.target" ];
              before = [ "sysroot.mount" ];
              unitConfig = { DefaultDependencies = false; };
              script = "set -e; btrfs subvolume delete /mnt/root; btrfs subvolume create /mnt/root";
            };
          };
        };
        # Orderings written in unitConfig only; not before sysroot.mount.
        unitConfigOnly = host "26.05" {
          boot.initrd.systemd = {
            enable = true;
            services.rollback = {
              requiredBy = [ "initrd.target" ];
              unitConfig = { Requires = "dev-vda2.device"; After = [ "dev-vda2.device" "local-fs-pre.target" ]; };
              serviceConfig.ExecStart = [ "/bin/btrfs subvolume delete /mnt/root" ];
            };
          };
        };
        # The right shapes: services.drift.wipe under either stage 1.
        driftSystemd = host "26.05" {
          services.drift.wipe.enable = true;
          boot.resumeDevice = "/dev/vda3";
          boot.initrd.systemd = { enable = true; services.drift-wipe = driftUnit; };
        };
        driftScripted = host "25.11" {
          services.drift.wipe.enable = true;
          swapDevices = [ { device = "/dev/vda3"; } ];
          boot.initrd = { systemd.enable = false; postResumeCommands = driftHook; };
        };
        # services.drift.wipe and a hand-written wipe in the same hook.
        twice = host "25.11" {
          services.drift.wipe.enable = true;
          boot.initrd = {
            systemd.enable = false;
            postResumeCommands = ''
              set -e
              btrfs subvolume delete /mnt/root
              btrfs subvolume create /mnt/root
            '' + driftHook;
          };
        };
        # An old NixOS without boot.initrd.systemd: scripted; a unit there never runs.
        old = {
          config.boot.initrd.postResumeCommands = "";
          config.boot.initrd.systemd.services.rollback = driftUnit // { script = "zfs rollback -r rpool/local/root@blank"; serviceConfig = { }; };
        };
      };
    };
}
