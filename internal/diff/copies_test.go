package diff

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nix-drift/drift/internal/persist"
	"github.com/nix-drift/drift/internal/testutil"
)

func itemAt(a *Audit, p string) *Item {
	for _, it := range a.Lost {
		if it.Path == p {
			return it
		}
	}
	return nil
}

func hasWarning(a *Audit, prefix, part string) bool {
	return slices.ContainsFunc(a.Warnings, func(w Warning) bool { return strings.HasPrefix(w.Message, prefix) && strings.Contains(w.Message, part) })
}

// A half-migrated declared directory (not mounted, some of its files
// already copied into /nix/persist): per path, what the persistent copy
// holds the same (type; bytes of a regular file; a symlink's target) is
// copied, not lost; other bytes are lost with the stale copy named (Copy);
// what the copy lacks is lost; a directory present in the copy is copied
// (the mount shows it), its contents compared one by one.
func TestHalfMigratedDirectoryLosesOnlyWhatItsCopyLacks(t *testing.T) {
	spec := `
f /srv/app/same.txt hello
f /srv/app/other.txt new bytes
f /srv/app/missing.txt only here
f /srv/app/sub/x x
f /srv/app/sub/y y-live
f /srv/app/nosub/z z
l /srv/app/link -> target
l /srv/app/link2 -> here
f /nix/persist/srv/app/same.txt hello
f /nix/persist/srv/app/other.txt old bytes
f /nix/persist/srv/app/sub/x x
f /nix/persist/srv/app/nosub not a directory
l /nix/persist/srv/app/link -> target
l /nix/persist/srv/app/link2 -> there
`
	a := check(t, spec, btrfsSystem, []persist.Entry{dir("/srv/app")}, nil)
	wantCats(t, a, map[string]string{
		"/srv/app/other.txt":   "declared-unbacked",
		"/srv/app/missing.txt": "declared-unbacked",
		"/srv/app/sub/y":       "declared-unbacked",
		"/srv/app/nosub":       "declared-unbacked",
		"/srv/app/nosub/z":     "declared-unbacked",
		"/srv/app/link2":       "declared-unbacked",
	})
	for p, want := range map[string]CopyState{
		"/srv/app/other.txt": CopyDiffers, "/srv/app/missing.txt": CopyMissing, "/srv/app/sub/y": CopyMissing,
		"/srv/app/nosub": CopyDiffers, "/srv/app/nosub/z": CopyMissing, "/srv/app/link2": CopyDiffers,
	} {
		if it := itemAt(a, p); it == nil || it.Copy != want {
			t.Errorf("%s: %+v, want Copy %d", p, it, want)
		}
	}
	// same.txt (5 bytes), sub, sub/x (1 byte), link.
	if got := a.Totals[Copied]; got != (Total{Count: 4, Bytes: 6}) {
		t.Errorf("copied %+v, want 4 entries, 6 bytes", got)
	}
	if CopyOf(&a.Decls.Entries[0], "/srv/app/other.txt") != "/nix/persist/srv/app/other.txt" {
		t.Errorf("CopyOf = %q", CopyOf(&a.Decls.Entries[0], "/srv/app/other.txt"))
	}
	if !hasWarning(a, "declared-unbacked: /srv/app ", "not mounted") {
		t.Errorf("no warning about the unmounted directory: %q", a.Warnings)
	}
}

