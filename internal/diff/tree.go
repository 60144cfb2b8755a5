package diff

import (
	"strings"

	"github.com/nix-drift/drift/internal/mounts"
)

type mountKind uint8

const (
	persistent mountKind = iota
	ephemeral
	unmounted
)

// node is a trie over the paths that matter to classification: visible
// mount points, declared paths, storage paths and activation outputs. Every
// ancestor of such a path has a node, so a directory on the ephemeral root
// that has a node with keep set is re-created at boot.
type node struct {
	children map[string]*node
	mount    *mounts.Mount
	decl     int32
	keep     bool // a path re-made at boot lies at or below this node
	// ephBelow: an ephemeral mount point lies strictly below this node, so
	// the walk passes through a persistent mount here on its way to it.
	ephBelow bool
	// remount: the next boot mounts another filesystem here (fileSystems,
	// /etc/fstab: Config.Remounted), and nothing is mounted here now.
	remount bool
	// shadow marks a mount point under which Check looks for Shadowed
	// entries (Config.Under): the paths below it are listed, never
	// counted (Config.Collapse), so that the shadowed ones merge with them.
	shadow bool
}

func (n *node) child(name string) *node {
	if n.children == nil {
		n.children = map[string]*node{}
	}
	c := n.children[name]
	if c == nil {
		c = &node{decl: -1}
		n.children[name] = c
	}
	return c
}

// insert returns the node for p (absolute, clean), creating the path.
func (n *node) insert(p string, keep bool) *node {
	cur := n
	if keep {
		cur.keep = true
	}
	for _, c := range strings.Split(strings.TrimPrefix(p, "/"), "/") {
		if c == "" {
			continue
		}
		cur = cur.child(c)
		if keep {
			cur.keep = true
		}
	}
	return cur
}

// markEphBelow sets ephBelow on every node strictly above p (absolute,
// clean, already inserted): an ephemeral mount at p nested in a persistent
// one (a tmpfs at /home/carol inside a /home subvolume) is walked.
func (n *node) markEphBelow(p string) {
	cur := n
	for _, c := range strings.Split(strings.TrimPrefix(p, "/"), "/") {
		if c == "" {
			continue
		}
		cur.ephBelow = true
		cur = cur.children[c]
	}
}

// remade reports whether a directory at p (absolute, clean) is re-made at
// boot: a mount point, a declared path, a storage path or a parent of one
// (node.keep). Such a directory is not data to keep, visible or shadowed
// beneath a mount: the walk and the look beneath the mounts (shadowed)
// count it Recreated, and drift adopt finds nothing there to adopt.
func (n *node) remade(p string) bool {
	cur := n
	for _, name := range strings.Split(strings.TrimPrefix(p, "/"), "/") {
		if name == "" {
			continue
		}
		if cur = cur.children[name]; cur == nil {
			return false
		}
	}
	return cur.keep
}
