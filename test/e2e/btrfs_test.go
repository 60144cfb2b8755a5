package e2e

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// mustLose are paths the real wipe must destroy, one or more per category
// of loss drift reports (unpersisted, declared-unbacked, unmounted,
// shadowed: docs/how-it-works.md#categories); mustKeep are paths that must
// survive it (persistent subvolumes and storage, declared and backed
// paths, what activation re-makes). They check the harness itself (in
// every mode) and then drift's prediction.
var (
	mustLose = []string{
		// unpersisted
		"/imperm_test", "/imperm_test/testfile",
		"/etc/my-local-tweak.conf",
		"/root/.nix-profile-link", // a symlink into /nix/store that activation does not make
		"/var/cache", "/var/cache/foo/bar",
		"/srv/nested-subvol", "/srv/nested-subvol/file",
		"/srv/nested-subvol/inner", "/srv/nested-subvol/inner/deep.txt",
		"/tmp/fifo", "/tmp/sock",
		"/data/hl-a", "/data/hl-b",
		"/links/a", "/links/b", "/links/dangling",
		"/big/sparse.img",
		nameSpace, nameNewline, nameBadUTF8, nameESC, nameTab, nameBSlash,
		"/names/dir\x1b]0;title\x07/inside",
		"/locked", "/locked/secret",
		"/empty-dir",
		// declared-unbacked
		"/srv/declared-unmounted/data.txt", "/srv/declared-unmounted/sub", "/srv/declared-unmounted/sub/more.txt",
		"/etc/adjtime",
		// unmounted (no longer declared; the data stays in /nix/persist)
		"/opt/old-state", "/opt/old-state/state.db", "/opt/old-state/sub/deeper.txt",
		"/opt/old-state/written-through-bind",
		// shadowed (on the root subvolume, under mount points)
		"/var/log/shadowed-under-log.txt", "/etc/nixos/hidden-under-bind.txt", "/home/shadowed-home.txt",
	}
	mustKeep = []string{
		// persistent subvolumes and storage
		"/var/log/x", "/var/log/journal/abc/system.journal", "/var/lib/other/state",
		"/home/u/file", "/home/u/with space\nand newline", "/nix/store/abc-hello/bin/hello",
		"/nix/persist/random/keep.txt", "/nix/persist/opt/old-state/state.db",
		// declared and backed
		"/etc/nixos/configuration.nix", "/etc/machine-id",
		"/var/lib/bluetooth/AA:BB:CC:DD:EE:FF/settings",
		"/root/.gnupg/pubring.kbx", "/root/.bash_history",
		// recreated: activation output and re-made parent directories
		"/bin/sh", "/usr/bin/env", "/etc/static", "/etc/hostname",
		"/bin", "/usr", "/usr/bin", "/etc", "/var", "/srv", "/root",
		"/etc/nixos", "/srv/declared-unmounted", "/root/.gnupg",
		"/nix", "/nix/persist", "/var/log", "/var/lib", "/home",
	}
)

