package report

import (
	"bytes"
	"flag"
	"github.com/nix-drift/drift/internal/btrfs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nix-drift/drift/internal/diff"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// promAudit is audit() with everything the metrics describe: a previous
// root with a vanished path and alerts, a wipe check, recreated paths and an
// unreadable directory.
func promAudit() *diff.Audit {
	a := audit()
	a.Scanned = 1234
	a.Totals[diff.Recreated] = diff.Total{Count: 4}
	a.Errors = []diff.PathError{{Path: "/locked", Err: os.ErrPermission}}
	a.PreviousRoot = &btrfs.OldRoot{Name: "2026-11-28_09:00:00", Time: time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)}
	a.Vanished = []diff.Vanished{{Entries: 1}, {Entries: 3}} // 4 paths in 2 rows
	a.Alerts = []diff.Alert{{Kind: diff.HostKeyChanged}, {Kind: diff.OwnershipDrift}, {Kind: diff.OwnershipDrift}}
	a.Wipe = &diff.Wipe{RootCreated: time.Date(2026, 11, 29, 8, 0, 0, 500e6, time.UTC), WipedThisBoot: true}
	return a
}

func TestPromGolden(t *testing.T) {
	now := time.Date(2026, 11, 29, 21, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name string
		a    *diff.Audit
		m    Metrics
	}{
		{"full", promAudit(), Metrics{OldRoots: 7, Now: now}},
		// No previous root, no wipe check, old roots unknown: those
		// metrics are left out, not written as 0.
		{"minimal", audit(), Metrics{OldRoots: -1, Now: now}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Write(&buf, tt.a, Options{Format: "prom", Metrics: tt.m}); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "prom-"+tt.name+".prom")
			if *update {
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if buf.String() != string(want) {
				t.Errorf("prom output differs from %s (go test -update rewrites it):\n%s", golden, buf.String())
			}
			promtoolCheck(t, buf.Bytes())
		})
	}
}

// TestPromFacts checks the numbers themselves against the audit, so that
// a golden file rewritten with -update cannot hide a wrong count.
func TestPromFacts(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, promAudit(), Options{Format: "prom", Metrics: Metrics{OldRoots: 7, Now: time.Unix(1764450000, 0)}}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, line := range []string{
		`drift_lost_files{category="unpersisted"} 5`,
		`drift_lost_files{category="declared-unbacked"} 1`,
		`drift_lost_files{category="shadowed"} 0`,
		`drift_lost_files{category="ignored"} 1`,
		`drift_lost_bytes{category="unpersisted"} 16`,
		`drift_lost_bytes{category="ignored"} 7`,
		`drift_declared_unbacked 1`,
		`drift_recreated_files 4`,
		`drift_scanned_entries 1234`,
		`drift_unreadable_paths 1`,
		`drift_vanished_files 4`,
		`drift_alerts{kind="host-key-changed"} 1`,
		`drift_alerts{kind="ownership-drift"} 2`,
		`drift_old_roots 7`,
		`drift_previous_root_timestamp_seconds 1795856400`,
		`drift_last_wipe_timestamp_seconds 1795939200.5`,
		`drift_wiped_this_boot 1`,
		`drift_last_check_timestamp_seconds 1764450000`,
	} {
		if !strings.Contains(out, "\n"+line+"\n") {
			t.Errorf("missing %q in:\n%s", line, out)
		}
	}
	// Every family has HELP then TYPE gauge before its samples, once.
	seen := map[string]bool{}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "#") {
			continue
		}
		name, _, _ := strings.Cut(l, " ")
		name, _, _ = strings.Cut(name, "{")
		if seen[name] {
			continue
		}
		seen[name] = true
		if i < 2 || lines[i-2] != "# HELP "+name+" "+strings.TrimPrefix(lines[i-2], "# HELP "+name+" ") || lines[i-1] != "# TYPE "+name+" gauge" {
			t.Errorf("%s: first sample not preceded by its HELP and TYPE lines", name)
		}
	}
}

// promtoolCheck runs `promtool check metrics` (Debian's prometheus package)
// on the exposition text: a parse error or a lint problem fails the test.
// Without promtool the check is skipped, unless DRIFT_REQUIRE_PROMTOOL=1
// (.ci/run) makes that a failure.
func promtoolCheck(t *testing.T, text []byte) {
	t.Helper()
	pt, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("DRIFT_REQUIRE_PROMTOOL") == "1" {
			t.Fatal("promtool not found and DRIFT_REQUIRE_PROMTOOL=1 (apt-get install prometheus)")
		}
		t.Log("promtool not found: exposition format not validated (apt-get install prometheus)")
		return
	}
	cmd := exec.Command(pt, "check", "metrics")
	cmd.Stdin = bytes.NewReader(text)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}
