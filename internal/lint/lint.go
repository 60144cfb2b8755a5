package lint

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/nix-drift/drift/internal/persist"
)

// Finding is one problem, at the position of the entry or attribute it is
// about (Line 0 for nix eval output of --flake, which has no positions).
type Finding struct {
	Rule     string
	Severity Severity
	Pos      persist.Pos
	// Path is the live path the finding is about, "" when none.
	Path    string
	Message string
	Hint    string
}

// Config is one configuration to lint: the declarations of one host, read
// from one or more files.
type Config struct {
	Sets []*persist.Set
	// Layout holds the mount points of the disk layout (--layout); a path
	// on a mount that is neither / nor tmpfs is already persistent.
	Layout []persist.Mount
	// Sources are the files' contents by name (persist.Pos.File), for the
	// suppression comments; a file not here has none.
	Sources map[string][]byte
	// Quiet names files in which "no persistence declarations found" is
	// not reported (files found by walking a directory).
	Quiet map[string]bool
	// ReadErrors are the errors of inputs of this configuration that could
	// not be read; each syntax error (persist.SyntaxErrorAt) becomes a
	// `syntax` finding at its position, so every output format shows it.
	ReadErrors []error
	// Shared marks files that are not a host (a modules/ directory shared
	// by hosts): the missing-state rules do not run for them.
	Shared bool
	// Nixpkgs, when not nil, is the nixpkgs a flake.lock beside the files
	// pins: it says which defaults apply where the files set nothing
	// (boot.initrd.systemd.enable, for the wipe rules).
	Nixpkgs *persist.Pin
	// MaxPerRule, when above 0, caps the findings of one rule
	// (DefaultMaxPerRule for drift lint); 0 reports every finding.
	MaxPerRule int
}

// Check runs the selected rules (nil: the defaults) on c and returns the
// findings not suppressed by a comment, sorted by file, line, column and
// rule. With c.MaxPerRule set, at most that many findings of one rule are
// returned; past it, one more finding of the rule (at the first left out,
// with the highest severity of those left out) says how many were left out.
//
// Suppression: a comment `# drift-lint: disable=RULE[,RULE…]` or
// `/* drift-lint: disable=RULE */` (or disable=all) on the line just before
// a finding's line, or anywhere on that line, drops the findings of those
// rules there.
func Check(c Config, sel *Selection) []Finding {
	fs, _ := CheckContext(context.Background(), c, sel)
	return fs
}

// CheckContext is Check that stops between rules (and every few thousand
// entries inside one) when ctx is done, returning ctx.Err() and no
// findings.
func CheckContext(ctx context.Context, c Config, sel *Selection) ([]Finding, error) {
	ck := newChecker(c)
	ck.ctx = ctx
	sup := newSuppressor(c.Sources)
	ck.sel, ck.sup = sel, sup
	if err := ck.runSafe(); err != nil {
		return nil, err
	}
	ck.summarise()
	ck.out = append(ck.out, unknownSuppressions(c.Sources)...)
	out := make([]Finding, 0, len(ck.out)) // one slice, not one per growth
	for i, f := range ck.out {
		if i%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		if !sel.On(f.Rule) || sup.suppressed(f) {
			continue
		}
		out = append(out, f)
	}
	if len(out) == 0 {
		return nil, nil
	}
	Sort(out)
	return out, nil
}

// CheckAll runs CheckContext on each configuration and returns all their
// findings sorted (Sort), each once: a shared module's findings are found in
// every configuration that imports it.
func CheckAll(ctx context.Context, cs []*Config, sel *Selection) ([]Finding, error) {
	var all []Finding
	for _, c := range cs {
		fs, err := CheckContext(ctx, *c, sel)
		if err != nil {
			return nil, err
		}
		all = append(all, fs...)
	}
	Sort(all)
	return unique(all), nil
}

// unique drops the repeats of a finding, keeping the first. Equal findings
// need not be adjacent after Sort: one with the same position, rule and
// message but another hint or path may sort between them.
func unique(fs []Finding) []Finding {
	seen := make(map[Finding]bool, len(fs))
	out := fs[:0]
	for _, f := range fs {
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	return out
}

// Sort orders findings by file, line, column, rule and message.
func Sort(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		switch {
		case a.Pos.File != b.Pos.File:
			return a.Pos.File < b.Pos.File
		case a.Pos.Line != b.Pos.Line:
			return a.Pos.Line < b.Pos.Line
		case a.Pos.Col != b.Pos.Col:
			return a.Pos.Col < b.Pos.Col
		case a.Rule != b.Rule:
			return a.Rule < b.Rule
		}
		return a.Message < b.Message
	})
}

// suppressRe matches a suppression comment (# or /* */); group 1 is the
// rule list.
var suppressRe = regexp.MustCompile(`(?:#|/\*)\s*drift-lint:\s*disable=([A-Za-z0-9_,-]+)`)

