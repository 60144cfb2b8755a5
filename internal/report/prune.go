package report

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/nix-drift/drift/internal/escape"
	"github.com/nix-drift/drift/internal/jsonschema"
	"github.com/nix-drift/drift/internal/prune"
	"github.com/nix-drift/drift/internal/units"
)

// The four documents drift prune --format json writes (docs/schema/prune-*.json),
// each with the schema version every drift JSON output has.

// pruneRunJSON is a run of drift prune (moved, or planned with --dry-run).
type pruneRunJSON struct {
	Schema  string          `json:"$schema"`
	Version int             `json:"version"`
	DryRun  bool            `json:"dryRun"`
	Batches []prune.Batch   `json:"batches"`
	Refused []prune.Refusal `json:"refused"`
}

// pruneListJSON is drift prune --list: the batches of the quarantine.
type pruneListJSON struct {
	Schema  string        `json:"$schema"`
	Version int           `json:"version"`
	Batches []prune.Batch `json:"batches"`
}

// pruneUndoJSON is drift prune --undo: what was put back.
type pruneUndoJSON struct {
	Schema  string         `json:"$schema"`
	Version int            `json:"version"`
	DryRun  bool           `json:"dryRun"`
	Undone  []prune.Undone `json:"undone"`
}

// pruneEmptyJSON is drift prune empty: the batches emptied by age.
type pruneEmptyJSON struct {
	Schema  string          `json:"$schema"`
	Version int             `json:"version"`
	DryRun  bool            `json:"dryRun"`
	Emptied []prune.Emptied `json:"emptied"`
}

// WritePruneResult renders what drift prune moved (or, dryRun, would
// move) and what it refused, in format "json" (docs/schema/prune-run.json)
// or "table"; each refusal is also a line on errw, and a run that refused
// every stray says only that (never "no stray data to move").
func WritePruneResult(w, errw io.Writer, r *prune.Result, format string, dryRun bool) error {
	for _, x := range r.Refused {
		fmt.Fprintf(errw, "drift: refused %s: %s\n", escape.Name(x.Path), escape.Name(x.Reason))
	}
	if format == "json" {
		if r.Batches == nil {
			r.Batches = []prune.Batch{}
		}
		if r.Refused == nil {
			r.Refused = []prune.Refusal{}
		}
		return writeMarshalledJSON(w, pruneRunJSON{jsonschema.ID("prune-run"), 1, dryRun, r.Batches, r.Refused})
	}
	if len(r.Batches) == 0 && len(r.Refused) == 0 {
		fmt.Fprintln(w, "no stray data to move") // not beside a refusal: there was stray data
	}
	for _, b := range r.Batches {
		var n, bytes int64
		moved := 0
		for i, o := range b.Objects {
			if dryRun || b.Quarantined[i] {
				n, bytes, moved = n+o.Entries, bytes+o.Bytes, moved+1
				until := ""
				if o.MountedUntil != "" {
					until = "; mounted at " + escape.Name(o.MountedUntil) + " until the last boot, declared by nothing now"
				}
				fmt.Fprintf(w, "  %s  %s, %s%s\n", escape.Name(o.Path), units.Plural(o.Entries, "path", "paths"), units.Bytes(o.Bytes), until)
			}
		}
		if dryRun {
			fmt.Fprintf(w, "would move %s (%s, %s) into %s/%s\n", units.Plural(int64(moved), "stray", "strays"), units.Plural(n, "path", "paths"), units.Bytes(bytes), escape.Name(b.StoragePath), prune.Dir)
			continue
		}
		fmt.Fprintf(w, "moved %s (%s, %s) into %s: %s puts them back\n", units.Plural(int64(moved), "stray", "strays"), units.Plural(n, "path", "paths"), units.Bytes(bytes), escape.Name(b.Dir), r.UndoCommand(b.ID))
	}
	return nil
}

