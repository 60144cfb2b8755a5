package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPruneUndoEmptyIsRefused: a fresh user's drift prune --undo ” (a
// script's --undo "$ID" with $ID empty) ran a real prune: the empty ID read
// as "no --undo", the strays went into quarantine, exit 0. An empty value
// is refused (exit 2) and nothing moves, in both spellings.
func TestPruneUndoEmptyIsRefused(t *testing.T) {
	root := testerMachine(t)
	stray := filepath.Join(root, "nix/persist/var/lib/oldapp/leftover")
	for _, args := range [][]string{{"--undo", ""}, {"--undo="}} {
		code, out, errs := runDrift(t, append([]string{"prune", "--root", root, "--ephemeral", "/"}, args...)...)
		if code != 2 || !strings.Contains(errs, "--undo") || !strings.Contains(errs, "empty") {
			t.Errorf("prune %q: exit %d, stderr %q; want exit 2 and an error naming the empty --undo\n%s", args, code, errs, out)
		}
		if _, err := os.Lstat(stray); err != nil {
			t.Fatalf("prune %q moved the stray: %v", args, err)
		}
	}
}

// TestDestructiveCommandsRefuseEmptyValues: on every command that changes
// the machine, a flag given an empty value (where "" would mean "not
// given", or the current directory for --root) is refused before anything
// is read or written, naming the flag.
func TestDestructiveCommandsRefuseEmptyValues(t *testing.T) {
	root := testerMachine(t)
	stray := filepath.Join(root, "nix/persist/var/lib/oldapp/leftover")
	for _, args := range [][]string{
		{"prune", "--root", root, "--ephemeral", "/", "--storage-path", ""},
		{"prune", "--ephemeral", "/", "--root", ""},
		{"prune", "--root", root, "--ephemeral", "/", "--persist", ""},
		{"prune", "empty", "--root", root, "--older-than", ""},
		{"prune", "empty", "--root", root, "--older-than", "0d", "--storage-path="},
		{"adopt", "--root", root, "--prefer", "", "/var/lib/bluetooth"},
		{"restore", "/var/lib/bluetooth", "--root", root, "--from", "latest", "--device", ""},
		{"wipe", "--device", "/dev/null", "--blank", "", "--dry-run"},
		{"wipe", "--device", "/dev/null", "--resume-device=", "--dry-run"},
	} {
		var name string
		for i, a := range args {
			if a == "" {
				name = args[i-1]
			} else if strings.HasSuffix(a, "=") {
				name = strings.TrimSuffix(a, "=")
			}
		}
		code, out, errs := runDrift(t, args...)
		if code != 2 || !strings.Contains(errs, name+" \"\"") || !strings.Contains(errs, "empty") {
			t.Errorf("%q: exit %d, stderr %q; want exit 2 and an error naming %s empty\n%s", args, code, errs, name, out)
		}
		if _, err := os.Lstat(stray); err != nil {
			t.Fatalf("%q moved the stray: %v", args, err)
		}
	}
}

// The commands that only read refuse an empty value too: check --root=
// audited / instead of the system named, and --persist= said "open : no
// such file or directory" (a fresh user's report).
func TestReadingCommandsRefuseEmptyValues(t *testing.T) {
	root := testerMachine(t)
	for _, args := range [][]string{
		{"check", "--root="},
		{"check", "--root", root, "--mountinfo="},
		{"check", "--root", root, "--persist="},
		{"suggest", "--root", ""},
		{"rehearse", "--root", root, "--persist", ""},
		{"lint", "--flake="},
	} {
		code, _, errs := runDrift(t, args...)
		if code != 2 || !strings.Contains(errs, "an empty value") {
			t.Errorf("%q: exit %d, stderr %q; want exit 2 and the empty value refused", args, code, errs)
		}
	}
}
