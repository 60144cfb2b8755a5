package suggest

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/fsys"
	"github.com/nix-drift/drift/internal/knowledge"
	"github.com/nix-drift/drift/internal/pathx"
	"github.com/nix-drift/drift/internal/persist"
	"golang.org/x/sys/unix"
)

// Vanished is a path the last wipe destroyed, that no declaration covers
// now (diff.Audit.Vanished with no Decl and no PersistentCopy: drift
// check's VANISHED row), which a Persist suggestion stands for.
type Vanished struct {
	diff.Vanished
	// Restore is the drift restore command that puts it into the
	// persistent copy of the suggested declaration (diff.Vanished's
	// RestoreCommand with the suggestion's path as its Decl; "" when that
	// copy holds it already, vanishedOf): it works
	// once the declaration is in the configuration drift reads, and
	// shows at the path once that copy is mounted (the next switch or
	// boot). A restore --to live before declaring puts it on the root,
	// which the mount of the (empty) copy hides and the next wipe takes.
	Restore string
}

// addVanished adds what the last wipe destroyed and nothing declares now
// (vanishedRows) to out: a vanished path at or below a Persist
// suggestion's path is noted on it (present again live, counted once);
// any other becomes a Persist suggestion of its own (an Ignore one when
// the knowledge base calls it a cache), its live Persist suggestions below
// it merged into it, weighed as live paths are: the knowledge base's fact,
// its size, the old roots compared that hold it (each differs from now,
// where it is gone: Seen and Changed alike), its modification time in the
// previous root; owner and mode from the previous root. Symlinks and paths
// that can never be declared (Input.Unpersistable) are left to drift
// check's restore --to live.
func (in *Input) addVanished(out []Suggestion) []Suggestion {
	a := in.Audit
	if a.PreviousRoot == nil {
		return out
	}
	match := in.Knowledge.Matcher()
	homes := homeUsers(in.Homes)
	for _, r := range in.vanishedRows(match, homes) {
		v := r.Vanished
		at := slices.IndexFunc(out, func(s Suggestion) bool {
			return (s.Action == Persist || s.Action == Ignore) && pathx.HasPrefix(v.Path, s.Path)
		})
		if at >= 0 {
			if o := &out[at]; o.Action == Persist {
				o.Vanished = append(o.Vanished, in.vanishedOf(v, o.Path)...)
				o.Entries += v.Entries
				o.Bytes += v.Bytes
			}
			continue
		}
		if !r.ok || v.Mode&unix.S_IFMT == unix.S_IFLNK || in.unpersistable(v.Path) {
			continue // a home itself (the module makes it), a link, or never declared
		}
		s := Suggestion{Path: v.Path, Kind: persist.File, StoragePath: in.StoragePath, Boots: len(in.Old), Entries: v.Entries, Bytes: v.Bytes, Action: Persist, Fact: r.g.fact}
		if v.IsDir() {
			s.Kind = persist.Dir
		}
		r.g.placeIn(&s)
		s.Secrets = a.SecretsAt(v.Path)
		if st, err := fsys.StatIn(a.PreviousRoot.Dir, v.Path); err == nil {
			s.Mtime = st.Mtim.Nano()
		}
		// Live suggestions below it (present again in part) are merged.
		kept := out[:0]
		for _, o := range out {
			if o.Action == Persist && pathx.HasPrefix(o.Path, v.Path) {
				s.items = append(s.items, o.items...)
				s.Entries += o.Entries
				s.Bytes += o.Bytes
				s.Mtime = max(s.Mtime, o.Mtime)
				s.Vanished = append(s.Vanished, o.Vanished...)
				continue
			}
			kept = append(kept, o)
		}
		out = kept
		s.Vanished = append(s.Vanished, in.vanishedOf(v, v.Path)...)
		in.weighVanished(&s)
		out = append(out, s)
	}
	return out
}

