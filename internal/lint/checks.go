package lint

import (
	"context"
	"fmt"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/nix-drift/drift/internal/escape"
	"github.com/nix-drift/drift/internal/pathx"
	"github.com/nix-drift/drift/internal/persist"
	"github.com/nix-drift/drift/internal/units"
)

// checker holds one configuration while the rules run.
type checker struct {
	ctx     context.Context // polled between rules and every 4096 entries
	ticks   int
	c       Config
	primary []persist.Entry // entries as read
	dups    []persist.Entry // entries dropped by the reader as exact duplicates
	bad     []persist.Entry // attribute-set entries without directory/file
	options []persist.Option
	storage []persist.StoragePath
	cfg     *persist.Config // merged; nil when no .nix module was read
	mounts  []persist.Mount // persistent mounts (not / and not tmpfs)
	out     []Finding
	// sel and sup, when set, drop findings as they are made; shown counts
	// the findings kept per rule, over those past c.MaxPerRule.
	sel   *Selection
	sup   *suppressor
	shown map[string]int
	over  map[string]*overflow
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
	for _, m := range c.Layout {
		if !m.Ephemeral() {
			ck.mounts = append(ck.mounts, m)
		}
	}
	if ck.cfg != nil {
		for _, m := range ck.cfg.FileSystems {
			if !m.Ephemeral() && strings.HasPrefix(m.Point, "/") {
				ck.mounts = append(ck.mounts, m)
			}
		}
	}
	return ck
}

// appendShared is append(to, es...), except that a nil to gets es itself,
// clipped: the rules only read the entries.
func appendShared(to, es []persist.Entry) []persist.Entry {
	if to == nil {
		return slices.Clip(es)
	}
	return append(to, es...)
}

