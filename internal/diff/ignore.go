package diff

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/nix-drift/drift/internal/safefile"
)

// Ignore holds user ignore rules (--ignore GLOB, --ignore-file FILE). A rule
// is a path.Match pattern:
//   - a pattern that starts with "/" is matched against the whole path
//     (relative to the audited root) and against each of its ancestors, so
//     "/var/cache" or "/var/cache/*" ignores everything below /var/cache;
//   - a pattern without "/" is matched against every component of the path,
//     so "*.tmp" ignores any entry named like that and everything below it.
//
// A pattern ending in "/" matches the same paths as without it.
type Ignore struct {
	rules []rule
}

type rule struct {
	pattern  string
	anchored bool
}

// Add adds one pattern. where names its origin for errors ("--ignore",
// "file:line").
func (ig *Ignore) Add(pattern, where string) error {
	p := strings.TrimSpace(pattern)
	if p == "" {
		return fmt.Errorf("%s: empty ignore pattern", where)
	}
	if len(p) > 1 {
		p = strings.TrimRight(p, "/")
		if p == "" {
			p = "/"
		}
	}
	anchored := strings.HasPrefix(p, "/")
	if !anchored && strings.Contains(p, "/") {
		return fmt.Errorf("%s: ignore pattern %q: expected an absolute pattern (starting with /) or a name pattern without /", where, pattern)
	}
	if anchored && path.Clean(p) != p {
		// Paths are matched as they are, clean: "/usr/share/../lib" or
		// "/a//b" would match nothing.
		return fmt.Errorf("%s: ignore pattern %q: expected a clean path (no \".\" or \"..\" component, no \"//\"): %s", where, pattern, path.Clean(p))
	}
	if _, err := path.Match(p, ""); err != nil {
		return fmt.Errorf("%s: ignore pattern %q: %v", where, pattern, err)
	}
	ig.rules = append(ig.rules, rule{pattern: p, anchored: anchored})
	return nil
}

// maxIgnoreLine bounds one line of an ignore file (a path pattern).
const maxIgnoreLine = 1 << 20

// AddFile reads one pattern per line from name; blank lines and lines
// starting with # are skipped. Errors name the file and line.
func (ig *Ignore) AddFile(name string) error {
	f, _, err := safefile.Open(name, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	return ig.AddReader(f, name)
}

// maxIgnoreStream bounds an ignore file read from a stream (AddStream),
// which is held whole.
const maxIgnoreStream = 64 << 20

// AddStream is AddReader on a stream (standard input for --ignore-file -),
// named name: at most maxIgnoreStream bytes (*safefile.TooLargeError),
// giving up with ctx's error once ctx is done, even while a read is
// blocked (safefile.ReadAll).
func (ig *Ignore) AddStream(ctx context.Context, r io.Reader, name string) error {
	data, err := safefile.ReadAll(ctx, r, safefile.Limit{Name: name, Max: maxIgnoreStream, What: "an ignore file"})
	if err != nil {
		return err
	}
	return ig.AddReader(bytes.NewReader(data), name)
}

// AddReader is AddFile on an open reader.
func (ig *Ignore) AddReader(r io.Reader, name string) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), maxIgnoreLine)
	line := 0
	for sc.Scan() {
		line++
		t := strings.TrimSpace(sc.Text())
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		if err := ig.Add(t, fmt.Sprintf("%s:%d", name, line)); err != nil {
			return err
		}
	}
	if err := sc.Err(); errors.Is(err, bufio.ErrTooLong) {
		return fmt.Errorf("%s:%d: expected an ignore pattern of at most %d MiB, found a longer line", name, line+1, maxIgnoreLine>>20)
	} else if err != nil {
		return fmt.Errorf("%s:%d: %v", name, line+1, err)
	}
	return nil
}

// Empty reports whether there are no rules.
func (ig *Ignore) Empty() bool { return ig == nil || len(ig.rules) == 0 }

// Match reports whether p (absolute, relative to the audited root) or one of
// its ancestors matches a rule.
func (ig *Ignore) Match(p string) bool {
	if ig.Empty() {
		return false
	}
	for q := p; ; q = path.Dir(q) {
		if ig.matchSelf(q) {
			return true
		}
		if q == "/" || q == "." {
			return false
		}
	}
}

// MayMatchBelow reports whether a rule could match a path strictly below
// dir (absolute, clean) without matching dir or one of its ancestors first:
// true for any name rule (it matches components anywhere), for an anchored
// rule without metacharacters that names a path below dir, and for an
// anchored pattern whose literal prefix (the bytes before its first *, ?, [
// or \) is compatible with dir+"/" (one of the two starts with the other).
// False is exact: no path below dir matches a rule unless dir does. Check
// uses it to count a directory lost whole (Config.Collapse).
func (ig *Ignore) MayMatchBelow(dir string) bool {
	if ig.Empty() {
		return false
	}
	below := dir + "/"
	if dir == "/" {
		below = "/"
	}
	for _, r := range ig.rules {
		if !r.anchored {
			return true
		}
		lit, glob := r.pattern, false
		if i := strings.IndexAny(lit, `*?[\`); i >= 0 {
			lit, glob = lit[:i], true
		}
		// A pattern without metacharacters matches itself alone.
		if strings.HasPrefix(lit, below) || glob && strings.HasPrefix(below, lit) {
			return true
		}
	}
	return false
}

// matchSelf matches p itself, not its ancestors: anchored rules against the
// whole path, name rules against the last component. The classifier calls it
// once per entry and inherits the answer from the parent directory.
func (ig *Ignore) matchSelf(p string) bool {
	if ig.Empty() {
		return false
	}
	name := p[strings.LastIndexByte(p, '/')+1:]
	for _, r := range ig.rules {
		subject := name
		if r.anchored {
			subject = p
		}
		if ok, _ := path.Match(r.pattern, subject); ok {
			return true
		}
	}
	return false
}
