package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nix-drift/drift/internal/testutil"
)

// TestUndeclaredBindMountAcrossAReboot: /srv/oldsvc (/var/lib/oldsvc of the
// tester; /var/lib is a subvolume of its own here) bind-mounted from
// /nix/persist/srv/oldsvc and no longer declared (issue 12, fresh-user
// tester). Before the reboot drift check calls it unmounted and drift
// suggest agrees: declare it, or it is no longer mounted after the next
// boot. After a real drift wipe and boot, the old root holds only the empty
// mount point: drift check's vanished row points at the persistent copy
// (declare it again), not at a restore of an empty directory, and drift
// suggest lists the copy as mounted there until the last boot, and so does
// drift prune --dry-run.
func TestUndeclaredBindMountAcrossAReboot(t *testing.T) {
	s := driftSystem(t)
	if s == nil {
		return // the test ran in a private mount namespace
	}
	writeFile(t, s.M(storage+"/srv/oldsvc/state.db"), "the service's data\n", 0o600)
	testutil.Must(t, os.MkdirAll(s.M("/srv/oldsvc"), 0o755))
	run(t, "mount", "--bind", s.M(storage+"/srv/oldsvc"), s.M("/srv/oldsvc"))

	cats := s.categoriesWith(1)
	if cats["/srv/oldsvc"] != "unmounted" {
		t.Errorf("before the reboot, drift check: /srv/oldsvc %q, want unmounted (%v)", cats["/srv/oldsvc"], cats)
	}
	if note := s.suggestNote(storage + "/srv/oldsvc"); !strings.Contains(note, "declare /srv/oldsvc") || strings.Contains(note, "nothing to do") {
		t.Errorf("before the reboot, drift suggest: %q, want: declare it, or it is no longer mounted after the next boot", note)
	}

	s.unmountBelow(s.root)
	retired := time.Now().Add(-time.Hour).Truncate(time.Second)
	testutil.Must(t, os.Chtimes(filepath.Join(s.top, "root"), retired, retired))
	w := &wipeImage{t: t, top: s.top, dev: s.dev}
	w.drift()
	s.boot(unbackedAtFirstBoot)

	var r struct {
		Vanished []struct{ Path, Restore, PersistentCopy string }
	}
	out := s.drift(0, "check", "--root", s.root, "--persist", s.declPath(), "--format", "json")
	testutil.Must(t, json.Unmarshal(out, &r))
	found := false
	for _, v := range r.Vanished {
		if v.Path != "/srv/oldsvc" {
			continue
		}
		found = true
		if v.PersistentCopy != storage+"/srv/oldsvc" || v.Restore != "" {
			t.Errorf("vanished /srv/oldsvc: persistentCopy %q, restore %q; want the copy, no restore of the empty mount point", v.PersistentCopy, v.Restore)
		}
	}
	if !found {
		t.Errorf("/srv/oldsvc not among the vanished:\n%s", out)
	}
	code, table, errs := s.driftAll("check", "--root", s.root, "--persist", s.declPath())
	if code != 0 || !strings.Contains(table, "its data is in "+storage+"/srv/oldsvc") {
		t.Errorf("drift check's table: exit %d, no pointer at the persistent copy:\n%s\n%s", code, table, errs)
	}
	if note := s.suggestNote(storage + "/srv/oldsvc"); !strings.Contains(note, "was mounted at /srv/oldsvc until the last boot") {
		t.Errorf("after the reboot, drift suggest: %q, want it mounted there until the last boot", note)
	}
	// drift prune knows it too (it read only the live mount table): the
	// previous root, found in old_roots, holds only the empty mount point.
	// prune moves nothing without the whole configuration.
	s.configuration()
	code, plan, errs := s.driftAll("prune", "--root", s.root, "--persist", s.declPath(), "--dry-run")
	if code != 0 || !strings.Contains(plan, storage+"/srv/oldsvc") || !strings.Contains(plan, "mounted at /srv/oldsvc until the last boot") {
		t.Errorf("after the reboot, drift prune --dry-run: exit %d, does not say %s was mounted at /srv/oldsvc until the last boot:\n%s\n%s", code, storage+"/srv/oldsvc", plan, errs)
	}
}

// suggestNote is the note of drift suggest's row for p (--format json),
// "" when there is none.
func (s *system) suggestNote(p string) string {
	s.t.Helper()
	code, out, errs := s.driftAll("suggest", "--root", s.root, "--persist", s.declPath(), "--format", "json", "-q")
	if code > 1 {
		s.t.Fatalf("drift suggest: exit %d\n%s", code, errs)
	}
	var doc struct {
		Suggestions []struct{ Path, Note string }
	}
	testutil.Must(s.t, json.Unmarshal([]byte(out), &doc))
	for _, x := range doc.Suggestions {
		if x.Path == p {
			return x.Note
		}
	}
	return ""
}

