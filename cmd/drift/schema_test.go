package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/nix-drift/drift/internal/jsonschema"
)

// TestSchema: docs/schema/version.json is the schema of
// what drift version writes with --format json; -update
// regenerates them.
func TestSchema(t *testing.T) {
	for _, c := range []struct {
		name, title string
		typ         reflect.Type
	}{
		{"version", "drift version --format json", reflect.TypeOf(versionJSON{})},
	} {
		b, err := jsonschema.Generate(c.typ, jsonschema.ID(c.name), c.title)
		if err != nil {
			t.Fatal(err)
		}
		if err := jsonschema.Golden(filepath.Join(repoRoot, "docs", "schema", c.name+".json"), b, *update); err != nil {
			t.Error(err)
		}
	}
}

// TestJSONOutputsMatchSchema: what drift check, suggest and version write
// with --format json on the demo system validates against the published
// schema: every field written is in it, every required one is there.
func TestJSONOutputsMatchSchema(t *testing.T) {
	demo := filepath.Join(repoRoot, "fixtures", "demo")
	sys := []string{"--root", filepath.Join(demo, "root"), "--mountinfo", filepath.Join(demo, "mountinfo"),
		"--persist", filepath.Join(demo, "impermanence.nix")}
	b := t.TempDir() // against the demo's /etc: every name removed
	if err := os.WriteFile(filepath.Join(b, "added"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		schema string
		args   []string
	}{
		{"check", append([]string{"check", "--format", "json"}, sys...)},
		{"check", append([]string{"check", "--format", "json", "--all", "--ignore-file", filepath.Join(demo, "ignore")}, sys...)},
		{"suggest", append([]string{"suggest", "--format", "json"}, sys...)},
		{"version", []string{"version", "--format", "json"}},
		{"lint", []string{"lint", "--format", "json", "--fail-on", "info", filepath.Join(demo, "impermanence.nix")}},
		{"diff", []string{"diff", "--format", "json", filepath.Join(demo, "root", "etc"), b}},
	} {
		code, out, stderr := runDrift(t, c.args...)
		if code > 1 {
			t.Fatalf("drift %v: exit %d: %s", c.args, code, stderr)
		}
		schema, err := os.ReadFile(filepath.Join(repoRoot, "docs", "schema", c.schema+".json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := jsonschema.Validate(schema, []byte(out)); err != nil {
			t.Errorf("drift %v: %v", c.args, err)
		}
	}
}

// TestWritingCommandsJSONMatchSchema: what drift adopt, drift rehearse and
// drift prune write with --format json, run for real on a copy of the demo
// system, validates against the published schemas: adopt planned, done and
// refused; rehearse over three shutdown reports of drift check; prune
// planned, done, listed, undone and emptied. (drift wipe and drift roots
// need a btrfs filesystem: test/e2e validates theirs.)
func TestWritingCommandsJSONMatchSchema(t *testing.T) {
	dir := t.TempDir()
	if out, err := exec.Command("cp", "-a", filepath.Join(repoRoot, "fixtures", "demo"), dir).CombinedOutput(); err != nil {
		t.Fatalf("cp -a: %v: %s", err, out)
	}
	demo := filepath.Join(dir, "demo")
	root := filepath.Join(demo, "root")
	decl := []string{"--root", root, "--persist", filepath.Join(demo, "impermanence.nix")}
	sys := append([]string{"--mountinfo", filepath.Join(demo, "mountinfo")}, decl...)
	valid := func(schema string, want int, args ...string) map[string]any {
		t.Helper()
		code, out, stderr := runDrift(t, args...)
		if code != want {
			t.Fatalf("drift %v: exit %d, want %d: %s", args, code, want, stderr)
		}
		b, err := os.ReadFile(filepath.Join(repoRoot, "docs", "schema", schema+".json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := jsonschema.Validate(b, []byte(out)); err != nil {
			t.Errorf("drift %v: against docs/schema/%s.json: %v\n%s", args, schema, err, out)
		}
		var doc map[string]any
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatal(err)
		}
		return doc
	}
	with := func(args []string, more ...string) []string { return append(append([]string{}, args...), more...) }

	// adopt: /srv is declared, its data still on the root.
	valid("adopt", 0, with([]string{"adopt", "--pending", "--dry-run", "--format", "json"}, sys...)...)
	valid("adopt", 0, with([]string{"adopt", "--pending", "--format", "json"}, sys...)...)
	if _, err := os.Stat(filepath.Join(root, "nix", "persist", "srv", "www", "index.html")); err != nil {
		t.Fatalf("drift adopt --pending copied nothing: %v", err)
	}
	if err := os.WriteFile(filepath.Join(root, "nix", "persist", "srv", "www", "index.html"), []byte("other"), 0o644); err != nil {
		t.Fatal(err)
	}
	if d := valid("adopt", 2, with([]string{"adopt", "/srv", "--format", "json"}, sys...)...); d["refused"] != true {
		t.Errorf("drift adopt over a differing copy: refused = %v, want true", d["refused"])
	}

	// rehearse: three shutdown reports, written as services.drift keeps them.
	reports := filepath.Join(dir, "reports")
	if err := os.Mkdir(reports, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, ts := range []string{"2026-12-01T08:00:00Z", "2026-12-02T08:00:00Z", "2026-12-03T08:00:00Z"} {
		code, out, stderr := runDrift(t, with([]string{"check", "--format", "json"}, sys...)...)
		if code > 1 {
			t.Fatalf("drift check: exit %d: %s", code, stderr)
		}
		if err := os.WriteFile(filepath.Join(reports, "shutdown-"+ts+".json"), []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	valid("rehearse", 1, with([]string{"rehearse", "--reports", reports, "--old-roots", "none", "--format", "json"}, sys...)...)

	// prune: a directory under the storage path that nothing declares.
	stray := filepath.Join(root, "nix", "persist", "opt", "gone-app")
	if err := os.MkdirAll(stray, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(stray, "state"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	// drift prune moves nothing without the machine's whole configuration.
	if err := os.MkdirAll(filepath.Join(root, "etc", "nixos"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "etc", "nixos", "configuration.nix"), []byte("{ ... }: { }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	valid("prune-run", 0, with([]string{"prune", "--dry-run", "--format", "json"}, decl...)...)
	run := valid("prune-run", 0, with([]string{"prune", "--format", "json"}, decl...)...)
	batches, _ := run["batches"].([]any)
	if len(batches) != 1 {
		t.Fatalf("drift prune: %d batches, want 1: %v", len(batches), run)
	}
	id, _ := batches[0].(map[string]any)["id"].(string)
	if _, err := os.Stat(stray); !os.IsNotExist(err) {
		t.Fatalf("drift prune left %s in place: %v", stray, err)
	}
	valid("prune-list", 0, with([]string{"prune", "--list", "--format", "json"}, decl...)...)
	valid("prune-undo", 0, with([]string{"prune", "--undo", id, "--format", "json"}, decl...)...)
	if _, err := os.Stat(filepath.Join(stray, "state")); err != nil {
		t.Fatalf("drift prune --undo %s: %v", id, err)
	}
	valid("prune-run", 0, with([]string{"prune", "--format", "json"}, decl...)...)
	later := time.Now().Add(72 * time.Hour).UTC().Format(time.RFC3339)
	if d := valid("prune-empty", 0, with([]string{"prune", "empty", "--older-than", "1d", "--now", later, "--format", "json"}, decl...)...); len(d["emptied"].([]any)) != 1 {
		t.Errorf("drift prune empty: %v, want one batch emptied", d["emptied"])
	}
}
