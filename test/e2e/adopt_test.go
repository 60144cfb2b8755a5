package e2e

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nix-drift/drift/internal/testutil"
)

// adoptDecls are declarations added to the reference system's for drift
// adopt: a half-migrated directory, a new declared file, a directory in
// root's home (a users.<name> entry) and one declared after it held data.
const adoptDecls = `{
  "persistentStoragePath": "/nix/persist",
  "directories": [ "/srv/half", "/srv/app" ],
  "files": [ "/etc/host-key" ],
  "users": { "root": { "home": "/root", "directories": [ ".local/share/app" ], "files": [ ".zsh/history-extra" ] } }
}`

// meta is what adopt must keep of one object.
type meta struct {
	typ        fs.FileMode
	perm       uint32
	uid, gid   uint32
	mtime      int64
	digest     string
	target     string
	xattr      string
	ino, nlink uint64
}

func (m meta) String() string {
	return fmt.Sprintf("%v %04o %d:%d mtime %d %s%s xattr=%q nlink %d", m.typ, m.perm, m.uid, m.gid, m.mtime, m.digest, m.target, m.xattr, m.nlink)
}

// metaTree maps every path at or below dir (relative, "" for dir itself) to
// its meta, never following a symlink.
func metaTree(t *testing.T, dir string) map[string]meta {
	t.Helper()
	out := map[string]meta{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			return err
		}
		m := meta{typ: fs.FileMode(0), perm: st.Mode & 0o7777, uid: st.Uid, gid: st.Gid, mtime: st.Mtim.Nano(), ino: st.Ino, nlink: uint64(st.Nlink)}
		fi, _ := os.Lstat(p)
		m.typ = fi.Mode().Type()
		switch {
		case fi.Mode().IsRegular():
			if m.digest, err = hashFile(p); err != nil {
				return err
			}
			buf := make([]byte, 256)
			if n, err := unix.Lgetxattr(p, "user.drift", buf); err == nil {
				m.xattr = string(buf[:n])
			}
		case fi.Mode()&fs.ModeSymlink != 0:
			m.target, _ = os.Readlink(p)
		}
		if fi.IsDir() {
			m.mtime = 0 // a directory's mtime changes as entries are made in it
		}
		out[strings.TrimPrefix(p, dir)] = m
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", dir, err)
	}
	return out
}

// sameMeta fails for every object of want that got differs from (inode
// numbers aside: hard links are compared as link counts).
func sameMeta(t *testing.T, what string, want, got map[string]meta) {
	t.Helper()
	for p, w := range want {
		g, ok := got[p]
		w.ino, g.ino = 0, 0
		if !ok {
			t.Errorf("%s: %q missing (want %v)", what, p, w)
		} else if g != w {
			t.Errorf("%s: %q is %v, want %v", what, p, g, w)
		}
	}
}

