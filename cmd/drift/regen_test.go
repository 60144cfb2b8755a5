package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/pathx"
	"github.com/nix-drift/drift/internal/testutil"
)

// TestCheckNeverIgnoresWhatSuggestPersists: drift check's "--ignore it"
// and drift suggest's actions read one fact (diff.Regen), so over
// generated systems, for every path, check never advises --ignore for a
// path suggest proposes to persist, nor for a directory holding one; and
// what suggest ignores as made again at every boot, check says so of too
// (when it lists that path). The systems hold paths the same in every old
// root, in some of them, changed, copied back with the old root's
// modification time (as drift restore does), and known state the
// catalogue marks to persist (a fresh-user test: check said --ignore of
// /var/lib/bluetooth, ranked first to persist by suggest, and of a file
// drift restore had just brought back, which suggest said to persist).
func TestCheckNeverIgnoresWhatSuggestPersists(t *testing.T) {
	seeds := 10
	if testing.Short() {
		seeds = 3
	}
	for seed := range seeds {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			args := regenSystem(t, uint64(seed))
			code, out, errs := runDrift(t, append([]string{"check", "--format", "json"}, args...)...)
			if code > 1 {
				t.Fatalf("check: exit %d: %s", code, errs)
			}
			var rep struct {
				Items []struct{ Path, History, Why string }
			}
			testutil.Must(t, json.Unmarshal([]byte(out), &rep))
			code, out, errs = runDrift(t, append([]string{"suggest", "--format", "json"}, args...)...)
			if code != 0 {
				t.Fatalf("suggest: exit %d: %s", code, errs)
			}
			var sug struct {
				Suggestions []struct{ Action, Path, Note string }
			}
			testutil.Must(t, json.Unmarshal([]byte(out), &sug))
			ignores, regen := 0, 0
			for _, it := range rep.Items {
				if !strings.Contains(it.Why, "--ignore") {
					continue
				}
				ignores++
				for _, s := range sug.Suggestions {
					if s.Action == "persist" && pathx.HasPrefix(s.Path, it.Path) {
						t.Errorf("check says --ignore of %s (%s), suggest persists %s (%s)", it.Path, it.Why, s.Path, s.Note)
					}
				}
			}
			for _, s := range sug.Suggestions {
				if s.Action != "ignore" || !strings.Contains(s.Note, diff.SameMeans) {
					continue
				}
				regen++
				for _, it := range rep.Items {
					if it.Path == s.Path && !strings.Contains(it.Why, diff.SameMeans) {
						t.Errorf("suggest ignores %s (%s), check says %q", s.Path, s.Note, it.Why)
					}
				}
			}
			t.Logf("%d rows check says --ignore of, %d paths suggest ignores as made again", ignores, regen)
		})
	}
}

// regenSystem builds a random system from seed with three old roots and
// returns the flags that audit it: unpersisted files and directories whose
// copies in the old roots are the same, other or absent, at the live
// path's time or the previous root's (a copy), some at known state
// (/var/lib/bluetooth, NetworkManager's profiles).
func regenSystem(t *testing.T, seed uint64) []string {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 7))
	dir := t.TempDir()
	pick := func(xs ...string) string { return xs[r.IntN(len(xs))] }
	names := []string{"var/lib/bluetooth", "etc/NetworkManager/system-connections", "var/lib/gen", "var/lib/app", "etc/wifi-old", "etc/hostname-x", "srv/site", "opt/tool"}
	olds := []string{"2026-11-29_08:00:00", "2026-11-28_09:00:00", "2026-11-27_09:00:00"}
	boot := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	live := map[string]testutil.Node{"nix/persist/.keep": file("")}
	trees := make([]map[string]testutil.Node, len(olds))
	for i := range trees {
		trees[i] = map[string]testutil.Node{}
	}
	for _, n := range names {
		files := []string{n + "/a.f", n + "/b.f"}
		if strings.HasPrefix(n, "etc/") && r.IntN(2) == 0 {
			files = []string{n} // a file of its own
		}
		copied := r.IntN(3) == 0 // brought back from the previous root: its time kept
		for _, f := range files {
			content := fmt.Sprint(r.IntN(3))
			at := boot.Add(time.Duration(r.IntN(100)) * time.Minute)
			if copied {
				at = boot.Add(-24 * time.Hour)
			}
			live[f] = testutil.Node{Content: content, Mtime: at}
			for i := range olds {
				switch pick("same", "same", "same", "other", "absent") {
				case "same":
					old := boot.Add(-time.Duration(i+1) * 24 * time.Hour)
					if i > 0 || !copied {
						old = old.Add(time.Duration(r.IntN(60)+1) * time.Minute) // each boot's own time
					}
					trees[i][f] = testutil.Node{Content: content, Mtime: old}
				case "other":
					trees[i][f] = testutil.Node{Content: content + "x", Mtime: boot.Add(-time.Duration(i+1) * 24 * time.Hour)}
				}
			}
		}
		if len(files) == 2 {
			at := boot
			if copied {
				at = boot.Add(-24 * time.Hour)
			}
			live[n] = testutil.Node{Dir: true, Mtime: at}
			for i := range olds {
				if _, ok := trees[i][files[0]]; ok {
					trees[i][n] = testutil.Node{Dir: true, Mtime: boot.Add(-time.Duration(i+1) * 24 * time.Hour)}
				}
			}
		}
	}
	testutil.Build(t, filepath.Join(dir, "root"), live, boot)
	for i, name := range olds {
		trees[i]["etc/.keep"] = file("")
		testutil.Build(t, filepath.Join(dir, "old", name), trees[i], boot.Add(-time.Duration(i+1)*24*time.Hour))
	}
	for name, data := range map[string]string{
		"decl.nix":  `{ environment.persistence."/nix/persist".directories = [ "/var/log" ]; }`,
		"mountinfo": "22 1 0:20 / / rw - tmpfs none rw\n23 22 0:21 / /nix rw - btrfs /dev/sda2 rw,subvol=/nix\n",
	} {
		testutil.Must(t, os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644))
	}
	return []string{"--root", dir + "/root", "--mountinfo", dir + "/mountinfo", "--persist", dir + "/decl.nix", "--old-roots", dir + "/old", "--quiet"}
}

