package report

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	"github.com/nix-drift/drift/internal/adopt"
	"github.com/nix-drift/drift/internal/escape"
	"github.com/nix-drift/drift/internal/jsonschema"
	"github.com/nix-drift/drift/internal/pathx"
	"github.com/nix-drift/drift/internal/persist"
	"github.com/nix-drift/drift/internal/restore"
	"github.com/nix-drift/drift/internal/units"
)

// AdoptFormats are the --format values of drift adopt.
var AdoptFormats = []string{"table", "json", "summary"}

// AdoptCommand is the drift adopt command line for the live paths ps
// (adopt.Command, without --prefer): root and args (diff.Audit.Args) are
// passed on, so the command sees the same machine.
func AdoptCommand(root string, args []string, ps ...string) string {
	return adopt.Command(root, args, adopt.PreferNone, ps...)
}

// AdoptDeclaration is the Nix declaration that would cover the live path
// p (the refusal's hint): a directories or files entry of
// environment.persistence.<storage>, or preservation.preserveAt.<storage>
// when e.Module is persist.Preservation. ok is false when p cannot be
// written as a Nix string printably.
func AdoptDeclaration(e *adopt.UndeclaredError) (string, bool) {
	q, ok := NixString(e.Path)
	s, ok2 := NixString(e.Storage)
	if !ok || !ok2 {
		return "", false
	}
	list := "directories"
	if e.File {
		list = "files"
	}
	option := "environment.persistence"
	if e.Module == persist.Preservation {
		option = "preservation.preserveAt"
	}
	return fmt.Sprintf("%s.%s.%s = [ %s ];", option, s, list, q), true
}

// AdoptState says how an adopt run ended, for the heading of its report.
type AdoptState int

// The states of an adopt report.
const (
	AdoptDone    AdoptState = iota // written
	AdoptDryRun                    // --dry-run: nothing changed
	AdoptRefused                   // differing objects without --prefer: nothing changed
)

// WriteAdopt renders res in format (AdoptFormats) for the system at root,
// which args (diff.Audit.Args) named; the adopt commands it prints carry them.
// The table has one block per path: its declaration, where its data is
// read and where it goes, each object (every one copied in a dry run or
// refusal; the summary otherwise), and what the running system and the
// next boot show; then the open files. With no path (drift adopt
// --pending, nothing pending) the table and the summary say so (JSON:
// paths empty).
func WriteAdopt(w io.Writer, root string, args []string, res *adopt.Result, state AdoptState, format string) error {
	bw := bufio.NewWriter(w)
	switch format {
	case "json":
		writeAdoptJSON(bw, root, res, state)
	case "summary":
		writeAdoptSummary(bw, root, args, res, state)
	default:
		writeAdoptTable(bw, root, args, res, state)
	}
	return bw.Flush()
}

// writeUnseen says of the undeclared path p, which a persistent mount
// shows, that drift did not look beneath that mount (adopt.Path.Unseen),
// and how to: the same adopt without the flag that stopped it (args,
// diff.Audit.Args, hold --mountinfo, not --root-subvol: the command
// printed has neither), or by hand.
func writeUnseen(w *bufio.Writer, root string, args []string, p adopt.Path) {
	why, how := "with a mount table read from --mountinfo drift cannot look beneath the mounts", "run it with the live mount table"
	if p.Unseen != "--mountinfo" {
		why, how = "with "+p.Unseen+" drift does not look beneath the mounts", "run it without "+p.Unseen
	}
	fmt.Fprintf(w, "  the mount at %s survives the wipe: what it shows at %s needs no declaration, and there is nothing to adopt; but %s, and an object at %s on the wiped filesystem beneath that mount would be deleted at the next boot\n",
		escape.Name(p.Persistent), escape.Name(p.Path), why, escape.Name(p.Path))
	var live []string
	for i := 0; i+1 < len(args); i += 2 {
		if args[i] != "--mountinfo" {
			live = append(live, args[i], args[i+1])
		}
	}
	rel, _ := pathx.Rel(p.Ephemeral, p.Path)
	fmt.Fprintf(w, "  to look beneath it, %s: %s; or by hand: mkdir -p /mnt/beneath && mount --bind %s /mnt/beneath (without --rbind it shows what the mounts hide), look at %s, then umount /mnt/beneath\n",
		how, AdoptCommand(root, live, p.Path), escape.Shell(path.Join(root, p.Ephemeral)), escape.Shell(path.Join("/mnt/beneath", rel)))
}

