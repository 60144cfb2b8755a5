package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/nix-drift/drift/internal/adopt"
	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/persist"
	"github.com/nix-drift/drift/internal/restore"
	"github.com/nix-drift/drift/internal/suggest"
	"github.com/nix-drift/drift/internal/testutil"
)

// TestNewerCopyIsNamedAndOfferedFirst: a declared file not mounted from
// its persistent copy, the copy modified an hour after the live file. drift
// check called it "the stale copy" and numbered drift adopt --prefer live
// first, which replaced the newer data (field case: /etc/adjtime's copy of
// 11:00 overwritten by the live file of 10:00). The WHY names the copy
// newer with both times and says keeping the live one replaces it. The
// copy lacking nothing there, --prefer persistent would change nothing
// (diff.KeepCopyBack): the row and the summary line offer only --prefer
// live, saying the copy comes back at the next boot.
func TestNewerCopyIsNamedAndOfferedFirst(t *testing.T) {
	live := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC).UnixNano()
	for _, newer := range []bool{true, false} {
		a := audit()
		a.Decls.Entries = append(a.Decls.Entries, persist.Entry{Kind: persist.File, StoragePath: "/nix/persist", Path: "/etc/adjtime"},
			persist.Entry{Kind: persist.File, StoragePath: "/nix/persist", Path: "/etc/hostid"})
		n := int32(len(a.Decls.Entries))
		adj := &diff.Item{Path: "/etc/adjtime", Category: diff.DeclaredUnbacked, Mode: fileMode, Size: 16, Decl: n - 2, Copy: diff.CopyDiffers, Mtime: live}
		host := &diff.Item{Path: "/etc/hostid", Category: diff.DeclaredUnbacked, Mode: fileMode, Size: 4, Decl: n - 1, Copy: diff.CopyDiffers, Mtime: live}
		copyTime := live + int64(time.Hour)
		if !newer {
			copyTime = live - int64(time.Hour)
		}
		adj.SetCopyMtime(copyTime)
		host.SetCopyMtime(live - int64(time.Hour))
		a.Lost = []*diff.Item{adj, host}
		refs := &cmdRefs{}
		why := rowWhy(a, Row{Item: adj}, refs)
		livecmd, persistent := RowAdoptPrefer(a, adj)
		if newer {
			if strings.Contains(why, "stale") || !strings.Contains(why, "NEWER (modified 2026-12-07 11:00:00 UTC; the live one 2026-12-07 10:00:00 UTC)") ||
				!strings.Contains(why, "to keep the live version instead, replacing the NEWER copy: run [1]") {
				t.Errorf("newer copy: why %q", why)
			}
		} else if !strings.Contains(why, "older persistent copy") || !strings.Contains(why, "; to keep the live version instead: run [1]") {
			t.Errorf("older copy: why %q", why)
		}
		// The copy lacks nothing: --prefer persistent would change
		// nothing (diff.KeepCopyBack), so only --prefer live is offered.
		if persistent != "" || len(refs.cmds) != 1 || refs.cmds[0] != livecmd {
			t.Errorf("newer %v: commands %q (persistent %q), want only %q", newer, refs.cmds, persistent, livecmd)
		}
		var buf bytes.Buffer
		if err := Write(&buf, a, Options{Format: "table"}); err != nil {
			t.Fatal(err)
		}
		note := ""
		if newer {
			note = "; the persistent copy is NEWER at /etc/adjtime"
		}
		want := "lacks nothing: its version comes back at the next boot, the live one goes with the wiped filesystem (into the old root where old roots are kept, restorable with drift restore while it is kept)" + note + "; to keep the live objects: " +
			adopt.Command(a.Root, a.Args, adopt.PreferLive, "/etc/adjtime", "/etc/hostid")
		if !strings.Contains(buf.String(), want) || strings.Contains(buf.String(), "--prefer persistent") {
			t.Errorf("newer %v: the summary does not say %q, or offers --prefer persistent:\n%s", newer, want, buf.String())
		}
	}
}

