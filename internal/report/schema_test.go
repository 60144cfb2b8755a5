package report

import (
	"path/filepath"
	"reflect"
	"testing"

	"github.com/nix-drift/drift/internal/jsonschema"
)

// schemaBase is where the published schemas are, seen from this package.
const schemaBase = "../../docs/schema"

// TestSchema: docs/schema/{check,suggest,diff,adopt}.json are the schemas
// of the types drift check, suggest, diff and adopt write with --format
// json; -update regenerates them.
func TestSchema(t *testing.T) {
	for _, c := range []struct {
		name, title string
		typ         reflect.Type
	}{
		{"check", "drift check --format json", reflect.TypeOf(jsonReport{})},
		{"suggest", "drift suggest --format json", reflect.TypeOf(jsonSuggestReport{})},
		{"diff", "drift diff --format json", reflect.TypeOf(jsonComparison{})},
		{"adopt", "drift adopt --format json", reflect.TypeOf(jsonAdopt{})},
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
