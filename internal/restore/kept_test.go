package restore

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/audit"
	"github.com/nix-drift/drift/internal/testutil"
)

// TestToLiveWarnsOfLossOnlyOnAWipedFilesystem: drift restore --to live of
// a path no declaration covers warned "not declared: declare it, or it is
// lost again at the next boot" also for a file on the /var/log subvolume,
// which the wipe keeps (field case: a log file restored from the VANISHED
// table survived the next wipe). The warning follows the model's
// classification of the live path (audit.Model.KeptAt): given for a path
// on the wiped root, not for one on a persistent mount; refused --to
// persist, the hint says where it is kept.
func TestToLiveWarnsOfLossOnlyOnAWipedFilesystem(t *testing.T) {
	dir := t.TempDir()
	root, old := filepath.Join(dir, "root"), filepath.Join(dir, "old")
	testutil.Tree(t, old, "f /var/log/beneath.log logged\nf /srv/x.txt x\n")
	testutil.Tree(t, root, "d /var/log\nd /srv\nd /nix/persist\n")
	mi := filepath.Join(dir, "mountinfo")
	testutil.WriteFile(t, mi, `22 1 0:31 /root / rw - btrfs /dev/vda2 rw,subvol=/root
27 22 0:31 /persist /nix/persist rw - btrfs /dev/vda2 rw,subvol=/persist
30 22 0:31 /log /var/log rw - btrfs /dev/vda2 rw,subvol=/log
`)
	decl := filepath.Join(dir, "p.json")
	testutil.WriteFile(t, decl, `{"persistentStoragePath": "/nix/persist", "directories": ["/var/lib/app"]}`)
	m, err := audit.Build(context.Background(), audit.Options{Root: root, Persist: []string{decl}, Mountinfo: mi, RootSubvol: "none", Ephemeral: []string{"/"},
		Need: audit.NeedFacts, From: old})
	testutil.Must(t, err)
	t.Cleanup(m.Close)
	for p, lost := range map[string]bool{"/var/log/beneath.log": false, "/srv/x.txt": true} {
		out, err := FromModel(context.Background(), m, Options{Path: p, To: ToLive})
		testutil.Must(t, err)
		warned := false
		for _, w := range out.Warnings {
			warned = warned || strings.Contains(w.Message, "lost again at the next boot")
		}
		if warned != lost {
			t.Errorf("%s: warned of loss %v, want %v: %+v", p, warned, lost, out.Warnings)
		}
		if _, err := os.Stat(filepath.Join(root, p)); err != nil {
			t.Errorf("%s not restored: %v", p, err)
		}
		_, err = FromModel(context.Background(), m, Options{Path: p, To: ToPersist})
		var h *HintError
		if !errors.As(err, &h) || strings.Contains(h.Hint, "lost again") == !lost {
			t.Errorf("%s --to persist: %v (hint %+v)", p, err, h)
		}
	}
}
