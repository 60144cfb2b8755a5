package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/nix-drift/drift/internal/testutil"
)

// system is a system a test points drift at, in one directory: its root
// (the test makes what it holds), its mount table and the configuration
// that declares what persists.
type system struct {
	dir, root, mountinfo, config string
}

// newSystem makes a system in a fresh directory: an empty root, the
// mountinfo text, and config written at name below the directory
// ("decl.nix", "cfg/configuration.nix").
func newSystem(t *testing.T, name, config, mountinfo string) system {
	t.Helper()
	dir := t.TempDir()
	s := system{dir: dir, root: filepath.Join(dir, "root"), mountinfo: filepath.Join(dir, "mountinfo"), config: filepath.Join(dir, name)}
	testutil.Must(t, os.MkdirAll(s.root, 0o755))
	testutil.WriteFile(t, s.mountinfo, mountinfo)
	testutil.WriteFile(t, s.config, config)
	return s
}

// flags point drift at s (--root, --mountinfo, --persist), then extra.
func (s system) flags(extra ...string) []string {
	return append([]string{"--root", s.root, "--mountinfo", s.mountinfo, "--persist", s.config}, extra...)
}

// demoFlags point drift at the demo system laid out as fixtures/demo is
// in dir: its root, mount table, impermanence.nix and ignore file.
func demoFlags(dir string) []string {
	return []string{"--root", filepath.Join(dir, "root"), "--mountinfo", filepath.Join(dir, "mountinfo"),
		"--persist", filepath.Join(dir, "impermanence.nix"), "--ignore-file", filepath.Join(dir, "ignore")}
}
