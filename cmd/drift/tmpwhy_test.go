package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nix-drift/drift/internal/knowledge"
	"github.com/nix-drift/drift/internal/testutil"
)

// TestCheckWhySaysSuggestsIgnoreFact: /tmp holding files, the same in the
// previous root but absent from the one before. drift suggest proposes
// --ignore /tmp by the knowledge base's fact (temporary files); drift
// check's WHY said "state, not made again at every boot". Now check's WHY
// of /tmp and of what it holds says the same fact's words and the same
// --ignore.
func TestCheckWhySaysSuggestsIgnoreFact(t *testing.T) {
	dir := t.TempDir()
	boot := time.Date(2026, 11, 12, 9, 0, 0, 0, time.UTC)
	testutil.Build(t, filepath.Join(dir, "root"), map[string]testutil.Node{
		"tmp/work.txt":      {Content: "w", Mtime: boot},
		"nix/persist/.keep": file(""),
	}, boot)
	testutil.Build(t, filepath.Join(dir, "old", "2026-11-11_09:00:00"), map[string]testutil.Node{"tmp/work.txt": {Content: "w", Mtime: boot.Add(-24 * time.Hour)}}, boot.Add(-24*time.Hour))
	testutil.Build(t, filepath.Join(dir, "old", "2026-11-10_09:00:00"), map[string]testutil.Node{"etc/x": file("")}, boot.Add(-48*time.Hour))
	for name, data := range map[string]string{
		"decl.nix":  `{ environment.persistence."/nix/persist".directories = [ "/var/log" ]; }`,
		"mountinfo": "22 1 0:20 / / rw - tmpfs none rw\n23 22 0:21 / /nix rw - btrfs /dev/sda2 rw,subvol=/nix\n",
	} {
		testutil.Must(t, os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644))
	}
	args := []string{"--root", dir + "/root", "--mountinfo", dir + "/mountinfo", "--persist", dir + "/decl.nix", "--old-roots", dir + "/old", "--quiet"}
	f, _, ok := knowledge.Builtin().Match("/tmp", "")
	if !ok || f.Action != "ignore" {
		t.Fatalf("the knowledge base's /tmp: %+v", f)
	}
	_, out, errs := runDrift(t, append([]string{"check", "--all", "--format", "json"}, args...)...)
	var r struct{ Items []struct{ Path, Why string } }
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("check: %v\n%s%s", err, out, errs)
	}
	seen := 0
	for _, it := range r.Items {
		if it.Path == "/tmp" || it.Path == "/tmp/work.txt" {
			seen++
			if !strings.Contains(it.Why, f.What) || !strings.Contains(it.Why, "--ignore") || strings.Contains(it.Why, "state") {
				t.Errorf("check's WHY of %s: %q, want the fact's words %q and --ignore", it.Path, it.Why, f.What)
			}
		}
	}
	if seen == 0 {
		t.Fatalf("check lists neither /tmp nor /tmp/work.txt:\n%s", out)
	}
	_, out, _ = runDrift(t, append([]string{"suggest", "--format", "json"}, args...)...)
	var sug struct {
		Suggestions []struct{ Action, Path, Note string }
	}
	testutil.Must(t, json.Unmarshal([]byte(out), &sug))
	found := false
	for _, s := range sug.Suggestions {
		if s.Path == "/tmp" {
			found = s.Action == "ignore" && strings.Contains(s.Note, f.What)
		}
	}
	if !found {
		t.Errorf("suggest does not ignore /tmp by the same fact:\n%s", out)
	}
}
