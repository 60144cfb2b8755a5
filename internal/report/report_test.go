package report

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nix-drift/drift/internal/btrfs"
	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/pathx"
	"github.com/nix-drift/drift/internal/persist"
	"github.com/nix-drift/drift/internal/scan"
	"golang.org/x/sys/unix"
)

const (
	dirMode  = unix.S_IFDIR | 0o755
	fileMode = unix.S_IFREG | 0o644
)

func audit() *diff.Audit {
	items := []diff.Item{
		{Path: "/a", Category: diff.Unpersisted, Mode: dirMode, Decl: -1},
		{Path: "/a/f", Category: diff.Unpersisted, Mode: fileMode, Size: 10, Decl: -1},
		{Path: "/a/g\nh", Category: diff.Unpersisted, Mode: fileMode, Size: 5, Decl: -1},
		{Path: "/b", Category: diff.Unpersisted, Mode: dirMode, Decl: -1},
		{Path: "/b/x", Category: diff.Ignored, Mode: fileMode, Size: 7, Decl: -1},
		{Path: "/b/y\xff", Category: diff.Unpersisted, Mode: fileMode, Size: 1, Decl: -1},
		{Path: "/srv/d", Category: diff.DeclaredUnbacked, Mode: fileMode, Size: 3, Decl: 0},
	}
	lost := make([]*diff.Item, len(items))
	for i := range items {
		lost[i] = &items[i]
	}
	a := &diff.Audit{
		Root:   "/",
		Decls:  &persist.Set{Entries: []persist.Entry{{Kind: persist.Dir, StoragePath: "/p", Path: "/srv", Pos: persist.Pos{File: "x.nix", Line: 3, Col: 5}}}},
		Lost:   lost,
		Totals: map[diff.Category]diff.Total{},
	}
	for _, it := range items {
		tot := a.Totals[it.Category]
		tot.Count++
		tot.Bytes += it.Size
		a.Totals[it.Category] = tot
	}
	return a
}

func TestRowsCollapse(t *testing.T) {
	rows := Rows(audit(), false)
	var got []string
	for _, r := range rows {
		got = append(got, r.Item.Path)
	}
	// /a is lost whole (one row, 3 entries); so is /b once its ignored entry
	// is hidden.
	want := []string{"/a", "/b", "/srv/d"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("rows %q, want %q", got, want)
	}
	if rows[0].Entries != 3 || rows[0].Bytes != 15 {
		t.Errorf("collapsed row %+v: want 3 entries, 15 bytes", rows[0])
	}
	if rows[1].Entries != 2 || rows[1].Bytes != 1 {
		t.Errorf("collapsed row %+v: want 2 entries, 1 byte", rows[1])
	}
	// With --all the ignored entry shows and /b is mixed: the directory, then
	// its contents row by row.
	if n := len(Rows(audit(), true)); n != 5 {
		t.Errorf("--all: %d rows, want 5", n)
	}
}