// vanishedRow is a row of vanishedRows and the group rollUpValue makes
// of its path (ok false: a home itself, or a file where a directory of
// many applications' state was): its home and user, and the knowledge
// base's fact, as for a lost path on the live root.
type vanishedRow struct {
	diff.Vanished
	g  group
	ok bool
}

// vanishedRows are the rows of a.Vanished no declaration covers, whose
// data is not in a persistent copy (PersistentCopy: stray's to report),
// a directory that holds many applications' state (rollUpValue's
// containers: /var/lib, a home, ~/.config) split into what it held, read
// from the previous root: never declared whole. Each is placed by
// rollUpValue, the rule the live paths are placed by.
func (in *Input) vanishedRows(match *knowledge.Matcher, homes []home) []vanishedRow {
	var vs []vanishedRow
	var add func(v diff.Vanished)
	add = func(v diff.Vanished) {
		if g, ok := rollUpValue(match, homes, v.Path, nil); ok || !v.IsDir() {
			vs = append(vs, vanishedRow{Vanished: v, g: g, ok: ok})
			return
		}
		for _, c := range previousChildren(in.Audit.PreviousRoot.Dir, v) {
			add(c)
		}
	}
	for _, v := range in.Audit.Vanished {
		if v.Decl == "" && v.PersistentCopy == "" {
			add(v)
		}
	}
	return vs
}

// previousChildren are the entries of the directory v in the previous
// root prev, each a row of its own like v with its subtree counted (never
// through a symlink, whatever the paths' length: walkTree); none when it
// cannot be read.
func previousChildren(prev string, v diff.Vanished) []diff.Vanished {
	var out []diff.Vanished
	walkTree(prev, v.Path, func(p string, st *unix.Stat_t) bool {
		if p == v.Path {
			return true
		}
		c := v
		c.Path, c.Mode, c.Subvolume = p, st.Mode, false
		c.Entries, c.Bytes = treeSize(prev, p)
		out = append(out, c)
		return false
	})
	return out
}

// vanishedOf is v with the restores into the persistent copy of decl
// (the suggestion's path) that work as printed: one restore of v when its
// copy (diff.CopyOf of the declaration of decl under StoragePath, the rule
// every declared path's copy is found by; under Root) does not exist;
// when it does
// (restore refuses an existing destination without --force, and --force
// would replace what the copy holds), one restore per topmost path below v
// the copy lacks (copyLacks), each a Vanished of its own; none when it
// lacks nothing: then v alone, with no Restore.
func (in *Input) vanishedOf(v diff.Vanished, decl string) []Vanished {
	var args []string
	if in.Audit != nil {
		args = in.Audit.Args
	}
	restore := func(v diff.Vanished) Vanished {
		d := v
		d.Decl = decl
		return Vanished{Vanished: v, Restore: d.RestoreCommand(in.Root, args)}
	}
	if in.Audit == nil || in.Audit.PreviousRoot == nil || in.StoragePath == "" {
		return []Vanished{restore(v)}
	}
	e := persist.Entry{Path: decl, StoragePath: in.StoragePath} // what the suggestion declares
	copyOf := func(p string) string { return diff.CopyOf(&e, p) }
	if _, err := fsys.StatIn(in.Root, copyOf(v.Path)); err != nil {
		return []Vanished{restore(v)}
	}
	var out []Vanished
	for _, l := range copyLacks(in.Audit.PreviousRoot.Dir, in.Root, v, copyOf) {
		out = append(out, restore(l))
	}
	if len(out) == 0 {
		return []Vanished{{Vanished: v}}
	}
	return out
}

