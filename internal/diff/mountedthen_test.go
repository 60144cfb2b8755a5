package diff

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/nix-drift/drift/internal/btrfs"
	"github.com/nix-drift/drift/internal/persist"
	"github.com/nix-drift/drift/internal/testutil"
)

// TestDeclaredThenIsNotMountedThen: the old root's own declarations
// (/etc/drift/declarations.json) declare /srv/notes2 and /etc/foo.conf
// with the copies they have now, but that boot did not mount them (a
// tester's case: impermanence binds no file over an existing one, and a
// mount can fail; check said declared-unbacked before the wipe and, after
// it, listed neither as vanished, restore refusing them as "beneath the
// mount"). The old root's files were written long after the root was made
// (its otime) and its mounts were done: written while the paths showed the
// root, so vanished — data.txt absent from the copy, foo.conf newer than
// its stale copy. The same files changed within the mount phase of the
// root's making are what lay beneath the mounts: not vanished.
func TestDeclaredThenIsNotMountedThen(t *testing.T) {
	prev := prevTree(t, `
f /srv/notes2/data.txt written this boot, never mounted
f /etc/foo.conf setting=important
`)
	then, err := persist.ParseJSON([]byte(`{ "persistentStoragePath": "/nix/persist", "directories": [ "/srv/notes2" ], "files": [ "/etc/foo.conf" ] }`), "declarations.json", persist.Options{})
	testutil.Must(t, err)
	past := time.Now().Add(-time.Hour)
	for _, tc := range []struct {
		otime time.Time
		want  []string
	}{
		{past, []string{"/etc/foo.conf /etc/foo.conf stale=true", "/srv/notes2/data.txt /srv/notes2 stale=false"}},
		{time.Now(), nil},
		{time.Time{}, nil}, // otime not known: the declarations decide
	} {
		for _, lockstep := range []bool{true, false} {
			func() {
				old := lockstepHistory
				lockstepHistory = lockstep
				defer func() { lockstepHistory = old }()
				root := *prev
				root.OTime = tc.otime
				a := check(t, "d /srv\nd /etc\n", btrfsSystem, []persist.Entry{dir("/srv/notes2"), {Path: "/etc/foo.conf", Kind: persist.File, StoragePath: "/nix/persist", Origin: &persist.Origin{Module: "impermanence"}}}, func(cfg *Config) {
					cfg.PreviousRoot, cfg.PreviousDecls = &root, then
					writeFiles(t, cfg.Root, map[string]string{"/nix/persist/etc/foo.conf": "stale copy"})
					testutil.Must(t, os.MkdirAll(filepath.Join(cfg.Root, "nix/persist/srv/notes2"), 0o755))
					testutil.Must(t, os.Chtimes(filepath.Join(cfg.Root, "nix/persist/etc/foo.conf"), past, past))
				})
				var got []string
				for _, v := range a.Vanished {
					got = append(got, fmt.Sprintf("%s %s stale=%v", v.Path, v.Decl, v.StaleCopy))
				}
				if !slices.Equal(got, tc.want) {
					t.Errorf("otime %v, lockstep %v: vanished %q, want %q", tc.otime, lockstep, got, tc.want)
				}
			}()
		}
	}
}

// TestMountedThenReadsTheCtimeOnlyWhenNeeded: the old root's ctime at p
// (an lstat per path of the vanished walk below a declared path) is asked
// only when the rule reads it: never without the declarations of that
// boot, for a path they do not keep at the same copy, or for a root
// whose otime is not known; once otherwise, and it decides.
func TestMountedThenReadsTheCtimeOnlyWhenNeeded(t *testing.T) {
	then, err := persist.ParseJSON([]byte(`{ "persistentStoragePath": "/nix/persist", "directories": [ "/srv/app" ] }`), "declarations.json", persist.Options{})
	testutil.Must(t, err)
	otime := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	root, unknown := &btrfs.OldRoot{Name: "r", OTime: otime}, &btrfs.OldRoot{Name: "r"}
	now, elsewhere := dir("/srv/app"), persist.Entry{Path: "/srv/app", Kind: persist.Dir, StoragePath: "/persist", Origin: &persist.Origin{Module: "impermanence"}}
	for _, tc := range []struct {
		name          string
		then          *persist.Set
		root          *btrfs.OldRoot
		e             persist.Entry
		ctime         time.Time
		calls         int
		mounted, know bool
	}{
		{"no declarations then", nil, root, now, otime, 0, false, false},
		{"another copy then", then, root, elsewhere, otime, 0, false, true},
		{"otime not known", then, unknown, now, otime, 0, true, true},
		{"changed in the mount phase", then, root, now, otime.Add(time.Minute), 1, true, true},
		{"written after the mounts", then, root, now, otime.Add(time.Hour), 1, false, true},
	} {
		calls := 0
		mounted, known := MountedThen(tc.then, tc.root, tc.e, "/srv/app/db", func() time.Time { calls++; return tc.ctime })
		if calls != tc.calls || mounted != tc.mounted || known != tc.know {
			t.Errorf("%s: ctime asked %d times, mounted %v, known %v; want %d, %v, %v", tc.name, calls, mounted, known, tc.calls, tc.mounted, tc.know)
		}
	}
}
