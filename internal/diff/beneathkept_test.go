package diff

import (
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/persist"
	"github.com/nix-drift/drift/internal/testutil"
)

// After a boot, what was written to a declared home directory on a /home
// subvolume before its declaration was mounted lies beneath the bind mount
// of its copy (field case: a fresh user's .mozilla, written before
// impermanence's mount of /nix/persist/home/alice/.mozilla; check said
// nothing and adopt found nothing to adopt). It is hidden from view, not
// deleted (/home survives the wipe): covered, read beneath the mounts of
// /home, compared with what the mount shows. The same bytes in the copy
// are copied, not hidden data; other bytes are covered with the copy named
// (the copy is the running system's data: no adopt, KeepHidden); what the
// copy lacks is covered, kept by drift adopt of the declared directory.
// A mount point on a persistent filesystem that no declaration covers
// (/nix/store over itself) is not looked beneath.
func TestHiddenBeneathDeclaredMountOnPersistentFilesystem(t *testing.T) {
	underHome, underNix := t.TempDir(), t.TempDir()
	testutil.Tree(t, underHome, "f /alice/.mozilla/same.txt same\nf /alice/.mozilla/other.txt old\nf /alice/.mozilla/lacking/x data")
	testutil.Tree(t, underNix, "f /store/abc-pkg/bin/x binary")
	mi := btrfsSystem + `30 22 0:31 /home /home rw - btrfs /dev/vda2 rw,subvol=/home
31 30 0:31 /persist/home/alice/.mozilla /home/alice/.mozilla rw - btrfs /dev/vda2 rw,subvol=/persist
32 27 0:31 /nix/store /nix/store ro - btrfs /dev/vda2 rw,subvol=/nix
`
	spec := `
f /home/alice/.mozilla/same.txt same
f /home/alice/.mozilla/other.txt new
f /nix/persist/home/alice/.mozilla/same.txt same
f /nix/persist/home/alice/.mozilla/other.txt new
d /nix/store/abc-pkg/bin
`
	var looked []string
	a := check(t, spec, mi, []persist.Entry{dir("/home/alice/.mozilla")}, func(c *Config) {
		c.Under = func(mp string) (string, func(), error) {
			looked = append(looked, mp)
			switch mp {
			case "/home":
				return underHome, func() {}, nil
			case "/nix":
				return underNix, func() {}, nil
			}
			return t.TempDir(), func() {}, nil
		}
	})
	for _, mp := range looked {
		if mp == "/nix" {
			t.Errorf("looked beneath /nix, where no declared mount point lies")
		}
	}
	wantCats(t, a, map[string]string{
		"/home/alice/.mozilla/other.txt": "covered",
		"/home/alice/.mozilla/lacking":   "covered",
		"/home/alice/.mozilla/lacking/x": "covered",
	})
	other := itemAt(a, "/home/alice/.mozilla/other.txt")
	if other == nil {
		t.Fatalf("other.txt beneath the mount not reported: %v", a.Lost)
	}
	if other.Copy != CopyDiffers || other.Mount != 31 || other.Visible() {
		t.Errorf("other.txt: Copy %d Mount %d visible %v, want the copy mount 31 shows differing, read beneath", other.Copy, other.Mount, other.Visible())
	}
	if k, _ := a.Keep(other); k != KeepHidden {
		t.Errorf("other.txt: keep %v, want hidden (the copy is the running system's data)", k)
	}
	lacking := itemAt(a, "/home/alice/.mozilla/lacking/x")
	if k, what := a.Keep(lacking); k != KeepAdopt || what != "/home/alice/.mozilla" {
		t.Errorf("lacking/x: keep %v %q, want drift adopt of /home/alice/.mozilla", k, what)
	}
	if got := a.Totals[Copied]; got.Count != 1 {
		t.Errorf("copied %+v, want same.txt", got)
	}
	if got := a.Totals[Covered]; got.Count != 3 {
		t.Errorf("covered %+v, want 3 paths", got)
	}
	found := false
	for _, w := range a.Warnings {
		if strings.HasPrefix(w.Message, "covered: 3 paths lie on /home (mount 30) beneath the mount at /home/alice/.mozilla (mount 31)") {
			found = true
		}
	}
	if !found {
		t.Errorf("no warning naming what lies beneath the mount: %q", a.Warnings)
	}
}

// The same for a declared file (a tester's case): /home/alice/.bash_history
// written on the /home subvolume before impermanence bind-mounted its
// empty copy over it is hidden beneath the file mount, and check said
// nothing. It is covered now, compared with the copy the mount shows (an
// empty file: it holds other content); an empty file beneath a file mount
// is only the mount point.
func TestHiddenBeneathDeclaredFileMount(t *testing.T) {
	underHome := t.TempDir()
	testutil.Tree(t, underHome, "f /alice/.bash_history ls -la\nf /alice/.empty")
	mi := btrfsSystem + `30 22 0:31 /home /home rw - btrfs /dev/vda2 rw,subvol=/home
31 30 0:31 /persist/home/alice/.bash_history /home/alice/.bash_history rw - btrfs /dev/vda2 rw,subvol=/persist
33 30 0:31 /persist/home/alice/.empty /home/alice/.empty rw - btrfs /dev/vda2 rw,subvol=/persist
`
	spec := `
f /home/alice/.bash_history
f /home/alice/.empty
f /nix/persist/home/alice/.bash_history
f /nix/persist/home/alice/.empty
`
	a := check(t, spec, mi, []persist.Entry{file("/home/alice/.bash_history"), file("/home/alice/.empty")}, func(c *Config) {
		c.Under = func(mp string) (string, func(), error) {
			if mp == "/home" {
				return underHome, func() {}, nil
			}
			return t.TempDir(), func() {}, nil
		}
	})
	h := itemAt(a, "/home/alice/.bash_history")
	if h == nil || h.Category != Covered || h.Size != int64(len("ls -la")) || h.Visible() {
		t.Fatalf(".bash_history beneath its file mount: %+v; want covered, 6 bytes, read beneath (lost %v)", h, a.Lost)
	}
	if h.Copy != CopyDiffers {
		t.Errorf(".bash_history: copy %d, want differing (the copy the mount shows is empty)", h.Copy)
	}
	if it := itemAt(a, "/home/alice/.empty"); it != nil {
		t.Errorf(".empty, only the mount point beneath: %+v", it)
	}
	found := false
	for _, w := range a.Warnings {
		found = found || strings.HasPrefix(w.Message, "covered: 1 path lies on /home (mount 30) beneath the mount at /home/alice/.bash_history (mount 31)")
	}
	if !found {
		t.Errorf("no warning naming what lies beneath the file mount: %q", a.Warnings)
	}
}
