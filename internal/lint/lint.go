package lint

import (
	"bytes"
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
}

// Check runs the selected rules (nil: the defaults) on c and returns the
// findings not suppressed by a comment, sorted by file, line, column and
// rule.
//
// Suppression: a comment `# drift-lint: disable=RULE[,RULE…]` (or
// disable=all) on the line just before a finding's line, or at the end of
// that line, drops the findings of those rules there.
func Check(c Config, sel *Selection) []Finding {
	ck := newChecker(c)
	ck.run()
	var out []Finding
	for _, f := range ck.out {
		if !sel.On(f.Rule) || suppressed(c.Sources, f) {
			continue
		}
		out = append(out, f)
	}
	Sort(out)
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

// suppressRe matches a suppression comment; group 1 is the rule list.
var suppressRe = regexp.MustCompile(`#\s*drift-lint:\s*disable=([A-Za-z0-9_,-]+)`)

func suppressed(srcs map[string][]byte, f Finding) bool {
	data, ok := srcs[f.Pos.File]
	if !ok || f.Pos.Line == 0 {
		return false
	}
	for _, n := range []int{f.Pos.Line - 1, f.Pos.Line} {
		line := lineOf(data, n)
		if n == f.Pos.Line-1 && !strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue // the line before must be a comment line
		}
		for _, m := range suppressRe.FindAllStringSubmatch(line, -1) {
			for _, id := range strings.Split(m[1], ",") {
				if id == f.Rule || id == "all" {
					return true
				}
			}
		}
	}
	return false
}

// lineOf returns line n (1-based) of data, "" when there is none.
func lineOf(data []byte, n int) string {
	if n < 1 {
		return ""
	}
	for i := 1; i < n; i++ {
		j := bytes.IndexByte(data, '\n')
		if j < 0 {
			return ""
		}
		data = data[j+1:]
	}
	if j := bytes.IndexByte(data, '\n'); j >= 0 {
		data = data[:j]
	}
	return string(data)
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
