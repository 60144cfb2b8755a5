package restore

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/nix-drift/drift/internal/testutil"
)

// TestNotADirectoryBelowNamesTheRestoreThatWorks: the old root held the
// directory /var/lib/newsvc/sv with data in it; the persistent copy now
// holds a file at sv. VANISHED printed drift restore of sv/data, which
// failed with "destination .../sv: not a directory" and no hint (a fresh
// user's run, exit 2). The error now says which live path to restore
// instead (sv itself, --force), dry run or not; the file stays.
func TestNotADirectoryBelowNamesTheRestoreThatWorks(t *testing.T) {
	dir := t.TempDir()
	old, live := filepath.Join(dir, "old"), filepath.Join(dir, "live")
	testutil.Must(t, os.MkdirAll(filepath.Join(old, "var/lib/newsvc/sv"), 0o755))
	testutil.Must(t, os.WriteFile(filepath.Join(old, "var/lib/newsvc/sv/data"), []byte("data\n"), 0o644))
	testutil.Must(t, os.MkdirAll(filepath.Join(live, "p/var/lib/newsvc"), 0o755))
	testutil.Must(t, os.WriteFile(filepath.Join(live, "p/var/lib/newsvc/sv"), []byte("a file\n"), 0o644))
	for _, dry := range []bool{true, false} {
		_, err := Run(context.Background(), Request{From: old, Path: "/var/lib/newsvc/sv/data", Root: live, Dest: "/p/var/lib/newsvc/sv/data", DryRun: dry})
		var he *HintError
		var nd *NotDirError
		if !errors.As(err, &he) || !errors.As(err, &nd) {
			t.Fatalf("dry run %v: err %v, want a hint and a NotDirError", dry, err)
		}
		if want := "destination " + filepath.Join(live, "p/var/lib/newsvc/sv") + ": not a directory"; err.Error() != want {
			t.Errorf("error %q, want %q", err, want)
		}
		if want := "nothing can be restored below it: restore /var/lib/newsvc/sv itself, which replaces what is there with the old root's directory: drift restore /var/lib/newsvc/sv --force, with the same --from and flags"; he.Hint != want {
			t.Errorf("hint %q, want %q", he.Hint, want)
		}
	}
	// drift adopt copies for itself: no restore command in its error.
	_, err := Run(context.Background(), Request{From: old, Path: "/var/lib/newsvc/sv/data", Root: live, Dest: "/p/var/lib/newsvc/sv/data", Command: "adopt"})
	var he *HintError
	if err == nil || errors.As(err, &he) {
		t.Errorf("adopt: err %v, want one with no restore hint", err)
	}
	// restore of sv itself, --force, works.
	if _, err := Run(context.Background(), Request{From: old, Path: "/var/lib/newsvc/sv", Root: live, Dest: "/p/var/lib/newsvc/sv", Force: true}); err != nil {
		t.Fatalf("the hinted restore: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(live, "p/var/lib/newsvc/sv/data")); err != nil || string(b) != "data\n" {
		t.Errorf("sv/data after the hinted restore: %q, %v", b, err)
	}
}
