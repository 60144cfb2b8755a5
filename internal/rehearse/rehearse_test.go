package rehearse

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/audit"
	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/mounts"
	"github.com/nix-drift/drift/internal/persist"
	"github.com/nix-drift/drift/internal/suggest"
)

// TestWeighCountsAcrossReports: a path in every report whose size changes
// is state, one identical in all is identical, one in a single report is
// once; the latest report alone decides InLatest; ignored, recreated and
// copied rows are not lost. A directory's row whose history is "mixed"
// (drift check sums up one whose entries differ: some new or changed) is
// changed since the previous boot.
func TestWeighCountsAcrossReports(t *testing.T) {
	rep := func(rows ...Row) Report { return Report{Items: rows} }
	state := func(n int64) Row {
		return Row{Path: "/etc/app", Category: "unpersisted", Type: "dir", Entries: 2, Bytes: n}
	}
	same := Row{Path: "/opt/x", Category: "unpersisted", Type: "file", Entries: 1, Bytes: 4, Mtime: "2026-12-01T00:00:00Z"}
	paths := weigh([]Report{
		rep(state(1), same, Row{Path: "/tmp/once", Category: "unpersisted"}),
		rep(state(2), same, Row{Path: "/var/cache", Category: "ignored"}),
		rep(state(2), same, Row{Path: "/bin/sh", Category: "recreated"}, Row{Path: "/srv/h", Category: "unpersisted", History: "changed"},
			Row{Path: "/srv/m", Category: "unpersisted", Type: "dir", History: "mixed"}),
	})
	want := map[string]Path{
		"/etc/app":  {Lost: 3, Compared: 2, Changed: 1, Kind: KindState, InLatest: true},
		"/opt/x":    {Lost: 3, Compared: 2, Kind: KindIdentical, InLatest: true},
		"/tmp/once": {Lost: 1, Kind: KindOnce},
		"/srv/h":    {Lost: 1, Compared: 1, Changed: 1, Kind: KindState, InLatest: true},
		"/srv/m":    {Lost: 1, Compared: 1, Changed: 1, Kind: KindState, InLatest: true},
	}
	if len(paths) != len(want) {
		t.Fatalf("paths %+v", paths)
	}
	for _, p := range paths {
		w := want[p.Path]
		w.Path, w.Bytes = p.Path, p.Bytes
		if !reflect.DeepEqual(p, w) {
			t.Errorf("%s: %+v, want %+v", p.Path, p, w)
		}
	}
}

// TestVerdictRules: the three rules, in order.
func TestVerdictRules(t *testing.T) {
	r := &Result{Reports: []string{"a", "b"}, MinBoots: 3, Paths: []Path{{Path: "/a", Step: StepPersist}}}
	verdict(r, "/", nil)
	if r.Ready || r.Persist[0] != "/a" {
		t.Errorf("rule 1: %+v", r)
	}
	r = &Result{Reports: []string{"a", "b", "c"}, MinBoots: 3, Paths: []Path{{Path: "/a/b", Step: StepIgnore, Suggestion: "/a", Targets: []string{"/a"}}, {Path: "/a/c", Step: StepIgnore, Suggestion: "/a", Targets: []string{"/a"}}}}
	verdict(r, "/", nil)
	if r.Ready || len(r.Ignore) != 1 || r.Ignore[0] != "/a" {
		t.Errorf("rule 2: %+v", r)
	}
	r = &Result{Reports: []string{"a", "b", "c"}, MinBoots: 3, Paths: []Path{{Path: "/a", Now: NowDeclared}}}
	verdict(r, "/", nil)
	if !r.Ready || r.Next != "set services.drift.wipe.rehearse = false and rebuild: the wipe runs from the next boot" {
		t.Errorf("rule 3: %+v", r)
	}
}

