package persist

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
)

func testSet() *Set {
	return &Set{Entries: []Entry{
		{Kind: Dir, StoragePath: "/p", Path: "/home/a"},
		{Kind: Dir, StoragePath: "/p", Path: "/var/log"},
		{Kind: Dir, StoragePath: "/p", Path: "/var/log/journal"},
		{Kind: File, StoragePath: "/p", Path: "/etc/machine-id"},
		{Kind: File, StoragePath: "/p", Path: "/var/log/app.log"},
		{Kind: Dir, StoragePath: "/q", Path: "/srv"},
	}}
}

func TestCovering(t *testing.T) {
	s := testSet()
	tests := []struct{ path, want string }{
		{"/home/a", "/home/a"},
		{"/home/a/", "/home/a"},
		{"/home/a/x/y", "/home/a"},
		{"/home/ab", ""}, // never strings.HasPrefix
		{"/home", ""},
		{"/var/log/journal/x", "/var/log/journal"}, // deepest wins
		{"/var/log/journalx", "/var/log"},
		{"/var/log/app.log", "/var/log/app.log"}, // the file entry
		{"/etc/machine-id", "/etc/machine-id"},
		{"/etc/machine-id/x", ""}, // a file covers only itself
		{"/etc", ""},
		{"/", ""},
		{"/srv", "/srv"},
	}
	ix := s.Index()
	for _, tt := range tests {
		e, ok := s.Covering(tt.path)
		if got := e.Path; ok != (tt.want != "") || got != tt.want {
			t.Errorf("Covering(%q) = %q, %v; want %q", tt.path, got, ok, tt.want)
		}
		e2, ok2 := ix.Covering(tt.path)
		if !reflect.DeepEqual(e2, e) || ok2 != ok {
			t.Errorf("Index.Covering(%q) = %+v, %v; Set.Covering = %+v, %v", tt.path, e2, ok2, e, ok)
		}
	}
}

func TestLookup(t *testing.T) {
	s := testSet()
	ix := s.Index()
	for _, tt := range []struct{ path, want string }{
		{"/home/a", "/home/a"}, {"/home/a/x", ""}, {"/var/log/", "/var/log"},
		{"/etc/machine-id", "/etc/machine-id"}, {"/etc", ""}, {"/home/a/../a", "/home/a"},
	} {
		e, ok := s.Lookup(tt.path)
		if ok != (tt.want != "") || e.Path != tt.want {
			t.Errorf("Lookup(%q) = %q, %v; want %q", tt.path, e.Path, ok, tt.want)
		}
		e2, ok2 := ix.Lookup(tt.path)
		if !reflect.DeepEqual(e2, e) || ok2 != ok {
			t.Errorf("Index.Lookup(%q) differs", tt.path)
		}
	}
}

// Index and Set agree on random paths over random declarations.
func TestIndexMatchesSet(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	comps := []string{"a", "ab", "b", "a b", "é"}
	rnd := func() string {
		p := ""
		for range 1 + r.IntN(4) {
			p += "/" + comps[r.IntN(len(comps))]
		}
		return p
	}
	s := &Set{}
	for range 30 {
		s.Entries = append(s.Entries, Entry{Kind: Kind(r.IntN(2)), StoragePath: "/p", Path: rnd()})
	}
	ix := s.Index()
	for range 2000 {
		p := rnd()
		e1, ok1 := s.Covering(p)
		e2, ok2 := ix.Covering(p)
		if !reflect.DeepEqual(e1, e2) || ok1 != ok2 {
			t.Fatalf("Covering(%q): set %+v %v, index %+v %v", p, e1, ok1, e2, ok2)
		}
		l1, ok1 := s.Lookup(p)
		l2, ok2 := ix.Lookup(p)
		if !reflect.DeepEqual(l1, l2) || ok1 != ok2 {
			t.Fatalf("Lookup(%q) differs", p)
		}
	}
}

func TestMerge(t *testing.T) {
	a := &Set{
		Entries:     []Entry{{Kind: Dir, StoragePath: "/p", Path: "/x", Pos: Pos{File: "a.nix", Line: 1}}},
		Diagnostics: []Diagnostic{{Message: "m"}},
	}
	b := &Set{
		Entries: []Entry{
			{Kind: Dir, StoragePath: "/p", Path: "/x", Pos: Pos{File: "b.json"}}, // duplicate: to Duplicates
			{Kind: File, StoragePath: "/p", Path: "/x"},                          // other kind: kept
			{Kind: Dir, StoragePath: "/q", Path: "/x"},                           // other storage: kept
			{Kind: Dir, StoragePath: "/q", Path: "/x"},                           // duplicate within o
		},
		Diagnostics: []Diagnostic{{Message: "m"}, {Message: "n"}},
	}
	a.Merge(b)
	a.Merge(nil)
	var got []string
	for _, e := range a.Entries {
		got = append(got, fmt.Sprintf("%s %s %s %s", e.Kind, e.StoragePath, e.Path, e.Pos))
	}
	wantLines(t, "merged", got, []string{"directory /p /x a.nix:1", "file /p /x ", "directory /q /x "})
	got = nil
	for _, e := range a.Duplicates {
		got = append(got, fmt.Sprintf("%s %s %s %s", e.Kind, e.StoragePath, e.Path, e.Pos))
	}
	wantLines(t, "duplicates kept with their position", got, []string{"directory /p /x b.json", "directory /q /x "})
	if len(a.Diagnostics) != 2 {
		t.Errorf("diagnostics %v", a.Diagnostics)
	}
}

func BenchmarkIndexCovering(b *testing.B) {
	s := testSet()
	ix := s.Index()
	b.ReportAllocs()
	for b.Loop() {
		ix.Covering("/var/log/journal/abc/system@0001.journal")
	}
}
