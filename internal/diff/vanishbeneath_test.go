package diff

import (
	"fmt"
	"slices"
	"testing"

	"github.com/nix-drift/drift/internal/persist"
)

// TestVanishedBeneathAMount: what lay on the root beneath the /var/log
// mount at the last boot (check's shadowed: invisible, lost at the next
// boot) is gone after the wipe, held only by the old root. A tester's
// case: /var/log/beneath.log, predicted lost, got no VANISHED row on the
// live system after the wipe (the walk left every mount point out). It is
// listed now, undeclared (restored --to live); what the mount shows now
// at the same path is not vanished, nor is the mount point itself. Only
// with the live mount table (Config.Under: check looks under the mounts,
// and a lookup crosses them); with a given one (--mountinfo) nothing
// beneath a mount point is listed, as before (TestVanished).
func TestVanishedBeneathAMount(t *testing.T) {
	prev := prevTree(t, `
f /var/log/beneath.log written before the mount
f /var/log/journal/x also in the mount now
d /proc
`)
	for _, lockstep := range []bool{true, false} {
		func() {
			old := lockstepHistory
			lockstepHistory = lockstep
			defer func() { lockstepHistory = old }()
			view := t.TempDir() // the live system's root beneath its mounts: nothing there now
			a := check(t, "f /var/log/journal/x in the mount\nd /proc\n", btrfsSystem, []persist.Entry{dir("/srv")}, func(cfg *Config) {
				cfg.PreviousRoot = prev
				cfg.Under = func(string) (string, func(), error) { return view, func() {}, nil }
			})
			var got []string
			for _, v := range a.Vanished {
				got = append(got, fmt.Sprintf("%s decl=%q", v.Path, v.Decl))
			}
			if want := []string{`/var/log/beneath.log decl=""`}; !slices.Equal(got, want) {
				t.Errorf("lockstep %v: vanished %q, want %q", lockstep, got, want)
			}
		}()
	}
}
