package persist

import (
	"fmt"
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
	for _, tt := range tests {
		e, ok := s.Covering(tt.path)
		if got := e.Path; ok != (tt.want != "") || got != tt.want {
			t.Errorf("Covering(%q) = %q, %v; want %q", tt.path, got, ok, tt.want)
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
	for _, d := range a.Duplicates {
		e := d.Entry()
		got = append(got, fmt.Sprintf("%s %s %s %s", e.Kind, e.StoragePath, e.Path, e.Pos))
	}
	wantLines(t, "duplicates kept with their position", got, []string{"directory /p /x b.json", "directory /q /x "})
	if len(a.Diagnostics) != 2 {
		t.Errorf("diagnostics %v", a.Diagnostics)
	}
}