// A declared file that is not mounted gets the same warning as a declared
// directory (field case C02: a file in a sub-directory of a home that is
// not bind-mounted), and is lost with its stale copy named when the copy
// has other bytes; an identical copy makes it copied.
func TestDeclaredFileNotMountedWarnsAndComparesItsCopy(t *testing.T) {
	spec := `
f /home/alice/.zsh/history-extra 700 bytes of history, newer
f /home/alice/topfile same
f /nix/persist/home/alice/.zsh/history-extra 120, older
f /nix/persist/home/alice/topfile same
`
	decls := []persist.Entry{file("/home/alice/.zsh/history-extra"), file("/home/alice/topfile")}
	a := check(t, spec, btrfsSystem, decls, nil)
	wantCats(t, a, map[string]string{"/home/alice/.zsh/history-extra": "declared-unbacked"})
	if it := itemAt(a, "/home/alice/.zsh/history-extra"); it == nil || it.Copy != CopyDiffers {
		t.Errorf("history-extra: %+v, want the stale copy", it)
	}
	if got := a.Totals[Copied]; got.Count != 1 {
		t.Errorf("copied %+v, want topfile", got)
	}
	if p := "/home/alice/.zsh/history-extra"; !hasWarning(a, "declared-unbacked: "+p+" ", "not mounted from /nix/persist"+p) {
		t.Errorf("no warning for the declared file %s: %q", p, a.Warnings)
	}
	// topfile's copy is the same: not mounted, but nothing is lost.
	if p := "/home/alice/topfile"; !hasWarning(a, "not mounted: "+p+" ", "nothing is lost") || hasWarning(a, "declared-unbacked: "+p, "") {
		t.Errorf("warning for the copied file %s: %q", p, a.Warnings)
	}
}

// The warning about a declared path that is not mounted is raised after the
// copies comparison and agrees with the final categories (the tester's
// /var/lib/bigsvc: everything under it copied, yet "declared-unbacked …
// lost" next to a summary of 0 declared-unbacked): it counts what is lost
// under the path, or says that the copy holds it all.
func TestUnmountedWarningAgreesWithCopies(t *testing.T) {
	spec := `
f /var/lib/bigsvc/a.db aaaa
f /var/lib/bigsvc/sub/b.db bb
f /nix/persist/var/lib/bigsvc/a.db aaaa
f /nix/persist/var/lib/bigsvc/sub/b.db bb
f /srv/half/same same
f /srv/half/new 12345
f /nix/persist/srv/half/same same
`
	a := check(t, spec, btrfsSystem, []persist.Entry{dir("/var/lib/bigsvc"), dir("/srv/half")}, nil)
	if n := a.Totals[DeclaredUnbacked].Count; n != 1 {
		t.Errorf("declared-unbacked %d, want 1 (/srv/half/new)", n)
	}
	if hasWarning(a, "declared-unbacked: /var/lib/bigsvc ", "") {
		t.Errorf("declared-unbacked warning for a fully copied directory: %q", a.Warnings)
	}
	if !hasWarning(a, "not mounted: /var/lib/bigsvc ", "3 paths") || !hasWarning(a, "not mounted: /var/lib/bigsvc ", "nothing is lost") {
		t.Errorf("no nothing-lost warning for /var/lib/bigsvc: %q", a.Warnings)
	}
	if !hasWarning(a, "declared-unbacked: /srv/half ", "lost at the next boot (1 path, 5 B; 1 path is already the same") {
		t.Errorf("no count of what is lost under /srv/half: %q", a.Warnings)
	}
}

// A persistent storage path that is itself on the ephemeral root holds no
// copy that survives: everything inside the declaration stays lost.
func TestCopyOnEphemeralStorageIsNoCopy(t *testing.T) {
	spec := `
f /srv/app/same.txt hello
f /nix/persist/srv/app/same.txt hello
`
	onlyRoot := "22 1 0:31 /root / rw shared:1 - btrfs /dev/vda2 rw,subvol=/root\n"
	a := check(t, spec, onlyRoot, []persist.Entry{dir("/srv/app")}, nil)
	if it := itemAt(a, "/srv/app/same.txt"); it == nil || it.Category != DeclaredUnbacked {
		t.Errorf("same.txt: %+v, want declared-unbacked (its copy is wiped too)", it)
	}
	if a.Totals[Copied].Count != 0 {
		t.Errorf("copied %+v", a.Totals[Copied])
	}
}

const homeSubvol = btrfsSystem + `
30 22 0:31 /home /home rw shared:17 - btrfs /dev/vda2 rw,subvol=/home
`

