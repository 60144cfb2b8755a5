package report

import (
	"bufio"
	"fmt"
	model "github.com/nix-drift/drift/internal/audit"
	"io"
	"slices"
	"strings"

	"github.com/nix-drift/drift/internal/adopt"
	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/escape"
	"github.com/nix-drift/drift/internal/persist"
	"github.com/nix-drift/drift/internal/suggest"
	"github.com/nix-drift/drift/internal/units"
	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
)

// SuggestFormats lists the values --format takes for drift suggest.
var SuggestFormats = []string{"table", "nix", "json"}

// SuggestReport is what drift suggest renders.
type SuggestReport struct {
	// Root is the audited root; Args the flags that pointed drift at it
	// (diff.Audit.Args), passed on in the drift adopt commands.
	Root string
	Args []string
	// StoragePath is where new declarations go.
	StoragePath string
	// Module is the NixOS module they are written for (suggest.Result's:
	// persist.Impermanence, or "", or persist.Preservation); ModuleNote,
	// when the configuration declares with both, says which and why.
	Module, ModuleNote string
	// SaveAs is where --format nix asks its module to be saved
	// (suggest.Result's), and the commands it prints for afterwards read
	// it (SuggestModuleArgs).
	SaveAs suggest.ModuleFile
	// Boots is --boots; OldRoots the old roots compared, newest first.
	Boots    int
	OldRoots []string
	// Suggestions in report order (suggest.SortSuggestions).
	Suggestions []suggest.Suggestion
	// Left counts the lost paths no suggestion stands for, by reason
	// (suggest.Suggest).
	Left []suggest.Left
	// Warnings are what the audit and the suggestions warned about.
	Warnings []diff.Warning
}

// WriteSuggest renders r to w as format: "table", "nix" or "json".
func WriteSuggest(w io.Writer, r *SuggestReport, format string) error {
	bw := bufio.NewWriterSize(w, 64*1024)
	var err error
	switch format {
	case "", "table":
		err = writeSuggestTable(bw, r)
	case "nix":
		err = WriteNix(bw, r)
	case "json":
		err = writeSuggestJSON(bw, r)
	default:
		return fmt.Errorf("unknown format %q: expected one of %s", format, strings.Join(SuggestFormats, ", "))
	}
	if err != nil {
		return err
	}
	return bw.Flush()
}

// noteWidth is the widest the NOTE column gets before it wraps.
const noteWidth = 56

// typeName is the TYPE of a suggestion: dir, file, or symlink (stray
// data only).
func typeName(s *suggest.Suggestion) string {
	switch {
	case s.Symlink:
		return "symlink"
	case s.Kind == persist.File:
		return "file"
	}
	return "dir"
}

// LeftLine is one suggest.Left of r as a line: "left to you: 2 paths
// (/etc/machine-id, /etc/adjtime): symlinks into the persistent storage
// path: …", ending with the drift adopt command that keeps them when one
// does, or the two that say which side wins where the persistent copy
// differs (LeftAdopt).
func LeftLine(r *SuggestReport, l suggest.Left) string {
	ex := make([]string, len(l.Examples))
	for i, p := range l.Examples {
		ex[i] = escape.Name(p)
	}
	more := ""
	if l.Count > len(l.Examples) {
		more = ", …"
	}
	line := fmt.Sprintf("left to you: %s (%s%s): %s", units.Plural(int64(l.Count), "path", "paths"), strings.Join(ex, ", "), more, escape.Name(l.Reason))
	cmd, live, persistent := LeftAdopt(r, l)
	switch {
	case cmd != "":
		line += "; keep them: " + cmd
	case live != "" && persistent == "":
		// diff.KeepCopyBack: the copy's version comes back anyway.
		if len(l.Newer) > 0 {
			line += "; the persistent copy is NEWER at " + strings.Join(escapeAll(l.Newer), ", ")
		}
		line += "; to keep the live version instead: " + live
	case live != "":
		line += leftChoice(r, l)
	}
	if c := LeftByHand(r, l); c != "" {
		line += "; to keep what the mount shows: " + c
	}
	return line
}

// LeftByHand is, for the paths of l that mounts with a deleted root show
// (diff.KeepShownDeleted, suggest.Left.ByHand), the copies by hand that
// keep what they show (adopt.KeepDeletedCommand), joined by "; "; "" for
// any other Left.
func LeftByHand(r *SuggestReport, l suggest.Left) string {
	var cs []string
	for _, b := range l.ByHand {
		cs = append(cs, adopt.KeepDeletedCommand(r.Root, b.MountPoint, b.Copy, b.Dir))
	}
	return strings.Join(cs, "; ")
}

