package diff

import (
	"strings"

	"github.com/nix-drift/drift/internal/hashindex"
	"github.com/nix-drift/drift/internal/mounts"
	"github.com/nix-drift/drift/internal/persist"
)

type mountKind uint8

const (
	persistent mountKind = iota
	ephemeral
	unmounted
	// fromRoot: a bind mount whose source lies on an ephemeral
	// filesystem (Audit.RootBinds). Its data is deleted with that
	// filesystem, and counted there, at the source: nothing is lost at
	// the mount point, and nothing there is covered.
	fromRoot
	// deleted: a mount whose root was unlinked since the mount
	// (mounts.Mount.Replaced, Audit.Deleted): what it shows lies on no
	// path of any filesystem and is gone when the mount goes, at the next
	// boot, wherever it is mounted.
	deleted
)

// wiped reports whether what a mount of kind k shows is deleted at the
// next boot (ephemeral, a bind mount of a part of an ephemeral mount, or
// a mount of something unlinked since).
func (k mountKind) wiped() bool { return k == ephemeral || k == fromRoot || k == deleted }

// nodeID names a node of a tree: its index in tree.nodes. The zero nodeID
// is no node: its node (nodes[0]) has no mount, no declaration and no
// flag, so what is asked of "no node" needs no test first. The root is
// rootNode.
type nodeID int32

const rootNode nodeID = 1

// tree is a trie over the paths that matter to classification: visible
// mount points, declared paths, storage paths and activation outputs.
// Every ancestor of such a path has a node, so a directory on the
// ephemeral root that has a node with keep set is re-created at boot.
//
// Its nodes are one slice, a node's children are found through one hash
// index keyed by (parent, name), and a node's name is not a string of its
// own but a piece of the path it was first inserted for (a declaration's
// Path, a mount point): 24 bytes a node and 8 to 16 of index. A map of
// children and a node allocated each cost about 65 bytes a declaration,
// and a []string per insert (strings.Split).
type tree struct {
	nodes   []node
	kids    hashindex.Index // every node but the root, by (parent, name)
	entries []persist.Entry // the declarations: node.src ≥ 0 indexes them
	paths   []string        // the other paths inserted: node.src < 0 is ^index
	mounts  []*mounts.Mount // node.mount-1 indexes them
}

// node is one path of a tree. Its path is the first end bytes of the path
// it was inserted for (src); its name the last component of that.
type node struct {
	parent nodeID
	decl   int32 // the first declaration of the path (an index of tree.entries), -1 for none
	src    int32 // ≥ 0: tree.entries[src].Path; < 0: tree.paths[^src]
	end    int32
	mount  int32 // the mount at the path: tree.mounts[mount-1]; 0 for none
	flags  nodeFlags
}

// nodeFlags are what a node says of its path.
type nodeFlags uint8

const (
	// flagKeep: a path re-made at boot lies at or below this node.
	flagKeep nodeFlags = 1 << iota
	// flagEphBelow: a mount point whose contents Check classifies
	// (ephemeral, unmounted, deleted) lies strictly below this node, so the
	// walk passes through a persistent mount here on its way to it.
	flagEphBelow
	// flagRemount: the next boot mounts another filesystem here
	// (fileSystems, /etc/fstab: Config.Remounted), and nothing is mounted
	// here now.
	flagRemount
	// flagShadow marks a mount point under which Check looks for Shadowed
	// entries (Config.Under): the paths below it are listed, never counted
	// (Config.Collapse), so that the shadowed ones merge with them.
	flagShadow
	// flagKids: the node has children (most have none: no hashing then).
	flagKids
	// flagTmpLink: systemd-tmpfiles makes a symbolic link here at boot
	// (persist.Config.TmpfilesLinks; classifier.tmpLinks has its target).
	flagTmpLink
	// flagBlank: the blank snapshot the wipe makes the root from holds a
	// file or link here (Config.Blank; classifier.blank has it).
	flagBlank
	// flagUsersFile: NixOS's users activation writes this file at every
	// boot from the configuration alone (usersFiles, with users.mutableUsers
	// = false).
	flagUsersFile
)

func (n *node) keep() bool     { return n.flags&flagKeep != 0 }
func (n *node) ephBelow() bool { return n.flags&flagEphBelow != 0 }
func (n *node) remount() bool  { return n.flags&flagRemount != 0 }
func (n *node) shadow() bool   { return n.flags&flagShadow != 0 }
func (n *node) tmpLink() bool  { return n.flags&flagTmpLink != 0 }
func (n *node) blank() bool    { return n.flags&flagBlank != 0 }
func (n *node) usersFile() bool {
	return n.flags&flagUsersFile != 0
}

// mounted reports whether a mount is at the node's path (tree.mount).
func (n *node) mounted() bool { return n.mount != 0 }

