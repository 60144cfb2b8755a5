package testutil

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Must fails the test at once when err is not nil.
func Must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// Tree creates a tree under root from spec, one entry a line: "d PATH" (a
// directory), "f PATH [CONTENT]" (a file, mode 0644), "l PATH -> TARGET" (a
// symlink). PATH is relative to root and starts with /; missing parents are
// made as 0755 directories. Blank lines are skipped; any other line fails
// the test.
func Tree(t testing.TB, root, spec string) {
	t.Helper()
	for _, line := range strings.Split(spec, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		kind, rest, _ := strings.Cut(line, " ")
		switch kind {
		case "d":
			Must(t, os.MkdirAll(filepath.Join(root, rest), 0o755))
		case "f":
			p, content, _ := strings.Cut(rest, " ")
			Must(t, os.MkdirAll(filepath.Dir(filepath.Join(root, p)), 0o755))
			Must(t, os.WriteFile(filepath.Join(root, p), []byte(content), 0o644))
		case "l":
			p, target, ok := strings.Cut(rest, " -> ")
			if !ok {
				t.Fatalf("bad spec line %q", line)
			}
			Must(t, os.MkdirAll(filepath.Dir(filepath.Join(root, p)), 0o755))
			Must(t, os.Symlink(target, filepath.Join(root, p)))
		default:
			t.Fatalf("bad spec line %q", line)
		}
	}
}

// RequireHost is the DRIFT_REQUIRE_* variable of the tests that need root
// (chown to other owners, a tmpfs or bind mount), a common tool (sh, bash,
// make, git, GNU chmod) or what a Linux host gives (a pseudo-terminal,
// /proc, file leases, statx mount IDs and birth times, xattrs in the
// temporary directory): .ci/run, running as root, sets it, so that such a
// test fails where it would have been skipped.
const RequireHost = "DRIFT_REQUIRE_HOST"

// SkipOrFatal skips the test with reason, or fails it when the environment
// variable require (DRIFT_REQUIRE_BTRFS, DRIFT_REQUIRE_NIX …) is "1": CI
// sets them so that a missing prerequisite is not a silent skip.
func SkipOrFatal(t testing.TB, require, reason string) {
	t.Helper()
	if os.Getenv(require) == "1" {
		t.Fatalf("%s (and %s=1)", reason, require)
	}
	t.Skip(reason)
}

// WriteFile writes content to the file p with mode 0644 (WriteFileMode).
func WriteFile(t testing.TB, p, content string) {
	t.Helper()
	WriteFileMode(t, p, content, 0o644)
}

// WriteFileMode writes content to the file p, making its missing parents
// as 0755 directories, and gives it exactly mode, whatever the umask.
func WriteFileMode(t testing.TB, p, content string, mode os.FileMode) {
	t.Helper()
	Must(t, os.MkdirAll(filepath.Dir(p), 0o755))
	Must(t, os.WriteFile(p, []byte(content), mode))
	Must(t, os.Chmod(p, mode))
}

// Symlink makes p a symbolic link to target, making p's missing parents
// as 0755 directories.
func Symlink(t testing.TB, target, p string) {
	t.Helper()
	Must(t, os.MkdirAll(filepath.Dir(p), 0o755))
	Must(t, os.Symlink(target, p))
}