// A declared home directory whose live data sits on the /home subvolume,
// not mounted from its persistent copy: the next boot mounts the copy over
// it. What the copy does not hold the same is covered (lost from view, with
// its size), with a warning; the rest of /home is not touched.
func TestDeclaredDirOnOtherPersistentFSIsCoveredAtBoot(t *testing.T) {
	spec := `
f /home/alice/.mozilla/profile/prefs.js abc
f /home/alice/.mozilla/same.txt s
f /home/alice/.bashrc x
f /nix/persist/home/alice/.mozilla/same.txt s
`
	a := check(t, spec, homeSubvol, []persist.Entry{dir("/home/alice/.mozilla")}, nil)
	wantCats(t, a, map[string]string{
		"/home/alice/.mozilla/profile":          "covered",
		"/home/alice/.mozilla/profile/prefs.js": "covered",
	})
	if got := a.Totals[Covered]; got != (Total{Count: 2, Bytes: 3}) {
		t.Errorf("covered %+v, want 2 entries, 3 bytes", got)
	}
	if got := a.LostTotal(false); got.Count != 2 {
		t.Errorf("lost %+v: covered paths count as lost", got)
	}
	if it := itemAt(a, "/home/alice/.mozilla/profile/prefs.js"); it == nil || it.Mount != 30 || it.Decl != 0 {
		t.Errorf("prefs.js: %+v, want mount 30 and the declaration", it)
	}
	if a.Totals[Copied].Count != 1 {
		t.Errorf("copied %+v, want same.txt", a.Totals[Copied])
	}
	if !hasWarning(a, "covered: /home/alice/.mozilla ", "mounts the persistent copy over it") {
		t.Errorf("no covered warning: %q", a.Warnings)
	}

	// Mounted from its copy: nothing is covered.
	bound := homeSubvol + "31 30 0:31 /persist/home/alice/.mozilla /home/alice/.mozilla rw - btrfs /dev/vda2 rw\n"
	a = check(t, spec, bound, []persist.Entry{dir("/home/alice/.mozilla")}, nil)
	if n := a.Totals[Covered].Count; n != 0 || hasWarning(a, "covered:", "") {
		t.Errorf("mounted from its copy: %d covered, warnings %q", n, a.Warnings)
	}
	// Linked to its copy (the symlink method): nothing is covered.
	a = check(t, "l /home/alice/.mozilla -> /nix/persist/home/alice/.mozilla\nd /nix/persist/home/alice/.mozilla", homeSubvol, []persist.Entry{dir("/home/alice/.mozilla")}, nil)
	if n := a.Totals[Covered].Count; n != 0 {
		t.Errorf("a symlink to its copy: %d covered", n)
	}
	// Not there at all: nothing to hide.
	a = check(t, "d /home/alice", homeSubvol, []persist.Entry{dir("/home/alice/.mozilla")}, nil)
	if n := a.Totals[Covered].Count; n != 0 || hasWarning(a, "covered:", "") {
		t.Errorf("absent: %d covered, warnings %q", n, a.Warnings)
	}
}

// The covered warning is said after the comparison with the copy: once the
// copy holds all a declared directory on another persistent filesystem has
// (adopted, not yet mounted), or it holds nothing (an empty directory), no
// warning says the next boot hides something; when something is hidden,
// the warning counts it.
func TestCoveredWarningSaysWhatIsHiddenAfterComparingTheCopy(t *testing.T) {
	decls := []persist.Entry{dir("/home/alice/.mozilla")}
	adopted := `
f /home/alice/.mozilla/prefs.js abc
f /nix/persist/home/alice/.mozilla/prefs.js abc
`
	a := check(t, adopted, homeSubvol, decls, nil)
	if hasWarning(a, "covered:", "") || !hasWarning(a, "not mounted: /home/alice/.mozilla ", "already holds all of it (1 path") {
		t.Errorf("adopted: warnings %q, want 'not mounted … already holds all of it' and no covered warning", a.Warnings)
	}
	a = check(t, "d /home/alice/.mozilla\nd /nix/persist/home/alice/.mozilla", homeSubvol, decls, nil)
	if hasWarning(a, "covered:", "") || !hasWarning(a, "not mounted: /home/alice/.mozilla ", "holds nothing") {
		t.Errorf("empty: warnings %q, want 'holds nothing' and no covered warning", a.Warnings)
	}
	half := adopted + "f /home/alice/.mozilla/cookies.sqlite 12345\n"
	a = check(t, half, homeSubvol, decls, nil)
	if !hasWarning(a, "covered: /home/alice/.mozilla ", "hidden from view, not deleted (1 path, 5 B; 1 path is already the same in the persistent copy)") {
		t.Errorf("half adopted: warnings %q, want the hidden path counted", a.Warnings)
	}
}