// moduleRe is the marker of a file that is a module of a configuration,
// not a configuration itself: a comment line `# drift-lint: module`.
var moduleRe = regexp.MustCompile(`(?m)^[ \t]*#[ \t]*drift-lint:[ \t]*module[ \t]*(?:\(|$)`)

// OnlyModules reports whether every file of srcs (contents by name) is
// marked as a module by a line `# drift-lint: module` in its first 4 KiB,
// its leading comment (drift suggest --format nix writes it there; only
// that much is read, so a file of millions of lines costs nothing here):
// such files alone are part of a configuration,
// not a host, and are linted without the missing-state rules (Config.Shared),
// as a shared modules/ directory is. Linted together with a file that is
// not marked (the host's configuration.nix), they are a host again.
func OnlyModules(srcs map[string][]byte) bool {
	for _, data := range srcs {
		if !markedModule(data) {
			return false
		}
	}
	return true
}

// markedModule reports whether data, a file's contents, marks it as a
// module (`# drift-lint: module` in its first 4 KiB: OnlyModules).
func markedModule(data []byte) bool {
	head := data[:min(len(data), 4096)]
	return bytes.Contains(head, []byte("drift-lint")) && moduleRe.Match(head) // most files: no regexp run
}

// suppressor answers suppressed for the findings of one Check. Each
// source is read once, on its first finding, for the lines that hold
// "drift-lint:" (usually none); only those lines' comments are kept, so a
// million findings cost no memory here and a line is parsed once.
type suppressor struct {
	srcs  map[string][]byte
	files map[string]*fileSuppressions
}

// fileSuppressions are the rules each line's suppression comments
// disable: for a finding on the line (own), and for a finding on the next
// line (before: only when the line is a comment line).
type fileSuppressions struct {
	own, before map[int][]string
}

func newSuppressor(srcs map[string][]byte) *suppressor {
	return &suppressor{srcs: srcs, files: map[string]*fileSuppressions{}}
}

func (s *suppressor) suppressed(f Finding) bool {
	data, ok := s.srcs[f.Pos.File]
	if !ok || f.Pos.Line == 0 {
		return false
	}
	fs, ok := s.files[f.Pos.File]
	if !ok {
		fs = readSuppressions(data)
		s.files[f.Pos.File] = fs
	}
	for _, ids := range [][]string{fs.before[f.Pos.Line-1], fs.own[f.Pos.Line]} {
		for _, id := range ids {
			if id == f.Rule || id == "all" {
				return true
			}
		}
	}
	return false
}

// readSuppressions finds the lines of data that hold "drift-lint:" and the
// rules their suppression comments disable.
func readSuppressions(data []byte) *fileSuppressions {
	fs := &fileSuppressions{own: map[int][]string{}, before: map[int][]string{}}
	marker := []byte("drift-lint:")
	line, from := 1, 0 // line is the number of the line starting at from
	for off := 0; ; {
		i := bytes.Index(data[off:], marker)
		if i < 0 {
			return fs
		}
		i += off
		line += bytes.Count(data[from:i], []byte{'\n'})
		from = lineStart(data, i)
		end := bytes.IndexByte(data[i:], '\n')
		if end < 0 {
			end = len(data)
		} else {
			end += i
		}
		text := string(data[from:end])
		var ids []string
		for _, m := range suppressRe.FindAllStringSubmatch(text, -1) {
			ids = append(ids, strings.Split(m[1], ",")...)
		}
		fs.own[line] = ids
		if t := strings.TrimSpace(text); strings.HasPrefix(t, "#") || strings.HasPrefix(t, "/*") {
			fs.before[line] = ids
		}
		off = end
	}
}

// lineStart is the offset of the start of the line holding offset i.
func lineStart(data []byte, i int) int {
	return bytes.LastIndexByte(data[:i], '\n') + 1
}

// Count returns how many findings are at or above min.
func Count(fs []Finding, min Severity) int {
	n := 0
	for _, f := range fs {
		if f.Severity >= min {
			n++
		}
	}
	return n
}

// unknownSuppressions reports suppression comments naming a rule that does
// not exist (a typo would otherwise silently suppress nothing): a
// `declaration` warning at the name.
func unknownSuppressions(srcs map[string][]byte) []Finding {
	var out []Finding
	names := make([]string, 0, len(srcs))
	for n := range srcs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		data := srcs[name]
		if !bytes.Contains(data, []byte("drift-lint:")) {
			continue
		}
		for i, line := range strings.Split(string(data), "\n") {
			for _, m := range suppressRe.FindAllStringSubmatchIndex(line, -1) {
				col := m[2]
				for _, id := range strings.Split(line[m[2]:m[3]], ",") {
					if _, ok := LookupRule(id); !ok && id != "all" && id != "" {
						out = append(out, Finding{Rule: "declaration", Severity: Warning,
							Pos:     persist.Pos{File: name, Line: i + 1, Col: col + 1},
							Message: fmt.Sprintf("drift-lint: disable=%s names no rule: nothing is suppressed by it", id),
							Hint:    "drift lint --list-rules lists the rule ids"})
					}
					col += len(id) + 1
				}
			}
		}
	}
	return out
}