// A directory's row says how many ignored entries below it it leaves out
// without --all (a fresh user read "/var/ 8429" over 274,937 hidden ones);
// each is counted once, in the nearest row above it.
func TestRowsHidden(t *testing.T) {
	a := audit()
	// /a/sub is ignored, below /a (collapsed) ; /c (mixed: /c/keep is
	// ignored, /c/d unpersisted, /c/d/x ignored, counted in /c/d's row).
	more := []diff.Item{
		{Path: "/a/sub", Category: diff.Ignored, Mode: dirMode, Decl: -1},
		{Path: "/c", Category: diff.Unpersisted, Mode: dirMode, Decl: -1},
		{Path: "/c/d", Category: diff.DeclaredUnbacked, Mode: dirMode, Decl: 0},
		{Path: "/c/d/x", Category: diff.Ignored, Mode: fileMode, Size: 2, Decl: -1},
		{Path: "/c/keep", Category: diff.Ignored, Mode: fileMode, Size: 4, Decl: -1},
	}
	more[0].SetBelow(diff.Total{Count: 3, Bytes: 30})
	for i := range more {
		a.Lost = append(a.Lost, &more[i])
	}
	slices.SortFunc(a.Lost, func(x, y *diff.Item) int { return pathx.Compare(x.Path, y.Path) })
	var got []string
	for _, r := range Rows(a, false) {
		got = append(got, fmt.Sprintf("%s %d/%d", r.Item.Path, r.Hidden.Count, r.Hidden.Bytes))
	}
	want := []string{"/a 4/30", "/b 1/7", "/c 1/4", "/c/d 1/2", "/srv/d 0/0"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("hidden per row %q, want %q", got, want)
	}
	for _, r := range Rows(a, true) {
		if r.Hidden.Count != 0 {
			t.Errorf("--all: row %s hides %d", r.Item.Path, r.Hidden.Count)
		}
	}
	var table, js bytes.Buffer
	if err := Write(&table, a, Options{Format: "table"}); err != nil {
		t.Fatal(err)
	}
	if err := Write(&js, a, Options{Format: "json"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(table.String(), "not declared; 4 entries ignored inside") || !strings.Contains(js.String(), `"ignoredInside": {`) ||
		!strings.Contains(js.String(), `"why": "not declared; 4 entries ignored inside, not shown"`) {
		t.Errorf("table or JSON lacks the hidden count:\n%s\n%s", table.String(), js.String())
	}
}

// With a previous root, a directory is one row only when everything below
// it has its history too: a changed or new path inside it gets a row of
// its own (a fresh user read "/var/ 7 same" above "3 changed").
func TestRowsSplitByHistory(t *testing.T) {
	a := audit()
	for _, it := range a.Lost {
		it.History = diff.HistorySame
	}
	a.Lost[1].History = diff.HistoryChanged // /a/f
	var got []string
	for _, r := range Rows(a, false) {
		got = append(got, fmt.Sprintf("%s %d %s", r.Item.Path, r.Entries, r.Item.History))
	}
	want := []string{"/a 1 same", "/a/f 1 changed", "/a/g\nh 1 same", "/b 2 same", "/srv/d 1 same"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("rows %q, want %q", got, want)
	}
}

// A directory whose entries differ in history only is listed row by row
// while that takes splitAtMost rows or fewer, its own included; past that
// it is one row, HISTORY "mixed", its WHY counting the entries below it per
// history and saying nothing of the directory's own history, in the table
// and the JSON alike. A previous root that differs from the live one in one
// file of each of thousands of directories made a table of a row per file,
// minutes to lay out and unreadable; a tester read "changed" over "the same
// in the previous root" on one summed-up row, and "changed" over new
// entries only.
func TestRowsSumUpWideHistories(t *testing.T) {
	build := func(files int) *diff.Audit {
		a := audit()
		a.PreviousRoot = &btrfs.OldRoot{Name: "2026-12-06_09:00:00"}
		v := &diff.Item{Path: "/v", Category: diff.Unpersisted, Mode: dirMode, Decl: -1, History: diff.HistorySame, Regen: diff.RegenBelow}
		a.Lost = append(a.Lost, v)
		for i := range files {
			h := diff.HistorySame
			switch i % 4 {
			case 1:
				h = diff.HistoryChanged
			case 3:
				h = diff.HistoryNew
			}
			a.Lost = append(a.Lost, &diff.Item{Path: fmt.Sprintf("/v/f%03d", i), Category: diff.Unpersisted, Mode: fileMode, Size: 1, Decl: -1, History: h})
		}
		slices.SortFunc(a.Lost, func(x, y *diff.Item) int { return pathx.Compare(x.Path, y.Path) })
		return a
	}
	rowsUnder := func(a *diff.Audit) []Row {
		var out []Row
		for _, r := range Rows(a, false) {
			if r.Item.Path == "/v" || strings.HasPrefix(r.Item.Path, "/v/") {
				out = append(out, r)
			}
		}
		return out
	}
	// No two adjacent files share a history: each is a row of its own.
	if rs := rowsUnder(build(splitAtMost - 1)); len(rs) != splitAtMost || rs[0].Inside != nil || rs[0].History() != "same" {
		t.Errorf("%d files: %d rows, /v %+v; want /v alone (same), then a row each", splitAtMost-1, len(rs), rs[0])
	}
	if rs := rowsUnder(build(splitAtMost)); len(rs) != 1 || rs[0].Inside == nil {
		t.Errorf("%d files: %d rows; want /v alone, summed up", splitAtMost, len(rs))
	}
	a := build(40) // 20 same, 10 changed, 10 new
	rs := rowsUnder(a)
	if len(rs) != 1 || rs[0].Entries != 41 || rs[0].History() != "mixed" || rs[0].Inside == nil {
		t.Fatalf("40 files: rows %+v; want /v alone, 41 entries, mixed", rs)
	}
	want := "inside: 10 new, 10 changed, 20 same against the previous root"
	if got := InsideWhy(rs[0]); got != want {
		t.Errorf("InsideWhy %q, want %q", got, want)
	}
	var table, js bytes.Buffer
	if err := Write(&table, a, Options{Format: "table"}); err != nil {
		t.Fatal(err)
	}
	if err := Write(&js, a, Options{Format: "json"}); err != nil {
		t.Fatal(err)
	}
	// The table wraps the WHY cell.
	if !strings.Contains(table.String(), "inside: 10 new, 10 changed,") || !strings.Contains(js.String(), "not declared; "+want) || strings.Contains(table.String(), "/v/f") ||
		!strings.Contains(js.String(), `"history": "mixed"`) || strings.Contains(table.String()+js.String(), "the same in the previous root") {
		t.Errorf("table or JSON: want one /v row, mixed, WHY %q:\n%s\n%s", "not declared; "+want, table.String(), js.String())
	}
}

// A collapsed audit (diff.Config.Collapse), where /a stands for its two
// files, gives the same rows, table and JSON as the expanded one; the paths
// formats refuse it.
func TestCollapsedAudit(t *testing.T) {
	c := audit()
	a0 := *c.Lost[0]
	a0.SetBelow(diff.Total{Count: 2, Bytes: 15})
	c.Lost = append([]*diff.Item{&a0}, c.Lost[3:]...)
	c.Collapsed = true
	for _, all := range []bool{false, true} {
		rc, ra := Rows(c, all), Rows(audit(), all)
		if len(rc) != len(ra) {
			t.Fatalf("all=%v: %d rows, want %d", all, len(rc), len(ra))
		}
		for i := range rc {
			if rc[i].Item.Path != ra[i].Item.Path || rc[i].Entries != ra[i].Entries || rc[i].Bytes != ra[i].Bytes {
				t.Errorf("all=%v: row %s %d %d, want %s %d %d", all, rc[i].Item.Path, rc[i].Entries, rc[i].Bytes, ra[i].Item.Path, ra[i].Entries, ra[i].Bytes)
			}
		}
		for _, f := range []string{"table", "json"} {
			var got, want bytes.Buffer
			if err := Write(&got, c, Options{Format: f, All: all}); err != nil {
				t.Fatal(err)
			}
			if err := Write(&want, audit(), Options{Format: f, All: all}); err != nil {
				t.Fatal(err)
			}
			if got.String() != want.String() {
				t.Errorf("%s all=%v: collapsed\n%s\nexpanded\n%s", f, all, got.String(), want.String())
			}
		}
	}
	for _, f := range []string{"paths", "paths0"} {
		var buf bytes.Buffer
		if err := Write(&buf, c, Options{Format: f}); err == nil || buf.Len() != 0 {
			t.Errorf("%s of a collapsed audit: %q, %v; want an error and nothing written", f, buf.String(), err)
		}
	}
}

func TestPathsFormats(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, audit(), Options{Format: "paths0"}); err != nil {
		t.Fatal(err)
	}
	want := "/a\x00/a/f\x00/a/g\nh\x00/b\x00/b/y\xff\x00/srv/d\x00"
	if buf.String() != want {
		t.Errorf("paths0 = %q, want %q", buf.String(), want)
	}
	buf.Reset()
	if err := Write(&buf, audit(), Options{Format: "paths", All: true}); err != nil {
		t.Fatal(err)
	}
	want = "/a\n/a/f\n/a/g\\nh\n/b\n/b/x\n/b/y\\xff\n/srv/d\n"
	if buf.String() != want {
		t.Errorf("paths --all = %q, want %q", buf.String(), want)
	}
	// A trailing space is written \x20: read and line tools trim it (a
	// fresh user's "/srv/trailing " came back as "/srv/trailing").
	a := audit()
	a.Lost = append(a.Lost, &diff.Item{Path: "/srv/trailing ", Category: diff.Unpersisted, Mode: fileMode, Decl: -1})
	buf.Reset()
	if err := Write(&buf, a, Options{Format: "paths"}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(buf.String(), "/srv/trailing\\x20\n") {
		t.Errorf("paths: %q, want the trailing space escaped", buf.String())
	}
}

func TestJSON(t *testing.T) {
	var buf bytes.Buffer
	a := audit()
	a.Lost = append(a.Lost, &diff.Item{Path: "/z/rlo\u202eexe.txt", Category: diff.Ignored, Mode: fileMode, Decl: -1})
	a.Totals[diff.Ignored] = diff.Total{Count: 2, Bytes: 7}
	if err := Write(&buf, a, Options{Format: "json", All: true}); err != nil {
		t.Fatal(err)
	}
	var r struct {
		Version int
		Summary struct {
			Lost       struct{ Entries, Bytes int64 }
			Categories map[string]struct{ Entries int64 }
		}
		Items []struct {
			Path, PathBase64, Category, DeclaredAt, Declared, Why string
			Entries                                               int64
		}
	}
	if err := json.Unmarshal(buf.Bytes(), &r); err != nil {
		t.Fatalf("invalid JSON: %v\n%s", err, buf.String())
	}
	if r.Version != SchemaVersion || r.Summary.Lost.Entries != 8 || r.Summary.Lost.Bytes != 26 {
		t.Errorf("version %d, lost %+v: want 1, 8 entries, 26 bytes", r.Version, r.Summary.Lost)
	}
	if r.Summary.Categories["ignored"].Entries != 2 || len(r.Summary.Categories) != len(diff.Categories) {
		t.Errorf("categories %+v", r.Summary.Categories)
	}
	var raw, decl, bidi bool
	for _, it := range r.Items {
		if strings.HasPrefix(it.Path, "/z/") {
			b, _ := base64.StdEncoding.DecodeString(it.PathBase64)
			bidi = it.Path == `/z/rlo\xe2\x80\xaeexe.txt` && string(b) == "/z/rlo\u202eexe.txt"
			continue
		}
		if it.PathBase64 != "" {
			b, _ := base64.StdEncoding.DecodeString(it.PathBase64)
			raw = string(b) == "/b/y\xff" && it.Path == `/b/y\xff`
		}
		if it.Path == "/srv/d" {
			decl = it.Declared == "/srv" && it.DeclaredAt == "x.nix:3:5" && strings.Contains(it.Why, "x.nix:3:5")
		}
	}
	if !bidi {
		t.Errorf("a bidi control reached a JSON path unescaped: %s", buf.String())
	}
	if !raw || !decl {
		t.Errorf("invalid UTF-8 path or declaration not rendered right: %s", buf.String())
	}
}

func TestTableEscapes(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, audit(), Options{Format: "table", All: true}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	// Byte by byte: ContainsAny would read "\xff" as U+FFFD and never match.
	if strings.Contains(out, "\x00") || strings.Contains(out, "\x1b") || strings.Contains(out, "\xff") || strings.Contains(out, "g\nh") {
		t.Errorf("raw control bytes in table:\n%q", out)
	}
	if !strings.Contains(out, "6 paths (19 B) would be lost") {
		t.Errorf("summary missing:\n%s", out)
	}
}

// TestSummarySameWithAll: --all shows the ignored rows, it does not count
// them lost: the headline's count, size and history are the same with it
// as without (and as the exit status, which counts LostTotal(false)); only
// what it says of the ignored paths differs. A reviewer saw drift check
// --all say "24 paths would be lost" where drift check said 20.
func TestSummarySameWithAll(t *testing.T) {
	a := audit()
	a.PreviousRoot = &btrfs.OldRoot{Name: "2026-11-10_09:00:00"}
	for _, it := range a.Lost {
		it.History = diff.HistoryNew
	}
	without, with := Summary(a, false), Summary(a, true)
	head := func(s string) string { h, _, _ := strings.Cut(s, ";"); return h }
	if want := "6 paths (19 B) would be lost at the next boot: 1 declared-unbacked, 5 unpersisted"; head(without) != want || head(with) != want {
		t.Errorf("headline\nwithout --all %q\nwith --all    %q\nwant both     %q", without, with, want)
	}
	for _, s := range []string{without, with} {
		if !strings.Contains(s, "since the previous boot: 6 new, 0 changed, 0 same") {
			t.Errorf("history does not count the headline's 6 paths: %q", s)
		}
	}
	if !strings.Contains(without, "1 ignored (not shown; --all shows them)") || !strings.Contains(with, "1 ignored (shown, not counted)") {
		t.Errorf("what is said of the ignored path:\nwithout --all %q\nwith --all    %q", without, with)
	}
}

func TestWipeNotRun(t *testing.T) {
	created := time.Date(2026, 10, 1, 8, 0, 0, 0, time.UTC)
	booted := time.Date(2026, 11, 29, 19, 0, 0, 0, time.UTC)
	a := audit()
	a.Warnings = []diff.Warning{{Kind: diff.WarnSetup, Message: "some other warning"}}
	a.Wipe = &diff.Wipe{RootCreated: created, BootTime: booted}
	var buf bytes.Buffer
	if err := Write(&buf, a, Options{Format: "table"}); err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(buf.String(), "\n")
	want := "WARNING: the root subvolume was created at 2026-10-01T08:00:00Z, before this boot (2026-11-29T19:00:00Z): the wipe did not run; everything listed has been surviving reboots and will all go at once on the day the wipe starts working"
	if first != want {
		t.Errorf("table's first line:\n%s\nwant\n%s", first, want)
	}
	buf.Reset()
	if err := Write(&buf, a, Options{Format: "json"}); err != nil {
		t.Fatal(err)
	}
	var r struct {
		Wipe *struct {
			RootCreated, BootTime string
			WipedThisBoot         *bool
		}
		Warnings []string
	}
	if err := json.Unmarshal(buf.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	if r.Wipe == nil || r.Wipe.RootCreated != "2026-10-01T08:00:00Z" || r.Wipe.BootTime != "2026-11-29T19:00:00Z" || r.Wipe.WipedThisBoot == nil || *r.Wipe.WipedThisBoot {
		t.Errorf("JSON wipe: %s", buf.String())
	}
	if len(r.Warnings) != 2 || r.Warnings[0] != strings.TrimPrefix(want, "WARNING: ") {
		t.Errorf("JSON warnings %q: want the wipe first", r.Warnings)
	}
	buf.Reset()
	if err := Write(&buf, a, Options{Format: "paths"}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "wipe") {
		t.Errorf("paths output holds the warning:\n%s", buf.String())
	}

	// Wiped at this boot: no warning, and the field says so.
	a.Wipe = &diff.Wipe{RootCreated: booted.Add(3 * time.Second), BootTime: booted, WipedThisBoot: true}
	buf.Reset()
	if err := Write(&buf, a, Options{Format: "table"}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "WARNING") {
		t.Errorf("warning although wiped:\n%s", buf.String())
	}
	buf.Reset()
	if err := Write(&buf, a, Options{Format: "json"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"wipedThisBoot": true`) {
		t.Errorf("JSON: %s", buf.String())
	}
	// Not checked (--root DIR, --mountinfo): no field.
	a.Wipe = nil
	buf.Reset()
	if err := Write(&buf, a, Options{Format: "json"}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), `"wipe"`) {
		t.Errorf("JSON has a wipe field without a check: %s", buf.String())
	}
}

// TestJSONPreviousRoot: previousRoot is always present: null without one,
// else its name and time in RFC 3339 UTC.
func TestJSONPreviousRoot(t *testing.T) {
	for _, tc := range []struct {
		prev *btrfs.OldRoot
		want string
	}{
		{nil, `"previousRoot": null`},
		{&btrfs.OldRoot{Name: "2026-11-10_09:00:00", Time: time.Date(2026, 11, 10, 10, 0, 0, 0, time.FixedZone("CET", 3600)), Dir: "/x"},
			`"previousRoot": {
    "name": "2026-11-10_09:00:00",
    "time": "2026-11-10T09:00:00Z"
  }`},
	} {
		var buf bytes.Buffer
		a := audit()
		a.PreviousRoot = tc.prev
		if err := Write(&buf, a, Options{Format: "json"}); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(buf.String(), tc.want) {
			t.Errorf("JSON report lacks\n%s\n%s", tc.want, buf.String())
		}
	}
}

// TestOldRootsTable: drift roots' and drift wipe's tables: old roots in the
// order given, age in whole days, verdict, nested subvolumes under their old
// root with parents before children (a fresh-user test saw
// var/lib/machines/box above var/lib/machines: the deletion order), names
// escaped.
func TestOldRootsTable(t *testing.T) {
	now := time.Date(2026, 11, 29, 20, 0, 0, 0, time.UTC)
	ds := []btrfs.Decision{
		{OldRoot: btrfs.OldRoot{Name: "2026-10-9_10:00:00", Path: "old_roots/2026-10-9_10:00:00", Age: time.Date(2026, 10, 9, 10, 0, 0, 0, time.UTC),
			Nested: []btrfs.Subvolume{{ID: 260, Path: "old_roots/2026-10-9_10:00:00/var/lib/machines/box"}, {ID: 258, Path: "old_roots/2026-10-9_10:00:00/srv"}, {ID: 259, Path: "old_roots/2026-10-9_10:00:00/var/lib/machines"}}}, Delete: true, Why: "51 days old (more than 30)"},
		{OldRoot: btrfs.OldRoot{Name: "odd\x1bname", Path: "old_roots/odd\x1bname"}, Why: "a directory, not a subvolume: left alone"},
	}
	var buf bytes.Buffer
	if err := WriteRoots(&buf, ds, now, "table"); err != nil {
		t.Fatal(err)
	}
	want := `┌────────────────────────┬─────┬───────────┬──────────────────────────────────────────┐
│        OLD ROOT        │ AGE │ NEXT WIPE │                   WHY                    │
├────────────────────────┼─────┼───────────┼──────────────────────────────────────────┤
│ 2026-10-9_10:00:00     │ 51d │ delete    │ 51 days old (more than 30)               │
│ └ srv                  │     │           │ nested subvolume 258                     │
│ └ var/lib/machines     │     │           │ nested subvolume 259                     │
│ └ var/lib/machines/box │     │           │ nested subvolume 260                     │
│ odd\x1bname            │ -   │ keep      │ a directory, not a subvolume: left alone │
└────────────────────────┴─────┴───────────┴──────────────────────────────────────────┘
`
	if buf.String() != want {
		t.Errorf("WriteRoots table:\n%s\nwant\n%s", buf.String(), want)
	}

	p := &btrfs.Plan{Options: btrfs.Options{Now: now}, OldRoots: ds[:1],
		Steps: []btrfs.Step{{Action: btrfs.ActRetire, Path: "root", To: "old_roots/2026-11-29_19:00:00"}, {Action: btrfs.ActCreate, Path: "root"}},
		Notes: []string{"a note"}}
	buf.Reset()
	if err := WritePlan(&buf, p, "table", true); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"plan (dry run, nothing changed): 2 steps\nnote: a note\n", "│ 1 │ " + p.Steps[0].String(), "│ 2 │ " + p.Steps[1].String(), "│ └ srv "} {
		if !strings.Contains(buf.String(), s) {
			t.Errorf("WritePlan table lacks %q:\n%s", s, buf.String())
		}
	}
	buf.Reset()
	if err := WritePlan(&buf, p, "json", false); err != nil {
		t.Fatal(err)
	}
	var r struct {
		Version int
		DryRun  bool
		Steps   []btrfs.Step
	}
	if err := json.Unmarshal(buf.Bytes(), &r); err != nil || r.Version != 1 || r.DryRun || len(r.Steps) != 2 {
		t.Errorf("WritePlan json: %+v, %v\n%s", r, err, buf.String())
	}
	if err := WriteRoots(&buf, ds, now, "yaml"); err == nil {
		t.Error("WriteRoots yaml: no error")
	}
}

// TestOldRootsJSON: drift roots --format json and drift wipe --format json
// escape a name that is not plain text (the raw bytes in nameBase64 and
// pathBase64), escape why, and leave otime out when it is unknown (a plain
// directory) while keeping a subvolume's.
func TestOldRootsJSON(t *testing.T) {
	otime := time.Date(2026, 10, 9, 10, 0, 0, 0, time.UTC)
	ds := []btrfs.Decision{
		{OldRoot: btrfs.OldRoot{Name: "2026-10-9_10:00:00", Path: "old_roots/2026-10-9_10:00:00", Kind: btrfs.KindSubvolume, ID: 257, OTime: otime}, Delete: true, Why: "51 days old"},
		{OldRoot: btrfs.OldRoot{Name: "odd\x1b[31m\xff", Path: "old_roots/odd\x1b[31m\xff",
			Nested: []btrfs.Subvolume{{ID: 300, Path: "old_roots/odd\x1b[31m\xff/srv\n"}}, Mounted: []string{"/mnt/\x1b"}}, Why: "a directory, not a subvolume: left alone: odd\x1b[31m"},
	}
	type root struct {
		Name       string
		NameBase64 *string
		Path       string
		PathBase64 *string
		OTime      *time.Time
		Why        string
		Nested     []struct {
			ID         uint64
			Path       string
			PathBase64 string
		}
		Mounted []string
	}
	check := func(what string, got []root) {
		t.Helper()
		if len(got) != 2 {
			t.Fatalf("%s: %d old roots, want 2", what, len(got))
		}
		if got[0].Name != ds[0].Name || got[0].NameBase64 != nil || got[0].PathBase64 != nil || got[0].OTime == nil || !got[0].OTime.Equal(otime) {
			t.Errorf("%s: plain subvolume: %+v", what, got[0])
		}
		o := got[1]
		if o.Name != `odd\x1b[31m\xff` || o.Path != `old_roots/odd\x1b[31m\xff` || o.OTime != nil || strings.ContainsRune(o.Why, 0x1b) {
			t.Errorf("%s: odd directory: %+v", what, o)
		}
		if len(o.Nested) != 1 || o.Nested[0].ID != 300 || o.Nested[0].Path != `old_roots/odd\x1b[31m\xff/srv\n` || len(o.Mounted) != 1 || o.Mounted[0] != `/mnt/\x1b` {
			t.Errorf("%s: nested or mounted not escaped: %+v", what, o)
		} else if raw, err := base64.StdEncoding.DecodeString(o.Nested[0].PathBase64); err != nil || string(raw) != ds[1].Nested[0].Path {
			t.Errorf("%s: nested pathBase64 %q", what, o.Nested[0].PathBase64)
		}
		for _, c := range []struct {
			b64  *string
			want string
		}{{o.NameBase64, ds[1].Name}, {o.PathBase64, ds[1].Path}} {
			if c.b64 == nil {
				t.Errorf("%s: no base64 for %q", what, c.want)
				continue
			}
			if raw, err := base64.StdEncoding.DecodeString(*c.b64); err != nil || string(raw) != c.want {
				t.Errorf("%s: base64 %q decodes to %q, %v; want %q", what, *c.b64, raw, err, c.want)
			}
		}
	}
	var buf bytes.Buffer
	if err := WriteRoots(&buf, ds, otime, "json"); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), `"otime": "0001-01-01`) {
		t.Errorf("zero otime in JSON:\n%s", buf.String())
	}
	var roots struct{ OldRoots []root }
	if err := json.Unmarshal(buf.Bytes(), &roots); err != nil {
		t.Fatal(err)
	}
	check("roots", roots.OldRoots)
	buf.Reset()
	if err := WritePlan(&buf, &btrfs.Plan{OldRoots: ds}, "json", true); err != nil {
		t.Fatal(err)
	}
	var plan struct{ OldRoots []root }
	if err := json.Unmarshal(buf.Bytes(), &plan); err != nil {
		t.Fatal(err)
	}
	check("plan", plan.OldRoots)
}

// TestComparisonTableTargets: drift diff's table escapes a symlink target
// once, as every name is escaped (a backslash shows as \\, a tab as \t),
// and never lets a control character through.
func TestComparisonTableTargets(t *testing.T) {
	a := &scan.Entry{Mode: unix.S_IFLNK | 0o777, Target: `a\b`}
	b := &scan.Entry{Mode: unix.S_IFLNK | 0o777, Target: "q\tr\x1b"}
	c := &diff.Comparison{Diffs: []diff.Difference{{Path: "/l", Change: diff.Meta, What: diff.WhatTarget, A: a, B: b}}}
	c.Counts[diff.Meta] = 1
	var buf bytes.Buffer
	if err := WriteComparison(&buf, c, "table"); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if want := `target a\\b -> q\tr\x1b`; !strings.Contains(out, want) {
		t.Errorf("table lacks %q:\n%s", want, out)
	}
	if strings.ContainsAny(out, "\t\x1b") {
		t.Errorf("raw control character in:\n%q", out)
	}
}

// The WHY of a path inside a declaration that is not mounted names the
// other copy that comes back in its place, and which is newer; a covered path says the copy is
// mounted over it; the summary counts copied and covered paths.
func TestWhyStaleCopyAndCovered(t *testing.T) {
	d := persist.Entry{Kind: persist.Dir, StoragePath: "/nix/persist", Path: "/srv/app"}
	h := persist.Entry{Kind: persist.Dir, StoragePath: "/nix/persist", Path: "/home/alice/.mozilla"}
	a := &diff.Audit{Decls: &persist.Set{Entries: []persist.Entry{d, h}}, Totals: map[diff.Category]diff.Total{
		diff.DeclaredUnbacked: {Count: 1, Bytes: 5}, diff.Covered: {Count: 1, Bytes: 3}, diff.Copied: {Count: 2, Bytes: 9},
	}}
	stale := &diff.Item{Path: "/srv/app/x", Category: diff.DeclaredUnbacked, Mode: 0o100644, Size: 5, Decl: 0, Copy: diff.CopyDiffers}
	covered := &diff.Item{Path: "/home/alice/.mozilla/prefs.js", Category: diff.Covered, Mode: 0o100644, Size: 3, Decl: 1, Mount: 30}
	a.Lost = []*diff.Item{covered, stale}
	if w := Why(a, stale); w != "inside declared directory /srv/app, not backed by persistent storage; the persistent copy /nix/persist/srv/app/x, other content, comes back in its place" {
		t.Errorf("copy of unknown time: %q", w)
	}
	// Both times, and which is newer: a newer copy is not stale (field
	// case: /etc/adjtime's persistent copy, modified at 11:00, was called
	// the stale copy of the live file of 10:00).
	stale.Mtime = time.Date(2026, 12, 7, 11, 0, 0, 0, time.UTC).UnixNano()
	newer := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC).UnixNano()
	stale.SetCopyMtime(newer)
	if w := Why(a, stale); !strings.HasSuffix(w, "; the persistent copy /nix/persist/srv/app/x, other content and NEWER (modified 2026-12-07 12:00:00 UTC; the live one 2026-12-07 11:00:00 UTC), comes back in its place") {
		t.Errorf("newer copy: %q", w)
	}
	stale.SetCopyMtime(newer - 2*int64(time.Hour))
	if w := Why(a, stale); !strings.HasSuffix(w, "; the older persistent copy /nix/persist/srv/app/x (modified 2026-12-07 10:00:00 UTC; the live one 2026-12-07 11:00:00 UTC) comes back in its place") {
		t.Errorf("older copy: %q", w)
	}
	if w := Why(a, covered); !strings.Contains(w, "not mounted from /nix/persist/home/alice/.mozilla: the next boot mounts the copy over it") {
		t.Errorf("covered: %q", w)
	}
	s := Summary(a, false)
	if !strings.Contains(s, "1 covered") || !strings.Contains(s, "2 copied") {
		t.Errorf("summary %q", s)
	}
}

// The items array written one item at a time is byte for byte what
// encoding the whole report at once gives (indentation, HTML escaping,
// commas), with no item and with several.
func TestJSONItemsStreamedAsOneDocument(t *testing.T) {
	items := []jsonItem{
		{Path: "/a<b>&c", Category: "unpersisted", Type: "file", Entries: 1, Bytes: 3, Why: `say "items": [] here`},
		{Path: "/d", Category: "shadowed", Type: "dir", Entries: 4, Hidden: &jsonTotal{1, 2}},
	}
	for n := 0; n <= len(items); n++ {
		r := jsonReport{Version: 1, Root: "/", Alerts: []jsonAlert{}, Ephemeral: []jsonMount{}, Items: []jsonItem{},
			Vanished: []jsonVanished{}, Warnings: []string{`"items": []`}, Errors: []jsonError{}, Diagnostics: []jsonDiag{}}
		var streamed bytes.Buffer
		bw := bufio.NewWriter(&streamed)
		if err := writeJSONItems(bw, &r, n, func(i int) jsonItem { return items[i] }); err != nil {
			t.Fatal(err)
		}
		bw.Flush()
		r.Items = append(r.Items, items[:n]...)
		var whole bytes.Buffer
		if err := writeIndentedJSON(&whole, &r); err != nil {
			t.Fatal(err)
		}
		if streamed.String() != whole.String() {
			t.Errorf("%d items: streamed\n%s\nwant\n%s", n, streamed.String(), whole.String())
		}
	}
}

// A declared path bind-mounted from another source than the declared one
// (/var/lib/postgresql from /nix/persist/old-pg) says what the warning
// says: declared, the next boot mounts the declared source over it; an
// undeclared bind mount still says it is no longer declared.
func TestWhyWrongSourceBindMountSaysDeclared(t *testing.T) {
	d := persist.Entry{Kind: persist.Dir, StoragePath: "/nix/persist", Path: "/var/lib/postgresql"}
	a := &diff.Audit{Decls: &persist.Set{Entries: []persist.Entry{d}}, Totals: map[diff.Category]diff.Total{}}
	wrong := &diff.Item{Path: "/var/lib/postgresql/PG_VERSION", Category: diff.Unmounted, Mode: 0o100644, Decl: -1, Mount: 42}
	gone := &diff.Item{Path: "/srv/old/x", Category: diff.Unmounted, Mode: 0o100644, Decl: -1, Mount: 43}
	if w := Why(a, wrong); !strings.Contains(w, "declared directory with the source /nix/persist/var/lib/postgresql, but mount 42 shows another source: the next boot mounts /nix/persist/var/lib/postgresql over it") || strings.Contains(w, "no longer declared") {
		t.Errorf("wrong source: %q", w)
	}
	if w := Why(a, gone); w != "mount 43 from persistent storage, no longer declared" {
		t.Errorf("undeclared: %q", w)
	}
}

// TestWritePlanOfAStoppedRunSaysWhatWasDone: a wipe stopped by a signal
// (or a failed step) part way never prints "done: N steps" for the steps
// it did not reach: the head says how many were done, each step says
// whether it was, and an old root whose deletion was not reached is not
// shown as deleted (fresh-user finding: "done: 70 steps" after SIGTERM at
// 0.1 s, nothing done).
func TestWritePlanOfAStoppedRunSaysWhatWasDone(t *testing.T) {
	now := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	ds := []btrfs.Decision{
		{OldRoot: btrfs.OldRoot{Name: "2026-10-1_10:00:00", Path: "old_roots/2026-10-1_10:00:00"}, Delete: true, Why: "67 days old (more than 30)"},
		{OldRoot: btrfs.OldRoot{Name: "2026-10-2_10:00:00", Path: "old_roots/2026-10-2_10:00:00"}, Delete: true, Why: "66 days old (more than 30)"},
		{OldRoot: btrfs.OldRoot{Name: "2026-12-7_07:00:00", Path: "old_roots/2026-12-7_07:00:00"}, Retired: true, Why: "retired by this run"},
	}
	steps := []btrfs.Step{
		{Action: btrfs.ActRetire, Path: "root", To: "old_roots/2026-12-7_07:00:00", Done: true},
		{Action: btrfs.ActCreate, Path: "root", Done: true},
		{Action: btrfs.ActDelete, Path: "old_roots/2026-10-1_10:00:00", ID: 257, Done: true},
		{Action: btrfs.ActDelete, Path: "old_roots/2026-10-2_10:00:00", ID: 258},
	}
	var buf bytes.Buffer
	if err := WritePlan(&buf, &btrfs.Plan{Options: btrfs.Options{Now: now}, Steps: steps, OldRoots: ds}, "table", false); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, s := range []string{"stopped: 3 of 4 steps done; run drift wipe again", "DONE", "THIS WIPE", "│ 2026-10-1_10:00:00 │", "deleted", "delete (not done)"} {
		if !strings.Contains(out, s) {
			t.Errorf("stopped run's table lacks %q:\n%s", s, out)
		}
	}
	if strings.Contains(out, "done: 4 steps") {
		t.Errorf("a stopped run printed as finished:\n%s", out)
	}
	for i := range steps {
		steps[i].Done = true
	}
	buf.Reset()
	if err := WritePlan(&buf, &btrfs.Plan{Options: btrfs.Options{Now: now}, Steps: steps, OldRoots: ds}, "table", false); err != nil {
		t.Fatal(err)
	}
	if out := buf.String(); !strings.HasPrefix(out, "done: 4 steps\n") || strings.Contains(out, "DONE") || strings.Contains(out, "not done") || strings.Count(out, "deleted") != 2 {
		t.Errorf("a finished run's table:\n%s", out)
	}
}

// A table cell is trimmed as it is laid out: a path that ends (or begins)
// with a space is written with it escaped (escape.Line, as the paths
// formats write it), so the row names the path whole. A tester read
// "/etc/ trailing" for "/etc/ trailing ".
func TestTablePathKeepsItsSpaces(t *testing.T) {
	a := audit()
	a.Lost = append(a.Lost, &diff.Item{Path: "/srv/trailing ", Category: diff.Unpersisted, Mode: fileMode, Size: 1, Decl: -1})
	slices.SortFunc(a.Lost, func(x, y *diff.Item) int { return pathx.Compare(x.Path, y.Path) })
	var table bytes.Buffer
	if err := Write(&table, a, Options{Format: "table"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(table.String(), `/srv/trailing\x20`) {
		t.Errorf("the table does not name /srv/trailing with its space:\n%s", table.String())
	}
}
