package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nix-drift/drift/internal/testutil"
)

// driftAll runs drift inside the namespace and returns its exit status,
// stdout and stderr.
func (s *system) driftAll(args ...string) (int, string, string) {
	s.t.Helper()
	cmd := command(os.Getenv(envDrift), args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	validateJSON(s.t, args, stdout.Bytes())
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), stdout.String(), stderr.String()
	} else if err != nil {
		s.t.Fatalf("drift %s: %v", strings.Join(args, " "), err)
	}
	return 0, stdout.String(), stderr.String()
}

// checkRow is one row of drift check --format json.
type checkRow struct {
	Path, Category string
	Entries        int64
}

// checkRows runs drift check --format json with extra flags (exiting
// wantExit) and returns its rows.
func (s *system) checkRows(wantExit int, extra ...string) []checkRow {
	s.t.Helper()
	out := s.drift(wantExit, append([]string{"check", "--root", s.root, "--persist", s.declPath(), "--format", "json"}, extra...)...)
	var r struct{ Items []checkRow }
	if err := json.Unmarshal(out, &r); err != nil {
		s.t.Fatalf("drift check --format json: %v\n%s", err, out)
	}
	return r.Items
}

// vanishedRows runs drift check --format json (exiting 0 or 1) and
// returns its VANISHED rows, decoded as R, that keep accepts.
func vanishedRows[R any](s *system, keep func(R) bool) []R {
	s.t.Helper()
	code, out, errOut := s.driftAll("check", "--root", s.root, "--persist", s.declPath(), "--format", "json")
	if code > 1 {
		s.t.Fatalf("drift check: exit %d\n%s", code, errOut)
	}
	var r struct{ Vanished []R }
	testutil.Must(s.t, json.Unmarshal([]byte(out), &r))
	return slices.DeleteFunc(r.Vanished, func(v R) bool { return !keep(v) })
}

// categoriesWith runs drift check --format json with extra flags and
// returns each row's category.
func (s *system) categoriesWith(wantExit int, extra ...string) map[string]string {
	s.t.Helper()
	cats := map[string]string{}
	for _, it := range s.checkRows(wantExit, extra...) {
		cats[it.Path] = it.Category
	}
	return cats
}

// rowsWith is categoriesWith with each row's entry count: a directory lost
// whole is one row, and only its count shows what is in it.
func (s *system) rowsWith(wantExit int, extra ...string) map[string]string {
	s.t.Helper()
	rows := map[string]string{}
	for _, it := range s.checkRows(wantExit, extra...) {
		rows[it.Path] = fmt.Sprintf("%s %d", it.Category, it.Entries)
	}
	return rows
}

// TestCheckRootSubvol: --root-subvol /root reads the root subvolume through
// the private top-level mount and reports a file hidden under a bind mount as
// shadowed, exactly as auto (open_tree) does; none reports nothing shadowed
// (and says so with --verbose); a path that is not the subvolume mounted at
// the root, or not a subvolume, is refused.
func TestCheckRootSubvol(t *testing.T) {
	s := driftSystem(t)
	if s == nil {
		return // the test ran in a private mount namespace
	}
	const hidden = "/etc/nixos/hidden-under-bind.txt"
	testutil.Must(t, os.WriteFile(filepath.Join(s.top, "root", hidden), []byte("hidden\n"), 0o644))
	testutil.Must(t, os.MkdirAll(filepath.Join(s.top, "root", "/var/lib/bluetooth/old"), 0o755))
	testutil.Must(t, os.MkdirAll(filepath.Join(s.top, "plain"), 0o755))
	testutil.Must(t, os.MkdirAll(s.M("/tmp"), 0o1777))

	auto := s.categoriesWith(1)
	if auto[hidden] != "shadowed" {
		t.Fatalf("auto: %s is %q, want shadowed (rows: %q)", hidden, auto[hidden], auto)
	}
	for _, flags := range [][]string{
		{"--root-subvol", "/root"},
		{"--root-subvol", "root"},
		{"--root-subvol", "/root", "--no-open-tree"},
		{"--no-open-tree"}, // auto, open_tree unavailable: through the top level
	} {
		got := s.categoriesWith(1, flags...)
		if !maps.Equal(got, auto) {
			t.Errorf("%q: rows\n%q\nwant (auto)\n%q", flags, got, auto)
		}
	}

	// The private top-level mount is made in $TMPDIR: on the live system
	// that is /tmp, on the root being walked. It must never be walked (it
	// shows the whole filesystem: /nix, persistent storage, old roots).
	base := s.rowsWith(1, "--old-roots", "none")
	t.Setenv("TMPDIR", s.M("/tmp"))
	for _, flags := range [][]string{{"--root-subvol", "/root"}, {"--no-open-tree"}, {"--old-roots", "auto"}} {
		if got := s.rowsWith(1, flags...); !maps.Equal(got, base) {
			t.Errorf("%q with TMPDIR on the walked root: rows\n%q\nwant\n%q", flags, got, base)
		}
	}
	if left := readDirNames(t, s.M("/tmp")); len(left) != 0 {
		t.Errorf("left in TMPDIR: %q", left)
	}
	os.Unsetenv("TMPDIR")
	testutil.Must(t, os.Remove(s.M("/tmp")))

	code, out, errOut := s.driftAll("check", "--root", s.root, "--persist", s.declPath(), "--format", "json", "--root-subvol", "none", "--verbose")
	if code != 0 { // only the shadowed entries are lost on this system
		t.Fatalf("--root-subvol none: exit %d, want 0\n%s", code, errOut)
	}
	if strings.Contains(out, `"shadowed",`) || strings.Contains(out, "hidden-under-bind") {
		t.Errorf("--root-subvol none reports shadowed entries:\n%s", out)
	}
	if !strings.Contains(errOut, "--root-subvol none: not looking under mount points") {
		t.Errorf("--root-subvol none --verbose does not say it:\n%s", errOut)
	}

	for spec, want := range map[string]string{
		"/nix":     "but " + s.root + " is subvolume 256 (/root on " + s.dev,
		"/plain":   "/plain on " + s.dev + ": not a btrfs subvolume",
		"/missing": "/missing on " + s.dev + ": no such file or directory",
		"/..":      "not a subvolume path",
	} {
		code, _, errOut := s.driftAll("check", "--root", s.root, "--persist", s.declPath(), "--root-subvol", spec)
		if code != 2 || !strings.Contains(errOut, want) {
			t.Errorf("--root-subvol %s: exit %d, stderr:\n%s\nwant exit 2 and %q", spec, code, errOut, want)
		}
	}
}

