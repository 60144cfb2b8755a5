package persist

import (
	"context"
	"reflect"
	"strings"
	"testing"
)

// TestCloneOwnsEverySlice: a parse Parses hands out is a copy whose
// slices (the Set's, its Config's, its Initrd's and Configuration's) are
// its own, so that a reader that adds to one, sorts or changes an item in
// place (readTexts, Set.Merge's sharing, SettleHomes, Sort) leaves the
// parse another reader gets as it was read. A slice field added to Set or
// Config that clone does not copy fails here.
func TestCloneOwnsEverySlice(t *testing.T) {
	s := &Set{Config: &Config{guesses: []userGuess{{}}}}
	fill(reflect.ValueOf(s).Elem())
	c := s.clone()
	same(t, "Set", reflect.ValueOf(s).Elem(), reflect.ValueOf(c).Elem())
}

// fill gives every exported slice field of the struct v, and of the
// structs and *Config it holds, one zero item.
func fill(v reflect.Value) {
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		if !f.CanSet() {
			continue
		}
		switch f.Kind() {
		case reflect.Slice:
			f.Set(reflect.MakeSlice(f.Type(), 1, 1))
		case reflect.Struct:
			fill(f)
		case reflect.Pointer:
			if !f.IsNil() && f.Elem().Kind() == reflect.Struct {
				fill(f.Elem())
			}
		}
	}
}

// same fails t for each slice field of a (a struct, named at) that b
// shares, and for one a leaves empty (fill missed it).
func same(t *testing.T, at string, a, b reflect.Value) {
	t.Helper()
	for i := 0; i < a.NumField(); i++ {
		name := at + "." + a.Type().Field(i).Name
		fa, fb := a.Field(i), b.Field(i)
		switch fa.Kind() {
		case reflect.Slice:
			if fa.Len() == 0 {
				t.Errorf("%s: not filled", name)
			} else if fa.Pointer() == fb.Pointer() {
				t.Errorf("%s: shared by the copy", name)
			}
		case reflect.Struct:
			same(t, name, fa, fb)
		case reflect.Pointer:
			if !fa.IsNil() && fa.Elem().Kind() == reflect.Struct {
				if fa.Pointer() == fb.Pointer() {
					t.Errorf("%s: shared by the copy", name)
				}
				same(t, name, fa.Elem(), fb.Elem())
			}
		}
	}
}

// TestParsesHandOutCopies: what a reader does to the set Parses gave it
// (append, change an entry in place, delete a diagnostic) is not in the
// set the next reader gets; the module is parsed once.
func TestParsesHandOutCopies(t *testing.T) {
	p := NewParses()
	data := []byte(`{ imports = [ ./a.nix ]; environment.persistence."/nix/persist".directories = [ "/srv" "/var/lib/x" ]; }`)
	n := 0
	parsedHook = func(string, bool) { n++ }
	t.Cleanup(func() { parsedHook = nil })
	first, err := p.module(context.Background(), FileID{1, 2}, "/etc/nixos/m.nix", data, Options{})
	if err != nil {
		t.Fatal(err)
	}
	first.Entries[0].Path = "/changed"
	first.Entries = append(first.Entries, Entry{Path: "/added"})
	first.Imports = first.Imports[:0]
	second, err := p.module(context.Background(), FileID{1, 2}, "/etc/nixos/m.nix", data, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("parsed %d times, want once", n)
	}
	if len(second.Entries) != 2 || second.Entries[0].Path != "/srv" || len(second.Imports) != 1 {
		t.Errorf("second reader got %v (imports %v): the first one's changes", second.Entries, second.Imports)
	}
}

// TestParsesKeepNoLargeModule: a module larger than maxKept (a generated
// list of declarations) is not kept, text nor parse: each reader reads
// and parses it, and a Parses a command keeps (audit.Model) holds no
// copy of a million declarations.
func TestParsesKeepNoLargeModule(t *testing.T) {
	p := NewParses()
	data := []byte(`{ environment.persistence."/nix/persist".directories = [ "/srv" ]; }` + "\n# " + strings.Repeat("x", maxKept))
	p.keep(FileID{1, 2}, data)
	if _, ok := p.text(FileID{1, 2}); ok {
		t.Error("the text is kept")
	}
	n := 0
	parsedHook = func(string, bool) { n++ }
	t.Cleanup(func() { parsedHook = nil })
	for range 2 {
		s, err := p.module(context.Background(), FileID{1, 2}, "/etc/nixos/big.nix", data, Options{})
		if err != nil || len(s.Entries) != 1 {
			t.Fatalf("%v, %v", s, err)
		}
	}
	if n != 2 || len(p.parsed) != 0 {
		t.Errorf("parsed %d times, %d parses kept; want 2 and none", n, len(p.parsed))
	}
}
