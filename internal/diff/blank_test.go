package diff

import (
	"testing"

	"github.com/nix-drift/drift/internal/persist"
	"github.com/nix-drift/drift/internal/testutil"
)

// TestBlankSnapshotComesBack: with a blank snapshot (drift wipe --blank:
// the fresh root is a snapshot of it), what the blank holds with the same
// type (and bytes, target) comes back at the next boot and is not lost (a
// fresh-user test: files of the blank were reported lost). A file whose
// bytes differ from the blank's is lost (the blank's comes back instead),
// and so is what the blank does not hold.
func TestBlankSnapshotComesBack(t *testing.T) {
	blank := t.TempDir()
	testutil.Tree(t, blank, "d /srv/keep\nf /srv/keep/same abc\nf /srv/keep/other old\nf /srv/keep/empty \nl /srv/keep/link -> /x\nl /srv/keep/link2 -> /y\n")
	spec := "d /srv/keep\nf /srv/keep/same abc\nf /srv/keep/other new\nf /srv/keep/empty \nl /srv/keep/link -> /x\nl /srv/keep/link2 -> /z\nf /srv/keep/new n\n"
	a := check(t, spec, btrfsSystem, []persist.Entry{dir("/var/lib/svc")}, func(c *Config) {
		c.Blank, c.BlankName = blank, "root-blank"
	})
	wantCats(t, a, map[string]string{
		"/srv/keep/other": "unpersisted",
		"/srv/keep/link2": "unpersisted",
		"/srv/keep/new":   "unpersisted",
	})
}
