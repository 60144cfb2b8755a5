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
	"github.com/nix-drift/drift/internal/testutil"
	"golang.org/x/sys/unix"
)

// TestCombinedLineOrdersEachPathByItsNewerSide: the line after drift
// check's table offered --prefer persistent first for every declared path
// on it when any one copy was newer ("The persistent copy of /etc/adjtime,
// /etc/hostid, /srv/half differs …: the persistent copy is newer at
// /etc/adjtime: keep the persistent copy's: drift adopt --prefer
// persistent … /srv/half"), also for /srv/half, whose live file is the
// newer. Each group now has its own line: /srv/new (copy newer at
// /srv/new/b) --prefer persistent first, /srv/half (live newer) --prefer
// live first, naming no newer copy.
func TestCombinedLineOrdersEachPathByItsNewerSide(t *testing.T) {
	ten := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC).UnixNano()
	a := audit()
	a.Lost = a.Lost[:len(a.Lost)-1]
	a.Decls.Entries = []persist.Entry{{Kind: persist.Dir, StoragePath: "/nix/persist", Path: "/srv/half"}, {Kind: persist.Dir, StoragePath: "/nix/persist", Path: "/srv/new"}}
	item := func(p string, decl int32, copy diff.CopyState, copyMtime int64) *diff.Item {
		it := &diff.Item{Path: p, Category: diff.DeclaredUnbacked, Mode: fileMode, Size: 3, Decl: decl, Copy: copy, Mtime: ten}
		if copy == diff.CopyDiffers {
			it.SetCopyMtime(copyMtime)
		}
		return it
	}
	a.Lost = append(a.Lost,
		item("/srv/half/a", 0, diff.CopyMissing, 0), item("/srv/half/b", 0, diff.CopyDiffers, ten-int64(time.Hour)),
		item("/srv/new/a", 1, diff.CopyMissing, 0), item("/srv/new/b", 1, diff.CopyDiffers, ten+int64(time.Hour)))
	var buf bytes.Buffer
	testutil.Must(t, Write(&buf, a, Options{Format: "table"}))
	out := buf.String()
	for _, want := range []string{
		"The persistent copy of /srv/new differs at /srv/new/b (other content, or the same bytes with another mode or owner): the persistent copy is newer at /srv/new/b: keep the persistent copy's: drift adopt --prefer persistent /srv/new, or the live objects: drift adopt --prefer live /srv/new\n",
		"The persistent copy of /srv/half differs at /srv/half/b (other content, or the same bytes with another mode or owner): keep the live objects: drift adopt --prefer live /srv/half, or the persistent copy's: drift adopt --prefer persistent /srv/half\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the table does not say %q:\n%s", want, out)
		}
	}
}

// TestTypesDifferIsNeitherNewerNorOlder: a live directory whose persistent
// copy is a file modified later was called "NEWER" (a directory's time
// compared with a file's) and offered --prefer persistent first. The row
// says the types differ, neither newer; JSON gives copyType "file" and no
// copyDiffers.
func TestTypesDifferIsNeitherNewerNorOlder(t *testing.T) {
	ten := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC).UnixNano()
	a := audit()
	a.Lost = a.Lost[:len(a.Lost)-1]
	a.Decls.Entries = []persist.Entry{{Kind: persist.Dir, StoragePath: "/nix/persist", Path: "/srv/www"}}
	sub := &diff.Item{Path: "/srv/www/sub", Category: diff.DeclaredUnbacked, Mode: dirMode, Decl: 0, Copy: diff.CopyDiffers, Mtime: ten}
	sub.SetCopyMtime(ten + int64(time.Hour))
	sub.SetCopyKind(unix.S_IFREG)
	a.Lost = append(a.Lost, sub)
	if sub.CopyNewer() {
		t.Error("CopyNewer: true for a directory against a file")
	}
	why := rowWhy(a, Row{Item: sub}, &cmdRefs{})
	if !strings.Contains(why, "the persistent copy /nix/persist/srv/www/sub, a file where the live one is a dir (the types differ, neither is newer), comes back in its place") || strings.Contains(why, "NEWER") {
		t.Errorf("why %q", why)
	}
	var buf bytes.Buffer
	testutil.Must(t, Write(&buf, a, Options{Format: "json"}))
	var doc struct {
		Items []map[string]any `json:"items"`
	}
	testutil.Must(t, json.Unmarshal(buf.Bytes(), &doc))
	for _, it := range doc.Items {
		if it["path"] == "/srv/www/sub" && (it["copyType"] != "file" || it["copyDiffers"] != nil) {
			t.Errorf("json item %v, want copyType file and no copyDiffers", it)
		}
	}
}

