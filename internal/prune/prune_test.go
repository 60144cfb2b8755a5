package prune

import (
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/audit"
	"github.com/nix-drift/drift/internal/pathx"
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
		got := newRefuser(uses, mps).refuse(p)
		if want == "" && got != "" || want != "" && !strings.HasPrefix(got, want) {
			t.Errorf("refuse(%s) = %q, want %q…", p, got, want)
		}
	}
}

// TestRefuserAgreesWithTheScan: the refuser names what a scan of every
// use (in pathx.Compare order) and every mount point (in byte order)
// names first, on random paths over a few names that nest and repeat.
func TestRefuserAgreesWithTheScan(t *testing.T) {
	r := rand.New(rand.NewSource(13))
	names := []string{"a", "b", "a-b", "c"}
	randPath := func() string {
		p := ""
		for range r.Intn(4) {
			p += "/" + names[r.Intn(len(names))]
		}
		if p == "" {
			return "/"
		}
		return p
	}
	for round := range 500 {
		var uses []audit.Use
		var mps []string
		for i := range r.Intn(6) {
			uses = append(uses, audit.Use{Path: randPath(), By: fmt.Sprint("use ", i)})
		}
		for range r.Intn(4) {
			mps = append(mps, randPath())
		}
		slices.SortStableFunc(uses, func(a, b audit.Use) int { return pathx.Compare(a.Path, b.Path) })
		slices.Sort(mps)
		mps = slices.Compact(mps)
		rf := newRefuser(uses, mps)
		for range 8 {
			p := randPath()
			if got, want := rf.refuse(p), scanRefuse(p, uses, mps); got != want {
				t.Fatalf("round %d: refuse(%s) with uses %v, mount points %q: %q, the scan %q", round, p, uses, mps, got, want)
			}
		}
	}
}

// scanRefuse is what refuse answered before the refuser: a scan of every
// use, then of every mount point.
func scanRefuse(p string, uses []audit.Use, mountPoints []string) string {
	for _, u := range uses {
		if pathx.HasPrefix(u.Path, p) || pathx.HasPrefix(p, u.Path) {
			if u.Path == p {
				return "in use: " + u.By
			}
			return fmt.Sprintf("in use: %s is %s", u.Path, u.By)
		}
	}
	for _, mp := range mountPoints {
		if pathx.HasPrefix(mp, p) {
			return mp + " is a mount point (drift never moves across a mount)"
		}
	}
	return ""
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
