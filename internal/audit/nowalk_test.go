package audit

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/diff"
)

// TestNoWalkModel: the model drift restore reads holds the declarations,
// the mount table and the old root --from names as a directory, and no
// classification; a --from that is neither a directory nor an old root's
// name is refused with what --from takes.
func TestNoWalkModel(t *testing.T) {
	root, old := t.TempDir(), t.TempDir()
	decl := filepath.Join(t.TempDir(), "decl.json")
	if err := os.WriteFile(decl, []byte(`{"persistentStoragePath": "/nix/persist", "directories": ["/var/lib/x"]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	o := Options{Root: root, Persist: []string{decl}, Need: NeedFacts, From: old, FromOldRoots: "old_roots"}
	m, err := Build(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if m.Audit != nil || m.Under != nil || m.Mounts == nil || len(m.Decls.Entries) != 1 {
		t.Errorf("model: audit %v, under %v, mounts %v, %d declarations", m.Audit, m.Under != nil, m.Mounts, len(m.Decls.Entries))
	}
	if m.From == nil || m.From.Dir != old || m.FromName != "" {
		t.Errorf("--from %s: %+v, name %q", old, m.From, m.FromName)
	}
	for from, want := range map[string]string{
		"yesterday":                   "--from yesterday: not a directory, nor latest or an old-root name",
		filepath.Join(old, "missing"): "--from: stat " + filepath.Join(old, "missing"),
		decl:                          "--from " + decl + ": not a directory",
	} {
		o.From = from
		m, err := Build(context.Background(), o)
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("--from %s: %v, want %q", from, err, want)
		}
		m.Close()
	}
	var h *HintError
	if o.From = "yesterday"; !errors.As(func() error { _, err := Build(context.Background(), o); return err }(), &h) || !strings.Contains(h.Hint, "--from latest") {
		t.Errorf("--from yesterday: no hint naming what --from takes: %v", h)
	}
}

// TestCompareWithoutMountsBelow: trees with nothing mounted below them are
// compared as named, with nothing said, and the comparison names them as
// given.
func TestCompareWithoutMountsBelow(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(b, "new"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	var said []Said
	c, err := Compare(context.Background(), CompareOptions{A: a, B: b, Say: func(s Said) { said = append(said, s) }})
	if err != nil {
		t.Fatal(err)
	}
	if c.A != a || c.B != b || c.Counts[diff.Added] != 1 || len(c.Diffs) != 1 || c.Diffs[0].Path != "/new" || len(said) != 0 {
		t.Errorf("compare: %s %s, diffs %+v, said %v", c.A, c.B, c.Diffs, said)
	}
	if _, err := Compare(context.Background(), CompareOptions{A: a, B: filepath.Join(b, "new")}); err == nil {
		t.Error("a regular file compared as a tree")
	}
}