// A declared file on another persistent filesystem is covered itself,
// unless its copy has the same bytes.
func TestDeclaredFileOnOtherPersistentFSIsCoveredAtBoot(t *testing.T) {
	spec := `
f /home/alice/.gitconfig live
f /home/alice/.netrc same
f /nix/persist/home/alice/.gitconfig stale
f /nix/persist/home/alice/.netrc same
`
	a := check(t, spec, homeSubvol, []persist.Entry{file("/home/alice/.gitconfig"), file("/home/alice/.netrc")}, nil)
	wantCats(t, a, map[string]string{"/home/alice/.gitconfig": "covered"})
	if it := itemAt(a, "/home/alice/.gitconfig"); it == nil || it.Copy != CopyDiffers {
		t.Errorf(".gitconfig: %+v, want the stale copy named", it)
	}
	if a.Totals[Copied].Count != 1 {
		t.Errorf("copied %+v, want .netrc", a.Totals[Copied])
	}
}

// Shadowed paths under a bind mount from persistent storage (a declared
// directory adopted with --prefer live, then mounted) follow the same rule
// as a declaration that is not mounted: what the mounted copy holds the same
// (type, bytes) is copied, not lost; other bytes are lost with Copy
// CopyDiffers and the mount showing the copy named; what the copy lacks is
// lost. Under a tmpfs (not persistent storage) nothing is compared.
func TestShadowedUnderPersistentMountWithSameCopyIsNotLost(t *testing.T) {
	under := t.TempDir()
	testutil.Tree(t, under, "f /var/lib/halfmig/identical same\nf /var/lib/halfmig/different old\nf /var/lib/halfmig/missing only under\nd /var/lib/halfmig/sub\nf /scratch/x same")
	mi := btrfsSystem + `30 22 0:31 /persist/var/lib/halfmig /var/lib/halfmig rw - btrfs /dev/vda2 rw,subvol=/persist
31 22 0:40 / /scratch rw - tmpfs tmpfs rw
`
	spec := `
f /nix/persist/var/lib/halfmig/identical same
f /nix/persist/var/lib/halfmig/different new
d /nix/persist/var/lib/halfmig/sub
f /var/lib/halfmig/identical same
f /var/lib/halfmig/different new
d /var/lib/halfmig/sub
f /scratch/x same
`
	a := check(t, spec, mi, []persist.Entry{dir("/var/lib/halfmig")}, func(c *Config) {
		c.Under = func(mp string) (string, func(), error) { return under, func() {}, nil }
		c.Ephemeral = []string{"/", "/scratch"}
	})
	wantCats(t, a, map[string]string{
		"/var/lib/halfmig/different": "shadowed",
		"/var/lib/halfmig/missing":   "shadowed",
		"/scratch/x":                 "unpersisted",
	})
	if it := itemAt(a, "/var/lib/halfmig/different"); it.Copy != CopyDiffers || it.Mount != 30 {
		t.Errorf("different: Copy %d Mount %d, want the stale copy of mount 30", it.Copy, it.Mount)
	}
	if it := itemAt(a, "/var/lib/halfmig/missing"); it.Copy != CopyMissing || it.Mount != 30 {
		t.Errorf("missing: Copy %d Mount %d, want no copy, mount 30", it.Copy, it.Mount)
	}
	if got := a.ShownAt[30]; got != "/var/lib/halfmig" {
		t.Errorf("ShownAt[30] = %q, want /var/lib/halfmig (the mount the shadowed paths were compared with)", got)
	}
	if got := a.Totals[Copied]; got != (Total{Count: 2, Bytes: 4}) {
		t.Errorf("copied %+v, want identical and sub (4 bytes)", got)
	}
}

