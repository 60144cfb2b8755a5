package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nix-drift/drift/internal/btrfs"
	"github.com/nix-drift/drift/internal/testutil"
)

// TestKilledRestoreLeavesNoUserState: drift restore killed (SIGKILL)
// mid-copy, into the persistent copy of a declared directory and --to live
// on the wiped root, leaves a partial copy beside each destination. Both
// are drift's own, one fact every command reads: drift check warns of
// each with a command that clears it as printed (rm -r; never the drift
// adopt that, for a restore's copy, found "nothing there to adopt" and
// left it), and lists neither as lost; drift suggest proposes neither
// (nor an adopt of it); drift prune moves neither; after a real wipe and
// boot, the one on the wiped root is gone and never listed as vanished
// nor offered to restore. A fresh user's findings: check told them to run
// drift adopt, which did nothing, and the leftover of restore --to live
// was unpersisted data suggest proposed to persist and check offered to
// restore after the reboot.
func TestKilledRestoreLeavesNoUserState(t *testing.T) {
	s := driftSystem(t)
	if s == nil {
		return // the test ran in a private mount namespace
	}
	from := btrfs.FormatName(time.Now().Add(-10*24*time.Hour).UTC(), 0)
	old := filepath.Join(s.top, "old_roots", from)
	testutil.Must(t, os.MkdirAll(filepath.Dir(old), 0o755))
	run(t, "btrfs", "subvolume", "create", old)
	for _, d := range []string{"nix", "proc", "sys", "dev", "run"} { // a root's, as every booted one holds
		testutil.Must(t, os.Mkdir(filepath.Join(old, d), 0o755))
	}
	for i := range 30 {
		writeFile(t, filepath.Join(old, fmt.Sprintf("/srv/declared-unmounted/bulk/f%d", i)), strings.Repeat("p", 100+i), 0o644)
		writeFile(t, filepath.Join(old, fmt.Sprintf("/srv/bulk/f%d", i)), strings.Repeat("l", 100+i), 0o644)
	}
	decl := []string{"--root", s.root, "--persist", s.declPath()}
	kill := func(p string, extra ...string) string {
		t.Helper()
		cmd := command(os.Getenv(envDrift), append(append([]string{"restore", p, "--from", from}, extra...), decl...)...)
		cmd.Env = append(os.Environ(), adoptInterruptEnv+"=kill:10")
		out, err := cmd.CombinedOutput()
		if cmd.ProcessState == nil || cmd.ProcessState.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("drift restore %s with kill:10 was not killed: %v\n%s", p, err, out)
		}
		dir, base := filepath.Dir(p), filepath.Base(p)
		if len(extra) == 0 {
			dir = storage + dir
		}
		for _, n := range readDirNames(t, s.M(dir)) {
			if strings.HasPrefix(n, "."+base+".drift-restore-") {
				return dir + "/" + n
			}
		}
		t.Fatalf("the killed drift restore %s left no partial copy in %s", p, dir)
		return ""
	}
	inPersist := kill("/srv/declared-unmounted/bulk")
	onRoot := kill("/srv/bulk", "--to", "live")
	writeFile(t, s.M("/srv/gone.txt"), "vanishes at the reboot\n", 0o644)

	// drift check: one warning each, no drift command that would not
	// clear it, neither listed as lost.
	_, out, errOut := s.driftAll(append([]string{"check", "--format", "paths"}, decl...)...)
	if strings.Contains(out, ".drift-restore-") {
		t.Errorf("drift check lists a partial copy as lost:\n%s", out)
	}
	if !strings.Contains(out, "/srv/gone.txt") {
		t.Errorf("drift check does not list /srv/gone.txt (the fixture):\n%s", out)
	}
	warned := func(errOut, p string) string {
		t.Helper()
		for _, l := range strings.Split(errOut, "\n") {
			if strings.Contains(l, p+" is a partial copy that a drift restore left when it was killed") {
				return l
			}
		}
		t.Errorf("no warning names the partial copy %s:\n%s", p, errOut)
		return ""
	}
	wPersist, wRoot := warned(errOut, inPersist), warned(errOut, onRoot)
	for _, w := range []string{wPersist, wRoot} {
		if strings.Contains(w, "drift adopt") {
			t.Errorf("the warning prints a drift adopt, which leaves a restore's partial copy: %s", w)
		}
	}
	if !strings.Contains(wRoot, "the next boot deletes it with the root") {
		t.Errorf("the warning about %s does not say the next boot deletes it: %s", onRoot, wRoot)
	}

	// drift suggest proposes neither, in its module or its commands.
	_, out, errOut = s.driftAll(append([]string{"suggest", "--format", "nix"}, decl...)...)
	if strings.Contains(out, ".drift-restore-") {
		t.Errorf("drift suggest proposes a partial copy:\n%s", out)
	}
	warned(errOut, onRoot)

	// drift prune moves neither, and says why.
	config := filepath.Join(s.dir, "configuration.nix") // prune reads a whole configuration
	writeFile(t, config, "{ ... }: { }\n", 0o644)
	code, out, errOut := s.driftAll(append([]string{"prune", "--dry-run", "--persist", config}, decl...)...)
	if code != 0 {
		t.Errorf("drift prune --dry-run: exit %d\n%s%s", code, out, errOut)
	}
	if strings.Contains(out, ".drift-restore-") {
		t.Errorf("drift prune --dry-run plans a partial copy:\n%s", out)
	}
	warned(errOut, inPersist)

	// A real wipe and boot: the partial copy on the root goes with it and
	// is never vanished data; /srv/gone.txt is.
	s.unmountBelow(s.root)
	w := &wipeImage{t: t, top: s.top, dev: s.dev}
	w.drift("--keep-days", "60")
	s.boot(unbackedAtFirstBoot)
	if _, err := os.Lstat(s.M(onRoot)); !os.IsNotExist(err) {
		t.Fatalf("%s after the wipe: %v, want it gone", onRoot, err)
	}
	_, out, _ = s.driftAll(append([]string{"check", "--format", "json"}, decl...)...)
	var r struct {
		Items    []struct{ Path string }
		Vanished []struct{ Path string }
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("drift check --format json: %v\n%s", err, out)
	}
	var vanished []string
	for _, v := range r.Vanished {
		vanished = append(vanished, v.Path)
	}
	for _, it := range r.Items {
		if strings.Contains(it.Path, ".drift-restore-") {
			t.Errorf("drift check lists the partial copy %s after the boot", it.Path)
		}
	}
	if strings.Join(vanished, " ") != "/srv/gone.txt" {
		t.Errorf("vanished after the boot: %q, want /srv/gone.txt alone (not %s)", vanished, onRoot)
	}
	_, _, errOut = s.driftAll(append([]string{"check"}, decl...)...)
	wPersist = warned(errOut, inPersist)

	// The printed command, run as printed, clears it; check is then
	// silent about partial copies.
	m := regexp.MustCompile(`\((rm -r [^()]+)\)`).FindStringSubmatch(wPersist)
	if m == nil {
		t.Fatalf("no rm -r in %s", wPersist)
	}
	if b, err := command("sh", "-c", m[1]).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", m[1], err, b)
	}
	if _, err := os.Lstat(s.M(inPersist)); !os.IsNotExist(err) {
		t.Errorf("%s after %s: %v", inPersist, m[1], err)
	}
	if _, _, errOut := s.driftAll(append([]string{"check"}, decl...)...); strings.Contains(errOut, "partial copy") {
		t.Errorf("drift check still names a partial copy:\n%s", errOut)
	}
}
