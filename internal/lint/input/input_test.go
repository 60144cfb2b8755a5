package input

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

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
	ins, errs := collectLintInputs(context.Background(), []string{filepath.Join(root, "hosts")}, nil)
	if len(errs) != 0 {
		t.Fatalf("errors: %v", errs)
	}
	var got []string
	for _, in := range ins {
		rel, _ := filepath.Rel(root, in.name)
		grp, _ := filepath.Rel(root, in.group)
		got = append(got, rel+" in "+grp)
	}
	want := []string{"hosts/a/default.nix in hosts/a", "hosts/b/modules/m.nix in hosts/b", "hosts/b/x.nix in hosts/b", "hosts/common.nix in hosts/ (shared)"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("walked:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	_, errs = collectLintInputs(context.Background(), []string{filepath.Join(root, "hosts/a/fifo.nix")}, nil)
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "not a regular file") {
		t.Errorf("FIFO argument: %v", errs)
	}
	// A symlink named on the command line is followed: the user chose it.
	ins, errs = collectLintInputs(context.Background(), []string{filepath.Join(root, "hosts/b/link.nix")}, nil)
	if len(errs) != 0 || len(ins) != 1 || string(ins[0].data) != "{}" {
		t.Errorf("symlink argument: %v %v", ins, errs)
	}
}

// TestCollectLintInputsNamed: a symlink to a directory named on the command
// line (no trailing slash) is walked, as a named file link is read; one
// found inside it is still not followed. A named directory without a .nix
// file is an error. One file named twice (x.nix ./x.nix, or also found by
// walking its directory) is read once.
func TestCollectLintInputsNamed(t *testing.T) {
	root := t.TempDir()
	for p, s := range map[string]string{"host/a.nix": "{}", "other/b.nix": "{}", "empty/notes.txt": "x"} {
		p = filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("host", filepath.Join(root, "hostlink")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../other", filepath.Join(root, "host/otherlink")); err != nil {
		t.Fatal(err)
	}
	ins, errs := collectLintInputs(context.Background(), []string{filepath.Join(root, "hostlink")}, nil)
	if len(errs) != 0 || len(ins) != 1 || filepath.Base(ins[0].name) != "a.nix" {
		t.Errorf("symlinked directory argument: %v %v", ins, errs)
	}
	_, errs = collectLintInputs(context.Background(), []string{filepath.Join(root, "empty")}, nil)
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "no .nix file") {
		t.Errorf("directory without .nix: %v", errs)
	}
	t.Chdir(root)
	ins, errs = collectLintInputs(context.Background(), []string{"host/a.nix", "./host/a.nix", "hostlink/a.nix", "host"}, nil)
	if len(errs) != 0 || len(ins) != 1 || ins[0].name != "host/a.nix" {
		t.Errorf("one file named three times and walked: %+v %v", ins, errs)
	}
}

// TestAssignHosts: at a repository root, each host directory (holding
// configuration.nix, or hosts/NAME) is a configuration of its own, nested
// ones included; modules/ and top-level files are one shared
// configuration; with no host directory, the root is one configuration.
func TestAssignHosts(t *testing.T) {
	in := func(names ...string) []lintInput {
		var l []lintInput
		for _, n := range names {
			l = append(l, lintInput{name: n})
		}
		return l
	}
	walked := in("repo/flake.nix", "repo/modules/persist.nix", "repo/hosts/a/default.nix", "repo/hosts/a/hw/disk.nix",
		"repo/hosts/b/default.nix", "repo/legacy/configuration.nix", "repo/legacy/impermanence.nix")
	assignHosts("repo", walked)
	var got []string
	for _, w := range walked {
		got = append(got, fmt.Sprintf("%s in %s shared=%v", w.name, w.group, w.shared))
	}
	want := []string{
		"repo/flake.nix in repo/ (shared) shared=true",
		"repo/modules/persist.nix in repo/ (shared) shared=true",
		"repo/hosts/a/default.nix in repo/hosts/a shared=false",
		"repo/hosts/a/hw/disk.nix in repo/hosts/a shared=false",
		"repo/hosts/b/default.nix in repo/hosts/b shared=false",
		"repo/legacy/configuration.nix in repo/legacy shared=false",
		"repo/legacy/impermanence.nix in repo/legacy shared=false",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	walked = in("cfg/persist.nix", "cfg/modules/x.nix")
	assignHosts("cfg", walked)
	for _, w := range walked {
		if w.group != "cfg" || w.shared {
			t.Errorf("no host directory: %s in %q shared=%v", w.name, w.group, w.shared)
		}
	}
}
