package suggest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nix-drift/drift/internal/btrfs"
	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/knowledge"
	"github.com/nix-drift/drift/internal/persist"
	"golang.org/x/sys/unix"
)

// TestSuggestVanished: what the last wipe destroyed and nothing declares
// (drift check's VANISHED rows) is proposed to persist, weighed with the
// knowledge base and the old roots that hold it, with the restore into the
// persistent copy; a vanished path present again live is counted once (a
// note on the live suggestion); a declared row (restored into its copy
// already), a row whose data is in a persistent copy (stray's) and a
// symlink are not proposed; a vanished directory that holds many
// applications' state (/opt) is split into what it held.
func TestSuggestVanished(t *testing.T) {
	dir := t.TempDir()
	prev, older := filepath.Join(dir, "prev"), filepath.Join(dir, "older")
	for _, d := range []string{prev + "/var/lib/bluetooth/aa", prev + "/srv/app", older + "/var/lib/bluetooth", prev + "/var/lib/kept", prev + "/opt/tool"} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(prev+"/var/lib/bluetooth", 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(prev+"/opt/tool/bin", []byte("1234"), 0o755); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	dirMode, fileMode := uint32(unix.S_IFDIR|0o755), uint32(unix.S_IFREG|0o644)
	row := func(p string, mode uint32, n, b int64) diff.Vanished {
		return diff.Vanished{Path: p, Mode: mode, Entries: n, Bytes: b, Root: "2026-12-07_10:00:00", From: "2026-12-07_10:00:00"}
	}
	declared, inCopy, link := row("/var/lib/kept/x", fileMode, 1, 5), row("/srv/old", dirMode, 1, 0), row("/etc/link", unix.S_IFLNK|0o777, 1, 0)
	declared.Decl, inCopy.PersistentCopy = "/var/lib/kept", "/nix/persist/srv/old"
	a := &diff.Audit{Decls: &persist.Set{}, Root: "/",
		PreviousRoot: &btrfs.OldRoot{Name: "2026-12-07_10:00:00", Dir: prev},
		Lost:         []*diff.Item{item("/srv/app", 0), item("/srv/app/new.db", 100)},
		Vanished: []diff.Vanished{row("/srv/app/old.db", fileMode, 1, 10), row("/var/lib/bluetooth", dirMode, 3, 2<<20),
			declared, inCopy, link, row("/opt", dirMode, 3, 4)},
	}
	old := []RootHistory{{Root: btrfs.OldRoot{Name: "p", Dir: prev}, Hist: make([]diff.History, 2)}, {Root: btrfs.OldRoot{Name: "o", Dir: older}, Hist: make([]diff.History, 2)}}
	sugs, _ := Suggest(Input{Audit: a, Root: dir + "/live", Old: old, Knowledge: knowledge.Builtin(), StoragePath: "/nix/persist", Now: now})
	byPath := map[string]Suggestion{}
	for _, s := range sugs {
		if _, dup := byPath[s.Path]; dup {
			t.Errorf("%s suggested twice", s.Path)
		}
		byPath[s.Path] = s
	}
	if len(byPath) != 3 {
		t.Errorf("suggestions %v, want /var/lib/bluetooth, /srv/app and /opt/tool", sugs)
	}
	// /opt holds many applications' state: what it held is proposed.
	if tool := byPath["/opt/tool"]; tool.Action != Persist || tool.Kind != persist.Dir || tool.Entries != 2 || tool.Bytes != 4 || len(tool.Vanished) != 1 {
		t.Errorf("/opt/tool: %+v, want the directory the vanished /opt held", tool)
	}
	bt, ok := byPath["/var/lib/bluetooth"]
	if !ok || bt.Action != Persist || bt.Kind != persist.Dir || bt.Fact == nil || bt.Entries != 3 || bt.Bytes != 2<<20 || bt.Seen != 2 || bt.Changed != 2 || bt.Confidence != High {
		t.Fatalf("/var/lib/bluetooth: %+v", bt)
	}
	if !bt.OnlyVanished() || bt.Attrs == nil || bt.Attrs.Mode != "0700" {
		t.Errorf("/var/lib/bluetooth: only vanished %v, attrs %+v (want the previous root's 0700)", bt.OnlyVanished(), bt.Attrs)
	}
	note := bt.Note(func(s string) string { return s })
	want := "drift restore /var/lib/bluetooth --from 2026-12-07_10:00:00 --root " + dir + "/live"
	if !strings.Contains(note, "vanished at the last wipe") || !strings.Contains(note, want) || strings.Contains(note, "--to live") {
		t.Errorf("note %q, want the vanished note and %q", note, want)
	}
	// Gone now: not "differs from now …: state lost at every boot" (a
	// second tester's /etc/marker, absent now, read so).
	if !strings.Contains(note, "in 2 of the last 2 old roots, gone now") || strings.Contains(note, "differs from now") {
		t.Errorf("note %q, want its history as in 2 of the last 2 old roots, gone now", note)
	}
	app := byPath["/srv/app"]
	if len(app.Vanished) != 1 || app.Vanished[0].Path != "/srv/app/old.db" || app.OnlyVanished() || app.Entries != 3 {
		t.Errorf("/srv/app: %+v, want the live suggestion noting /srv/app/old.db once", app)
	}
	// Without a previous root there are no vanished rows to weigh.
	a.Vanished = a.Vanished[:len(a.Vanished)-1]
	a.PreviousRoot = nil
	if sugs, _ := Suggest(Input{Audit: a, Root: dir + "/live", Knowledge: knowledge.Builtin(), StoragePath: "/nix/persist"}); len(sugs) != 1 {
		t.Errorf("without a previous root: %v", sugs)
	}
}

// TestVanishedPlacedAsLivePaths: a vanished path is placed by the rule a
// lost live path is (rollUpValue): in a cache the knowledge base names
// (~/.cache), a directory below it is an Ignore suggestion as it is live,
// under the home's user. Before, vanished.go looked the fact up for the
// exact path only and proposed to persist a vanished cache directory.
func TestVanishedPlacedAsLivePaths(t *testing.T) {
	dir := t.TempDir()
	prev := filepath.Join(dir, "prev")
	if err := os.MkdirAll(prev+"/home/alice/.cache/thumbnails", 0o755); err != nil {
		t.Fatal(err)
	}
	v := diff.Vanished{Path: "/home/alice/.cache/thumbnails", Mode: unix.S_IFDIR | 0o755, Entries: 1, Root: "r", From: "r"}
	lost := item("/home/alice/.cache/fontconfig", 0)
	lost.Mode = unix.S_IFDIR | 0o755
	a := &diff.Audit{Decls: &persist.Set{}, Root: "/", PreviousRoot: &btrfs.OldRoot{Name: "r", Dir: prev},
		Lost: []*diff.Item{lost}, Vanished: []diff.Vanished{v}}
	sugs, _ := Suggest(Input{Audit: a, Root: dir + "/live", Knowledge: knowledge.Builtin(), StoragePath: "/nix/persist"})
	got := map[string]Suggestion{}
	for _, s := range sugs {
		got[s.Path] = s
	}
	live, gone := got["/home/alice/.cache/fontconfig"], got["/home/alice/.cache/thumbnails"]
	if live.Action != Ignore {
		t.Fatalf("live /home/alice/.cache/fontconfig: %+v, want Ignore (the reference)", live)
	}
	if gone.Action != live.Action || gone.User != "alice" || gone.Rel != ".cache/thumbnails" || gone.Fact == nil || gone.Fact.Path != live.Fact.Path {
		t.Errorf("vanished /home/alice/.cache/thumbnails: action %s user %q rel %q fact %+v, want %s for alice, .cache/thumbnails, the fact %+v", gone.Action, gone.User, gone.Rel, gone.Fact, live.Action, live.Fact)
	}
}
