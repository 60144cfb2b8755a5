package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nix-drift/drift/internal/testutil"
)

// coveredDecls declare a directory in a home on its own subvolume (/home)
// that is not mounted from its copy yet (covered), a directory whose live
// path is a symlink to data on the root, and a fifo in a declared
// directory.
const coveredDecls = `{
  "persistentStoragePath": "/nix/persist",
  "directories": [ "/var/lib/app", "/srv/withfifo" ],
  "users": { "alice": { "home": "/home/alice", "directories": [ ".mozilla" ] } }
}`

// TestAdoptCoveredHomeDirectory: a declared directory whose live data sits
// on another persistent filesystem (/home its own subvolume), the
// declaration not mounted yet, is what drift check calls covered; drift
// check's row names the drift adopt command, --pending includes it, the
// dry run plans the copy from /home (changing nothing), and drift adopt
// copies it into the persistent copy, leaving the live data as it was.
func TestAdoptCoveredHomeDirectory(t *testing.T) {
	s := driftSystem(t)
	if s == nil {
		return
	}
	extra := filepath.Join(s.dir, "covered.json")
	testutil.Must(t, os.WriteFile(extra, []byte(coveredDecls), 0o644))
	writeFile(t, s.M("/home/alice/.mozilla/firefox/prefs.js"), "user_pref(1);", 0o600)
	testutil.Must(t, os.Chown(s.M("/home/alice/.mozilla/firefox/prefs.js"), 1000, 100))
	base := []string{"--root", s.root, "--persist", s.declPath(), "--persist", extra}

	_, out, _ := s.driftAll(append([]string{"check"}, base...)...)
	if !strings.Contains(out, "covered") || !strings.Contains(out, "drift adopt") || !strings.Contains(out, "/home/alice/.mozilla") {
		t.Errorf("drift check does not point the covered row at drift adopt:\n%s", out)
	}
	before := metaTree(t, s.M("/home/alice"))
	dry := string(s.drift(0, append(append([]string{"adopt"}, base...), "--dry-run", "/home/alice/.mozilla")...))
	if strings.Contains(dry, "nothing there to adopt") || !strings.Contains(dry, "on the persistent filesystem at /home") || !strings.Contains(dry, "prefs.js") {
		t.Errorf("adopt --dry-run of a covered directory:\n%s", dry)
	}
	if _, err := os.Lstat(s.M(storage + "/home/alice/.mozilla")); !os.IsNotExist(err) {
		t.Fatalf("the dry run made the persistent copy: %v", err)
	}
	pending := string(s.drift(0, append(append([]string{"adopt"}, base...), "--pending", "--dry-run")...))
	if !strings.Contains(pending, "/home/alice/.mozilla") {
		t.Errorf("adopt --pending --dry-run leaves out the covered directory:\n%s", pending)
	}
	s.drift(0, append(append([]string{"adopt"}, base...), "/home/alice/.mozilla")...)
	got := metaTree(t, s.M(storage+"/home/alice/.mozilla"))
	want := map[string]meta{}
	for p, m := range before {
		if r, ok := strings.CutPrefix(p, "/.mozilla"); ok && r != "" {
			want[r] = m
		}
	}
	if len(want) == 0 {
		t.Fatal("no live objects under .mozilla to compare")
	}
	sameMeta(t, "persistent copy", want, got)
	assertSameTree(t, "live home", before, metaTree(t, s.M("/home/alice")))
	// Run again: the copy holds the same bytes, nothing is copied.
	again := string(s.drift(0, append(append([]string{"adopt"}, base...), "/home/alice/.mozilla")...))
	if !strings.Contains(again, "same") {
		t.Errorf("a second adopt does not find the copy the same:\n%s", again)
	}
}

// TestAdoptRefusesDeclaredDirectorySymlink: a declared directory whose live
// path is a symlink (to data on the wiped root) is refused with exit 2 and
// what to do, and nothing is written: a copy of the link would not keep
// the data, and the next boot mounts a directory there.
func TestAdoptRefusesDeclaredDirectorySymlink(t *testing.T) {
	s := driftSystem(t)
	if s == nil {
		return
	}
	extra := filepath.Join(s.dir, "covered.json")
	testutil.Must(t, os.WriteFile(extra, []byte(coveredDecls), 0o644))
	writeFile(t, s.M("/srv/appdata/db"), "data", 0o600)
	testutil.Must(t, os.MkdirAll(s.M("/var/lib"), 0o755))
	testutil.Must(t, os.Symlink("/srv/appdata", s.M("/var/lib/app")))
	code, out, errOut := s.driftAll("adopt", "--root", s.root, "--persist", s.declPath(), "--persist", extra, "/var/lib/app")
	if code != 2 || !strings.Contains(errOut, "is a symlink to /srv/appdata") || !strings.Contains(errOut, "declare the link's target") {
		t.Errorf("adopt of a declared directory that is a symlink: exit %d\n%s%s", code, out, errOut)
	}
	if _, err := os.Lstat(s.M(storage + "/var/lib/app")); !os.IsNotExist(err) {
		t.Errorf("refused, yet the persistent copy exists: %v", err)
	}
}

