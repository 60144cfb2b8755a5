package audit

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nix-drift/drift/internal/btrfs"
	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/persist"
	"github.com/nix-drift/drift/internal/testutil"
)

// An old root whose boot mounted a declared directory's copy holds beneath
// the mount point what lay there, hidden: a file newer than the copy's
// (field case: a tester's VANISHED row offered drift restore --force for a
// file hidden under the /etc/nixos bind mount, which would have put the
// stale hidden file over the live copy). The old root records the
// declarations its boot ran with (/etc/drift/declarations.json, a link
// through /etc/static into the store, read in the live /nix); they declare
// /etc/nixos, so restore refuses whatever the old root holds there. Old
// roots whose declarations do not declare it (not yet switched to) still
// restore the newer file over the older copy; one that records none falls
// back to what it holds at the declared path.
func TestPersistedByTheOldRootsOwnDeclarations(t *testing.T) {
	live, old := t.TempDir(), t.TempDir()
	const store = "/nix/store/22222222222222222222222222222222-etc/etc"
	declared := `{ "persistentStoragePath": "/nix/persist", "directories": [ "/etc/nixos" ] }`
	testutil.Tree(t, live, "f /nix/persist/etc/nixos/configuration.nix edited through the mount")
	past := time.Now().Add(-time.Hour)
	testutil.Must(t, os.Chtimes(filepath.Join(live, "nix/persist/etc/nixos/configuration.nix"), past, past))
	testutil.Tree(t, old, "f /etc/nixos/configuration.nix stale, beneath the mount")
	testutil.Must(t, os.Symlink(store, filepath.Join(old, "etc/static")))
	testutil.Must(t, os.MkdirAll(filepath.Join(old, "etc/drift"), 0o755))
	testutil.Must(t, os.Symlink("/etc/static/drift/declarations.json", filepath.Join(old, "etc/drift/declarations.json")))
	then := filepath.Join(live, store, "drift/declarations.json")
	testutil.Must(t, os.MkdirAll(filepath.Dir(then), 0o755))
	decls, err := persist.ParseJSON([]byte(declared), "p.json", persist.Options{})
	testutil.Must(t, err)
	m := &Model{Root: live, Decls: decls, From: &btrfs.OldRoot{Name: "2026-12-07_10:00:00", Dir: old}, FromName: "/dev/vda2:/old_roots/2026-12-07_10:00:00"}
	end := time.Now().Add(time.Hour)

	// No declarations in the old root (the store path not there): what
	// it holds at the declared path says the copy was not mounted.
	if pe := m.Persisted("/etc/nixos/configuration.nix", end); pe != nil {
		t.Fatalf("no declarations recorded: refused %v; want the old rule (data there, newer: restored)", pe)
	}
	testutil.Must(t, os.WriteFile(then, []byte(declared), 0o444))
	m.thens = nil // read the changed file again
	pe := m.Persisted("/etc/nixos/configuration.nix", end)
	if pe == nil || pe.Then != "/dev/vda2:/old_roots/2026-12-07_10:00:00/etc/drift/declarations.json" || pe.Unmounted {
		t.Fatalf("declared at that boot: %+v, want refused, naming the old root's declarations", pe)
	}
	// Declared only since: not mounted at that boot.
	testutil.Must(t, os.Chmod(then, 0o644))
	testutil.Must(t, os.WriteFile(then, []byte(`{ "persistentStoragePath": "/nix/persist", "directories": [ "/srv" ] }`), 0o444))
	m.thens = nil // read the changed file again
	if pe := m.Persisted("/etc/nixos/configuration.nix", end); pe != nil {
		t.Errorf("not declared at that boot: refused %v; want the newer file restored over the older copy", pe)
	}
}

