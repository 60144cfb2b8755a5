package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// object is what is visible at one path: its type and, for regular files, the
// content hash (size only for big sparse files), for symlinks the target.
type object struct {
	Type   fs.FileMode // mode & fs.ModeType
	Digest string
	Target string
}

func (o object) String() string {
	switch {
	case o.Type.IsRegular():
		return "file " + o.Digest
	case o.Type&fs.ModeSymlink != 0:
		return fmt.Sprintf("symlink -> %q", o.Target)
	}
	return o.Type.String()
}

// snapshot maps every path below dir (relative to dir, starting with "/",
// raw bytes) to the object visible there. It never follows symlinks; it does
// cross mount points and subvolume boundaries, as a user would.
func snapshot(t *testing.T, dir string) map[string]object {
	t.Helper()
	snap := map[string]object{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == dir {
			return nil
		}
		rel := p[len(dir):]
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		o := object{Type: fi.Mode().Type()}
		switch {
		case fi.Mode().IsRegular():
			if fi.Size() > 64<<20 {
				o.Digest = fmt.Sprintf("size:%d", fi.Size()) // the sparse file
			} else {
				o.Digest, err = hashFile(p)
				if err != nil {
					return err
				}
			}
		case fi.Mode()&fs.ModeSymlink != 0:
			if o.Target, err = os.Readlink(p); err != nil {
				return err
			}
		}
		snap[rel] = o
		return nil
	})
	if err != nil {
		t.Fatalf("snapshot %s: %v", dir, err)
	}
	return snap
}

func hashFile(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)[:12]), nil
}

// samePrediction fails t for each path lost by the wipe and boot (actual:
// path to why, from lostPaths) that drift check did not predict, and for
// each predicted path that was not lost.
func samePrediction(t *testing.T, predicted map[string]bool, actual map[string]string) {
	t.Helper()
	for _, p := range sortedKeys(actual) {
		if !predicted[p] {
			t.Errorf("lost by the wipe and boot, not predicted: %s (%s)", quote(p), actual[p])
		}
	}
	for _, p := range sortedKeys(predicted) {
		if _, ok := actual[p]; !ok {
			t.Errorf("predicted, not lost: %s", quote(p))
		}
	}
}

// lostPaths returns the paths of before whose object is not visible the same
// after: missing, another type, other content, another symlink target.
// Directories, fifos and sockets that exist after with the same type are not
// lost. Only paths in only (when non-nil) are considered.
func lostPaths(before, after map[string]object, only func(string) bool) map[string]string {
	lost := map[string]string{}
	for p, b := range before {
		if only != nil && !only(p) {
			continue
		}
		a, ok := after[p]
		switch {
		case !ok:
			lost[p] = "missing after reboot"
		case a.Type != b.Type:
			lost[p] = fmt.Sprintf("type %v -> %v", b.Type, a.Type)
		case b.Type.IsRegular() && a.Digest != b.Digest:
			lost[p] = "content changed"
		case b.Type&fs.ModeSymlink != 0 && a.Target != b.Target:
			lost[p] = fmt.Sprintf("target %q -> %q", b.Target, a.Target)
		}
	}
	return lost
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// parsePaths0 splits drift's --format paths0 output into a set.
func parsePaths0(t *testing.T, out []byte) map[string]bool {
	t.Helper()
	set := map[string]bool{}
	s := string(out)
	if s == "" {
		return set
	}
	if !strings.HasSuffix(s, "\x00") {
		t.Errorf("paths0 output does not end with NUL: ...%q", tail(s, 80))
	}
	for _, p := range strings.Split(strings.TrimSuffix(s, "\x00"), "\x00") {
		if !strings.HasPrefix(p, "/") {
			t.Errorf("paths0 record %q does not start with /", p)
		}
		if set[p] {
			t.Errorf("paths0 record %q printed twice", p)
		}
		set[p] = true
	}
	return set
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}
