package report

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/nix-drift/drift/internal/btrfs"
	"github.com/nix-drift/drift/internal/jsonschema"
)

// schemaBase is where the published schemas are, seen from this package.
const schemaBase = "../../docs/schema"

// TestSchema: docs/schema/{check,suggest,diff,adopt,wipe,roots,rehearse,prune-*}.json
// are the schemas of the types drift check, suggest, diff, adopt, wipe, roots,
// rehearse and prune write with --format json; -update regenerates them.
func TestSchema(t *testing.T) {
	for _, c := range []struct {
		name, title string
		typ         reflect.Type
	}{
		{"check", "drift check --format json", reflect.TypeOf(jsonReport{})},
		{"suggest", "drift suggest --format json", reflect.TypeOf(jsonSuggestReport{})},
		{"diff", "drift diff --format json", reflect.TypeOf(jsonComparison{})},
		{"adopt", "drift adopt --format json", reflect.TypeOf(jsonAdopt{})},
		{"wipe", "drift wipe --format json", reflect.TypeOf(jsonPlan{})},
		{"roots", "drift roots --format json", reflect.TypeOf(jsonRoots{})},
		{"rehearse", "drift rehearse --format json", reflect.TypeOf(rehearsalJSON{})},
		{"prune-run", "drift prune --format json", reflect.TypeOf(pruneRunJSON{})},
		{"prune-list", "drift prune --list --format json", reflect.TypeOf(pruneListJSON{})},
		{"prune-undo", "drift prune --undo ID --format json", reflect.TypeOf(pruneUndoJSON{})},
		{"prune-empty", "drift prune empty --format json", reflect.TypeOf(pruneEmptyJSON{})},
	} {
		b, err := jsonschema.Generate(c.typ, jsonschema.ID(c.name), c.title)
		if err != nil {
			t.Fatal(err)
		}
		if err := jsonschema.Golden(filepath.Join(schemaBase, c.name+".json"), b, *update); err != nil {
			t.Error(err)
		}
	}
}

// TestWipeAndRootsJSONMatchSchema: drift wipe's plan and drift roots' list,
// with a nested subvolume and an escaped name, validate against
// docs/schema/wipe.json and roots.json.
func TestWipeAndRootsJSONMatchSchema(t *testing.T) {
	now := time.Date(2026, 11, 29, 20, 0, 0, 0, time.UTC)
	ds := []btrfs.Decision{
		{OldRoot: btrfs.OldRoot{Name: "2026-10-9_10:00:00", Path: "old_roots/2026-10-9_10:00:00", Age: time.Date(2026, 10, 9, 10, 0, 0, 0, time.UTC),
			Nested: []btrfs.Subvolume{{ID: 258, Path: "old_roots/2026-10-9_10:00:00/srv"}}}, Delete: true, Why: "51 days old (more than 30)"},
		{OldRoot: btrfs.OldRoot{Name: "odd\x1bname", Path: "old_roots/odd\x1bname"}, Why: "a directory, not a subvolume: left alone"},
	}
	p := &btrfs.Plan{Options: btrfs.Options{Now: now}, OldRoots: ds,
		Steps:    []btrfs.Step{{Action: btrfs.ActRetire, Path: "root", To: "old_roots/2026-11-29_19:00:00"}, {Action: btrfs.ActCreate, Path: "root"}},
		Warnings: []string{"a warning"}, Notes: []string{"a note"}}
	for _, c := range []struct {
		schema string
		write  func(*bytes.Buffer) error
	}{
		{"wipe", func(b *bytes.Buffer) error { return WritePlan(b, p, "json", true) }},
		{"roots", func(b *bytes.Buffer) error { return WriteRoots(b, ds, now, "json") }},
	} {
		var buf bytes.Buffer
		if err := c.write(&buf); err != nil {
			t.Fatal(err)
		}
		schema, err := os.ReadFile(filepath.Join(schemaBase, c.schema+".json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := jsonschema.Validate(schema, buf.Bytes()); err != nil {
			t.Errorf("%s: %v\n%s", c.schema, err, buf.String())
		}
	}
}