func (ck *checker) add(rule string, sev Severity, pos persist.Pos, path, hint, format string, a ...any) {
	if hint == "" {
		if r, ok := LookupRule(rule); ok {
			hint = r.Hint
		}
	}
	f := Finding{Rule: rule, Severity: sev, Pos: pos, Path: path}
	if ck.sup != nil && (!ck.sel.On(rule) || ck.sup.suppressed(f)) {
		return
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
		return
	}
	ck.shown[rule]++
	f.Message, f.Hint = fmt.Sprintf(format, a...), hint
	ck.out = append(ck.out, f)
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
	for _, e := range ck.dups {
		ck.shape(e)
		ck.attrs(e)
	}
	for _, e := range ck.bad {
		ck.malformed(e)
	}
	for _, rule := range []func(){ck.duplicates, ck.overlap, ck.optionRules, ck.missing, ck.earlyReaders, ck.wipeRules} {
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

// diagnostics turns the reader's diagnostics into findings, leaving out
// those a rule reports itself.
func (ck *checker) diagnostics() {
	for _, err := range ck.c.ReadErrors {
		if pos, msg, ok := persist.SyntaxErrorAt(err); ok {
			ck.add("syntax", Error, pos, "", "", "%s", msg)
		}
	}
	for _, s := range ck.c.Sets {
		if s == nil {
			continue
		}
		for _, d := range s.Diagnostics {
			rule := "declaration"
			switch d.Code {
			case "duplicate", "path-not-absolute", "user-path-absolute", "path-dot", "path-root", "removed-option", "missing-key":
				continue
			case "not-static":
				rule = "not-static"
			case "conditional":
				rule = "conditional"
			case "none-found":
				// Only a whole configuration without declarations is a
				// problem: one module of several (imports, a walked
				// directory) need not hold any.
				if ck.c.Quiet[d.Pos.File] || len(ck.storage) > 0 || len(ck.primary) > 0 {
					continue
				}
			}
			ck.add(rule, d.Severity, d.Pos, "", d.Hint, "%s", d.Message)
		}
	}
}

// shape checks how an entry's path is written.
func (ck *checker) shape(e persist.Entry) {
	raw := e.Raw
	if raw == "" {
		return
	}
	pos := e.Pos
	if raw != strings.TrimSpace(raw) || strings.Contains(raw, " /") || strings.Contains(raw, "/ ") {
		ck.add("path-whitespace", sev("path-whitespace"), pos, e.Path, "",
			"%s %s has white space at the start or end of a component: the module persists exactly that name", kindName(e), qq(raw))
	}
	switch {
	case e.Home == "" && !strings.HasPrefix(raw, "/"):
		ck.add("path-not-absolute", sev("path-not-absolute"), pos, e.Path, "",
			"%s %s is not absolute: current impermanence makes it %s, classic impermanence and preservation reject it", kindName(e), qq(raw), q(e.Path))
	case e.Home != "" && !e.Evaluated && strings.HasPrefix(raw, "/"):
		ck.add("user-path-absolute", sev("user-path-absolute"), pos, e.Path, "",
			"user entry %s is written absolute: the leading '/' is ignored and it persists %s", qq(raw), q(e.Path))
	}
	for _, c := range strings.Split(raw, "/") {
		if c == ".." {
			ck.add("path-dot", Error, pos, e.Path, "",
				"%s %s has a '..' component: the module keeps it, and systemd refuses the mount", kindName(e), qq(raw))
			break
		}
		if c == "." {
			ck.add("path-dot", Warning, pos, e.Path, "",
				"%s %s has a '.' component", kindName(e), qq(raw))
			break
		}
	}
	switch {
	case strings.Contains(raw, "//"):
		ck.add("path-slashes", sev("path-slashes"), pos, e.Path, "",
			"%s %s has a double slash: it is %s", kindName(e), qq(raw), q(e.Path))
	case len(raw) > 1 && strings.HasSuffix(raw, "/"):
		ck.add("path-slashes", sev("path-slashes"), pos, e.Path, "",
			"%s %s has a trailing slash: it is %s (classic impermanence keeps the slash and misses duplicates)", kindName(e), qq(raw), q(e.Path))
	}
}

func underAny(p string, dirs ...string) (string, bool) {
	for _, d := range dirs {
		if pathx.HasPrefix(p, d) {
			return d, true
		}
	}
	return "", false
}

// generatedDirs are directories in which NixOS activation puts files (the
// example is one of them): persisting the directory hides them.
var generatedDirs = map[string]string{
	"/etc/ssh":            "/etc/ssh/sshd_config",
	"/etc/nix":            "/etc/nix/nix.conf",
	"/etc/pam.d":          "/etc/pam.d/login",
	"/etc/systemd":        "/etc/systemd/system",
	"/etc/ssl":            "/etc/ssl/certs",
	"/etc/udev":           "/etc/udev/rules.d",
	"/etc/static":         "/etc/static (the link to the current generation's /etc)",
	"/etc/NetworkManager": "/etc/NetworkManager/NetworkManager.conf",
	"/etc/profiles":       "/etc/profiles/per-user",
	"/etc/sudoers.d":      "/etc/sudoers.d",
}

var userFiles = map[string]bool{
	"/etc/passwd": true, "/etc/group": true, "/etc/shadow": true,
	"/etc/gshadow": true, "/etc/subuid": true, "/etc/subgid": true,
}

// placement checks where an entry's live path is.
func (ck *checker) placement(e persist.Entry) {
	p, pos := e.Path, e.Pos
	api, isAPI := underAny(p, "/proc", "/sys", "/dev", "/run", "/var/run")
	sp := ck.inStorage(p)
	kept, isKept := underAny(p, "/nix", "/boot")
	placed := true
	switch {
	case p == "/":
		ck.add("persist-root", sev("persist-root"), pos, p, "", "%s / persists the whole root: nothing is wiped any more", kindName(e))
	case isAPI:
		ck.add("api-filesystem", sev("api-filesystem"), pos, p, "",
			"%s %s is on %s, an API or runtime file system mounted fresh at every boot", kindName(e), q(p), api)
	case sp != "":
		ck.add("inside-storage-path", sev("inside-storage-path"), pos, p, "",
			"%s %s lies inside the persistent storage path %s: it is persistent already", kindName(e), q(p), q(sp))
	case isKept:
		ck.add("not-ephemeral", sev("not-ephemeral"), pos, p, "",
			"%s %s is under %s, which is not on the ephemeral root", kindName(e), q(p), kept)
	case pathx.HasPrefix(p, "/tmp"):
		s := sev("persist-tmp")
		msg := "%s %s is under /tmp, which is meant to be emptied at boot"
		if ck.cfg != nil && ck.cfg.TmpOnTmpfs.Value == persist.True {
			s = Info
			msg += " (and boot.tmp.useTmpfs mounts a tmpfs over it)"
		}
		ck.add("persist-tmp", s, pos, p, "", msg, kindName(e), q(p))
	default:
		placed = false
	}
	if !placed {
		if m, ok := ck.mountOf(p); ok {
			t := ""
			if m.FSType != "" {
				t = " (" + m.FSType + ")"
			}
			ck.add("already-persistent", sev("already-persistent"), pos, p, "",
				"%s %s is on the file system mounted at %s%s (%s), which is not wiped", kindName(e), q(p), q(m.Point), t, m.Pos)
		}
	}
	if e.Kind == persist.Dir {
		broad := p == "/var" || p == "/var/lib" || p == "/usr"
		if rel, ok := homeRel(e); ok && (rel == ".config" || rel == ".local" || rel == ".local/share" || rel == ".cache") {
			broad = true
		}
		if broad {
			ck.add("broad-directory", sev("broad-directory"), pos, p, "",
				"directory %s is very broad: it persists caches and generated state along with what matters", q(p))
		}
	}
	if p == "/etc" {
		ck.add("etc-whole", sev("etc-whole"), pos, p, "",
			"%s /etc persists NixOS-generated state and hides what activation writes there on the first boot", kindName(e))
	} else if e.Kind == persist.Dir {
		if ex, ok := generatedDirs[p]; ok {
			hint := ""
			if p == "/etc/ssh" {
				hint = "persist the host keys inside it instead (/etc/ssh/ssh_host_*_key and .pub)"
			}
			ck.add("etc-generated-dir", sev("etc-generated-dir"), pos, p, hint,
				"directory %s holds files NixOS activation creates (%s): the persistent copy hides them", q(p), ex)
		} else if ck.cfg != nil && pathx.HasPrefix(p, "/etc") {
			for _, k := range ck.cfg.EtcFiles {
				f := "/etc/" + strings.Trim(k, "/")
				if f != p && pathx.HasPrefix(f, p) {
					ck.add("etc-generated-dir", sev("etc-generated-dir"), pos, p, "",
						"directory %s holds %s, which NixOS creates (environment.etc): the persistent copy hides it", q(p), q(f))
					break
				}
			}
		}
	}
	if userFiles[p] {
		s, why, hint := Warning, "users.mutableUsers is not false", ""
		if ck.cfg == nil {
			why = "an error where users.mutableUsers = false"
		} else if ck.cfg.MutableUsers.Value == persist.False {
			s, why = Error, "users.mutableUsers = false: NixOS generates it at every activation"
			hint = "remove the entry: with users.mutableUsers = false NixOS writes it from the configuration at every activation"
		}
		ck.add("etc-user-files", s, pos, p, hint,
			"%s %s is written by NixOS user management before the persistence services run (\"A file already exists\"); %s", kindName(e), q(p), why)
	}
	if name := unitName(e); len(name) > 255 {
		ck.add("unit-name", sev("unit-name"), pos, p, "",
			"%s: its escaped unit name is %d bytes, longer than systemd's 255", subject(e), len(name))
	} else if e.Method == "bindfs" && !strings.Contains(e.Path, "${") && strings.ContainsFunc(e.Path, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(":_./-", r))
	}) {
		ck.add("unit-name", sev("unit-name"), pos, p, "",
			"%s: home-manager v1 names its bindMount service after the path without escaping it, and systemd refuses the name", subject(e))
	}
	if rel, ok := homeRel(e); ok {
		c := strings.Split(rel, "/")
		if len(c) >= 6 && strings.HasPrefix(c[0], ".") {
			top := c[0]
			if (top == ".config" || top == ".cache") && len(c) > 1 {
				top += "/" + c[1]
			} else if top == ".local" && len(c) > 2 {
				top += "/" + c[1] + "/" + c[2]
			}
			ck.add("deep-app-path", sev("deep-app-path"), pos, p, "persist the directory "+top+" instead",
				"%s %s is a very deep leaf (%d levels) under an application's directory; consider persisting %s", kindName(e), q(p), len(c), top)
		}
	}
	if e.Kind == persist.Dir {
		base := p[strings.LastIndexByte(p, '/')+1:]
		if (base == ".ssh" || base == ".gnupg") && openToOthers(e.Mode) {
			ck.add("secret-dir-mode", sev("secret-dir-mode"), pos, p, "",
				"directory %s holds secrets but is created with mode %s: other users can read it", q(p), e.Mode)
		}
	}
	if pathx.HasPrefix(p, "/var/lib/private") {
		ok := false
		for _, d := range ck.primary {
			if d.Kind == persist.Dir && d.Path == "/var/lib/private" && !openToOthers(d.Mode) {
				ok = true
			}
		}
		if !ok && (p != "/var/lib/private" || openToOthers(e.Mode)) {
			ck.add("private-parent-mode", sev("private-parent-mode"), pos, p, "",
				"%s %s: /var/lib/private is created 0755, and systemd refuses DynamicUser state directories under a /var/lib/private that is not 0700", kindName(e), q(p))
		}
	}
}

