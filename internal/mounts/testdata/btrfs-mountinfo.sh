#!/bin/sh
# Reproduces the mountinfo captured in btrfs_test.go: a btrfs loop image with
# the subvolumes of an impermanent NixOS root, mounted by subvolume and bound
# from inside one, all in a private mount namespace (nothing leaks). Run as
# root; needs btrfs-progs and util-linux. Prints the mountinfo lines and the
# stat(2) st_dev of each mount.
set -eu
IMG=$(mktemp /tmp/drift-btrfs.XXXXXX.img)
M=$(mktemp -d /tmp/drift-exp-mnt.XXXXXX)
truncate -s 300M "$IMG"
mkfs.btrfs -q "$IMG" 2>/dev/null
LOOP=$(losetup -f --show "$IMG")
trap 'losetup -d "$LOOP"; rm -f "$IMG"; rm -rf "$M"' EXIT
export IMG M LOOP
unshare -m --propagation private sh -eu -c '
mkdir -p $M/top $M/sys
mount $LOOP $M/top
for s in root nix persist "my vol"; do btrfs subvolume create "$M/top/$s" >/dev/null; done
mkdir -p $M/top/old_roots $M/top/persist/etc/ssh $M/top/persist/home/alice
btrfs subvolume create "$M/top/old_roots/2024-11-4_16:22:50" >/dev/null
btrfs subvolume create "$M/top/root/nested" >/dev/null
touch $M/top/persist/home/alice/.gitconfig
mount -o subvol=root $LOOP $M/sys
mkdir -p $M/sys/nix $M/sys/etc/ssh $M/sys/home/alice $M/sys/old $M/sys/sp $M/sys/top
touch $M/sys/home/alice/.gitconfig
mount -o subvol=/nix $LOOP $M/sys/nix
mkdir -p $M/sys/nix/persist
mount -o subvol=persist $LOOP $M/sys/nix/persist
mount --bind $M/sys/nix/persist/etc/ssh $M/sys/etc/ssh
mount --bind $M/sys/nix/persist/home/alice/.gitconfig $M/sys/home/alice/.gitconfig
mount -o subvol=old_roots/2024-11-4_16:22:50 $LOOP $M/sys/old
mount -o subvolid=5 $LOOP $M/sys/top
mount -o subvol="my vol" $LOOP $M/sys/sp
mount --bind $M/sys/top/persist/etc $M/sys/nix/persist/etc
grep " $M/" /proc/self/mountinfo
for d in $M/top $M/sys $M/sys/nested $M/sys/nix $M/sys/nix/persist $M/sys/etc/ssh $M/sys/old $M/sys/top; do
	stat -c "st_dev %Hd:%Ld %n" "$d"
done
umount -R $M/sys $M/top
'