// TestReadSkipsWhatIsNoReport: latest.json and other files are not read,
// a report that is not drift check's JSON is skipped with a warning naming
// it, and only the last n reports by time are kept.
func TestReadSkipsWhatIsNoReport(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"shutdown-2026-12-01T00:00:00.000000000Z.json": `{"version": 1, "items": [{"path": "/a", "category": "unpersisted"}]}`,
		"shutdown-2026-12-02T00:00:00.000000000Z.json": `{"version": 1, "items": [{"path": "/b", "category": "unpersisted"}]}`,
		"shutdown-2026-12-03T00:00:00.000000000Z.json": `{"version": 2}`,
		"shutdown-2026-12-04T00:00:00.000000000Z.json": `{"version": 1, "items": [{"path": "x", "pathBase64": "L2MK", "category": "unpersisted"}]}`,
		"latest.json": `{"version": 1, "items": []}`,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	got, err := Read(dir, 3)
	if err != nil || len(got.Read) != 2 || len(got.Warnings) != 1 {
		t.Fatalf("Read: %+v %v", got, err)
	}
	reps := got.Read
	if reps[0].Items[0].Path != "/b" || reps[1].Items[0].Path != "/c\n" {
		t.Errorf("reports: %+v", reps)
	}
	if _, err := Read(filepath.Join(dir, "missing"), 3); err == nil {
		t.Errorf("a missing directory is no error")
	}
}

// TestReadWarnsOfJSONNotNamedAsReports: a directory of *.json files none
// of which is named shutdown-*.json reads no report, with a warning naming
// what was found and the expected names.
func TestReadWarnsOfJSONNotNamedAsReports(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"report-1.json", "latest.json"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(`{"version": 1, "items": []}`), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	got, err := Read(dir, 3)
	if err != nil || len(got.Read) != 0 || len(got.Warnings) != 1 {
		t.Fatalf("Read: %+v %v", got, err)
	}
	msg := got.Warnings[0].Message
	if !strings.Contains(msg, "report-1.json") || !strings.Contains(msg, "shutdown-<UTC time>.json") || strings.Contains(msg, "latest.json") {
		t.Errorf("warning %q", msg)
	}
}

