package report

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nix-drift/drift/internal/adopt"
	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/escape"
	"github.com/nix-drift/drift/internal/knowledge"
	"github.com/nix-drift/drift/internal/pathx"
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
// (escape.Line: a leading or trailing space too) and newline-terminated,
// or raw bytes NUL-terminated.
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
			p = escape.Line(p)
		}
		w.WriteString(p)
		if err := w.WriteByte(sep); err != nil {
			return err
		}
	}
	return nil
}

// Why explains a row in one short line, naming the declaration when there
// is one, and, for a row that stands for a boot secret (diff.Audit.SecretsAt:
// a password file, a host key, a sops-nix or agenix key), what losing it
// does at the next boot.
func Why(a *diff.Audit, it *diff.Item) string {
	s := lostWhy(a, it)
	for _, r := range a.SecretsAt(it.Path) {
		s += "; " + escape.Name(diff.SecretWhy(r, it.Path))
	}
	return s
}

// lostWhy is Why without the boot secrets.
func lostWhy(a *diff.Audit, it *diff.Item) string {
	if d := a.DeletedAt(it.Path); d != nil && it.Visible() {
		return deletedWhy(a, it, d)
	}
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
			s += "; " + copyComesBack(it, escape.Name(diff.CopyOf(&d, it.Path)), time.Time{})
		}
		return s
	case it.Category == diff.Covered && !it.Visible():
		s := "on the persistent filesystem at " + escape.Name(a.LiesOn(it)) + " beneath a declared mount point: hidden from view now, not deleted"
		switch {
		case it.Copy == diff.CopyDiffers:
			return s + fmt.Sprintf("; the copy mount %d shows at %s has other contents", it.Mount, escape.Name(it.Path))
		case it.Mount != 0:
			return s + fmt.Sprintf("; the copy mount %d shows lacks it", it.Mount)
		}
		return s
	case it.Category == diff.Covered && it.Decl < 0:
		where, with := wipedOn(a, it)
		return where + " where the next boot mounts another filesystem (fileSystems, /etc/fstab, or an API filesystem: /proc, /sys, /dev, /run; not mounted now): hidden then, and deleted with " + with
	case it.Category == diff.Shadowed:
		where, _ := wipedOn(a, it)
		s := where + " under a mount point"
		switch {
		case it.Mount == 0:
			return s
		case it.Copy == diff.CopyDiffers:
			return s + fmt.Sprintf("; %s has other contents at %s: it is what the next boot shows", shownOver(a, it), escape.Name(it.Path))
		}
		return s + "; " + shownOver(a, it) + " lacks it"
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
	case a.RootBindOf(it) != nil:
		b := a.RootBindOf(it)
		rest, _ := pathx.Rel(b.Source, it.Path)
		return fmt.Sprintf("not declared; also shown at %s (bind mount %d of %s), which keeps nothing: deleted with the root", escape.Name(path.Join(b.Mount.MountPoint, rest)), b.Mount.ID, escape.Name(b.Source))
	case it.Category == diff.Unpersisted && it.Subvolume:
		return "nested subvolume, not declared"
	case it.Category == diff.Unpersisted && isLinkIntoStorage(a, it):
		return diff.LinkIntoStorageWhy
	case it.Category == diff.Unpersisted && it.Mode&0o170000 == 0o120000 && strings.HasPrefix(it.Target(), "/nix/store/"):
		return "link into /nix/store, not declared: nothing re-creates it"
	}
	if it.Category == diff.Unpersisted {
		return unpersistedWhy(a, it)
	}
	return it.Category.Why()
}

// unpersistedWhy is lostWhy's last words for an unpersisted path: the
// knowledge base's ignore fact (matched once, in the home a.Homes place it
// in), made again at every boot, the previous root's, else the category's.
func unpersistedWhy(a *diff.Audit, it *diff.Item) string {
	if f, at := ignoreFact(a.Homes, it.Path); f != nil {
		if at != it.Path {
			at = " " + escape.Name(at)
		} else {
			at = " it"
		}
		return "not declared; " + f.What + " (drift suggest: --ignore" + at + ")"
	}
	switch {
	case it.Regen == diff.RegenYes:
		return "not declared; the same in every old root compared: " + diff.SameMeans + " (drift suggest: --ignore it)"
	case it.History == diff.HistorySame && it.Regen.NotRegenWhy() != "":
		return "not declared; the same in the previous root, " + it.Regen.NotRegenWhy()
	}
	return it.Category.Why()
}

// matchers are knowledge.Builtin's matchers for the WHY of lost paths
// (a Matcher keeps the facts of the last directory asked: paths come in
// path order), one per goroutine at a time.
var matchers = sync.Pool{New: func() any { return knowledge.Builtin().Matcher() }}

