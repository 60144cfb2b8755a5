package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/testutil"
)

// rehearsal is drift rehearse --format json.
type rehearsal struct {
	Reports []string
	Paths   []struct {
		Path, Kind, Now, Step   string
		Lost, Compared, Changed int
		InLatest                bool
	}
	Ready                  bool
	Reason, Next           string
	Persist, Ignore, Adopt []string
}

// TestRehearseAcrossBoots: on a real btrfs system rehearsing (no wipe
// between boots), the reports of real drift check --format json runs at
// three shutdowns, with state that changes at every boot (/etc/myapp),
// data that stays identical (/opt/regen, one row /opt), a cache (/var/cache/thing, one row /var/cache), a
// file lost at one shutdown only and a declared directory whose data is
// still on the root, give per path the boots it would have been lost in,
// its kind and step, and the verdict not ready with the exact steps; once
// they are persisted, ignored or gone the verdict is ready; fewer reports
// than --min-boots is never ready; --format prom says drift_rehearsal_ready.
func TestRehearseAcrossBoots(t *testing.T) {
	s := driftSystem(t)
	if s == nil {
		return
	}
	reports := filepath.Join(s.dir, "reports")
	testutil.Must(t, os.MkdirAll(reports, 0o700))
	shutdown := func(name string) {
		t.Helper()
		code, out, errOut := s.driftAll("check", "--root", s.root, "--persist", s.declPath(), "--format", "json", "--old-roots", "none")
		if code != 1 || !json.Valid([]byte(out)) {
			t.Fatalf("drift check at shutdown %s: exit %d\n%s", name, code, errOut)
		}
		testutil.Must(t, os.WriteFile(filepath.Join(reports, "shutdown-"+name+".json"), []byte(out), 0o600))
	}
	writeFile(t, s.M("/opt/regen/index"), "same", 0o644)
	writeFile(t, s.M("/var/cache/thing/blob"), "cache", 0o644)
	writeFile(t, s.M("/srv/declared-unmounted/data"), "declared, never mounted", 0o644)
	writeFile(t, s.M("/root/once.txt"), "only at the first shutdown", 0o644)
	for i, name := range []string{"2026-12-01T08:00:00.000000000Z", "2026-12-02T08:00:00.000000000Z", "2026-12-03T08:00:00.000000000Z"} {
		writeFile(t, s.M("/etc/myapp/state"), strings.Repeat("x", i+1), 0o600)
		shutdown(name)
		if i == 0 {
			testutil.Must(t, os.Remove(s.M("/root/once.txt")))
		}
	}
	testutil.Must(t, os.WriteFile(filepath.Join(reports, "latest.json"), []byte("not read"), 0o600))
	rehearse := func(want int, extra ...string) rehearsal {
		t.Helper()
		out := s.drift(want, append([]string{"rehearse", "--root", s.root, "--persist", s.declPath(), "--reports", reports, "--old-roots", "none", "--format", "json"}, extra...)...)
		var r struct{ Rehearsal rehearsal }
		if err := json.Unmarshal(out, &r); err != nil {
			t.Fatalf("drift rehearse: %v\n%s", err, out)
		}
		return r.Rehearsal
	}
	r := rehearse(1)
	if len(r.Reports) != 3 || r.Ready {
		t.Fatalf("rehearsal: %+v", r)
	}
	type want struct {
		lost, changed   int
		kind, now, step string
	}
	for p, w := range map[string]want{
		"/etc/myapp":                   {3, 2, "state", "unpersisted", "persist"},
		"/opt":                         {3, 0, "identical", "unpersisted", "persist"},
		"/var/cache":                   {3, 0, "identical", "unpersisted", "ignore"},
		"/root/once.txt":               {1, 0, "once", "gone", ""},
		"/srv/declared-unmounted/data": {3, 0, "identical", "declared-unbacked", "adopt"},
	} {
		i := slices.IndexFunc(r.Paths, func(x struct {
			Path, Kind, Now, Step   string
			Lost, Compared, Changed int
			InLatest                bool
		}) bool {
			return x.Path == p
		})
		if i < 0 {
			t.Errorf("%s not in the rehearsal: %+v", p, r.Paths)
			continue
		}
		x := r.Paths[i]
		if x.Lost != w.lost || x.Changed != w.changed || x.Kind != w.kind || x.Now != w.now || x.Step != w.step {
			t.Errorf("%s: %+v, want %+v", p, x, w)
		}
	}
	if !slices.Contains(r.Persist, "/etc/myapp") || !slices.Contains(r.Ignore, "/var/cache") ||
		!slices.Contains(r.Adopt, "/srv/declared-unmounted/data") || !strings.Contains(r.Next, "persist /etc/myapp") {
		t.Errorf("steps: persist %q ignore %q adopt %q next %q", r.Persist, r.Ignore, r.Adopt, r.Next)
	}

	// Decide everything: persist /etc/myapp and /opt/regen (copied and
	// bind-mounted as the module would), ignore the cache, and the
	// declared paths' data gone from the root.
	extra := filepath.Join(s.dir, "more.json")
	testutil.Must(t, os.WriteFile(extra, []byte(`{"persistentStoragePath": "/nix/persist", "directories": ["/etc/myapp", "/opt/regen"]}`), 0o644))
	for _, d := range []string{"/etc/myapp", "/opt/regen"} {
		testutil.Must(t, os.MkdirAll(s.M(storage+d), 0o755))
		run(t, "cp", "-a", s.M(d)+"/.", s.M(storage+d))
		run(t, "mount", "--bind", s.M(storage+d), s.M(d))
	}
	testutil.Must(t, os.RemoveAll(s.M("/srv/declared-unmounted")))
	r = rehearse(0, "--persist", extra, "--ignore", "/var/cache")
	if !r.Ready || len(r.Persist)+len(r.Ignore)+len(r.Adopt) != 0 || !strings.Contains(r.Next, "rehearse = false") {
		t.Errorf("after deciding: %+v", r)
	}
	r = rehearse(1, "--persist", extra, "--ignore", "/var/cache", "--min-boots", "4")
	if r.Ready || !strings.Contains(r.Reason, "fewer than the 4") || !strings.Contains(r.Next, "1 more shutdowns") {
		t.Errorf("--min-boots 4: %+v", r)
	}
	prom := s.drift(0, "rehearse", "--root", s.root, "--persist", s.declPath(), "--persist", extra, "--ignore", "/var/cache", "--reports", reports, "--old-roots", "none", "--format", "prom")
	if !strings.Contains(string(prom), "\ndrift_rehearsal_ready 1\n") {
		t.Errorf("--format prom:\n%s", prom)
	}
	if pt, err := exec.LookPath("promtool"); err == nil {
		cmd := exec.Command(pt, "check", "metrics")
		cmd.Stdin = strings.NewReader(string(prom))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool check metrics: %v\n%s", err, out)
		}
	}
}
