// Package nixtest tests the Nix side of drift without nixpkgs: every .nix
// file parses; nix/module.nix evaluates against a stub lib and NixOS utils
// (nixpkgs' option types and messages) into the golden unit and script
// text; every generated unit passes systemd-analyze verify and every
// script shellcheck; flake.nix evaluates against a stub nixpkgs and
// nix/package.nix under callPackage alone; nix/package.nix's vendorHash
// matches go.mod and go.sum; and the module's stage-1 wipe is booted in
// QEMU with a dracut/systemd initramfs (TestStage1WipeBoot, under
// DRIFT_REQUIRE_VM=1 or DRIFT_VM_KERNEL).
package nixtest