// TestAdoptCopiesFifoAsFifo: a fifo in an adopted directory is made anew
// in the copy as a fifo (mknod, as cp -a does; never opened, so never
// waited on), with its mode and owner; a socket is skipped with a warning
// in adopt's words, not restore's, saying why (it is not data: drift check
// never counts it as lost).
func TestAdoptCopiesFifoAsFifo(t *testing.T) {
	s := driftSystem(t)
	if s == nil {
		return
	}
	extra := filepath.Join(s.dir, "covered.json")
	testutil.Must(t, os.WriteFile(extra, []byte(coveredDecls), 0o644))
	writeFile(t, s.M("/srv/withfifo/file"), "x", 0o644)
	testutil.Must(t, unix.Mkfifo(s.M("/srv/withfifo/pipe"), 0o620))
	testutil.Must(t, os.Chmod(s.M("/srv/withfifo/pipe"), 0o620)) // past the umask
	testutil.Must(t, os.Lchown(s.M("/srv/withfifo/pipe"), 1000, 100))
	testutil.Must(t, unix.Mknod(s.M("/srv/withfifo/sock"), unix.S_IFSOCK|0o644, 0))
	code, out, errOut := s.driftAll("adopt", "--root", s.root, "--persist", s.declPath(), "--persist", extra, "/srv/withfifo")
	if code != 0 || !strings.Contains(errOut, "/srv/withfifo/sock not copied: socket: made again by the program listening on it, not data: adopt does not copy it") || strings.Contains(errOut, "restore") {
		t.Errorf("adopt with a fifo and a socket: exit %d\n%s%s", code, out, errOut)
	}
	var st unix.Stat_t
	if err := unix.Lstat(s.M(storage+"/srv/withfifo/pipe"), &st); err != nil || st.Mode != unix.S_IFIFO|0o620 || st.Uid != 1000 || st.Gid != 100 {
		t.Errorf("the fifo's copy: %v, mode %o owner %d:%d; want a fifo 0620 1000:100", err, st.Mode, st.Uid, st.Gid)
	}
	if _, err := os.Lstat(s.M(storage + "/srv/withfifo/sock")); !os.IsNotExist(err) {
		t.Errorf("the socket was copied: %v", err)
	}
}

