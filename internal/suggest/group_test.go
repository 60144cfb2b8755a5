package suggest

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/knowledge"
	"github.com/nix-drift/drift/internal/pathx"
	"github.com/nix-drift/drift/internal/persist"
	"golang.org/x/sys/unix"
)

// TestSuggestChunks: the lost paths are weighed a chunk at a time on every
// core (grouping.weighAll) and taken in path order: with chunks of 1, 2,
// 3 and 7 paths — a group, a home, a Left reason, a run of home-manager's
// links split between chunks everywhere, the same target first met in one
// chunk and met again in later ones — the suggestions (their order, items,
// own item, counts) and the Left (counts and paths, in order) are those of
// one chunk.
func TestSuggestChunks(t *testing.T) {
	link := func(p, target string) *diff.Item {
		it := &diff.Item{Path: p, Category: diff.Unpersisted, Mode: unix.S_IFLNK | 0o777, Decl: -1}
		it.SetTarget(target)
		return it
	}
	lost := []*diff.Item{
		item("/boot", 0), item("/boot/extra.img", 9), // a mount point's: LeftNotHere
		item("/etc", 0),
		link("/etc/adjtime", "/persist/etc/adjtime"),
		link("/etc/localtime", "/etc/zoneinfo/UTC"),
		item("/etc/machine-id", 33),
		item("/home", 0), item("/home/alice", 0), item("/home/alice/.config", 0),
		item("/home/alice/.config/fish", 0),
		link("/home/alice/.config/fish/a.fish", "/nix/store/abc-home-manager-files/.config/fish/a.fish"),
		link("/home/alice/.config/fish/b.fish", "/nix/store/abc-home-manager-files/.config/fish/b.fish"),
		item("/home/alice/.config/fish/history.txt", 4),
		link("/home/alice/.config/fish/c.fish", "/nix/store/abc-home-manager-files/.config/fish/c.fish"),
		item("/home/alice/.config/only-links", 0),
		link("/home/alice/.config/only-links/x", "/nix/store/abc-home-manager-files/x"),
		item("/home/alice/notes.txt", 2),
		item("/persist", 0), item("/persist/leftover.txt", 3),
		{Path: "/srv/declared/x", Category: diff.DeclaredUnbacked, Mode: unix.S_IFREG | 0o644, Decl: 0},
		{Path: "/srv/ignored", Category: diff.Ignored, Mode: unix.S_IFDIR | 0o755, Decl: -1},
		item("/var", 0), item("/var/lib", 0),
		link("/var/lib/dyn", "private/dyn"),
		item("/var/lib/docker", 0),
		item("/var/lib/private", 0), item("/var/lib/private/dyn", 0), item("/var/lib/private/dyn/state.db", 8),
	}
	for i := range 12 {
		lost = append(lost, item(fmt.Sprintf("/var/lib/docker/layer%02d.tar", i), int64(i+1)))
	}
	for _, app := range []string{"a", "b", "c"} {
		lost = append(lost, item("/var/lib/"+app, 0))
		for i := range 4 {
			lost = append(lost, item(fmt.Sprintf("/var/lib/%s/%d.dat", app, i), 1))
		}
	}
	slices.SortStableFunc(lost, func(x, y *diff.Item) int { return pathx.Compare(x.Path, y.Path) })
	decls := &persist.Set{Entries: []persist.Entry{{Kind: persist.Dir, StoragePath: "/persist", Path: "/srv/declared"}}}
	in := Input{Audit: &diff.Audit{Decls: decls, Lost: lost}, Root: t.TempDir(), Knowledge: knowledge.Builtin(), StoragePath: "/persist",
		Unpersistable: func(p string) string {
			if pathx.HasPrefix(p, "/boot") {
				return "/boot is the mount point of another filesystem"
			}
			return ""
		}}
	defer func(n int) { groupChunk = n }(groupChunk)
	groupChunk = len(lost)
	want, wantLeft := Suggest(in)
	reasons := map[string]bool{}
	for _, l := range wantLeft {
		reasons[strings.SplitN(l.Reason, ":", 2)[0]] = true
	}
	for _, r := range []string{LeftLinked, LeftStorage, LeftGenerated, LeftDynamic, LeftNotHere, LeftSymlink, LeftContainer, LeftOnTheWay, LeftAdopt} {
		if !reasons[strings.SplitN(r, ":", 2)[0]] {
			t.Errorf("one chunk: no Left %q in %+v: the test weighs less than it means to", r, wantLeft)
		}
	}
	if len(want) < 5 {
		t.Fatalf("one chunk: %d suggestions, want at least 5: %+v", len(want), want)
	}
	for _, n := range []int{1, 2, 3, 7} {
		groupChunk = n
		got, left := Suggest(in)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("chunks of %d: suggestions\n%+v\nwant\n%+v", n, got, want)
		}
		if !reflect.DeepEqual(left, wantLeft) {
			t.Errorf("chunks of %d: left\n%+v\nwant\n%+v", n, left, wantLeft)
		}
	}
}