// homeRel returns the entry's path relative to its home.
func homeRel(e persist.Entry) (string, bool) {
	if e.Home == "" || e.Home == "/" || !pathx.HasPrefix(e.Path, e.Home) || e.Path == e.Home {
		return "", false
	}
	return e.Path[len(e.Home)+1:], true
}

// openToOthers reports whether a mode gives group or others any
// permission: octal, or symbolic applied as mkdir --mode does (from a=rwx).
// A mode that cannot be read is not judged (invalid-mode reports it).
func openToOthers(mode string) bool {
	if n, err := strconv.ParseUint(mode, 8, 32); err == nil {
		return n&0o077 != 0
	}
	n, ok := applySymbolic(mode, 0o777)
	return ok && n&0o077 != 0
}

// applySymbolic applies a chmod(1) symbolic mode ("u=rwx,g=,o=",
// "go-rwx") to base; ok is false when mode is not symbolic. Special bits
// (s, t) and X are ignored: only the rwx bits matter here.
func applySymbolic(mode string, base uint32) (uint32, bool) {
	if !symbolicMode.MatchString(mode) {
		return 0, false
	}
	m := base
	for _, clause := range strings.Split(mode, ",") {
		i := 0
		var who uint32
		for ; i < len(clause) && strings.IndexByte("ugoa", clause[i]) >= 0; i++ {
			who |= map[byte]uint32{'u': 0o700, 'g': 0o070, 'o': 0o007, 'a': 0o777}[clause[i]]
		}
		if who == 0 {
			who = 0o777
		}
		for i < len(clause) {
			op := clause[i]
			i++
			var perm uint32
			for ; i < len(clause) && strings.IndexByte("+-=", clause[i]) < 0; i++ {
				switch clause[i] {
				case 'r':
					perm |= 0o444
				case 'w':
					perm |= 0o222
				case 'x':
					perm |= 0o111
				case 'u':
					perm |= (m >> 6 & 7) * 0o111
				case 'g':
					perm |= (m >> 3 & 7) * 0o111
				case 'o':
					perm |= (m & 7) * 0o111
				}
			}
			switch op {
			case '+':
				m |= perm & who
			case '-':
				m &^= perm & who
			case '=':
				m = m&^who | perm&who
			}
		}
	}
	return m, true
}