// newTree returns a tree holding the root, with rootMount at it, room made
// for the nodes of entries and of hint more paths, and their parents (a
// few: a slice grown by a quarter, not copied for a path more than guessed).
func newTree(entries []persist.Entry, rootMount *mounts.Mount, hint int) *tree {
	n := len(entries) + len(entries)/16 + 4*hint + 64
	t := &tree{entries: entries, nodes: make([]node, 2, 2+n), mounts: []*mounts.Mount{rootMount}}
	t.nodes[0] = node{decl: -1}
	t.nodes[rootNode] = node{decl: -1, mount: 1}
	// Not n: a table twice as big for a sixteenth more nodes guessed.
	t.kids.Grow(len(entries)+4*hint+64, t.hashOf)
	return t
}

// at returns the node of id (nodes[0], flagless, for no node); the
// pointer is good until the next insert.
func (t *tree) at(id nodeID) *node { return &t.nodes[id] }

// mount returns the mount at id's path, nil if none.
func (t *tree) mount(id nodeID) *mounts.Mount {
	if m := t.nodes[id].mount; m != 0 {
		return t.mounts[m-1]
	}
	return nil
}

// setMount records m as the mount at id's path.
func (t *tree) setMount(id nodeID, m *mounts.Mount) {
	t.mounts = append(t.mounts, m)
	t.nodes[id].mount = int32(len(t.mounts))
}

// name is the last component of id's path.
func (t *tree) name(id nodeID) string {
	n := &t.nodes[id]
	var p string
	if n.src >= 0 {
		p = t.entries[n.src].Path
	} else {
		p = t.paths[^n.src]
	}
	p = p[:n.end]
	return p[strings.LastIndexByte(p, '/')+1:]
}

func kidHash(parent nodeID, name string) uint64 {
	return hashindex.Mix(hashindex.HashString(name), uint64(parent))
}

// hashOf is the hash of node i in t.kids.
func (t *tree) hashOf(i int) uint64 { return kidHash(t.nodes[i].parent, t.name(nodeID(i))) }

// child returns the child of id named name, 0 for none (or id 0).
// Expected time: constant (a hash of name).
func (t *tree) child(id nodeID, name string) nodeID {
	if t.nodes[id].flags&flagKids == 0 {
		return 0
	}
	return nodeID(max(0, t.kids.Find(kidHash(id, name), func(i int) bool {
		return t.nodes[i].parent == id && t.name(nodeID(i)) == name
	})))
}

// insertDecl returns the node for the path of declaration i, creating the
// path, with keep set on the way.
func (t *tree) insertDecl(i int) nodeID { return t.insert(t.entries[i].Path, int32(i), true) }

// insertPath returns the node for p (absolute, clean), creating the path;
// keep sets flagKeep on it and on its ancestors.
func (t *tree) insertPath(p string, keep bool) nodeID {
	src := ^int32(len(t.paths))
	id := t.insert(p, src, keep)
	if len(t.nodes) > 0 && t.nodes[len(t.nodes)-1].src == src {
		t.paths = append(t.paths, p) // a node names itself by p
	}
	return id
}

// insert walks p's components down from the root, adding the nodes
// missing, named by src (the source of p).
func (t *tree) insert(p string, src int32, keep bool) nodeID {
	cur := rootNode
	if keep {
		t.nodes[cur].flags |= flagKeep
	}
	for name, end := component(p, 0); name != ""; name, end = component(p, end) {
		next := t.child(cur, name)
		if next == 0 {
			t.nodes = append(t.nodes, node{parent: cur, decl: -1, src: src, end: int32(end)})
			next = nodeID(len(t.nodes) - 1)
			t.nodes[cur].flags |= flagKids
			t.kids.Add(kidHash(cur, name), int(next), t.hashOf)
		}
		cur = next
		if keep {
			t.nodes[cur].flags |= flagKeep
		}
	}
	return cur
}

// component returns the first component of p at or after i and the index
// of its end; "" when there is none.
func component(p string, i int) (string, int) {
	for i < len(p) && p[i] == '/' {
		i++
	}
	j := strings.IndexByte(p[i:], '/')
	if j < 0 {
		return p[i:], len(p)
	}
	return p[i : i+j], i + j
}

// find returns the node of p (absolute, clean), 0 if it has none.
func (t *tree) find(p string) nodeID {
	cur := rootNode
	for name, end := component(p, 0); name != "" && cur != 0; name, end = component(p, end) {
		cur = t.child(cur, name)
	}
	return cur
}

// markEphBelow sets flagEphBelow on every node strictly above p (absolute,
// clean, already inserted): a mount at p nested in a persistent one whose
// contents are classified (a tmpfs at /home/carol inside a /home
// subvolume, a bind mount from persistent storage no declaration makes
// again at /home/alice/Documents) is walked.
func (t *tree) markEphBelow(p string) {
	cur := rootNode
	for name, end := component(p, 0); name != "" && cur != 0; name, end = component(p, end) {
		t.nodes[cur].flags |= flagEphBelow
		cur = t.child(cur, name)
	}
}

// remade reports whether a directory at p (absolute, clean) is re-made at
// boot: a mount point, a declared path, a storage path or a parent of one
// (flagKeep). Such a directory is not data to keep, visible or shadowed
// beneath a mount: the walk and the look beneath the mounts (shadowed)
// count it Recreated, and drift adopt finds nothing there to adopt.
func (t *tree) remade(p string) bool { return t.at(t.find(p)).keep() }
