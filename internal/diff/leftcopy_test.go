package diff

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nix-drift/drift/internal/partial"
	"github.com/nix-drift/drift/internal/persist"
)

// TestLeftCopies: a partial copy a killed drift restore --to live left on
// the wiped root (its process gone) is not lost data: it is a LeftCopy,
// out of Lost and not walked below; one whose process still runs (a copy
// in progress) is classified as any path. A partial copy in the previous
// root never vanished, whatever its pid (a pid of that boot). Before, the
// left copy was an unpersisted path drift suggest proposed to persist, and
// after the reboot a vanished path drift offered to restore (a fresh
// user's finding: /srv/.bulk2.drift-restore-4082-… both times).
func TestLeftCopies(t *testing.T) {
	left := partial.Name("bulk2", partial.Restore, 1<<22+7, "c6779fd270fb")
	running := partial.Name("app", partial.Restore, os.Getpid(), "0123456789ab")
	old := partial.Name("bulk", partial.Adopt, 1, "0123456789ab") // pid 1 runs now
	live := fmt.Sprintf(`
f /srv/%[1]s/f0 b 0
f /srv/%[1]s/f1 b 1
f /srv/%[2]s/f x
f /srv/keep.txt k
`, left, running)
	prev := prevTree(t, fmt.Sprintf(`
f /srv/keep.txt k
f /srv/gone.txt bye
f /srv/%s/f x
`, old))
	now := prev.Time.Add(time.Hour)
	for _, lockstep := range []bool{true, false} {
		saved := lockstepHistory
		lockstepHistory = lockstep
		a := check(t, live, btrfsSystem, []persist.Entry{dir("/var/lib/x")}, func(cfg *Config) { cfg.PreviousRoot = prev; cfg.Now = now })
		lockstepHistory = saved
		if len(a.LeftCopies) != 1 || a.LeftCopies[0] != (LeftCopy{Path: "/srv/" + left, Wiped: true}) {
			t.Errorf("lockstep %v: LeftCopies = %+v, want /srv/%s on the wiped root", lockstep, a.LeftCopies, left)
		}
		inProgress := false
		for _, it := range a.Lost {
			if strings.Contains(it.Path, left) {
				t.Errorf("lockstep %v: %s lost", lockstep, it.Path)
			}
			inProgress = inProgress || it.Path == "/srv/"+running
		}
		if !inProgress {
			t.Errorf("lockstep %v: the copy in progress /srv/%s is not classified", lockstep, running)
		}
		var vanished []string
		for _, v := range a.Vanished {
			vanished = append(vanished, v.Path)
		}
		if strings.Join(vanished, " ") != "/srv/gone.txt" {
			t.Errorf("lockstep %v: vanished %q, want /srv/gone.txt alone", lockstep, vanished)
		}
	}
}
