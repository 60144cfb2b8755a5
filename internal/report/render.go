package report

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/nix-drift/drift/internal/adopt"
	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/escape"
	"github.com/nix-drift/drift/internal/jsonschema"
	"github.com/nix-drift/drift/internal/persist"
	"github.com/nix-drift/drift/internal/units"
	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
)

// Formats lists the values --format takes for drift check.
var Formats = []string{"table", "json", "paths", "paths0", "prom"}

// SchemaVersion is the "version" of the JSON report. It changes only when a
// field is removed or changes meaning; new fields may appear in any version.
const SchemaVersion = 1

// Options control a rendering.
type Options struct {
	// Format is one of Formats.
	Format string
	// All adds ignored paths to every format.
	All bool
	// Metrics completes the prom format (Prometheus text for node_exporter's
	// textfile collector, writeProm).
	Metrics Metrics
	// Color colours the table's CATEGORY and WHY cells with ANSI escapes
	// (the caller decides: ColorMode).
	Color bool
}

// Write renders a to w in opts.Format. Errors come from w, or name an
// unknown format, or refuse paths/paths0 for a collapsed audit (which
// does not hold every lost path).
func Write(w io.Writer, a *diff.Audit, opts Options) error {
	bw := bufio.NewWriterSize(w, 256*1024)
	var err error
	switch opts.Format {
	case "", "table":
		err = writeTable(bw, a, opts)
	case "json":
		err = writeJSON(bw, a, opts)
	case "paths":
		err = writePaths(bw, a, opts, '\n')
	case "paths0":
		err = writePaths(bw, a, opts, 0)
	case "prom":
		err = writeProm(bw, a, opts.Metrics)
	default:
		return fmt.Errorf("unknown format %q: expected one of %s", opts.Format, strings.Join(Formats, ", "))
	}
	if err != nil {
		return err
	}
	return bw.Flush()
}

// writePaths prints exactly the lost set, one path per record: escaped
// (Escape) and newline-terminated, or raw bytes NUL-terminated.
func writePaths(w *bufio.Writer, a *diff.Audit, opts Options, sep byte) error {
	if a.Collapsed {
		return errors.New("the paths formats list every lost path: the audit was collapsed (diff.Config.Collapse)")
	}
	for _, it := range a.Lost {
		if it.Category == diff.Ignored && !opts.All {
			continue
		}
		p := it.Path
		if sep != 0 {
			p = escape.Name(p)
		}
		w.WriteString(p)
		if err := w.WriteByte(sep); err != nil {
			return err
		}
	}
	return nil
}