// A declared directory bind-mounted from another source than its
// declaration: what lies beneath the mount on the root is compared with the
// declared copy, which the next boot mounts there, not with what the wrong
// mount shows: a file the declared copy holds the same is not lost.
func TestShadowedUnderWrongSourceMountComparesWithTheDeclaredCopy(t *testing.T) {
	under := t.TempDir()
	testutil.Tree(t, under, "f /var/lib/bluetooth/AA same\nf /var/lib/bluetooth/BB only under")
	mi := btrfsSystem + "30 22 0:31 /persist/var/lib/forgotten /var/lib/bluetooth rw - btrfs /dev/vda2 rw,subvol=/persist\n"
	spec := `
f /nix/persist/var/lib/bluetooth/AA same
f /nix/persist/var/lib/bluetooth/CC same
f /nix/persist/var/lib/forgotten/CC same
f /nix/persist/var/lib/forgotten/DD only here
f /var/lib/bluetooth/CC same
f /var/lib/bluetooth/DD only here
`
	a := check(t, spec, mi, []persist.Entry{dir("/var/lib/bluetooth")}, func(c *Config) {
		c.Under = func(mp string) (string, func(), error) { return under, func() {}, nil }
	})
	if !hasWarning(a, "", "but it is declared with the source /nix/persist/var/lib/bluetooth") {
		t.Errorf("no wrong-source warning: %q", a.Warnings)
	}
	if it := itemAt(a, "/var/lib/bluetooth/AA"); it != nil && it.Category == Shadowed {
		t.Errorf("AA: shadowed, but the declared copy holds the same bytes")
	}
	if it := itemAt(a, "/var/lib/bluetooth/BB"); it == nil || it.Category != Shadowed || it.Copy != CopyMissing || it.Mount != 28 {
		t.Errorf("BB: %+v, want shadowed, no copy, the copy's mount 28", it)
	}
	// Shown through the wrong mount: what the declared copy holds the same
	// comes back; the rest is unmounted (on persistent storage, out of
	// view after the next boot).
	if it := itemAt(a, "/var/lib/bluetooth/CC"); it != nil {
		t.Errorf("CC: %v, but the declared copy holds the same bytes", it.Category)
	}
	if it := itemAt(a, "/var/lib/bluetooth/DD"); it == nil || it.Category != Unmounted {
		t.Errorf("DD: %+v, want unmounted", it)
	}
	if got := a.Totals[Copied]; got != (Total{Count: 3, Bytes: 8}) {
		t.Errorf("copied %+v, want AA, CC and the directory /var/lib/bluetooth (8 bytes)", got)
	}
}

// A persistent copy with the same bytes but another mode and owner (0600,
// uid 1000, where the live file is 0644 root) is still copied, not lost:
// the bytes come back; a warning says which metadata the next boot shows.
func TestCopiedWithOtherModeOrOwnerWarnsWhichComesBack(t *testing.T) {
	spec := "f /srv/app/a same\nf /nix/persist/srv/app/a same\nf /srv/app/b same\nf /nix/persist/srv/app/b same"
	a := check(t, spec, btrfsSystem, []persist.Entry{dir("/srv/app")}, func(c *Config) {
		testutil.Must(t, os.Chmod(filepath.Join(c.Root, "srv/app/a"), 0o644))
		testutil.Must(t, os.Chmod(filepath.Join(c.Root, "nix/persist/srv/app/a"), 0o600))
		testutil.Must(t, os.Chown(filepath.Join(c.Root, "nix/persist/srv/app/a"), 1000, -1))
	})
	if itemAt(a, "/srv/app/a") != nil || a.Totals[Copied].Count != 2 {
		t.Errorf("a is lost or not copied: %+v", a.Totals)
	}
	if !hasWarning(a, "1 path copied", "first: /srv/app/a: mode 0600, uid 1000 in the copy (live: 0644, uid 0)") {
		t.Errorf("no warning naming the copy's mode and owner: %q", a.Warnings)
	}
}

