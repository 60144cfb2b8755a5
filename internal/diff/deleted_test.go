package diff

import (
	"slices"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/btrfs"
	"github.com/nix-drift/drift/internal/mounts"
	"github.com/nix-drift/drift/internal/persist"
)

func machineID() persist.Entry {
	e := persist.Entry{Kind: persist.File, StoragePath: "/nix/persist", Path: "/etc/machine-id"}
	e.SetSourcePath("/nix/persist/etc/machine-id")
	return e
}

func warnedAll(a *Audit, parts ...string) bool {
	return slices.ContainsFunc(Messages(a.Warnings), func(w string) bool {
		for _, p := range parts {
			if !strings.Contains(w, p) {
				return false
			}
		}
		return true
	})
}

// TestDeletedMountSourceIsLost guards mountinfo's "//deleted" root marker:
// a mount whose source was unlinked since the mount shows a file no path
// names any more, lost at the next boot with what is written to it until
// then. Field case: a fresh user's drift restore --force replaced
// /nix/persist/etc/machine-id by a rename while it was bind-mounted at
// /etc/machine-id; the mount then showed the replaced copy under
// restore's temporary name, deleted, and check called it "unmounted",
// saying its data stays in persistent storage. It is declared and not
// backed: counted lost, compared with the declared copy the next boot
// mounts there, and the warning says it is lost.
func TestDeletedMountSourceIsLost(t *testing.T) {
	for _, root := range []string{"/persist/etc/.machine-id.drift-restore-31447-abc0c4bdbaa5", "/persist/etc/machine-id"} {
		mi := btrfsSystem + `40 22 0:31 ` + root + `//deleted /etc/machine-id rw - btrfs /dev/vda2 rw`
		a := check(t, "f /etc/machine-id running\nf /nix/persist/etc/machine-id restored", mi, []persist.Entry{machineID()}, nil)
		wantCats(t, a, map[string]string{"/etc/machine-id": "declared-unbacked"})
		if got := a.Totals[DeclaredUnbacked].Count; got != 1 {
			t.Errorf("%s: declared-unbacked count %d, want 1", root, got)
		}
		if len(a.Lost) == 1 && a.Lost[0].Copy != CopyDiffers {
			t.Errorf("%s: copy state %v, want CopyDiffers (the restored copy comes back)", root, a.Lost[0].Copy)
		}
		src := "/nix" + root
		if !warnedAll(a, "/etc/machine-id is mounted from "+src+" (mount 40), deleted since it was mounted", "lost at the next boot", "declared copy /nix/persist/etc/machine-id") {
			t.Errorf("%s: no deleted-source warning: %q", root, a.Warnings)
		}
		if warnedAll(a, "stays in persistent storage") || warnedAll(a, "but it is declared") {
			t.Errorf("%s: a warning says the data stays: %q", root, a.Warnings)
		}
		if d := a.DeletedAt("/etc/machine-id"); d == nil || d.Source != src {
			t.Errorf("%s: DeletedAt = %+v, want the mount with source %s", root, d, src)
		}
	}
}

// TestDeletedMountSourceIsTheStorageMount: where a deleted mount's root
// lay is named through the mount whose root holds it most closely (the
// persistent storage subvolume at /nix/persist), not through a mount of
// the whole filesystem that happens to give a shorter path (the top level
// at /t): one rule with audit's bind mount sources (mounts.Sources), which
// named /nix/persist while this said /t/persist.
func TestDeletedMountSourceIsTheStorageMount(t *testing.T) {
	mi := btrfsSystem + `31 22 0:31 / /t rw - btrfs /dev/vda2 rw,subvolid=5
40 22 0:31 /persist/etc/machine-id//deleted /etc/machine-id rw - btrfs /dev/vda2 rw`
	a := check(t, "f /etc/machine-id running\nf /nix/persist/etc/machine-id restored", mi, []persist.Entry{machineID()}, nil)
	if d := a.DeletedAt("/etc/machine-id"); d == nil || d.Source != "/nix/persist/etc/machine-id" {
		t.Errorf("DeletedAt = %+v, want the mount with source /nix/persist/etc/machine-id", d)
	}
	if !warnedAll(a, "/etc/machine-id is mounted from /nix/persist/etc/machine-id (mount 40)") {
		t.Errorf("warning does not name /nix/persist/etc/machine-id: %q", a.Warnings)
	}
}