// Why explains a row in one short line, naming the declaration when there
// is one.
func Why(a *diff.Audit, it *diff.Item) string {
	switch {
	case it.Decl >= 0 && int(it.Decl) < len(a.Decls.Entries):
		d := a.Decls.Entries[it.Decl]
		if diff.DeclaredFileIsDir(&d, it.Path, it.IsDir()) {
			s := escape.Name(diff.MismatchWhy(&d, it.Path))
			if p := d.Pos.String(); p != "" {
				s += " (" + escape.Name(p) + ")"
			}
			return s
		}
		s := "declared " + d.Kind.String()
		if d.Path != it.Path {
			s = "inside declared " + d.Kind.String() + " " + escape.Name(d.Path)
		}
		if p := d.Pos.String(); p != "" {
			s += " (" + escape.Name(p) + ")"
		}
		if it.Mount != 0 { // Covered, or Covered and ignored
			s += ", on persistent storage but not mounted from " + escape.Name(d.Source()) + ": the next boot mounts the copy over it (hidden, not deleted)"
		} else {
			s += ", not backed by persistent storage"
		}
		if it.Copy == diff.CopyDiffers {
			s += "; the stale copy " + escape.Name(diff.CopyOf(&d, it.Path)) + " comes back in its place"
		}
		return s
	case it.Category == diff.Covered && it.Decl < 0:
		return "on the root subvolume where the next boot mounts another filesystem (fileSystems, /etc/fstab; not mounted now): hidden then, and deleted with the root"
	case it.Category == diff.Shadowed && it.Mount != 0:
		s := "on the root subvolume under a mount point"
		if it.Copy == diff.CopyDiffers {
			return s + fmt.Sprintf("; the copy mount %d shows at %s has other contents: it is what the next boot shows", it.Mount, escape.Name(it.Path))
		}
		return s + fmt.Sprintf("; the copy mount %d shows lacks it", it.Mount)
	case it.Category == diff.Unmounted:
		if a.Decls != nil {
			if d, ok := a.Decls.Covering(it.Path); ok {
				// Only a declaration of the mount point itself with
				// another source makes a covered mount Unmounted.
				s := "declared " + d.Kind.String()
				if p := d.Pos.String(); p != "" {
					s += " (" + escape.Name(p) + ")"
				}
				return s + fmt.Sprintf(" with the source %s, but mount %d shows another source: the next boot mounts %s over it, hiding what this mount shows (it stays in persistent storage)", escape.Name(d.Source()), it.Mount, escape.Name(d.Source()))
			}
		}
		return fmt.Sprintf("mount %d from persistent storage, no longer declared", it.Mount)
	case it.Category == diff.Unpersisted && it.Subvolume:
		return "nested subvolume, not declared"
	case it.Category == diff.Unpersisted && isLinkIntoStorage(a, it):
		return diff.LinkIntoStorageWhy
	case it.Category == diff.Unpersisted && it.Mode&0o170000 == 0o120000 && strings.HasPrefix(it.Target, "/nix/store/"):
		return "link into /nix/store, not declared: nothing re-creates it"
	}
	return it.Category.Why()
}

func isLinkIntoStorage(a *diff.Audit, it *diff.Item) bool {
	_, ok := diff.LinkIntoStorage(a.Decls, it)
	return ok
}

// whyWidth is the widest the WHY column gets before it wraps.
const whyWidth = 48

func writeTable(w *bufio.Writer, a *diff.Audit, opts Options) error {
	if msg := a.Wipe.Warning(); msg != "" {
		// First: it changes what every row means.
		fmt.Fprintf(w, "WARNING: %s\n\n", escape.Name(msg))
	}
	if len(a.Alerts) > 0 {
		// Findings against the previous root: before the rows, as above.
		for _, al := range a.Alerts {
			fmt.Fprintln(w, AlertLine(al))
		}
		fmt.Fprintln(w)
	}
	rows := Rows(a, opts.All)
	if len(rows) > 0 {
		t := newTable(w)
		// Paths are never wrapped (they are copied from here); the reason
		// wraps at whyWidth so a row stays readable on a terminal.
		t.Configure(func(cfg *tablewriter.Config) {
			cfg.Row.ColMaxWidths.PerColumn = tw.Mapper[int, int]{6: whyWidth}
		})
		hist := a.PreviousRoot != nil
		if hist {
			// HISTORY, against the previous root, before WHY.
			t.Configure(func(cfg *tablewriter.Config) {
				cfg.Row.ColMaxWidths.PerColumn = tw.Mapper[int, int]{7: whyWidth}
			})
			t.Header("TOP", "PATH", "CATEGORY", "TYPE", "ENTRIES", "SIZE", "HISTORY", "WHY")
		} else {
			t.Header("TOP", "PATH", "CATEGORY", "TYPE", "ENTRIES", "SIZE", "WHY")
		}
		prev := ""
		for _, r := range rows {
			top := topDir(r.Item.Path)
			shown := escape.Name(top)
			if top == prev {
				shown = ""
			}
			prev = top
			p := escape.Name(r.Item.Path)
			if r.Entries > 1 {
				p += "/"
			}
			cells := []string{shown, p, paint(opts.Color, r.Item.Category, r.Item.Category.String()), Type(r.Item), fmt.Sprint(r.Entries), units.Bytes(r.Bytes)}
			if hist {
				h := r.Item.History.String()
				if h == "" {
					h = "-"
				}
				cells = append(cells, h)
			}
			if err := t.Append(append(cells, paint(opts.Color, r.Item.Category, rowWhy(a, r)))); err != nil {
				return err
			}
		}
		if err := t.Render(); err != nil {
			return err
		}
		if cmd := adoptAll(a, rows); cmd != "" {
			fmt.Fprintln(w, cmd)
		}
	}
	if err := writeVanished(w, a); err != nil {
		return err
	}
	_, err := fmt.Fprintln(w, Summary(a, opts.All))
	return err
}

