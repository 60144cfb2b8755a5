{
  description = "drift lint test flake: the wipe shapes of testdata/wipe as evaluated configurations (services.drift.wipe itself: wipe_module_test.go) (no inputs; each host a plain attrset)";
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
            systemd.services.rollback = {
              wantedBy = [ "initrd.target" ];
              requires = [ "dev-vda2.device" ];
              after = [ "dev-vda2.device" "systemd-hibernate-resume.service" "local-fs-pre.target" ];
              before = [ "sysroot.mount" ];
              unitConfig.DefaultDependencies = "no";
              serviceConfig.Type = "oneshot";
            } // {
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
        # Not ordered after any device; a unit nothing starts; a hook after
        # the root is mounted.
        unitNoDevice = host "26.05" {
          boot.initrd.systemd = {
            enable = true;
            services.rollback = {
              requiredBy = [ "sysroot.mount" ];
              after = [ "local-fs-pre.target" ];
              before = [ "sysroot.mount" ];
              script = "btrfs subvolume delete /mnt/root; btrfs subvolume create /mnt/root";
            };
          };
        };
        notStarted = host "26.05" {
          boot.initrd.systemd = {
            enable = true;
            services.rollback = {
              wantedBy = [ "multi-user.target" ];
              script = "btrfs subvolume delete /mnt/root";
            };
          };
        };
        postMount = host "25.11" {
          boot.initrd = { systemd.enable = false; postMountCommands = "zfs rollback -r rpool/local/root@blank || fail"; };
        };
        # The right shape by hand: no finding.
        goodUnit = host "26.05" {
          boot.kernelParams = [ "resume=/dev/vda3" ];
          boot.initrd.systemd = {
            enable = true;
            services.rollback = {
              wantedBy = [ "initrd.target" ];
              requiredBy = [ "sysroot.mount" ];
              requires = [ "dev-vda2.device" ];
              after = [ "dev-vda2.device" "systemd-hibernate-resume.service" "local-fs-pre.target" ];
              before = [ "sysroot.mount" ];
              unitConfig.DefaultDependencies = false;
              script = "mount /dev/vda2 /mnt; btrfs subvolume delete /mnt/root; btrfs subvolume create /mnt/root";
            };
          };
        };
        # An old NixOS without boot.initrd.systemd: scripted; a unit there never runs.
        old = {
          config.boot.initrd.postResumeCommands = "";
          config.boot.initrd.systemd.services.rollback = { wantedBy = [ "initrd.target" ]; script = "zfs rollback -r rpool/local/root@blank"; };
        };
      };
    };
}