// nothingPending is the report of drift adopt --pending when no path is
// pending (adopt.Pending; a run with paths named has at least one).
const nothingPending = "nothing pending: no declared path holds live data without its persistent copy"

func writeAdoptTable(w *bufio.Writer, root string, args []string, res *adopt.Result, state AdoptState) {
	full := func(p string) string { return escape.Name(path.Join(root, p)) }
	switch state {
	case AdoptDryRun:
		fmt.Fprintln(w, "dry run: nothing is changed")
	case AdoptRefused:
		fmt.Fprintln(w, "refused: nothing is changed")
	}
	if len(res.Paths) == 0 {
		fmt.Fprintln(w, nothingPending)
	}
	for i, p := range res.Paths {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "%s\n", escape.Name(p.Path))
		switch {
		case p.Persistent != "" && p.Dest == "" && p.Unseen != "":
			writeUnseen(w, root, args, p)
			continue
		case p.Persistent != "" && p.Dest == "":
			fmt.Fprintf(w, "  not on a wiped filesystem (the mount at %s survives the wipe): it needs no declaration, and there is nothing to adopt\n", escape.Name(p.Persistent))
			continue
		case p.Persistent != "":
			fmt.Fprintf(w, "  not on a wiped filesystem (the mount at %s survives the wipe): nothing to adopt\n", escape.Name(p.Persistent))
			continue
		case p.Absent:
			fmt.Fprintf(w, "  nothing there to adopt (neither on the wiped root nor beneath a mount)\n")
			continue
		}
		fmt.Fprintf(w, "  declared %s %s%s\n", p.Decl.Kind, escape.Name(p.Decl.Path), declPos(p.Decl))
		from := "on the wiped filesystem at " + escape.Name(p.Ephemeral)
		if p.Ephemeral == "/" {
			from = "on the wiped root"
		}
		if p.Covered != "" {
			from = "on the persistent filesystem at " + escape.Name(p.Covered) + " (the next boot mounts the persistent copy over it: hidden from view)"
		}
		switch {
		case p.HiddenBy != "" && p.Covered != "":
			from = "beneath the mount at " + escape.Name(p.HiddenBy) + " on the persistent filesystem at " + escape.Name(p.Covered) + " (hidden now, not deleted)"
		case p.HiddenBy != "":
			from = "beneath the mount at " + escape.Name(p.HiddenBy) + " (hidden now; the next wipe deletes it)"
		}
		fmt.Fprintf(w, "  from %s %s\n  into %s\n", escape.Name(p.Path), from, full(p.Dest))
		if o := p.Owner; o != nil && len(p.Outcomes) > 0 && p.Outcomes[0].Action == restore.Copy && p.Outcomes[0].Dest == p.Dest {
			fmt.Fprintf(w, "  as declared, not as live: %s\n", ownerText(o))
		}
		writeUserParents(w, root, p)
		for _, o := range p.Outcomes {
			writeAdoptObject(w, root, o, state != AdoptDone)
		}
		fmt.Fprintf(w, "  %s\n", adoptSummary(p, state != AdoptDone))
		if state != AdoptRefused {
			fmt.Fprintf(w, "  %s\n", nextBoot(root, p))
		}
	}
	for _, f := range res.Open {
		fmt.Fprintf(w, "open: %s is held open by pid %d (%s): it may change while it is copied; stop it first\n", escape.Name(f.Path), f.PID, escape.Name(f.Comm))
	}
}

