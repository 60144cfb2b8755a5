package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/escape"
	"github.com/nix-drift/drift/internal/jsonschema"
	"github.com/nix-drift/drift/internal/scan"
	"github.com/nix-drift/drift/internal/units"
)

// DiffFormats lists the values --format takes for drift diff.
var DiffFormats = []string{"table", "json", "paths"}

// DiffSchemaVersion is the "version" of drift diff's JSON; it changes only
// when a field is removed or changes meaning.
const DiffSchemaVersion = 1

// WriteComparison renders the result of drift diff in format: "table" (one
// row per difference, then a summary line), "json" (DiffSchemaVersion), or
// "paths" (one escaped path per line after its marker: "+ ", "- ", "M ",
// "T ", "! ").
func WriteComparison(w io.Writer, c *diff.Comparison, format string) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	var err error
	switch format {
	case "json":
		err = comparisonJSON(bw, c)
	case "paths":
		for _, d := range c.Diffs {
			if _, err = fmt.Fprintf(bw, "%s %s\n", d.Change.Marker(), escape.Line(d.Path)); err != nil {
				break
			}
		}
	default:
		err = comparisonTable(bw, c)
	}
	if err != nil {
		return err
	}
	return bw.Flush()
}

// modeType names the file type of e, side s of c, as Type does for check:
// "subvolume" for a nested btrfs subvolume (diff.Comparison.Subvolume).
func modeType(c *diff.Comparison, e *scan.Entry, s int) string {
	if e == nil {
		return ""
	}
	return Type(&diff.Item{Mode: e.Mode, Subvolume: c.Subvolume(e, s)})
}

// diffDetail says what differs on a row: "file -> symlink", "mode 0644 ->
// 0600", an error. It is raw text: the table escapes the whole cell once.
func diffDetail(c *diff.Comparison, d *diff.Difference) string {
	if d.Err != nil {
		return d.Err.Error()
	}
	var parts []string
	if d.What&diff.WhatType != 0 {
		parts = append(parts, modeType(c, d.A, 0)+" -> "+modeType(c, d.B, 1))
	}
	if d.What&diff.WhatContent != 0 {
		if d.A.Size != d.B.Size {
			parts = append(parts, fmt.Sprintf("content, size %s -> %s", units.Bytes(d.A.Size), units.Bytes(d.B.Size)))
		} else {
			parts = append(parts, "content")
		}
	}
	if d.What&diff.WhatMode != 0 {
		parts = append(parts, fmt.Sprintf("mode %04o -> %04o", d.A.Mode&0o7777, d.B.Mode&0o7777))
	}
	if d.What&diff.WhatOwner != 0 {
		parts = append(parts, fmt.Sprintf("owner %d:%d -> %d:%d", d.A.Uid, d.A.Gid, d.B.Uid, d.B.Gid))
	}
	if d.What&diff.WhatTarget != 0 {
		parts = append(parts, "target "+d.A.Target+" -> "+d.B.Target)
	}
	return strings.Join(parts, ", ")
}

func comparisonTable(w *bufio.Writer, c *diff.Comparison) error {
	if len(c.Diffs) > 0 {
		t := newTable(w)
		t.Header("", "PATH", "CHANGE", "TYPE", "DETAIL")
		for i := range c.Diffs {
			d := &c.Diffs[i]
			typ := modeType(c, d.B, 1)
			if d.B == nil {
				typ = modeType(c, d.A, 0)
			}
			if err := t.Append([]string{d.Change.Marker(), escape.Name(d.Path), d.Change.String(), typ, escape.Name(diffDetail(c, d))}); err != nil {
				return err
			}
		}
		if err := t.Render(); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintln(w, ComparisonSummary(c))
	return err
}

// ComparisonSummary is drift diff's one-line verdict.
func ComparisonSummary(c *diff.Comparison) string {
	n := &c.Counts
	if !c.Differ() {
		return fmt.Sprintf("same: %s compared, no difference", units.Plural(n[diff.Same], "path", "paths"))
	}
	return fmt.Sprintf("%d added, %d removed, %d changed, %d meta, %s; %d same",
		n[diff.Added], n[diff.Removed], n[diff.Changed], n[diff.Meta], units.Plural(n[diff.Failed], "error", "errors"), n[diff.Same])
}

type jsonSide struct {
	Type   string `json:"type"`
	Mode   string `json:"mode"`
	Uid    uint32 `json:"uid"`
	Gid    uint32 `json:"gid"`
	Size   int64  `json:"size"`
	Target string `json:"target,omitempty"`
}

type jsonDiff struct {
	Path    string    `json:"path"`
	PathB64 string    `json:"pathBase64,omitempty"`
	Change  string    `json:"change"`
	What    []string  `json:"what,omitempty"`
	A       *jsonSide `json:"a"`
	B       *jsonSide `json:"b"`
	Error   string    `json:"error,omitempty"`
}

func side(c *diff.Comparison, e *scan.Entry, n int) *jsonSide {
	if e == nil {
		return nil
	}
	s := &jsonSide{Type: modeType(c, e, n), Mode: fmt.Sprintf("%04o", e.Mode&0o7777), Uid: e.Uid, Gid: e.Gid, Size: e.Size}
	if e.Target != "" {
		s.Target, _ = jsonPath(e.Target)
	}
	return s
}

// jsonComparison is drift diff --format json (docs/schema/diff.json).
type jsonComparison struct {
	Schema  string           `json:"$schema"`
	Version int              `json:"version"`
	A       string           `json:"a"`
	B       string           `json:"b"`
	Summary map[string]int64 `json:"summary"`
	Changes []jsonDiff       `json:"changes"`
}

func comparisonJSON(w *bufio.Writer, c *diff.Comparison) error {
	var r jsonComparison
	r.Schema = jsonschema.ID("diff")
	r.Version = DiffSchemaVersion
	r.A, r.B = c.A, c.B
	r.Summary = map[string]int64{}
	for k, n := range c.Counts {
		r.Summary[diff.Change(k).String()] = n
	}
	r.Changes = make([]jsonDiff, 0, len(c.Diffs))
	for i := range c.Diffs {
		d := &c.Diffs[i]
		j := jsonDiff{Change: d.Change.String(), What: d.What.Names(), A: side(c, d.A, 0), B: side(c, d.B, 1)}
		j.Path, j.PathB64 = jsonPath(d.Path)
		if d.Err != nil {
			j.Error = escape.Text(d.Err.Error())
		}
		r.Changes = append(r.Changes, j)
	}
	return writeIndentedJSON(w, &r)
}