// TestTruncatedNewestReportIsNotReady: when the newest report is
// truncated, the verdict does not silently come from an older one: it is
// not ready and names both.
func TestTruncatedNewestReportIsNotReady(t *testing.T) {
	dir := t.TempDir()
	ok := `{"version": 1, "items": []}`
	for name, body := range map[string]string{
		"shutdown-2026-12-01T00:00:00.000000000Z.json": ok,
		"shutdown-2026-12-02T00:00:00.000000000Z.json": ok,
		"shutdown-2026-12-03T00:00:00.000000000Z.json": ok,
		"shutdown-2026-12-04T00:00:00.000000000Z.json": `{"version": 1, "items": [{"path": "/a", "categ`,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	got, err := Read(dir, 10)
	if err != nil || len(got.Read) != 3 || len(got.Newer) != 1 || len(got.Warnings) != 1 {
		t.Fatalf("Read: %+v %v", got, err)
	}
	r := &Result{MinBoots: 3, Unread: got.Newer}
	for _, rep := range got.Read {
		r.Reports = append(r.Reports, rep.Name)
	}
	verdict(r, "/", nil)
	if r.Ready || !strings.Contains(r.Reason, "shutdown-2026-12-04") || !strings.Contains(r.Reason, "shutdown-2026-12-03") || !strings.Contains(r.Reason, "older") {
		t.Errorf("verdict: %+v", r)
	}
}

// TestNextLineListsEveryStepAndWhatIsLeft: every suggestion standing for a
// path is in the persist list (one below a lost directory too, as a
// nested subvolume drift suggest suggests), a path no command has a step
// for is "left to you" with its reason and not in the persist list, a
// differing copy asks to decide with --prefer, and an unmounted path
// asks to be declared again or ignored — never "drift adopt".
func TestNextLineListsEveryStepAndWhatIsLeft(t *testing.T) {
	r := &Result{Reports: []string{"a", "b", "c"}, MinBoots: 3, Paths: []Path{
		{Path: "/srv", Step: StepPersist, Targets: []string{"/srv/data", "/srv/nested"}},
		{Path: "/etc/linked", Step: StepLeft, Why: "drift suggest leaves it to you: symlinks"},
		{Path: "/home/alice/.mozilla/prefs", Step: StepDecide, Targets: []string{"/home/alice/.mozilla"}},
		{Path: "/mnt/bind", Step: StepRedeclare},
	}}
	verdict(r, "/", nil)
	if r.Ready || !reflect.DeepEqual(r.Persist, []string{"/srv/data", "/srv/nested"}) || len(r.Adopt) != 0 ||
		!reflect.DeepEqual(r.Decide, []string{"/home/alice/.mozilla"}) || !reflect.DeepEqual(r.Redeclare, []string{"/mnt/bind"}) ||
		!reflect.DeepEqual(r.Left, []Left{{Path: "/etc/linked", Why: "drift suggest leaves it to you: symlinks"}}) {
		t.Fatalf("verdict: %+v", r)
	}
	for _, want := range []string{"persist /srv/data, /srv/nested (drift suggest", "left to you: /etc/linked (drift suggest leaves it to you: symlinks)",
		"drift adopt --prefer live /home/alice/.mozilla", "drift adopt --prefer persistent /home/alice/.mozilla", "declare again or ignore /mnt/bind"} {
		if !strings.Contains(r.Next, want) {
			t.Errorf("next %q lacks %q", r.Next, want)
		}
	}
	if strings.Contains(r.Next, "drift adopt /mnt") || strings.Contains(r.Next, "persist /etc/linked") || strings.Contains(r.Next, "live|persistent") {
		t.Errorf("next %q", r.Next)
	}
}

// TestNextAdoptCommandsRunAsPrinted: the drift adopt commands of the next
// line carry the --root and the machine flags (diff.Audit.Args) the
// rehearsal was given, each path a shell word; a path to persist whose
// name no Nix string can write is said to be undeclarable as it is, not
// sent to drift suggest --format nix (which leaves it out). Both were
// printed bare (fresh-user findings).
func TestNextAdoptCommandsRunAsPrinted(t *testing.T) {
	r := &Result{Reports: []string{"a", "b", "c"}, MinBoots: 3, Paths: []Path{
		{Path: "/var/lib/newsvc/brandnew", Step: StepAdopt},
		{Path: "/srv/\x1b]0;pwned\x07", Step: StepPersist},
		{Path: "/srv/ok", Step: StepPersist},
	}}
	verdict(r, "/mnt", []string{"--persist", "/etc/nixos/p.nix"})
	for _, want := range []string{"drift adopt --root /mnt --persist /etc/nixos/p.nix /var/lib/newsvc/brandnew",
		"persist /srv/ok (drift suggest", "/srv/\\x1b]0;pwned\\x07 cannot be declared as it is"} {
		if !strings.Contains(r.Next, want) {
			t.Errorf("next %q lacks %q", r.Next, want)
		}
	}
	if strings.Contains(r.Next, "\x1b") {
		t.Errorf("next %q holds a raw control byte", r.Next)
	}
}

// TestNowOfAPathNoLongerLostNamesNoDeclarationItLacks: a path drift check
// no longer reports lost is declared only when a declaration covers it; a
// fileSystems mount point below it (/srv/bindfs) declares nothing of /srv.
func TestNowOfAPathNoLongerLostNamesNoDeclarationItLacks(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"srv/bindfs", "var/lib/app/x"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	decls := &persist.Set{
		Entries: []persist.Entry{{Kind: persist.Dir, StoragePath: "/persist", Path: "/var/lib/app"}},
		Config:  &persist.Config{FileSystems: []persist.Mount{{Mount: mounts.Mount{MountPoint: "/srv/bindfs", Source: "/persist/srv"}}}},
	}
	c := &classifier{m: &audit.Model{Root: root, Decls: decls}, live: map[string]*diff.Item{}}
	for p, want := range map[string]string{"/srv": NowNotLost, "/var/lib/app": NowDeclared, "/var/lib/app/x": NowDeclared, "/gone": NowGone} {
		path := Path{Path: p, InLatest: true}
		c.classify(&path)
		if path.Now != want || path.Step != "" {
			t.Errorf("%s: now %q step %q, want %q", p, path.Now, path.Step, want)
		}
	}
}

// TestBootSecretReadEarlyIsNoPersistStep: a lost password file drift
// suggest does not declare (read before the persistence mounts exist:
// suggest.Suggestion.Declares) is left to the user with what losing it
// does and how to keep it, not a "persist" step whose declarations drift
// suggest --format nix does not write.
func TestBootSecretReadEarlyIsNoPersistStep(t *testing.T) {
	r := persist.Ref{Option: "users.users.alice.hashedPasswordFile", Path: "/etc/secrets/alice", Secret: true, Early: true, Loss: "losing it locks users out at the next boot"}
	c := &classifier{sug: &suggest.Result{Suggestions: []suggest.Suggestion{
		{Action: suggest.Persist, Path: "/etc/secrets", StoragePath: "/nix/persist", Secrets: []persist.Ref{r}},
		{Action: suggest.Persist, Path: "/var/lib/app", StoragePath: "/nix/persist"},
	}}}
	p := &Path{Path: "/etc/secrets/alice"}
	c.suggested(p)
	if p.Step != StepLeft || !strings.Contains(p.Why, "locks users out") || !strings.Contains(p.Why, "move it to /nix/persist/etc/secrets/alice and point users.users.alice.hashedPasswordFile there") {
		t.Errorf("the password file: step %q, why %q", p.Step, p.Why)
	}
	// the reason is about the lost path, not the suggestion holding it
	if want := "drift suggest leaves it to you: users.users.alice.hashedPasswordFile names it: "; !strings.HasPrefix(p.Why, want) {
		t.Errorf("the password file: why %q, want it to start %q", p.Why, want)
	}
	e := &Path{Path: "/etc"}
	c.suggested(e)
	if want := "drift suggest leaves it to you: holds /etc/secrets/alice, which users.users.alice.hashedPasswordFile names: "; e.Step != StepLeft || !strings.HasPrefix(e.Why, want) {
		t.Errorf("/etc: step %q, why %q, want it to start %q", e.Step, e.Why, want)
	}
	q := &Path{Path: "/var/lib/app/db"}
	c.suggested(q)
	if q.Step != StepPersist {
		t.Errorf("/var/lib/app/db: step %q, want persist", q.Step)
	}
}

// TestLeftReasonIsAboutThePath: a path drift suggest leaves to the user
// gets drift suggest's reason for that path, never one for a path inside
// it. The demo's /opt (a directory never suggested whole) holds
// /opt/old-app, a mount from persistent storage no longer declared, which
// is its own row with its own step; the next line said "left to you: /opt
// (… mounted from persistent storage, no longer declared …)", the reason
// of /opt/old-app. A path with no reason of its own takes that of the
// nearest left path holding it, named.
func TestLeftReasonIsAboutThePath(t *testing.T) {
	c := &classifier{sug: &suggest.Result{Left: []suggest.Left{
		{Reason: "mounted from persistent storage, no longer declared", Paths: []string{"/opt/old-app", "/opt/old-app/state.json"}},
		{Reason: "homes and directories holding many applications' state, themselves: never suggested whole", Paths: []string{"/opt", "/var/lib"}},
		{Reason: "symlinks", Paths: []string{"/srv/www/link"}},
	}}}
	for p, want := range map[string]string{
		"/opt":                    "drift suggest leaves it to you: homes and directories holding many applications' state, themselves: never suggested whole",
		"/opt/old-app":            "drift suggest leaves it to you: mounted from persistent storage, no longer declared",
		"/opt/old-app/state.json": "drift suggest leaves it to you: mounted from persistent storage, no longer declared",
		"/opt/old-app/cache/x":    "drift suggest leaves /opt/old-app, which holds it, to you: mounted from persistent storage, no longer declared",
		"/var/lib/app":            "drift suggest leaves /var/lib, which holds it, to you: homes and directories holding many applications' state, themselves: never suggested whole",
		"/srv/www":                "drift suggest makes no suggestion for it",
	} {
		path := &Path{Path: p}
		c.suggested(path)
		if path.Step != StepLeft || path.Why != want {
			t.Errorf("%s: step %q, why %q; want left, %q", p, path.Step, path.Why, want)
		}
	}
}

// TestShadowedUndeclaredIsLeftAsCheckAndSuggestSay: a file on the wiped
// root beneath the mount point of a persistent subvolume (/var/log), no
// declaration covering it, is shadowed: drift check and drift suggest
// leave it to the user (diff.KeepBeneath: look beneath the mount, copy by
// hand). rehearse gave it the step "drift adopt … (declared, its data
// still on the wiped root or hidden)", and drift adopt then did nothing
// (field case: a log file written before /var/log was mounted). It is
// left now, with drift suggest's reason; a declared shadowed path keeps
// its adopt step.
func TestShadowedUndeclaredIsLeftAsCheckAndSuggestSay(t *testing.T) {
	beneath := &diff.Item{Path: "/var/log/beneath2.log", Category: diff.Shadowed, Mode: 0o100644}
	decls := &persist.Set{Entries: []persist.Entry{{Kind: persist.Dir, StoragePath: "/persist", Path: "/var/lib/app"}}}
	ms := []mounts.Mount{{ID: 1, Parent: 1, Root: "/root", MountPoint: "/", FSType: "btrfs"}, {ID: 2, Parent: 1, Root: "/log", MountPoint: "/var/log", FSType: "btrfs"}}
	a := &diff.Audit{Lost: []*diff.Item{beneath}, Decls: decls, Ephemeral: ms[:1]}
	c := &classifier{ctx: context.Background(), m: &audit.Model{Root: t.TempDir(), Decls: decls, Audit: a, Mounts: mounts.New(ms)}, live: map[string]*diff.Item{beneath.Path: beneath}, adopt: map[string][2]string{}}
	p := Path{Path: beneath.Path, InLatest: true}
	c.classify(&p)
	if want := "drift suggest leaves it to you: " + suggest.LeftBeneath; p.Step != StepLeft || p.Why != want {
		t.Errorf("step %q, why %q; want left, %q", p.Step, p.Why, want)
	}
	r := &Result{Reports: []string{"a", "b", "c"}, MinBoots: 3, Paths: []Path{p}}
	verdict(r, "/", nil)
	if len(r.Adopt) != 0 || strings.Contains(r.Next, "drift adopt") || len(r.Left) != 1 {
		t.Errorf("adopt %q, left %+v, next %q: want it left, no drift adopt", r.Adopt, r.Left, r.Next)
	}
	declared := &diff.Item{Path: "/var/lib/app/x", Category: diff.Shadowed, Mode: 0o100644}
	if why, left := c.keptByHand(declared); left {
		t.Errorf("a declared shadowed path is left (%q), want drift adopt's step", why)
	}
}

// TestDecideNamesTheNewerCopyFirst: a path whose persistent copy differs
// and is the newer (diff.Item.CopyNewer) is decided with --prefer
// persistent offered first, naming it; the next line offered --prefer live
// first, which replaces the newer data.
func TestDecideNamesTheNewerCopyFirst(t *testing.T) {
	r := &Result{Reports: []string{"a", "b", "c"}, MinBoots: 3, Paths: []Path{{Path: "/etc/adjtime", Step: StepDecide, Targets: []string{"/etc/adjtime"}, copyNewer: true}}}
	verdict(r, "/", nil)
	if want := "its persistent copy differs at /etc/adjtime: the persistent copy is newer at /etc/adjtime: keep the persistent copy's: drift adopt --prefer persistent /etc/adjtime"; !strings.Contains(r.Next, want) {
		t.Errorf("next %q, want %q", r.Next, want)
	}
}

// TestAdoptStepSaysWhereTheDataLies: the Next line's adopt step said
// "(declared, its data still on the wiped root or hidden)" for every
// declared path it adopts, also for one on a /home subvolume not mounted
// from its copy (Covered), which is on no wiped root and hidden from
// nothing now. It names the places of the paths it adopts, and only those.
func TestAdoptStepSaysWhereTheDataLies(t *testing.T) {
	decls := &persist.Set{Entries: []persist.Entry{{Kind: persist.Dir, StoragePath: "/persist", Path: "/var/lib/app"},
		{Kind: persist.Dir, StoragePath: "/persist", Path: "/home/alice/.ssh"}}}
	unbacked := &diff.Item{Path: "/var/lib/app/a", Category: diff.DeclaredUnbacked, Mode: 0o100644, Decl: 0}
	shadowed := &diff.Item{Path: "/var/lib/app/b", Category: diff.Shadowed, Mode: 0o100644, Decl: -1}
	covered := &diff.Item{Path: "/home/alice/.ssh/id", Category: diff.Covered, Mode: 0o100644, Decl: 1}
	const wiped, beneath, other = "on the wiped root", "hidden beneath a mount on the wiped root", "on a persistent filesystem other than the root where it is not mounted from its copy"
	for _, tc := range []struct {
		items []*diff.Item
		want  string
		not   []string
	}{
		{[]*diff.Item{covered}, "(declared, its data still " + other + ")", []string{"wiped root", "hidden"}},
		{[]*diff.Item{unbacked}, "(declared, its data still " + wiped + ")", []string{"hidden", "other than"}},
		{[]*diff.Item{shadowed, unbacked, covered}, "(declared, its data still " + wiped + " or " + beneath + " or " + other + ")", nil},
	} {
		a := &diff.Audit{Lost: tc.items, Decls: decls}
		c := &classifier{ctx: context.Background(), m: &audit.Model{Root: t.TempDir(), Decls: decls, Audit: a}, live: map[string]*diff.Item{}, adopt: map[string][2]string{}}
		r := &Result{Reports: []string{"a", "b", "c"}, MinBoots: 3}
		for _, it := range tc.items {
			c.live[it.Path] = it
			c.adopt[it.Path] = [2]string{StepAdopt, ""}
			p := Path{Path: it.Path, InLatest: true}
			c.classify(&p)
			r.Paths = append(r.Paths, p)
		}
		verdict(r, "/", nil)
		if !strings.Contains(r.Next, tc.want) {
			t.Errorf("next %q, want %q", r.Next, tc.want)
		}
		for _, n := range tc.not {
			if strings.Contains(r.Next, n) {
				t.Errorf("next %q says %q", r.Next, n)
			}
		}
	}
}

// TestDecideCopyBackOffersOnlyPreferLive: a decided path whose persistent
// copy holds another object and lacks nothing (diff.KeepCopyBack: drift
// adopt --prefer persistent has copied what it lacked) was offered
// --prefer live and --prefer persistent again, the second changing
// nothing. Next says the copy comes back at the next boot and offers only
// --prefer live, naming a newer copy; another decided path keeps both.
func TestDecideCopyBackOffersOnlyPreferLive(t *testing.T) {
	r := &Result{Reports: []string{"a", "b", "c"}, MinBoots: 3, Paths: []Path{
		{Path: "/etc/adjtime", Step: StepDecide, Targets: []string{"/etc/adjtime"}, copyNewer: true, copyBack: true},
		{Path: "/srv/half", Step: StepDecide, Targets: []string{"/srv/half"}}}}
	verdict(r, "/", nil)
	for _, want := range []string{
		"its persistent copy differs at /srv/half: keep the live objects: drift adopt --prefer live /srv/half, or the persistent copy's: drift adopt --prefer persistent /srv/half",
		"the persistent copy of /etc/adjtime differs and comes back at the next boot, the live version going with the wiped filesystem (into the old root where old roots are kept); the persistent copy is NEWER at /etc/adjtime; to keep the live version instead: drift adopt --prefer live /etc/adjtime",
	} {
		if !strings.Contains(r.Next, want) {
			t.Errorf("next %q, want %q", r.Next, want)
		}
	}
	if strings.Contains(r.Next, "--prefer persistent /etc/adjtime") {
		t.Errorf("next %q offers --prefer persistent for /etc/adjtime", r.Next)
	}
}

// TestDecideOrdersEachPathByItsNewerSide: two decided paths, the copy
// newer at /etc/adjtime and older at /srv/half. Next offered --prefer
// persistent first for both ("the persistent copy is newer at
// /etc/adjtime: keep the persistent copy's: drift adopt --prefer
// persistent /etc/adjtime /srv/half"). Each now gets its newer side first.
func TestDecideOrdersEachPathByItsNewerSide(t *testing.T) {
	r := &Result{Reports: []string{"a", "b", "c"}, MinBoots: 3, Paths: []Path{
		{Path: "/etc/adjtime", Step: StepDecide, Targets: []string{"/etc/adjtime"}, copyNewer: true},
		{Path: "/srv/half", Step: StepDecide, Targets: []string{"/srv/half"}}}}
	verdict(r, "/", nil)
	for _, want := range []string{
		"its persistent copy differs at /etc/adjtime: the persistent copy is newer at /etc/adjtime: keep the persistent copy's: drift adopt --prefer persistent /etc/adjtime, or the live objects: drift adopt --prefer live /etc/adjtime;",
		"its persistent copy differs at /srv/half: keep the live objects: drift adopt --prefer live /srv/half, or the persistent copy's: drift adopt --prefer persistent /srv/half;",
	} {
		if !strings.Contains(r.Next, want) {
			t.Errorf("next %q, want %q", r.Next, want)
		}
	}
}