// writeVanished prints the second table: what the last reboot destroyed
// that is not declared now, with the command that gets it back.
func writeVanished(w *bufio.Writer, a *diff.Audit) error {
	if len(a.Vanished) == 0 {
		return nil
	}
	fmt.Fprintf(w, "\nVANISHED at the last reboot, not declared now (still in old_roots/%s):\n", escape.Name(a.Vanished[0].Root))
	t := newTable(w)
	t.Header("PATH", "TYPE", "ENTRIES", "SIZE", "OLD ROOT", "AGE", "DAYS LEFT", "RESTORE")
	for _, v := range a.Vanished {
		p := escape.Name(v.Path)
		if v.Entries > 1 {
			p += "/"
		}
		it := diff.Item{Mode: v.Mode}
		if err := t.Append([]string{p, Type(&it), fmt.Sprint(v.Entries), units.Bytes(v.Bytes), escape.Name(v.Root),
			fmt.Sprintf("%dd", v.AgeDays), fmt.Sprint(v.DaysLeft), RestoreCommand(a.Root, v)}); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	_, err := fmt.Fprintln(w)
	return err
}

// RestoreCommand is the drift restore command line that copies v back to
// its live path (--to live: it is not declared), its words quoted with
// ShellQuote: safe to print as it is, and exactly the names when pasted into
// a shell.
//
// root is the audited root (Audit.Root): a system audited elsewhere than at
// / gets --root, so the command restores into it and not into the host.
func RestoreCommand(root string, v diff.Vanished) string {
	cmd := "drift restore " + ShellQuote(v.Path) + " --from " + ShellQuote(v.From) + " --to live"
	if root != "" && root != "/" {
		cmd += " --root " + ShellQuote(root)
	}
	return cmd
}

// ShellQuote is escape.Shell: s as one shell word.
func ShellQuote(s string) string { return escape.Shell(s) }

// historyCounts counts the lost paths of a per History (Ignored ones only
// with all).
func historyCounts(a *diff.Audit, all bool) map[diff.History]diff.Total {
	out := map[diff.History]diff.Total{}
	for _, it := range a.Lost {
		if !it.Category.Lost() || (it.Category == diff.Ignored && !all) {
			continue
		}
		t := out[it.History]
		t.Add(it.Total())
		out[it.History] = t
	}
	return out
}

// rowWhy is Why for a row, with the ignored entries it leaves out and the
// drift adopt command that keeps it (RowAdopt), or, where its persistent
// copy differs, the two that say which side wins (RowAdoptPrefer).
func rowWhy(a *diff.Audit, r Row) string {
	why := Why(a, r.Item)
	if r.Hidden.Count > 0 {
		why += fmt.Sprintf("; %s ignored inside, not shown", units.Plural(r.Hidden.Count, "entry", "entries"))
	}
	if cmd := RowAdopt(a, r.Item); cmd != "" {
		why += "; keep it: " + cmd
	} else if _, ok := adoptDecl(a, r.Item); ok {
		why += "; its persistent copy differs: " + adopt.Choice(a.Root, a.Args, r.Item.Path)
	}
	return why
}

// RowAdopt is the drift adopt command (AdoptCommand) that copies a lost
// row into the persistent copy a declaration already gives it: a
// declared-unbacked row, a shadowed one below a declared path (hidden
// under its bind mount), or a covered one (on another persistent
// filesystem, hidden by the next boot's mount of the copy). "" for any
// other row (nothing declared to adopt it into), and for a row whose
// persistent copy holds something else (diff.CopyDiffers): drift adopt
// refuses it without --prefer (RowAdoptPrefer).
func RowAdopt(a *diff.Audit, it *diff.Item) string {
	if _, ok := adoptDecl(a, it); !ok || it.Copy == diff.CopyDiffers {
		return ""
	}
	return AdoptCommand(a.Root, a.Args, it.Path)
}

// RowAdoptPrefer is, for a row RowAdopt leaves out because its persistent
// copy differs, the two drift adopt commands that keep the live object
// (--prefer live) or the persistent copy's (--prefer persistent); "" for
// any other row.
func RowAdoptPrefer(a *diff.Audit, it *diff.Item) (live, persistent string) {
	if _, ok := adoptDecl(a, it); !ok || it.Copy != diff.CopyDiffers {
		return "", ""
	}
	return adopt.Command(a.Root, a.Args, adopt.PreferLive, it.Path), adopt.Command(a.Root, a.Args, adopt.PreferPersistent, it.Path)
}

// adoptDecl is the declared path that covers a row drift adopt keeps.
func adoptDecl(a *diff.Audit, it *diff.Item) (string, bool) {
	if a.Decls == nil || it.Category != diff.DeclaredUnbacked && it.Category != diff.Shadowed && it.Category != diff.Covered {
		return "", false
	}
	e, ok := a.Decls.Covering(it.Path)
	return e.Path, ok
}

// adoptAll is what to run for the declared paths of every row drift adopt
// keeps (each declared path once), "" when fewer than two rows have a
// command: one drift adopt command for the declared paths whose
// persistent copy differs nowhere, and the two --prefer commands
// (adopt.Choice) for those where it differs at a lost path, ignored ones
// included (adopting a declared path copies all of it).
func adoptAll(a *diff.Audit, rows []Row) string {
	var ps []string
	n := 0
	for _, r := range rows {
		if d, ok := adoptDecl(a, r.Item); ok {
			n++
			if !slices.Contains(ps, d) {
				ps = append(ps, d)
			}
		}
	}
	if n < 2 {
		return ""
	}
	differ := map[string][]string{} // declared path: the paths below it whose copy differs
	mark := func(p string) {
		if e, ok := a.Decls.Covering(p); ok {
			differ[e.Path] = append(differ[e.Path], p)
		}
	}
	for _, it := range a.Lost {
		if it.Copy == diff.CopyDiffers {
			mark(it.Path)
		}
	}
	for _, p := range a.CopiedOtherMeta {
		mark(p)
	}
	var same, diffs []string
	for _, d := range ps {
		if len(differ[d]) > 0 {
			diffs = append(diffs, d)
		} else {
			same = append(same, d)
		}
	}
	var out []string
	if len(same) > 0 {
		out = append(out, "Keep the declared rows before the next boot: "+AdoptCommand(a.Root, a.Args, same...))
	}
	if len(diffs) > 0 {
		var at []string
		for _, d := range diffs {
			at = append(at, differ[d]...)
		}
		first := escape.Name(at[0])
		if len(at) > 1 {
			first += fmt.Sprintf(" and %d more", len(at)-1)
		}
		out = append(out, fmt.Sprintf("The persistent copy of %s differs at %s (other content, or the same bytes with another mode or owner): %s", escape.Name(strings.Join(diffs, ", ")), first, adopt.Choice(a.Root, a.Args, diffs...)))
	}
	return strings.Join(out, "\n")
}

// vanishedEntries counts the paths that vanished at the last reboot: each
// row's own and everything below it (diff.Vanished.Entries).
func vanishedEntries(a *diff.Audit) int64 {
	var n int64
	for _, v := range a.Vanished {
		n += v.Entries
	}
	return n
}

// AlertLine is an alert as the table prints it: "ALERT: " before one
// that means something is lost at every boot (a host key), "WARNING: "
// before the others; the message escaped.
func AlertLine(al diff.Alert) string {
	if al.Kind.Losing() {
		return "ALERT: " + escape.Name(al.Message)
	}
	return "WARNING: " + escape.Name(al.Message)
}

// Summary is the one-line verdict: how much the next boot loses, per
// category, and what was scanned.
func Summary(a *diff.Audit, all bool) string {
	lost := a.LostTotal(all)
	var parts []string
	for _, c := range diff.Categories {
		if !c.Lost() || c == diff.Ignored {
			continue
		}
		if t := a.Totals[c]; t.Count > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", t.Count, c))
		}
	}
	var s string
	if lost.Count == 0 {
		s = "nothing would be lost at the next boot"
	} else {
		s = fmt.Sprintf("%s (%s) would be lost at the next boot: %s", units.Plural(lost.Count, "path", "paths"), units.Bytes(lost.Bytes), strings.Join(parts, ", "))
	}
	var extra []string
	if t := a.Totals[diff.Ignored]; t.Count > 0 {
		if all {
			extra = append(extra, fmt.Sprintf("%d ignored (included)", t.Count))
		} else {
			extra = append(extra, fmt.Sprintf("%d ignored (not shown; --all shows them)", t.Count))
		}
	}
	if t := a.Totals[diff.Copied]; t.Count > 0 {
		extra = append(extra, fmt.Sprintf("%d copied (declared, not mounted, the same in persistent storage: not lost)", t.Count))
	}
	if t := a.Totals[diff.Recreated]; t.Count > 0 {
		extra = append(extra, fmt.Sprintf("%d re-created at boot", t.Count))
	}
	if a.PreviousRoot != nil && lost.Count > 0 {
		hc := historyCounts(a, all)
		var hs []string
		for _, h := range diff.Histories {
			hs = append(hs, fmt.Sprintf("%d %s", hc[h].Count, h))
		}
		extra = append(extra, "since the previous boot: "+strings.Join(hs, ", "))
	}
	if n := vanishedEntries(a); n > 0 {
		extra = append(extra, units.Plural(n, "path", "paths")+" vanished at the last reboot")
	}
	extra = append(extra, units.Plural(a.Scanned, "entry", "entries")+" scanned")
	if len(a.Errors) > 0 {
		extra = append(extra, fmt.Sprintf("%d unreadable", len(a.Errors)))
	}
	return s + "; " + strings.Join(extra, ", ")
}