// writeAdoptSummary prints one line per path that has something to copy
// or that differs: what the persistent copy lacks, and the drift adopt
// command that copies it (or, done, that it was copied); then the open
// files. Nothing for a run with nothing to adopt.
func writeAdoptSummary(w *bufio.Writer, root string, args []string, res *adopt.Result, state AdoptState) {
	if len(res.Paths) == 0 {
		fmt.Fprintln(w, "drift: "+nothingPending)
	}
	for _, p := range res.Paths {
		c := countOutcomes(p)
		if c.Files+c.Dirs+c.Symlinks+c.Hardlinks == 0 && c.Differing == 0 {
			continue
		}
		what := fmt.Sprintf("%s (%s)", units.Plural(c.Files+c.Dirs+c.Symlinks+c.Hardlinks, "object", "objects"), units.Bytes(c.Bytes))
		copyOf := escape.Name(path.Join(root, p.Dest))
		switch {
		case state == AdoptDone:
			fmt.Fprintf(w, "drift: adopted %s: %s copied into %s\n", escape.Name(p.Path), what, copyOf)
		case c.Differing > 0 && c.Files+c.Dirs+c.Symlinks+c.Hardlinks == 0:
			// diff.KeepCopyBack: --prefer persistent would change nothing.
			newer := ""
			if n := adopt.NewerInCopy(&adopt.Result{Paths: []adopt.Path{p}}); len(n) > 0 {
				newer = "; the persistent copy is NEWER at " + strings.Join(escapeAll(n), ", ")
			}
			live := "the live ones go with the wiped filesystem (into the old root where old roots are kept)"
			if p.Covered != "" && p.HiddenBy == "" {
				live = "the live ones, on the persistent filesystem at " + escape.Name(p.Covered) + ", are hidden beneath the copy's mount (not deleted)"
			}
			fmt.Fprintf(w, "drift: %s: %s from its persistent copy %s, which lacks nothing: the copy's come back at the next boot, %s%s; to keep the live objects: %s\n",
				escape.Name(p.Path), units.Plural(int64(c.Differing), "object differs", "objects differ"), copyOf, live, newer, adopt.Command(root, args, adopt.PreferLive, p.Path))
		case c.Differing > 0:
			lacks := ""
			if c.Files+c.Dirs+c.Symlinks+c.Hardlinks > 0 {
				lacks = fmt.Sprintf(" and holds %s that it lacks", what)
			}
			fmt.Fprintf(w, "drift: %s: %s from its persistent copy %s%s: %s\n",
				escape.Name(p.Path), units.Plural(int64(c.Differing), "object differs", "objects differ"), copyOf, lacks, adopt.ChoiceNewer(root, args, escapeAll(adopt.NewerInCopy(&adopt.Result{Paths: []adopt.Path{p}})), p.Path))
		default:
			fmt.Fprintf(w, "drift: %s holds %s that %s lacks: %s; keep them: %s\n",
				escape.Name(p.Path), what, copyOf, pendingFate(p), AdoptCommand(root, args, p.Path))
		}
	}
	for _, f := range res.Open {
		fmt.Fprintf(w, "drift: %s is held open by pid %d (%s)\n", escape.Name(f.Path), f.PID, escape.Name(f.Comm))
	}
}

// pendingFate says what happens to a path's data the persistent copy
// lacks, from where adopt found it: beneath a mount that hides it now
// (on the wiped root: the next wipe deletes it), on a persistent
// filesystem the next boot mounts the copy over (hidden, not deleted), or
// on the wiped root with the copy not mounted yet (the next boot mounts the
// copy over it, and the wipe deletes it).
func pendingFate(p adopt.Path) string {
	switch {
	case p.HiddenBy != "" && p.Covered != "":
		return "the mount at " + escape.Name(p.HiddenBy) + " hides them now, on the persistent filesystem at " + escape.Name(p.Covered) + " (not deleted)"
	case p.HiddenBy != "":
		return "the mount at " + escape.Name(p.HiddenBy) + " hides them now, and the next wipe deletes them"
	case p.Covered != "":
		return "they are on the persistent filesystem at " + escape.Name(p.Covered) + ", not in the copy: the next boot mounts the copy over them (hidden, not deleted)"
	case p.MountedNow:
		return "the copy is mounted there now, and the next wipe deletes them"
	}
	return "not mounted yet: the next boot mounts the copy over them, and the wipe deletes them"
}

