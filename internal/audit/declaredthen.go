package audit

import (
	"context"
	"fmt"
	"path"
	"path/filepath"
	"strings"

	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/fsys"
	"github.com/nix-drift/drift/internal/pathx"
	"github.com/nix-drift/drift/internal/persist"
	"github.com/nix-drift/drift/internal/safefile"
	"golang.org/x/sys/unix"
)

// Was a declared path mounted from its persistent copy at an old root's
// boot? The old root records the declarations its boot ran with: the
// services.drift module writes them to /etc/drift/declarations.json
// (persist.DeclarationsFile), a link into /etc/static and on into the
// store. A path those declarations cover with the same persistent copy was
// mounted from it at that boot (impermanence and preservation mount, or
// link, every declared path at activation, making a missing copy first),
// unless the old root shows otherwise: data there changed after the mount
// phase (diff.MountedThen) was written while the path showed the root,
// since declared is not mounted (impermanence binds no file over one that
// exists; a mount can fail). Otherwise what the old root holds at it lay
// beneath the mount, hidden: never that boot's data, whatever its bytes
// or mtimes. A path they do not cover was not mounted. When the old root records no declarations drift can
// read (no module, or its store path collected), what it holds at the path
// is the evidence (beneath.go).

// maxThenHops bounds the links followed to the old root's declarations.
const maxThenHops = 40

// DeclaredThen reads the declarations the boot of the old root at old ran
// with (its persist.DeclarationsFile, through its links: what lies below
// /nix, a filesystem of its own that the old root does not hold, is read
// in the live root's /nix instead), never following a link out of either
// root. nil when the old root holds none drift can read; then, when the
// file is there but is not what the module writes (not a regular file,
// unreadable, truncated or not its JSON), also a warning naming it and
// what was expected: what the old root holds at a declared path is the
// evidence instead (beneath.go), as for an old root with none.
func DeclaredThen(old, live string) (*persist.Set, *diff.Warning) {
	oldFD, err := fsys.OpenRoot(old)
	if err != nil {
		return nil, nil
	}
	defer unix.Close(oldFD)
	liveFD, err := fsys.OpenRoot(live)
	if err != nil {
		return nil, nil
	}
	defer unix.Close(liveFD)
	fd, rel, ok := resolveThen(oldFD, liveFD, "/"+persist.DeclarationsFile)
	if !ok {
		return nil, nil // no module, or its store path collected
	}
	name := path.Join(old, persist.DeclarationsFile)
	set, err := readThen(fd, rel, name)
	if err != nil {
		return nil, &diff.Warning{Kind: diff.WarnUnreadable, Path: "/" + persist.DeclarationsFile, Message: fmt.Sprintf(
			"%v: not the declarations that old root's boot ran with, as drift's services.drift module writes them (a JSON object of persistent storage paths); whether a declared path was mounted at that boot is judged by what the old root holds there", err)}
	}
	return set, nil
}

// readThen reads and parses the declarations file rel beneath fd, a
// regular file of at most 64 MiB, named name in errors.
func readThen(fd int, rel, name string) (*persist.Set, error) {
	rfd, err := fsys.OpenRead(fd, rel)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	f, _, err := safefile.FromFD(rfd, name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := safefile.ReadAll(context.Background(), f, safefile.Limit{Name: name, Max: 64 << 20})
	if err != nil {
		return nil, err
	}
	return persist.ParseJSON(data, name, persist.Options{})
}

// resolveThen follows p (absolute) component by component as the old
// root's system saw it: beneath oldFD, but below /nix beneath liveFD.
// It returns the directory descriptor and the relative path of the object
// p names, ok false when a component is missing, is not a directory on
// the way, or the links loop.
func resolveThen(oldFD, liveFD int, p string) (fd int, rel string, ok bool) {
	for hops := 0; hops <= maxThenHops; hops++ {
		comps := strings.Split(strings.TrimPrefix(path.Clean(p), "/"), "/")
		cur, relinked := "/", false
		for i, c := range comps {
			next := path.Join(cur, c)
			fd = oldFD
			if pathx.Contains("/nix", next) {
				fd = liveFD
			}
			rel = strings.TrimPrefix(next, "/")
			var st unix.Stat_t
			if err := fsys.Lstat(fd, rel, &st); err != nil {
				return -1, "", false
			}
			switch st.Mode & unix.S_IFMT {
			case unix.S_IFLNK:
				target, err := fsys.Readlink(fd, rel)
				if err != nil {
					return -1, "", false
				}
				if !path.IsAbs(target) {
					target = path.Join(cur, target)
				}
				p, relinked = path.Join(append([]string{target}, comps[i+1:]...)...), true
			case unix.S_IFDIR:
			default:
				if i < len(comps)-1 {
					return -1, "", false
				}
			}
			if relinked {
				break
			}
			cur = next
		}
		if !relinked {
			return fd, rel, true
		}
	}
	return -1, "", false
}

// thenFact is what one old root records of the declarations its boot ran
// with: DeclaredThen's set and warning, and whether the warning was given
// (Model.unwarned).
type thenFact struct {
	set     *persist.Set
	warning *diff.Warning
	warned  bool
}

// thenOf is the declarations the boot of the old root at dir ran with,
// read by the first call for dir and kept: the audit's comparison with
// the previous root and restore's From read the file once between them.
func (m *Model) thenOf(dir string) *thenFact {
	dir = filepath.Clean(dir)
	m.thenMu.Lock()
	defer m.thenMu.Unlock()
	if f := m.thens[dir]; f != nil {
		return f
	}
	f := &thenFact{}
	f.set, f.warning = DeclaredThen(dir, m.Root)
	if m.thens == nil {
		m.thens = map[string]*thenFact{}
	}
	m.thens[dir] = f
	return f
}

// unwarned is f's warning the first time it is asked for; nil after, and
// when there is none.
func (m *Model) unwarned(f *thenFact) *diff.Warning {
	m.thenMu.Lock()
	defer m.thenMu.Unlock()
	if f.warned {
		return nil
	}
	f.warned = true
	return f.warning
}

// declaredThen is the declarations From's boot ran with (thenOf); nil
// without From.
func (m *Model) declaredThen() *persist.Set {
	if m.From == nil || m.From.Dir == "" {
		return nil
	}
	return m.thenOf(m.From.Dir).set
}

// DeclaredThenWarning is DeclaredThen's warning about From's declarations
// file, once the file was read (by Persisted), the first time it is asked
// for; nil after, when the audit gave it already (From is the previous
// root it compared with), and when there is none.
func (m *Model) DeclaredThenWarning() *diff.Warning {
	if m.From == nil || m.From.Dir == "" {
		return nil
	}
	m.thenMu.Lock()
	f := m.thens[filepath.Clean(m.From.Dir)]
	m.thenMu.Unlock()
	if f == nil {
		return nil
	}
	return m.unwarned(f)
}
