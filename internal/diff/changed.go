package diff

import (
	"golang.org/x/sys/unix"

	"github.com/nix-drift/drift/internal/scan"
)

// Change is how one path differs between two trees A and B.
type Change int

const (
	Same    Change = iota // same type, metadata and content
	Added                 // only in B
	Removed               // only in A
	Changed               // regular file with other content (metadata may differ too)
	Meta                  // same content, but type, mode, owner or symlink target differ
	Failed                // could not be compared (unreadable, replaced during the walk)
)

var changeNames = [...]string{"same", "added", "removed", "changed", "meta", "error"}

// String is the name used in JSON: same, added, removed, changed, meta, error.
func (c Change) String() string { return changeNames[c] }

// Marker is the one-character mark of drift diff --format paths: "+"
// added, "-" removed, "M" changed, "T" type or metadata, "!" error, "="
// same.
func (c Change) Marker() string { return [...]string{"=", "+", "-", "M", "T", "!"}[c] }

// What says which attributes differ (a bit set).
type What uint8

const (
	WhatType    What = 1 << iota // file type (regular, directory, symlink…)
	WhatMode                     // permission bits, setuid/setgid/sticky
	WhatOwner                    // numeric uid or gid
	WhatTarget                   // symlink target
	WhatContent                  // regular file content (size or bytes)
)

var whatNames = []string{"type", "mode", "owner", "target", "content"}

// Names lists the set bits: "type", "mode", "owner", "target", "content".
func (w What) Names() []string {
	var out []string
	for i, n := range whatNames {
		if w&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return out
}

// SameContent compares the contents of two regular files of the same size
// (A's and B's); an error makes the path Failed.
type SameContent func() (bool, error)

// WhatChanged is the one decision of drift diff for a path present in both
// trees: type first, then mode, owner and symlink target, then, for regular
// files, size, then (with quick, equal mtimes count as equal content) the
// content through sameContent, called only when the sizes match. It does
// no I/O of its own. Directory sizes and times, inode numbers, link counts
// and devices are never compared.
func WhatChanged(a, b *scan.Entry, quick bool, sameContent SameContent) (Change, What, error) {
	var w What
	ta, tb := a.Mode&unix.S_IFMT, b.Mode&unix.S_IFMT
	if ta != tb {
		return Meta, WhatType, nil
	}
	if a.Mode&07777 != b.Mode&07777 {
		w |= WhatMode
	}
	if a.Uid != b.Uid || a.Gid != b.Gid {
		w |= WhatOwner
	}
	if ta == unix.S_IFLNK && a.Target != b.Target {
		w |= WhatTarget
	}
	if ta == unix.S_IFREG {
		switch {
		case a.Size != b.Size:
			return Changed, w | WhatContent, nil
		case quick && a.Mtime == b.Mtime:
		default:
			same, err := sameContent()
			if err != nil {
				return Failed, w, err
			}
			if !same {
				return Changed, w | WhatContent, nil
			}
		}
	}
	if w != 0 {
		return Meta, w, nil
	}
	return Same, 0, nil
}
