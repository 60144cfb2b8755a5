package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/testutil"
)

// TestBindFromRootAndBlankSnapshotPredictLoss: on a real btrfs system,
//   - a bind mount whose source lies on the root subvolume
//     (mount --bind /srv/dockerdata /var/lib/docker), with a declaration
//     inside the mount point;
//   - a wipe that makes the fresh root a snapshot of a blank subvolume
//     (drift wipe --blank root-blank, services.drift.wipe.blank), holding
//     a file with the root's bytes, one with other bytes, a directory;
//
// drift check's lost set (--format paths0) equals what a real drift wipe
// --blank and the next boot's mounts removed: the bind mount's data is
// lost once, at its source (never "covered" at the mount point), what the
// blank brings back the same is not lost, a file whose bytes differ from
// the blank's is.
func TestBindFromRootAndBlankSnapshotPredictLoss(t *testing.T) {
	s := driftSystem(t)
	if s == nil {
		return // the test ran in a private mount namespace
	}
	extra := filepath.Join(s.dir, "extra.json")
	testutil.Must(t, os.WriteFile(extra, []byte(`{"persistentStoragePath": "/nix/persist", "directories": [ "/var/lib/docker/db" ]}`), 0o644))
	wipeCfg := filepath.Join(s.dir, "wipe.nix")
	testutil.Must(t, os.WriteFile(wipeCfg, []byte(`{ ... }: { services.drift.wipe = { enable = true; blank = "root-blank"; }; }`+"\n"), 0o644))
	w := func(p, content string) { t.Helper(); writeFile(t, s.M(p), content, 0o644) }

	// The bind mount from the root.
	w("/srv/dockerdata/db/data", "docker data\n")
	w("/srv/dockerdata/image", "layer\n")
	testutil.Must(t, os.MkdirAll(s.M("/var/lib/docker"), 0o755))
	run(t, "mount", "--bind", s.M("/srv/dockerdata"), s.M("/var/lib/docker"))

	// The blank snapshot, and what the root holds at its paths.
	blank := filepath.Join(s.top, "root-blank")
	run(t, "btrfs", "subvolume", "create", blank)
	writeFile(t, filepath.Join(blank, "etc/blank-same"), "same\n", 0o644)
	writeFile(t, filepath.Join(blank, "etc/blank-other"), "blank\n", 0o644)
	testutil.Must(t, os.MkdirAll(filepath.Join(blank, "opt/blankdir"), 0o755))
	w("/etc/blank-same", "same\n")
	w("/etc/blank-other", "live\n")
	w("/opt/blankdir/new", "new\n")

	check := []string{"check", "--root", s.root, "--persist", s.declPath(), "--persist", extra, "--persist", wipeCfg}
	predicted := parsePaths0(t, s.drift(1, append(check, "--format", "paths0")...))

	var r struct {
		Items    []struct{ Path, Category, Why string }
		Warnings []string
	}
	testutil.Must(t, json.Unmarshal(s.drift(1, append(check, "--format", "json")...), &r))
	for _, it := range r.Items {
		if strings.HasPrefix(it.Path, "/var/lib/docker") || it.Category == "covered" {
			t.Errorf("row %s %s (%s): the bind mount's data is counted at its source only", it.Path, it.Category, it.Why)
		}
		if it.Path == "/srv/dockerdata/db/data" && !strings.Contains(it.Why, "/var/lib/docker/db/data") {
			t.Errorf("%s: why %q, want the mount point named", it.Path, it.Why)
		}
	}
	if !strings.Contains(strings.Join(r.Warnings, "\n"), "/var/lib/docker is bind-mounted from /srv/dockerdata") {
		t.Errorf("no warning about the bind mount from the root: %q", r.Warnings)
	}
	for _, p := range []string{"/etc/blank-same", "/opt/blankdir", "/opt"} {
		if predicted[p] {
			t.Errorf("predicted lost: %s, which the blank snapshot brings back", p)
		}
	}

	before := snapshot(t, s.root)

	// Shutdown, a real drift wipe --blank, the next boot with every
	// declaration mounted (the extra one too, its source made).
	s.unmountBelow(s.root)
	(&wipeImage{t: t, top: s.top, dev: s.dev}).drift("--blank", "root-blank")
	s.boot(nil)
	testutil.Must(t, os.MkdirAll(s.M(storage+"/var/lib/docker/db"), 0o755))
	testutil.Must(t, os.MkdirAll(s.M("/var/lib/docker/db"), 0o755))
	run(t, "mount", "--bind", s.M(storage+"/var/lib/docker/db"), s.M("/var/lib/docker/db"))

	after := snapshot(t, s.root)
	// What the bind mount showed is the source's data, counted there.
	actual := lostPaths(before, after, func(p string) bool { return !strings.HasPrefix(p, "/var/lib/docker/") })
	for _, p := range []string{"/srv/dockerdata/db/data", "/etc/blank-other", "/opt/blankdir/new"} {
		if _, ok := actual[p]; !ok {
			t.Errorf("harness: %s survived, want lost", p)
		}
	}
	for _, p := range []string{"/etc/blank-same", "/opt/blankdir"} {
		if why, ok := actual[p]; ok {
			t.Errorf("harness: %s lost (%s), want it back from the blank", p, why)
		}
	}
	if b, err := os.ReadFile(s.M("/etc/blank-other")); err != nil || string(b) != "blank\n" {
		t.Errorf("harness: after the boot /etc/blank-other is %q, %v; want the blank's", b, err)
	}
	samePrediction(t, predicted, actual)
}
