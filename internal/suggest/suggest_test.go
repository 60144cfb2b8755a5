package suggest

import (
	"fmt"
	"github.com/nix-drift/drift/internal/btrfs"
	"github.com/nix-drift/drift/internal/knowledge"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/pathx"
	"github.com/nix-drift/drift/internal/persist"
	"github.com/nix-drift/drift/internal/testutil"
	"golang.org/x/sys/unix"
)

// TestBuiltin: the embedded knowledge base parses; every fact says what it
// is and where the fact comes from; no two facts have the same path; no
// persist fact is a directory that holds many applications' state.
func TestBuiltin(t *testing.T) {
	k := knowledge.Builtin()
	if len(k.Facts) < 30 {
		t.Fatalf("%d facts", len(k.Facts))
	}
	seen := map[string]bool{}
	for _, f := range k.Facts {
		if seen[f.Path] {
			t.Errorf("%s: twice", f.Path)
		}
		seen[f.Path] = true
		if f.Action == "persist" && slices.Contains(knowledge.SystemContainers, f.Path) {
			t.Errorf("%s: persists a whole container of state", f.Path)
		}
		if !strings.Contains(f.Source, "://") && !strings.Contains(f.Source, "README") && !strings.Contains(f.Source, "docs/") &&
			!strings.Contains(f.Source, "nixpkgs ") && !strings.Contains(f.Source, "issue") && !strings.Contains(f.Source, "(5)") {
			t.Errorf("%s: source %q names no document", f.Path, f.Source)
		}
	}
	// The services the issue names are all known.
	for _, p := range []string{"/etc/machine-id", "/var/lib/nixos", "/etc/NetworkManager/system-connections", "/var/lib/bluetooth",
		"/var/lib/tailscale", "/var/lib/docker", "/var/lib/libvirt", "/var/lib/postgresql", "/var/lib/fprint", "/var/lib/colord",
		"/var/lib/cups", "/var/lib/acme", "/etc/ssh/ssh_host_rsa_key", "/var/db/sudo/lectured", "/var/lib/systemd/timers",
		"/var/lib/systemd/coredump", "/var/lib/systemd/backlight", "/var/lib/systemd/rfkill", "/var/lib/systemd/random-seed"} {
		if f, at, ok := k.Match(p, ""); !ok || at != p || f.Action != "persist" {
			t.Errorf("%s: not known as state to persist (%v %q %+v)", p, ok, at, f)
		}
	}
}

func TestMatch(t *testing.T) {
	k := knowledge.Builtin()
	for _, tc := range []struct{ p, home, want, fact string }{
		{"/var/lib/bluetooth/AA:BB/info", "", "/var/lib/bluetooth", "/var/lib/bluetooth"},
		{"/etc/ssh/ssh_host_rsa_key", "", "/etc/ssh/ssh_host_rsa_key", "/etc/ssh/ssh_host_*_key"},
		{"/etc/ssh/ssh_host_rsa_key.pub", "", "/etc/ssh/ssh_host_rsa_key.pub", "/etc/ssh/ssh_host_*_key.pub"},
		{"/etc/ssh/sshd_config", "", "", ""},
		{"/var/lib/systemd/timers/stamp-x", "", "/var/lib/systemd/timers", "/var/lib/systemd/timers"},
		{"/var/lib/systemdx/a", "", "", ""},
		{"/var/lib/systemd/random-seed/x", "", "", ""}, // a file fact covers nothing below it
		{"/home/alice/.ssh/id_ed25519", "/home/alice", "/home/alice/.ssh", "~/.ssh"},
		{"/home/alice/.ssh/id_ed25519", "", "", ""},
		{"/home/alice/.cache/x", "/home/alice", "/home/alice/.cache", "~/.cache"},
		{"/var/cache/fontconfig/x", "", "/var/cache", "/var/cache"},
		{"/var/lib/private/kea/leases4.csv", "", "/var/lib/private/kea", "/var/lib/private/*"},
		{"/var/lib/private", "", "", ""}, // never the whole of it
	} {
		f, at, ok := k.Match(tc.p, tc.home)
		if at != tc.want || ok != (tc.want != "") || f.Path != tc.fact {
			t.Errorf("Match(%s, %q) = %q %v (%s), want %q (%s)", tc.p, tc.home, at, ok, f.Path, tc.want, tc.fact)
		}
	}
}

