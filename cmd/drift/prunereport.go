package main

import (
	"fmt"
	"io"
	"time"

	"github.com/nix-drift/drift/internal/escape"
	"github.com/nix-drift/drift/internal/jsonschema"
	"github.com/nix-drift/drift/internal/prune"
	"github.com/nix-drift/drift/internal/units"
)

// writePruneResult renders what drift prune moved (or would move) and
// what it refused: refusals also on stderr.
func writePruneResult(st Streams, r *prune.Result, format string, dryRun bool) error {
	for _, x := range r.Refused {
		fmt.Fprintf(st.Err, "drift: refused %s: %s\n", escape.Name(x.Path), escape.Name(x.Reason))
	}
	if format == "json" {
		if r.Batches == nil {
			r.Batches = []prune.Batch{}
		}
		if r.Refused == nil {
			r.Refused = []prune.Refusal{}
		}
		return writeJSON(st.Out, pruneRunJSON{jsonschema.ID("prune-run"), 1, dryRun, r.Batches, r.Refused})
	}
	w := st.Out
	if len(r.Batches) == 0 {
		fmt.Fprintln(w, "no stray data to move")
	}
	for _, b := range r.Batches {
		var n, bytes int64
		moved := 0
		for i, o := range b.Objects {
			if dryRun || b.Quarantined[i] {
				n, bytes, moved = n+o.Entries, bytes+o.Bytes, moved+1
				fmt.Fprintf(w, "  %s  %s, %s\n", escape.Name(o.Path), units.Plural(o.Entries, "path", "paths"), units.Bytes(o.Bytes))
			}
		}
		if dryRun {
			fmt.Fprintf(w, "would move %s (%s, %s) into %s/%s\n", units.Plural(int64(moved), "stray", "strays"), units.Plural(n, "path", "paths"), units.Bytes(bytes), escape.Name(b.StoragePath), prune.Dir)
			continue
		}
		fmt.Fprintf(w, "moved %s (%s, %s) into %s: drift prune --undo %s puts them back\n", units.Plural(int64(moved), "stray", "strays"), units.Plural(n, "path", "paths"), units.Bytes(bytes), escape.Name(b.Dir), b.ID)
	}
	return nil
}

// writePruneList renders the batches of the quarantine.
func writePruneList(w io.Writer, batches []prune.Batch, format string) error {
	if format == "json" {
		if batches == nil {
			batches = []prune.Batch{}
		}
		return writeJSON(w, pruneListJSON{jsonschema.ID("prune-list"), 1, batches})
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

// writeUndo renders what drift prune --undo put back and refused (also on
// stderr); a refusal is exit status 1.
func writeUndo(st Streams, undone []prune.Undone, format string, dryRun bool) error {
	refused := false
	for _, u := range undone {
		for _, x := range u.Refused {
			refused = true
			fmt.Fprintf(st.Err, "drift: refused %s: %s\n", escape.Name(x.Path), escape.Name(x.Reason))
		}
	}
	if format == "json" {
		if undone == nil {
			undone = []prune.Undone{}
		}
		if err := writeJSON(st.Out, pruneUndoJSON{jsonschema.ID("prune-undo"), 1, dryRun, undone}); err != nil {
			return err
		}
	} else {
		verb := "put back"
		if dryRun {
			verb = "would put back"
		}
		for _, u := range undone {
			for _, p := range u.Restored {
				fmt.Fprintf(st.Out, "%s %s\n", verb, escape.Name(p))
			}
			if u.Removed {
				fmt.Fprintf(st.Out, "batch %s is empty: removed\n", u.ID)
			}
		}
	}
	if refused {
		return errLost
	}
	return nil
}