// TestAdoptDryRunShowsBothTimes: drift adopt --dry-run (and its refusal)
// listed a differing object with its sizes only, and its summary offered
// --prefer live first, though the persistent copy's object was the newer
// (field case: /etc/adjtime, the copy of 11:00 overwritten by the live
// file of 10:00). Each differing object now shows both modification times
// and which is newer; a replacement of a newer copy is "replace NEWER";
// the summary names the newer copy and offers --prefer persistent first.
func TestAdoptDryRunShowsBothTimes(t *testing.T) {
	ten := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC).UnixNano()
	o := restore.Outcome{Path: "/etc/adjtime", Dest: "/nix/persist/etc/adjtime", Action: restore.Differs, Kind: restore.KindFile, DestKind: restore.KindFile,
		Why: "16 bytes here, 17 there", Mtime: ten, DestMtime: ten + int64(time.Hour)}
	path := adopt.Path{Path: "/etc/adjtime", Dest: "/nix/persist/etc/adjtime", Ephemeral: "/", Outcomes: []restore.Outcome{o}}
	var b strings.Builder
	testutil.Must(t, WriteAdopt(&b, "/", nil, &adopt.Result{Paths: []adopt.Path{path}}, AdoptRefused, "table"))
	if want := "differs  /nix/persist/etc/adjtime (16 bytes here, 17 there; live modified 2026-12-07 10:00:00 UTC, the copy's 2026-12-07 11:00:00 UTC: the copy is NEWER)"; !strings.Contains(b.String(), want) {
		t.Errorf("refusal does not say %q:\n%s", want, b.String())
	}
	b.Reset()
	testutil.Must(t, WriteAdopt(&b, "/", nil, &adopt.Result{Paths: []adopt.Path{path}}, AdoptRefused, "summary"))
	// The copy lacks nothing: --prefer persistent would change nothing
	// (diff.KeepCopyBack), so only --prefer live is offered.
	if want := "the persistent copy is NEWER at /etc/adjtime; to keep the live objects: drift adopt --prefer live /etc/adjtime"; !strings.Contains(b.String(), want) || strings.Contains(b.String(), "--prefer persistent") {
		t.Errorf("summary does not say %q:\n%s", want, b.String())
	}
	path.Outcomes[0].Action = restore.Replace
	b.Reset()
	testutil.Must(t, WriteAdopt(&b, "/", nil, &adopt.Result{Paths: []adopt.Path{path}}, AdoptDryRun, "table"))
	if want := "replace NEWER /nix/persist/etc/adjtime (the live copy wins; live modified 2026-12-07 10:00:00 UTC, the copy's 2026-12-07 11:00:00 UTC: the copy is NEWER)"; !strings.Contains(b.String(), want) {
		t.Errorf("dry run of --prefer live does not say %q:\n%s", want, b.String())
	}
	// A dry run lists the object it would copy, then says it replaces newer data.
	path.Outcomes[0].Result = &restore.Result{Items: []restore.Item{{Kind: restore.KindFile, Dest: "/nix/persist/etc/adjtime", Size: 16, Mode: 0o644}}}
	b.Reset()
	testutil.Must(t, WriteAdopt(&b, "/", nil, &adopt.Result{Paths: []adopt.Path{path}}, AdoptDryRun, "table"))
	if want := "(replaces NEWER data: live modified 2026-12-07 10:00:00 UTC, the copy's 2026-12-07 11:00:00 UTC: the copy is NEWER)"; !strings.Contains(b.String(), want) {
		t.Errorf("dry run of --prefer live listing the copy does not say %q:\n%s", want, b.String())
	}
}

// TestSuggestLeftLineOffersTheNewerSideFirst: drift suggest's line for the
// declared paths whose persistent copy differs offered --prefer live first
// for a copy newer than the live file, as drift check did; then, once it
// named the newer copy, --prefer persistent first for every declared path
// on the line, also /srv/half, whose live side is the newer. Each
// declared path now gets its newer side first: /srv/new (its copy newer at
// /srv/new/b, suggest.Left.NewerAdopt) --prefer persistent first, naming
// it; /srv/half --prefer live first.
func TestSuggestLeftLineOffersTheNewerSideFirst(t *testing.T) {
	l := suggest.Left{Reason: suggest.LeftChoose, Count: 2, Examples: []string{"/srv/half/a", "/srv/new/a"}, Keep: diff.KeepChoose,
		Adopt: []string{"/srv/half", "/srv/new"}, NewerAdopt: []string{"/srv/new"}, Newer: []string{"/srv/new/b"}}
	line := LeftLine(&SuggestReport{Root: "/"}, l)
	if want := "; the persistent copy is newer at /srv/new/b: keep the persistent copy's: drift adopt --prefer persistent /srv/new, or the live objects: drift adopt --prefer live /srv/new" +
		"; keep the live objects: drift adopt --prefer live /srv/half, or the persistent copy's: drift adopt --prefer persistent /srv/half"; !strings.HasSuffix(line, want) {
		t.Errorf("line %q, want it to end %q", line, want)
	}
	l.Newer, l.NewerAdopt = nil, nil
	if line := LeftLine(&SuggestReport{Root: "/"}, l); !strings.HasSuffix(line, "; keep the live objects: drift adopt --prefer live /srv/half /srv/new, or the persistent copy's: drift adopt --prefer persistent /srv/half /srv/new") {
		t.Errorf("older copies: line %q", line)
	}
}