// TestRestoredAndKnownStateAreNotRegenerated: the fresh user's two rows.
// /var/lib/bluetooth, the same in every old root, is state the catalogue
// marks to persist; /etc/wifi-old, the same bytes in both old roots, was
// just brought back by drift restore from the previous root (its
// modification time is that root's). Check called both "made again at
// every boot … --ignore it" while suggest proposed persisting them; now
// neither command calls them made again, and suggest persists both. A file
// each boot wrote anew with the same bytes still is (/etc/machine-info).
func TestRestoredAndKnownStateAreNotRegenerated(t *testing.T) {
	dir := t.TempDir()
	boot := time.Date(2026, 11, 12, 9, 0, 0, 0, time.UTC)
	olds := []string{"2026-11-11_09:00:00", "2026-11-10_09:00:00"}
	live := map[string]testutil.Node{
		"var/lib/bluetooth/settings": {Content: "x=1", Mtime: boot},
		"etc/wifi-old":               {Content: "psk", Mtime: boot.Add(-24 * time.Hour)}, // the previous root's time: restored
		"etc/machine-info":           {Content: "PRETTY_HOSTNAME=box", Mtime: boot},
		"nix/persist/.keep":          file(""),
	}
	testutil.Build(t, filepath.Join(dir, "root"), live, boot)
	for i, name := range olds {
		at := boot.Add(-time.Duration(i+1) * 24 * time.Hour)
		testutil.Build(t, filepath.Join(dir, "old", name), map[string]testutil.Node{
			"var/lib/bluetooth/settings": {Content: "x=1", Mtime: at},
			"etc/wifi-old":               {Content: "psk", Mtime: at},
			"etc/machine-info":           {Content: "PRETTY_HOSTNAME=box", Mtime: at},
		}, at)
	}
	for name, data := range map[string]string{
		"decl.nix":  `{ environment.persistence."/nix/persist".directories = [ "/var/log" ]; }`,
		"mountinfo": "22 1 0:20 / / rw - tmpfs none rw\n23 22 0:21 / /nix rw - btrfs /dev/sda2 rw,subvol=/nix\n",
	} {
		testutil.Must(t, os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644))
	}
	args := []string{"--root", dir + "/root", "--mountinfo", dir + "/mountinfo", "--persist", dir + "/decl.nix", "--old-roots", dir + "/old", "--quiet"}
	_, out, _ := runDrift(t, append([]string{"check", "--format", "json"}, args...)...)
	var rep struct{ Items []struct{ Path, Why string } }
	testutil.Must(t, json.Unmarshal([]byte(out), &rep))
	why := map[string]string{} // the row standing for the path: its own, or a directory lost whole
	for _, p := range []string{"/var/lib/bluetooth", "/etc/wifi-old", "/etc/machine-info"} {
		for _, it := range rep.Items {
			if pathx.HasPrefix(p, it.Path) {
				why[p] = it.Why
			}
		}
	}
	for p, want := range map[string]string{
		"/var/lib/bluetooth": "known application state", "/etc/wifi-old": "a copy of it", "/etc/machine-info": diff.SameMeans,
	} {
		if !strings.Contains(why[p], want) || (p != "/etc/machine-info") == strings.Contains(why[p], "--ignore") {
			t.Errorf("check: %s: %q, want it to say %q", p, why[p], want)
		}
	}
	_, out, _ = runDrift(t, append([]string{"suggest", "--format", "json"}, args...)...)
	var sug struct {
		Suggestions []struct{ Action, Path string }
	}
	testutil.Must(t, json.Unmarshal([]byte(out), &sug))
	action := map[string]string{}
	for _, s := range sug.Suggestions {
		action[s.Path] = s.Action
	}
	if action["/var/lib/bluetooth"] != "persist" || action["/etc/wifi-old"] != "persist" || action["/etc/machine-info"] != "ignore" {
		t.Errorf("suggest: %v, want bluetooth and wifi-old persisted, machine-info ignored", action)
	}
}