// A declared directory whose persistent copy is a symlink (what an older
// drift adopt made of a declared directory that was a symlink on the live
// root) is not kept by it when the link points outside persistent storage:
// the next boot's bind mount follows the link onto the wiped root, so the
// declared path shows an empty directory. It is declared-unbacked with no
// copy, and a warning says why and what to do. A copy linking into
// persistent storage shows what is there, and the same link live is copied.
func TestDeclaredDirWhoseCopyIsSymlinkOutOfStorageIsLost(t *testing.T) {
	spec := `
l /srv/app -> /srv/app.real
f /srv/app.real/data.db data
l /nix/persist/srv/app -> /srv/app.real
l /srv/rel -> ../srv/app.real
l /nix/persist/srv/rel -> ../../../srv/app.real
l /srv/kept -> /nix/persist/kept.real
f /nix/persist/kept.real/x x
l /nix/persist/srv/kept -> /nix/persist/kept.real
`
	a := check(t, spec, btrfsSystem, []persist.Entry{dir("/srv/app"), dir("/srv/rel"), dir("/srv/kept")}, nil)
	for _, p := range []string{"/srv/app", "/srv/rel"} {
		if it := itemAt(a, p); it == nil || it.Category != DeclaredUnbacked || it.Copy != CopyMissing {
			t.Errorf("%s: %+v, want declared-unbacked with no copy (its copy is a link onto the wiped root)", p, it)
		}
		if !hasWarning(a, "the persistent copy /nix/persist"+p+" of the declared directory "+p+" is a symlink", "the next boot's bind mount follows it") {
			t.Errorf("no warning about %s's linked copy: %q", p, a.Warnings)
		}
	}
	if it := itemAt(a, "/srv/kept"); it != nil {
		t.Errorf("/srv/kept: %+v, want copied (its copy links into persistent storage)", it)
	}
}

// A path declared as a file that is a directory on the live system: it and
// everything under it are declared-unbacked under that declaration (the
// tester's /etc/typemismatch/inner was "unpersisted, not declared"), even
// when the persistent copy is a directory holding the same bytes (a file's
// bind mount cannot mount it), and the warning names the mismatch.
func TestDeclaredFileThatIsADirectoryIsLostWhole(t *testing.T) {
	spec := `
f /etc/typemismatch/inner data
f /etc/typemismatch/sub/more more
f /nix/persist/etc/typemismatch/inner data
`
	a := check(t, spec, btrfsSystem, []persist.Entry{file("/etc/typemismatch")}, nil)
	wantCats(t, a, map[string]string{
		"/etc/typemismatch":          "declared-unbacked",
		"/etc/typemismatch/inner":    "declared-unbacked",
		"/etc/typemismatch/sub":      "declared-unbacked",
		"/etc/typemismatch/sub/more": "declared-unbacked",
	})
	for _, p := range []string{"/etc/typemismatch", "/etc/typemismatch/inner"} {
		if it := itemAt(a, p); it == nil || it.Decl != 0 || !DeclaredFileIsDir(&a.Decls.Entries[0], p, it.IsDir()) {
			t.Errorf("%s: %+v, want it under the file's declaration, a mismatch", p, it)
		}
	}
	if a.Totals[Copied].Count != 0 {
		t.Errorf("copied %+v: the directory copy is never mounted", a.Totals[Copied])
	}
	if !hasWarning(a, "declared-unbacked: /etc/typemismatch is declared as a file", "is a directory") || !hasWarning(a, "declared-unbacked: /etc/typemismatch ", "4 paths") {
		t.Errorf("no mismatch warning: %q", a.Warnings)
	}
}