// TestWipePredictsLoss builds the reference impermanence system on a real
// btrfs image, asks `drift check --format paths0` what the next boot loses,
// performs the seed's initrd wipe and the next boot, and compares the
// prediction with what actually disappeared.
func TestWipePredictsLoss(t *testing.T) {
	if !namespace.IsChild(t) {
		runInNamespace(t)
		return
	}
	s := newSystem(t)
	s.populate()

	before := snapshot(t, s.root)
	rawBefore := snapshot(t, filepath.Join(s.top, "root"))

	var predicted map[string]bool
	if !harnessOnly() {
		out := s.drift(1, "check", "--root", s.root, "--persist", s.declPath(), "--format", "paths0")
		predicted = parsePaths0(t, out)
	}

	oldRoot := s.shutdownAndWipe()
	s.boot(nil)

	after := snapshot(t, s.root)
	rawAfter := snapshot(t, filepath.Join(s.top, "root"))

	// What the wipe destroyed: visible paths that are not visible the same
	// after the boot, and shadowed paths (on the root subvolume, hidden by a
	// mount) that the new root subvolume does not have.
	actual := lostPaths(before, after, nil)
	for p, why := range lostPaths(rawBefore, rawAfter, func(p string) bool { _, visible := before[p]; return !visible }) {
		actual[p] = "shadowed: " + why
	}
	var listing strings.Builder
	for _, p := range sortedKeys(actual) {
		listing.WriteString("  " + quote(p) + "  (" + actual[p] + ")\n")
	}
	t.Logf("ACTUALLY-LOST (%d paths, old root %s):\n%s", len(actual), oldRoot, listing.String())

	// The harness's own expectations: what it built to be lost is gone
	// after the real wipe, what it built to be kept is not.
	for _, p := range mustLose {
		if _, ok := actual[p]; !ok {
			t.Errorf("harness: %s survived the wipe, want lost", quote(p))
		}
	}
	for _, p := range mustKeep {
		if why, ok := actual[p]; ok {
			t.Errorf("harness: %s lost (%s), want kept", quote(p), why)
		}
		if _, ok := before[p]; !ok {
			t.Errorf("harness: %s was never created", quote(p))
		}
	}
	// The moved-away root still holds what the wipe took off the live root.
	if _, err := os.Lstat(filepath.Join(s.top, "old_roots", oldRoot, "imperm_test", "testfile")); err != nil {
		t.Errorf("old root %s does not hold /imperm_test/testfile: %v", oldRoot, err)
	}
	if t.Failed() || harnessOnly() {
		return
	}

	// drift's prediction must be exactly what was lost.
	var missing, extra []string
	for _, p := range sortedKeys(actual) {
		if isSocket(before, rawBefore, p) {
			// A socket is recreated by the program listening on it, not
			// data (docs/how-it-works.md): the wipe removes it, drift
			// counts it recreated, never lost. The harness runs no such
			// program, so it stays gone here.
			if predicted[p] {
				t.Errorf("drift predicts the socket %s lost", quote(p))
			}
			continue
		}
		if !predicted[p] {
			missing = append(missing, "  "+quote(p)+"  ("+actual[p]+")")
		}
	}
	for _, p := range sortedKeys(predicted) {
		if _, ok := actual[p]; !ok {
			what := "not lost"
			if o, ok := before[p]; ok {
				what = "kept: " + o.String()
			} else if _, ok := rawBefore[p]; !ok {
				what = "never existed"
			}
			extra = append(extra, "  "+quote(p)+"  ("+what+")")
		}
	}
	if len(missing) > 0 {
		t.Errorf("lost by the wipe but not predicted by drift (%d):\n%s", len(missing), strings.Join(missing, "\n"))
	}
	if len(extra) > 0 {
		t.Errorf("predicted by drift but not lost (%d):\n%s", len(extra), strings.Join(extra, "\n"))
	}
	for _, p := range []string{"/imperm_test/testfile", nameNewline, nameESC, nameBadUTF8,
		"/srv/nested-subvol/inner/deep.txt", "/opt/old-state/state.db", "/srv/declared-unmounted/data.txt"} {
		if !predicted[p] {
			t.Errorf("drift did not predict %s", quote(p))
		}
	}
	for _, p := range []string{"/var/log/x", "/bin/sh", "/usr/bin/env", "/etc/hostname", "/etc/nixos/configuration.nix", "/nix/persist/opt/old-state/state.db"} {
		if predicted[p] {
			t.Errorf("drift predicted %s, which survives", quote(p))
		}
	}
}

// drift runs the drift binary inside the namespace, checks its exit code and
// returns its stdout.
func (s *system) drift(wantExit int, args ...string) []byte {
	t := s.t
	t.Helper()
	bin := os.Getenv(envDrift)
	if bin == "" {
		t.Fatal(envDrift + " not set in the namespaced child")
	}
	cmd := command(bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("drift %s: %v", strings.Join(args, " "), err)
	}
	if stderr.Len() > 0 {
		t.Logf("drift %s: stderr:\n%s", strings.Join(args, " "), stderr.String())
	}
	if code != wantExit {
		t.Fatalf("drift %s: exit %d, want %d\nstdout:\n%s", strings.Join(args, " "), code, wantExit, quote(tail(stdout.String(), 4000)))
	}
	validateJSON(t, args, stdout.Bytes())
	return stdout.Bytes()
}

// quote prints a path escaped (newlines, ESC, invalid UTF-8 visible).
func quote(p string) string {
	return strconv.Quote(p)
}

// isSocket reports whether p was a socket before the wipe, visible or
// beneath a mount.
func isSocket(before, rawBefore map[string]object, p string) bool {
	o, ok := before[p]
	if !ok {
		o = rawBefore[p]
	}
	return o.Type&fs.ModeSocket != 0
}
