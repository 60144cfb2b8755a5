package audit

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/testutil"
)

// TestRescueWithoutStorageJudgesNothingDeclared: a field report ran drift
// check on a rescue system that mounted the root subvolume alone (--root,
// the persistent storage /nix/persist not mounted under it): it warned
// that /nix/persist is not mounted, yet reported 2014 declared-unbacked
// paths and 3028 VANISHED ones "in no persistent copy", all of them in
// the copy it could not read. Those cannot be judged: they are not counted
// lost, and one warning says so with the command that mounts the storage.
// With the system's own mount table (--mountinfo: the system running,
// its storage not mounted) the same root's data is declared-unbacked, as
// before: the next boot hides it. The live table is the rescue system's
// (Options.LiveMountinfo), not the test runner's: what is mounted there
// does not change the outcome.
func TestRescueWithoutStorageJudgesNothingDeclared(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	testutil.WriteFile(t, filepath.Join(root, "var/lib/app/db"), "data")
	testutil.WriteFile(t, filepath.Join(root, "srv/undeclared"), "lost")
	testutil.WriteFile(t, filepath.Join(dir, "old/2026-11-11_09:00:00/var/lib/gone/state"), "was")
	testutil.WriteFile(t, filepath.Join(dir, "old/2026-11-11_09:00:00/srv/vanished"), "was")
	conf := filepath.Join(dir, "configuration.nix")
	testutil.WriteFile(t, conf, `{
  fileSystems."/nix" = { device = "/dev/sda2"; fsType = "btrfs"; options = [ "subvol=nix" ]; };
  environment.persistence."/nix/persist".directories = [ "/var/lib/app" "/var/lib/gone" ];
}`)
	// The rescue system's own table, read as the live one (not the test
	// runner's): its root a tmpfs, the system's root subvolume mounted at
	// root, nothing at root/nix.
	rescue := filepath.Join(dir, "rescue-mountinfo")
	testutil.WriteFile(t, rescue, "1 0 0:20 / / rw - tmpfs rootfs rw\n40 1 0:31 /root "+root+" rw - btrfs /dev/sda2 rw,subvol=/root\n")
	build := func(mountinfo string) *Model {
		mi := "" // the live table: the root is mounted here, not running
		if mountinfo != "" {
			mi = filepath.Join(dir, "mountinfo")
			testutil.WriteFile(t, mi, mountinfo)
		}
		m, err := Build(context.Background(), Options{Root: root, Persist: []string{conf}, Mountinfo: mi, LiveMountinfo: rescue, RootSubvol: "none", Ephemeral: []string{"/"},
			OldRoots: filepath.Join(dir, "old"), Previous: true, Now: mustTime(t, "2026-11-12T00:00:00Z")})
		testutil.Must(t, err)
		t.Cleanup(m.Close)
		return m
	}
	m := build("")
	lost := map[string]diff.Category{}
	for _, it := range m.Audit.Lost {
		lost[it.Path] = it.Category
	}
	if c, ok := lost["/var/lib/app"]; ok {
		t.Errorf("/var/lib/app counted lost (%s) with its storage not mounted", c)
	}
	if lost["/srv/undeclared"] != diff.Unpersisted && lost["/srv"] != diff.Unpersisted {
		t.Errorf("undeclared data not lost: %v", lost)
	}
	if n := m.Audit.Totals[diff.DeclaredUnbacked].Count; n != 0 {
		t.Errorf("declared-unbacked total %d, want 0", n)
	}
	var vanished []string
	for _, v := range m.Audit.Vanished {
		vanished = append(vanished, v.Path)
	}
	if strings.Join(vanished, " ") != "/srv/vanished" && strings.Join(vanished, " ") != "/srv" {
		t.Errorf("vanished %q, want only the undeclared /srv/vanished", vanished)
	}
	var said []string
	for _, w := range m.Audit.Warnings {
		if strings.Contains(w.Message, "/nix/persist") {
			said = append(said, w.Message)
		}
	}
	if len(said) != 1 || !strings.Contains(said[0], "cannot be judged") || !strings.Contains(said[0], "1 declared path with data on the root") ||
		!strings.Contains(said[0], "gone since the last boot") || !strings.Contains(said[0], "mount the filesystem the system mounts at /nix at "+filepath.Join(root, "nix")) {
		t.Errorf("warnings on /nix/persist: %q, want one saying what cannot be judged and how to mount it", said)
	}

	m = build("22 1 0:21 /root / rw - btrfs /dev/sda2 rw,subvol=/root\n")
	if n := m.Audit.Totals[diff.DeclaredUnbacked].Count; n == 0 {
		t.Errorf("--mountinfo: declared-unbacked total 0, want /var/lib/app's")
	}
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339, s)
	testutil.Must(t, err)
	return tm
}

