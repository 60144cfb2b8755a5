package main

import (
	"context"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/audit"
	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/suggest"
	"github.com/nix-drift/drift/internal/testutil"
)

// weighSuggestArgs parses a drift suggest command line (without
// "suggest") and runs what drift suggest runs before rendering: the model
// and its weighing (weighSuggest), in this process, so that a test sees
// every path a suggestion stands for and every path left to the user.
func weighSuggestArgs(t *testing.T, args []string) (*audit.Model, *suggest.Result) {
	t.Helper()
	opts := &SuggestOptions{}
	var m *audit.Model
	var res *suggest.Result
	st := Streams{In: strings.NewReader(""), Out: io.Discard, Err: io.Discard}
	cmd := suggestCommand(opts, func(ctx context.Context) error {
		var err error
		m, res, err = weighSuggest(ctx, opts, st)
		return err
	})
	cmd.SetArgs(args)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	if err := cmd.ExecuteContext(context.Background()); err != nil {
		t.Fatalf("drift suggest %s: %v", strings.Join(args, " "), err)
	}
	t.Cleanup(m.Close)
	return m, res
}

// checkReports is the lost set drift check reports for the audit flags
// of a suggest command line (--format paths0, ignored paths left out as
// check leaves them out).
func checkReports(t *testing.T, suggestArgs []string) map[string]bool {
	t.Helper()
	all := checkPaths(t, suggestArgs) // --all: the ignored ones too
	args := checkArgs(suggestArgs)
	code, out, errs := runDrift(t, append(append([]string{"check"}, args...), "--format", "paths0")...)
	if code > 1 {
		t.Fatalf("drift check: exit %d: %s", code, errs)
	}
	lost := map[string]bool{}
	for _, p := range strings.Split(out, "\x00") {
		if p != "" {
			lost[p] = true
			if !all[p] {
				t.Fatalf("drift check lists %s without --all, not with it", p)
			}
		}
	}
	return lost
}

// suggestAccountsForLost checks that drift suggest accounts for every
// lost path drift check reports, path by path: each is in exactly one
// persist or ignore suggestion (what it stands for, Suggestion.Lost) or
// in exactly one Left (its Paths, as many as its Count), and nothing else
// is; the JSON output's left list has the same reasons and counts, and
// the table and nix ones a "left to you" line of each. It returns the
// kinds of lost paths met (the categories, and what keeps them:
// "keep adopt", diff.Audit.Keep), for the caller to see that every kind
// was tried.
func suggestAccountsForLost(t *testing.T, args []string) map[string]bool {
	t.Helper()
	lost := checkReports(t, args)
	m, res := weighSuggestArgs(t, args)
	a := m.Audit
	at := map[string]string{} // what accounts for each path
	kinds := map[string]bool{}
	count := func(p, by string) {
		if prev, ok := at[p]; ok {
			t.Errorf("%s counted twice: %s, and %s", p, prev, by)
		}
		at[p] = by
	}
	n := 0
	for i := range res.Suggestions {
		s := &res.Suggestions[i]
		if s.Action != suggest.Persist && s.Action != suggest.Ignore {
			continue
		}
		// Entries count the lost paths and the paths vanished at the last
		// wipe it stands for.
		gone := int64(0)
		for _, v := range s.Vanished {
			gone += v.Entries
		}
		if int64(len(s.Lost()))+gone != s.Entries {
			t.Errorf("suggestion %s %s: %d entries, stands for %d lost paths and %d vanished", s.Action, s.Path, s.Entries, len(s.Lost()), gone)
		}
		n += len(s.Lost())
		for _, i := range s.Lost() {
			count(a.Lost[i].Path, "suggestion "+string(s.Action)+" "+s.Path)
		}
	}
	for _, l := range res.Left {
		if l.Count != len(l.Paths) {
			t.Errorf("left %q: count %d, %d paths", l.Reason, l.Count, len(l.Paths))
		}
		n += l.Count
		for _, p := range l.Paths {
			count(p, "left: "+l.Reason)
		}
	}
	for _, it := range a.Lost {
		kinds[it.Category.String()] = true
		if k, _ := a.Keep(it); k != 0 {
			kinds["keep "+k.String()] = true
		}
		if it.Category == diff.Ignored {
			continue
		}
		if !lost[it.Path] {
			t.Errorf("%s (%s) is lost in suggest's model, not in drift check's report", it.Path, it.Category)
		}
		if _, ok := at[it.Path]; !ok {
			t.Errorf("%s (%s, %s) is lost per drift check, and neither suggested nor left to the user", it.Path, it.Category, it.Category.Why())
		}
	}
	for p := range lost {
		if _, ok := at[p]; !ok && !slices.ContainsFunc(a.Lost, func(it *diff.Item) bool { return it.Path == p }) {
			t.Errorf("%s is lost per drift check, not in suggest's model", p)
		}
	}
	for p, by := range at {
		if !lost[p] {
			t.Errorf("%s is not lost per drift check, yet counted (%s)", p, by)
		}
	}
	if n != len(lost) {
		t.Errorf("suggestions' entries and left counts add up to %d, drift check reports %d lost paths", n, len(lost))
	}
	// What is counted is printed: the JSON's left list, and a line in the
	// table and in the nix comments for each.
	rep := suggestOf(t, args)
	if len(rep.Left) != len(res.Left) {
		t.Errorf("JSON left: %d reasons, want %d: %+v", len(rep.Left), len(res.Left), rep.Left)
	}
	for i := 0; i < len(rep.Left) && i < len(res.Left); i++ {
		if rep.Left[i].Count != res.Left[i].Count || rep.Left[i].Reason != res.Left[i].Reason {
			t.Errorf("JSON left %d: %d %q, want %d %q", i, rep.Left[i].Count, rep.Left[i].Reason, res.Left[i].Count, res.Left[i].Reason)
		}
	}
	for _, format := range []string{"table", "nix"} {
		_, out, _ := runDrift(t, append(append([]string{"suggest"}, args...), "--format", format)...)
		if got := strings.Count(out, "left to you: "); got != len(res.Left) {
			t.Errorf("--format %s: %d lines left to you, want %d:\n%s", format, got, len(res.Left), out)
		}
	}
	return kinds
}