// TestAdoptThenWipe: drift adopt copies, for declared paths, the data on the
// ephemeral root (declared and not mounted; a directory already mounted over
// hidden data; a half-migrated directory with identical, differing and
// missing copies; a file; a directory in a home) into the persistent copy,
// with bytes, owner, mode, times, xattrs, symlinks and hard links; --dry-run
// and a refusal (a differing copy without --prefer) change nothing; nothing
// outside the persistent copy changes; and after a real drift wipe and the
// next boot's mounts every adopted object is there.
func TestAdoptThenWipe(t *testing.T) {
	s := driftSystem(t)
	if s == nil {
		return
	}
	extra := filepath.Join(s.dir, "adopt.json")
	testutil.Must(t, os.WriteFile(extra, []byte(adoptDecls), 0o644))
	when := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	mk := func(p, content string, uid int) {
		t.Helper()
		writeFile(t, p, content, 0o640)
		testutil.Must(t, os.Lchown(p, uid, 100))
		testutil.Must(t, os.Chtimes(p, when, when))
	}
	root := filepath.Join(s.top, "root") // the root subvolume without the mounts on it
	// Declared, not mounted, on the root: files, a hard link, a symlink, an
	// xattr, an empty directory.
	mk(s.M("/srv/declared-unmounted/data.txt"), "not actually persisted", 1000)
	testutil.Must(t, os.MkdirAll(s.M("/srv/declared-unmounted/sub"), 0o750))
	testutil.Must(t, os.Link(s.M("/srv/declared-unmounted/data.txt"), s.M("/srv/declared-unmounted/sub/link.txt")))
	testutil.Must(t, os.Symlink("../data.txt", s.M("/srv/declared-unmounted/sub/rel")))
	testutil.Must(t, unix.Lsetxattr(s.M("/srv/declared-unmounted/data.txt"), "user.drift", []byte("kept"), 0))
	testutil.Must(t, os.MkdirAll(s.M("/srv/declared-unmounted/empty"), 0o711))
	// Declared and already mounted over hidden data.
	mk(filepath.Join(root, "/etc/nixos/hidden-under-bind.txt"), "hidden", 0)
	mk(filepath.Join(root, "/etc/nixos/deeper/flake.nix"), "{ }", 0)
	// Declared after it held data, not mounted yet.
	mk(s.M("/srv/app/state.db"), strings.Repeat("state", 4096), 0)
	// Half-migrated: identical, differing and missing copies.
	mk(s.M("/srv/half/same.txt"), "same", 0)
	mk(s.M(storage+"/srv/half/same.txt"), "same", 0)
	mk(s.M("/srv/half/diff.txt"), "live bytes", 0)
	mk(s.M(storage+"/srv/half/diff.txt"), "persistent bytes", 0)
	mk(s.M("/srv/half/missing.txt"), "only live", 0)
	mk(s.M("/srv/half/newdir/inner.txt"), "only live, in a new directory", 0)
	// Files: a new one, and /etc/adjtime whose persistent copy is stale.
	mk(s.M("/etc/host-key"), "secret key", 0)
	mk(s.M("/etc/adjtime"), "0.5 1700000000 0.0\n1700000000\nLOCAL\n", 0)
	// A directory in root's home, and a file in a sub-directory of it,
	// declared, on the wiped root (field case C02: the file declared in
	// ~/.zsh is not backed, and a reboot loses it).
	mk(s.M("/root/.local/share/app/history"), "home data", 0)
	mk(s.M("/root/.zsh/history-extra"), ": 1700000000:0;ls\n", 0)

	adopted := []string{"/srv/declared-unmounted", "/etc/nixos", "/srv/app", "/etc/host-key", "/root/.local/share/app", "/root/.zsh/history-extra"}
	want := map[string]map[string]meta{}
	for _, p := range append(adopted, "/srv/half", "/etc/adjtime") {
		want[p] = metaTree(t, filepath.Join(root, p))
	}
	args := func(extraArgs ...string) []string {
		return append([]string{"adopt", "--root", s.root, "--persist", s.declPath(), "--persist", extra}, extraArgs...)
	}
	before := snapshot(t, s.top)

	// drift check points at adopt: the shadowed file below the declared
	// /etc/nixos and the declared-unbacked /srv/app carry the command.
	var report struct {
		Items []struct{ Path, Category, Adopt string }
	}
	testutil.Must(t, json.Unmarshal(s.drift(1, "check", "--root", s.root, "--persist", s.declPath(), "--persist", extra, "--format", "json"), &report))
	cmds := map[string]string{}
	for _, it := range report.Items {
		cmds[it.Path] = it.Category + " " + it.Adopt
	}
	// The command carries the flags that named the machine, so it runs
	// as printed.
	adoptCmd := "drift adopt --root " + s.root + " --persist " + s.declPath() + " --persist " + extra
	for p, want := range map[string]string{
		"/etc/nixos/hidden-under-bind.txt": "shadowed " + adoptCmd + " /etc/nixos/hidden-under-bind.txt",
		"/srv/app/state.db":                "declared-unbacked " + adoptCmd + " /srv/app/state.db",
	} {
		if cmds[p] != want {
			t.Errorf("drift check row %s: %q, want %q (rows %q)", p, cmds[p], want, cmds)
		}
	}

	// --pending --dry-run --format summary (the activation guard's command)
	// names every declared path whose data has no persistent copy, with the
	// command that keeps it, and changes nothing; the differing copies of
	// /srv/half and /etc/adjtime make it exit 2.
	code, stdout, stderr := s.driftAll(args("--pending", "--dry-run", "--format", "summary")...)
	for _, p := range append([]string{"/srv/half"}, adopted...) {
		live := strings.Replace(adoptCmd, "drift adopt", "drift adopt --prefer live", 1) + " " + p + ","
		if !strings.Contains(stdout, adoptCmd+" "+p+"\n") && !strings.Contains(stdout, live) {
			t.Errorf("adopt --pending --dry-run --format summary does not name %s:\n%s", p, stdout)
		}
	}
	t.Logf("adopt --pending --dry-run --format summary:\n%s%s", stdout, stderr)
	if code != 2 || !strings.Contains(stdout, "drift: /etc/nixos holds 3 objects") || !strings.Contains(stdout, "the mount at /etc/nixos hides them now") || !strings.Contains(stderr, "2 objects are already") {
		t.Errorf("adopt --pending --dry-run: exit %d\n%s\n%s", code, stdout, stderr)
	}
	assertUnchanged(t, "after --pending --dry-run", before, snapshot(t, s.top))

	// --dry-run lists every object and changes nothing.
	out := string(s.drift(0, args(append([]string{"--dry-run", "--prefer", "live", "/srv/half", "/etc/adjtime"}, adopted...)...)...))
	for _, wantLine := range []string{"dry run: nothing is changed", "/nix/persist/srv/declared-unmounted/sub/link.txt => ", "/nix/persist/etc/nixos/hidden-under-bind.txt", "beneath the mount at /etc/nixos", "replace  file     0640 0:100         " + s.M(storage+"/srv/half/diff.txt")} {
		if !strings.Contains(out, wantLine) {
			t.Errorf("adopt --dry-run does not say %q:\n%s", wantLine, out)
		}
	}
	assertUnchanged(t, "after --dry-run", before, snapshot(t, s.top))

	// Differing copies without --prefer: refused, nothing written.
	code, stdout, stderr = s.driftAll(args(append([]string{"/srv/half", "/etc/adjtime"}, adopted...)...)...)
	if code != 2 || !strings.Contains(stdout, "differs  "+s.M(storage+"/srv/half/diff.txt")) || !strings.Contains(stderr, "--prefer") {
		t.Errorf("adopt with differing copies: exit %d, want 2 naming diff.txt and --prefer\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	assertUnchanged(t, "after the refusal", before, snapshot(t, s.top))

	// An undeclared path: refused with the declaration to add.
	code, _, stderr = s.driftAll(args("/imperm_test")...)
	if code != 2 || !strings.Contains(stderr, `environment.persistence."/nix/persist".directories = [ "/imperm_test" ];`) {
		t.Errorf("adopt of an undeclared path: exit %d, want 2 with the declaration\n%s", code, stderr)
	}

	s.drift(0, args(adopted...)...)
	s.drift(0, args("--prefer", "persistent", "/srv/half")...)
	s.drift(0, args("--prefer", "live", "/etc/adjtime")...)
	after := snapshot(t, s.top)
	for p, o := range after {
		if b, ok := before[p]; ok && b == o {
			continue
		}
		if !strings.HasPrefix(p, "/persist/") {
			t.Errorf("adopt changed %q outside the persistent storage (%v -> %v)", p, before[p], o)
		}
	}
	for p := range before {
		if _, ok := after[p]; !ok {
			t.Errorf("adopt removed %q", p)
		}
	}
	// After --prefer persistent the copy lacks nothing of /srv/half: drift
	// check still lists the live diff.txt (kept, other bytes than the
	// copy's), saying the copy comes back at the next boot, and offers
	// only --prefer live, never --prefer persistent again (which changed
	// nothing).
	var checked struct {
		Items []struct{ Path, Why, AdoptPreferLive, AdoptPreferPersistent string }
	}
	_, js, _ := s.driftAll("check", "--root", s.root, "--persist", s.declPath(), "--persist", extra, "--format", "json")
	testutil.Must(t, json.Unmarshal([]byte(js), &checked))
	listed := false
	for _, it := range checked.Items {
		if it.Path != "/srv/half/diff.txt" {
			continue
		}
		listed = true
		if it.AdoptPreferPersistent != "" || !strings.Contains(it.AdoptPreferLive, "--prefer live") || !strings.Contains(it.Why, "comes back in its place") || !strings.Contains(it.Why, "old root") {
			t.Errorf("after --prefer persistent, drift check lists /srv/half/diff.txt with %+v", it)
		}
	}
	if !listed {
		t.Errorf("after --prefer persistent, drift check does not list the live /srv/half/diff.txt:\n%s", js)
	}
	// Running it again finds everything the same.
	if out := string(s.drift(0, args(adopted...)...)); strings.Contains(out, "copied 1") || strings.Contains(out, "would copy") {
		t.Errorf("a second adopt copied again:\n%s", out)
	}

	// Shutdown, a real drift wipe, the next boot's mounts.
	s.unmountBelow(s.root)
	w := &wipeImage{t: t, top: s.top, dev: s.dev}
	w.drift()
	s.boot(nil)
	for _, d := range []string{"/srv/half", "/srv/app", "/root/.local/share/app"} {
		testutil.Must(t, os.MkdirAll(s.M(d), 0o755))
		run(t, "mount", "--bind", s.M(storage+d), s.M(d))
	}
	for _, f := range []string{"/etc/host-key", "/root/.zsh/history-extra"} {
		testutil.Must(t, os.MkdirAll(filepath.Dir(s.M(f)), 0o755))
		touch(t, s.M(f))
		run(t, "mount", "--bind", s.M(storage+f), s.M(f))
	}

	for _, p := range adopted {
		got := metaTree(t, s.M(p))
		sameMeta(t, p+" after the wipe", want[p], got)
	}
	if got := metaTree(t, s.M("/srv/declared-unmounted/sub")); got["/link.txt"].nlink != 2 {
		t.Errorf("the hard link was not kept: %v", got["/link.txt"])
	}
	half := metaTree(t, s.M("/srv/half"))
	for _, p := range []string{"/same.txt", "/missing.txt", "/newdir", "/newdir/inner.txt"} {
		if half[p] != want["/srv/half"][p] {
			w := want["/srv/half"][p]
			w.ino = half[p].ino
			if half[p] != w {
				t.Errorf("/srv/half%s after the wipe: %v, want %v", p, half[p], want["/srv/half"][p])
			}
		}
	}
	if b, _ := os.ReadFile(s.M("/srv/half/diff.txt")); string(b) != "persistent bytes" {
		t.Errorf("--prefer persistent: diff.txt holds %q", b)
	}
	if b, _ := os.ReadFile(s.M("/etc/adjtime")); string(b) != "0.5 1700000000 0.0\n1700000000\nLOCAL\n" {
		t.Errorf("--prefer live: /etc/adjtime holds %q", b)
	}
}

// assertUnchanged fails for every path whose object differs between two
// snapshots.
func assertUnchanged(t *testing.T, what string, before, after map[string]object) {
	t.Helper()
	for p, b := range before {
		if a, ok := after[p]; !ok || a != b {
			t.Errorf("%s: %q changed (%v -> %v)", what, p, b, a)
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok {
			t.Errorf("%s: %q appeared", what, p)
		}
	}
}

// TestAdoptInterrupted: drift adopt killed mid-copy (SIGKILL after some
// objects) or interrupted between objects (SIGINT) leaves every object of
// the persistent copy as it was or complete, never half-written, and
// running it again finishes the copy and clears what the killed run left.
func TestAdoptInterrupted(t *testing.T) {
	s := driftSystem(t)
	if s == nil {
		return
	}
	extra := filepath.Join(s.dir, "adopt.json")
	testutil.Must(t, os.WriteFile(extra, []byte(adoptDecls), 0o644))
	content := func(i int) string { return strings.Repeat(fmt.Sprintf("file %d\n", i), 1000+i) }
	for i := range 40 {
		writeFile(t, s.M(fmt.Sprintf("/srv/app/d%d/f%d", i%4, i)), content(i), 0o644)
		// Half-migrated: every other file missing from the copy.
		if i%2 == 0 {
			writeFile(t, s.M(fmt.Sprintf("%s/srv/half/f%d", storage, i)), content(i), 0o644)
		}
		writeFile(t, s.M(fmt.Sprintf("/srv/half/f%d", i)), content(i), 0o644)
	}
	adopt := func(env string) (int, string) {
		cmd := command(os.Getenv(envDrift), "adopt", "--root", s.root, "--persist", s.declPath(), "--persist", extra, "/srv/app", "/srv/half")
		cmd.Env = append(os.Environ(), env)
		out, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); ok {
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				return 128 + int(ws.Signal()), string(out)
			}
			return ee.ExitCode(), string(out)
		}
		return 0, string(out)
	}
	// Each object either absent or complete: /srv/app appears whole or not
	// at all; each missing file of /srv/half on its own.
	check := func(what string, wantComplete bool) {
		t.Helper()
		app := s.M(storage + "/srv/app")
		if _, err := os.Lstat(app); err == nil {
			for i := range 40 {
				if b, err := os.ReadFile(filepath.Join(app, fmt.Sprintf("d%d/f%d", i%4, i))); err != nil || string(b) != content(i) {
					t.Errorf("%s: %s is half-written: f%d %v", what, app, i, err)
				}
			}
		} else if wantComplete {
			t.Errorf("%s: %s missing", what, app)
		}
		for i := range 40 {
			b, err := os.ReadFile(s.M(fmt.Sprintf("%s/srv/half/f%d", storage, i)))
			if err == nil && string(b) != content(i) || err != nil && (wantComplete || i%2 == 0) {
				t.Errorf("%s: the copy of /srv/half/f%d: %d bytes, %v", what, i, len(b), err)
			}
		}
	}
	temps := func(d string) (n int) {
		for _, name := range readDirNames(t, s.M(d)) {
			if strings.Contains(name, ".drift-adopt-") || strings.Contains(name, ".drift-restore-") {
				n++
			}
		}
		return n
	}
	// Killed while /srv/app is being copied: it is absent, its partial
	// copy lies under a temporary name.
	if code, out := adopt(adoptInterruptEnv + "=kill:30"); code != 128+int(syscall.SIGKILL) {
		t.Fatalf("adopt with kill:30: exit %d, want killed\n%s", code, out)
	}
	check("after SIGKILL in /srv/app", false)
	if _, err := os.Lstat(s.M(storage + "/srv/app")); err == nil || temps(storage+"/srv") != 1 {
		t.Errorf("after SIGKILL in /srv/app: %v, %d partial copies; want it absent and one partial copy", err, temps(storage+"/srv"))
	}
	// Killed after /srv/app (45 objects) and 4 files of /srv/half.
	if code, out := adopt(adoptInterruptEnv + "=kill:50"); code != 128+int(syscall.SIGKILL) {
		t.Fatalf("adopt with kill:50: exit %d, want killed\n%s", code, out)
	}
	check("after SIGKILL in /srv/half", false)
	copied := 0
	for i := 1; i < 40; i += 2 {
		if _, err := os.Lstat(s.M(fmt.Sprintf("%s/srv/half/f%d", storage, i))); err == nil {
			copied++
		}
	}
	if copied != 4 || temps(storage+"/srv") != 0 {
		t.Errorf("after SIGKILL in /srv/half: %d missing files copied, %d partial copies of /srv/app left; want 4 and 0", copied, temps(storage+"/srv"))
	}
	if code, out := adopt(adoptInterruptEnv + "=int:3"); code != 130 {
		t.Fatalf("adopt with int:3: exit %d, want 130\n%s", code, out)
	}
	check("after SIGINT", false)
	if code, out := adopt(""); code != 0 {
		t.Fatalf("adopt again: exit %d\n%s", code, out)
	}
	check("after the rerun", true)
	for _, d := range []string{storage + "/srv", storage + "/srv/half"} {
		for _, n := range readDirNames(t, s.M(d)) {
			if strings.Contains(n, ".drift-adopt-") || strings.Contains(n, ".drift-restore-") {
				t.Errorf("a partial copy is left in %s: %q", d, n)
			}
		}
	}
}

// TestCheckNamesPartialCopyOfKilledAdopt: drift adopt killed mid-copy
// leaves a partial copy in the persistent storage path; drift check names
// it (a storage warning, also in JSON) with the drift adopt command that
// finishes the copy and removes it, and drift suggest does not propose
// declaring it; running that command leaves the copy complete and the
// partial copy gone, after which check says nothing of it.
func TestCheckNamesPartialCopyOfKilledAdopt(t *testing.T) {
	s := driftSystem(t)
	if s == nil {
		return
	}
	extra := filepath.Join(s.dir, "adopt.json")
	testutil.Must(t, os.WriteFile(extra, []byte(adoptDecls), 0o644))
	for i := range 20 {
		writeFile(t, s.M(fmt.Sprintf("/srv/app/f%d", i)), strings.Repeat("x", 1000+i), 0o644)
	}
	decl := []string{"--root", s.root, "--persist", s.declPath(), "--persist", extra}
	cmd := command(os.Getenv(envDrift), append([]string{"adopt"}, append(decl, "/srv/app")...)...)
	cmd.Env = append(os.Environ(), adoptInterruptEnv+"=kill:10")
	if out, err := cmd.CombinedOutput(); err == nil {
		t.Fatalf("adopt with kill:10 was not killed:\n%s", out)
	}
	var left string
	for _, n := range readDirNames(t, s.M(storage+"/srv")) {
		if strings.Contains(n, ".drift-adopt-") { // drift adopt's mark
			left = storage + "/srv/" + n
		}
	}
	if left == "" {
		t.Fatal("the killed adopt left no partial copy")
	}
	_, out, errOut := s.driftAll(append([]string{"check"}, decl...)...)
	if !strings.Contains(errOut, left+" is a partial copy that a drift adopt left when it was killed") ||
		!strings.Contains(errOut, "; run drift adopt --root ") || // the system audited, as the check ran (escape.DriftCommand)
		!strings.Contains(errOut, " /srv/app again, which finishes the copy of "+storage+"/srv/app and removes it") {
		t.Errorf("drift check does not name the partial copy %s with what to do:\n%s%s", left, out, errOut)
	}
	_, out, errOut = s.driftAll(append([]string{"suggest"}, decl...)...)
	if strings.Contains(out, ".drift-adopt-") {
		t.Errorf("drift suggest lists the partial copy as a suggestion:\n%s%s", out, errOut)
	}
	s.drift(0, append([]string{"adopt"}, append(decl, "/srv/app")...)...)
	if _, err := os.Lstat(s.M(left)); !os.IsNotExist(err) {
		t.Errorf("the rerun left the partial copy %s: %v", left, err)
	}
	if b, err := os.ReadFile(s.M(storage + "/srv/app/f19")); err != nil || len(b) != 1019 {
		t.Errorf("the rerun's copy: %d bytes, %v", len(b), err)
	}
	if _, _, errOut := s.driftAll(append([]string{"check"}, decl...)...); strings.Contains(errOut, "partial copy") {
		t.Errorf("drift check still names a partial copy after the rerun:\n%s", errOut)
	}
}

// adoptInterruptEnv is restore.InterruptEnv (adopt copies through restore).
const adoptInterruptEnv = "DRIFT_TEST_INTERRUPT"

// TestAdoptMountAndOpenFiles: drift adopt refuses (exit 2, nothing
// written) while a running process holds a file under the adopted path
// open, naming it (pid and command), --dry-run too (exit 2, as the real
// run); with --allow-open it copies, names it
// again, and with
// --mount bind-mounts the persistent copy over the declared path at once:
// the running system shows the copy (what is written there lands in
// persistent storage), while the live data stays on the root subvolume
// beneath it (drift never deletes it).
func TestAdoptMountAndOpenFiles(t *testing.T) {
	s := driftSystem(t)
	if s == nil {
		return
	}
	extra := filepath.Join(s.dir, "adopt.json")
	testutil.Must(t, os.WriteFile(extra, []byte(adoptDecls), 0o644))
	writeFile(t, s.M("/srv/app/state.db"), "state", 0o600)
	holder := command("sh", "-c", "exec 3<\"$1\"; exec sleep 60", "sh", s.M("/srv/app/state.db"))
	testutil.Must(t, holder.Start())
	defer func() { holder.Process.Kill(); holder.Wait() }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if l, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/3", holder.Process.Pid)); err == nil && strings.HasSuffix(l, "/srv/app/state.db") {
			if c, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", holder.Process.Pid)); strings.TrimSpace(string(c)) == "sleep" {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the holder process did not open state.db")
		}
		time.Sleep(20 * time.Millisecond)
	}

	// Refused while the file is held open (fresh-user finding: it copied
	// and mounted, exit 0, and said "held open … stop it first" only
	// after): nothing copied, nothing mounted, the pid and program named.
	code, _, refused := s.driftAll("adopt", "--root", s.root, "--persist", s.declPath(), "--persist", extra, "--mount", "/srv/app")
	if code != 2 {
		t.Errorf("adopt --mount with a file held open: exit %d, want 2", code)
	}
	if want := fmt.Sprintf("/srv/app/state.db by pid %d (sleep)", holder.Process.Pid); !strings.Contains(refused, want) || !strings.Contains(refused, "--allow-open") {
		t.Errorf("adopt --mount with a file held open does not refuse naming %q and --allow-open:\n%s", want, refused)
	}
	if mps := s.mountsBelow(s.M("/srv")); len(mps) != 0 {
		t.Errorf("mounts below /srv after the refusal: %q", mps)
	}
	if _, err := os.Lstat(s.M(storage + "/srv/app/state.db")); err == nil {
		t.Errorf("the refused adopt copied state.db")
	}
	// A dry run exits as the real run would (fresh-user finding: exit 0):
	// the plan, then the refusal, exit 2.
	code, plan, dryRefused := s.driftAll("adopt", "--root", s.root, "--persist", s.declPath(), "--persist", extra, "--dry-run", "/srv/app")
	if want := fmt.Sprintf("/srv/app/state.db by pid %d (sleep)", holder.Process.Pid); code != 2 || !strings.Contains(dryRefused, "the real run would refuse") || !strings.Contains(dryRefused, want) || !strings.Contains(plan, "state.db") {
		t.Errorf("adopt --dry-run with a file held open: exit %d, want 2, the plan and the refusal naming %q:\n%s\n%s", code, want, plan, dryRefused)
	}
	out := string(s.drift(0, "adopt", "--root", s.root, "--persist", s.declPath(), "--persist", extra, "--mount", "--allow-open", "/srv/app"))
	if want := fmt.Sprintf("open: /srv/app/state.db is held open by pid %d (sleep)", holder.Process.Pid); !strings.Contains(out, want) {
		t.Errorf("adopt does not say %q:\n%s", want, out)
	}
	if !strings.Contains(out, "mounted now: /srv/app shows") {
		t.Errorf("adopt --mount does not say it mounted /srv/app:\n%s", out)
	}
	if mps := s.mountsBelow(s.M("/srv")); len(mps) != 1 || mps[0] != s.M("/srv/app") {
		t.Fatalf("mounts below /srv after adopt --mount: %q, want /srv/app", mps)
	}
	writeFile(t, s.M("/srv/app/new"), "through the mount", 0o644)
	if b, err := os.ReadFile(s.M(storage + "/srv/app/new")); err != nil || string(b) != "through the mount" {
		t.Errorf("a file written at /srv/app after --mount is not in the persistent copy: %q, %v", b, err)
	}
	if b, err := os.ReadFile(filepath.Join(s.top, "root/srv/app/state.db")); err != nil || string(b) != "state" {
		t.Errorf("the live data beneath the mount: %q, %v; want it kept", b, err)
	}
	// JSON says the same: mounted, one file copied. Nothing left to copy
	// or mount: not refused, though the file beneath is still held open.
	js := s.drift(0, "adopt", "--root", s.root, "--persist", s.declPath(), "--persist", extra, "--format", "json", "/srv/app")
	var r struct {
		Paths []struct {
			MountedNow bool
			HiddenBy   string
			Counts     struct{ Files, Same int }
		}
	}
	if err := json.Unmarshal(js, &r); err != nil || len(r.Paths) != 1 || !r.Paths[0].MountedNow || r.Paths[0].HiddenBy != "/srv/app" || r.Paths[0].Counts.Same != 1 || r.Paths[0].Counts.Files != 0 {
		t.Errorf("adopt --format json after --mount: %+v, %v\n%s", r, err, js)
	}
}