// ancestors returns p and all its ancestors below /.
func ancestors(ps ...string) map[string]int {
	m := map[string]int{}
	for _, p := range ps {
		for q := p; q != "/"; q = path.Dir(q) {
			m[q] = 0
		}
	}
	return m
}

// TestRollUp: the application's own root, never a container whole; a file
// stays a file; a target drift check does not list as lost is not
// suggested, the path one level closer is.
func TestRollUp(t *testing.T) {
	k := knowledge.Builtin()
	homes := homeUsers(map[string]string{"bob": "/srv/bob"})
	for _, tc := range []struct {
		p, want, user string
		lost          map[string]int // nil: p and its ancestors
	}{
		{"/var/lib/foo/a/b", "/var/lib/foo", "", nil},
		{"/var/lib/private/foo/x", "/var/lib/private/foo", "", nil},
		{"/var/lib/systemd/linger/alice", "/var/lib/systemd/linger", "", nil},
		{"/etc/foo.conf", "/etc/foo.conf", "", nil},
		{"/etc/foo/bar", "/etc/foo", "", nil},
		{"/etc/ssh/ssh_host_ed25519_key", "/etc/ssh/ssh_host_ed25519_key", "", nil},
		{"/etc/ssh/sshd_config", "/etc/ssh", "", nil},
		{"/srv/www/index.html", "/srv/www", "", nil},
		{"/imperm_test/testfile", "/imperm_test", "", nil},
		{"/usr/local/bin/rg", "/usr/local/bin", "", nil},
		{"/home/alice/.config/app/x", "/home/alice/.config/app", "alice", nil},
		{"/home/alice/.local/share/app/x/y", "/home/alice/.local/share/app", "alice", nil},
		{"/home/alice/.local/bin/tool", "/home/alice/.local/bin", "alice", nil},
		{"/home/alice/Documents/a.txt", "/home/alice/Documents", "alice", nil},
		{"/home/alice/.bash_history", "/home/alice/.bash_history", "alice", nil},
		{"/home/alice/.mozilla/firefox/p/x", "/home/alice/.mozilla", "alice", nil},
		{"/root/.ssh/id", "/root/.ssh", "", nil},
		{"/srv/bob/.config/x/y", "/srv/bob/.config/x", "bob", nil},
		{"/var/lib/foo/bar/baz", "/var/lib/foo/bar", "", ancestors("/var/lib/foo/bar/baz")},
		{"/var/lib/foo/bar/baz", "/var/lib/foo/bar", "", map[string]int{"/var/lib/foo/bar": 0, "/var/lib/foo/bar/baz": 0}},
		{"/var/log/x", "/var/log/x", "", map[string]int{"/var/log/x": 0}},
		{"/var", "", "", nil},
		{"/etc", "", "", nil},
		{"/var/lib", "", "", nil},
		{"/home/alice", "", "", nil},
		{"/home/alice/.config", "", "", nil},
		{"/root", "", "", nil},
	} {
		lost := tc.lost
		if lost == nil {
			lost = ancestors(tc.p)
		} else if tc.p == "/var/lib/foo/bar/baz" && len(lost) > 2 {
			delete(lost, "/var/lib/foo") // re-made at boot: not lost
		}
		g := rollUp(k, homes, tc.p, lost)
		got, user := "", ""
		if g != nil {
			got, user = g.target, g.user
		}
		if got != tc.want || user != tc.user {
			t.Errorf("rollUp(%s) = %q user %q, want %q user %q", tc.p, got, user, tc.want, tc.user)
		}
	}
}

// item is a lost, unpersisted path of a test audit: a directory when its
// name has no dot, else a file of size bytes.
func item(p string, size int64) *diff.Item {
	it := &diff.Item{Path: p, Category: diff.Unpersisted, Mode: unix.S_IFDIR | 0o755, Decl: -1}
	if strings.Contains(path.Base(p), ".") || size > 0 {
		it.Mode, it.Size = unix.S_IFREG|0o644, size
	}
	return it
}

