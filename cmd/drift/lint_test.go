package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestNewCmdLint: the flags and their defaults.
func TestNewCmdLint(t *testing.T) {
	cmd := newLintCmd(Streams{})
	for flag, want := range map[string]string{"format": "text", "fail-on": "error", "flake": "", "list-rules": "false"} {
		f := cmd.Flags().Lookup(flag)
		if f == nil || f.DefValue != want {
			t.Errorf("--%s: %+v, want default %q", flag, f, want)
		}
	}
	if !strings.Contains(cmd.Long, "EXIT STATUS") {
		t.Error("help has no EXIT STATUS")
	}
}

// TestCollectLintInputs: a walk reads regular .nix files only — never
// through a symlink (to a file or a directory), never a FIFO, not in hidden
// directories — and groups them by directory; a FIFO named on the command
// line is refused without blocking. A file's group is the first directory
// below the walked root.
func TestCollectLintInputs(t *testing.T) {
	root := t.TempDir()
	write := func(p, s string) {
		p = filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("hosts/a/default.nix", "{}")
	write("hosts/a/notes.txt", "x")
	write("hosts/b/x.nix", "{}")
	write("hosts/b/modules/m.nix", "{}")
	write("hosts/common.nix", "{}")
	write("hosts/.git/y.nix", "{}")
	write("outside/secret.nix", "{}")
	write("outside/dir/z.nix", "{}")
	for link, target := range map[string]string{"hosts/b/link.nix": "../../outside/secret.nix", "hosts/c": "../outside/dir"} {
		if err := os.Symlink(target, filepath.Join(root, link)); err != nil {
			t.Fatal(err)
		}
	}
	if err := syscall.Mkfifo(filepath.Join(root, "hosts/a/fifo.nix"), 0o644); err != nil {
		t.Fatal(err)
	}
	ins, errs := collectLintInputs([]string{filepath.Join(root, "hosts")}, nil)
	if len(errs) != 0 {
		t.Fatalf("errors: %v", errs)
	}
	var got []string
	for _, in := range ins {
		rel, _ := filepath.Rel(root, in.name)
		grp, _ := filepath.Rel(root, in.group)
		got = append(got, rel+" in "+grp)
	}
	want := []string{"hosts/a/default.nix in hosts/a", "hosts/b/modules/m.nix in hosts/b", "hosts/b/x.nix in hosts/b", "hosts/common.nix in hosts"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("walked:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	_, errs = collectLintInputs([]string{filepath.Join(root, "hosts/a/fifo.nix")}, nil)
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "not a regular file") {
		t.Errorf("FIFO argument: %v", errs)
	}
	// A symlink named on the command line is followed: the user chose it.
	ins, errs = collectLintInputs([]string{filepath.Join(root, "hosts/b/link.nix")}, nil)
	if len(errs) != 0 || len(ins) != 1 || string(ins[0].data) != "{}" {
		t.Errorf("symlink argument: %v %v", ins, errs)
	}
}