// TestUndeclaredBindMountOnHomeAcrossAReboot is the same story with the
// mount points on another persistent filesystem, the /home subvolume
// (fresh-user tester: alice's Documents and .bash_history were bind-mounted
// from /nix/persist/home/alice, and her block of declarations removed).
// Before the reboot drift check counts them unmounted as it counts the
// same mount at /srv/oldsvc on the root (it said nothing of them), and
// drift suggest agrees (declare them, or move the data onto /home, or they
// are no longer mounted there). After a real wipe and boot /home still holds the empty mount
// points, not the data, and drift suggest and drift prune --dry-run say
// each copy was mounted there until the last boot.
func TestUndeclaredBindMountOnHomeAcrossAReboot(t *testing.T) {
	s := driftSystem(t)
	if s == nil {
		return // the test ran in a private mount namespace
	}
	const docs, hist = "/home/alice/Documents", "/home/alice/.bash_history"
	writeFile(t, s.M(storage+docs+"/thesis.tex"), "\\documentclass{article}\n", 0o600)
	writeFile(t, s.M(storage+hist), "ls\n", 0o600)
	// The same mount on the root, for comparison.
	testutil.Must(t, os.MkdirAll(s.M("/srv/oldsvc"), 0o755))
	writeFile(t, s.M(storage+"/srv/oldsvc/state.db"), "the service's data\n", 0o600)
	testutil.Must(t, os.MkdirAll(s.M(docs), 0o700))
	writeFile(t, s.M(hist), "", 0o600)
	mountAll := func() {
		run(t, "mount", "--bind", s.M(storage+docs), s.M(docs))
		run(t, "mount", "--bind", s.M(storage+hist), s.M(hist))
		run(t, "mount", "--bind", s.M(storage+"/srv/oldsvc"), s.M("/srv/oldsvc"))
	}
	mountAll()

	cats := s.categoriesWith(1)
	for _, p := range []string{docs, hist, "/srv/oldsvc"} { // a directory's row stands for what it holds
		if cats[p] != "unmounted" {
			t.Errorf("before the reboot, drift check: %s %q, want unmounted as on the root (%v)", p, cats[p], cats)
		}
	}
	// On /home the data can also move onto that filesystem; on the root
	// it cannot (the wipe takes it).
	for p, move := range map[string]string{
		docs: "or move the data onto the file system at /home before the next boot (stop what uses it, umount " + docs + ", cp -a --reflink=auto " + storage + docs + "/. " + docs + "/)",
		hist: "or move the data onto the file system at /home before the next boot (stop what uses it, umount " + hist + ", cp -a --reflink=auto " + storage + hist + " " + hist + ")",
	} {
		if note := s.suggestNote(storage + p); !strings.Contains(note, "declare "+p) || !strings.Contains(note, move) || strings.Contains(note, "nothing to do") {
			t.Errorf("before the reboot, drift suggest of %s: %q, want: declare it, %s, or it is no longer mounted after the next boot", p, note, move)
		}
	}
	if note := s.suggestNote(storage + "/srv/oldsvc"); !strings.Contains(note, "declare /srv/oldsvc") || strings.Contains(note, "move the data") {
		t.Errorf("before the reboot, drift suggest of /srv/oldsvc (on the wiped root): %q, want: declare it, no move", note)
	}

	s.unmountBelow(s.root)
	retired := time.Now().Add(-time.Hour).Truncate(time.Second)
	testutil.Must(t, os.Chtimes(filepath.Join(s.top, "root"), retired, retired))
	(&wipeImage{t: t, top: s.top, dev: s.dev}).drift()
	s.boot(unbackedAtFirstBoot)
	if names := readDirNames(t, s.M(docs)); len(names) != 0 {
		t.Fatalf("after the reboot %s holds %q, want only the empty mount point", docs, names)
	}
	for _, p := range []string{docs, hist} {
		if note := s.suggestNote(storage + p); !strings.Contains(note, "was mounted at "+p+" until the last boot") {
			t.Errorf("after the reboot, drift suggest of %s: %q, want it mounted there until the last boot", p, note)
		}
	}
	s.configuration()
	code, plan, errs := s.driftAll("prune", "--root", s.root, "--persist", s.declPath(), "--dry-run")
	for _, p := range []string{docs, hist, "/srv/oldsvc"} {
		if code != 0 || !strings.Contains(plan, "mounted at "+p+" until the last boot") {
			t.Errorf("after the reboot, drift prune --dry-run: exit %d, does not say %s was mounted at %s until the last boot:\n%s\n%s", code, storage+p, p, plan, errs)
		}
	}
}