// WritePruneList renders the batches of the quarantine (drift prune
// --list), in format "json" (docs/schema/prune-list.json) or "table".
func WritePruneList(w io.Writer, batches []prune.Batch, format string) error {
	if format == "json" {
		if batches == nil {
			batches = []prune.Batch{}
		}
		return writeMarshalledJSON(w, pruneListJSON{jsonschema.ID("prune-list"), 1, batches})
	}
	if len(batches) == 0 {
		fmt.Fprintln(w, "the quarantine is empty")
	}
	for _, b := range batches {
		in := 0
		for _, q := range b.Quarantined {
			if q {
				in++
			}
		}
		fmt.Fprintf(w, "%s  made %s  %s in %s\n", b.ID, b.Created.Format(time.RFC3339), units.Plural(int64(in), "object", "objects"), escape.Name(b.Dir))
		for i, o := range b.Objects {
			where := "in quarantine"
			if !b.Quarantined[i] {
				where = "not in quarantine (in place)"
			}
			fmt.Fprintf(w, "  %-3d %s  %s, %s, %s: %s\n", o.N, escape.Name(o.Path), o.Type, units.Bytes(o.Bytes), where, escape.Name(o.Reason))
		}
	}
	return nil
}

// WriteUndo renders what drift prune --undo put back (or, dryRun, would
// put back), in format "json" (docs/schema/prune-undo.json) or "table";
// each refusal is also a line on errw. refused says whether there was one.
func WriteUndo(w, errw io.Writer, undone []prune.Undone, format string, dryRun bool) (refused bool, err error) {
	for _, u := range undone {
		for _, x := range u.Refused {
			refused = true
			fmt.Fprintf(errw, "drift: refused %s: %s\n", escape.Name(x.Path), escape.Name(x.Reason))
		}
	}
	if format == "json" {
		if undone == nil {
			undone = []prune.Undone{}
		}
		return refused, writeMarshalledJSON(w, pruneUndoJSON{jsonschema.ID("prune-undo"), 1, dryRun, undone})
	}
	verb := "put back"
	if dryRun {
		verb = "would put back"
	}
	for _, u := range undone {
		for _, p := range u.Restored {
			fmt.Fprintf(w, "%s %s\n", verb, escape.Name(p))
		}
		if u.Removed {
			fmt.Fprintf(w, "batch %s is empty: removed\n", u.ID)
		}
	}
	return refused, nil
}

// WritePruneEmpty renders the batches drift prune empty deleted (or,
// dryRun, would delete) for being older than olderThan (the flag's words),
// in format "json" (docs/schema/prune-empty.json) or "table"; in the table
// a batch not wholly deleted is also a line on errw. failed says whether
// one was not.
func WritePruneEmpty(w, errw io.Writer, out []prune.Emptied, format string, dryRun bool, olderThan string) (failed bool, err error) {
	if format == "json" {
		if out == nil {
			out = []prune.Emptied{}
		}
		if err := writeMarshalledJSON(w, pruneEmptyJSON{jsonschema.ID("prune-empty"), 1, dryRun, out}); err != nil {
			return false, err
		}
	}
	for _, e := range out {
		failed = failed || e.Err != ""
		if format == "table" {
			verb := "deleted"
			if dryRun {
				verb = "would delete"
			}
			if e.Err != "" {
				verb = "could not delete all of"
			}
			fmt.Fprintf(w, "%s %s (made %s): %s, %s\n", verb, escape.Name(e.Dir), e.Created.Format(time.RFC3339),
				units.Plural(e.Entries, "path", "paths"), units.Bytes(e.Bytes))
			if e.Err != "" {
				fmt.Fprintf(errw, "drift: %s: %s\n", escape.Name(e.Dir), escape.Name(e.Err))
			}
		}
	}
	if len(out) == 0 && format == "table" {
		fmt.Fprintf(w, "no batch in the quarantine is older than %s\n", olderThan)
	}
	return failed, nil
}

// writeMarshalledJSON writes v as json.MarshalIndent does (two spaces, HTML
// characters escaped), then a newline: the form of drift prune's and drift
// rehearse's documents.
func writeMarshalledJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
