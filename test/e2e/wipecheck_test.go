package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nix-drift/drift/internal/testutil"
)

// chrootDrift is where the drift binary is put inside the test system (on
// the nix subvolume, which survives the wipe) so that it can audit that
// system as the running one: chrooted into it, with its own /proc, drift
// check --root / sees its mounts relative to /, as on a booted machine.
const chrootDrift = "/nix/store/44444444444444444444444444444444-drift/bin/drift"

// installChroot copies the drift binary into the system and mounts /proc.
func (s *system) installChroot() {
	t := s.t
	t.Helper()
	if _, err := os.Stat(s.M(chrootDrift)); err != nil {
		testutil.Must(t, os.MkdirAll(filepath.Dir(s.M(chrootDrift)), 0o755))
		in, err := os.Open(os.Getenv(envDrift))
		testutil.Must(t, err)
		defer in.Close()
		out, err := os.OpenFile(s.M(chrootDrift), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
		testutil.Must(t, err)
		_, err = io.Copy(out, in)
		testutil.Must(t, err)
		testutil.Must(t, out.Close())
	}
	testutil.Must(t, os.MkdirAll(s.M("/proc"), 0o555))
	run(t, "mount", "-t", "proc", "proc", s.M("/proc"))
}

// chrootCheck runs `drift check --root / ARGS` chrooted into the system,
// declarations on stdin; exit 0 or 1 (something lost) is fine. It returns
// stdout.
func (s *system) chrootCheck(args ...string) []byte {
	t := s.t
	t.Helper()
	cmd := command("chroot", append([]string{s.root, chrootDrift, "check", "--root", "/", "--persist", "-"}, args...)...)
	cmd.Stdin = strings.NewReader(declarations)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	t.Logf("chroot drift check %s: stderr:\n%s", strings.Join(args, " "), stderr.String())
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == 1 {
		err = nil
	}
	if err != nil {
		t.Fatalf("chroot drift check %s: %v\nstdout:\n%s", strings.Join(args, " "), err, tail(stdout.String(), 4000))
	}
	return stdout.Bytes()
}

type wipeVerdict struct {
	Wipe *struct {
		RootCreated   string `json:"rootCreated"`
		BootTime      string `json:"bootTime"`
		WipedThisBoot bool   `json:"wipedThisBoot"`
	} `json:"wipe"`
	Warnings []string `json:"warnings"`
}

func (s *system) wipeVerdict(args ...string) wipeVerdict {
	s.t.Helper()
	out := s.chrootCheck(append([]string{"--format", "json"}, args...)...)
	var v wipeVerdict
	if err := json.Unmarshal(out, &v); err != nil {
		s.t.Fatalf("drift check --format json: %v\n%s", err, out)
	}
	if v.Wipe == nil {
		s.t.Fatalf("drift check --root / on a btrfs root: no wipe field\n%s", out)
	}
	return v
}

// TestCheckWipeThisBoot: drift check on the running system (chrooted into
// the test system, --root /) compares the root subvolume's real creation
// time with the boot time. The root was created seconds ago, so a boot time
// of an hour ago says the wipe ran; a boot time in the future stands for a
// root that survived the boot (a real one cannot be made): the report starts
// with the warning. After a real drift wipe, the fresh root's mark with the
// boot id says it was wiped at this boot whatever the clock.
func TestCheckWipeThisBoot(t *testing.T) {
	if !driftChild(t) {
		return // the test ran in a private mount namespace
	}
	start := time.Now().Add(-2 * time.Second)
	s := newSystem(t)
	created := time.Now().Add(2 * time.Second)
	s.installChroot()

	past := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)

	v := s.wipeVerdict("--boot-time", past)
	rc, err := time.Parse(time.RFC3339, v.Wipe.RootCreated)
	testutil.Must(t, err)
	if !v.Wipe.WipedThisBoot || rc.Before(start.Truncate(time.Second)) || rc.After(created) || v.Wipe.BootTime != past {
		t.Errorf("root created at %s, booted %s: %+v, want wiped this boot", v.Wipe.RootCreated, past, *v.Wipe)
	}
	for _, w := range v.Warnings {
		if strings.Contains(w, "wipe did not run") {
			t.Errorf("warning although wiped: %q", w)
		}
	}

	v = s.wipeVerdict("--boot-time", future)
	if v.Wipe.WipedThisBoot || len(v.Warnings) == 0 || !strings.Contains(v.Warnings[0], "before this boot ("+future+"): the wipe did not run") {
		t.Errorf("boot after the root's creation: %+v, warnings %q", *v.Wipe, v.Warnings)
	}
	table := string(s.chrootCheck("--boot-time", future))
	if !strings.HasPrefix(table, "WARNING: the root subvolume was created at "+v.Wipe.RootCreated+", before this boot ("+future+"): the wipe did not run;") {
		t.Errorf("the table does not start with the warning:\n%s", table)
	}
	t.Logf("drift check (boot time %s):\n%s", future, table)

	// The same verdict as metrics: drift_wiped_this_boot 0 and the root's
	// creation time. The old roots could not be looked for in this chroot
	// (no /tmp for the top level: a warning above), so drift_old_roots is
	// left out, not written as 0.
	prom := string(s.chrootCheck("--boot-time", future, "--format", "prom"))
	if !strings.Contains(prom, "\ndrift_wiped_this_boot 0\n") ||
		!strings.Contains(prom, fmt.Sprintf("\ndrift_last_wipe_timestamp_seconds %d", rc.Unix())) ||
		regexp.MustCompile(`(?m)^drift_old_roots`).MatchString(prom) {
		t.Errorf("--format prom, root created %s, booted after it:\n%s", v.Wipe.RootCreated, prom)
	}

	// Not for a system mounted elsewhere: --root DIR has no wipe field.
	out := s.drift(0, "check", "--root", s.root, "--persist", s.declPath(), "--format", "json", "--boot-time", future)
	if bytes.Contains(out, []byte(`"wipe"`)) {
		t.Errorf("drift check --root %s reports a wipe verdict:\n%s", s.root, out)
	}

	// A real drift wipe, marked with this boot's id, then the next boot.
	s.unmountBelow(s.root)
	w := &wipeImage{t: t, top: s.top, dev: s.dev}
	w.drift("--boot-id", "boot-B")
	s.boot(unbackedAtFirstBoot)
	s.installChroot()
	v = s.wipeVerdict("--boot-time", future, "--boot-id", "boot-B")
	if !v.Wipe.WipedThisBoot {
		t.Errorf("root made by drift wipe in boot-B, checked in boot-B with a later boot time: %+v, want wiped (the mark)", *v.Wipe)
	}
	v = s.wipeVerdict("--boot-time", future, "--boot-id", "boot-C")
	if v.Wipe.WipedThisBoot {
		t.Errorf("root made by drift wipe in boot-B, checked in boot-C with a later boot time: %+v, want not wiped", *v.Wipe)
	}
}