// TestAdoptTypesDifferIsNeitherNewerNorOlder: drift adopt listed a live
// directory whose persistent copy is a file modified later as "the copy
// is NEWER", and NewerInCopy named it; the types differ, so it is neither.
func TestAdoptTypesDifferIsNeitherNewerNorOlder(t *testing.T) {
	ten := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC).UnixNano()
	o := restore.Outcome{Path: "/srv/www/sub", Dest: "/nix/persist/srv/www/sub", Action: restore.Differs, Kind: restore.KindDir, DestKind: restore.KindFile,
		Mtime: ten, DestMtime: ten + int64(time.Hour)}
	got := outcomeTimes(o)
	if want := ": the live one is a dir, the copy a file (the types differ, neither is newer)"; !strings.HasSuffix(got, want) || strings.Contains(got, "NEWER") {
		t.Errorf("outcomeTimes %q, want it to end %q", got, want)
	}
	if n := adopt.NewerInCopy(&adopt.Result{Paths: []adopt.Path{{Outcomes: []restore.Outcome{o}}}}); len(n) != 0 {
		t.Errorf("NewerInCopy %q, want none", n)
	}
}

// TestCopyBackCoveredIsHiddenNotWiped: a covered path (on a persistent
// filesystem, declared, not mounted from its copy) whose copy holds other
// bytes and lacks nothing said "the live one stays hidden beneath the
// mount", as if hidden now; it is visible now, and hidden beneath the
// copy's mount from the next boot, not deleted. Only --prefer live is
// offered.
func TestCopyBackCoveredIsHiddenNotWiped(t *testing.T) {
	a := audit()
	a.Lost = a.Lost[:len(a.Lost)-1]
	a.Decls.Entries = []persist.Entry{{Kind: persist.File, StoragePath: "/nix/persist", Path: "/home/alice/.mozilla"}}
	it := &diff.Item{Path: "/home/alice/.mozilla", Category: diff.Covered, Mode: fileMode, Decl: 0, Copy: diff.CopyDiffers, Mount: 36}
	a.Lost = append(a.Lost, it)
	refs := &cmdRefs{}
	why := rowWhy(a, Row{Item: it}, refs)
	if !strings.Contains(why, "the live one is hidden beneath the copy's mount from the next boot (not deleted); to keep the live version instead: run [1]") ||
		strings.Contains(why, "wiped") || len(refs.cmds) != 1 || !strings.Contains(refs.cmds[0], "--prefer live") {
		t.Errorf("why %q, commands %q", why, refs.cmds)
	}
}

