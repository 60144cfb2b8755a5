package persist

import "strings"

// userGuess is what one file's users.<name> scope (or a home-manager
// user's storage path) took for the user's home and group without a fact
// for them in that file: NixOS's defaults (/home/<name> or /root; the group
// "users"), kept to be settled by users.users.<name> in another file of the
// configuration (SettleHomes). Home or Group is "" when it was a fact (--home,
// a literal users.<name>.home, users.users.<name> in the same file).
type userGuess struct {
	file, storage, owner string // the entries it applies to: Pos.File, StoragePath, Owner
	user                 string // the users.users name whose home it is
	home, group          string
}

// guess records, for a static read, the scope's home and group that were
// taken for user without a fact in this file (homeGuessed: the home; the
// group when users.users.<user>.group is not set here). home-manager's v1
// storage paths are not recorded: their layout is read from the home.
func (r *reader) guess(sc *scope, user string, homeGuessed bool) {
	if r.ev == nil || r.set.Config == nil || sc.hmV1 {
		return
	}
	g := userGuess{file: r.src.Name, storage: sc.psp, owner: sc.owner, user: user}
	if homeGuessed {
		g.home = sc.home
	}
	if r.users[user].group == "" {
		g.group = sc.group
	}
	if g.home != "" || g.group != "" {
		r.set.Config.guesses = append(r.set.Config.guesses, g)
	}
}

// SettleHomes gives the user entries of sets whose home or group a file
// took by default (no users.users.<name>.home or .group in that file, no
// --home) the users.users.<name>.home and .group that any set's Config
// holds: NixOS merges the modules of a configuration into one users.users,
// so the fact may be set in configuration.nix and the declaration made in
// the persist.nix it imports. The sets are the files of one configuration
// (Load calls it on the set it returns, drift lint on each configuration's
// sets). An entry given another home has its Path moved below it (Raw, the
// path as written, stays); Entries, Duplicates and Config.Declared are
// settled, and Entries merged again when two then have the same key.
func SettleHomes(sets ...*Set) {
	facts := map[string]User{}
	for _, s := range sets {
		if s == nil || s.Config == nil {
			continue
		}
		for _, u := range s.Config.Users {
			f := facts[u.Name]
			if f.Home == "" {
				f.Home = u.Home
			}
			if f.Group == "" {
				f.Group = u.Group
			}
			facts[u.Name] = f
		}
	}
	for _, s := range sets {
		if s != nil && s.Config != nil && len(s.Config.guesses) > 0 {
			s.settle(facts)
		}
	}
}

// settle applies facts (users.users by name) to s's guesses.
func (s *Set) settle(facts map[string]User) {
	var fixes []userGuess // each guess with the fact that replaces it
	for _, g := range s.Config.guesses {
		f := facts[g.user]
		h, _ := cleanPath(f.Home)
		fix := userGuess{}
		if g.home != "" && f.Home != "" && h != g.home {
			fix.home = h
		}
		if g.group != "" && f.Group != "" && f.Group != g.group {
			fix.group = f.Group
		}
		if fix != (userGuess{}) {
			fixes = append(fixes, g, fix)
		}
	}
	if len(fixes) == 0 {
		return
	}
	origins := map[*Origin]*Origin{}
	moved := false
	homes := map[Pos][2]string{} // the guessed and settled home of each moved entry, by where it was written
	fix := func(e *Entry) {
		for i := 0; i < len(fixes); i += 2 {
			g, to := fixes[i], fixes[i+1]
			if e.Pos.File != g.file || e.StoragePath != g.storage || e.Owner != g.owner ||
				g.home != "" && e.Home != g.home || g.home == "" && e.Group != g.group {
				continue
			}
			raw := e.Raw()
			o, ok := origins[e.Origin]
			if !ok {
				n := *e.Origin
				if to.home != "" {
					n.Home = to.home
				}
				if to.group != "" && n.Group == g.group {
					n.Group = to.group
				}
				o = &n
				origins[e.Origin] = o
			}
			if to.home != "" {
				if rest, ok := strings.CutPrefix(e.Path, g.home); ok && (rest == "" || rest[0] == '/') {
					e.Path = to.home + rest
					moved = true
					homes[e.Pos] = [2]string{g.home, to.home}
				}
			}
			e.Origin = o
			e.SetRaw(raw)
			return
		}
	}
	s.Entries = append([]Entry(nil), s.Entries...) // they may be another set's (Merge shares slices)
	for i := range s.Entries {
		fix(&s.Entries[i])
	}
	s.Duplicates = append([]Duplicate(nil), s.Duplicates...)
	for i := range s.Duplicates {
		d := &s.Duplicates[i]
		e := d.Entry()
		fix(&e)
		d.setEntry(&e)
	}
	c := *s.Config
	c.Declared = append([]Entry(nil), c.Declared...)
	for i := range c.Declared {
		fix(&c.Declared[i])
	}
	s.Config = &c
	s.settleDiagnostics(homes)
	if moved && !distinct(s.Entries, entryHash, func(a, b *Entry) bool { return keyOf(*a) == keyOf(*b) }) {
		es := s.Entries
		s.Entries = nil
		s.mergeEntries(es, &dupMerger{s: s})
	}
}

// settleDiagnostics makes the user-path-absolute diagnostics of the
// entries settle moved name the home they were moved to (homes: the
// guessed and the settled home, by the entry's Pos), not the guess.
func (s *Set) settleDiagnostics(homes map[Pos][2]string) {
	const said = "relative to the home "
	ds, copied := s.Diagnostics, false
	for i, d := range s.Diagnostics {
		h, ok := homes[d.Pos]
		if !ok || d.Code != "user-path-absolute" {
			continue
		}
		if m, ok := strings.CutSuffix(d.Message, said+h[0]); ok {
			if !copied {
				ds, copied = append([]Diagnostic(nil), s.Diagnostics...), true // they may be another set's
			}
			ds[i].Message = m + said + h[1]
		}
	}
	s.Diagnostics = ds
}
