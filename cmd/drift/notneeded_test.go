package main

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/persist"
	"github.com/nix-drift/drift/internal/testutil"
)

// TestDeclarationOnAPersistentFileSystemOneAdvice: users.alice.directories
// = [ ".mozilla" ] with /home its own subvolume, not mounted from the
// persistent copy yet. A fresh user was told by drift lint
// "already-persistent … remove it" and by drift check and drift suggest
// "covered … keep it: drift adopt …". The declaration is not needed on a
// file system the wipe does not touch, and while it stands every boot
// hides the live profile under the copy: the three now give one advice
// (persist.NotNeeded: remove it, after moving what the copy holds, and
// the data stays in view), check and suggest with the drift adopt that
// keeps it declared beside it.
func TestDeclarationOnAPersistentFileSystemOneAdvice(t *testing.T) {
	sys := newSystem(t, "cfg/configuration.nix", `{ ... }: {
  fileSystems."/home" = { device = "/dev/vda2"; fsType = "btrfs"; options = [ "subvol=home" ]; };
  environment.persistence."/nix/persist".users.alice.directories = [ ".mozilla" ];
  users.users.alice = { isNormalUser = true; home = "/home/alice"; };
}
`, `22 1 0:20 / / rw - tmpfs none rw
27 22 0:31 /nix /nix rw - btrfs /dev/vda2 rw,subvol=/nix
28 27 0:31 /persist /nix/persist rw - btrfs /dev/vda2 rw,subvol=/persist
29 22 0:31 /home /home rw - btrfs /dev/vda2 rw,subvol=/home
`)
	root, cfg, flags := sys.root, sys.config, sys.flags()
	testutil.WriteFile(t, filepath.Join(root, "home/alice/.mozilla/prefs.js"), "user_pref(1);\n")
	testutil.WriteFile(t, filepath.Join(root, "nix/persist/.keep"), "")
	advice := persist.NotNeeded
	_, out, errs := runDrift(t, "lint", cfg)
	if !strings.Contains(out+errs, "already-persistent") || !strings.Contains(out+errs, advice) {
		t.Errorf("drift lint: not the advice %q:\n%s%s", advice, out, errs)
	}
	for _, args := range [][]string{{"check", "--format", "json"}, {"check"}, {"suggest", "--format", "json"}} {
		_, out, errs := runDrift(t, append(args, flags...)...)
		text := strings.ReplaceAll(out+errs, "\n", " ")
		table := !slices.Contains(args, "json") // its cells wrap the command
		if !strings.Contains(text, advice) || (!table && !strings.Contains(text, "drift adopt --root "+root)) {
			t.Errorf("drift %s: not the advice %q with the drift adopt beside it:\n%s%s", strings.Join(args, " "), advice, out, errs)
		}
	}
}