// Declared is not mounted: the old root's declarations declare
// /srv/notes2 and /etc/foo.conf, but that boot did not mount them
// (impermanence binds no file over an existing one; a mount can fail), and
// the boot wrote data there (a tester's case: check said declared-unbacked
// before the wipe, and after it drift restore /srv/notes2/data.txt was
// refused as "what lay beneath the mount"). The files were changed (ctime)
// long after the old root was made (otime) and its mounts were done: that
// boot's data, restored (data.txt: the copy lacks it; foo.conf: newer than
// its stale copy). Changed within the mount phase, they lay beneath.
func TestDeclaredThenButWrittenAfterTheMounts(t *testing.T) {
	live, old := t.TempDir(), t.TempDir()
	const store = "/nix/store/33333333333333333333333333333333-etc/etc"
	declared := `{ "persistentStoragePath": "/nix/persist", "directories": [ "/srv/notes2" ], "files": [ "/etc/foo.conf" ] }`
	testutil.Tree(t, live, "d /nix/persist/srv/notes2\nf /nix/persist/etc/foo.conf stale copy")
	past := time.Now().Add(-time.Hour)
	testutil.Must(t, os.Chtimes(filepath.Join(live, "nix/persist/etc/foo.conf"), past, past))
	testutil.Tree(t, old, "f /srv/notes2/data.txt written this boot, never mounted\nf /etc/foo.conf setting=important")
	testutil.Must(t, os.Symlink(store, filepath.Join(old, "etc/static")))
	testutil.Must(t, os.MkdirAll(filepath.Join(old, "etc/drift"), 0o755))
	testutil.Must(t, os.Symlink("/etc/static/drift/declarations.json", filepath.Join(old, "etc/drift/declarations.json")))
	then := filepath.Join(live, store, "drift/declarations.json")
	testutil.Must(t, os.MkdirAll(filepath.Dir(then), 0o755))
	testutil.Must(t, os.WriteFile(then, []byte(declared), 0o444))
	decls, err := persist.ParseJSON([]byte(declared), "p.json", persist.Options{})
	testutil.Must(t, err)
	for _, otime := range []time.Time{past, time.Now()} {
		m := &Model{Root: live, Decls: decls, From: &btrfs.OldRoot{Name: "2026-12-07_10:00:00", Dir: old, OTime: otime}, FromName: "/dev/vda2:/old_roots/2026-12-07_10:00:00"}
		for _, p := range []string{"/srv/notes2/data.txt", "/etc/foo.conf"} {
			pe := m.Persisted(p, time.Now().Add(time.Hour))
			if otime.Equal(past) && pe != nil {
				t.Errorf("%s, written an hour after the old root was made: refused %v; want restored", p, pe)
			}
			if !otime.Equal(past) && (pe == nil || pe.Then == "") {
				t.Errorf("%s, written as the old root was made: %+v; want refused, beneath the mount", p, pe)
			}
		}
	}
}

// An old root whose declarations file is there but is not what the module
// writes (a truncated file, garbage: a tester's case, where check and
// restore went on silently): DeclaredThen warns once, naming the file and
// what was expected, and restore judges by what the old root holds (the
// content rule: data at the declared path, newer than the copy's, is
// restored).
func TestGarbageDeclarationsThenWarnAndFallBack(t *testing.T) {
	for _, garbage := range []string{"", `{ "persistentStoragePath": "/nix/persist", "directories": [ "/etc/ni`, "\x00\x01 not json"} {
		live, old := t.TempDir(), t.TempDir()
		testutil.Tree(t, live, "f /nix/persist/etc/nixos/configuration.nix older")
		past := time.Now().Add(-time.Hour)
		testutil.Must(t, os.Chtimes(filepath.Join(live, "nix/persist/etc/nixos/configuration.nix"), past, past))
		testutil.Tree(t, old, "f /etc/nixos/configuration.nix newer, written on the root")
		testutil.Must(t, os.MkdirAll(filepath.Join(old, "etc/drift"), 0o755))
		testutil.Must(t, os.WriteFile(filepath.Join(old, "etc/drift/declarations.json"), []byte(garbage), 0o644))
		set, w := DeclaredThen(old, live)
		if set != nil || w == nil || !strings.Contains(w.Message, filepath.Join(old, "etc/drift/declarations.json")) || !strings.Contains(w.Message, "a JSON object of persistent storage paths") {
			t.Fatalf("%q: DeclaredThen = %v, %+v; want nil and a warning naming the file and what was expected", garbage, set, w)
		}
		decls, err := persist.ParseJSON([]byte(`{ "persistentStoragePath": "/nix/persist", "directories": [ "/etc/nixos" ] }`), "p.json", persist.Options{})
		testutil.Must(t, err)
		m := &Model{Root: live, Decls: decls, From: &btrfs.OldRoot{Name: "2026-12-07_10:00:00", Dir: old}}
		if pe := m.Persisted("/etc/nixos/configuration.nix", time.Now().Add(time.Hour)); pe != nil {
			t.Errorf("%q: refused %v; want the content rule (newer data on the root: restored)", garbage, pe)
		}
		if w := m.DeclaredThenWarning(); w == nil || !strings.Contains(w.Message, "declarations.json") {
			t.Errorf("%q: the model's warning %+v", garbage, w)
		}
	}
	// No file at all (no module): no warning.
	if set, w := DeclaredThen(t.TempDir(), t.TempDir()); set != nil || w != nil {
		t.Errorf("no declarations file: %v, %+v; want neither", set, w)
	}
}