func (ck *checker) inStorage(p string) string {
	for _, s := range ck.storage {
		if s.Path != "/" && pathx.HasPrefix(p, s.Path) {
			return s.Path
		}
	}
	return ""
}

func (ck *checker) mountOf(p string) (persist.Mount, bool) {
	best := -1
	for i, m := range ck.mounts {
		if pathx.HasPrefix(p, m.Point) && (best < 0 || len(m.Point) > len(ck.mounts[best].Point)) {
			best = i
		}
	}
	if best < 0 {
		return persist.Mount{}, false
	}
	return ck.mounts[best], true
}

// unitName is the systemd unit impermanence or preservation makes for e:
// the bind mount of a directory (escaped target + ".mount"), impermanence's
// persist-<escaped source>.service for a file; "" for symlinks.
func unitName(e persist.Entry) string {
	switch {
	case e.Method == "symlink" || e.Method == "bindfs":
		return ""
	case e.Kind == persist.Dir:
		return escapePath(e.Path) + ".mount"
	case e.Module == "impermanence" || e.Module == "home-manager":
		return "persist-" + escapePath(e.Source()) + ".service"
	}
	return escapePath(e.Path) + ".mount"
}

// escapePath is systemd-escape --path (systemd.unit(5), "String Escaping
// for Inclusion in Unit Names").
func escapePath(p string) string {
	p = strings.Trim(p, "/")
	if p == "" {
		return "-"
	}
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '/':
			b.WriteByte('-')
		case c == '.' && i == 0:
			b.WriteString(`\x2e`)
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == ':' || c == '_' || c == '.':
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, `\x%02x`, c)
		}
	}
	return b.String()
}

// duplicates reports entries declared more than once, and paths declared
// both as a file and as a directory.
func (ck *checker) duplicates() {
	type key struct {
		kind persist.Kind
		path string
	}
	// Indexes into primary then dups, not copies: a million entries are
	// held once, not three times.
	n := len(ck.primary)
	at := func(i int) *persist.Entry {
		if i < n {
			return &ck.primary[i]
		}
		return &ck.dups[i-n]
	}
	first := make(map[key]int)
	byPath := make(map[string]int)
	for i := range n + len(ck.dups) {
		ck.tick(4096)
		e := at(i)
		k := key{e.Kind, e.Path}
		if j, ok := first[k]; ok {
			f := at(j)
			where := ""
			if f.StoragePath != e.StoragePath {
				where = fmt.Sprintf(" (storage paths %s and %s)", q(f.StoragePath), q(e.StoragePath))
			}
			ck.add("duplicate", sev("duplicate"), e.Pos, e.Path, "",
				"%s is declared twice%s; first at %s", subject(*e), where, f.Pos)
			continue
		}
		first[k] = i
		if j, ok := byPath[e.Path]; ok && at(j).Kind != e.Kind {
			o := at(j)
			ck.add("file-and-directory", sev("file-and-directory"), e.Pos, e.Path, "",
				"%s is declared as a %s here and as a %s at %s", q(e.Path), kindName(*e), kindName(*o), o.Pos)
			continue
		}
		byPath[e.Path] = i
	}
}