// copyLacks lists the topmost paths below v in the previous root prev that
// the persistent copy (copyOf of each path, under root) lacks, each as a
// Vanished like v (its mode; its subtree counted), in walk order: a
// directory both hold is descended into, anything else the copy holds is
// left alone (restore would replace it only with --force). Never through a
// symlink, whatever the paths' length (walkTree; StatIn).
func copyLacks(prev, root string, v diff.Vanished, copyOf func(string) string) []diff.Vanished {
	var out []diff.Vanished
	walkTree(prev, v.Path, func(p string, ls *unix.Stat_t) bool {
		if p == v.Path {
			return true
		}
		isDir := ls.Mode&unix.S_IFMT == unix.S_IFDIR
		if st, err := fsys.StatIn(root, copyOf(p)); err == nil {
			return isDir && st.Mode&unix.S_IFMT == unix.S_IFDIR
		}
		c := v
		c.Path, c.Mode, c.Subvolume = p, ls.Mode, false
		c.Entries, c.Bytes = treeSize(prev, p)
		out = append(out, c)
		return false
	})
	return out
}

// weighVanished scores s, a suggestion made for a vanished path (Suggest's
// weights), and gives it its owner and mode from the previous root.
func (in *Input) weighVanished(s *Suggestion) {
	for _, o := range in.Old {
		if _, err := fsys.StatIn(o.Root.Dir, s.Path); err == nil {
			s.Seen++
			s.Changed++ // gone now: differs from every old root holding it
		}
	}
	if s.Fact != nil && s.Fact.Action == "ignore" && len(s.Secrets) == 0 {
		s.Action = Ignore
	} else if s.Fact != nil {
		s.Score += scoreKnown
	}
	s.Score += evidence(s, in.Now)
	if s.Action == Persist {
		prev := *in
		prev.Root = in.Audit.PreviousRoot.Dir
		s.Attrs = prev.attrs(s)
	}
}

// vanishedNote is the note of a suggestion standing for vanished paths:
// that they vanished at the last wipe, and how to get them back.
func (s *Suggestion) vanishedNote(esc, cmd func(string) string) string {
	if len(s.Vanished) == 0 {
		return ""
	}
	var paths, cmds []string
	for _, v := range s.Vanished {
		paths = append(paths, esc(v.Path))
		if v.Restore != "" {
			cmds = append(cmds, cmd(v.Restore))
		}
	}
	if !s.Declares() {
		// Not declared (a secret read early): no persistent copy to restore into.
		return fmt.Sprintf("vanished at the last wipe: %s (still in old_roots/%s): copy it from there to where the option is to point", strings.Join(paths, ", "), esc(s.Vanished[0].Root))
	}
	if len(cmds) == 0 {
		return fmt.Sprintf("vanished at the last wipe: %s (still in old_roots/%s); its persistent copy holds every path of it already (%s): declare it, nothing to restore", strings.Join(paths, ", "), esc(s.Vanished[0].Root), esc(persist.Entry{Path: s.Path, StoragePath: s.StoragePath}.Source()))
	}
	return fmt.Sprintf("vanished at the last wipe: %s (still in old_roots/%s); declare it, then put it back into its persistent copy: %s", strings.Join(paths, ", "), esc(s.Vanished[0].Root), strings.Join(cmds, "; "))
}

// OnlyVanished reports whether s stands for vanished paths alone: nothing
// of it is on the live root for drift adopt to copy.
func (s *Suggestion) OnlyVanished() bool { return len(s.Vanished) > 0 && len(s.items) == 0 }

// evidence is the part of a suggestion's score its history, size and age
// give (Suggest's weights): how often it changed and was seen in the last
// s.Boots old roots, its bytes, and a modification within a day or a week
// of now (none when now is zero). Live and vanished paths are weighed by
// it alike.
func evidence(s *Suggestion, now time.Time) (score int) {
	if s.Boots > 0 {
		score += scoreChanged*s.Changed/s.Boots + scoreSeen*s.Seen/s.Boots
	}
	switch {
	case s.Bytes >= 1<<20:
		score += scoreBig
	case s.Bytes >= 64<<10:
		score += scoreMedium
	case s.Bytes > 0:
		score += scoreSome
	}
	if !now.IsZero() && s.Mtime > 0 {
		switch age := now.Sub(time.Unix(0, s.Mtime)); {
		case age < 24*time.Hour:
			score += scoreDay
		case age < 7*24*time.Hour:
			score += scoreWeek
		}
	}
	return score
}
