package jsonschema

import (
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
)

type node struct {
	Name     string            `json:"name"`
	Size     int64             `json:"size,omitempty"`
	When     time.Time         `json:"when"`
	Children []*node           `json:"children"`
	Labels   map[string]string `json:"labels,omitempty"`
	Raw      []byte            `json:"raw,omitempty"`
	Skipped  string            `json:"-"`
	inner
}

type inner struct {
	Depth float64 `json:"depth"`
}

// TestGenerateFollowsEncodingJSON: tags, omitempty, "-" and
// embedded fields, and a recursive type as encoding/json treats them.
func TestGenerateFollowsEncodingJSON(t *testing.T) {
	b, err := Generate(reflect.TypeOf(node{}), "x.json", "node")
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Ref  string `json:"$ref"`
		Defs map[string]struct {
			Properties map[string]map[string]any `json:"properties"`
			Required   []string                  `json:"required"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	if s.Ref != "#/$defs/node" {
		t.Fatalf("$ref = %q", s.Ref)
	}
	d := s.Defs["node"]
	var props []string
	for k := range d.Properties {
		props = append(props, k)
	}
	if got := strings.Join(sorted(props), ","); got != "children,depth,labels,name,raw,size,when" {
		t.Errorf("properties = %s", got)
	}
	if got := strings.Join(d.Required, ","); got != "name,when,children,depth" {
		t.Errorf("required = %s", got)
	}
	if d.Properties["when"]["format"] != "date-time" {
		t.Errorf("time.Time = %v", d.Properties["when"])
	}
	items := d.Properties["children"]["items"].(map[string]any)
	if items["anyOf"] == nil {
		t.Errorf("a pointer item is not nullable: %v", items)
	}
}

// TestValidateFindsFieldsOutsideTheSchema: what encoding/json writes for
// a value validates; an extra field, a missing required one or a wrong type
// does not, named by its path.
func TestValidateFindsFieldsOutsideTheSchema(t *testing.T) {
	schema, err := Generate(reflect.TypeOf(node{}), "x.json", "node")
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := json.Marshal(node{Name: "a", Children: []*node{{Name: "b", Size: 3}, nil}, Labels: map[string]string{"k": "v"}})
	if err := Validate(schema, doc); err != nil {
		t.Fatalf("encoding/json's own output: %v", err)
	}
	for _, c := range []struct{ doc, want string }{
		{`{"name":"a","when":"2026-01-01T00:00:00Z","children":[],"depth":1,"extra":1}`, `$: field "extra" is not in the schema`},
		{`{"name":"a","children":[],"depth":1}`, `required field "when" missing`},
		{`{"name":"a","when":"x","children":[{"name":1}],"depth":1}`, `$.children[0]`},
		{`{"name":"a","when":"x","children":null,"depth":"deep"}`, `$.depth: string is not of type number`},
	} {
		err := Validate(schema, []byte(c.doc))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.doc, err, c.want)
		}
	}
}

// TestGenerateRefusesWhatJSONCannotEncode: a channel field is an error
// naming the field.
func TestGenerateRefusesWhatJSONCannotEncode(t *testing.T) {
	_, err := Generate(reflect.TypeOf(struct{ C chan int }{}), "x", "x")
	if err == nil || !strings.Contains(err.Error(), ".C") {
		t.Errorf("err = %v", err)
	}
}

func sorted(s []string) []string { sort.Strings(s); return s }

type shadowing struct {
	Name string `json:"name,omitempty"`
	*inner
	Depth string `json:"depth"` // shallower than inner's depth: it wins
}

// TestGenerateShallowestFieldWins: of two fields with one JSON name, the
// one less deep in embedded structs is encoded, wherever it is declared.
func TestGenerateShallowestFieldWins(t *testing.T) {
	schema, err := Generate(reflect.TypeOf(shadowing{}), "x", "x")
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := json.Marshal(shadowing{Depth: "deep", inner: &inner{Depth: 1}})
	if err := Validate(schema, doc); err != nil {
		t.Errorf("%s: %v", doc, err)
	}
	if err := Validate(schema, []byte(`{"depth": 1}`)); err == nil {
		t.Error("the embedded struct's number type was kept for depth")
	}
}

// TestSchemaFieldIsTheID: a top-level "$schema" field is the schema's own
// $id as a constant: a document naming it validates, one naming another
// schema does not.
func TestSchemaFieldIsTheID(t *testing.T) {
	type doc struct {
		Schema  string `json:"$schema"`
		Version int    `json:"version"`
	}
	id := ID("check")
	if !strings.HasPrefix(id, "https://") || !strings.HasSuffix(id, "/docs/schema/check.json") {
		t.Errorf("ID(check) = %q, want an https URL of docs/schema/check.json", id)
	}
	schema, err := Generate(reflect.TypeOf(doc{}), id, "doc")
	if err != nil {
		t.Fatal(err)
	}
	good, _ := json.Marshal(doc{Schema: id, Version: 1})
	if err := Validate(schema, good); err != nil {
		t.Errorf("a document naming its schema: %v", err)
	}
	bad, _ := json.Marshal(doc{Schema: ID("suggest"), Version: 1})
	if err := Validate(schema, bad); err == nil || !strings.Contains(err.Error(), "$.$schema") {
		t.Errorf("a document naming another schema: error %v, want one at $.$schema", err)
	}
}