// A tmpfs over /srv with declared bind mounts in it: the empty directories
// beneath the tmpfs on the root at the declared mount points (/srv/media,
// "/srv/my media") are only mount points, re-made at boot, not shadowed
// data to keep (the tester saw "shadowed … keep it: drift adopt" where
// drift adopt found nothing to adopt); a file beneath them is still
// shadowed.
func TestShadowedMountPointIsNotData(t *testing.T) {
	under := t.TempDir()
	testutil.Tree(t, under, "d /srv/media\nd /srv/my media\nf /srv/old/file data\nf /srv/media/left hidden")
	mi := btrfsSystem + `40 22 0:40 / /srv rw - tmpfs tmpfs rw
41 40 0:31 /persist/srv/media /srv/media rw - btrfs /dev/vda2 rw,subvol=/persist
42 40 0:31 /persist/srv/my\040media /srv/my\040media rw - btrfs /dev/vda2 rw,subvol=/persist
`
	a := check(t, "d /srv/media\nd /srv/my media\nd /nix/persist/srv/media\nd /nix/persist/srv/my media", mi, []persist.Entry{dir("/srv/media"), dir("/srv/my media")}, func(c *Config) {
		c.Ephemeral = []string{"/", "/srv"}
		c.Under = func(mp string) (string, func(), error) {
			if mp == "/" {
				return under, func() {}, nil
			}
			return t.TempDir(), func() {}, nil
		}
	})
	for _, p := range []string{"/srv/media", "/srv/my media"} {
		if it := itemAt(a, p); it != nil {
			t.Errorf("%s is %s: an empty mount point is not data", p, it.Category)
		}
	}
	for _, p := range []string{"/srv/old/file", "/srv/media/left"} {
		if it := itemAt(a, p); it == nil || it.Category != Shadowed {
			t.Errorf("%s: %+v, want shadowed", p, it)
		}
	}
}

// A declaration with many paths compares them with its copy through one
// lockstep walk (copiesSame) and says what the lookups one by one say:
// the same copied, other bytes, another type, a missing file, a file in a
// directory whose copy is a file, a link with another target, a copy with
// another mode (warned), an empty file and an empty directory.
func TestCopiesByLockstepAgreeWithLookups(t *testing.T) {
	spec := `
f /srv/app/same.txt hello
f /srv/app/other.txt new bytes
f /srv/app/missing.txt only here
f /srv/app/sub/x x
f /srv/app/sub/y y-live
f /srv/app/nosub/z z
f /srv/app/mode same
f /srv/app/empty
d /srv/app/emptydir
l /srv/app/link -> target
l /srv/app/link2 -> here
f /nix/persist/srv/app/same.txt hello
f /nix/persist/srv/app/other.txt old bytes
f /nix/persist/srv/app/sub/x x
f /nix/persist/srv/app/nosub not a directory
f /nix/persist/srv/app/mode same
f /nix/persist/srv/app/empty
d /nix/persist/srv/app/emptydir
f /nix/persist/srv/app/onlycopy gone
l /nix/persist/srv/app/link -> target
l /nix/persist/srv/app/link2 -> there
`
	mod := func(c *Config) {
		testutil.Must(t, os.Chmod(filepath.Join(c.Root, "nix/persist/srv/app/mode"), 0o600))
	}
	defer func(n int) { copyLockstepMin = n }(copyLockstepMin)
	copyLockstepMin = 1 << 30
	walks := copyWalks.Load()
	one := check(t, spec, btrfsSystem, []persist.Entry{dir("/srv/app")}, mod)
	copyLockstepMin = 1
	walked := check(t, spec, btrfsSystem, []persist.Entry{dir("/srv/app")}, mod)
	if copyWalks.Load() == walks {
		t.Fatal("no lockstep walk of the copy")
	}
	// The trees are made twice: all but their times are the same.
	lost := func(a *Audit) []string {
		var out []string
		for _, it := range a.Lost {
			out = append(out, fmt.Sprintf("%s %s copy %d decl %d", it.Path, it.Category, it.Copy, it.Decl))
		}
		return out
	}
	for _, f := range []struct {
		name string
		a, b any
	}{
		{"lost", lost(walked), lost(one)}, {"totals", walked.Totals, one.Totals}, {"warnings", walked.Warnings, one.Warnings},
		{"copied with other metadata", walked.CopiedOtherMeta, one.CopiedOtherMeta},
	} {
		if !reflect.DeepEqual(f.a, f.b) {
			t.Errorf("%s: walked %v, one by one %v", f.name, f.a, f.b)
		}
	}
	if got := walked.Totals[Copied]; got.Count != 7 {
		t.Errorf("copied %+v, want 7 entries (same.txt, sub, sub/x, mode, empty, emptydir, link)", got)
	}
}