// TestSuggestHistory: the counts, the actions and the order that history
// across old roots gives; nested targets made one; history letters per
// old root: n new, c changed, s same.
func TestSuggestHistory(t *testing.T) {
	type lost struct {
		p    string
		size int64
		hist string // one letter per old root
	}
	h := map[byte]diff.History{'n': diff.HistoryNew, 'c': diff.HistoryChanged, 's': diff.HistorySame, '-': diff.NoHistory}
	items := []lost{
		{"/var/db/sudo", 0, "sss"},
		{"/var/db/sudo/lectured", 0, "nnn"},
		{"/var/db/sudo/lectured/alice", 0, "nnn"},
		{"/var/lib/app", 0, "sss"},
		{"/var/lib/app/db.sqlite", 2 << 20, "ccs"},
		{"/var/lib/gen", 0, "sss"},
		{"/var/lib/gen/index.bin", 10, "sss"},
		{"/var/lib/half", 0, "snn"},
		{"/var/lib/half/x.bin", 10, "snn"},
		{"/etc/NetworkManager", 0, "nnn"},
		{"/etc/NetworkManager/extra.conf", 5, "nnn"},
		{"/etc/NetworkManager/system-connections", 0, "nnn"},
		{"/etc/NetworkManager/system-connections/wifi.nmconnection", 5, "nnn"},
	}
	a := &diff.Audit{Decls: &persist.Set{}}
	old := []RootHistory{{Root: btrfs.OldRoot{Name: "3"}}, {Root: btrfs.OldRoot{Name: "2"}}, {Root: btrfs.OldRoot{Name: "1"}}}
	for _, l := range items {
		it := item(l.p, l.size)
		if l.hist == "sss" {
			it.Regen = diff.RegenYes // the model's word: same in all, not copied, not known
		}
		a.Lost = append(a.Lost, it)
		for i := range old {
			old[i].Hist = append(old[i].Hist, h[l.hist[i]])
		}
	}
	slices.SortStableFunc(a.Lost, func(x, y *diff.Item) int { return pathx.Compare(x.Path, y.Path) })
	// Hist is parallel to Lost: rebuild it in Lost's order.
	byPath := map[string]lost{}
	for _, l := range items {
		byPath[l.p] = l
	}
	for i := range old {
		old[i].Hist = old[i].Hist[:0]
		for _, it := range a.Lost {
			old[i].Hist = append(old[i].Hist, h[byPath[it.Path].hist[i]])
		}
	}
	got, _ := Suggest(Input{Audit: a, Root: t.TempDir(), Old: old, Knowledge: knowledge.Builtin(), StoragePath: "/persist", Now: time.Unix(0, 0)})
	var rows []string
	for _, s := range got {
		rows = append(rows, fmt.Sprintf("%d %s %s %s seen=%d changed=%d score=%d %s", s.Rank, s.Action, s.Path, s.Kind, s.Seen, s.Changed, s.Score, s.Confidence))
	}
	want := []string{
		"1 persist /etc/NetworkManager directory seen=0 changed=0 score=43 medium",   // holds system-connections: +40; +3 bytes
		"2 persist /var/db/sudo/lectured directory seen=0 changed=0 score=40 medium", // known; /var/db/sudo only leads to it
		"3 persist /var/lib/app directory seen=3 changed=2 score=40 medium",          // 30*2/3 + 10 + 10 (2 MiB)
		"4 persist /var/lib/half directory seen=1 changed=0 score=6 low",             // 10*1/3 + 3
		"5 ignore /var/lib/gen directory seen=3 changed=0 score=13 low",              // identical in all: regenerated
	}
	if strings.Join(rows, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(rows, "\n"), strings.Join(want, "\n"))
	}
	for _, s := range got {
		if s.Path == "/etc/NetworkManager" && !strings.HasPrefix(s.Note(func(x string) string { return x }), "holds /etc/NetworkManager/system-connections (persist): NetworkManager connection profiles") {
			t.Errorf("/etc/NetworkManager note %q", s.Note(func(x string) string { return x }))
		}
	}
}

