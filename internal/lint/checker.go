package lint

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"unicode"

	"github.com/nix-drift/drift/internal/escape"
	"github.com/nix-drift/drift/internal/hashindex"
	"github.com/nix-drift/drift/internal/mounts"
	"github.com/nix-drift/drift/internal/pathx"
	"github.com/nix-drift/drift/internal/persist"
)

// checker holds one configuration while the rules run.
type checker struct {
	ctx     context.Context // polled between rules and every 4096 entries
	ticks   int
	c       Config
	primary []persist.Entry     // entries as read
	dups    []persist.Duplicate // entries the reader counted as exact duplicates
	bad     []persist.Entry     // attribute-set entries without directory/file
	options []persist.Option
	storage []persist.StoragePath
	cfg     *persist.Config // merged; nil when no .nix module was read
	// persistent holds the persistent mounts (not / and not tmpfs) of the
	// layout and the configuration, the first declared at each mount point,
	// parents first; decl[i] is where persistent.Mounts[i] is declared.
	persistent *mounts.Table
	decl       []persist.Mount
	out        []Finding
	// sel and sup, when set, drop findings as they are made; shown counts
	// the findings kept per rule, over those past c.MaxPerRule.
	sel   *Selection
	sup   *suppressor
	shown map[string]int
	over  map[string]*overflow
	// index is the table duplicates and overlap index the entries with,
	// one after the other: a million entries cost 8 MiB once.
	index hashindex.Index
}

// DefaultMaxPerRule is how many findings of one rule drift lint reports
// (Config.MaxPerRule); past it, one summary finding of the rule says how
// many more there are. A thousand duplicates are worth reading; two hundred
// thousand only cost memory (about 250 bytes each, and more in the output).
const DefaultMaxPerRule = 1000

// overflow counts the findings of a rule past Config.MaxPerRule: how many, the
// position of the first and the highest severity.
type overflow struct {
	n   int
	pos persist.Pos
	sev Severity
}

func newChecker(c Config) *checker {
	ck := &checker{c: c}
	for _, s := range c.Sets {
		if s == nil {
			continue
		}
		// The first set's slices are used as they are (clipped, so that
		// appending another set's copies them): one set of a million
		// entries is not held twice.
		ck.primary = appendShared(ck.primary, s.Entries)
		ck.dups = appendShared(ck.dups, s.Duplicates)
		ck.bad = appendShared(ck.bad, s.Malformed)
		ck.options = append(ck.options, s.Options...)
		ck.storage = append(ck.storage, s.Storage...)
		if s.Config != nil {
			if ck.cfg == nil {
				ck.cfg = &persist.Config{}
			}
			ck.cfg.Merge(s.Config)
		}
	}
	var persistent []persist.Mount
	for _, m := range c.Layout {
		if !m.Ephemeral() && strings.HasPrefix(m.MountPoint, "/") {
			persistent = append(persistent, m)
		}
	}
	if ck.cfg != nil {
		for _, m := range ck.cfg.FileSystems {
			if !m.Ephemeral() && strings.HasPrefix(m.MountPoint, "/") {
				persistent = append(persistent, m)
			}
		}
	}
	ck.persistent, ck.decl = mountTable(persistent)
	return ck
}

// mountTable is the mount table the declared mounts ms make, every mount
// visible: the first declared at each mount point, parents first (in
// pathx.Compare order), with IDs 1, 2, … . decl[i] is the declaration of
// the table's mount i.
func mountTable(ms []persist.Mount) (t *mounts.Table, decl []persist.Mount) {
	seen := make(map[string]bool, len(ms))
	for _, m := range ms {
		if !seen[m.MountPoint] {
			seen[m.MountPoint] = true
			decl = append(decl, m)
		}
	}
	slices.SortStableFunc(decl, func(a, b persist.Mount) int { return pathx.Compare(a.MountPoint, b.MountPoint) })
	rows := make([]mounts.Mount, len(decl))
	for i, m := range decl {
		rows[i] = m.Mount
		rows[i].ID = i + 1
	}
	return mounts.New(rows), decl
}

// appendShared is append(to, es...), except that a nil to gets es itself,
// clipped: the rules only read the entries.
func appendShared[T any](to, es []T) []T {
	if to == nil {
		return slices.Clip(es)
	}
	return append(to, es...)
}

func (ck *checker) add(rule string, sev Severity, pos persist.Pos, path, hint, format string, a ...any) {
	if ck.skip(rule, sev, pos, path) {
		return
	}
	if hint == "" {
		if r, ok := LookupRule(rule); ok {
			hint = r.Hint
		}
	}
	ck.shown[rule]++
	ck.out = append(ck.out, Finding{Rule: rule, Severity: sev, Pos: pos, Path: path, Message: fmt.Sprintf(format, a...), Hint: hint})
}

