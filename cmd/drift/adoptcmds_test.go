package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/testutil"
)

// differingDemo copies the demo system into dir with a half-migrated /srv:
// /nix/persist/srv/www/index.html holds other bytes than the live file,
// /nix/persist/srv/data/app.sqlite the same bytes with another mode (drift
// check counts it copied, with a warning), and /srv/www/new.txt has no
// copy. The demo's newest shutdown report gets a row for index.html, so
// that drift rehearse asks to decide it. It returns the flags that point
// drift at the copy (--root first).
func differingDemo(t *testing.T, dir string) []string {
	t.Helper()
	fix, err := filepath.Abs("../../fixtures/demo")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("cp", "-a", fix, dir).CombinedOutput(); err != nil {
		t.Fatalf("cp -a: %v\n%s", err, out)
	}
	root := filepath.Join(dir, "root")
	for name, data := range map[string]string{"nix/persist/srv/www/index.html": "an older page\n", "srv/www/new.txt": "new\n"} {
		testutil.Must(t, os.MkdirAll(filepath.Dir(filepath.Join(root, name)), 0o755))
		testutil.Must(t, os.WriteFile(filepath.Join(root, name), []byte(data), 0o644))
	}
	testutil.Must(t, os.MkdirAll(filepath.Join(root, "nix/persist/srv/data"), 0o755))
	if out, err := exec.Command("cp", "-a", filepath.Join(root, "srv/data/app.sqlite"), filepath.Join(root, "nix/persist/srv/data/")).CombinedOutput(); err != nil {
		t.Fatalf("cp -a: %v\n%s", err, out)
	}
	testutil.Must(t, os.Chmod(filepath.Join(root, "nix/persist/srv/data/app.sqlite"), 0o600))
	latest := filepath.Join(dir, "reports", "shutdown-2026-12-03T08:00:00Z.json")
	b, err := os.ReadFile(latest)
	testutil.Must(t, err)
	var rep map[string]any
	testutil.Must(t, json.Unmarshal(b, &rep))
	rep["items"] = append(rep["items"].([]any), map[string]any{"path": "/srv/www/index.html", "category": "declared-unbacked", "type": "file",
		"entries": 1, "bytes": 15, "mode": "0644", "mtime": "2026-12-03T07:00:00Z", "why": "inside declared directory /srv"})
	b, err = json.Marshal(rep)
	testutil.Must(t, err)
	testutil.Must(t, os.WriteFile(latest, b, 0o644))
	return demoFlags(dir)
}

// adoptCmdRe finds a drift adopt command in printed text: its words up to
// the first that ends it (a comma, semicolon, parenthesis or line end).
var adoptCmdRe = regexp.MustCompile(`drift adopt( [^ ,;()\n"]+)+`)

// TestEveryPrintedAdoptCommandRuns: every drift adopt command that drift
// check (table and JSON: each row's, and the one for all rows), drift
// adopt --pending --format summary and drift rehearse print, on a system
// whose persistent copy differs from the live data (other bytes, and the
// same bytes with another mode), runs as printed with exit 0, each on a
// fresh copy of the system; none is the shell pipe --prefer live|persistent.
// Before, check printed "drift adopt … /srv" and "keep it: drift adopt …
// /srv/www/index.html", which exit 2 with "1 object is already in the
// destination with other content", and rehearse printed "drift adopt
// --prefer live|persistent" without --root (fresh-user findings).
func TestEveryPrintedAdoptCommandRuns(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sys")
	flags := differingDemo(t, dir)
	var printed []string
	collect := func(what string, args ...string) {
		_, out, errs := runDrift(t, append(args, flags...)...)
		if strings.Contains(out+errs, "live|persistent") {
			t.Errorf("%s prints --prefer live|persistent:\n%s%s", what, out, errs)
		}
		var found []string
		for _, l := range strings.Split(out, "\n") {
			if !strings.HasPrefix(l, "│") { // a table cell wraps its text: the JSON has each row's whole
				found = append(found, adoptCmdRe.FindAllString(l, -1)...)
			}
		}
		if len(found) == 0 {
			t.Errorf("%s prints no drift adopt command:\n%s%s", what, out, errs)
		}
		printed = append(printed, found...)
	}
	collect("check", "check")
	collect("check --format json", "check", "--format", "json")
	collect("adopt --pending --format summary", "adopt", "--pending", "--dry-run", "--format", "summary")
	collect("rehearse", "rehearse", "--reports", filepath.Join(dir, "reports"))
	var prefer bool
	for _, cmd := range printed {
		prefer = prefer || strings.Contains(cmd, "--prefer persistent")
		differingDemo(t, dir)
		code, out, errs := runDrift(t, strings.Fields(strings.TrimPrefix(cmd, "drift "))...)
		if code != 0 {
			t.Errorf("%s: exit %d\n%s%s", cmd, code, out, errs)
		}
	}
	if !prefer {
		t.Errorf("no printed command says --prefer persistent: %q", printed)
	}
}
