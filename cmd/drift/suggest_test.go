package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nix-drift/drift/internal/persist"
	"github.com/nix-drift/drift/internal/testutil"
)

var update = flag.Bool("update", false, "rewrite the golden files of drift suggest's tests")

// fixtureTime is the mtime of every fixture path not given another, a day
// and a half before suggestNow (so recency adds nothing).
var (
	suggestNow  = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	fixtureTime = suggestNow.Add(-36 * time.Hour)
)

func file(content string) testutil.Node { return testutil.Node{Content: content} }

// runDrift runs drift with args and returns its exit status, stdout and
// stderr.
func runDrift(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, Streams{In: strings.NewReader(""), Out: &out, Err: &errb})
	return code, out.String(), errb.String()
}

// golden compares got with testdata/suggest/NAME, or rewrites it with
// -update. dir, the fixture's directory, is replaced by $DIR. A table's
// cell must not hold dir: the table wraps it by its length, which
// t.TempDir's name changes from run to run (a printed command goes after
// the table, as its cell refers to it).
func golden(t *testing.T, name, dir, got string) {
	t.Helper()
	got = strings.ReplaceAll(got, dir, "$DIR")
	for _, l := range strings.Split(got, "\n") {
		if strings.Contains(l, "│") && strings.Contains(l, "$DIR") {
			t.Errorf("%s: a table cell holds the fixture's temporary directory (its wrapping changes with its length):\n%s", name, l)
		}
	}
	p := filepath.Join("testdata", "suggest", name)
	if *update {
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update to create it)", err, t.Name())
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (go test -run %s -update rewrites it):\n--- got\n%s\n--- want\n%s", name, t.Name(), got, want)
	}
}

const (
	id1 = "11111111111111111111111111111111"
	id2 = "22222222222222222222222222222222"
	id3 = "33333333333333333333333333333333"
)

