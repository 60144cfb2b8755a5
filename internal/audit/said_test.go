package audit

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/partial"
	"github.com/nix-drift/drift/internal/testutil"
)

// TestSaidWarningsAreTheLast: the warnings said on the way (Options.Say)
// are the last Model.SaidWarnings of Audit.Warnings, which check and
// suggest skip when printing the rest: a warning the model adds after them
// (here a partial copy a killed restore left on the wiped root) is not one
// of them. A fresh user saw "the old root … does not look like a root"
// printed twice: such a later warning had pushed it out of the counted end.
func TestSaidWarningsAreTheLast(t *testing.T) {
	dir := t.TempDir()
	at := time.Date(2026, 11, 12, 9, 0, 0, 0, time.UTC)
	node := func(c string) testutil.Node { return testutil.Node{Content: c, Mtime: at} }
	left := "srv/" + partial.Name("data", partial.Restore, 999999999, "0123456789ab") + "/f"
	testutil.Build(t, filepath.Join(dir, "root"), map[string]testutil.Node{"nix/persist/.keep": node(""), left: node("x")}, at)
	var said []diff.Warning
	m, err := Build(context.Background(), tmpfsRootOptions(t, dir, Options{OldRoots: filepath.Join(dir, "missing"), Previous: true, // warned on the way
		Say: func(s Said) {
			if !s.Note && s.Diagnostic == nil {
				said = append(said, s.Warning)
			}
		}}))
	testutil.Must(t, err)
	defer m.Close()
	ws := m.Audit.Warnings
	if len(said) == 0 || len(m.Partials) == 0 || m.SaidWarnings != len(said) || !slices.Equal(ws[len(ws)-m.SaidWarnings:], said) {
		t.Errorf("said on the way %q (%d partial copies); the last %d of the audit's warnings %q", said, len(m.Partials), m.SaidWarnings, ws)
	}
}