// TestDeletedNear: the deleted mount at or above a path is the nearest
// (DeletedAt's), else the first below it; nil when none is at, above or
// below.
func TestDeletedNear(t *testing.T) {
	ds := []DeletedMount{
		{Mount: mounts.Mount{ID: 1, MountPoint: "/var/lib/b"}},
		{Mount: mounts.Mount{ID: 2, MountPoint: "/var/lib/a"}},
		{Mount: mounts.Mount{ID: 3, MountPoint: "/var"}},
		{Mount: mounts.Mount{ID: 4, MountPoint: "/var/lib/a/x"}},
	}
	for p, want := range map[string]int{"/var/lib/a/x/y": 4, "/var/lib/a/z": 2, "/var/lib": 3, "/srv": 0, "/": 1, "/var/lib/ab": 3} {
		got := 0
		if d := DeletedNear(ds, p); d != nil {
			got = d.Mount.ID
		}
		if got != want {
			t.Errorf("DeletedNear(%s) = mount %d, want %d", p, got, want)
		}
	}
	if d := DeletedNear(ds[:2], "/var/lib"); d == nil || d.Mount.ID != 1 {
		t.Errorf("DeletedNear(/var/lib) below only = %+v, want mount 1 (the first)", d)
	}
}

// TestDeletedMountSameBytesIsCopied: a deleted source whose bytes the
// declared copy holds loses nothing (the next boot shows the same).
func TestDeletedMountSameBytesIsCopied(t *testing.T) {
	mi := btrfsSystem + `40 22 0:31 /persist/etc/.machine-id.tmp//deleted /etc/machine-id rw - btrfs /dev/vda2 rw`
	a := check(t, "f /etc/machine-id same\nf /nix/persist/etc/machine-id same", mi, []persist.Entry{machineID()}, nil)
	wantCats(t, a, map[string]string{})
	if a.Totals[Copied].Count != 1 {
		t.Errorf("copied %v, want 1", a.Totals[Copied])
	}
}

// TestDeletedMountUndeclared: an undeclared mount of a deleted directory
// (on the root or inside the persistent /home) is not declared and lost,
// never Unmounted.
func TestDeletedMountUndeclared(t *testing.T) {
	mi := btrfsSystem + `30 22 0:31 /home /home rw - btrfs /dev/vda2 rw,subvol=/home
40 22 0:31 /persist/opt/legacy//deleted /opt/legacy rw - btrfs /dev/vda2 rw
41 30 0:31 /persist/home/alice/old//deleted /home/alice/old rw - btrfs /dev/vda2 rw
`
	a := check(t, "d /opt/legacy\nd /home/alice/old\nf /home/alice/notes n", mi, []persist.Entry{dir("/var/lib/nixos")}, nil)
	// /opt holds only the mount point, which no boot makes again.
	wantCats(t, a, map[string]string{"/opt": "unpersisted", "/opt/legacy": "unpersisted", "/home/alice/old": "unpersisted"})
	if !warnedAll(a, "/home/alice/old is mounted from /nix/persist/home/alice/old (mount 41), deleted since it was mounted") {
		t.Errorf("no warning for /home/alice/old: %q", a.Warnings)
	}
}

// TestUndeclaredBindOnAnyFilesystem guards that an undeclared bind mount
// from persistent storage is one kind wherever its mount point lies: on
// the root (/opt/legacy) or on another persistent filesystem (a /home
// subvolume). The next boot mounts neither, and what each shows is hidden
// from view then (it stays in persistent storage). Field case: with its
// declaration removed and the mounts still in place, alice's Documents
// under /home went unreported while the same mount at /opt/legacy was
// counted; after the reboot the data existed only in /nix/persist.
func TestUndeclaredBindOnAnyFilesystem(t *testing.T) {
	mi := btrfsSystem + `30 22 0:31 /home /home rw - btrfs /dev/vda2 rw,subvol=/home
40 22 0:31 /persist/opt/legacy /opt/legacy rw - btrfs /dev/vda2 rw
41 30 0:31 /persist/home/alice/Documents /home/alice/Documents rw - btrfs /dev/vda2 rw
42 30 0:31 /persist/home/alice/.bash_history /home/alice/.bash_history rw - btrfs /dev/vda2 rw
`
	spec := "f /opt/legacy/a x\nf /home/alice/Documents/thesis.tex t\nf /home/alice/.bash_history h\nf /home/alice/notes n\nf /home/bob/x y"
	// With a previous root too: Check's one walk (the lockstep walk of
	// the root) reaches them as the plain walk does.
	for _, prev := range []*btrfs.OldRoot{nil, previous(t, map[string]string{"/opt/legacy/a": "x", "/etc/x": "y"})} {
		a := check(t, spec, mi, []persist.Entry{dir("/var/lib/nixos")}, func(c *Config) { c.PreviousRoot = prev })
		wantCats(t, a, map[string]string{
			"/opt":        "unpersisted", // only the mount point, which no boot makes again
			"/opt/legacy": "unmounted", "/opt/legacy/a": "unmounted",
			"/home/alice/Documents": "unmounted", "/home/alice/Documents/thesis.tex": "unmounted",
			"/home/alice/.bash_history": "unmounted",
		})
		if got := a.Totals[Unmounted].Count; got != 5 {
			t.Errorf("previous root %v: unmounted count %d, want 5", prev != nil, got)
		}
	}
}
