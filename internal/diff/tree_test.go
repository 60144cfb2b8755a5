package diff

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nix-drift/drift/internal/mounts"
	"github.com/nix-drift/drift/internal/persist"
)

// treeOf builds a tree as buildTree does: the declarations, then other
// paths (keep set), returning it and every path inserted.
func treeOf(decls, others []string) *tree {
	es := make([]persist.Entry, len(decls))
	for i, p := range decls {
		es[i] = persist.Entry{Kind: persist.Dir, StoragePath: "/p", Path: p}
	}
	t := newTree(es, &mounts.Mount{MountPoint: "/"}, len(others))
	for i := range es {
		if n := t.at(t.insertDecl(i)); n.decl < 0 {
			n.decl = int32(i)
		}
	}
	for _, p := range others {
		t.insertPath(p, true)
	}
	return t
}

// TestTreeFindsWhatWasInserted: every path inserted and each of its
// ancestors has a node, reached from the root one child at a time, with
// its own name and the first declaration of it; a name under another
// parent, a prefix of a name, a path never inserted have none.
func TestTreeFindsWhatWasInserted(t *testing.T) {
	decls := []string{"/var/lib/a", "/var/lib/ab", "/var/log", "/home/alice/lib", "/var/lib/a", "/etc/ssh/ssh_host_ed25519_key"}
	others := []string{"/nix/persist", "/var/lib/a/b", "/srv"}
	tr := treeOf(decls, others)
	for _, p := range append(decls, others...) {
		id := tr.find(p)
		if id == 0 {
			t.Fatalf("%s: no node", p)
		}
		if got := tr.name(id); got != p[strings.LastIndexByte(p, '/')+1:] {
			t.Errorf("%s: name %q", p, got)
		}
		want := int32(slices.Index(decls, p)) // the first, or -1
		if got := tr.at(id).decl; got != want {
			t.Errorf("%s: decl %d, want %d", p, got, want)
		}
		if !tr.remade(p) {
			t.Errorf("%s: not remade", p)
		}
		// Down from the root, one component at a time.
		id2 := rootNode
		for _, c := range strings.Split(p[1:], "/") {
			id2 = tr.child(id2, c)
		}
		if id2 != id {
			t.Errorf("%s: child by child %d, find %d", p, id2, id)
		}
	}
	for _, p := range []string{"/var/lib/b", "/var/li", "/var/lib/a/c", "/lib", "/alice", "/home/lib", "/etc/ssh/ssh_host", "/x/y"} {
		if id := tr.find(p); id != 0 {
			t.Errorf("%s: node %d (%q), want none", p, id, tr.name(id))
		}
		if tr.remade(p) {
			t.Errorf("%s: remade", p)
		}
	}
	if tr.child(0, "var") != 0 || tr.at(0).keep() || tr.at(0).decl != -1 || tr.mount(0) != nil {
		t.Error("no node (0) has a child, a flag, a declaration or a mount")
	}
}

// TestTreeMarksAndMounts: markEphBelow marks the ancestors of a path, not
// the path; setMount is found again; a path inserted without keep is not
// remade, nor are its new ancestors.
func TestTreeMarksAndMounts(t *testing.T) {
	tr := treeOf([]string{"/home/bob/x"}, nil)
	carol := tr.insertPath("/home/carol", false)
	m := &mounts.Mount{MountPoint: "/home/carol", FSType: "tmpfs"}
	tr.setMount(carol, m)
	tr.markEphBelow("/home/carol")
	if !tr.at(rootNode).ephBelow() || !tr.at(tr.find("/home")).ephBelow() || tr.at(carol).ephBelow() || tr.at(tr.find("/home/bob")).ephBelow() {
		t.Error("ephBelow: want / and /home only")
	}
	if tr.mount(carol) != m || tr.mount(tr.find("/home")) != nil || tr.mount(rootNode).MountPoint != "/" {
		t.Error("mounts not where set")
	}
	shadow := tr.insertPath("/mnt/deep/point", false)
	if tr.remade("/mnt/deep/point") || tr.remade("/mnt") || !tr.remade("/home") {
		t.Error("keep: want /home, not /mnt or below")
	}
	if tr.find("/mnt/deep/point") != shadow {
		t.Error("a path inserted twice has two nodes")
	}
}

// treeAllocated is the bytes building the tree of n declarations
// /var/lib/dN (and /var/lib/dN/sub for every tenth) allocates.
func treeAllocated(n int) (uint64, *tree) {
	decls := make([]string, 0, n)
	for i := range n {
		p := fmt.Sprintf("/var/lib/d%d", i)
		if i%10 == 9 {
			p = fmt.Sprintf("/var/lib/d%d/sub", i-1)
		}
		decls = append(decls, p)
	}
	es := make([]persist.Entry, len(decls))
	for i, p := range decls {
		es[i] = persist.Entry{Kind: persist.Dir, StoragePath: "/p", Path: p}
	}
	var tr *tree
	a := allocatedBy(func() {
		tr = newTree(es, &mounts.Mount{MountPoint: "/"}, 8)
		for i := range es {
			if nd := tr.at(tr.insertDecl(i)); nd.decl < 0 {
				nd.decl = int32(i)
			}
		}
		tr.insertPath("/p", true)
	})
	return a, tr
}

func allocatedBy(f func()) uint64 {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	f()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

// treeBudget is the most the tree may allocate per declaration: a node
// (24 bytes) and its slots in the index (8 to 16), with room to spare. A
// map of children and a node allocated per declaration allocated 171 to
// 187 (and kept 70 to 77).
const treeBudget = 48

// TestTreeAllocBound: the tree of 20,000 declarations allocates at most
// treeBudget bytes each, and twice as many at most 2.5× as much (the
// budget of BenchmarkTreeBudget at a size the test suite can afford).
func TestTreeAllocBound(t *testing.T) {
	const n = 20_000
	treeAllocated(n) // warm up
	a, tr := treeAllocated(n)
	b, _ := treeAllocated(2 * n)
	if per := float64(a) / n; per > treeBudget {
		t.Errorf("%d declarations: %.0f bytes allocated each, budget %d", n, per, treeBudget)
	} else {
		t.Logf("%.1f bytes a declaration (%d nodes)", per, len(tr.nodes))
	}
	if r := float64(b) / float64(a); r > 2.5 {
		t.Errorf("n=%d: %d bytes, 2n: %d bytes: ×%.2f, want at most ×2.5", n, a, b, r)
	}
}

// BenchmarkTreeBudget builds the tree of 1,000,000 declarations and fails
// when it allocates (and so holds at its peak) more than treeBudget bytes
// a declaration; it reports the time of a lookup of each declaration's
// path, child by child, as the walk looks them up.
func BenchmarkTreeBudget(b *testing.B) {
	const n = 1_000_000
	for b.Loop() {
		a, tr := treeAllocated(n)
		per := float64(a) / n
		b.ReportMetric(per, "bytes/decl")
		if per > treeBudget {
			b.Errorf("%d declarations: %.1f bytes allocated each, budget %d", n, per, treeBudget)
		}
		start := time.Now()
		for i := range tr.entries {
			p := tr.entries[i].Path
			id := rootNode
			for name, end := component(p, 0); name != ""; name, end = component(p, end) {
				id = tr.child(id, name)
			}
			if id == 0 {
				b.Fatalf("%s: not found", p)
			}
		}
		b.ReportMetric(float64(time.Since(start).Nanoseconds())/n, "ns/lookup")
	}
}
