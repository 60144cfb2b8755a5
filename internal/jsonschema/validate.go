package jsonschema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"
)

// Validate checks doc, one JSON value, against schema, a schema as
// Generate writes it: the keywords type, const, properties, required,
// additionalProperties, items, anyOf and local $ref ("#/$defs/NAME").
// An object's key the schema has no property for is an error, so a field
// written but missing from the schema is found. The error names the first
// mismatch by its JSON path ($.items[0].path).
func Validate(schema, doc []byte) error {
	var s map[string]any
	if err := json.Unmarshal(schema, &s); err != nil {
		return fmt.Errorf("schema: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return fmt.Errorf("document: %w", err)
	}
	defs, _ := s["$defs"].(map[string]any)
	return check(s, v, "$", defs)
}

func check(s map[string]any, v any, at string, defs map[string]any) error {
	if ref, ok := s["$ref"].(string); ok {
		d, ok := defs[strings.TrimPrefix(ref, "#/$defs/")].(map[string]any)
		if !ok {
			return fmt.Errorf("%s: $ref %s: no such definition", at, ref)
		}
		return check(d, v, at, defs)
	}
	if alts, ok := s["anyOf"].([]any); ok {
		var errs []string
		for _, a := range alts {
			err := check(a.(map[string]any), v, at, defs)
			if err == nil {
				return nil
			}
			errs = append(errs, err.Error())
		}
		return fmt.Errorf("%s: matches none of anyOf: %s", at, strings.Join(errs, "; "))
	}
	if t, ok := s["type"]; ok && !typeOK(t, v) {
		return fmt.Errorf("%s: %s is not of type %v", at, kind(v), t)
	}
	if c, ok := s["const"]; ok && !reflect.DeepEqual(c, v) {
		return fmt.Errorf("%s: %v is not the constant %v", at, v, c)
	}
	switch v := v.(type) {
	case map[string]any:
		props, _ := s["properties"].(map[string]any)
		req, _ := s["required"].([]any)
		for _, r := range req {
			if _, ok := v[r.(string)]; !ok {
				return fmt.Errorf("%s: required field %q missing", at, r)
			}
		}
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			var sub map[string]any
			if p, ok := props[k].(map[string]any); ok {
				sub = p
			} else if ap, ok := s["additionalProperties"].(map[string]any); ok {
				sub = ap
			} else {
				return fmt.Errorf("%s: field %q is not in the schema", at, k)
			}
			if err := check(sub, v[k], at+"."+k, defs); err != nil {
				return err
			}
		}
	case []any:
		if items, ok := s["items"].(map[string]any); ok {
			for i, e := range v {
				if err := check(items, e, fmt.Sprintf("%s[%d]", at, i), defs); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func typeOK(t, v any) bool {
	switch t := t.(type) {
	case string:
		return kindIs(t, v)
	case []any:
		for _, x := range t {
			if s, ok := x.(string); ok && kindIs(s, v) {
				return true
			}
		}
	}
	return false
}

func kindIs(t string, v any) bool {
	k := kind(v)
	return k == t || t == "number" && k == "integer"
}

func kind(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case json.Number:
		if strings.ContainsAny(v.String(), ".eE") {
			return "number"
		}
		return "integer"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// Golden compares schema with the file at path, or, with update, writes it
// there. The error says how to regenerate it.
func Golden(path string, schema []byte, update bool) error {
	if update {
		return os.WriteFile(path, schema, 0o644)
	}
	want, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("%w (go test -run TestSchema -update writes it)", err)
	}
	if !bytes.Equal(want, schema) {
		return fmt.Errorf("%s is not the schema of the Go types that write this output: the types changed; regenerate it with go test -run TestSchema -update (and say what changed in docs/json.md)", path)
	}
	return nil
}