// The previous root the audit compares with and the old root restore reads
// from (From) are one old root: its declarations file is one fact of the
// model, read once (a file changed after the audit read it is not read
// again) and its warning given once, by the audit, not again by restore.
// Before, the audit's build and restore each read the file, and each gave
// the warning of a file that is not the module's.
func TestOldRootDeclarationsReadAndWarnedOnce(t *testing.T) {
	dir := t.TempDir()
	root, old := filepath.Join(dir, "root"), filepath.Join(dir, "old/2026-11-11_09:00:00")
	testutil.WriteFile(t, filepath.Join(root, "var/lib/app/db"), "data")
	testutil.WriteFile(t, filepath.Join(root, "nix/persist/etc/nixos/configuration.nix"), "older")
	past := time.Now().Add(-time.Hour)
	testutil.Must(t, os.Chtimes(filepath.Join(root, "nix/persist/etc/nixos/configuration.nix"), past, past))
	testutil.Tree(t, old, "d /nix\nd /proc\nd /sys\nd /dev\nd /run\nf /etc/nixos/configuration.nix newer, written on the root")
	declsThen := filepath.Join(old, "etc/drift/declarations.json")
	testutil.WriteFile(t, declsThen, `{ "persistentStoragePath": "/nix/persist", "directories": [ "/etc/ni`)
	conf := filepath.Join(dir, "configuration.nix")
	testutil.WriteFile(t, conf, `{ environment.persistence."/nix/persist".directories = [ "/etc/nixos" ]; }`)
	m, err := Build(context.Background(), Options{Root: root, Persist: []string{conf}, RootSubvol: "none", Ephemeral: []string{"/"},
		OldRoots: filepath.Join(dir, "old"), Previous: true, Now: time.Now()})
	testutil.Must(t, err)
	t.Cleanup(m.Close)
	if len(m.OldRoots.Roots) != 1 {
		t.Fatalf("old roots %+v, want the one made", m.OldRoots.Roots)
	}
	count := func(ws []diff.Warning) (n int) {
		for _, w := range ws {
			if strings.Contains(w.Message, declsThen) {
				n++
			}
		}
		return n
	}
	if n := count(m.Audit.Warnings); n != 1 {
		t.Fatalf("the audit gave %d warnings about %s, want 1: %+v", n, declsThen, m.Audit.Warnings)
	}
	// Now the module's file: the model does not read it again.
	testutil.Must(t, os.WriteFile(declsThen, []byte(`{ "persistentStoragePath": "/nix/persist", "directories": [ "/etc/nixos" ] }`), 0o644))
	m.From = &m.OldRoots.Roots[0]
	if pe := m.Persisted("/etc/nixos/configuration.nix", time.Now().Add(time.Hour)); pe != nil {
		t.Errorf("refused %+v: the file was read again (it declares /etc/nixos now); want the fact the audit read (none: the content rule restores the newer file)", pe)
	}
	if w := m.DeclaredThenWarning(); w != nil {
		t.Errorf("restore's warning %+v: given again after the audit's", w)
	}
}