// TestSuggestStoreLinks: links into home-manager's files in the home of a
// user it manages (Audit.HomeManagerHomes; made at its activation) are not
// state: a directory holding only them is not suggested; one that also
// holds a file is, counting the file only. A link into the store
// elsewhere, made by hand, or into home-manager's files in a home it does
// not manage (/root here), is lost like any file (drift check: nothing
// re-creates it), but a symlink is never declared as a file: impermanence
// would bind-mount what it points to. It is left out, with the reason
// (LeftSymlink).
func TestSuggestStoreLinks(t *testing.T) {
	link := func(p, target string) *diff.Item {
		it := &diff.Item{Path: p, Category: diff.Unpersisted, Mode: unix.S_IFLNK | 0o777, Decl: -1}
		it.SetTarget(target)
		return it
	}
	a := &diff.Audit{Decls: &persist.Set{}, HomeManagerHomes: []string{"/home/alice"}, Lost: []*diff.Item{
		item("/home/alice/.config/fish", 0),
		link("/home/alice/.config/fish/config.fish", "/nix/store/abc-home-manager-files/.config/fish/config.fish"),
		item("/home/alice/.config/git", 0),
		link("/home/alice/.config/git/config", "/nix/store/abc-home-manager-files/.config/git/config"),
		item("/home/alice/.config/git/credentials.txt", 4),
		link("/home/alice/.config/own", "../elsewhere"),
		link("/root/.gitconfig", "/nix/store/abc-home-manager-files/.gitconfig"), // root's: home-manager does not manage it
		link("/usr/local/bin/rg", "/nix/store/abc-ripgrep/bin/rg"),               // made by hand: nothing makes it again
	}}
	got, left := Suggest(Input{Audit: a, Root: t.TempDir(), Knowledge: knowledge.Builtin(), StoragePath: "/persist"})
	var rows []string
	for _, s := range got {
		rows = append(rows, fmt.Sprintf("%s %s %d", s.Path, s.Kind, s.Entries))
	}
	want := "/home/alice/.config/git directory 2"
	if strings.Join(rows, "|") != want {
		t.Errorf("got %q, want %q", strings.Join(rows, "|"), want)
	}
	if !slices.ContainsFunc(left, func(l Left) bool {
		return l.Reason == LeftSymlink && l.Count == 3 && slices.Equal(l.Examples, []string{"/home/alice/.config/own", "/root/.gitconfig", "/usr/local/bin/rg"})
	}) {
		t.Errorf("symlinks not left with their reason: %+v", left)
	}
}

func TestMainStoragePath(t *testing.T) {
	e := func(sp string) persist.Entry { return persist.Entry{StoragePath: sp} }
	for _, tc := range []struct {
		in   []persist.Entry
		want string
	}{
		{nil, "/nix/persist"},
		{[]persist.Entry{e("/")}, "/nix/persist"},
		{[]persist.Entry{e("/persist"), e("/b"), e("/persist")}, "/persist"},
		{[]persist.Entry{e("/z"), e("/b")}, "/b"},
	} {
		if got := MainStoragePath(tc.in); got != tc.want {
			t.Errorf("%v: %s, want %s", tc.in, got, tc.want)
		}
	}
}