// TestCheckOldRootsAuto: --old-roots auto finds old_roots next to the root
// subvolume and picks the newest old root by real time (2026-11-10 after
// 2026-11-9, which sorts after it as a string), never the live root even
// when it has been renamed into old_roots while mounted (C18); DIR does the
// same from a directory; none reports null.
func TestCheckOldRootsAuto(t *testing.T) {
	s := driftSystem(t)
	if s == nil {
		return // the test ran in a private mount namespace
	}
	prev := func(extra ...string) (string, string) {
		t.Helper()
		code, out, errOut := s.driftAll(append([]string{"check", "--root", s.root, "--persist", s.declPath(), "--format", "json", "--verbose"}, extra...)...)
		if code > 1 {
			t.Fatalf("drift check %q: exit %d\n%s", extra, code, errOut)
		}
		var r struct {
			PreviousRoot *struct{ Name, Time string } `json:"previousRoot"`
		}
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("drift check: %v\n%s", err, out)
		}
		if !strings.Contains(out, `"previousRoot"`) {
			t.Errorf("no previousRoot field in the JSON report")
		}
		if strings.Contains(errOut, "warning: cannot find the previous") {
			t.Errorf("drift check %q warns:\n%s", extra, errOut)
		}
		if r.PreviousRoot == nil {
			return "", errOut
		}
		if _, err := time.Parse(time.RFC3339, r.PreviousRoot.Time); err != nil {
			t.Errorf("previousRoot.time %q: %v", r.PreviousRoot.Time, err)
		}
		return r.PreviousRoot.Name + " " + r.PreviousRoot.Time, errOut
	}
	if got, _ := prev(); got != "" {
		t.Errorf("no old_roots: previousRoot %q, want null", got)
	}
	old := filepath.Join(s.top, "old_roots")
	testutil.Must(t, os.MkdirAll(old, 0o755))
	for _, n := range []string{"2026-11-9_10:00:00", "2026-11-10_09:00:00", "2026-10-30_23:00:00"} {
		run(t, "btrfs", "subvolume", "create", filepath.Join(old, n))
	}
	testutil.Must(t, os.MkdirAll(filepath.Join(old, "2026-11-29_00:00:00"), 0o755)) // a plain directory: never picked by auto
	const want = "2026-11-10_09:00:00 2026-11-10T09:00:00Z"
	got, errOut := prev()
	if got != want {
		t.Errorf("--old-roots auto: previousRoot %q, want %q", got, want)
	}
	if !strings.Contains(errOut, "the previous boot's root is "+s.dev+":/old_roots/2026-11-10_09:00:00") {
		t.Errorf("--verbose does not name the previous boot's root:\n%s", errOut)
	}
	if got, _ := prev("--old-roots", "none"); got != "" {
		t.Errorf("--old-roots none: previousRoot %q, want null", got)
	}

	// The live root renamed into old_roots after it was mounted, with the
	// newest name of all (field case C18): it is still never the previous
	// root.
	testutil.Must(t, os.Rename(filepath.Join(s.top, "root"), filepath.Join(old, "2026-11-30_08:00:00")))
	if got, _ := prev(); got != want {
		t.Errorf("live root renamed into old_roots: --old-roots auto: previousRoot %q, want %q (never the live root)", got, want)
	}
	// DIR: subvolumes and directories in it count, never the live root.
	if got, _ := prev("--old-roots", old); got != "2026-11-29_00:00:00 2026-11-29T00:00:00Z" {
		t.Errorf("--old-roots %s: previousRoot %q, want the plain directory 2026-11-29_00:00:00", old, got)
	}
	testutil.Must(t, os.Remove(filepath.Join(old, "2026-11-29_00:00:00")))
	if got, _ := prev("--old-roots", old); got != want {
		t.Errorf("--old-roots %s: previousRoot %q, want %q", old, got, want)
	}
}
