package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
	must(t, os.WriteFile(extra, []byte(coveredDecls), 0o644))
	writeFile(t, s.M("/home/alice/.mozilla/firefox/prefs.js"), "user_pref(1);", 0o600)
	must(t, os.Chown(s.M("/home/alice/.mozilla/firefox/prefs.js"), 1000, 100))
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
	must(t, os.WriteFile(extra, []byte(coveredDecls), 0o644))
	writeFile(t, s.M("/srv/appdata/db"), "data", 0o600)
	must(t, os.MkdirAll(s.M("/var/lib"), 0o755))
	must(t, os.Symlink("/srv/appdata", s.M("/var/lib/app")))
	code, out, errOut := s.driftAll("adopt", "--root", s.root, "--persist", s.declPath(), "--persist", extra, "/var/lib/app")
	if code != 2 || !strings.Contains(errOut, "is a symlink to /srv/appdata") || !strings.Contains(errOut, "declare the link's target") {
		t.Errorf("adopt of a declared directory that is a symlink: exit %d\n%s%s", code, out, errOut)
	}
	if _, err := os.Lstat(s.M(storage + "/var/lib/app")); !os.IsNotExist(err) {
		t.Errorf("refused, yet the persistent copy exists: %v", err)
	}
}

// TestAdoptSkipsFifoSayingAdopt: a fifo in an adopted directory is skipped
// with a warning in adopt's words, not restore's.
func TestAdoptSkipsFifoSayingAdopt(t *testing.T) {
	s := driftSystem(t)
	if s == nil {
		return
	}
	extra := filepath.Join(s.dir, "covered.json")
	must(t, os.WriteFile(extra, []byte(coveredDecls), 0o644))
	writeFile(t, s.M("/srv/withfifo/file"), "x", 0o644)
	run(t, "mkfifo", s.M("/srv/withfifo/pipe"))
	_, out, errOut := s.driftAll("adopt", "--root", s.root, "--persist", s.declPath(), "--persist", extra, "/srv/withfifo")
	if !strings.Contains(errOut, "/srv/withfifo/pipe not copied: fifo: adopt copies regular files") || strings.Contains(errOut, "restore") {
		t.Errorf("adopt's fifo warning:\n%s%s", out, errOut)
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