// TestSuggestAccounted: every unpersisted path ends in a suggestion (its
// Entries) or in a counted Left, never silently nowhere — links into the
// persistent storage path (the user's own: not candidates, under the
// declared storage path or the one suggestions go to), home-manager's
// links, containers themselves, directories on the way, paths in an
// unmounted storage path.
func TestSuggestAccounted(t *testing.T) {
	link := func(p, target string) *diff.Item {
		it := &diff.Item{Path: p, Category: diff.Unpersisted, Mode: unix.S_IFLNK | 0o777, Decl: -1}
		it.SetTarget(target)
		return it
	}
	a := &diff.Audit{Decls: &persist.Set{Entries: []persist.Entry{{Kind: persist.Dir, StoragePath: "/persist", Path: "/var/log"}}}, HomeManagerHomes: []string{"/home/alice"}, Lost: []*diff.Item{
		item("/etc", 0),
		link("/etc/machine-id", "/persist/etc/machine-id"),
		link("/etc/adjtime", "../nix/persist/etc/adjtime"), // into in.StoragePath, relative
		link("/etc/localtime", "/etc/zoneinfo/UTC"),        // elsewhere: lost, but a symlink is never declared (LeftSymlink)
		item("/home", 0),
		item("/home/alice", 0),
		item("/home/alice/.config", 0),
		item("/home/alice/.config/fish", 0),
		link("/home/alice/.config/fish/config.fish", "/nix/store/abc-home-manager-files/.config/fish/config.fish"),
		item("/persist", 0),
		item("/persist/leftover.txt", 3),
		item("/srv", 0),
		item("/srv/x", 0),
		item("/srv/x/data.bin", 10),
		item("/toplevel", 0),
		item("/var", 0),
		item("/var/db", 0),
		item("/var/db/sudo", 0),
		item("/var/db/sudo/lectured", 0),
		item("/var/db/sudo/lectured/alice", 0),
		item("/var/lib", 0),
		item("/var/lib/gitea", 0),
		item("/var/lib/gitea/gitea.db", 5),
		{Path: "/var/lib/ignored", Category: diff.Ignored, Mode: unix.S_IFDIR | 0o755, Decl: -1},
	}}
	slices.SortStableFunc(a.Lost, func(x, y *diff.Item) int { return pathx.Compare(x.Path, y.Path) })
	for _, homes := range []map[string]string{nil, {"alice": "/home/alice"}} {
		got, left := Suggest(Input{Audit: a, Root: t.TempDir(), Knowledge: knowledge.Builtin(), StoragePath: "/nix/persist", Homes: homes})
		total := 0
		var paths []string
		for _, s := range got {
			total += int(s.Entries)
			paths = append(paths, s.Path)
		}
		reasons := map[string]int{}
		for _, l := range left {
			total += l.Count
			reasons[l.Reason] = l.Count
		}
		if want := len(a.Lost) - 1; total != want {
			t.Errorf("homes %v: %d paths accounted for, want %d: suggestions %q, left %+v", homes, total, want, paths, left)
		}
		for _, p := range []string{"/srv/x", "/toplevel", "/var/lib/gitea", "/var/db/sudo/lectured"} {
			if !slices.Contains(paths, p) {
				t.Errorf("homes %v: %s not suggested: %q", homes, p, paths)
			}
		}
		if slices.Contains(paths, "/etc/machine-id") || slices.Contains(paths, "/etc/adjtime") {
			t.Errorf("homes %v: a link into persistent storage suggested: %q", homes, paths)
		}
		if reasons[LeftLinked] != 2 || reasons[LeftGenerated] != 1 || reasons[LeftStorage] != 2 || reasons[LeftSymlink] != 1 {
			t.Errorf("homes %v: left %+v", homes, left)
		}
	}
}

