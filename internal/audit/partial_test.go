package audit

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/partial"
	"github.com/nix-drift/drift/internal/persist"
)

// gonePID is a process id no process has (above the kernel's pid_max
// limit of 2^22).
const gonePID = 1<<22 + 7

// TestPartialCopyWarningsNamedAndInside: a partial copy beside a declared
// path's copy is said to be of that path, one directly inside a declared
// directory's copy of a path inside it, one next to neither is only to be
// removed, and a directory that is both (a declared directory holding the
// copy of another declared path) is listed once: one warning per copy.
func TestPartialCopyWarningsNamedAndInside(t *testing.T) {
	root := t.TempDir()
	mk := func(d, of string) string {
		n := partial.Name(of, gonePID, "0123456789ab")
		if err := os.MkdirAll(filepath.Join(root, d, n), 0o755); err != nil {
			t.Fatal(err)
		}
		return d + "/" + n
	}
	named := mk("/p/var/lib", "app")
	inside := mk("/p/var/lib/data", "cache")
	stray := mk("/p/etc", "other")
	m := &Model{Root: root, Decls: &persist.Set{Entries: []persist.Entry{
		{Kind: persist.Dir, StoragePath: "/p", Path: "/var/lib/app"},
		{Kind: persist.Dir, StoragePath: "/p", Path: "/var/lib/data"},
		{Kind: persist.File, StoragePath: "/p", Path: "/etc/machine-id"},
	}}}
	// The commands run as printed against the audited root (--root, the
	// audit's flags, the copy's path as the host sees it): before, they
	// named neither, and rm -r named a path of the host's own /.
	ws := m.partialCopyWarnings(context.Background(), []string{"--persist", "/cfg/decl.nix"})
	want := map[string]string{
		named:  "run drift adopt --root " + root + " --persist /cfg/decl.nix /var/lib/app again, which finishes the copy of /p/var/lib/app",
		inside: "run drift adopt --root " + root + " --persist /cfg/decl.nix /var/lib/data/cache again, which finishes the copy of /p/var/lib/data/cache",
		stray:  ": remove it (rm -r " + root + stray + ")",
	}
	if len(ws) != len(want) {
		t.Fatalf("%d warnings, want %d: %v", len(ws), len(want), ws)
	}
	for _, w := range ws {
		if !strings.Contains(w.Message, want[w.Path]) || !strings.Contains(w.Message, fmt.Sprintf("process %d is gone", gonePID)) {
			t.Errorf("%s: %q, want it to say %q", w.Path, w.Message, want[w.Path])
		}
	}
}

// TestPartialCopyWarningsAllocBound: looking for partial copies next to
// 20,000 declared directories allocates a bounded amount per declaration
// (each directory's name made for its lookup, the table of the directories
// listed), not a map and a string kept per declaration (issue 13: a
// million declarations within 10x the input). Measured: 207 bytes, of
// which the directory names and the opens are garbage at once.
func TestPartialCopyWarningsAllocBound(t *testing.T) {
	const n = 20000
	es := make([]persist.Entry, n)
	for i := range es {
		es[i] = persist.Entry{Kind: persist.Dir, StoragePath: "/p", Path: fmt.Sprintf("/var/lib/d%d", i)}
	}
	m := &Model{Root: t.TempDir(), Decls: &persist.Set{Entries: es}}
	if ws := m.partialCopyWarnings(context.Background(), nil); len(ws) != 0 {
		t.Fatalf("warnings with no partial copy: %v", ws)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	m.partialCopyWarnings(context.Background(), nil)
	runtime.ReadMemStats(&after)
	per := float64(after.TotalAlloc-before.TotalAlloc) / n
	t.Logf("%.0f bytes allocated per declared directory", per)
	if per > 300 {
		t.Errorf("%.0f bytes allocated per declared directory, want at most 300 (a map and a place per directory: 374)", per)
	}
}
