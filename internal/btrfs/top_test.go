package btrfs

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestOpenTopDirSaysWhatIsWrong: a --top that does not exist is named as
// missing, not as "not a mount point" (which sends the user to mount
// something on a directory that is not there); an existing directory that
// is not a mount point still says so.
func TestOpenTopDirSaysWhatIsWrong(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ dir, want, not string }{
		{filepath.Join(dir, "missing"), "no such file or directory", "not a mount point"},
		{dir, "not a mount point", "no such file"},
	} {
		_, err := OpenTopDir(c.dir, nil)
		if err == nil {
			t.Fatalf("OpenTopDir(%s): no error", c.dir)
		}
		if msg := err.Error(); !strings.Contains(msg, c.want) || strings.Contains(msg, c.not) {
			t.Errorf("OpenTopDir(%s): %q, want %q and not %q", c.dir, msg, c.want, c.not)
		}
	}
}
