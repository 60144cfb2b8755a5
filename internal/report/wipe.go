package report

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/nix-drift/drift/internal/btrfs"
	"github.com/nix-drift/drift/internal/escape"
	"github.com/nix-drift/drift/internal/jsonschema"
	"github.com/nix-drift/drift/internal/pathx"
	"github.com/nix-drift/drift/internal/units"
	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
)

// WipeFormats lists the values --format takes for drift wipe and drift
// roots.
var WipeFormats = []string{"table", "json"}

// newTable is a table configured as drift check's: headers as written,
// cells neither trimmed nor reformatted.
func newTable(w io.Writer) *tablewriter.Table {
	return tablewriter.NewTable(w,
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAutoWrap(tw.WrapNormal),
		tablewriter.WithTrimSpace(tw.Off),
	)
}

// WritePlan renders the plan of drift wipe in format ("table" or "json"):
// its steps (done, or planned when dryRun), then the old roots and what
// happens to each; a note per btrfs.Plan.Notes (why the root is not
// retired) under the count of steps. The JSON is {"version": 1, "dryRun",
// "options", "steps", "oldRoots", "warnings", "notes"}.
func WritePlan(w io.Writer, p *btrfs.Plan, format string, dryRun bool) error {
	switch format {
	case "json":
		escaped := func(in []string) []string { // as on the terminal
			out := make([]string, len(in))
			for i, s := range in {
				out[i] = escape.Name(s)
			}
			return out
		}
		return writeIndentedJSON(w, jsonPlan{jsonschema.ID("wipe"), 1, dryRun, p, jsonOldRoots(p.OldRoots), escaped(p.Warnings), escaped(p.Notes)})
	case "", "table":
	default:
		return fmt.Errorf("unknown format %q: expected one of %s", format, strings.Join(WipeFormats, ", "))
	}
	done := 0
	for _, s := range p.Steps {
		if s.Done {
			done++
		}
	}
	head := "done: " + units.Plural(int64(len(p.Steps)), "step", "steps")
	switch {
	case dryRun:
		head = "plan (dry run, nothing changed): " + units.Plural(int64(len(p.Steps)), "step", "steps")
	case done < len(p.Steps):
		// Stopped (a signal) or failed: say what was done, never "done".
		head = fmt.Sprintf("stopped: %d of %s done; run drift wipe again to complete the wipe", done, units.Plural(int64(len(p.Steps)), "step", "steps"))
	}
	if _, err := fmt.Fprintln(w, head); err != nil {
		return err
	}
	for _, n := range p.Notes {
		if _, err := fmt.Fprintf(w, "note: %s\n", escape.Name(n)); err != nil {
			return err
		}
	}
	if len(p.Steps) > 0 {
		if err := stepsTable(w, p.Steps, !dryRun && done < len(p.Steps)); err != nil {
			return err
		}
	}
	if _, err := fmt.Fprintln(w); err != nil {
		return err
	}
	if dryRun {
		return oldRootsTable(w, p.OldRoots, p.Options.Now, nil)
	}
	return oldRootsTable(w, p.OldRoots, p.Options.Now, p.Steps)
}

// stepsTable renders the steps, numbered; with status, a column saying
// which were done (a run that stopped or failed part way).
func stepsTable(w io.Writer, steps []btrfs.Step, status bool) error {
	t := newTable(w)
	if status {
		t.Header("#", "STEP", "DONE")
	} else {
		t.Header("#", "STEP")
	}
	for i, s := range steps {
		row := []string{fmt.Sprint(i + 1), escape.Name(s.String())}
		if status {
			row = append(row, map[bool]string{true: "yes", false: "no"}[s.Done])
		}
		if err := t.Append(row); err != nil {
			return err
		}
	}
	return t.Render()
}

// WriteRoots renders the old roots of drift roots in format ("table" or
// "json"), oldest first, with their age at now. The JSON is {"version": 1,
// "oldRoots"}.
func WriteRoots(w io.Writer, ds []btrfs.Decision, now time.Time, format string) error {
	switch format {
	case "json":
		return writeIndentedJSON(w, jsonRoots{jsonschema.ID("roots"), 1, jsonOldRoots(ds)})
	case "", "table":
		return oldRootsTable(w, ds, now, nil)
	}
	return fmt.Errorf("unknown format %q: expected one of %s", format, strings.Join(WipeFormats, ", "))
}

// jsonPlan is drift wipe --format json (docs/schema/wipe.json): the plan,
// its old roots, warnings and notes escaped as on the terminal.
type jsonPlan struct {
	Schema  string `json:"$schema"`
	Version int    `json:"version"`
	DryRun  bool   `json:"dryRun"`
	*btrfs.Plan
	OldRoots []jsonOldRoot `json:"oldRoots"`
	Warnings []string      `json:"warnings"`
	Notes    []string      `json:"notes"`
}