// workstation is a fixture system with known right answers: a NixOS
// machine persisting /var/log and /var/lib/svc-a only, with three old
// roots (2026-11-27, -28, -29) as plain directories.
func workstation(t *testing.T) (dir string, args []string) {
	t.Helper()
	dir = t.TempDir()
	decl := `{ ... }: {
  environment.persistence."/nix/persist" = {
    directories = [ "/var/log" "/var/lib/svc-a" ];
  };
}
`
	mountinfo := `22 1 0:31 /root / rw shared:1 - btrfs /dev/vda2 rw,subvol=/root
27 22 0:31 /nix /nix rw shared:14 - btrfs /dev/vda2 rw,subvol=/nix
28 27 0:31 /persist /nix/persist rw shared:15 - btrfs /dev/vda2 rw,subvol=/persist
40 22 0:31 /persist/var/log /var/log rw - btrfs /dev/vda2 rw
41 22 0:31 /persist/var/lib/svc-a /var/lib/svc-a rw - btrfs /dev/vda2 rw
`
	if err := os.WriteFile(filepath.Join(dir, "decl.nix"), []byte(decl), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "mountinfo"), []byte(mountinfo), 0o644); err != nil {
		t.Fatal(err)
	}
	recent := suggestNow.Add(-2 * time.Hour)
	live := map[string]testutil.Node{
		"etc/machine-id":                             file(id3 + "\n"),
		"etc/NIXOS":                                  {Mtime: recent}, // made at this boot, as in every root: a later time
		"etc/passwd":                                 file("root:x:0:0::/root:/bin/sh\nalice:x:1000:100::/home/alice:/bin/sh\ncolord:x:995:995::/var/empty:/bin/false\n"),
		"etc/group":                                  file("root:x:0:\nusers:x:100:\ncolord:x:995:\n"),
		"etc/ssh/ssh_host_ed25519_key":               file("K3"),
		"etc/ssh/ssh_host_ed25519_key.pub":           file("ssh-ed25519 K3pub"),
		"var/lib/bluetooth/AA:BB/info":               file("paired"),
		"var/lib/colord":                             {Dir: true, Mode: 0o750, UID: 995, GID: 995},
		"var/lib/colord/mapping.db":                  {Content: "profiles", UID: 995, GID: 995},
		"var/lib/myapp/state.db":                     {Size: 3 << 20, Mtime: recent},
		"var/lib/myapp/conf/settings":                file("v3"),
		"var/lib/regen":                              {Dir: true, Mtime: recent},
		"var/lib/regen/index.bin":                    {Content: "same every boot", Mtime: recent},
		"var/lib/systemd/timers/stamp-fstrim":        file(""),
		"var/lib/systemd/random-seed":                file("seed3"),
		"var/lib/svc-a/data":                         file("persisted"),
		"var/cache/fontconfig/cache-1":               file("fc"),
		"var/log/journal/" + id1 + "/system.journal": {Size: 64 << 20},
		"var/log/journal/" + id2 + "/system.journal": {Size: 64 << 20},
		"var/log/journal/" + id3 + "/system.journal": {Size: 12 << 20, Mtime: recent},
		"home/alice":                                 {Dir: true, Mode: 0o700, UID: 1000, GID: 100},
		"home/alice/.config":                         {Dir: true, UID: 1000, GID: 100},
		"home/alice/.config/app":                     {Dir: true, UID: 1000, GID: 100},
		"home/alice/.config/app/settings.json":       {Content: `{"theme":"dark"}`, UID: 1000, GID: 100},
		"home/alice/.ssh":                            {Dir: true, Mode: 0o700, UID: 1000, GID: 100},
		"home/alice/.ssh/id_ed25519":                 {Content: "key", Mode: 0o600, UID: 1000, GID: 100},
		"home/alice/.bash_history":                   {Content: "ls\nexit\n", UID: 1000, GID: 100},
		"home/alice/.cache/thumbs/a.png":             {Content: "png", UID: 1000, GID: 100},
		"tmp/session-1":                              file("x"),
		"nix/persist/var/log/.keep":                  file(""),
		"nix/persist/var/lib/svc-a/data":             file("persisted"),
		"nix/persist/var/lib/old-app/db":             {Size: 5 << 20},
		"nix/persist/var/lib/old-app/conf":           file("old"),
		"nix/persist/etc/old-secret":                 file("s"),
	}
	testutil.Build(t, filepath.Join(dir, "root"), live, fixtureTime)
	// Three old roots, newest 2026-11-29_08:00:00 (the previous boot's).
	olds := []struct {
		name, id, state, seed, hist string
		bluetooth                   bool
	}{
		{"2026-11-27_09:00:00", id1, "s1", "seed1", "h1", false},
		{"2026-11-28_09:00:00", id2, "s2", "seed2", "h2", true},
		{"2026-11-29_08:00:00", id3 + "x", "s3", "seed2b", "h3", true},
	}
	for _, o := range olds {
		tree := map[string]testutil.Node{
			"etc/machine-id":                       file(o.id + "\n"),
			"etc/NIXOS":                            file(""),
			"etc/ssh/ssh_host_ed25519_key":         file("K-" + o.name),
			"etc/ssh/ssh_host_ed25519_key.pub":     file("ssh-ed25519 K-" + o.name),
			"var/lib/myapp/state.db":               file(o.state),
			"var/lib/myapp/conf/settings":          file("v3"),
			"var/lib/regen/index.bin":              file("same every boot"),
			"var/lib/systemd/random-seed":          file(o.seed),
			"home/alice/.bash_history":             {Content: o.hist, UID: 1000, GID: 100},
			"home/alice/.config/app/settings.json": {Content: `{"theme":"dark"}`, UID: 1000, GID: 100},
		}
		if o.bluetooth {
			tree["var/lib/bluetooth/AA:BB/info"] = file("paired")
		}
		testutil.Build(t, filepath.Join(dir, "old_roots", o.name), tree, fixtureTime)
	}
	// A manual backup in old_roots is never an old root.
	testutil.Build(t, filepath.Join(dir, "old_roots", "manual-backup"), map[string]testutil.Node{"var/lib/myapp/state.db": file("backup")}, fixtureTime)
	args = []string{"--root", filepath.Join(dir, "root"), "--mountinfo", filepath.Join(dir, "mountinfo"),
		"--persist", filepath.Join(dir, "decl.nix"), "--old-roots", filepath.Join(dir, "old_roots"),
		"--now", suggestNow.Format(time.RFC3339), "--quiet"}
	return dir, args
}

// TestSuggestWorkstation: the suggestions for the workstation fixture,
// their order and evidence, and the exact Nix and JSON printed (golden
// files; -update rewrites them).
func TestSuggestWorkstation(t *testing.T) {
	dir, args := workstation(t)
	for _, format := range []string{"table", "nix", "json"} {
		code, out, errs := runDrift(t, append([]string{"suggest", "--format", format}, args...)...)
		if code != 0 {
			t.Fatalf("--format %s: exit %d, stderr %s", format, code, errs)
		}
		golden(t, "workstation."+format, dir, out)
	}
}

