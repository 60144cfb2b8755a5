package main

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/nix-drift/drift/internal/jsonschema"
)

// TestSchema: docs/schema/{rehearse,version,prune-*}.json are the schemas of
// what drift rehearse, drift version and drift prune write with --format json; -update
// regenerates them.
func TestSchema(t *testing.T) {
	for _, c := range []struct {
		name, title string
		typ         reflect.Type
	}{
		{"rehearse", "drift rehearse --format json", reflect.TypeOf(rehearsalJSON{})},
		{"version", "drift version --format json", reflect.TypeOf(versionJSON{})},
		{"prune-run", "drift prune --format json", reflect.TypeOf(pruneRunJSON{})},
		{"prune-list", "drift prune --list --format json", reflect.TypeOf(pruneListJSON{})},
		{"prune-undo", "drift prune --undo ID --format json", reflect.TypeOf(pruneUndoJSON{})},
		{"prune-empty", "drift prune empty --format json", reflect.TypeOf(pruneEmptyJSON{})},
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