// skip reports whether a finding of rule at pos is dropped (not selected,
// suppressed, or past c.MaxPerRule, where it is counted): a rule that can
// make a finding per entry asks before it builds the message's arguments,
// so that a million duplicates past the limit cost nothing each.
func (ck *checker) skip(rule string, sev Severity, pos persist.Pos, path string) bool {
	if ck.sup != nil && (!ck.sel.On(rule) || ck.sup.suppressed(Finding{Rule: rule, Severity: sev, Pos: pos, Path: path})) {
		return true
	}
	if ck.shown == nil {
		ck.shown, ck.over = map[string]int{}, map[string]*overflow{}
	}
	if limit := ck.c.MaxPerRule; limit > 0 && ck.shown[rule] >= limit {
		o := ck.over[rule]
		if o == nil {
			o = &overflow{pos: pos, sev: sev}
			ck.over[rule] = o
		}
		o.n++
		o.sev = max(o.sev, sev)
		return true
	}
	return false
}

// overflow counts n findings of rule past c.MaxPerRule that were never
// made (a rule that only counts what it would not show).
func (ck *checker) overflow(rule string, sev Severity, n int) {
	if ck.over == nil {
		ck.shown, ck.over = map[string]int{}, map[string]*overflow{}
	}
	o := ck.over[rule]
	if o == nil {
		o = &overflow{sev: sev}
		ck.over[rule] = o
	}
	o.n += n
	o.sev = max(o.sev, sev)
}

// summarise appends one finding per rule that went past c.MaxPerRule, at the
// first finding not shown, with the highest severity of those not shown
// (so the exit status is the same as with all of them).
func (ck *checker) summarise() {
	rules := make([]string, 0, len(ck.over))
	for r := range ck.over {
		rules = append(rules, r)
	}
	sort.Strings(rules)
	for _, r := range rules {
		o := ck.over[r]
		ck.out = append(ck.out, Finding{Rule: r, Severity: o.sev, Pos: o.pos,
			Message: fmt.Sprintf("%d more %s findings not shown (at most %d of one rule are)", o.n, r, ck.c.MaxPerRule)})
	}
}

// sev is the rule's usual severity.
func sev(rule string) Severity {
	r, _ := LookupRule(rule)
	return r.Severity
}

// stop carries ctx.Err() out of a rule; runSafe recovers it.
type stop struct{ err error }

// tick gives up (panicking with stop) when ck.ctx is done: always when
// every is 1, else on every every-th call.
func (ck *checker) tick(every int) {
	ck.ticks++
	if ck.ctx == nil || ck.ticks%every != 0 {
		return
	}
	if err := ck.ctx.Err(); err != nil {
		panic(stop{err})
	}
}

// runSafe is run, returning ctx.Err() when it was stopped.
func (ck *checker) runSafe() (err error) {
	defer func() {
		if r := recover(); r != nil {
			s, ok := r.(stop)
			if !ok {
				panic(r)
			}
			err = s.err
		}
	}()
	ck.run()
	return nil
}

func (ck *checker) run() {
	ck.diagnostics()
	for _, e := range ck.primary {
		ck.tick(4096)
		ck.shape(e)
		ck.placement(e)
		ck.attrs(e)
	}
	for i := range ck.dups {
		e := ck.dups[i].Entry() // the first repetition, as written there
		ck.shape(e)
		ck.attrs(e)
	}
	for _, e := range ck.bad {
		ck.malformed(e)
	}
	for _, rule := range []func(){ck.duplicates, ck.overlap, ck.optionRules, ck.missing, ck.lostSecrets, ck.earlyReaders, ck.wipeRules} {
		ck.tick(1)
		rule()
	}
}

// q prints a path for a message, quoted when white space at its start or
// end (or in a component's) would otherwise be invisible.
func q(p string) string {
	if strings.ContainsFunc(p, unicode.IsSpace) {
		return qq(p)
	}
	return escape.Name(p)
}

// qq quotes s for a message, escaped as every name drift prints
// (escape.Name: a control character is always \xNN), never Go's %q
// (which writes \a for the same byte).
func qq(s string) string {
	return `"` + strings.ReplaceAll(escape.Name(s), `"`, `\"`) + `"`
}

func kindName(e persist.Entry) string { return e.Kind.String() }

// subject names an entry in a message: "directory /var/log".
func subject(e persist.Entry) string {
	if e.Path == "" {
		return "a " + e.Kind.String() + " entry"
	}
	return e.Kind.String() + " " + q(e.Path)
}