// TestTimesApartBelowTheSecondShowTheirFraction: a live file and its
// persistent copy modified 50 ms apart within one second. The WHY said
// "NEWER (modified 2026-12-07 10:00:00 UTC; the live one 2026-12-07
// 10:00:00 UTC)", a claim its own two times did not bear out; drift adopt's
// times and drift restore's "replace NEWER" line did the same. Each line
// that prints both times and calls one newer now prints them to the digit
// that tells them apart, and to the second when the seconds differ.
func TestTimesApartBelowTheSecondShowTheirFraction(t *testing.T) {
	live := time.Date(2026, 12, 7, 10, 0, 0, 300_000_000, time.UTC).UnixNano()
	copyTime := live + int64(50*time.Millisecond)
	a := audit()
	a.Decls.Entries = append(a.Decls.Entries, persist.Entry{Kind: persist.File, StoragePath: "/nix/persist", Path: "/etc/adjtime"})
	adj := &diff.Item{Path: "/etc/adjtime", Category: diff.DeclaredUnbacked, Mode: fileMode, Size: 16, Decl: int32(len(a.Decls.Entries) - 1), Copy: diff.CopyDiffers, Mtime: live}
	adj.SetCopyMtime(copyTime)
	a.Lost = []*diff.Item{adj}
	why := rowWhy(a, Row{Item: adj}, &cmdRefs{})
	if want := "NEWER (modified 2026-12-07 10:00:00.35 UTC; the live one 2026-12-07 10:00:00.30 UTC)"; !strings.Contains(why, want) {
		t.Errorf("why %q, want it to say %q", why, want)
	}
	adj.SetCopyMtime(live + 1)
	why = rowWhy(a, Row{Item: adj}, &cmdRefs{})
	if want := "NEWER (modified 2026-12-07 10:00:00.300000001 UTC; the live one 2026-12-07 10:00:00.300000000 UTC)"; !strings.Contains(why, want) {
		t.Errorf("why %q, want it to say %q", why, want)
	}
	// Cut, not rounded: 1 ns before .3 reads .2.
	adj.SetCopyMtime(live - 1)
	why = rowWhy(a, Row{Item: adj}, &cmdRefs{})
	if want := "older persistent copy /nix/persist/etc/adjtime (modified 2026-12-07 10:00:00.2 UTC; the live one 2026-12-07 10:00:00.3 UTC)"; !strings.Contains(why, want) {
		t.Errorf("why %q, want it to say %q", why, want)
	}

	o := restore.Outcome{Path: "/etc/adjtime", Dest: "/nix/persist/etc/adjtime", Action: restore.Differs, Kind: restore.KindFile, DestKind: restore.KindFile,
		Why: "16 bytes here, 17 there", Mtime: live, DestMtime: copyTime}
	if got, want := outcomeTimes(o), "live modified 2026-12-07 10:00:00.30 UTC, the copy's 2026-12-07 10:00:00.35 UTC: the copy is NEWER"; got != want {
		t.Errorf("adopt's times %q, want %q", got, want)
	}
	o.DestMtime = live + int64(time.Second)
	if got, want := outcomeTimes(o), "live modified 2026-12-07 10:00:00 UTC, the copy's 2026-12-07 10:00:01 UTC: the copy is NEWER"; got != want {
		t.Errorf("adopt's times a second apart %q, want %q", got, want)
	}

	var b strings.Builder
	WriteNewer(&b, "/", &restore.Result{Deletes: restore.Deletion{Newer: []restore.Newer{{Dest: "/nix/persist/etc/adjtime", There: copyTime, Copy: live}}}})
	if want := "replace NEWER /nix/persist/etc/adjtime (modified 2026-12-07 10:00:00.35 UTC; the old root's 2026-12-07 10:00:00.30 UTC)\n"; b.String() != want {
		t.Errorf("restore prints %q, want %q", b.String(), want)
	}
}

