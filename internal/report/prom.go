package report

import (
	"bufio"
	"fmt"
	"strconv"
	"time"

	"github.com/nix-drift/drift/internal/diff"
)

// Metrics are the facts of a Prometheus rendering that the audit does not
// hold.
type Metrics struct {
	// OldRoots is the number of old roots found next to the root (the
	// previous boot's and older ones); -1 when unknown (--old-roots none,
	// or they could not be listed): drift_old_roots is then left out.
	OldRoots int
	// Now is the time of the check (drift_last_check_timestamp_seconds);
	// the zero value means time.Now().
	Now time.Time
}

// promMetric is one metric family: its name, HELP text, and samples.
type promMetric struct {
	name, help string
	samples    []promSample
}

type promSample struct {
	label string // `category="x"` or ""
	v     float64
}

// writeProm renders a in the Prometheus text exposition format 0.0.4, for
// node_exporter's textfile collector (--collector.textfile.directory): one
// gauge family per fact, HELP and TYPE lines first, every lost category
// present (0 included) so that a series never disappears when it empties.
// Metrics whose fact is unknown (no wipe check, no previous root) are left
// out rather than written as 0.
//
//	drift_lost_files{category}        paths the next boot loses
//	drift_lost_bytes{category}        their apparent size (regular files)
//	drift_recreated_files             paths re-made at boot (not lost)
//	drift_declared_unbacked           declarations whose live data is on
//	                                  the ephemeral root
//	drift_scanned_entries, drift_unreadable_paths
//	drift_vanished_files              lost at the last reboot, in no persistent copy
//	drift_alerts{kind}                findings against the previous root
//	drift_old_roots                   old roots kept (Metrics.OldRoots)
//	drift_previous_root_timestamp_seconds
//	drift_last_wipe_timestamp_seconds when the live root was created
//	drift_wiped_this_boot             1 when the wipe ran at this boot
//	drift_last_check_timestamp_seconds
func writeProm(w *bufio.Writer, a *diff.Audit, m Metrics) error {
	now := m.Now
	if now.IsZero() {
		now = time.Now()
	}
	files := promMetric{name: "drift_lost_files", help: "Paths the next boot loses, by category (drift check; ignored paths matched an ignore rule)."}
	bytes := promMetric{name: "drift_lost_bytes", help: "Apparent size in bytes of the regular files the next boot loses, by category."}
	for _, c := range diff.Categories {
		if !c.Lost() {
			continue
		}
		t := a.Totals[c]
		l := `category="` + c.String() + `"`
		files.samples = append(files.samples, promSample{label: l, v: float64(t.Count)})
		bytes.samples = append(bytes.samples, promSample{label: l, v: float64(t.Bytes)})
	}
	unbacked := map[int32]bool{}
	for _, it := range a.Lost {
		if it.Category == diff.DeclaredUnbacked && it.Decl >= 0 {
			unbacked[it.Decl] = true
		}
	}
	alerts := promMetric{name: "drift_alerts", help: "Findings against the previous boot's root, by kind (host-key-changed: regenerated at every boot)."}
	for _, k := range []diff.AlertKind{diff.HostKeyChanged, diff.OwnershipDrift} {
		n := 0
		for _, al := range a.Alerts {
			if al.Kind == k {
				n++
			}
		}
		alerts.samples = append(alerts.samples, promSample{label: `kind="` + k.String() + `"`, v: float64(n)})
	}
	ms := []promMetric{
		files, bytes,
		gauge("drift_copied_files", "Paths inside declarations that are not mounted whose persistent copy is the same (the next boot's mount shows it): not lost.", float64(a.Totals[diff.Copied].Count)),
		gauge("drift_recreated_files", "Paths on the ephemeral root that the next boot re-creates (activation output, parents of mount points): not lost.", float64(a.Totals[diff.Recreated].Count)),
		gauge("drift_declared_unbacked", "Declared persisted paths whose live data sits on the ephemeral root (not mounted or linked from persistent storage).", float64(len(unbacked))),
		gauge("drift_scanned_entries", "Entries the check walked.", float64(a.Scanned)),
		gauge("drift_unreadable_paths", "Paths on the ephemeral side that could not be read (their contents are unknown and lost).", float64(len(a.Errors))),
		alerts,
	}
	if a.PreviousRoot != nil {
		ms = append(ms,
			gauge("drift_vanished_files", "Paths the last reboot destroyed that no persistent copy holds now (still in the previous boot's root).", float64(vanishedEntries(a))),
			gauge("drift_previous_root_timestamp_seconds", "When the previous boot's root was retired, in seconds since the epoch.", unixSeconds(a.PreviousRoot.Time)))
	}
	if m.OldRoots >= 0 {
		ms = append(ms, gauge("drift_old_roots", "Old roots kept in old_roots (the previous boot's root and older).", float64(m.OldRoots)))
	}
	if a.Wipe != nil {
		ran := 0.0
		if a.Wipe.WipedThisBoot {
			ran = 1
		}
		ms = append(ms,
			gauge("drift_last_wipe_timestamp_seconds", "When the live root subvolume was created (the last wipe), in seconds since the epoch.", unixSeconds(a.Wipe.RootCreated)),
			gauge("drift_wiped_this_boot", "1 when the root was wiped at this boot, 0 when it has been surviving reboots.", ran))
	}
	ms = append(ms, gauge("drift_last_check_timestamp_seconds", "When this check ran, in seconds since the epoch.", unixSeconds(now)))
	for _, mf := range ms {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s gauge\n", mf.name, mf.help, mf.name)
		for _, s := range mf.samples {
			if s.label != "" {
				fmt.Fprintf(w, "%s{%s} %s\n", mf.name, s.label, promValue(s.v))
			} else {
				fmt.Fprintf(w, "%s %s\n", mf.name, promValue(s.v))
			}
		}
	}
	return nil
}

func gauge(name, help string, v float64) promMetric {
	return promMetric{name: name, help: help, samples: []promSample{{v: v}}}
}

// unixSeconds is t in seconds since the epoch, to the millisecond.
func unixSeconds(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }

// promValue formats v as the exposition format's float, without an
// exponent (1234567, 1764450000.123).
func promValue(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