// TestLiveMachineID: the live ID is read from /etc/machine-id, or through
// it when it links into a persistent storage path — beneath the audited
// root, never through a link out of the storage path or a symlinked
// component on the way.
func TestLiveMachineID(t *testing.T) {
	const id = "0123456789abcdef0123456789abcdef"
	outside := t.TempDir()
	testutil.WriteFile(t, filepath.Join(outside, "machine-id"), "ffffffffffffffffffffffffffffffff\n")
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, root string)
		want  string
	}{
		{"file", func(t *testing.T, root string) { testutil.WriteFile(t, filepath.Join(root, "etc/machine-id"), id+"\n") }, id},
		{"link into storage", func(t *testing.T, root string) {
			testutil.WriteFile(t, filepath.Join(root, "nix/persist/etc/machine-id"), id+"\n")
			testutil.Symlink(t, "/nix/persist/etc/machine-id", filepath.Join(root, "etc/machine-id"))
		}, id},
		{"relative link into storage", func(t *testing.T, root string) {
			testutil.WriteFile(t, filepath.Join(root, "nix/persist/etc/machine-id"), id+"\n")
			testutil.Symlink(t, "../nix/persist/etc/machine-id", filepath.Join(root, "etc/machine-id"))
		}, id},
		{"link out of storage", func(t *testing.T, root string) {
			testutil.WriteFile(t, filepath.Join(root, "var/machine-id"), id+"\n")
			testutil.Symlink(t, "/var/machine-id", filepath.Join(root, "etc/machine-id"))
		}, ""},
		{"link out of the root", func(t *testing.T, root string) {
			testutil.Symlink(t, filepath.Join(outside, "machine-id"), filepath.Join(root, "etc/machine-id"))
		}, ""},
		{"storage file is itself a link out", func(t *testing.T, root string) {
			testutil.Symlink(t, filepath.Join(outside, "machine-id"), filepath.Join(root, "nix/persist/etc/machine-id"))
			testutil.Symlink(t, "/nix/persist/etc/machine-id", filepath.Join(root, "etc/machine-id"))
		}, ""},
		{"symlinked component on the way", func(t *testing.T, root string) {
			testutil.Symlink(t, outside, filepath.Join(root, "nix/persist/etc"))
			testutil.Symlink(t, "/nix/persist/etc/machine-id", filepath.Join(root, "etc/machine-id"))
		}, ""},
	} {
		root := t.TempDir()
		tc.setup(t, root)
		if got := liveMachineID(root, []string{"/nix/persist"}); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestSuggestAccountsForEveryLostPath: every lost path drift check reports
// that is not unpersisted (declared-unbacked, covered, shadowed,
// unmounted) is left to the user with the model's reason (diff.Keep) and,
// where drift adopt keeps it, the declared path it takes (a fresh-user
// test: suggest said nothing of 47 covered and 41 declared-unbacked
// paths); an ignored path is not counted (check hides it too).
func TestSuggestAccountsForEveryLostPath(t *testing.T) {
	decls := &persist.Set{Entries: []persist.Entry{
		{Kind: persist.Dir, StoragePath: "/persist", Path: "/srv/half"},
		{Kind: persist.Dir, StoragePath: "/persist", Path: "/home/alice/.mozilla"},
		{Kind: persist.Dir, StoragePath: "/gone", Path: "/srv/refused"},
		{Kind: persist.Dir, StoragePath: "/persist", Path: "/var/lib/mounted"},
	}}
	at := func(p string, c diff.Category, decl int32) *diff.Item {
		return &diff.Item{Path: p, Category: c, Mode: unix.S_IFREG | 0o644, Decl: decl}
	}
	differs := at("/srv/half/c", diff.DeclaredUnbacked, 0)
	differs.Copy = diff.CopyDiffers
	a := &diff.Audit{Decls: decls, Unusable: map[string]string{"/gone": "/gone is not mounted"}, Lost: []*diff.Item{
		at("/etc/nixos/hidden", diff.Shadowed, -1),
		at("/home/alice/.mozilla/prefs.js", diff.Covered, 1),
		at("/mnt/data/x", diff.Covered, -1),
		at("/opt/old/state", diff.Unmounted, -1),
		at("/run/leftover", diff.Covered, -1),
		at("/srv/half/a", diff.DeclaredUnbacked, 0),
		at("/srv/half/b", diff.DeclaredUnbacked, 0),
		differs,
		at("/srv/ignored", diff.Ignored, -1),
		at("/srv/refused/x", diff.DeclaredUnbacked, 2),
		at("/var/lib/mounted/old", diff.Shadowed, -1),
	}}
	got, left := Suggest(Input{Audit: a, Root: t.TempDir(), Knowledge: knowledge.Builtin(), StoragePath: "/persist"})
	if len(got) != 0 {
		t.Errorf("suggestions: %+v, want none", got)
	}
	var lines []string
	for _, l := range left {
		lines = append(lines, fmt.Sprintf("%s %d %q %q %v", l.Reason, l.Count, l.Paths, l.Adopt, l.Keep))
	}
	want := []string{
		fmt.Sprintf("%s 1 %q %q %v", LeftAdopt, []string{"/var/lib/mounted/old"}, []string{"/var/lib/mounted"}, diff.KeepAdopt),
		// drift adopt /srv/half needs --prefer, for all of it: its copy
		// lacks a and b, so the path where it holds another object
		// (/srv/half/c) is with them, as drift check's combined line
		// groups it (--prefer persistent of /srv/half changes something).
		fmt.Sprintf("%s 3 %q %q %v", LeftChoose, []string{"/srv/half/a", "/srv/half/b", "/srv/half/c"}, []string{"/srv/half"}, diff.KeepChoose),
		fmt.Sprintf("%s: /gone is not mounted 1 %q [] %v", LeftRefused, []string{"/srv/refused/x"}, diff.KeepRefused),
		fmt.Sprintf("%s 2 %q [] %v", LeftRemounted, []string{"/mnt/data/x", "/run/leftover"}, diff.KeepRemounted),
		fmt.Sprintf("%s 1 %q [] %v", LeftBeneath, []string{"/etc/nixos/hidden"}, diff.KeepBeneath),
		fmt.Sprintf("%s 1 %q [] %v", LeftUnmounted, []string{"/opt/old/state"}, diff.KeepRedeclare),
		// covered on a persistent file system (a /home subvolume): the
		// declaration is not needed there, or drift adopt keeps it declared.
		fmt.Sprintf("%s 1 %q %q %v", LeftUndeclare, []string{"/home/alice/.mozilla/prefs.js"}, []string{"/home/alice/.mozilla"}, diff.KeepUndeclare),
	}
	if !slices.Equal(lines, want) {
		t.Errorf("left:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}