// jsonRoots is drift roots --format json (docs/schema/roots.json).
type jsonRoots struct {
	Schema   string        `json:"$schema"`
	Version  int           `json:"version"`
	OldRoots []jsonOldRoot `json:"oldRoots"`
}

// jsonOldRoot is an old root in JSON: btrfs.Decision's fields, with the
// name and path escaped as in drift check's JSON when they are not plain
// text (nameBase64/pathBase64 then hold the raw bytes), why escaped, and
// otime left out
// when unknown (a plain directory has no creation time).
type jsonOldRoot struct {
	btrfs.Decision
	Name       string          `json:"name"`
	NameBase64 string          `json:"nameBase64,omitempty"`
	Path       string          `json:"path"`
	PathBase64 string          `json:"pathBase64,omitempty"`
	OTime      *time.Time      `json:"otime,omitempty"`
	Why        string          `json:"why"`
	Nested     []jsonSubvolume `json:"nested,omitempty"`
	Mounted    []string        `json:"mounted,omitempty"`
}

// jsonSubvolume is a nested subvolume in JSON: btrfs.Subvolume's fields,
// its path escaped (raw bytes in pathBase64) when not plain text, otime
// left out when unknown.
type jsonSubvolume struct {
	btrfs.Subvolume
	Path       string     `json:"path"`
	PathBase64 string     `json:"pathBase64,omitempty"`
	OTime      *time.Time `json:"otime,omitempty"`
}

func jsonOldRoots(ds []btrfs.Decision) []jsonOldRoot {
	out := make([]jsonOldRoot, len(ds))
	for i, d := range ds {
		j := jsonOldRoot{Decision: d}
		j.Name, j.NameBase64 = jsonPath(d.Name)
		j.Path, j.PathBase64 = jsonPath(d.Path)
		j.Why = escape.Name(d.Why)
		for _, n := range d.Nested {
			js := jsonSubvolume{Subvolume: n}
			js.Path, js.PathBase64 = jsonPath(n.Path)
			if !n.OTime.IsZero() {
				t := n.OTime
				js.OTime = &t
			}
			j.Nested = append(j.Nested, js)
		}
		for _, m := range d.Mounted {
			j.Mounted = append(j.Mounted, escape.Name(m))
		}
		if !d.OTime.IsZero() {
			t := d.OTime
			j.OTime = &t
		}
		out[i] = j
	}
	return out
}

// writeIndentedJSON writes v as JSON indented by two spaces, and a
// newline: every JSON format of drift. No character that is not printable
// is written raw (escape.JSON).
func writeIndentedJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(escape.JSONWriter(w))
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// oldRootsTable is one row per old root (name, age in whole days, what the
// next wipe does and why), each followed by a row per nested subvolume.
func oldRootsTable(w io.Writer, ds []btrfs.Decision, now time.Time, applied []btrfs.Step) error {
	// After a real run (applied: its steps), the column is what this wipe
	// did: an old root whose deletion was done is "deleted", one whose
	// deletion was not reached "delete (not done)".
	deleted := map[string]bool{}
	for _, s := range applied {
		if s.Action == btrfs.ActDelete && s.Done {
			deleted[s.Path] = true
		}
	}
	t := newTable(w)
	if applied != nil {
		t.Header("OLD ROOT", "AGE", "THIS WIPE", "WHY")
	} else {
		t.Header("OLD ROOT", "AGE", "NEXT WIPE", "WHY")
	}
	for _, d := range ds {
		verdict := "keep"
		switch {
		case d.Delete && applied != nil && deleted[d.Path]:
			verdict = "deleted"
		case d.Delete && applied != nil:
			verdict = "delete (not done)"
		case d.Delete:
			verdict = "delete"
		case applied != nil:
			verdict = "kept"
		}
		age := "-"
		if !d.Age.IsZero() {
			age = fmt.Sprintf("%dd", int(now.Sub(d.Age)/(24*time.Hour)))
		}
		why := escape.Name(d.Why)
		if d.Previous {
			why += "; the previous boot's root (drift restore --from latest)"
		}
		if err := t.Append([]string{escape.Name(d.Name), age, verdict, why}); err != nil {
			return err
		}
		// Parents before children, as a tree reads (d.Nested is in the
		// order they are deleted: deepest first).
		for _, n := range slices.SortedFunc(slices.Values(d.Nested), func(a, b btrfs.Subvolume) int { return pathx.Compare(a.Path, b.Path) }) {
			if err := t.Append([]string{"└ " + escape.Name(strings.TrimPrefix(n.Path, d.Path+"/")), "", "", fmt.Sprintf("nested subvolume %d", n.ID)}); err != nil {
				return err
			}
		}
	}
	return t.Render()
}
