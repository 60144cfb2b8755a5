package restore

import (
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/nix-drift/drift/internal/persist"
)

// Target says where a restored path goes.
type Target int

const (
	// ToPersist puts the copy into the persistent storage path that covers
	// the live path, so that it survives the next boot.
	ToPersist Target = iota
	// ToLive puts the copy at the live path itself.
	ToLive
)

func (t Target) String() string {
	if t == ToLive {
		return "live"
	}
	return "persist"
}

// ParseTarget reads a --to value: "persist" or "live".
func ParseTarget(s string) (Target, error) {
	switch s {
	case "persist":
		return ToPersist, nil
	case "live":
		return ToLive, nil
	}
	return 0, fmt.Errorf("--to %q: expected persist or live", s)
}

// ErrUndeclared is returned (wrapped) by Destination for ToPersist when no
// declaration covers the path: there is no persistent copy to restore into.
var ErrUndeclared = errors.New("no declaration covers it")

// CleanPath checks that p is an absolute path other than "/" and returns it
// lexically cleaned; its errors name no command (drift restore and drift
// adopt both check their PATHs with it).
func CleanPath(p string) (string, error) {
	if !strings.HasPrefix(p, "/") {
		return "", fmt.Errorf("%q: expected an absolute path (the path as the live system sees it)", p)
	}
	p = path.Clean(p)
	if p == "/" {
		return "", errors.New(`"/": expected a path below the root, not the root itself`)
	}
	return p, nil
}

// Destination returns where the live path p goes for target to, as an
// absolute path on the live system (not yet joined to a --root), and the
// declaration covering p, if any (ok). For ToPersist that is the covering
// entry's persistent copy (Entry.Source) joined with the rest of p; with no
// covering entry it returns an error wrapping ErrUndeclared. For ToLive it is
// p itself.
func Destination(decls *persist.Set, p string, to Target) (dest string, e persist.Entry, ok bool, err error) {
	p, err = CleanPath(p)
	if err != nil {
		return "", persist.Entry{}, false, err
	}
	if decls != nil {
		e, ok = decls.Covering(p)
	}
	if to == ToLive {
		return p, e, ok, nil
	}
	if !ok {
		return "", e, false, fmt.Errorf("%s: %w", p, ErrUndeclared)
	}
	src := path.Clean(e.Source())
	rest := strings.TrimPrefix(p, e.Path)
	if e.Path == "/" {
		rest = p
	}
	dest = path.Clean(src + rest)
	if dest == "/" || !strings.HasPrefix(dest, "/") {
		return "", e, ok, fmt.Errorf("%s: its persistent copy %q is not a path below /", p, dest)
	}
	return dest, e, true, nil
}