// TestJSONSaysWhichCopyIsNewer: drift check --format json said which of a
// differing persistent copy and the live object is newer only in the
// words of why; a consumer ordering the two adoptPrefer commands had to
// parse them. Each such item now carries copyMtime and copyDiffers
// ("newer", "older", "same-time": diff.Item.CopyNewer's rule); an item
// whose copy does not differ has neither.
func TestJSONSaysWhichCopyIsNewer(t *testing.T) {
	live := time.Date(2026, 12, 7, 10, 0, 0, 300_000_000, time.UTC).UnixNano()
	for _, tc := range []struct {
		copyTime    int64
		mtime, want string
	}{
		{live + int64(50*time.Millisecond), "2026-12-07T10:00:00.35Z", "newer"},
		{live - int64(time.Hour), "2026-12-07T09:00:00.3Z", "older"},
		{live, "2026-12-07T10:00:00.3Z", "same-time"},
	} {
		a := audit()
		a.Decls.Entries = append(a.Decls.Entries, persist.Entry{Kind: persist.File, StoragePath: "/nix/persist", Path: "/etc/adjtime"},
			persist.Entry{Kind: persist.File, StoragePath: "/nix/persist", Path: "/etc/machine-id"})
		n := int32(len(a.Decls.Entries))
		adj := &diff.Item{Path: "/etc/adjtime", Category: diff.DeclaredUnbacked, Mode: fileMode, Size: 16, Decl: n - 2, Copy: diff.CopyDiffers, Mtime: live}
		adj.SetCopyMtime(tc.copyTime)
		id := &diff.Item{Path: "/etc/machine-id", Category: diff.DeclaredUnbacked, Mode: fileMode, Size: 33, Decl: n - 1, Copy: diff.CopyMissing, Mtime: live}
		a.Lost = []*diff.Item{adj, id}
		var buf bytes.Buffer
		testutil.Must(t, Write(&buf, a, Options{Format: "json"}))
		var doc struct {
			Items []map[string]any `json:"items"`
		}
		testutil.Must(t, json.Unmarshal(buf.Bytes(), &doc))
		if len(doc.Items) != 2 {
			t.Fatalf("%d items, want 2:\n%s", len(doc.Items), buf.String())
		}
		got := doc.Items[0]
		if got["path"] != "/etc/adjtime" || got["copyDiffers"] != tc.want || got["copyMtime"] != tc.mtime || got["adoptPreferLive"] == nil || got["adoptPreferPersistent"] != nil {
			t.Errorf("copy %s: item %v, want copyDiffers %q and copyMtime %q", tc.want, got, tc.want, tc.mtime)
		}
		if _, ok := doc.Items[1]["copyDiffers"]; ok {
			t.Errorf("a copy that is missing: item %v has copyDiffers", doc.Items[1])
		}
		if _, ok := doc.Items[1]["copyMtime"]; ok {
			t.Errorf("a copy that is missing: item %v has copyMtime", doc.Items[1])
		}
	}
}

// TestFutureTimesSayCheckTheClock: a persistent copy modified in 2030 (a
// wrong clock when it was written, this machine's or another's) was called
// NEWER by check's WHY, adopt's times and restore's "replace NEWER" line,
// with nothing saying the time lies ahead of now. Each time after now is
// followed by "(in the future: check the clock)"; a past time is not.
func TestFutureTimesSayCheckTheClock(t *testing.T) {
	live := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC).UnixNano()
	future := time.Now().Add(24 * time.Hour).Truncate(time.Second)
	fs := future.UTC().Format("2006-01-02 15:04:05 UTC")
	a := audit()
	a.Decls.Entries = append(a.Decls.Entries, persist.Entry{Kind: persist.File, StoragePath: "/nix/persist", Path: "/etc/adjtime"})
	adj := &diff.Item{Path: "/etc/adjtime", Category: diff.DeclaredUnbacked, Mode: fileMode, Size: 16, Decl: int32(len(a.Decls.Entries) - 1), Copy: diff.CopyDiffers, Mtime: live}
	adj.SetCopyMtime(future.UnixNano())
	a.Lost = []*diff.Item{adj}
	why := rowWhy(a, Row{Item: adj}, &cmdRefs{})
	if want := "NEWER (modified " + fs + " (in the future: check the clock); the live one 2026-12-07 10:00:00 UTC)"; !strings.Contains(why, want) {
		t.Errorf("why %q, want it to say %q", why, want)
	}
	o := restore.Outcome{Path: "/etc/adjtime", Dest: "/nix/persist/etc/adjtime", Action: restore.Differs, Kind: restore.KindFile, DestKind: restore.KindFile,
		Why: "16 bytes here, 17 there", Mtime: live, DestMtime: future.UnixNano()}
	if got, want := outcomeTimes(o), "live modified 2026-12-07 10:00:00 UTC, the copy's "+fs+" (in the future: check the clock): the copy is NEWER"; got != want {
		t.Errorf("adopt's times %q, want %q", got, want)
	}
	var b strings.Builder
	WriteNewer(&b, "/", &restore.Result{Deletes: restore.Deletion{Newer: []restore.Newer{{Dest: "/nix/persist/etc/adjtime", There: future.UnixNano(), Copy: live}}}})
	if want := "replace NEWER /nix/persist/etc/adjtime (modified " + fs + " (in the future: check the clock); the old root's 2026-12-07 10:00:00 UTC)\n"; b.String() != want {
		t.Errorf("restore prints %q, want %q", b.String(), want)
	}
}