type jsonTotal struct {
	Entries int64 `json:"entries"`
	Bytes   int64 `json:"bytes"`
}

type jsonMount struct {
	ID         int    `json:"id"`
	MountPoint string `json:"mountPoint"`
	FSType     string `json:"fsType"`
	Source     string `json:"source"`
	Root       string `json:"root"`
}

type jsonItem struct {
	Path       string `json:"path"`
	PathBase64 string `json:"pathBase64,omitempty"`
	Category   string `json:"category"`
	Type       string `json:"type"`
	Entries    int64  `json:"entries"`
	Bytes      int64  `json:"bytes"`
	Mode       string `json:"mode"`
	Mtime      string `json:"mtime"`
	Target     string `json:"target,omitempty"`
	Declared   string `json:"declared,omitempty"`
	DeclaredAt string `json:"declaredAt,omitempty"`
	Mount      int32  `json:"mount,omitempty"`
	History    string `json:"history,omitempty"`
	Why        string `json:"why"`
	// Hidden: the ignored entries below the row that it leaves out
	// (Row.Hidden; without --all only).
	Hidden *jsonTotal `json:"ignoredInside,omitempty"`
	// Adopt is RowAdopt: the drift adopt command that keeps the row (none
	// where its persistent copy differs: drift adopt refuses it without
	// --prefer).
	Adopt string `json:"adopt,omitempty"`
	// AdoptPreferLive and AdoptPreferPersistent are RowAdoptPrefer: where
	// the row's persistent copy differs, the drift adopt commands that keep
	// the live object or the persistent copy's.
	AdoptPreferLive       string `json:"adoptPreferLive,omitempty"`
	AdoptPreferPersistent string `json:"adoptPreferPersistent,omitempty"`
}