// LeftAdopt is, for the paths of l that drift adopt keeps
// (diff.KeepAdopt), the drift adopt command of their declared paths
// (suggest.Left.Adopt); where the persistent copy differs
// (diff.KeepChoose), the two commands that keep the live objects (--prefer
// live) or the copy's (--prefer persistent); where it differs and lacks
// nothing (diff.KeepCopyBack), only --prefer live (--prefer persistent
// would change nothing), as drift check's rows print them (RowAdopt,
// RowAdoptPrefer). All "" for any other Left.
func LeftAdopt(r *SuggestReport, l suggest.Left) (cmd, live, persistent string) {
	if len(l.Adopt) == 0 {
		return "", "", ""
	}
	switch l.Keep {
	case diff.KeepAdopt, diff.KeepUndeclare:
		return AdoptCommand(r.Root, r.Args, l.Adopt...), "", ""
	case diff.KeepChoose:
		return "", adopt.Command(r.Root, r.Args, adopt.PreferLive, l.Adopt...), adopt.Command(r.Root, r.Args, adopt.PreferPersistent, l.Adopt...)
	case diff.KeepCopyBack:
		return "", adopt.Command(r.Root, r.Args, adopt.PreferLive, l.Adopt...), ""
	}
	return "", "", ""
}

func writeSuggestTable(w *bufio.Writer, r *SuggestReport) error {
	if len(r.Suggestions) == 0 {
		msg := "nothing to suggest: no unpersisted path and no stray data under the persistent storage path"
		if len(r.Left) > 0 {
			msg = "nothing to suggest: no stray data under the persistent storage path, and no unpersisted path to declare"
		}
		fmt.Fprintln(w, msg)
		for _, l := range r.Left {
			fmt.Fprintln(w, LeftLine(r, l))
		}
		return nil
	}
	t := newTable(w)
	t.Configure(func(cfg *tablewriter.Config) {
		cfg.Row.ColMaxWidths.PerColumn = tw.Mapper[int, int]{9: noteWidth}
	})
	t.Header("#", "SUGGEST", "PATH", "TYPE", "ENTRIES", "SIZE", "BOOTS", "CHANGED", "CONFIDENCE", "NOTE")
	refs := &cmdRefs{}
	for _, s := range r.Suggestions {
		boots, changed := "-", "-"
		stray := s.Action == suggest.DeclareOrRemove || s.Action == suggest.InUse
		if s.Boots > 0 && !stray {
			boots, changed = fmt.Sprintf("%d/%d", s.Seen, s.Boots), fmt.Sprint(s.Changed)
		}
		conf := s.Confidence
		if stray {
			conf = "-"
		}
		if err := t.Append([]string{fmt.Sprint(s.Rank), string(s.Action), escape.Line(s.Path), typeName(&s),
			fmt.Sprint(s.Entries), units.Bytes(s.Bytes), boots, changed, conf, escape.Text(s.NoteCmds(escape.Name, refs.ref))}); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	refs.write(w)
	var sources []string
	for _, s := range r.Suggestions {
		if s.Fact != nil {
			sources = append(sources, fmt.Sprintf("  %d: %s", s.Rank, escape.Text(s.Fact.Source)))
		}
		for _, h := range s.Holds {
			sources = append(sources, fmt.Sprintf("  %d: %s: %s", s.Rank, escape.Name(h.Path), escape.Text(h.Fact.Source)))
		}
	}
	if len(sources) > 0 {
		fmt.Fprintf(w, "sources (drift's knowledge base):\n%s\n", strings.Join(sources, "\n"))
	}
	if cmd := SuggestAdopt(r, SuggestModuleArgs(r)); cmd != "" {
		// The module --format nix prints, saved where it says: the command
		// reads it (SuggestModuleArgs), as that output's does.
		fmt.Fprintf(w, "once declared (the module drift suggest --format nix prints, saved as %s), copy what is there now into persistent storage (before the next reboot): %s\n", escape.Name(r.SaveAs.Path), cmd)
	}
	for _, l := range r.Left {
		fmt.Fprintln(w, LeftLine(r, l))
	}
	_, err := fmt.Fprintln(w, SuggestSummary(r))
	return err
}

// SuggestSummary is the one-line verdict: how many suggestions of each
// action, and which old roots were compared.
func SuggestSummary(r *SuggestReport) string {
	counts := map[suggest.Action]int64{}
	var bytes int64
	for _, s := range r.Suggestions {
		counts[s.Action]++
		if s.Action == suggest.Persist {
			bytes += s.Bytes
		}
	}
	parts := []string{
		fmt.Sprintf("%d to persist (%s)", counts[suggest.Persist], units.Bytes(bytes)),
		fmt.Sprintf("%d to ignore", counts[suggest.Ignore]),
		fmt.Sprintf("%d stray in persistent storage", counts[suggest.DeclareOrRemove]),
	}
	if n := counts[suggest.InUse]; n > 0 {
		parts = append(parts, fmt.Sprintf("%d in use though declared by nothing", n))
	}
	s := strings.Join(parts, ", ")
	switch n := len(r.OldRoots); {
	case n == 0:
		s += "; no old root compared (history unknown)"
	default:
		s += fmt.Sprintf("; compared with the last %s (%s)", units.Plural(int64(n), "old root", "old roots"), escape.Name(strings.Join(r.OldRoots, ", ")))
	}
	if counts[suggest.Persist] > 0 {
		s += "; --format nix prints the declarations"
	}
	return s
}

// NixString is escape.Nix: s as a Nix string, ok false when it cannot
// be written printably.
func NixString(s string) (string, bool) { return escape.Nix(s) }

// nixEntry is one element of a directories or files list of module
// (persist.Impermanence or persist.Preservation). A file's Attrs are its
// parent directory's: impermanence's parentDirectory, preservation's
// parent (with configureParent, without which preservation leaves the
// parent root's 0755).
func nixEntry(s *suggest.Suggestion, path, module string) (string, bool) {
	q, ok := NixString(path)
	if !ok {
		return "", false
	}
	if s.Attrs == nil {
		return q, true
	}
	var attrs []string
	for _, kv := range [][2]string{{"user", s.Attrs.User}, {"group", s.Attrs.Group}, {"mode", s.Attrs.Mode}} {
		if kv[1] == "" {
			continue
		}
		v, ok := NixString(kv[1])
		if !ok {
			return "", false
		}
		attrs = append(attrs, kv[0]+" = "+v+";")
	}
	switch {
	case s.Kind == persist.File && module == persist.Preservation:
		return "{ file = " + q + "; configureParent = true; parent = { " + strings.Join(attrs, " ") + " }; }", true
	case s.Kind == persist.File:
		return "{ file = " + q + "; parentDirectory = { " + strings.Join(attrs, " ") + " }; }", true
	}
	return "{ directory = " + q + "; " + strings.Join(attrs, " ") + " }", true
}

// nixLists are one environment.persistence entry's (or one user's) lists.
type nixLists struct {
	dirs, files []string
}

// WriteNix prints the Persist suggestions as a NixOS module for the module
// r.Module names: impermanence's environment.persistence."<storage path>"
// or preservation's preservation.preserveAt."<storage path>", with
// directories and files (paths in a home under users.<name>, relative to
// it), each in the attrset form when the live directory's owner or mode is
// not the module's default, and a comment with its rank and confidence.
// Ignore suggestions follow as comments with the drift check --ignore
// rule, stray data as comments (never declarations). A path Nix cannot
// spell printably is a comment too. The output parses with
// persist.ParseNix.
func WriteNix(w *bufio.Writer, r *SuggestReport) error {
	module, option := persist.Impermanence, "environment.persistence"
	if r.Module == persist.Preservation {
		module, option = persist.Preservation, "preservation.preserveAt"
	}
	type key struct{ sp, user string }
	lists := map[key]*nixLists{}
	var storages []string
	users := map[string][]string{}
	var unprintable []string
	for i := range r.Suggestions {
		s := &r.Suggestions[i]
		if !s.Declares() {
			continue
		}
		p := s.Path
		if s.User != "" {
			p = s.Rel
		}
		e, ok := nixEntry(s, p, module)
		if !ok {
			unprintable = append(unprintable, escape.Name(s.Path))
			continue
		}
		e += fmt.Sprintf(" # %d, %s", s.Rank, s.Confidence)
		k := key{s.StoragePath, s.User}
		l := lists[k]
		if l == nil {
			l = &nixLists{}
			lists[k] = l
			if !slices.Contains(storages, s.StoragePath) {
				storages = append(storages, s.StoragePath)
			}
			if s.User != "" {
				users[s.StoragePath] = append(users[s.StoragePath], s.User)
			}
		}
		if s.Kind == persist.File {
			l.files = append(l.files, e)
		} else {
			l.dirs = append(l.dirs, e)
		}
	}
	fmt.Fprintf(w, "# drift suggest for %s: what to persist, as a NixOS module for %s (%s).\n", escape.Name(r.Root), module, option)
	if r.ModuleNote != "" {
		fmt.Fprintf(w, "# %s.\n", escape.Text(r.ModuleNote))
	}
	if r.SaveAs.Path != "" {
		fmt.Fprintf(w, "# %s\n", saveAsLine(r.SaveAs))
	}
	fmt.Fprintf(w, "# drift-lint: module (a part of a configuration: drift lint does not look here for what a host lacks)\n")
	fmt.Fprintf(w, "{\n")
	if len(storages) == 0 {
		fmt.Fprintf(w, "  # nothing to persist\n")
	}
	for _, sp := range storages {
		q, ok := NixString(sp)
		if !ok {
			unprintable = append(unprintable, escape.Name(sp))
			continue
		}
		fmt.Fprintf(w, "  %s.%s = {\n", option, q)
		if l := lists[key{sp, ""}]; l != nil {
			writeNixList(w, "    ", "directories", l.dirs)
			writeNixList(w, "    ", "files", l.files)
		}
		for _, u := range users[sp] {
			l := lists[key{sp, u}]
			fmt.Fprintf(w, "    users.%s = {\n", nixAttrName(u))
			writeNixList(w, "      ", "directories", l.dirs)
			writeNixList(w, "      ", "files", l.files)
			fmt.Fprintf(w, "    };\n")
		}
		fmt.Fprintf(w, "  };\n")
	}
	fmt.Fprintf(w, "}\n")
	args := SuggestModuleArgs(r)
	if cmd := SuggestAdopt(r, args); cmd != "" {
		fmt.Fprintf(w, "# Once saved there, copy what is there now into persistent storage (before the next reboot):\n#   %s\n", cmd)
	}
	if rs := SuggestRestores(r, args); len(rs) > 0 {
		fmt.Fprintf(w, "# Vanished at the last wipe; once saved there, put back into the persistent copy:\n#   %s\n", strings.Join(rs, "\n#   "))
	}
	var ignores, strays, inUse, secrets []string
	for _, s := range r.Suggestions {
		if s.Action == suggest.Persist && !s.Declares() {
			secrets = append(secrets, fmt.Sprintf("#   %d %s: %s", s.Rank, escape.Name(s.Path), escape.Text(s.Note(escape.Name))))
		}
		switch s.Action {
		case suggest.Ignore:
			ignores = append(ignores, fmt.Sprintf("#   --ignore %s", ShellQuote(IgnoreRule(s.Path))))
		case suggest.InUse:
			inUse = append(inUse, fmt.Sprintf("#   %s: %s", escape.Name(s.Path), escape.Text(escape.Name(strings.Join(s.UsedBy, "; ")))))
		case suggest.DeclareOrRemove:
			strays = append(strays, fmt.Sprintf("#   %s (%s, %s)", escape.Name(s.Path), units.Plural(s.Entries, "entry", "entries"), units.Bytes(s.Bytes)))
		}
	}
	if len(secrets) > 0 {
		fmt.Fprintf(w, "# Secrets read at boot before the persistence mounts exist, not declared here (declaring one makes an early reader): keep each as it says:\n%s\n", strings.Join(secrets, "\n"))
	}
	if len(ignores) > 0 {
		fmt.Fprintf(w, "# Not worth persisting (caches, regenerated at every boot); for drift check:\n%s\n", strings.Join(ignores, "\n"))
	}
	if len(inUse) > 0 {
		fmt.Fprintf(w, "# In persistent storage, declared by nothing but in use: keep it (drift never removes it); declare it to keep the use across boots:\n%s\n", strings.Join(inUse, "\n"))
	}
	if len(strays) > 0 {
		fmt.Fprintf(w, "# In persistent storage, declared by nothing: declare again, or move it aside: %s (drift prune --undo ID puts it back; drift prune --list shows the IDs):\n%s\n", escape.DriftCommand([]string{"prune"}, r.Root, model.PruneArgs(r.Args)), strings.Join(strays, "\n"))
	}
	if len(unprintable) > 0 {
		fmt.Fprintf(w, "# Not printable as a Nix string (declare by hand):\n#   %s\n", strings.Join(unprintable, "\n#   "))
	}
	for _, l := range r.Left {
		fmt.Fprintf(w, "# %s\n", escape.Text(LeftLine(r, l)))
	}
	return nil
}

// SuggestAdopt is the drift adopt command (AdoptCommand) for every path
// suggested to persist that the Nix snippet declares (a path Nix cannot
// spell printably is left out, as it is from the snippet) and that is on
// the live root (not suggest.Suggestion.OnlyVanished: its restore puts it
// into the copy), reading the declarations args name (SuggestModuleArgs:
// with the module once saved); "" for none.
func SuggestAdopt(r *SuggestReport, args []string) string {
	var ps []string
	for _, s := range r.Suggestions {
		if _, ok := NixString(s.Path); ok && s.Declares() && !s.OnlyVanished() {
			ps = append(ps, s.Path)
		}
	}
	if len(ps) == 0 {
		return ""
	}
	return AdoptCommand(r.Root, args, ps...)
}

// saveAsLine says where to save the module --format nix prints (f): a
// new file, beside the files of the names taken, which it says to leave
// as they are.
func saveAsLine(f suggest.ModuleFile) string {
	line := "Save it as " + escape.Name(f.Path) + " and add it to the imports of your configuration"
	taken := escapeAll(f.Taken)
	switch {
	case f.Err != nil:
		line += " (drift could not tell whether a file is there: " + escape.Text(f.Err.Error()) + "; never save over one)"
	case len(taken) == 1:
		line += " (a new file: " + taken[0] + " exists already; leave it as it is)"
	case len(taken) > 1:
		line += " (a new file: " + strings.Join(taken, ", ") + " exist already; leave them as they are)"
	}
	return line + "."
}

// SuggestModuleArgs are r.Args with --persist r.SaveAs.Path added
// (unless named already, or none is set): the declarations the commands --format nix
// prints for after its module is saved read, so they run as printed once
// it is saved there, before anything imports it (a configuration read
// from etc/drift/declarations.json is not read again until the next
// switch) and after (persist.Load reads a file it imported once).
func SuggestModuleArgs(r *SuggestReport) []string {
	f := r.SaveAs.Path
	if f == "" {
		return r.Args
	}
	for i := 0; i+1 < len(r.Args); i += 2 {
		if r.Args[i] == "--persist" && r.Args[i+1] == f {
			return r.Args
		}
	}
	return append(slices.Clone(r.Args), "--persist", f)
}

// IgnoreRule is the drift check --ignore pattern that matches exactly the
// path p and what is below it: p with the path.Match metacharacters
// (*, ?, [ and \) escaped by a backslash.
func IgnoreRule(p string) string {
	return strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`).Replace(p)
}

func writeNixList(w *bufio.Writer, indent, name string, items []string) {
	if len(items) == 0 {
		return
	}
	fmt.Fprintf(w, "%s%s = [\n", indent, name)
	for _, it := range items {
		fmt.Fprintf(w, "%s  %s\n", indent, it)
	}
	fmt.Fprintf(w, "%s];\n", indent)
}

// nixAttrName is a user name as a Nix attribute name: bare when it is an
// identifier, else quoted.
func nixAttrName(s string) string {
	ok := s != ""
	for i, c := range s {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && (c >= '0' && c <= '9' || c == '-' || c == '\'')) {
			ok = false
		}
	}
	if ok {
		return s
	}
	q, _ := NixString(s)
	return q
}

// leftChoice is LeftLine's end for a Left whose declared paths' persistent
// copy differs and lacks something (diff.KeepChoose): the newer side first
// for each declared path (adopt.ChoiceNewer's words), those whose copy is
// newer somewhere (suggest.Left.NewerAdopt) apart from the others, so
// that --prefer live never comes first where it replaces newer data, nor
// --prefer persistent where the live side is newer.
func leftChoice(r *SuggestReport, l suggest.Left) string {
	var rest []string
	for _, d := range l.Adopt {
		if !slices.Contains(l.NewerAdopt, d) {
			rest = append(rest, d)
		}
	}
	s := ""
	if len(l.NewerAdopt) > 0 {
		s += "; " + adopt.ChoiceNewer(r.Root, r.Args, escapeAll(l.Newer), l.NewerAdopt...)
	}
	if len(rest) > 0 {
		s += "; " + adopt.Choice(r.Root, r.Args, rest...)
	}
	return s
}
