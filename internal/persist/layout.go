package persist

import (
	"context"
	"fmt"
	"github.com/nix-drift/drift/internal/persist/nix"
	"io"
	"sort"
	"strings"
)

// maxLayoutDepth bounds how deep ReadLayout looks for mount points in a
// disko tree (disk → content → partitions → content → subvolumes is 6).
const maxLayoutDepth = 32

// ReadLayout reads a disk layout and returns its mount points, sorted by
// path. name chooses the format as in Read (".nix" or ".json", else by
// content); r nil means open name ("-" standard input).
//
//   - A .nix file is read statically: a disko configuration (every
//     attribute set with a `mountpoint` string, such as a partition's or a
//     btrfs subvolume's content, whose type comes from `format` or `type`;
//     `nodev."<path>"` entries with `fsType`), and NixOS
//     `fileSystems."<path>"` with `fsType`, wherever they are in the file.
//   - JSON is `nix eval --json …config.fileSystems`: an object whose keys
//     are mount points and whose values carry `fsType` (and `mountPoint`).
//
// Errors are for unreadable or malformed input ("file:line:col: …").
func ReadLayout(name string, r io.Reader) ([]Mount, error) {
	data, err := readInput(context.Background(), name, r, "a layout file")
	if err != nil {
		return nil, err
	}
	src := nix.NewSource(displayName(name), data, true)
	var root *nix.Value
	rd := newReader(src, Options{}, nil)
	if isJSON(name, data) {
		if root, err = decodeJSON(src); err != nil {
			return nil, err
		}
		if root.Kind != nix.KindAttrs {
			return nil, fmt.Errorf("%s: expected an object of mount points (nix eval --json …config.fileSystems), got %s", src.Pos(root.Off), jsonKind(root))
		}
	} else {
		src.Nix = true
		ast, err := nix.Parse(src)
		if err != nil {
			return nil, err
		}
		ev := &nix.Evaluator{Src: src}
		rd.ev = ev
		root = ev.Eval(ast, &nix.Env{Vars: map[string]*nix.Lazy{}})
		for i := 0; root.Kind == nix.KindFunc && i < 8; i++ {
			root = ev.Apply(root, nix.Known(nix.UnknownAt(root.Off, "the module arguments")))
		}
	}
	var out []Mount
	if rd.ev == nil {
		for _, k := range root.Attrs.Keys {
			if strings.HasPrefix(k, "/") {
				out = append(out, rd.mountOf(k, root.Attrs.ByName[k].Off, rd.quiet(root, k), "fsType"))
			}
		}
	} else {
		rd.layoutWalk(root, "", 0, map[*nix.Attrs]bool{}, &out)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].MountPoint < out[j].MountPoint })
	return out, nil
}

// maxLayoutSets bounds how many attribute sets ReadLayout looks into.
const maxLayoutSets = 10_000

// layoutWalk collects disko and fileSystems mount points below v, whose
// attribute name is name. Each set is visited once (a set that refers to
// itself, rec { a = { x = a; y = a; }; }, is not a tree).
func (r *reader) layoutWalk(v *nix.Value, name string, depth int, seen map[*nix.Attrs]bool, out *[]Mount) {
	if v == nil || v.Kind != nix.KindAttrs || depth > maxLayoutDepth || seen[v.Attrs] || len(seen) >= maxLayoutSets {
		return
	}
	seen[v.Attrs] = true
	if mp := r.quiet(v, "mountpoint"); mp != nil && mp.Kind == nix.KindString && strings.HasPrefix(mp.Str, "/") {
		typ := "format"
		if f := r.quiet(v, "format"); f == nil {
			typ = "type"
		}
		m := r.mountOf(mp.Str, mp.Off, v, typ)
		*out = append(*out, m)
	}
	for _, k := range v.Attrs.Keys {
		x := r.quiet(v, k)
		if x == nil || x.Kind != nix.KindAttrs {
			continue
		}
		if (name == "fileSystems" || name == "nodev") && strings.HasPrefix(k, "/") {
			*out = append(*out, r.mountOf(k, v.Attrs.ByName[k].Off, x, "fsType"))
			continue
		}
		r.layoutWalk(x, k, depth+1, seen, out)
	}
}