// writeAdoptObject prints one outcome; with items, every object a copy
// makes.
func writeAdoptObject(w *bufio.Writer, root string, o restore.Outcome, items bool) {
	dest := escape.Name(path.Join(root, o.Dest))
	switch o.Action {
	case restore.Copy, restore.Replace:
		if !items || o.Result == nil {
			switch {
			case o.Action == restore.Replace && o.Kind == restore.KindDir && o.DestKind == restore.KindDir:
				fmt.Fprintf(w, "  replace  %s (%s; the live directory's owner, mode and extended attributes win)\n", dest, escape.Name(o.Why))
			case o.Action == restore.Replace && o.DestNewer():
				fmt.Fprintf(w, "  replace NEWER %s (the live copy wins%s)\n", dest, withTimes(o))
			case o.Action == restore.Replace:
				fmt.Fprintf(w, "  replace  %s (the live copy wins%s)\n", dest, withTimes(o))
			case items: // a refusal: the copies were not planned further
				fmt.Fprintf(w, "  copy     %s (missing)\n", dest)
			}
			return
		}
		verb := "copy"
		if o.Action == restore.Replace {
			verb = "replace"
		}
		for _, it := range o.Result.Items {
			writeItem(w, root, verb, it)
		}
		if o.Action == restore.Replace && o.DestNewer() {
			fmt.Fprintf(w, "  (replaces NEWER data: %s)\n", outcomeTimes(o))
		}
		for _, s := range o.Result.Skipped {
			fmt.Fprintf(w, "  skip     %s (%s)\n", escape.Name(s.Path), s.Reason)
		}
	case restore.Same:
		if items {
			fmt.Fprintf(w, "  same     %s (already holds the same bytes: left alone)\n", dest)
		}
	case restore.Keep:
		fmt.Fprintf(w, "  keep     %s (%s%s; the persistent copy wins)\n", dest, escape.Name(o.Why), withTimes(o))
	case restore.Differs:
		fmt.Fprintf(w, "  differs  %s (%s%s)\n", dest, escape.Name(o.Why), withTimes(o))
	}
}

// outcomeTimes says when the live object and the persistent copy's of a
// differing outcome were modified, and which is newer: "live modified
// 2026-12-07 10:00:00 UTC, the copy's 2026-12-07 11:00:00 UTC: the copy
// is NEWER", with the fraction of a second that tells two times of one
// second apart (stamps), and a time after now marked (futureStamps). ""
// when the times were not read (directories).
func outcomeTimes(o restore.Outcome) string {
	if o.Mtime == 0 && o.DestMtime == 0 {
		return ""
	}
	live, dest := futureStamps(o.Mtime, o.DestMtime, time.Time{})
	s := fmt.Sprintf("live modified %s, the copy's %s", live, dest)
	switch {
	case o.OtherKind():
		return s + fmt.Sprintf(": the live one is a %s, the copy a %s (the types differ, neither is newer)", o.Kind, o.DestKind)
	case o.DestNewer():
		return s + ": the copy is NEWER"
	case o.Mtime > o.DestMtime:
		return s + ": the live one is newer"
	}
	return s
}

// withTimes is outcomeTimes after a "; ", "" without times.
func withTimes(o restore.Outcome) string {
	if t := outcomeTimes(o); t != "" {
		return "; " + t
	}
	return ""
}

func writeItem(w *bufio.Writer, root, verb string, it restore.Item) {
	dest := escape.Name(path.Join(root, it.Dest))
	owner := fmt.Sprintf("%d:%d", it.UID, it.GID)
	switch it.Kind {
	case restore.KindHardlink:
		fmt.Fprintf(w, "  %-8s %-8s %-18s %s => %s\n", verb, it.Kind, "", dest, escape.Name(path.Join(root, it.Target)))
	case restore.KindSymlink:
		fmt.Fprintf(w, "  %-8s %-8s %-18s %s -> %s\n", verb, it.Kind, owner, dest, escape.Name(it.Target))
	case restore.KindFile:
		fmt.Fprintf(w, "  %-8s %-8s %04o %-13s %s (%s)\n", verb, it.Kind, it.Mode, owner, dest, units.Bytes(it.Size))
	default:
		fmt.Fprintf(w, "  %-8s %-8s %04o %-13s %s\n", verb, it.Kind, it.Mode, owner, dest)
	}
}

func declPos(e persist.Entry) string {
	if pos := e.Pos.String(); pos != "" {
		return " at " + escape.Name(pos)
	}
	return ""
}

// adoptCounts sums a path's outcomes: objects copied (files, directories,
// symlinks, hard links and bytes), left alone, kept (of them, those
// kept because the version beneath the mount is hidden and stale:
// adopt.Path.KeptHidden), replaced and differing.
type adoptCounts struct {
	Files     int64 `json:"files"`
	Dirs      int64 `json:"dirs"`
	Symlinks  int64 `json:"symlinks"`
	Hardlinks int64 `json:"hardlinks"`
	Bytes     int64 `json:"bytes"`
	Same      int   `json:"same"`
	Kept      int   `json:"kept"`
	// KeptHidden are those of Kept whose copy's version was kept without
	// --prefer persistent: the one read beneath the mount is hidden and
	// stale (adopt.Path.KeptHidden).
	KeptHidden int `json:"keptHidden"`
	Replaced   int `json:"replaced"`
	Differing  int `json:"differing"`
}

