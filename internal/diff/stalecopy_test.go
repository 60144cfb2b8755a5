package diff

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/nix-drift/drift/internal/persist"
	"github.com/nix-drift/drift/internal/testutil"
)

// TestVanishedStaleCopy: a declared directory not mounted at the last
// boot, whose persistent copy held an older version of a file the boot
// changed on the root (check's declared-unbacked with other bytes, "the
// stale copy comes back in its place"): after the wipe the newer bytes are
// only in the old root, and what vanished lists the file (StaleCopy: its
// restore needs --force), in the lockstep walk and the walk with one
// lookup a path alike (a fresh-user test: VANISHED lacked about.html, and
// restore without --force said "already exists"). The copy's file with
// the same bytes holds the file: not vanished. One with other bytes
// changed later than the old root's, or at the same time, is listed too
// (NewerCopy: the boot showed it in place of the old root's bytes, which
// are only there; restore's rule, ReplacesCopy, puts them back only when
// told: --force --beneath-mount), when the old root was written after its
// boot's mounts; with no such evidence (the old root's otime unknown, and
// no declarations of that boot) neither is: data hidden beneath a mount
// looks the same, older or newer than the copy (a second tester's service
// wrote beneath its bind mount before it was made; the restore --force
// printed for it replaced the copy the system had used all along).
func TestVanishedStaleCopy(t *testing.T) {
	prev := prevTree(t, `
f /srv/www/about.html newer bytes
f /srv/www/index.html same
f /srv/www/later.html older in the old root
f /srv/www/tie.html old root's
f /srv/www/gone.html only in the old root
`)
	t0 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	times := map[string][2]time.Time{ // old root's, copy's
		"about.html": {t0.Add(time.Hour), t0},
		"index.html": {t0.Add(time.Hour), t0},
		"later.html": {t0, t0.Add(time.Hour)},
		"tie.html":   {t0, t0},
	}
	for name, ts := range times {
		testutil.Must(t, os.Chtimes(filepath.Join(prev.Dir, "srv/www", name), ts[0], ts[0]))
	}
	for _, tc := range []struct {
		otime time.Time
		newer bool
	}{{time.Now().Add(-time.Hour), true}, {time.Time{}, false}} {
		for _, lockstep := range []bool{true, false} {
			func() {
				old := lockstepHistory
				lockstepHistory = lockstep
				defer func() { lockstepHistory = old }()
				a := check(t, "d /srv\n", btrfsSystem, []persist.Entry{dir("/srv")}, func(cfg *Config) {
					root := *prev
					root.OTime = tc.otime
					cfg.PreviousRoot = &root
					writeFiles(t, cfg.Root, map[string]string{
						"/nix/persist/srv/www/about.html": "older bytes",
						"/nix/persist/srv/www/index.html": "same",
						"/nix/persist/srv/www/later.html": "newer in the copy",
						"/nix/persist/srv/www/tie.html":   "the copy's",
					})
					for name, ts := range times {
						testutil.Must(t, os.Chtimes(filepath.Join(cfg.Root, "nix/persist/srv/www", name), ts[1], ts[1]))
					}
				})
				var got []string
				for _, v := range a.Vanished {
					got = append(got, fmt.Sprintf("%s %s stale=%v newer=%v", v.Path, v.Decl, v.StaleCopy, v.NewerCopy))
				}
				want := []string{"/srv/www/gone.html /srv stale=false newer=false"}
				if tc.newer {
					want = []string{"/srv/www/about.html /srv stale=true newer=false", "/srv/www/gone.html /srv stale=false newer=false",
						"/srv/www/later.html /srv stale=false newer=true", "/srv/www/tie.html /srv stale=false newer=true"}
				}
				if !slices.Equal(got, want) {
					t.Errorf("otime %v, lockstep %v: vanished %q, want %q", tc.otime, lockstep, got, want)
				}
			}()
		}
	}
}