// overlap reports entries inside a persisted directory.
func (ck *checker) overlap() {
	dirs := make(map[string]persist.Entry)
	for _, e := range ck.primary {
		if e.Kind == persist.Dir {
			if _, ok := dirs[e.Path]; !ok {
				dirs[e.Path] = e
			}
		}
	}
	for _, e := range ck.primary {
		ck.tick(4096)
		// /var/lib/../baz is /baz (path-dot reports how it is written).
		for p := parent(path.Clean(e.Path)); p != ""; p = parent(p) {
			d, ok := dirs[p]
			if !ok {
				continue
			}
			if e.Kind == persist.Dir && d.Path == "/var/lib/private" && !openToOthers(d.Mode) {
				// The private-parent-mode fix: /var/lib/private declared
				// 0700 so that systemd accepts the DynamicUser state
				// directories declared below it (impermanence's README).
				break
			}
			if e.Kind == persist.Dir {
				ck.add("nested-directory", sev("nested-directory"), e.Pos, e.Path, "",
					"directory %s lies inside the persisted directory %s (%s): two bind mounts on one tree", q(e.Path), q(d.Path), d.Pos)
			} else {
				ck.add("file-in-directory", sev("file-in-directory"), e.Pos, e.Path, "",
					"file %s lies inside the persisted directory %s (%s): the directory's mount can hide it", q(e.Path), q(d.Path), d.Pos)
			}
			break
		}
	}
}

// parent returns the parent of a clean absolute path, "" for "/".
func parent(p string) string {
	if p == "/" || p == "" {
		return ""
	}
	i := strings.LastIndexByte(p, '/')
	if i <= 0 {
		return "/"
	}
	return p[:i]
}

// removedStorageOptions are impermanence's removed per-path options.
var removedStorageOptions = map[string]string{
	"allowOther":             "real bind mounts replaced bindfs",
	"removePrefixDirectory":  "prefix directories were removed (home-manager v1)",
	"defaultDirectoryMethod": "real bind mounts replaced bindfs",
}

// storageKeys are the attributes a storage path or a users.<name> set may
// have, by module and level ("" storage path, "user").
var storageKeys = map[string][]string{
	"impermanence":      {"enable", "persistentStoragePath", "hideMounts", "allowTrash", "enableDebugging", "enableWarnings", "directories", "files", "users", "assertions", "allowOther", "removePrefixDirectory", "defaultDirectoryMethod"},
	"impermanence/user": {"directories", "files", "home", "assertions"},
	"home-manager":      {"enable", "persistentStoragePath", "hideMounts", "allowTrash", "enableDebugging", "enableWarnings", "directories", "files", "assertions", "allowOther", "removePrefixDirectory", "defaultDirectoryMethod"},
	"preservation":      {"persistentStoragePath", "directories", "files", "users", "commonMountOptions"},
	"preservation/user": {"username", "home", "directories", "files", "commonMountOptions", "homeMode", "homeGroup"},
}

// entryKeys are the attributes an entry may have, by module and kind.
var entryKeys = map[string][]string{
	"impermanence/directory": {"directory", "user", "group", "mode", "hideMount", "allowTrash", "persistentStoragePath", "method", "enableDebugging", "defaultPerms", "home", "dirPath"},
	"impermanence/file":      {"file", "parentDirectory", "method", "persistentStoragePath", "enableDebugging", "home", "filePath"},
	"impermanence/parent":    {"user", "group", "mode", "hideMount", "allowTrash", "persistentStoragePath", "directory", "dirPath", "defaultPerms", "home", "enableDebugging"},
	"preservation/directory": {"directory", "how", "user", "group", "mode", "configureParent", "parent", "mountOptions", "createLinkTarget", "inInitrd"},
	"preservation/file":      {"file", "how", "user", "group", "mode", "configureParent", "parent", "mountOptions", "createLinkTarget", "inInitrd"},
	"preservation/parent":    {"user", "group", "mode"},
}

