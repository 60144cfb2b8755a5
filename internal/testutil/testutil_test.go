package testutil

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestTree(t *testing.T) {
	root := t.TempDir()
	Tree(t, root, `
		d /empty
		f /a/b/file hello world
		f /a/empty-file
		l /a/link -> ../target
	`)
	if fi, err := os.Lstat(filepath.Join(root, "empty")); err != nil || !fi.IsDir() {
		t.Errorf("/empty: %v %v, want a directory", fi, err)
	}
	if b, err := os.ReadFile(filepath.Join(root, "a/b/file")); err != nil || string(b) != "hello world" {
		t.Errorf("/a/b/file: %q %v", b, err)
	}
	if b, err := os.ReadFile(filepath.Join(root, "a/empty-file")); err != nil || len(b) != 0 {
		t.Errorf("/a/empty-file: %q %v", b, err)
	}
	if target, err := os.Readlink(filepath.Join(root, "a/link")); err != nil || target != "../target" {
		t.Errorf("/a/link: %q %v", target, err)
	}
}

// WriteFileMode makes the parents and gives the file its mode whatever
// the umask; Symlink makes the parents of the link.
func TestWriteFileAndSymlink(t *testing.T) {
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	root := t.TempDir()
	WriteFile(t, filepath.Join(root, "a/b/f"), "x")
	WriteFileMode(t, filepath.Join(root, "a/s"), "#!", 0o755)
	Symlink(t, "../../a/b/f", filepath.Join(root, "c/d/l"))
	for p, want := range map[string]os.FileMode{"a/b/f": 0o644, "a/s": 0o755} {
		if fi, err := os.Lstat(filepath.Join(root, p)); err != nil || fi.Mode() != want {
			t.Errorf("%s: %v %v, want mode %v", p, fi.Mode(), err, want)
		}
	}
	if b, err := os.ReadFile(filepath.Join(root, "c/d/l")); err != nil || string(b) != "x" {
		t.Errorf("c/d/l: %q %v, want the link to read a/b/f", b, err)
	}
}

// fakeT records what a helper does to its test.
type fakeT struct {
	testing.TB
	fatal, skip string
}

func (f *fakeT) Helper()                        {}
func (f *fakeT) Fatalf(format string, a ...any) { f.fatal = format; panic(f) }
func (f *fakeT) Skip(a ...any)                  { f.skip = "skip"; panic(f) }

func TestSkipOrFatal(t *testing.T) {
	for _, tc := range []struct {
		env             string
		wantFatal, skip bool
	}{{"1", true, false}, {"", false, true}, {"0", false, true}} {
		t.Setenv("DRIFT_REQUIRE_TESTUTIL", tc.env)
		f := &fakeT{}
		func() {
			defer func() { recover() }()
			SkipOrFatal(f, "DRIFT_REQUIRE_TESTUTIL", "no frobnicator")
		}()
		if (f.fatal != "") != tc.wantFatal || (f.skip != "") != tc.skip {
			t.Errorf("DRIFT_REQUIRE_TESTUTIL=%q: fatal %q, skip %q", tc.env, f.fatal, f.skip)
		}
	}
}
