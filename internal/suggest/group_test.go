package suggest

import (
	"fmt"
	"path"
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
	in := Input{Audit: &diff.Audit{Decls: decls, Lost: lost, HomeManagerHomes: []string{"/home/alice"}}, Root: t.TempDir(), Knowledge: knowledge.Builtin(), StoragePath: "/persist",
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

// TestWeighSiblings: the answer weighOne reuses for the paths of one
// directory (rollUp's memo, siblingsAlike) is the one each of them gets
// alone, in directories where a sibling is a home, a container of many
// applications' state, a fact's own path (the SSH host keys, ~/.ssh,
// /var/lib/private/*) or the target itself, below targets drift check does
// not list as lost and below a path never declared (Unpersistable); with
// and without a --home.
func TestWeighSiblings(t *testing.T) {
	var ps []string
	for _, d := range []string{
		"/etc", "/etc/ssh", "/etc/nixos", "/var", "/var/lib", "/var/lib/docker/overlay", "/var/lib/private",
		"/var/lib/private/app", "/var/lib/systemd", "/var/lib/systemd/timers", "/var/lib/foo/bar", "/var/log/journal",
		"/var/cache/x", "/home", "/home/alice", "/home/alice/.config", "/home/alice/.config/fish",
		"/home/alice/.local", "/home/alice/.local/state", "/home/alice/.local/state/nvim", "/home/alice/.ssh",
		"/home/alice/.mozilla/firefox", "/home/alice/Documents/x", "/srv", "/srv/bob", "/srv/bob/.config",
		"/srv/bob/.config/app", "/srv/www", "/srv/www/x", "/root", "/root/.ssh", "/usr/local", "/usr/local/share/app", "/opt/a",
	} {
		ps = append(ps, d)
		for _, n := range []string{"a.txt", "b.txt", "c", "c/d.txt", "c/e.txt", "c/f/g.txt", "lib", "cache", "log", "private",
			"docker", ".config", ".local", ".ssh", ".cache", "alice", "bob", "ssh_host_rsa_key", "ssh_host_rsa_key.pub",
			"sshd_config", "share", "state", "nvim", "machine-id", "zz.txt"} {
			ps = append(ps, d+"/"+n)
		}
	}
	slices.SortFunc(ps, pathx.Compare)
	ps = slices.Compact(ps)
	lost := map[string]int{}
	for i, p := range ps {
		lost[p] = i
		for q := path.Dir(p); q != "/"; q = path.Dir(q) {
			lost[q] = -1
		}
	}
	for _, d := range []string{"/var/lib/foo", "/home/alice/.config/fish", "/srv/bob/.config/app", "/opt/a/c"} {
		delete(lost, d) // re-made at boot: not lost
	}
	k := knowledge.Builtin()
	notHere := func(p string) string {
		if pathx.HasPrefix(p, "/srv/www") {
			return "a mount point"
		}
		return ""
	}
	// answer is weighOne's answer for p as a string: a Left reason, or the
	// group's target, fact, home and user.
	answer := func(c *chunk, r int32) string {
		if r <= ofLeft {
			return leftReasons[ofLeft-r]
		}
		g := c.groups[r>>1]
		return fmt.Sprintf("%s %p %s %s %d", g.target, g.fact, g.home, g.user, r&1)
	}
	for _, homes := range []map[string]string{nil, {"bob": "/srv/bob"}} {
		gr := &grouping{in: &Input{Knowledge: k, Unpersistable: notHere}, idx: lost, homes: homeUsers(homes), facts: factShapes(k)}
		c := &chunk{byTarget: map[string]int32{}, notHere: map[string]bool{}}
		m := k.Matcher()
		reused := 0
		for _, p := range ps {
			if c.memo.same && c.memo.dir == path.Dir(p) {
				reused++
			}
			got := answer(c, gr.weighOne(c, m, item(p, 0)))
			alone := &chunk{byTarget: map[string]int32{}, notHere: map[string]bool{}}
			if want := answer(alone, gr.weighOne(alone, k.Matcher(), item(p, 0))); got != want {
				t.Errorf("homes %v: %s: %s, want %s", homes, p, got, want)
			}
		}
		if reused < len(ps)/8 {
			t.Errorf("homes %v: %d of %d answers reused: the test compares too few", homes, reused, len(ps))
		}
	}
}
