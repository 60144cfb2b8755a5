package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/persist"
	"github.com/nix-drift/drift/internal/scan"
	"golang.org/x/sys/unix"
)

// drift diff names a nested subvolume as check does ("subvolume", the
// tester's /var/lib/machines/box shown as "dir" by diff): in the table and
// in JSON, on either side; a directory of inode 256 on its tree's own
// device (not btrfs, say) stays "dir".
func TestDiffNamesNestedSubvolumeAsCheckDoes(t *testing.T) {
	sub := &scan.Entry{Path: "/var/lib/machines/box", Mode: unix.S_IFDIR | 0o755, Ino: 256, Dev: 52}
	plain := &scan.Entry{Path: "/srv/d", Mode: unix.S_IFDIR | 0o755, Ino: 256, Dev: 40}
	c := &diff.Comparison{RootDev: [2]uint64{40, 40}, Diffs: []diff.Difference{
		{Path: "/srv/d", Change: diff.Added, B: plain},
		{Path: "/var/lib/machines/box", Change: diff.Removed, A: sub},
	}}
	c.Counts[diff.Added], c.Counts[diff.Removed] = 1, 1
	if want := Type(&diff.Item{Mode: sub.Mode, Subvolume: true}); want != "subvolume" {
		t.Fatalf("check's type %q", want)
	}
	var buf bytes.Buffer
	if err := WriteComparison(&buf, c, "table"); err != nil {
		t.Fatal(err)
	}
	var subLine, dirLine string
	for _, l := range strings.Split(buf.String(), "\n") {
		switch {
		case strings.Contains(l, "/var/lib/machines/box"):
			subLine = l
		case strings.Contains(l, "/srv/d"):
			dirLine = l
		}
	}
	if !strings.Contains(subLine, "subvolume") || strings.Contains(dirLine, "subvolume") || !strings.Contains(dirLine, "dir") {
		t.Errorf("table:\n%s", buf.String())
	}
	buf.Reset()
	if err := WriteComparison(&buf, c, "json"); err != nil {
		t.Fatal(err)
	}
	var j struct {
		Changes []struct {
			Path string
			A, B *struct{ Type string }
		}
	}
	if err := json.Unmarshal(buf.Bytes(), &j); err != nil {
		t.Fatal(err)
	}
	if len(j.Changes) != 2 || j.Changes[0].B.Type != "dir" || j.Changes[1].A.Type != "subvolume" {
		t.Errorf("json: %s", buf.String())
	}
}

// The WHY of a path declared as a file that is a directory live, and of
// what it holds, names the mismatch (one reason for all of it).
func TestWhyDeclaredFileThatIsADirectory(t *testing.T) {
	d := persist.Entry{Kind: persist.File, StoragePath: "/nix/persist", Path: "/etc/typemismatch"}
	a := &diff.Audit{Decls: &persist.Set{Entries: []persist.Entry{d}}}
	top := &diff.Item{Path: "/etc/typemismatch", Category: diff.DeclaredUnbacked, Mode: unix.S_IFDIR | 0o755, Decl: 0}
	inner := &diff.Item{Path: "/etc/typemismatch/inner", Category: diff.DeclaredUnbacked, Mode: unix.S_IFREG | 0o644, Decl: 0}
	if w := Why(a, top); !strings.Contains(w, "declared file, but a directory here") || !strings.Contains(w, "/nix/persist/etc/typemismatch") {
		t.Errorf("top: %q", w)
	}
	if w := Why(a, inner); !strings.Contains(w, "inside /etc/typemismatch, declared as a file but a directory") {
		t.Errorf("inner: %q", w)
	}
}
