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

// TestRunNeverReplacesWhatALiveMountShows guards Request.ShownAt, the rule
// drift restore and drift adopt (Merge's replacements are Runs) share: a
// destination a live mount shows at another place is never replaced, with
// or without Force, in a dry run too, and nothing is written; the hint
// names the steps for the command. A destination no mount shows is
// replaced as before. (Field case: restore --force renamed over the bind
// mount's source of /etc/machine-id, which then showed a deleted file.)
func TestRunNeverReplacesWhatALiveMountShows(t *testing.T) {
	old, live := system(t, Dir{Entries: map[string]node{"key": File{Content: "old root"}}})
	dest := filepath.Join(live, "nix/persist/etc/ssh")
	testutil.Must(t, os.MkdirAll(dest, 0o755))
	testutil.Must(t, os.WriteFile(filepath.Join(dest, "key"), []byte("running"), 0o600))
	shown := func(p string) []audit.Shown {
		if p == "/nix/persist/etc/ssh" {
			return []audit.Shown{{Source: "/nix/persist/etc/ssh/key", MountPoint: "/etc/ssh/key", ID: 40}}
		}
		return nil
	}
	for _, cmd := range []string{"restore", "adopt"} {
		for _, req := range []Request{{Force: true}, {Force: true, DryRun: true}, {}} {
			req.From, req.Path, req.Root, req.Dest, req.ShownAt, req.Command = old, "/etc/ssh", live, "/nix/persist/etc/ssh", shown, cmd
			_, err := Run(context.Background(), req)
			var se *ShownError
			var he *HintError
			if !errors.As(err, &se) || !errors.As(err, &he) {
				t.Fatalf("%s %+v: %v, want a *ShownError with a hint", cmd, req, err)
			}
			if !strings.Contains(err.Error(), "bind-mounted at "+live+"/etc/ssh/key (mount 40)") ||
				!strings.Contains(he.Hint, "umount "+live+"/etc/ssh/key") || !strings.Contains(he.Hint, "run drift "+cmd+" again") {
				t.Errorf("%s: %v\nhint: %s", cmd, err, he.Hint)
			}
			if got := snapshot(t, dest); len(got) != 2 || got["key"].Content != "running" {
				t.Errorf("%s (force %v, dry run %v) wrote: %+v", cmd, req.Force, req.DryRun, got)
			}
			noTemp(t, filepath.Dir(dest))
		}
	}
	res, err := Run(context.Background(), Request{From: old, Path: "/etc/ssh", Root: live, Dest: "/nix/persist/etc/ssh", Force: true,
		ShownAt: func(string) []audit.Shown { return nil }})
	if err != nil || !res.Replaced {
		t.Errorf("shown nowhere: %v, replaced %v", err, res != nil && res.Replaced)
	}
}
