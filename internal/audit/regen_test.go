package audit

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/testutil"
)

// TestRegenOneRule: diff.Regen as drift check's model sets it, the older
// roots compared one path at a time (diff.SameIn) or by one lockstep walk
// each (diff.HistoryIn, past lookupsAtMost) alike: made again at every
// boot only when the same in every old root, not the previous root's
// copy (its modification time), not known state, and everything below a
// directory so too.
func TestRegenOneRule(t *testing.T) {
	const notYes = diff.Regen(255) // any answer but RegenYes
	dir := t.TempDir()
	boot := time.Date(2026, 11, 12, 9, 0, 0, 0, time.UTC)
	prevAt, olderAt := boot.Add(-24*time.Hour), boot.Add(-48*time.Hour)
	same := func(content string, at time.Time) testutil.Node { return testutil.Node{Content: content, Mtime: at} }
	testutil.Build(t, filepath.Join(dir, "root"), map[string]testutil.Node{
		"etc/gen":                    same("g", boot),
		"etc/half":                   same("h", boot),
		"etc/restored":               same("r", prevAt),
		"var/lib/bluetooth/settings": same("b", boot),
		"srv/mixed/a":                same("a", boot),
		"srv/mixed/b":                same("b2", boot),
		"nix/persist/.keep":          same("", boot),
	}, boot)
	testutil.Build(t, filepath.Join(dir, "old", "2026-11-11_09:00:00"), map[string]testutil.Node{
		"etc/gen": same("g", prevAt), "etc/half": same("h", prevAt), "etc/restored": same("r", prevAt),
		"var/lib/bluetooth/settings": same("b", prevAt), "srv/mixed/a": same("a", prevAt), "srv/mixed/b": same("b1", prevAt),
	}, prevAt)
	testutil.Build(t, filepath.Join(dir, "old", "2026-11-10_09:00:00"), map[string]testutil.Node{
		"etc/gen": same("g", olderAt), "etc/restored": same("r", olderAt),
		"var/lib/bluetooth/settings": same("b", olderAt), "srv/mixed/a": same("a", olderAt), "srv/mixed/b": same("b2", olderAt),
	}, olderAt)
	want := map[string]diff.Regen{
		"/etc/gen": diff.RegenYes, "/etc/half": diff.RegenOlder, "/etc/restored": diff.RegenCopied,
		"/var/lib/bluetooth": diff.RegenKnown, "/var/lib/bluetooth/settings": diff.RegenKnown,
		"/srv/mixed": diff.RegenBelow, "/srv/mixed/a": diff.RegenYes, // b changed since the previous root only
	}
	for _, lookups := range []int{2000, 0} {
		func() {
			old := lookupsAtMost
			lookupsAtMost = lookups
			defer func() { lookupsAtMost = old }()
			m, err := Build(context.Background(), tmpfsRootOptions(t, dir, Options{OldRoots: filepath.Join(dir, "old"), Previous: true, Paths: true}))
			testutil.Must(t, err)
			defer m.Close()
			got := map[string]diff.Regen{}
			for _, it := range m.Audit.Lost {
				got[it.Path] = it.Regen
			}
			for p, w := range want {
				if got[p] != w && (w != notYes || got[p] == diff.RegenYes) {
					t.Errorf("lookups at most %d: %s: Regen %d, want %d", lookups, p, got[p], w)
				}
			}
		}()
	}
}

// tmpfsRootOptions writes, in dir, the declarations (/var/log in
// /nix/persist) and mountinfo (a tmpfs root, a btrfs /nix) of a small
// impermanent system whose root is dir/root, and returns o reading them.
func tmpfsRootOptions(t *testing.T, dir string, o Options) Options {
	t.Helper()
	testutil.WriteFile(t, filepath.Join(dir, "decl.json"), `{"persistentStoragePath": "/nix/persist", "directories": ["/var/log"]}`)
	testutil.WriteFile(t, filepath.Join(dir, "mountinfo"), "22 1 0:20 / / rw - tmpfs none rw\n23 22 0:21 / /nix rw - btrfs /dev/sda2 rw,subvol=/nix\n")
	o.Root, o.Persist, o.Mountinfo = filepath.Join(dir, "root"), []string{filepath.Join(dir, "decl.json")}, filepath.Join(dir, "mountinfo")
	return o
}
