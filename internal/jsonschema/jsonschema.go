package jsonschema

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"
)

// Draft is the JSON Schema dialect Generate writes.
const Draft = "https://json-schema.org/draft/2020-12/schema"

// Generate returns the schema, indented JSON ending in a newline, of what
// encoding/json writes for a value of type t: a struct is an object whose
// properties are its exported fields under their json tag names (embedded
// structs' fields inlined, "-" left out), required unless tagged omitempty;
// a pointer, slice or map may also be null; []byte is a base64 string;
// time.Time a date-time string; an interface any value. Every named struct
// type is one entry of $defs, referenced by $ref, so recursive types end.
// id is the schema's $id, title its title. A top-level "$schema" property
// (SchemaField) is the constant id: a document names the schema it follows.
// It fails on a type encoding/json cannot encode (a channel, a function, a
// complex number) or a map whose key is not a string or an integer.
func Generate(t reflect.Type, id, title string) ([]byte, error) {
	g := &gen{defs: map[string]any{}, names: map[reflect.Type]string{}}
	root, err := g.schema(t)
	if err != nil {
		return nil, err
	}
	top := root
	if ref, ok := root["$ref"].(string); ok {
		top, _ = g.defs[strings.TrimPrefix(ref, "#/$defs/")].(map[string]any)
	}
	if props, ok := top["properties"].(map[string]any); ok && props[SchemaField] != nil {
		props[SchemaField] = map[string]any{"type": "string", "const": id}
	}
	out := map[string]any{"$schema": Draft, "$id": id, "title": title}
	for k, v := range root {
		out[k] = v
	}
	if len(g.defs) > 0 {
		out["$defs"] = g.defs
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

type gen struct {
	defs  map[string]any
	names map[reflect.Type]string
}

var (
	timeType      = reflect.TypeOf(time.Time{})
	marshalerType = reflect.TypeOf((*json.Marshaler)(nil)).Elem()
	textType      = reflect.TypeOf((*interface{ MarshalText() ([]byte, error) })(nil)).Elem()
)

func (g *gen) schema(t reflect.Type) (map[string]any, error) {
	switch {
	case t == timeType:
		return map[string]any{"type": "string", "format": "date-time"}, nil
	case t.Implements(marshalerType) || reflect.PointerTo(t).Implements(marshalerType):
		return map[string]any{}, nil // its own encoding: anything
	case t.Kind() != reflect.String && (t.Implements(textType) || reflect.PointerTo(t).Implements(textType)):
		return map[string]any{"type": "string"}, nil
	}
	switch t.Kind() {
	case reflect.Bool:
		return map[string]any{"type": "boolean"}, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return map[string]any{"type": "integer"}, nil
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}, nil
	case reflect.String:
		return map[string]any{"type": "string"}, nil
	case reflect.Interface:
		return map[string]any{}, nil
	case reflect.Pointer:
		s, err := g.schema(t.Elem())
		if err != nil {
			return nil, err
		}
		return nullable(s), nil
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 && t.Kind() == reflect.Slice {
			return map[string]any{"type": []string{"string", "null"}, "contentEncoding": "base64"}, nil
		}
		items, err := g.schema(t.Elem())
		if err != nil {
			return nil, err
		}
		if t.Kind() == reflect.Array {
			return map[string]any{"type": "array", "items": items, "minItems": t.Len(), "maxItems": t.Len()}, nil
		}
		return map[string]any{"type": []string{"array", "null"}, "items": items}, nil
	case reflect.Map:
		switch t.Key().Kind() {
		case reflect.String, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		default:
			return nil, fmt.Errorf("jsonschema: %v: a map key must be a string or an integer", t)
		}
		v, err := g.schema(t.Elem())
		if err != nil {
			return nil, err
		}
		return map[string]any{"type": []string{"object", "null"}, "additionalProperties": v}, nil
	case reflect.Struct:
		return g.ref(t)
	}
	return nil, fmt.Errorf("jsonschema: %v: encoding/json cannot encode a %v", t, t.Kind())
}

// nullable lets s also be null.
func nullable(s map[string]any) map[string]any {
	if ty, ok := s["type"].(string); ok {
		s["type"] = []string{ty, "null"}
		return s
	}
	if _, ok := s["type"]; ok || len(s) == 0 {
		return s
	}
	return map[string]any{"anyOf": []any{s, map[string]any{"type": "null"}}}
}

// ref returns a reference to a named struct's $defs entry (made on first
// use), or an anonymous struct's schema inline.
func (g *gen) ref(t reflect.Type) (map[string]any, error) {
	if t.Name() == "" {
		return g.object(t)
	}
	name, ok := g.names[t]
	if !ok {
		name = t.Name()
		for _, taken := g.defs[name]; taken; _, taken = g.defs[name] {
			name = strings.ReplaceAll(t.PkgPath()+"."+t.Name(), "/", ".")
		}
		g.names[t] = name
		g.defs[name] = nil // reserved: a recursive reference finds it
		s, err := g.object(t)
		if err != nil {
			return nil, err
		}
		g.defs[name] = s
	}
	return map[string]any{"$ref": "#/$defs/" + name}, nil
}

// object returns a struct's object schema.
func (g *gen) object(t reflect.Type) (map[string]any, error) {
	var fs []field
	if err := g.fields(t, 0, &fs); err != nil {
		return nil, err
	}
	// encoding/json's rule: of fields with one name, the shallowest wins.
	best := map[string]field{}
	for _, f := range fs {
		if b, ok := best[f.name]; !ok || f.depth < b.depth {
			best[f.name] = f
		}
	}
	props := map[string]any{}
	required := []string{}
	for _, f := range fs {
		if b := best[f.name]; b.depth != f.depth || props[f.name] != nil {
			continue
		}
		props[f.name] = f.schema
		if f.required {
			required = append(required, f.name)
		}
	}
	return map[string]any{"type": "object", "properties": props, "required": required}, nil
}

// field is one encoded field of a struct: its JSON name, how deep in
// embedded structs it lies, its schema, and whether it is always written.
type field struct {
	name     string
	depth    int
	schema   map[string]any
	required bool
}

// fields appends t's encoded fields at depth to fs, in declaration order;
// embedded structs without a tag are inlined one level deeper, as
// encoding/json does.
func (g *gen) fields(t reflect.Type, depth int, fs *[]field) error {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		ft := f.Type
		if f.Anonymous && name == "" {
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				if err := g.fields(ft, depth+1, fs); err != nil {
					return err
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		s, err := g.schema(ft)
		if err != nil {
			return fmt.Errorf("%s.%s: %w", t, f.Name, err)
		}
		if strings.Contains(","+opts+",", ",string,") {
			s = map[string]any{"type": "string"}
		}
		req := !strings.Contains(","+opts+",", ",omitempty,") && !strings.Contains(","+opts+",", ",omitzero,")
		*fs = append(*fs, field{name, depth, s, req})
	}
	return nil
}

// SchemaField is the JSON name of the field by which each drift JSON
// document names its schema: "$schema", as SARIF and JSON editors use it.
const SchemaField = "$schema"

// ID returns the $id of the published schema NAME, which is also the
// "$schema" of the documents that follow it: the URL of
// docs/schema/NAME.json on the repository's main branch, served as JSON.
func ID(name string) string {
	return "https://raw.githubusercontent.com/nix-drift/drift/main/docs/schema/" + name + ".json"
}