// TestCopyNewerComparesBothModificationTimes: where the persistent copy of
// a declared path holds other bytes, the item carries the copy's
// modification time (CopyMtime), and CopyNewer says whether the copy is
// the newer side: drift check called every such copy stale and offered
// --prefer live first, though a copy modified after the live file holds
// the newer data (field case: /etc/adjtime's copy of 11:00, the live file
// of 10:00).
func TestCopyNewerComparesBothModificationTimes(t *testing.T) {
	spec := `
f /srv/app/a live a
f /srv/app/b live b
f /nix/persist/srv/app/a persistent a, changed later
f /nix/persist/srv/app/b persistent b, changed before
`
	ten := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	a := check(t, spec, btrfsSystem, []persist.Entry{dir("/srv/app")}, func(c *Config) {
		for p, at := range map[string]time.Time{"srv/app/a": ten, "srv/app/b": ten, "nix/persist/srv/app/a": ten.Add(time.Hour), "nix/persist/srv/app/b": ten.Add(-time.Hour)} {
			testutil.Must(t, os.Chtimes(filepath.Join(c.Root, p), at, at))
		}
	})
	for p, want := range map[string]struct {
		copyAt time.Time
		newer  bool
	}{"/srv/app/a": {ten.Add(time.Hour), true}, "/srv/app/b": {ten.Add(-time.Hour), false}} {
		it := itemAt(a, p)
		if it == nil || it.Copy != CopyDiffers || it.CopyMtime() != want.copyAt.UnixNano() || it.Mtime != ten.UnixNano() || it.CopyNewer() != want.newer {
			t.Errorf("%s: %+v (copy mtime %d), want the copy's time %v, newer %v", p, it, it.CopyMtime(), want.copyAt, want.newer)
		}
	}
}

// A copy with the same bytes whose mode grants more than the live one's
// (a key 0600 live, 0644 in the copy) is still copied, but the next boot
// shows it open to more users: its own warning says so and names the
// command that gives the copy the live mode, not "nothing is lost" (a new
// user found a secret's tighter live mode reported only as "nothing is
// lost, but check them").
func TestCopiedWithALooserModeInTheCopyWarnsOfIt(t *testing.T) {
	spec := "f /srv/app/key same\nf /nix/persist/srv/app/key same"
	a := check(t, spec, btrfsSystem, []persist.Entry{dir("/srv/app")}, func(c *Config) {
		testutil.Must(t, os.Chmod(filepath.Join(c.Root, "srv/app/key"), 0o600))
		testutil.Must(t, os.Chmod(filepath.Join(c.Root, "nix/persist/srv/app/key"), 0o644))
	})
	if itemAt(a, "/srv/app/key") != nil {
		t.Errorf("key is lost; the copy has its bytes")
	}
	for _, part := range []string{"grants more than the live one's", "first: /srv/app/key: mode 0644 in the copy (live: 0600)", "drift adopt --prefer live"} {
		if !hasWarning(a, "1 path copied", part) {
			t.Errorf("no warning that the copy's mode is looser, saying %q: %q", part, a.Warnings)
		}
	}
	if hasWarning(a, "1 path copied", "nothing is lost") {
		t.Errorf("the looser copy is called harmless: %q", a.Warnings)
	}
}