// factMatch is the built-in knowledge base's fact for p (p's, or its
// nearest ancestor's, in the home knowledge.HomeOf finds among homes,
// diff.Audit.Homes, /root and /home/NAME: the model's homes, which drift
// suggest matches in too), nil for none, and the path it names.
func factMatch(homes []string, p string) (*knowledge.Fact, string) {
	if p == "/" {
		return nil, ""
	}
	m := matchers.Get().(*knowledge.Matcher)
	defer matchers.Put(m)
	i, at := m.MatchIndex(p, knowledge.HomeOf(homes, p))
	if i < 0 {
		return nil, ""
	}
	return &m.Knowledge().Facts[i], at
}

// ignoreFact is the fact factMatch finds for p, and the path it names,
// when it says ignore (a cache, temporary files): drift suggest's Ignore
// of the path it names reads the same fact, so check's WHY says its words.
// nil otherwise.
func ignoreFact(homes []string, p string) (*knowledge.Fact, string) {
	if f, at := factMatch(homes, p); f != nil && f.Action == "ignore" {
		return f, at
	}
	return nil, ""
}

// deletedWhy explains a path shown through the mount d, whose root was
// deleted since the mount (diff.Audit.Deleted).
func deletedWhy(a *diff.Audit, it *diff.Item, d *diff.DeletedMount) string {
	s := fmt.Sprintf("shown by mount %d from %s, deleted since it was mounted: in no persistent storage, gone at the next boot", d.Mount.ID, escape.Name(d.Source))
	if it.Decl < 0 || int(it.Decl) >= len(a.Decls.Entries) {
		return s
	}
	e := a.Decls.Entries[it.Decl]
	s += "; declared " + e.Kind.String()
	if e.Path != it.Path {
		s = strings.Replace(s, "; declared ", "; inside declared ", 1) + " " + escape.Name(e.Path)
	}
	if p := e.Pos.String(); p != "" {
		s += " (" + escape.Name(p) + ")"
	}
	if it.Copy == diff.CopyDiffers {
		return s + ": the next boot shows its copy " + escape.Name(diff.CopyOf(&e, it.Path)) + ", other bytes"
	}
	return s + ": its copy " + escape.Name(diff.CopyOf(&e, it.Path)) + " lacks it"
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
		refs := &cmdRefs{}
		for _, r := range rows {
			top := topDir(r.Item.Path)
			shown := escape.Line(top)
			if top == prev {
				shown = ""
			}
			prev = top
			p := escape.Line(r.Item.Path)
			if r.Entries > 1 {
				p += "/"
			}
			cells := []string{shown, p, paint(opts.Color, r.Item.Category, r.Item.Category.String()), Type(r.Item), fmt.Sprint(r.Entries), units.Bytes(r.Bytes)}
			if hist {
				h := r.History()
				if h == "" {
					h = "-"
				}
				cells = append(cells, h)
			}
			if err := t.Append(append(cells, paint(opts.Color, r.Item.Category, rowWhy(a, r, refs)))); err != nil {
				return err
			}
		}
		if err := t.Render(); err != nil {
			return err
		}
		refs.write(w)
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
// that nothing holds now (not declared, or declared and missing from its
// persistent copy, or replaced there by other bytes: Vanished.Replaced,
// which the header names when a row is), with the command that gets it
// back.
func writeVanished(w *bufio.Writer, a *diff.Audit) error {
	if len(a.Vanished) == 0 {
		return nil
	}
	where := "in no persistent copy"
	if slices.ContainsFunc(a.Vanished, func(v diff.Vanished) bool { return v.Replaced() }) {
		where = "in no persistent copy or replaced by other bytes of it"
	}
	fmt.Fprintf(w, "\nVANISHED at the last reboot, %s (still in old_roots/%s):\n", where, escape.Name(a.Vanished[0].Root))
	t := newTable(w)
	t.Header("PATH", "TYPE", "ENTRIES", "SIZE", "OLD ROOT", "AGE", "DAYS LEFT", "RESTORE")
	for _, v := range a.Vanished {
		p := escape.Line(v.Path)
		if v.Entries > 1 {
			p += "/"
		}
		it := diff.Item{Mode: v.Mode, Subvolume: v.Subvolume}
		restore := v.RestoreCommand(a.Root, a.Args)
		if v.NewerCopy {
			restore = "none printed: the persistent copy's bytes are as new or newer (see below)"
		}
		if v.PersistentCopy != "" {
			restore = "none: the old root holds only its empty mount point; its data is in " + escape.Name(v.PersistentCopy) + ", declared by nothing: declare " + escape.Name(v.Path) + " again"
		}
		if err := t.Append([]string{p, Type(&it), fmt.Sprint(v.Entries), units.Bytes(v.Bytes), escape.Name(v.Root),
			fmt.Sprintf("%dd", v.AgeDays), fmt.Sprint(v.DaysLeft), restore}); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	for _, v := range a.Vanished {
		if v.Decl != "" {
			fmt.Fprintln(w, "Declared paths above (no --to live) were not mounted from their persistent copy at that boot: their data lay on the root the wipe took, and the restore puts it into the copy.")
			break
		}
	}
	for _, v := range a.Vanished {
		if v.StaleCopy {
			fmt.Fprintln(w, "Paths restored with --force: their persistent copy holds other, older bytes, the stale copy shown in their place now; the restore replaces it with the old root's.")
			break
		}
	}
	for _, v := range a.Vanished {
		if v.NewerCopy {
			fmt.Fprintln(w, "Paths with no restore printed: their persistent copy holds other bytes, changed no earlier than the old root's, shown in their place now. The old root's lay on the root at that boot unless the copy was mounted over the path during that boot (drift adopt --mount, a switch that declared it), and drift cannot tell which to keep: compare them before choosing; drift restore PATH --from OLDROOT --force --beneath-mount replaces the copy's with the old root's (docs/restore.md).")
			break
		}
	}
	for _, v := range a.Vanished {
		if v.MountedCopy != "" && !v.NewerCopy {
			fmt.Fprintln(w, "Declared files restored between umount and mount --bind: drift restore never replaces a file a mount shows; stop what uses the file first.")
			break
		}
	}
	_, err := fmt.Fprintln(w)
	return err
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

// RowAdopt is the drift adopt command (AdoptCommand) that copies a lost
// row into the persistent copy a declaration already gives it: a
// declared-unbacked row, a shadowed one below a declared path (hidden
// under its bind mount), or a covered one (on another persistent
// filesystem, hidden by the next boot's mount of the copy). "" for any
// other row (nothing declared to adopt it into), and for a row whose
// persistent copy holds something else (diff.KeepCopyBack): drift adopt
// refuses it without --prefer (RowAdoptPrefer).
func RowAdopt(a *diff.Audit, it *diff.Item) string {
	if _, ok := a.AdoptDecl(it); !ok || it.Copy == diff.CopyDiffers {
		return ""
	}
	if k, _ := a.Keep(it); k == diff.KeepCopyBack {
		return ""
	}
	return AdoptCommand(a.Root, a.Args, it.Path)
}

// RowAdoptPrefer is, for a row RowAdopt leaves out because its persistent
// copy holds another object there (diff.KeepCopyBack), the drift adopt
// command that keeps the live object (--prefer live), and the one that
// keeps the persistent copy's (--prefer persistent) only where it would
// copy something the copy lacks (never for such a row: the copy's object
// comes back at the next boot anyway); "" for any other row.
func RowAdoptPrefer(a *diff.Audit, it *diff.Item) (live, persistent string) {
	at := a.CopyBackAt(it) // the path itself, or the directory above it the copy holds as another type
	if at == "" {
		return "", ""
	}
	return adopt.Command(a.Root, a.Args, adopt.PreferLive, at), ""
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

// replacedRows counts the rows of a.Vanished whose persistent copy holds
// other bytes, shown in place of the old root's (diff.Vanished.Replaced).
func replacedRows(a *diff.Audit) int {
	n := 0
	for _, v := range a.Vanished {
		if v.Replaced() {
			n++
		}
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
// category, and what was scanned. The count leaves ignored paths out,
// with all (--all, which shows them in the table) as without: --all shows
// more rows, it does not change what counts as lost (nor the exit status,
// which counts the same).
func Summary(a *diff.Audit, all bool) string {
	lost := a.LostTotal(false)
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
			extra = append(extra, fmt.Sprintf("%d ignored (shown, not counted)", t.Count))
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
		hc := historyCounts(a, false)
		var hs []string
		for _, h := range diff.Histories {
			hs = append(hs, fmt.Sprintf("%d %s", hc[h].Count, h))
		}
		extra = append(extra, "since the previous boot: "+strings.Join(hs, ", "))
	}
	if n := vanishedEntries(a); n > 0 {
		s := units.Plural(n, "path", "paths") + " vanished at the last reboot"
		if r := replacedRows(a); r > 0 {
			s += fmt.Sprintf(" (%d replaced by other bytes of their persistent copy)", r)
		}
		extra = append(extra, s)
	}
	extra = append(extra, units.Plural(a.Scanned, "entry", "entries")+" scanned")
	if len(a.Errors) > 0 {
		extra = append(extra, fmt.Sprintf("%d unreadable", len(a.Errors)))
	}
	return s + "; " + strings.Join(extra, ", ")
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