// jsonVanished is a path of the previous root that vanished at the last
// reboot and is not declared now.
type jsonVanished struct {
	Path       string `json:"path"`
	PathBase64 string `json:"pathBase64,omitempty"`
	Type       string `json:"type"`
	Entries    int64  `json:"entries"`
	Bytes      int64  `json:"bytes"`
	OldRoot    string `json:"oldRoot"`
	AgeDays    int    `json:"ageDays"`
	DaysLeft   int    `json:"daysLeft"`
	Restore    string `json:"restore"`
}

type jsonDiag struct {
	Position string `json:"position,omitempty"`
	Severity string `json:"severity"`
	Message  string `json:"message"`
	Hint     string `json:"hint,omitempty"`
}

type jsonError struct {
	Path  string `json:"path"`
	Error string `json:"error"`
}

type jsonWipe struct {
	RootCreated   string `json:"rootCreated"`
	BootTime      string `json:"bootTime"`
	WipedThisBoot bool   `json:"wipedThisBoot"`
}

// jsonPrevious is the previous boot's root (--old-roots).
type jsonPrevious struct {
	Name string `json:"name"`
	Time string `json:"time"`
}

// jsonAlert is a finding against the previous root.
type jsonAlert struct {
	Kind         string `json:"kind"`
	Path         string `json:"path"`
	PathBase64   string `json:"pathBase64,omitempty"`
	Message      string `json:"message"`
	PreviousRoot string `json:"previousRoot"`
	// ownership-drift
	IDKind       string  `json:"idKind,omitempty"`
	ID           *uint32 `json:"id,omitempty"`
	NameNow      *string `json:"nameNow,omitempty"`
	NamePrevious string  `json:"namePrevious,omitempty"`
	Entries      int     `json:"entries,omitempty"`
	// host-key-changed
	Lost string `json:"lost,omitempty"`
}

