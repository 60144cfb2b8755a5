package testutil

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestBuild(t *testing.T) {
	dir := t.TempDir()
	def := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	own := def.Add(-time.Hour)
	Build(t, dir, map[string]Node{
		"a/secret": {Content: "x", Mode: 0o600, UID: -1, Mtime: own},
		"a/big":    {Size: 1 << 20, UID: -1},
		"d":        {Dir: true, UID: -1},
	}, def)
	for _, tc := range []struct {
		p     string
		mode  os.FileMode
		size  int64
		mtime time.Time
	}{
		{"a/secret", 0o600, 1, own},
		{"a/big", 0o644, 1 << 20, def},
		{"a", os.ModeDir | 0o755, -1, def},
		{"d", os.ModeDir | 0o755, -1, def},
	} {
		fi, err := os.Lstat(filepath.Join(dir, tc.p))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != tc.mode || tc.size >= 0 && fi.Size() != tc.size || !fi.ModTime().Equal(tc.mtime) {
			t.Errorf("%s: mode %v size %d mtime %v, want %v %d %v", tc.p, fi.Mode(), fi.Size(), fi.ModTime(), tc.mode, tc.size, tc.mtime)
		}
	}
}
