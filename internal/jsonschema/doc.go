// Package jsonschema writes the JSON Schema (draft 2020-12) of the JSON
// that encoding/json makes of a Go type, so that each `--format json`
// output's published schema (docs/schema/) is derived from the types that
// write it rather than written by hand.
package jsonschema
