// Package btrfs reads and changes the top level of an impermanent root's btrfs filesystem: it lists subvolumes and old roots in real time order, and plans and performs the boot-time wipe.
package btrfs