type jsonReport struct {
	Schema       string        `json:"$schema"`
	Version      int           `json:"version"`
	Root         string        `json:"root"`
	Wipe         *jsonWipe     `json:"wipe,omitempty"`
	PreviousRoot *jsonPrevious `json:"previousRoot"`
	Alerts       []jsonAlert   `json:"alerts"`
	Ephemeral    []jsonMount   `json:"ephemeral"`
	Summary      struct {
		Lost       jsonTotal            `json:"lost"`
		Categories map[string]jsonTotal `json:"categories"`
		Scanned    int64                `json:"scanned"`
		Errors     int                  `json:"errors"`
		History    map[string]jsonTotal `json:"history,omitempty"`
	} `json:"summary"`
	Items       []jsonItem     `json:"items"`
	Vanished    []jsonVanished `json:"vanished"`
	Warnings    []string       `json:"warnings"`
	Errors      []jsonError    `json:"errors"`
	Diagnostics []jsonDiag     `json:"diagnostics"`
}

// jsonPath returns a path for JSON: as is when Escape leaves it alone,
// otherwise escaped (so that a consumer printing it, jq -r say, never sends a
// control or bidi character to a terminal) with the raw bytes in base64.
func jsonPath(p string) (string, string) {
	if e := escape.Name(p); e != p {
		return e, base64.StdEncoding.EncodeToString([]byte(p))
	}
	return p, ""
}

