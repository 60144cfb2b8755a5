package report

import (
	"fmt"
	"io"

	"github.com/nix-drift/drift/internal/escape"
	"github.com/nix-drift/drift/internal/jsonschema"
	"github.com/nix-drift/drift/internal/rehearse"
	"github.com/nix-drift/drift/internal/units"
)

// RehearseFormats are drift rehearse's --format values.
var RehearseFormats = []string{"table", "json", "prom"}

// rehearsalJSON is drift rehearse --format json (docs/schema/rehearse.json).
type rehearsalJSON struct {
	Schema    string           `json:"$schema"`
	Version   int              `json:"version"`
	Rehearsal *rehearse.Result `json:"rehearsal"`
}

// WriteRehearsal renders drift rehearse's result in format "json"
// (docs/schema/rehearse.json), "prom" (Prometheus text exposition) or
// "table": one row per path the wipe would have destroyed, the verdict and
// the next step.
func WriteRehearsal(w io.Writer, r *rehearse.Result, format string) error {
	switch format {
	case "json":
		for _, l := range []*[]string{&r.Reports, &r.Persist, &r.Ignore, &r.Adopt, &r.Decide, &r.Redeclare} {
			if *l == nil {
				*l = []string{}
			}
		}
		if r.Left == nil {
			r.Left = []rehearse.Left{}
		}
		if r.Paths == nil {
			r.Paths = []rehearse.Path{}
		}
		return writeMarshalledJSON(w, rehearsalJSON{jsonschema.ID("rehearse"), 1, r})
	case "prom":
		ready := 0
		if r.Ready {
			ready = 1
		}
		fmt.Fprintf(w, "# HELP drift_rehearsal_ready Whether the wipe may be turned on (drift rehearse's verdict): 1 ready, 0 not.\n# TYPE drift_rehearsal_ready gauge\ndrift_rehearsal_ready %d\n", ready)
		fmt.Fprintf(w, "# HELP drift_rehearsal_reports Shutdown reports the verdict read.\n# TYPE drift_rehearsal_reports gauge\ndrift_rehearsal_reports %d\n", len(r.Reports))
		fmt.Fprintf(w, "# HELP drift_rehearsal_paths Paths lost at the latest shutdown that need a step before the wipe.\n# TYPE drift_rehearsal_paths gauge\n")
		fmt.Fprintf(w, "drift_rehearsal_paths{step=\"persist\"} %d\ndrift_rehearsal_paths{step=\"ignore\"} %d\ndrift_rehearsal_paths{step=\"adopt\"} %d\n", len(r.Persist), len(r.Ignore), len(r.Adopt))
		fmt.Fprintf(w, "drift_rehearsal_paths{step=\"decide\"} %d\ndrift_rehearsal_paths{step=\"redeclare\"} %d\ndrift_rehearsal_paths{step=\"left\"} %d\n", len(r.Decide), len(r.Redeclare), len(r.Left))
		return nil
	}
	fmt.Fprintf(w, "%s read\n\n", units.Plural(int64(len(r.Reports)), "shutdown report", "shutdown reports"))
	if len(r.Paths) > 0 {
		fmt.Fprintf(w, "%-6s %-10s %-18s %-9s %10s  %s\n", "LOST", "KIND", "NOW", "STEP", "SIZE", "PATH")
	}
	for _, p := range r.Paths {
		step := p.Step
		if step == "" {
			step = "-"
		}
		fmt.Fprintf(w, "%-6s %-10s %-18s %-9s %10s  %s\n", fmt.Sprintf("%d/%d", p.Lost, len(r.Reports)), p.Kind, p.Now, step, units.Bytes(p.Bytes), escape.Name(p.Path))
	}
	verdict := "NOT READY"
	if r.Ready {
		verdict = "READY"
	}
	fmt.Fprintf(w, "\nverdict: %s: %s\nnext: %s\n", verdict, r.Reason, escape.Name(r.Next))
	return nil
}