// TestAdoptFifoBeneathMountNamesUserPaths: a fifo and a socket beneath the
// bind mount of a declared directory (data that was there before the
// declaration, read through the view beneath the mounts) neither fail
// drift adopt --pending (it exited 2 on the fifo) nor leak the view's
// /proc/self/fd/N path: the fifo is made in the copy, the socket's warning
// names the path as the user knows it.
func TestAdoptFifoBeneathMountNamesUserPaths(t *testing.T) {
	s := driftSystem(t)
	if s == nil {
		return
	}
	root := filepath.Join(s.top, "root") // the root subvolume without the mounts on it
	writeFile(t, filepath.Join(root, "/etc/nixos/hidden.txt"), "hidden", 0o644)
	testutil.Must(t, unix.Mkfifo(filepath.Join(root, "/etc/nixos/hidden.fifo"), 0o600))
	testutil.Must(t, unix.Mknod(filepath.Join(root, "/etc/nixos/hidden.sock"), unix.S_IFSOCK|0o644, 0))
	code, out, errOut := s.driftAll("adopt", "--root", s.root, "--persist", s.declPath(), "--pending")
	if code != 0 || strings.Contains(out+errOut, "/proc/self/fd") {
		t.Errorf("adopt --pending with a fifo beneath a mount: exit %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "/etc/nixos/hidden.sock not copied: socket") {
		t.Errorf("the socket's warning does not name /etc/nixos/hidden.sock:\n%s", errOut)
	}
	var st unix.Stat_t
	if err := unix.Lstat(s.M(storage+"/etc/nixos/hidden.fifo"), &st); err != nil || st.Mode != unix.S_IFIFO|0o600 {
		t.Errorf("the hidden fifo's copy: %v, mode %o; want a fifo 0600", err, st.Mode)
	}
	if b, err := os.ReadFile(s.M(storage + "/etc/nixos/hidden.txt")); err != nil || string(b) != "hidden" {
		t.Errorf("the hidden file's copy: %q, %v", b, err)
	}
}

// assertSameTree fails where two metaTree results differ.
func assertSameTree(t *testing.T, what string, before, after map[string]meta) {
	t.Helper()
	for p, b := range before {
		a, ok := after[p]
		if !ok || a != b {
			t.Errorf("%s: %q changed: %v, now %v", what, p, b, a)
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok {
			t.Errorf("%s: %q appeared", what, p)
		}
	}
}

// ownerDecls declare directories with a user, group and mode (symbolic, as
// chmod takes it), one with a persistent copy already there.
const ownerDecls = `{
  "persistentStoragePath": "/nix/persist",
  "directories": [
    { "directory": "/srv/colord", "user": "colord", "group": "colord", "mode": "u=rwx,g=rx,o=" },
    { "directory": "/srv/colord-old", "user": "colord", "group": "colord", "mode": "0700" }
  ]
}`

// TestAdoptAppliesDeclaredOwnerAndMode: the persistent directory adopt
// creates for a declared directory gets the declared user, group and mode
// (names from the root's /etc/passwd and /etc/group), as impermanence
// gives the directories it creates, not the live directory's; what is
// inside keeps its own; an existing copy that differs is left alone and
// reported.
func TestAdoptAppliesDeclaredOwnerAndMode(t *testing.T) {
	s := driftSystem(t)
	if s == nil {
		return
	}
	extra := filepath.Join(s.dir, "owner.json")
	testutil.Must(t, os.WriteFile(extra, []byte(ownerDecls), 0o644))
	appendFile := func(p, line string) {
		f, err := os.OpenFile(s.M(p), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		testutil.Must(t, err)
		_, err = f.WriteString(line)
		testutil.Must(t, err)
		testutil.Must(t, f.Close())
	}
	appendFile("/etc/passwd", "colord:x:998:997::/var/lib/colord:/run/current-system/sw/bin/nologin\n")
	appendFile("/etc/group", "colord:x:997:\n")
	writeFile(t, s.M("/srv/colord/icc/x.icc"), "profile", 0o644)
	testutil.Must(t, os.Chmod(s.M("/srv/colord"), 0o777))
	testutil.Must(t, os.MkdirAll(s.M("/srv/colord-old"), 0o777))
	writeFile(t, s.M("/srv/colord-old/f"), "f", 0o644)
	testutil.Must(t, os.MkdirAll(s.M(storage+"/srv/colord-old"), 0o755))
	base := []string{"adopt", "--root", s.root, "--persist", s.declPath(), "--persist", extra}

	dry := string(s.drift(0, append(base, "--dry-run", "/srv/colord")...))
	if !strings.Contains(dry, "as declared, not as live: owner 998, group 997, mode 0750") {
		t.Errorf("the dry run does not say the declared owner and mode:\n%s", dry)
	}
	_, _, errOut := s.driftAll(append(base, "/srv/colord", "/srv/colord-old")...)
	var st unix.Stat_t
	testutil.Must(t, unix.Lstat(s.M(storage+"/srv/colord"), &st))
	if st.Uid != 998 || st.Gid != 997 || st.Mode&0o7777 != 0o750 {
		t.Errorf("persistent copy of /srv/colord: %d:%d %04o, want 998:997 0750", st.Uid, st.Gid, st.Mode&0o7777)
	}
	testutil.Must(t, unix.Lstat(s.M(storage+"/srv/colord/icc"), &st))
	if st.Uid != 0 || st.Mode&0o7777 != 0o755 {
		t.Errorf("a directory inside: %d %04o, want the live 0 0755", st.Uid, st.Mode&0o7777)
	}
	testutil.Must(t, unix.Lstat(s.M("/srv/colord"), &st))
	if st.Mode&0o7777 != 0o777 || st.Uid != 0 {
		t.Errorf("the live directory changed: %d %04o", st.Uid, st.Mode&0o7777)
	}
	testutil.Must(t, unix.Lstat(s.M(storage+"/srv/colord-old"), &st))
	if st.Uid != 0 || st.Mode&0o7777 != 0o755 {
		t.Errorf("the existing copy changed: %d %04o", st.Uid, st.Mode&0o7777)
	}
	if !strings.Contains(errOut, "/srv/colord-old already exists with owner 0, declared 998, group 0, declared 997, mode 0755, declared 0700") {
		t.Errorf("the existing copy's owner and mode are not reported:\n%s", errOut)
	}
}