// TestAdoptRefusalCopyBackSaysWhereTheLiveOnesGo: drift adopt's refusal
// of a path whose copy differs and lacks nothing offers only --prefer
// live, and says the live objects go with the wiped filesystem; for a
// covered path (on a persistent filesystem) it said so too, though they
// are only hidden beneath the copy's mount, not deleted.
func TestAdoptRefusalCopyBackSaysWhereTheLiveOnesGo(t *testing.T) {
	o := restore.Outcome{Path: "/home/alice/.mozilla/prefs.js", Dest: "/nix/persist/home/alice/.mozilla/prefs.js", Action: restore.Differs, Kind: restore.KindFile, DestKind: restore.KindFile}
	for _, c := range []struct{ covered, want string }{
		{"", "the live ones go with the wiped filesystem (into the old root where old roots are kept); to keep the live objects: drift adopt --prefer live /home/alice/.mozilla\n"},
		{"/home", "the live ones, on the persistent filesystem at /home, are hidden beneath the copy's mount (not deleted); to keep the live objects: drift adopt --prefer live /home/alice/.mozilla\n"},
	} {
		p := adopt.Path{Path: "/home/alice/.mozilla", Dest: "/nix/persist/home/alice/.mozilla", Covered: c.covered, Outcomes: []restore.Outcome{o}}
		var b strings.Builder
		testutil.Must(t, WriteAdopt(&b, "/", nil, &adopt.Result{Paths: []adopt.Path{p}}, AdoptRefused, "summary"))
		if !strings.HasSuffix(b.String(), c.want) || strings.Contains(b.String(), "--prefer persistent") {
			t.Errorf("covered %q: %q, want it to end %q", c.covered, b.String(), c.want)
		}
	}
}

// TestCopyBackLineGroupsByWhereTheLiveOneGoes: the line after drift
// check's table for the declared paths whose copy differs and lacks
// nothing said of a covered one (/home/alice/.mozilla, on a persistent
// filesystem: its live file is hidden beneath the copy's mount, not
// deleted) with the wiped ones that "the live one goes with the wiped
// filesystem (into the old root…)". Each group has its own line, in the
// words of its rows (copyBackWhy).
func TestCopyBackLineGroupsByWhereTheLiveOneGoes(t *testing.T) {
	a := audit()
	a.Lost = a.Lost[:len(a.Lost)-1]
	a.Decls.Entries = []persist.Entry{{Kind: persist.File, StoragePath: "/nix/persist", Path: "/etc/adjtime"}, {Kind: persist.File, StoragePath: "/nix/persist", Path: "/etc/hostid"},
		{Kind: persist.File, StoragePath: "/nix/persist", Path: "/home/alice/.mozilla"}}
	a.Lost = append(a.Lost,
		&diff.Item{Path: "/etc/adjtime", Category: diff.DeclaredUnbacked, Mode: fileMode, Decl: 0, Copy: diff.CopyDiffers},
		&diff.Item{Path: "/etc/hostid", Category: diff.DeclaredUnbacked, Mode: fileMode, Decl: 1, Copy: diff.CopyDiffers},
		&diff.Item{Path: "/home/alice/.mozilla", Category: diff.Covered, Mode: fileMode, Decl: 2, Copy: diff.CopyDiffers, Mount: 36})
	var buf bytes.Buffer
	testutil.Must(t, Write(&buf, a, Options{Format: "table"}))
	var lines []string
	for _, l := range strings.Split(buf.String(), "\n") {
		if strings.HasPrefix(l, "The persistent copy of ") {
			lines = append(lines, l)
		}
	}
	if len(lines) != 2 ||
		!strings.Contains(lines[0], "/etc/adjtime, /etc/hostid differs") || !strings.Contains(lines[0], "the live one goes with the wiped filesystem") ||
		strings.Contains(lines[0], ".mozilla") || !strings.HasSuffix(lines[0], "drift adopt --prefer live /etc/adjtime /etc/hostid") ||
		!strings.Contains(lines[1], "/home/alice/.mozilla differs") || !strings.Contains(lines[1], "hidden beneath the copy's mount") ||
		strings.Contains(lines[1], "wiped") || !strings.HasSuffix(lines[1], "drift adopt --prefer live /home/alice/.mozilla") {
		t.Errorf("combined lines:\n%s\nwant one for the wiped paths, one for the covered one\n\n%s", strings.Join(lines, "\n"), buf.String())
	}
}