func writeJSON(w *bufio.Writer, a *diff.Audit, opts Options) error {
	var r jsonReport
	r.Schema = jsonschema.ID("check")
	r.Version = SchemaVersion
	r.Root = a.Root
	r.Ephemeral = []jsonMount{}
	for _, m := range a.Ephemeral {
		r.Ephemeral = append(r.Ephemeral, jsonMount{ID: m.ID, MountPoint: m.MountPoint, FSType: m.FSType, Source: m.Source, Root: m.Root})
	}
	lost := a.LostTotal(opts.All)
	r.Summary.Lost = jsonTotal{lost.Count, lost.Bytes}
	r.Summary.Categories = map[string]jsonTotal{}
	for _, c := range diff.Categories {
		t := a.Totals[c]
		r.Summary.Categories[c.String()] = jsonTotal{t.Count, t.Bytes}
	}
	r.Summary.Scanned = a.Scanned
	r.Summary.Errors = len(a.Errors)
	r.Items = []jsonItem{}
	rows := Rows(a, opts.All)
	item := func(row Row) jsonItem {
		it := row.Item
		ji := jsonItem{
			Category: it.Category.String(),
			Type:     Type(it),
			Entries:  row.Entries,
			Bytes:    row.Bytes,
			Mode:     fmt.Sprintf("%04o", it.Mode&0o7777),
			Mtime:    time.Unix(0, it.Mtime).UTC().Format(time.RFC3339Nano),
			Mount:    it.Mount,
			History:  it.History.String(),
			Why:      rowWhy(a, row),
			Adopt:    RowAdopt(a, it),
		}
		ji.AdoptPreferLive, ji.AdoptPreferPersistent = RowAdoptPrefer(a, it)
		ji.Path, ji.PathBase64 = jsonPath(it.Path)
		if it.Target != "" {
			ji.Target, _ = jsonPath(it.Target)
		}
		if it.Decl >= 0 && int(it.Decl) < len(a.Decls.Entries) {
			d := a.Decls.Entries[it.Decl]
			ji.Declared = escape.Name(d.Path)
			ji.DeclaredAt = escape.Text(d.Pos.String())
		}
		if row.Hidden.Count > 0 {
			ji.Hidden = &jsonTotal{row.Hidden.Count, row.Hidden.Bytes}
		}
		return ji
	}
	if a.PreviousRoot != nil {
		r.Summary.History = map[string]jsonTotal{}
		for h, t := range historyCounts(a, opts.All) {
			if h != diff.NoHistory {
				r.Summary.History[h.String()] = jsonTotal{t.Count, t.Bytes}
			}
		}
		for _, h := range diff.Histories {
			if _, ok := r.Summary.History[h.String()]; !ok {
				r.Summary.History[h.String()] = jsonTotal{}
			}
		}
	}
	r.Vanished = []jsonVanished{}
	for _, v := range a.Vanished {
		it := diff.Item{Mode: v.Mode}
		jv := jsonVanished{Type: Type(&it), Entries: v.Entries, Bytes: v.Bytes, OldRoot: escape.Name(v.Root), AgeDays: v.AgeDays, DaysLeft: v.DaysLeft, Restore: RestoreCommand(a.Root, v)}
		jv.Path, jv.PathBase64 = jsonPath(v.Path)
		r.Vanished = append(r.Vanished, jv)
	}
	if wp := a.Wipe; wp != nil {
		r.Wipe = &jsonWipe{RootCreated: wp.RootCreated.UTC().Format(time.RFC3339), BootTime: wp.BootTime.UTC().Format(time.RFC3339), WipedThisBoot: wp.WipedThisBoot}
	}
	if p := a.PreviousRoot; p != nil {
		name, _ := jsonPath(p.Name)
		r.PreviousRoot = &jsonPrevious{Name: name, Time: p.Time.UTC().Format(time.RFC3339)}
	}
	r.Alerts = []jsonAlert{}
	for _, al := range a.Alerts {
		ja := jsonAlert{Kind: al.Kind.String(), Message: escape.Name(al.Message), PreviousRoot: escape.Name(al.Previous)}
		ja.Path, ja.PathBase64 = jsonPath(al.Path)
		switch al.Kind {
		case diff.OwnershipDrift:
			id, now := al.ID, escape.Name(al.NameNow)
			ja.IDKind, ja.ID, ja.NameNow, ja.NamePrevious, ja.Entries = al.IDKind, &id, &now, escape.Name(al.NameBefore), al.Entries
		case diff.HostKeyChanged:
			ja.Lost = al.Lost.String()
		}
		r.Alerts = append(r.Alerts, ja)
	}
	r.Warnings = []string{}
	if msg := a.Wipe.Warning(); msg != "" {
		r.Warnings = append(r.Warnings, escape.Name(msg))
	}
	for _, w := range a.Warnings {
		r.Warnings = append(r.Warnings, escape.Name(w.Message))
	}
	r.Errors = []jsonError{}
	for _, e := range a.Errors {
		p, _ := jsonPath(e.Path)
		r.Errors = append(r.Errors, jsonError{Path: p, Error: escape.Text(e.Err.Error())})
	}
	r.Diagnostics = []jsonDiag{}
	for _, d := range a.Decls.Diagnostics {
		r.Diagnostics = append(r.Diagnostics, diagJSON(d))
	}
	return writeJSONItems(w, &r, len(rows), func(i int) jsonItem { return item(rows[i]) })
}

