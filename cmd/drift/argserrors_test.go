package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestArgErrorsNameTheCommandAndItsUsage: a wrong argument, or a wrong
// number of them, is an error naming the command (its whole path, drift
// prune empty), with its usage line and help command as the hint, exit 2;
// a first argument that names no command is "unknown command" with what
// it is close to; drift diff --root and drift roots --root say what works instead; an --undo ID that is a flag is refused as such. drift's own validators (noArgs, exactArgs) say it, not
// a regexp over cobra's text; the hint of drift prune empty said "drift
// empty --help".
func TestArgErrorsNameTheCommandAndItsUsage(t *testing.T) {
	for _, c := range []struct {
		args      []string
		err, hint string
	}{
		{[]string{"check", "extra", "more"}, `drift check takes no argument "extra"`, "usage: drift check [flags] (drift check --help)"},
		{[]string{"check", `a"b`}, `drift check takes no argument "a\"b"`, "usage: drift check [flags] (drift check --help)"},
		{[]string{"diff", "a"}, "drift diff takes 2 arguments, got 1", "usage: drift diff A B [flags] (drift diff --help)"},
		{[]string{"restore"}, "drift restore takes 1 argument, got 0", "usage: drift restore PATH --from latest|NAME|DIR [flags] (drift restore --help)"},
		{[]string{"prune", "x"}, `drift prune takes no argument "x"`, "usage: drift prune [flags] (drift prune --help)"},
		{[]string{"prune", "empty", "x"}, `drift prune empty takes no argument "x"`, "usage: drift prune empty --older-than AGE [flags] (drift prune empty --help)"},
		{[]string{"chek"}, `unknown command "chek"`, "did you mean drift check?"},
		{[]string{"nope"}, `unknown command "nope"`, "drift --help lists the commands"},
		// drift diff has no --root (a fresh user tried it): B is the mounted system.
		{[]string{"diff", "a", "b", "--root", "/mnt"}, "unknown flag: --root", "drift diff has no --root: its two arguments are the trees; pass the mounted system as B: drift diff OLDROOT /mnt (its mounts are read beneath, as / is)"},
		// drift roots reads the top level (a fresh user passed check's --root).
		{[]string{"roots", "--root", "/mnt"}, "unknown flag: --root", "drift roots has no --root: it reads the btrfs filesystem's top level, not a mounted system; name the filesystem: --device DEV (the partition, or any path on it, the mounted system's too) or --top DIR (its top level, mounted with subvolid=5)"},
		// --undo took the next flag for its ID, and the error was about
		// the argument left over ("takes no argument /mnt").
		{[]string{"prune", "--undo", "--root", "/mnt", "--dry-run"}, `--undo "--root": expected a batch ID (such as 20261207T055230Z) or all, not a flag`, "give the ID right after --undo: drift prune --undo ID; drift prune --list shows the batches' IDs, and drift prune prints the --undo command of each batch it makes"},
		{[]string{"prune", "--undo", "--dry-run"}, `--undo "--dry-run": expected a batch ID`, ""},
		// The root itself: drift adopt's error said "restore a path".
		{[]string{"adopt", "--root", "/nonexistent", "/"}, `"/": expected a path below the root, not the root itself`, ""},
		{[]string{"restore", "/", "--from", "latest"}, `"/": expected a path below the root, not the root itself`, ""},
	} {
		code, _, errs := runDrift(t, c.args...)
		want := "drift: error: " + c.err + "\ndrift: hint: " + c.hint + "\n"
		if c.hint == "" {
			want = "drift: error: " + c.err
		}
		if code != 2 || !strings.HasPrefix(errs, want) {
			t.Errorf("drift %q: exit %d\n%s\nwant:\n%s", c.args, code, errs, want)
		}
	}
}

// TestPersistDirectoryNamesTheFileToPass: --persist /etc/nixos, a
// directory, is refused (exit 2) with a hint naming what works there: its
// configuration.nix, its flake, else its .nix files (it only said "a
// directory, not a regular file"). The same for every command built on
// the model (check, suggest, adopt).
func TestPersistDirectoryNamesTheFileToPass(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(t.TempDir(), "nixos")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	mi := filepath.Join(t.TempDir(), "mountinfo")
	if err := os.WriteFile(mi, []byte("22 1 0:20 / / rw - tmpfs none rw\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	write := func(name string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("{ }\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		add  string
		want []string
	}{
		{"", []string{"--persist FILE with the configuration's file (configuration.nix), or --flake REF#HOST"}},
		{"persist.nix", []string{"--persist FILE, the file of " + dir + "/persist.nix that declares"}},
		{"flake.nix", []string{"--flake " + dir + "#HOST"}},
		{"configuration.nix", []string{"--persist " + dir + "/configuration.nix (the modules it imports are read too)", "--flake " + dir + "#HOST"}},
	} {
		if c.add != "" {
			write(c.add)
		}
		for _, cmd := range [][]string{{"check"}, {"suggest"}, {"adopt", "/x"}} {
			args := append(slices.Clone(cmd), "--root", root, "--mountinfo", mi, "--persist", dir)
			code, _, errs := runDrift(t, args...)
			if code != 2 || !strings.Contains(errs, "drift: hint: --persist takes a file, not a directory: pass ") {
				t.Errorf("%q with %s: exit %d, no hint:\n%s", args, c.add, code, errs)
			}
			for _, w := range c.want {
				if !strings.Contains(errs, w) {
					t.Errorf("%q with %s: hint does not name %q:\n%s", args, c.add, w, errs)
				}
			}
		}
	}
}