func countOutcomes(p adopt.Path) adoptCounts {
	var c adoptCounts
	for _, o := range p.Outcomes {
		switch {
		case o.Action == restore.Same:
			c.Same++
		case o.Action == restore.Keep:
			c.Kept++
			if p.KeptHidden {
				c.KeptHidden++
			}
		case o.Action == restore.Differs:
			c.Differing++
		case o.Action == restore.Replace:
			c.Replaced++
		}
		if o.Result == nil {
			continue
		}
		c.Bytes += o.Result.Bytes
		for _, it := range o.Result.Items {
			switch it.Kind {
			case restore.KindFile:
				c.Files++
			case restore.KindDir:
				c.Dirs++
			case restore.KindSymlink:
				c.Symlinks++
			case restore.KindHardlink:
				c.Hardlinks++
			}
		}
	}
	return c
}

// adoptSummary is a path's summary line: "copied 3 files (1.5 KiB), 1
// directory; 2 already the same".
func adoptSummary(p adopt.Path, planned bool) string {
	c := countOutcomes(p)
	verb := "copied"
	if planned {
		verb = "would copy"
	}
	parts := []string{fmt.Sprintf("%s %s (%s)", verb, units.Plural(c.Files, "file", "files"), units.Bytes(c.Bytes))}
	for _, x := range []struct {
		n         int64
		one, many string
	}{{c.Dirs, "directory", "directories"}, {c.Symlinks, "symlink", "symlinks"}, {c.Hardlinks, "hard link", "hard links"}} {
		if x.n > 0 {
			parts = append(parts, units.Plural(x.n, x.one, x.many))
		}
	}
	s := strings.Join(parts, ", ")
	for _, x := range []struct {
		n    int
		what string
	}{{c.Replaced, "replaced (--prefer live)"}, {c.Same, "already the same"}, {c.Kept - c.KeptHidden, "kept (--prefer persistent)"},
		{c.KeptHidden, "kept the copy's version (the one beneath the mount is hidden and stale)"}, {c.Differing, "differing"}} {
		if x.n > 0 {
			s += fmt.Sprintf("; %d %s", x.n, x.what)
		}
	}
	return s
}

// nextBoot says what the declared path shows now and at the next boot.
func nextBoot(root string, p adopt.Path) string {
	d, src := escape.Name(p.Decl.Path), escape.Name(path.Join(root, path.Clean(p.Decl.Source())))
	switch {
	case p.Mounted:
		return fmt.Sprintf("mounted now: %s shows %s, as it will from the next boot", d, src)
	case p.MountedNow:
		return fmt.Sprintf("%s shows %s now and from the next boot", d, src)
	}
	return fmt.Sprintf("next boot: %s shows %s; until then it shows the live data (--mount mounts the copy now)", d, src)
}

type jsonAdopt struct {
	Schema   string          `json:"$schema"`
	Version  int             `json:"version"`
	DryRun   bool            `json:"dryRun"`
	Refused  bool            `json:"refused"`
	Root     string          `json:"root"`
	Paths    []jsonAdoptPath `json:"paths"`
	Open     []jsonOpen      `json:"open"`
	Warnings []string        `json:"warnings"`
}

type jsonAdoptPath struct {
	Path       string         `json:"path"`
	Declared   *jsonAdoptDecl `json:"declared,omitempty"`
	Dest       string         `json:"dest,omitempty"`
	Ephemeral  string         `json:"ephemeral,omitempty"`
	HiddenBy   string         `json:"hiddenBy,omitempty"`
	Covered    string         `json:"covered,omitempty"`
	Persistent string         `json:"persistent,omitempty"`
	Unseen     string         `json:"unseen,omitempty"`
	Absent     bool           `json:"absent,omitempty"`
	MountedNow bool           `json:"mountedNow"`
	Mounted    bool           `json:"mounted"`
	Objects    []jsonAdoptObj `json:"objects"`
	Counts     adoptCounts    `json:"counts"`
}

type jsonAdoptDecl struct {
	Kind        string `json:"kind"`
	Path        string `json:"path"`
	StoragePath string `json:"storagePath"`
	Pos         string `json:"pos,omitempty"`
}

