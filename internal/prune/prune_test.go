package prune

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/audit"
	"golang.org/x/sys/unix"
)

// TestRefuse: a stray at, above or below a path in use, or holding a
// mount point, stays; one beside them may move.
func TestRefuse(t *testing.T) {
	uses := []audit.Use{
		{Path: "/nix/persist/passwords/alice", Kind: audit.UseReferenced, By: "users.users.alice.hashedPasswordFile"},
		{Path: "/nix/persist/srv/pg", Kind: audit.UseMounted, By: "mounted at /srv/pg (mount 42)"},
	}
	mps := []string{"/nix/persist/mnt/sub"}
	for p, want := range map[string]string{
		"/nix/persist/passwords/alice": "in use: users.users.alice.hashedPasswordFile",
		"/nix/persist/passwords":       "in use: /nix/persist/passwords/alice is users.users.alice.hashedPasswordFile",
		"/nix/persist/srv/pg/base":     "in use: /nix/persist/srv/pg is mounted at",
		"/nix/persist/mnt":             "/nix/persist/mnt/sub is a mount point",
		"/nix/persist/passwordsX":      "",
		"/nix/persist/mnt-old":         "",
	} {
		got := refuse(p, uses, mps)
		if want == "" && got != "" || want != "" && !strings.HasPrefix(got, want) {
			t.Errorf("refuse(%s) = %q, want %q…", p, got, want)
		}
	}
}

// TestParseManifestRejects: a manifest of another version, without an id
// or with objects out of order is no manifest.
func TestParseManifestRejects(t *testing.T) {
	for _, bad := range []string{
		`{"version": 2, "id": "x", "objects": []}`,
		`{"version": 1, "objects": []}`,
		`{"version": 1, "id": "x", "objects": [{"n": 2, "path": "/a"}]}`,
		`{"version": 1, "id": "x", "objects": [{"n": 1}]}`,
		`[`,
	} {
		if _, err := decodeManifest([]byte(bad), "m.json"); err == nil || !strings.HasPrefix(err.Error(), "m.json") {
			t.Errorf("%s: %v", bad, err)
		}
	}
	if _, err := decodeManifest([]byte(`{"version": 1, "id": "x", "objects": [{"n": 1, "path": "/a"}]}`), "m.json"); err != nil {
		t.Error(err)
	}
}

// TestSweepUnstarted: a batch directory a prune left before its manifest
// was in place (empty, or holding only manifest.json.tmp) is removed; one
// with a manifest, or with anything else in it, stays.
func TestSweepUnstarted(t *testing.T) {
	q := t.TempDir()
	for name, files := range map[string][]string{
		"empty":    nil,
		"tmp-only": {"manifest.json.tmp"},
		"started":  {"manifest.json", "1"},
		"strange":  {"1"},
	} {
		if err := os.Mkdir(filepath.Join(q, name), 0o700); err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if err := os.WriteFile(filepath.Join(q, name, f), []byte("x"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	fd, err := unix.Open(q, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	sweepUnstarted(fd)
	ents, _ := os.ReadDir(q)
	var left []string
	for _, e := range ents {
		left = append(left, e.Name())
	}
	if strings.Join(left, " ") != "started strange" {
		t.Errorf("left %q, want started strange", left)
	}
}
