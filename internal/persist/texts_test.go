package persist

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/testutil"
)

// The files a configuration reads (builtins.readFile ./backup.sh) are its
// text: the paths they name are in use, whether the configuration is
// named (--persist) or the machine's own. A file that cannot be read
// beneath the tree (a symlink) makes the configuration not whole, named;
// a directory or a missing file does not.
func TestTextsTheConfigurationReads(t *testing.T) {
	root := t.TempDir()
	nixos := filepath.Join(root, "etc/nixos")
	testutil.WriteFile(t, filepath.Join(nixos, "configuration.nix"), `{ ... }: { imports = [ ./backup.nix ]; environment.persistence."/nix/persist".directories = [ "/var/log" ]; }`)
	testutil.WriteFile(t, filepath.Join(nixos, "backup.nix"), `{ ... }: {
  systemd.services.backup.script = builtins.readFile ./backup.sh;
  environment.etc.x.source = ./dotfiles;
  environment.etc.y.source = ./missing.conf;
}`)
	testutil.WriteFile(t, filepath.Join(nixos, "backup.sh"), "#!/bin/sh\nrsync -a /nix/persist/backupdata/ remote:\n")
	testutil.Must(t, os.MkdirAll(filepath.Join(nixos, "dotfiles"), 0o755))
	for _, files := range [][]string{nil, {filepath.Join(nixos, "configuration.nix")}} {
		s, _, err := Load(context.Background(), root, files, "", nil, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(s.Config.Strings, func(r Ref) bool {
			return r.Path == "/nix/persist/backupdata" && r.Pos.File == filepath.Join(nixos, "backup.sh") && r.Pos.Line == 2
		}) {
			t.Errorf("--persist %q: /nix/persist/backupdata (backup.sh:2) not among the configuration's strings: %v", files, s.Config.Strings)
		}
		if whole, why := s.Whole(); !whole {
			t.Errorf("--persist %q: not whole: %s", files, why)
		}
	}
	testutil.Must(t, os.Remove(filepath.Join(nixos, "backup.sh")))
	testutil.Must(t, os.Symlink("/srv/backup.sh", filepath.Join(nixos, "backup.sh")))
	s, _, err := Load(context.Background(), root, nil, "", nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if whole, why := s.Whole(); whole || !strings.Contains(why, "./backup.sh") {
		t.Errorf("a text behind a symlink: whole %v (%s), want not whole, naming ./backup.sh", whole, why)
	}
}