// itemsKey is how the empty items array of a report reads in its indented
// JSON: the one place a key "items" sits at the top level (a string value
// holding it has its quotes escaped).
const itemsKey = "\n  \"items\": []"

// writeJSONItems writes r (whose Items is empty) as writeIndentedJSON
// does, with the n items item(i) in its items array, each encoded as it is
// written: a report of a million rows is never held as one document.
func writeJSONItems(w *bufio.Writer, r *jsonReport, n int, item func(i int) jsonItem) error {
	if n == 0 {
		return writeIndentedJSON(w, r)
	}
	var head bytes.Buffer
	if err := writeIndentedJSON(&head, r); err != nil {
		return err
	}
	doc := head.Bytes()
	at := bytes.Index(doc, []byte(itemsKey))
	if at < 0 {
		return errors.New("json: no items array in the report")
	}
	at += len(itemsKey) - 1 // at the closing bracket
	w.Write(doc[:at])
	// One encoder for every item: its buffers are reused.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("    ", "  ")
	for i := 0; i < n; i++ {
		buf.Reset()
		if err := enc.Encode(item(i)); err != nil {
			return err
		}
		if i > 0 {
			w.WriteByte(',')
		}
		w.WriteString("\n    ")
		w.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
	}
	w.WriteString("\n  ")
	_, err := w.Write(doc[at:])
	return err
}

func diagJSON(d persist.Diagnostic) jsonDiag {
	return jsonDiag{Position: escape.Text(d.Pos.String()), Severity: d.Severity.String(), Message: escape.Text(d.Message), Hint: escape.Text(d.Hint)}
}

// BeneathHint is the command that compares side (0: a, 1: b) of drift
// diff a b beneath its mounts when drift could not (audit.BeneathError):
// as root, a non-recursive bind mount of it, which shows it without the
// mounts below it; else the same drift diff as root.
func BeneathHint(a, b string, side int, root bool) string {
	args := []string{a, b}
	if !root {
		return fmt.Sprintf("reading it beneath its mounts needs root: sudo drift diff %s %s", ShellQuote(args[0]), ShellQuote(args[1]))
	}
	given := args[side]
	args[side] = "/mnt/beneath"
	return fmt.Sprintf("a bind mount without --rbind shows it without the mounts below it: mkdir -p /mnt/beneath && mount --bind %s /mnt/beneath && drift diff %s %s; umount /mnt/beneath",
		ShellQuote(given), ShellQuote(args[0]), ShellQuote(args[1]))
}
