package report

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/mounts"
	"github.com/nix-drift/drift/internal/persist"
	"github.com/nix-drift/drift/internal/testutil"
)

// TestWhySaysWhichWipedFilesystem: the WHY of a file hidden beneath a
// mount point said "on the root subvolume under a mount point", and of one
// where the next boot mounts another filesystem "on the root subvolume
// where …", whatever it lay on: a tmpfs root has no subvolume, and a file
// beneath a mount on another wiped filesystem (a tmpfs /home) is not on
// the root at all. Each now names what it lies on.
func TestWhySaysWhichWipedFilesystem(t *testing.T) {
	const nix = "27 22 0:31 /nix /nix rw - btrfs /dev/vda2 rw,subvol=/nix\n28 27 0:31 /persist /nix/persist rw - btrfs /dev/vda2 rw,subvol=/persist\n"
	for _, tc := range []struct {
		name, mountinfo, beneath, want string
	}{
		{"btrfs root", "22 1 0:31 /root / rw - btrfs /dev/vda2 rw,subvol=/root\n" + nix + "29 22 0:31 /log /var/log rw - btrfs /dev/vda2 rw,subvol=/log\n",
			"/var/log/beneath.log", "on the root subvolume"},
		{"tmpfs root", "22 1 0:40 / / rw - tmpfs none rw\n" + nix + "29 22 0:31 /log /var/log rw - btrfs /dev/vda2 rw,subvol=/log\n",
			"/var/log/beneath.log", "on the wiped root (tmpfs)"},
		{"tmpfs /home", "22 1 0:31 /root / rw - btrfs /dev/vda2 rw,subvol=/root\n" + nix + "30 22 0:41 / /home rw - tmpfs none rw\n31 30 0:31 /data /home/alice/data rw - btrfs /dev/vda2 rw,subvol=/data\n",
			"/home/alice/data/beneath.txt", "on the wiped filesystem at /home"},
	} {
		root := t.TempDir()
		testutil.Tree(t, root, "d /run\nf /run/leftover x\nd "+filepath.Dir(tc.beneath)+"\n")
		views := map[string]string{}
		tb, err := mounts.Parse(strings.NewReader(tc.mountinfo), "mountinfo")
		testutil.Must(t, err)
		cfg := diff.Config{Root: root, Mounts: tb, Decls: &persist.Set{Entries: []persist.Entry{{Kind: persist.Dir, StoragePath: "/nix/persist", Path: "/srv"}}},
			Under: func(mp string) (string, func(), error) {
				if views[mp] == "" {
					views[mp] = t.TempDir()
					if strings.HasPrefix(tc.beneath, mp+"/") || mp == "/" {
						testutil.Tree(t, views[mp], "f "+strings.TrimPrefix(tc.beneath, strings.TrimSuffix(mp, "/"))+" hidden\n")
					}
				}
				return views[mp], func() {}, nil
			}}
		if tc.name == "tmpfs /home" {
			cfg.Ephemeral = []string{"/home"}
		}
		a, err := diff.Check(context.Background(), cfg)
		testutil.Must(t, err)
		whys := map[string]string{}
		for _, it := range a.Lost {
			whys[it.Path] = Why(a, it)
		}
		if got := whys[tc.beneath]; !strings.HasPrefix(got, tc.want+" under a mount point") {
			t.Errorf("%s: %s: WHY %q, want it to start %q (lost: %v)", tc.name, tc.beneath, got, tc.want+" under a mount point", whys)
		}
		wantRun := "on the root subvolume where the next boot mounts another filesystem"
		if tc.name == "tmpfs root" {
			wantRun = "on the wiped root (tmpfs) where the next boot mounts another filesystem"
		}
		if got := whys["/run/leftover"]; !strings.HasPrefix(got, wantRun) || !strings.HasSuffix(got, "deleted with the root") {
			t.Errorf("%s: /run/leftover: WHY %q, want it to start %q", tc.name, got, wantRun)
		}
	}
}