// hiddenKeys are names entryKeys and storageKeys accept (the module sets
// them internally, or they are removed and reported by removed-option) but
// a "known:" hint does not suggest.
var hiddenKeys = map[string]bool{"dirPath": true, "filePath": true, "home": true, "defaultPerms": true,
	"enableDebugging": true, "assertions": true, "allowOther": true, "removePrefixDirectory": true, "defaultDirectoryMethod": true}

// visibleKeys are the names of known a user may write and a hint
// suggests (directory entries' method is removed).
func visibleKeys(known []string, dir bool) []string {
	var l []string
	for _, k := range known {
		if !hiddenKeys[k] && !(dir && k == "method") {
			l = append(l, k)
		}
	}
	return l
}

// attrs checks an entry's attributes: unknown names, modes, removed
// options.
func (ck *checker) attrs(e persist.Entry) {
	mod := e.Module
	if mod == "home-manager" {
		mod = "impermanence"
	}
	kind := "directory"
	if e.Kind == persist.File {
		kind = "file"
	}
	for _, a := range e.Attrs {
		name, parentKey := a.Name, ""
		if i := strings.IndexByte(name, '.'); i >= 0 {
			parentKey, name = name[:i], name[i+1:]
		}
		if a.Removed {
			ck.add("removed-option", sev("removed-option"), a.Pos, e.Path, "",
				"%s sets `%s`, which current impermanence removed (evaluation fails)", subject(e), a.Name)
			continue
		}
		if name == "mode" && a.IsString {
			if msg := checkMode(a.Value, e.Module == "preservation"); msg != "" {
				ck.add("invalid-mode", sev("invalid-mode"), a.ValuePos, e.Path, "", "%s: mode %s %s", subject(e), qq(a.Value), msg)
			}
		}
		if parentKey == "" && name == "method" && e.Kind == persist.Dir && e.Module != "preservation" {
			ck.add("removed-option", sev("removed-option"), a.Pos, e.Path, "",
				"directory %s sets `method`, which current impermanence removed (real bind mounts replaced bindfs; evaluation fails)", q(e.Path))
			continue
		}
		if e.Evaluated {
			continue
		}
		set := mod + "/" + kind
		if parentKey != "" {
			if !slices.Contains(entryKeys[set], parentKey) {
				continue // the unknown parentKey itself is reported, once
			}
			set = mod + "/parent"
		}
		known := entryKeys[set]
		if known == nil || slices.Contains(known, name) {
			continue
		}
		what := "`" + a.Name + "`"
		visible := visibleKeys(known, e.Kind == persist.Dir || parentKey != "")
		hint := "fix the attribute's name; known: " + strings.Join(visible, ", ")
		if s := closest(name, visible); s != "" {
			full := s
			if parentKey != "" {
				full = parentKey + "." + s
			}
			hint = "did you mean `" + full + "`?"
		}
		ck.add("unknown-attribute", sev("unknown-attribute"), a.Pos, e.Path, hint,
			"%s has the attribute %s, which the %s module does not know", subject(e), what, e.Module)
	}
}