type jsonAdoptObj struct {
	Path     string          `json:"path"`
	Dest     string          `json:"dest"`
	Action   restore.Action  `json:"action"`
	Kind     restore.Kind    `json:"kind,omitempty"`
	DestKind restore.Kind    `json:"destKind,omitempty"`
	Why      string          `json:"why,omitempty"`
	Items    []jsonAdoptItem `json:"items,omitempty"`
}

type jsonAdoptItem struct {
	Dest   string       `json:"dest"`
	Kind   restore.Kind `json:"kind"`
	Mode   uint32       `json:"mode"`
	UID    uint32       `json:"uid"`
	GID    uint32       `json:"gid"`
	Size   int64        `json:"size"`
	Target string       `json:"target,omitempty"`
}

type jsonOpen struct {
	Path string `json:"path"`
	PID  int    `json:"pid"`
	Comm string `json:"comm"`
}

func writeAdoptJSON(w *bufio.Writer, root string, res *adopt.Result, state AdoptState) {
	out := jsonAdopt{Schema: jsonschema.ID("adopt"), Version: 1, DryRun: state == AdoptDryRun, Refused: state == AdoptRefused, Root: root, Paths: []jsonAdoptPath{}, Open: []jsonOpen{}, Warnings: res.Warnings}
	if out.Warnings == nil {
		out.Warnings = []string{}
	}
	for _, p := range res.Paths {
		jp := jsonAdoptPath{Path: p.Path, Dest: p.Dest, Ephemeral: p.Ephemeral, HiddenBy: p.HiddenBy, Covered: p.Covered, Persistent: p.Persistent, Unseen: p.Unseen, Absent: p.Absent,
			MountedNow: p.MountedNow, Mounted: p.Mounted, Objects: []jsonAdoptObj{}, Counts: countOutcomes(p)}
		if p.Dest != "" {
			jp.Declared = &jsonAdoptDecl{Kind: p.Decl.Kind.String(), Path: p.Decl.Path, StoragePath: p.Decl.StoragePath, Pos: p.Decl.Pos.String()}
		}
		for _, o := range p.Outcomes {
			jo := jsonAdoptObj{Path: o.Path, Dest: o.Dest, Action: o.Action, Kind: o.Kind, DestKind: o.DestKind, Why: o.Why}
			if o.Result != nil {
				for _, it := range o.Result.Items {
					jo.Items = append(jo.Items, jsonAdoptItem{Dest: it.Dest, Kind: it.Kind, Mode: it.Mode, UID: it.UID, GID: it.GID, Size: it.Size, Target: it.Target})
				}
			}
			jp.Objects = append(jp.Objects, jo)
		}
		out.Paths = append(out.Paths, jp)
	}
	for _, f := range res.Open {
		out.Open = append(out.Open, jsonOpen(f))
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(out)
}

// ownerText says a declared owner and mode ("owner 998, group 998, mode
// 0750"), leaving out what is kept from the live directory.
func ownerText(o *restore.Owner) string {
	var d []string
	if o.UID >= 0 {
		d = append(d, fmt.Sprintf("owner %d", o.UID))
	}
	if o.GID >= 0 {
		d = append(d, fmt.Sprintf("group %d", o.GID))
	}
	if o.Mode >= 0 {
		d = append(d, fmt.Sprintf("mode %04o", o.Mode))
	}
	return strings.Join(d, ", ")
}

// writeUserParents prints the directories p's copy creates that are its
// user's (adopt.Path.Parents), with that owner.
func writeUserParents(w *bufio.Writer, root string, p adopt.Path) {
	if p.Parents == nil {
		return
	}
	for _, o := range p.Outcomes {
		if o.Result == nil {
			continue
		}
		for _, d := range o.Result.MkDirs {
			if pathx.HasPrefix(d, p.Parents.Below) {
				fmt.Fprintf(w, "  mkdir    %s (owner %d:%d, the user's, as the module makes it)\n", escape.Name(path.Join(root, d)), p.Parents.UID, p.Parents.GID)
			}
		}
	}
}

// AdoptCopyLacks says whether a refused drift adopt (res, planned) would
// copy an object into some persistent copy: false when every path only
// differs from its copy, where --prefer persistent would change nothing
// (diff.KeepCopyBack) and only --prefer live is worth offering.
func AdoptCopyLacks(res *adopt.Result) bool {
	for _, p := range res.Paths {
		if c := countOutcomes(p); c.Files+c.Dirs+c.Symlinks+c.Hardlinks > 0 {
			return true
		}
	}
	return false
}
