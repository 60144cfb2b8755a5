package output

import (
	"reflect"
	"testing"

	"github.com/nix-drift/drift/internal/jsonschema"
)

// TestSchema: docs/schema/lint.json is the schema of drift lint --format
// json's type; -update regenerates it.
func TestSchema(t *testing.T) {
	b, err := jsonschema.Generate(reflect.TypeOf(jsonReport{}), jsonschema.ID("lint"), "drift lint --format json")
	if err != nil {
		t.Fatal(err)
	}
	if err := jsonschema.Golden("../../../docs/schema/lint.json", b, *update); err != nil {
		t.Error(err)
	}
}
