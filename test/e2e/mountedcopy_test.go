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