// closest returns the known name within edit distance 2 of s, "" if none.
func closest(s string, known []string) string {
	best, bd := "", 3
	for _, k := range known {
		if d := editDistance(s, k); d < bd {
			best, bd = k, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 99
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := 1
			if a[i-1] == b[j-1] {
				c = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+c)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// malformed reports an entry without its directory/file attribute: as an
// unknown attribute when one of its attributes is a likely typo of it,
// else as a declaration error.
func (ck *checker) malformed(e persist.Entry) {
	key := "directory"
	if e.Kind == persist.File {
		key = "file"
	}
	n := len(ck.out)
	ck.attrs(e)
	for _, f := range ck.out[n:] {
		if f.Rule == "unknown-attribute" && strings.Contains(f.Hint, "`"+key+"`") {
			return
		}
	}
	ck.add("declaration", Error, e.Pos, "", "", "%s entry without a `%s` attribute (the module rejects it)", kindName(e), key)
}

// optionRules checks storage-path and users.<name> options.
func (ck *checker) optionRules() {
	for _, o := range ck.options {
		switch {
		case o.Removed:
			ck.add("removed-option", sev("removed-option"), o.Pos, "", "",
				"%s sets `%s`, which current impermanence removed (evaluation fails)", o.Where, o.Name)
			continue
		case o.Evaluated:
			continue // the module accepted it; a removed one comes as o.Removed
		case o.Module != "preservation" && removedStorageOptions[o.Name] != "" && o.Owner == "" || o.Module == "home-manager" && removedStorageOptions[o.Name] != "":
			ck.add("removed-option", sev("removed-option"), o.Pos, "", "",
				"%s.%s: current impermanence removed this option (%s; evaluation fails)", o.Where, o.Name, removedStorageOptions[o.Name])
			continue
		case o.Module == "impermanence" && o.Owner != "" && o.Name == "home":
			ck.add("removed-option", sev("removed-option"), o.Pos, "", "remove it; the home comes from users.users.<name>.home",
				"%s.home: current impermanence removed this option (the home is users.users.%s.home; evaluation fails)", o.Where, o.Owner)
			continue
		}
		level := o.Module
		if o.Owner != "" && o.Module != "home-manager" {
			level += "/user"
		}
		known := storageKeys[level]
		if known == nil || slices.Contains(known, o.Name) {
			continue
		}
		visible := visibleKeys(known, false)
		hint := "fix the attribute's name; known: " + strings.Join(visible, ", ")
		if s := closest(o.Name, visible); s != "" {
			hint = "did you mean `" + s + "`?"
		}
		ck.add("unknown-attribute", sev("unknown-attribute"), o.Pos, "", hint,
			"%s has the attribute `%s`, which the %s module does not know (what it holds is not persisted)", o.Where, o.Name, o.Module)
	}
	for _, s := range ck.storage {
		if s.Module == "home-manager" && s.HMv1 {
			ck.add("removed-option", sev("removed-option"), s.Pos, "", "use the NixOS module's home-manager integration: home.persistence.\"/persist\" with entries relative to the home",
				"home.persistence storage path for %s is the home-manager v1 API (home inside persistentStoragePath, bindfs): current impermanence removed it and asserts against it", s.Owner)
		}
	}
}

// wellKnownGroups have fixed gids in NixOS (nixos/modules/misc/ids.nix).
var wellKnownGroups = map[string]bool{
	"root": true, "wheel": true, "kmem": true, "tty": true, "messagebus": true, "disk": true,
	"audio": true, "floppy": true, "uucp": true, "lp": true, "cdrom": true, "tape": true,
	"video": true, "dialout": true, "utmp": true, "adm": true, "users": true, "nogroup": true,
	"keys": true, "kvm": true, "render": true, "input": true, "shadow": true, "sgx": true,
}

// covered reports whether p survives the wipe: declared (a file, or below
// a persisted directory) or on a persistent mount.
func (ck *checker) covered(p string) bool {
	if _, ok := ck.entryCovering(p); ok {
		return true
	}
	_, ok := ck.mountOf(p)
	return ok
}

// entryCovering returns the entry that persists p.
func (ck *checker) entryCovering(p string) (persist.Entry, bool) {
	for _, e := range ck.primary {
		if e.Path == p || e.Kind == persist.Dir && pathx.HasPrefix(p, e.Path) {
			return e, true
		}
	}
	return persist.Entry{}, false
}

// missing reports state almost every impermanent system needs and the
// configuration does not persist. It runs only for a configuration with a
// system-wide storage path (not one made only of home-manager files).
func (ck *checker) missing() {
	if ck.c.Shared {
		return
	}
	var at persist.Pos
	found := false
	for _, s := range ck.storage {
		if s.Module != "home-manager" {
			at, found = s.Pos, true
			break
		}
	}
	if !found {
		return
	}
	// Part of the declarations could not be read (a `with` variable, an
	// import): what seems missing may be there. The findings stay, as
	// infos saying why.
	var unread *persist.Diagnostic
	for _, st := range ck.c.Sets {
		if st == nil {
			continue
		}
		for i := range st.Diagnostics {
			if st.Diagnostics[i].Code == "not-static" {
				unread = &st.Diagnostics[i]
				break
			}
		}
		if unread != nil {
			break
		}
	}
	add := func(rule string, sev Severity, pos persist.Pos, path, hint, format string, a ...any) {
		if unread != nil {
			sev = Info
			format += " (perhaps declared in what could not be read statically at %s)"
			a = append(a, unread.Pos)
		}
		ck.add(rule, sev, pos, path, hint, format, a...)
	}
	if !ck.covered("/var/lib/nixos") {
		var names []string
		nu, ng := 0, 0
		if ck.cfg != nil {
			seen := map[string]bool{}
			declared := map[string]bool{}
			for _, u := range ck.cfg.Users {
				if !u.HasUID && u.Name != "root" && u.Name != "nobody" { // fixed in ids.nix
					nu++
					seen[u.Name] = true
				}
			}
			for _, g := range ck.cfg.Groups {
				declared[g.Name] = true
				if !g.HasGID && !wellKnownGroups[g.Name] {
					ng++
					seen[g.Name] = true
				}
			}
			for _, u := range ck.cfg.Users {
				if u.Group != "" && !declared[u.Group] && !wellKnownGroups[u.Group] {
					declared[u.Group] = true
					ng++
					seen[u.Group] = true
				}
			}
			for n := range seen {
				names = append(names, n)
			}
			sort.Strings(names)
		}
		if nu+ng > 0 {
			add("missing-var-lib-nixos", Error, at, "/var/lib/nixos", "",
				"/var/lib/nixos (or an ancestor) is not persisted and %s / %s have no fixed id (%s): their uids/gids are reassigned at boot",
				units.Plural(int64(nu), "user", "users"), units.Plural(int64(ng), "group", "groups"), strings.Join(names, ", "))
		} else {
			add("missing-var-lib-nixos", sev("missing-var-lib-nixos"), at, "/var/lib/nixos", "",
				"/var/lib/nixos (or an ancestor) is not persisted: users and groups without a fixed uid/gid get new ids when services change")
		}
	}
	for _, m := range []struct{ rule, path, msg string }{
		{"missing-machine-id", "/etc/machine-id", "/etc/machine-id is not persisted: a new machine id at every boot breaks the journal of earlier boots"},
		{"missing-systemd-timers", "/var/lib/systemd/timers", "/var/lib/systemd/timers is not persisted: Persistent= timers forget when they last ran"},
		{"missing-var-log", "/var/log", "/var/log is not persisted and is not a mount: the logs of every earlier boot are lost"},
	} {
		if !ck.covered(m.path) {
			add(m.rule, sev(m.rule), at, m.path, "", "%s", m.msg)
		}
	}
	if ck.cfg == nil {
		return
	}
	if ck.cfg.OpenSSH.Value == persist.True {
		keys := []string{"/etc/ssh/ssh_host_ed25519_key", "/etc/ssh/ssh_host_rsa_key"}
		if len(ck.cfg.HostKeyPaths) > 0 {
			keys = nil
			for _, k := range ck.cfg.HostKeyPaths {
				keys = append(keys, k.Value)
			}
		}
		var lost []string
		for _, k := range keys {
			if !ck.covered(k) && ck.inStorage(k) == "" {
				lost = append(lost, q(k))
			}
		}
		if len(lost) > 0 {
			add("missing-ssh-host-keys", sev("missing-ssh-host-keys"), ck.cfg.OpenSSH.Pos, "", "",
				"services.openssh.enable = true but the host keys are not persisted (%s): new keys at every boot", strings.Join(lost, ", "))
		}
	}
	if ck.cfg.MutableUsers.Value != persist.False && !ck.covered("/etc/shadow") {
		pos, how := at, "is not set (default true)"
		if ck.cfg.MutableUsers.Value != persist.Unset {
			pos, how = ck.cfg.MutableUsers.Pos, "is not false"
		}
		add("mutable-users", sev("mutable-users"), pos, "", "",
			"users.mutableUsers %s while /etc/shadow is not persisted: a password changed with passwd silently reverts at boot", how)
	}
}

// earlyReaders reports options read before the persistence mounts exist
// that point at a persisted path: a secret or password file read in the
// initrd or early boot is not there yet, only its persistent copy is.
func (ck *checker) earlyReaders() {
	if ck.cfg == nil {
		return
	}
	src := func(e persist.Entry, p string) string {
		if e.Path == p {
			return e.Source()
		}
		return e.Source() + p[len(e.Path):]
	}
	for _, u := range ck.cfg.Users {
		p := u.HashedPasswordFile.Value
		if p == "" {
			continue
		}
		if e, ok := ck.entryCovering(p); ok {
			ck.add("early-reader", sev("early-reader"), u.HashedPasswordFile.Pos, p, "use "+src(e, p)+" (or make the path needed for boot)",
				"users.users.%s.hashedPasswordFile %s is a persisted path, linked in only after user setup reads it", u.Name, q(p))
		}
	}
	if !ck.cfg.SecretsForUsers {
		return
	}
	for i, k := range ck.cfg.SSHKeyPaths {
		if e, ok := ck.entryCovering(k.Value); ok {
			ck.add("early-reader", sev("early-reader"), k.Pos, k.Value, "use "+src(e, k.Value)+" (or set services.openssh.hostKeys paths to the persistent location)",
				"sops.age.sshKeyPaths[%d] %s is used by secrets-for-users, which runs before the persistence mounts", i, q(k.Value))
		}
	}
}
