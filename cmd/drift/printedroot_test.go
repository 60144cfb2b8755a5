package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/partial"
	"github.com/nix-drift/drift/internal/testutil"
)

// TestPrintedCommandsRunAgainstTheRoot: every command drift prints for
// the user to run carries the --root and the declarations the printing
// command ran with (escape.DriftCommand: Audit.Args), and every host path
// it names is the audited system's as the host sees it. A fresh user
// audited a system at --root: drift prune printed "drift prune --undo ID",
// check's partial-copy warning "drift adopt PATH again … or rm -r
// /nix/persist/…" (the host's own /nix/persist), adopt's refusal "mount
// --bind / /mnt/beneath": run as printed, each reached the host, not the
// system audited. Here each drift command is run exactly as printed (and
// must succeed: the stray put back, the partial copy finished), and the
// rm -r and mount --bind name paths below --root (not run: they would
// reach the host's own paths if they did not). drift suggest's drift
// prune is run as printed too, and its table's and JSON's are the same.
func TestPrintedCommandsRunAgainstTheRoot(t *testing.T) {
	sys := newSystem(t, "cfg/configuration.nix",
		`{ environment.persistence."/nix/persist" = { directories = [ "/var/lib/app" ]; files = [ "/etc/machine-id" ]; }; }`,
		`22 1 0:20 / / rw - tmpfs none rw
27 22 0:31 /nix /nix rw - btrfs /dev/vda2 rw,subvol=/nix
28 27 0:31 /persist /nix/persist rw - btrfs /dev/vda2 rw,subvol=/persist
41 22 0:31 /persist/etc/machine-id//deleted /etc/machine-id rw - btrfs /dev/vda2 rw,subvol=/persist
`)
	root, flags := sys.root, sys.flags()
	testutil.WriteFile(t, filepath.Join(root, "nix/persist/etc/machine-id"), "renamed in place\n")
	testutil.WriteFile(t, filepath.Join(root, "etc/machine-id"), "what the mount shows\n")
	testutil.WriteFile(t, filepath.Join(root, "var/lib/app/data"), "live\n")
	testutil.WriteFile(t, filepath.Join(root, "nix/persist/var/lib/old-app/state"), "stray\n")
	part := filepath.Join(root, "nix/persist/var/lib", partial.Name("app", partial.Adopt, 4194311, "0123456789ab")) // a pid above pid_max: gone
	testutil.WriteFile(t, filepath.Join(part, "data"), "li")
	drift := func(printed string) {
		t.Helper()
		if !strings.Contains(printed, " --root "+root+" ") {
			t.Errorf("%s: lacks --root %s (not run: it would reach the host's /)", printed, root)
			return
		}
		if code, out, errs := runDrift(t, strings.Fields(strings.TrimPrefix(printed, "drift "))...); code != 0 {
			t.Errorf("%s: exit %d\n%s%s", printed, code, out, errs)
		}
	}
	extra := ""
	find := func(re, text, what string) string {
		t.Helper()
		m := regexp.MustCompile(re).FindStringSubmatch(text)
		if m == nil {
			t.Fatalf("%s: no %s in\n%s", what, re, text+extra)
		}
		return m[1]
	}
	below := func(what, p string) {
		t.Helper()
		if !strings.HasPrefix(p, root) {
			t.Errorf("%s names %s, not a path below --root %s", what, p, root)
		}
		if _, err := os.Lstat(p); err != nil {
			t.Errorf("%s names %s: %v", what, p, err)
		}
	}

	// drift adopt's refusal of a path a deleted mount shows: where to look
	// beneath is the audited root's filesystem.
	_, _, errs := runDrift(t, append([]string{"adopt", "/etc/machine-id"}, flags...)...)
	below("adopt's mount --bind", find(`mount --bind (\S+) /mnt/beneath`, errs, "drift adopt /etc/machine-id"))

	// drift check's partial copy: the adopt that finishes it, the rm -r
	// that removes it.
	_, _, errs = runDrift(t, append([]string{"check"}, flags...)...)
	below("check's rm -r", find(`rm -r (\S+)\)`, errs, "drift check"))
	drift(find(`run (drift adopt [^,;()\n]+) again`, errs, "drift check"))
	if _, err := os.Lstat(part); err == nil {
		t.Errorf("the partial copy %s is still there after the printed drift adopt", part)
	}

	// drift suggest: the drift prune that moves the stray aside (without
	// --mountinfo: prune moves data, it reads the live mount table); then
	// the --undo that prune prints, which puts it back.
	_, out, _ := runDrift(t, append([]string{"suggest", "--format", "nix"}, flags...)...)
	prune := find(`move it aside: (drift prune [^(]+) \(drift prune --undo`, out, "drift suggest")
	if !strings.Contains(prune, " --root "+root+" ") || strings.Contains(prune, "--mountinfo") {
		t.Fatalf("drift suggest printed %s: want --root %s and no --mountinfo (prune refuses it)", prune, root)
	}
	// The table's note and JSON's give the same command (they said "drift
	// prune" alone, which reached the host's /): the table after it, as
	// "[N] COMMAND" its note refers to.
	_, out, _ = runDrift(t, append([]string{"suggest", "--format", "json"}, flags...)...)
	if !strings.Contains(out, "move it aside: "+prune+" (drift prune --undo") {
		t.Errorf("drift suggest --format json's note lacks %s:\n%s", prune, out)
	}
	_, out, _ = runDrift(t, append([]string{"suggest"}, flags...)...)
	if n := find(`(?m)^\[(\d+)\] drift prune `, out, "drift suggest"); !strings.Contains(out, "\n["+n+"] "+prune+"\n") || !strings.Contains(out, "run ["+n+"]") {
		t.Errorf("drift suggest's table does not refer to [%s] %s:\n%s", n, prune, out)
	}
	_, out, errs = runDrift(t, strings.Fields(strings.TrimPrefix(prune, "drift "))...)
	extra = errs
	undo := find(`: (drift prune --undo .+) puts them back`, out, "drift prune")
	if _, err := os.Lstat(filepath.Join(root, "nix/persist/var/lib/old-app")); err == nil {
		t.Fatalf("drift prune left the stray in place:\n%s%s", out, errs)
	}
	drift(undo)
	if _, err := os.Lstat(filepath.Join(root, "nix/persist/var/lib/old-app/state")); err != nil {
		t.Errorf("the printed %s did not put the stray back: %v", undo, err)
	}
}