// TestUnjudgedKeepsTheWarningsOfMountedStorage: on a rescue system that
// mounted the root subvolume and one of two storage paths
// (/nix/persist/big, its own filesystem, beside /nix/persist on the /nix
// filesystem not mounted), what is declared in /nix/persist is not judged
// and diff's word on it is dropped, while the declaration in
// /nix/persist/big is judged as ever: its data on the root counted
// declared-unbacked and its warning ("declared but not mounted from
// /nix/persist/big/var/lib/big") kept. Before, unjudged dropped every
// setup warning whose text held " but not mounted from /nix/persist/",
// which /nix/persist/big's source does: its paths were counted lost with
// nothing saying why.
func TestUnjudgedKeepsTheWarningsOfMountedStorage(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	testutil.WriteFile(t, filepath.Join(root, "var/lib/app/db"), "data")
	testutil.WriteFile(t, filepath.Join(root, "var/lib/big/db"), "data")
	testutil.WriteFile(t, filepath.Join(root, "nix/persist/big/.keep"), "")
	conf := filepath.Join(dir, "configuration.nix")
	testutil.WriteFile(t, conf, `{
  fileSystems."/nix" = { device = "/dev/sda2"; fsType = "btrfs"; options = [ "subvol=nix" ]; };
  fileSystems."/nix/persist/big" = { device = "/dev/sdb1"; fsType = "ext4"; };
  environment.persistence."/nix/persist".directories = [ "/var/lib/app" ];
  environment.persistence."/nix/persist/big".directories = [ "/var/lib/big" ];
}`)
	rescue := filepath.Join(dir, "rescue-mountinfo")
	testutil.WriteFile(t, rescue, "1 0 0:20 / / rw - tmpfs rootfs rw\n40 1 0:31 /root "+root+" rw - btrfs /dev/sda2 rw,subvol=/root\n"+
		"41 40 8:17 / "+filepath.Join(root, "nix/persist/big")+" rw - ext4 /dev/sdb1 rw\n")
	m, err := Build(context.Background(), Options{Root: root, Persist: []string{conf}, LiveMountinfo: rescue, RootSubvol: "none", Ephemeral: []string{"/"}, OldRoots: "none"})
	testutil.Must(t, err)
	t.Cleanup(m.Close)
	lost := map[string]diff.Category{}
	for _, it := range m.Audit.Lost {
		lost[it.Path] = it.Category
	}
	if c, ok := lost["/var/lib/app/db"]; ok {
		t.Errorf("/var/lib/app/db counted lost (%s) with its storage not mounted", c)
	}
	if lost["/var/lib/big/db"] != diff.DeclaredUnbacked {
		t.Fatalf("/var/lib/big/db: %q, want declared-unbacked (its storage is mounted): %v", lost["/var/lib/big/db"], lost)
	}
	var app, big int
	for _, w := range m.Audit.Warnings {
		if strings.Contains(w.Message, "/var/lib/app is declared") {
			app++
		}
		if strings.Contains(w.Message, "/var/lib/big is declared") && strings.Contains(w.Message, "but not mounted from /nix/persist/big/var/lib/big") {
			big++
		}
	}
	if app != 0 || big != 1 {
		t.Errorf("warnings on /var/lib/app: %d (want 0: not judged), on /var/lib/big: %d (want 1): %q", app, big, diff.Messages(m.Audit.Warnings))
	}
}