// TestSuggestApplied: the Nix that drift suggest prints parses back through
// drift's own .nix reader into exactly the suggested persisted paths; once
// applied to the fixture (the snippet added to its declarations, the bind
// mounts impermanence would make at the next boot added to its mount
// table) and the suggested ignore rules passed, drift check on the same
// fixture no longer reports any of those paths — which it did before.
func TestSuggestApplied(t *testing.T) {
	dir, args := workstation(t)
	code, nixOut, errs := runDrift(t, append([]string{"suggest", "--format", "nix"}, args...)...)
	if code != 0 {
		t.Fatalf("suggest: exit %d: %s", code, errs)
	}
	code, jsonOut, errs := runDrift(t, append([]string{"suggest", "--format", "json"}, args...)...)
	if code != 0 {
		t.Fatalf("suggest: exit %d: %s", code, errs)
	}
	var rep struct {
		Suggestions []struct{ Action, Path, Type string }
	}
	if err := json.Unmarshal([]byte(jsonOut), &rep); err != nil {
		t.Fatal(err)
	}
	var persisted, ignored []string
	want := map[string]persist.Kind{}
	for _, s := range rep.Suggestions {
		switch s.Action {
		case "persist":
			persisted = append(persisted, s.Path)
			want[s.Path] = persist.Dir
			if s.Type == "file" {
				want[s.Path] = persist.File
			}
		case "ignore":
			ignored = append(ignored, s.Path)
		}
	}
	if len(persisted) == 0 || len(ignored) == 0 {
		t.Fatalf("the fixture should give persist and ignore suggestions: %s", jsonOut)
	}

	// Parsed back: the same paths, kinds and storage path, no diagnostics.
	set, err := persist.ParseNix([]byte(nixOut), "suggested.nix", persist.Options{})
	if err != nil {
		t.Fatalf("the snippet does not parse: %v\n%s", err, nixOut)
	}
	for _, d := range set.Diagnostics {
		t.Errorf("diagnostic on the snippet: %s", d)
	}
	got := map[string]persist.Kind{}
	for _, e := range set.Entries {
		if e.StoragePath != "/nix/persist" {
			t.Errorf("%s: storage path %s, want /nix/persist", e.Path, e.StoragePath)
		}
		got[e.Path] = e.Kind
		// The knowledge base's owner and mode win over the live directory's
		// (which the module itself may have made wrong: field case C21).
		if e.Path == "/var/lib/colord" && (e.User != "colord" || e.Group != "colord" || e.Mode != "u=rwx,g=rx,o=") {
			t.Errorf("/var/lib/colord parsed as %s:%s %s, want colord:colord u=rwx,g=rx,o=", e.User, e.Group, e.Mode)
		}
		if e.Path == "/home/alice/.ssh" && e.Mode != "0700" {
			t.Errorf("/home/alice/.ssh parsed with mode %q, want 0700", e.Mode)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("parsed back:\n%v\nsuggested:\n%v", got, want)
	}

	covered := func(p string) (string, bool) {
		for _, s := range append(append([]string{}, persisted...), ignored...) {
			if p == s || strings.HasPrefix(p, s+"/") {
				return s, true
			}
		}
		return "", false
	}
	checkArgs := []string{"check", "--root", filepath.Join(dir, "root"), "--persist", filepath.Join(dir, "decl.nix"),
		"--old-roots", "none", "--format", "paths", "--quiet"}
	// Before: drift check reports every one of them.
	_, before, _ := runDrift(t, append(checkArgs, "--mountinfo", filepath.Join(dir, "mountinfo"))...)
	for _, s := range append(append([]string{}, persisted...), ignored...) {
		if !slices.Contains(strings.Split(before, "\n"), s) {
			t.Errorf("drift check did not report %s before the snippet was applied:\n%s", s, before)
		}
	}

	// Applied: the snippet next to the declaration, the bind mounts of the
	// next boot in the mount table, the ignore rules passed.
	if err := os.WriteFile(filepath.Join(dir, "suggested.nix"), []byte(nixOut), 0o644); err != nil {
		t.Fatal(err)
	}
	mi, err := os.ReadFile(filepath.Join(dir, "mountinfo"))
	if err != nil {
		t.Fatal(err)
	}
	id := 100
	for _, e := range set.Entries {
		mi = fmt.Appendf(mi, "%d 22 0:31 /persist%s %s rw - btrfs /dev/vda2 rw\n", id, e.Path, e.Path)
		id++
	}
	if err := os.WriteFile(filepath.Join(dir, "mountinfo.next"), mi, 0o644); err != nil {
		t.Fatal(err)
	}
	after := append(checkArgs, "--mountinfo", filepath.Join(dir, "mountinfo.next"), "--persist", filepath.Join(dir, "suggested.nix"))
	for _, ig := range ignored {
		after = append(after, "--ignore", ig)
	}
	code, afterOut, errs := runDrift(t, after...)
	if code > 1 {
		t.Fatalf("check after: exit %d: %s", code, errs)
	}
	for _, p := range strings.Split(strings.TrimSpace(afterOut), "\n") {
		if s, ok := covered(p); ok && p != "" {
			t.Errorf("drift check still reports %s (suggested: %s) once the snippet is applied", p, s)
		}
	}
}

// TestSuggestMachineIDFromJournals: /var/log persisted, /etc/machine-id
// not (field case C08). Journal directories named by several machine IDs
// under the persisted /var/log/journal show that the ID changes at every
// boot: a high-confidence suggestion to persist /etc/machine-id, with that
// evidence, even with no old root to compare.
func TestSuggestMachineIDFromJournals(t *testing.T) {
	older, newest := fixtureTime.Add(-48*time.Hour), suggestNow.Add(-time.Hour)
	for _, tc := range []struct {
		name       string
		journals   map[string]testutil.Node
		confidence string
		evidence   string // "" for none
	}{
		{"three IDs, the live one newest", map[string]testutil.Node{
			id1 + "/system.journal": {Size: 64 << 20, Mtime: older},
			id2 + "/system.journal": {Size: 64 << 20},
			id3 + "/system.journal": {Size: 12 << 20, Mtime: newest},
		}, "high", "3 journal directories in /var/log/journal, named by 3 different machine IDs: the ID changes at every boot; the live ID matches only the newest; 128.0 MiB of journals belong to earlier IDs"},
		{"two other IDs", map[string]testutil.Node{
			id1 + "/system.journal": {Size: 1 << 20},
			id2 + "/system.journal": {Size: 1 << 20, Mtime: newest},
		}, "high", "2 journal directories in /var/log/journal, named by 2 different machine IDs: the ID changes at every boot; the live ID matches none of them; 2.0 MiB of journals belong to earlier IDs"},
		{"one ID: no evidence", map[string]testutil.Node{
			id3 + "/system.journal": {Size: 1 << 20},
		}, "medium", ""},
		{"not machine IDs", map[string]testutil.Node{
			"remote/system.journal":    {Size: 1 << 20},
			"not-an-id/system.journal": {Size: 1 << 20},
		}, "medium", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			tree := map[string]testutil.Node{"etc/machine-id": file(id3 + "\n")}
			for p, n := range tc.journals {
				tree["var/log/journal/"+p] = n
			}
			testutil.Build(t, filepath.Join(dir, "root"), tree, fixtureTime)
			decl := `{ environment.persistence."/nix/persist".directories = [ "/var/log" ]; }`
			mi := "22 1 0:31 /root / rw - btrfs /dev/vda2 rw\n27 22 0:31 /nix /nix rw - btrfs /dev/vda2 rw\n" +
				"70 22 0:31 /persist/var/log /var/log rw - btrfs /dev/vda2 rw\n"
			for name, data := range map[string]string{"decl.nix": decl, "mountinfo": mi} {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			code, out, errs := runDrift(t, "suggest", "--root", filepath.Join(dir, "root"), "--mountinfo", filepath.Join(dir, "mountinfo"),
				"--persist", filepath.Join(dir, "decl.nix"), "--old-roots", "none", "--now", suggestNow.Format(time.RFC3339), "--format", "json")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			var rep struct {
				Suggestions []struct {
					Rank             int
					Action, Path     string
					Confidence, Type string
					Evidence         []string
				}
			}
			if err := json.Unmarshal([]byte(out), &rep); err != nil {
				t.Fatal(err)
			}
			if len(rep.Suggestions) == 0 {
				t.Fatalf("no suggestion: %s", out)
			}
			s := rep.Suggestions[0]
			if s.Rank != 1 || s.Action != "persist" || s.Path != "/etc/machine-id" || s.Type != "file" || s.Confidence != tc.confidence {
				t.Errorf("first suggestion %+v, want persist file /etc/machine-id, %s confidence", s, tc.confidence)
			}
			var ev string
			if len(s.Evidence) > 0 {
				ev = s.Evidence[0]
			}
			if ev != tc.evidence {
				t.Errorf("evidence %q\nwant %q", ev, tc.evidence)
			}
		})
	}
}

// TestSuggestEscapes: a name with a control character is escaped in the
// table and JSON and never written raw; the Nix module leaves it to the
// user, in a comment, as one drift lint rejects (path-control).
func TestSuggestEscapes(t *testing.T) {
	dir := t.TempDir()
	testutil.Build(t, filepath.Join(dir, "root"), map[string]testutil.Node{
		"srv/bad\x1b[31mname/data": file("x"),
		"srv/fine/data":            file("y"),
	}, fixtureTime)
	decl := `{"persistentStoragePath": "/nix/persist", "directories": ["/var/log"]}`
	mi := "22 1 0:31 /root / rw - btrfs /dev/vda2 rw\n"
	for name, data := range map[string]string{"decl.json": decl, "mountinfo": mi} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, format := range []string{"table", "json", "nix"} {
		code, out, errs := runDrift(t, "suggest", "--root", filepath.Join(dir, "root"), "--mountinfo", filepath.Join(dir, "mountinfo"),
			"--persist", filepath.Join(dir, "decl.json"), "--old-roots", "none", "--format", format, "--quiet")
		if code != 0 {
			t.Fatalf("--format %s: exit %d: %s", format, code, errs)
		}
		if strings.ContainsRune(out, 0x1b) {
			t.Errorf("--format %s: a raw ESC in the output:\n%q", format, out)
		}
		want := `/srv/bad\x1b[31mname`
		if format == "json" {
			want = `/srv/bad\\x1b[31mname`
		}
		if !strings.Contains(out, want) {
			t.Errorf("--format %s: %s not in:\n%s", format, want, out)
		}
	}
	_, out, _ := runDrift(t, "suggest", "--root", filepath.Join(dir, "root"), "--mountinfo", filepath.Join(dir, "mountinfo"),
		"--persist", filepath.Join(dir, "decl.json"), "--old-roots", "none", "--format", "nix", "--quiet")
	// A name with a control character is one drift lint rejects
	// (path-control): left to the user, never declared.
	if !strings.Contains(out, "# left to you: 2 paths (/srv/bad\\x1b[31mname, …): drift lint would reject or warn about their declaration") || !strings.Contains(out, `"/srv/fine" # `) {
		t.Errorf("nix:\n%s", out)
	}
	set, err := persist.ParseNix([]byte(out), "s.nix", persist.Options{})
	if err != nil || len(set.Entries) != 1 || set.Entries[0].Path != "/srv/fine" {
		t.Errorf("parsed back: %v %+v", err, set)
	}
}

// TestSuggestDemo: drift suggest on the bundled demo system (make demo's),
// golden table and Nix. --now is far after any checkout, so recency adds
// nothing whatever the files' mtimes.
func TestSuggestDemo(t *testing.T) {
	demo, err := filepath.Abs("../../fixtures/demo")
	if err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"table", "nix"} {
		code, out, errs := runDrift(t, "suggest", "--root", demo+"/root", "--mountinfo", demo+"/mountinfo",
			"--persist", demo+"/impermanence.nix", "--now", "2100-01-01T00:00:00Z", "--format", format)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		if !strings.Contains(errs, "warning: declared-unbacked: /srv is declared") {
			t.Errorf("drift check's warnings are not passed on:\n%s", errs)
		}
		golden(t, "demo."+format, demo, out)
	}
}

