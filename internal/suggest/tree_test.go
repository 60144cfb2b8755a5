package suggest

import (
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/testutil"
	"golang.org/x/sys/unix"
)

// mkdirChain makes n nested directories named name beneath dir (by
// mkdirat, each in the one before: the whole path may be longer than
// PATH_MAX) and writes data into a file leaf at the bottom when data is
// not "".
func mkdirChain(t *testing.T, dir, name string, n int, data string) {
	t.Helper()
	fd := testutil.MkdirChain(t, dir, name, n)
	if data != "" {
		testutil.WriteFileAt(t, fd, "leaf", data)
	}
}

// TestVanishedTreesDeeperThanPathMax: a vanished directory whose tree is
// 40 directories of 200 bytes deep (8,000-byte paths, twice PATH_MAX) is
// counted whole (previousChildren: 40 directories, the file and the top),
// and of a persistent copy holding its first 25 levels, copyLacks names
// the 26th as the one path the copy lacks, with the 15 directories and
// the file beneath it. Before, both walked the previous root by whole
// names (filepath.WalkDir, lstat): past PATH_MAX nothing was counted, and
// the copy's deep levels, looked up by whole name too, seemed missing.
func TestVanishedTreesDeeperThanPathMax(t *testing.T) {
	dir := t.TempDir()
	prev, live := dir+"/prev", dir+"/live"
	name := strings.Repeat("d", 200)
	mkdirChain(t, prev+"/opt/deep", name, 40, "deep data\n")
	mkdirChain(t, live+"/nix/persist/opt/deep", name, 25, "")
	v := diff.Vanished{Path: "/opt", Mode: unix.S_IFDIR | 0o755}

	kids := previousChildren(prev, v)
	if len(kids) != 1 || kids[0].Path != "/opt/deep" || kids[0].Entries != 42 || kids[0].Bytes != 10 {
		t.Errorf("previousChildren(/opt) = %+v, want /opt/deep with 42 entries, 10 bytes", kids)
	}
	v.Path = "/opt/deep"
	lacks := copyLacks(prev, live, v, func(p string) string { return "/nix/persist" + p })
	want := "/opt/deep/" + strings.TrimSuffix(strings.Repeat(name+"/", 26), "/")
	if len(lacks) != 1 || lacks[0].Path != want || lacks[0].Entries != 16 || lacks[0].Bytes != 10 || lacks[0].Mode&unix.S_IFMT != unix.S_IFDIR {
		for _, l := range lacks {
			t.Logf("lacks %d bytes deep: %d entries, %d bytes", len(l.Path), l.Entries, l.Bytes)
		}
		t.Errorf("copyLacks: %d rows, want one, the 26th level (%d bytes deep), 16 entries, 10 bytes", len(lacks), len(want))
	}
}