// lostKinds are the kinds of lost paths (suggestAccountsForLost) the
// fixture systems hold between them: each must be accounted for.
// What lies beneath a mount point (shadowed, "keep beneath") needs real
// mounts: internal/suggest's TestSuggestAccountsForEveryLostPath has it.
var lostKinds = []string{"unpersisted", "declared-unbacked", "covered", "unmounted", "ignored",
	"keep declare", "keep adopt", "keep choose", "keep refused", "keep remounted", "keep redeclare"}

// declaredElsewhere is a fixture system whose declarations are not all
// kept: /home/alice/.mozilla declared but lying on the persistent /home
// subvolume, not mounted from its copy (covered); /srv/half not mounted,
// its copy lacking one file and holding other bytes for another
// (declared-unbacked, drift adopt keeps one, the other needs a side
// chosen); /srv/refused declared under a storage path on the wiped root
// (drift adopt refuses it); a file left in /run of an image that is not
// booted (covered by the next boot's /run).
func declaredElsewhere(t *testing.T) (dir string, args []string) {
	t.Helper()
	dir = t.TempDir()
	decl := `{ ... }: {
  environment.persistence."/nix/persist" = {
    directories = [ "/var/log" "/home/alice/.mozilla" "/srv/half" ];
  };
  environment.persistence."/persist2" = {
    directories = [ "/srv/refused" ];
  };
}
`
	mountinfo := `22 1 0:31 /root / rw - btrfs /dev/vda2 rw,subvol=/root
27 22 0:31 /nix /nix rw - btrfs /dev/vda2 rw,subvol=/nix
28 27 0:31 /persist /nix/persist rw - btrfs /dev/vda2 rw,subvol=/persist
30 22 0:31 /home /home rw - btrfs /dev/vda2 rw,subvol=/home
40 22 0:31 /persist/var/log /var/log rw - btrfs /dev/vda2 rw
`
	testutil.Build(t, dir, map[string]testutil.Node{
		"decl.nix":                             file(decl),
		"mountinfo":                            file(mountinfo),
		"root/home/alice/.mozilla/prefs.js":    file("live"),
		"root/srv/half/a":                      file("only live"),
		"root/srv/half/b":                      file("live b"),
		"root/nix/persist/srv/half/b":          file("stale b"),
		"root/nix/persist/home/alice/.mozilla": {Dir: true},
		"root/nix/persist/var/log/messages":    file("log"),
		"root/srv/refused/x":                   file("x"),
		"root/etc/stray":                       file("s"),
		"root/run/leftover":                    file("r"),
	}, fixtureTime)
	args = []string{"--root", dir + "/root", "--mountinfo", dir + "/mountinfo", "--persist", dir + "/decl.nix",
		"--old-roots", "none", "--now", "2100-01-01T00:00:00Z", "--quiet"}
	return dir, args
}
