package report

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/escape"
	"github.com/nix-drift/drift/internal/jsonschema"
	"github.com/nix-drift/drift/internal/persist"
)

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
	// CopyMtime is the modification time (RFC 3339 in UTC, to the
	// nanosecond, as Mtime) of the persistent copy's other object that
	// comes back, or is shown, at the path (diff.Item.CopyMtime); "" where
	// the copy does not differ or its time was not read.
	CopyMtime string `json:"copyMtime,omitempty"`
	// CopyDiffers, with CopyMtime, says which of the two is newer:
	// "newer" (the copy was modified after the live object:
	// diff.Item.CopyNewer, the rule drift check's words and the order of
	// its --prefer commands read), "older" or "same-time".
	CopyDiffers string `json:"copyDiffers,omitempty"`
	// CopyType, where the persistent copy holds an object of another
	// type (diff.Item.CopyKind: a file where the live one is a
	// directory), is its type, as Type names it; CopyMtime and
	// CopyDiffers are absent then: neither is newer.
	CopyType string `json:"copyType,omitempty"`
}

// copyDiffers is jsonItem's CopyMtime and CopyDiffers of it.
func copyDiffers(it *diff.Item) (mtime, which string) {
	ct := it.CopyMtime()
	if it.Copy != diff.CopyDiffers || ct == 0 || it.CopyKind() != 0 {
		return "", "" // two types: neither is newer (CopyType says it)
	}
	mtime = time.Unix(0, ct).UTC().Format(time.RFC3339Nano)
	switch {
	case it.CopyNewer():
		return mtime, "newer"
	case ct < it.Mtime:
		return mtime, "older"
	}
	return mtime, "same-time"
}

// jsonVanished is a path of the previous root that vanished at the last
// reboot and that nothing holds now (diff.Vanished).
type jsonVanished struct {
	Path       string `json:"path"`
	PathBase64 string `json:"pathBase64,omitempty"`
	Type       string `json:"type"`
	Entries    int64  `json:"entries"`
	Bytes      int64  `json:"bytes"`
	OldRoot    string `json:"oldRoot"`
	AgeDays    int    `json:"ageDays"`
	DaysLeft   int    `json:"daysLeft"`
	// Restore is the drift restore command that brings it back, "" when
	// PersistentCopy is set: the old root holds only the empty mount point
	// of a bind mount of that copy (diff.Vanished.PersistentCopy).
	Restore        string `json:"restore"`
	PersistentCopy string `json:"persistentCopy,omitempty"`
	// Declared is the declared path covering it (diff.Vanished.Decl), ""
	// when nothing declares it.
	Declared string `json:"declared,omitempty"`
	// CopyDiffers, when not "", says the persistent copy holds the path
	// too, other bytes shown in its place now: "older" (changed before
	// the old root's: diff.Vanished.StaleCopy, restored with --force) or
	// "newer" (changed no earlier: diff.Vanished.NewerCopy, restored with
	// --force --beneath-mount).
	CopyDiffers string `json:"copyDiffers,omitempty"`
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
			History:  row.History(),
			Why:      rowWhy(a, row, nil),
			Adopt:    RowAdopt(a, it),
		}
		ji.AdoptPreferLive, ji.AdoptPreferPersistent = RowAdoptPrefer(a, it)
		ji.CopyMtime, ji.CopyDiffers = copyDiffers(it)
		if k := it.CopyKind(); k != 0 && it.Copy == diff.CopyDiffers {
			ji.CopyType = Type(&diff.Item{Mode: k})
		}
		ji.Path, ji.PathBase64 = jsonPath(it.Path)
		if t := it.Target(); t != "" {
			ji.Target, _ = jsonPath(t)
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
		it := diff.Item{Mode: v.Mode, Subvolume: v.Subvolume}
		jv := jsonVanished{Type: Type(&it), Entries: v.Entries, Bytes: v.Bytes, OldRoot: escape.Name(v.Root), AgeDays: v.AgeDays, DaysLeft: v.DaysLeft, Restore: v.RestoreCommand(a.Root, a.Args)}
		if v.PersistentCopy != "" {
			jv.Restore, jv.PersistentCopy = "", escape.Name(v.PersistentCopy)
		}
		jv.Path, jv.PathBase64 = jsonPath(v.Path)
		jv.Declared = escape.Name(v.Decl)
		switch {
		case v.StaleCopy:
			jv.CopyDiffers = "older"
		case v.NewerCopy:
			jv.CopyDiffers = "newer"
		}
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
	// One buffer for every item (appendJSONItem: encoding/json's bytes).
	var buf []byte
	for i := 0; i < n; i++ {
		ji := item(i)
		buf = appendJSONItem(buf[:0], &ji)
		if i > 0 {
			w.WriteByte(',')
		}
		w.WriteString("\n    ")
		w.Write(buf)
	}
	w.WriteString("\n  ")
	_, err := w.Write(doc[at:])
	return err
}

func diagJSON(d persist.Diagnostic) jsonDiag {
	return jsonDiag{Position: escape.Text(d.Pos.String()), Severity: d.Severity.String(), Message: escape.Text(d.Message), Hint: escape.Text(d.Hint)}
}
