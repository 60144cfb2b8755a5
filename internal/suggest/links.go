package suggest

import (
	"path"
	"slices"

	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/pathx"
	"github.com/nix-drift/drift/internal/persist"
	"golang.org/x/sys/unix"
)

// linkTarget is the lexical absolute target of the symlink at p (a
// relative target is taken from p's directory), as drift check reads the
// symlink method's links. Nothing is resolved on disk.
func linkTarget(p, target string) string {
	if path.IsAbs(target) {
		return path.Clean(target)
	}
	return path.Join(path.Dir(p), target)
}

// intoStorage returns the target of it when it is a symlink whose target
// lies in one of the persistent storage paths storages ("/etc/machine-id
// -> /nix/persist/etc/machine-id", a systemd-tmpfiles.d(5) "L" rule or a
// link made by hand): the user's own persistence.
func intoStorage(it *diff.Item, storages []string) (string, bool) {
	if it.Mode&unix.S_IFMT != unix.S_IFLNK || it.Target() == "" {
		return "", false
	}
	t := linkTarget(it.Path, it.Target())
	if !slices.ContainsFunc(storages, func(sp string) bool { return pathx.HasPrefix(t, sp) && t != sp }) {
		return "", false
	}
	return t, true
}

// Storages lists the persistent storage paths of a's declarations (never
// "/") and extra (the one new declarations go to), each once, in order
// (persist.Set.StoragePaths).
func Storages(a *diff.Audit, extra ...string) []string {
	if a == nil {
		return (*persist.Set)(nil).StoragePaths(extra...)
	}
	return a.Decls.StoragePaths(extra...)
}

// LinkedTargets returns the targets of the symlinks among a's lost paths
// (any category) that point into one of storages (intoStorage): what the
// live system uses there though no declaration names it. Stray counts
// them, and the directories holding them, as in use.
func LinkedTargets(a *diff.Audit, storages []string) []string {
	var out []string
	for _, it := range a.Lost {
		if t, ok := intoStorage(it, storages); ok {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// dynamicUserLink reports whether it is the link systemd makes for a
// service with DynamicUser= at each start: /var/lib/NAME -> private/NAME
// (StateDirectory=; /var/cache and /var/log the same for CacheDirectory=
// and LogsDirectory=), systemd.exec(5). What it points at is the state.
func dynamicUserLink(it *diff.Item) bool {
	if it.Mode&unix.S_IFMT != unix.S_IFLNK {
		return false
	}
	dir, name := path.Split(it.Path)
	dir = path.Clean(dir)
	if dir != "/var/lib" && dir != "/var/cache" && dir != "/var/log" || name == "private" {
		return false
	}
	return linkTarget(it.Path, it.Target()) == dir+"/private/"+name
}