// An old root dated after now (an empty subvolume named 2030-… on a
// machine whose clock says 2026) is not the previous boot's root: check
// compares with the newest root dated before now and keeps its alerts,
// and check and suggest both warn that the clock looks wrong, as drift
// wipe --dry-run and drift roots do.
func TestFutureDatedOldRootIsNotThePreviousRootInCheckAndSuggest(t *testing.T) {
	dir, args := workstation(t)
	if err := os.Mkdir(filepath.Join(dir, "old_roots", "2999-01-1_00:00:00"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"check", "suggest"} {
		a := args
		if cmd == "check" {
			i := slices.Index(args, "--now")
			a = slices.Delete(slices.Clone(args), i, i+2)
		}
		_, out, errs := runDrift(t, append([]string{cmd, "--format", "json"}, a...)...)
		if !strings.Contains(out, "is before the old root 2999-01-1_00:00:00") || !strings.Contains(out, "the clock looks wrong") {
			t.Errorf("%s: no warning about the future-dated old root:\n%s\n%s", cmd, out, errs)
		}
		if cmd == "check" && (strings.Contains(out, `"name": "2999-01-1_00:00:00"`) || !strings.Contains(out, "ssh_host_ed25519_key")) {
			t.Errorf("check took the future-dated root as the previous root, or lost the host-key alert:\n%s", out)
		}
	}
}
