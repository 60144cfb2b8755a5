package pathx

import (
	"slices"
	"testing"
)

func TestContainsRel(t *testing.T) {
	tests := []struct {
		ancestor, p string
		rel         string // "" when not contained
	}{
		{"/home", "/home", "/"},
		{"/home", "/home/a", "/a"},
		{"/home", "/homework", ""},
		{"/home/", "/home/a/", "/a"},
		{"/home", "/home//a/./b", "/a/b"},
		{"/home/x/..", "/home/a", "/a"},
		{"/home", "/home/../etc", ""},
		{"/", "/", "/"},
		{"/", "/anything/at/all", "/anything/at/all"},
		{"/", "relative", ""},
		{"/home/alice/Down", "/home/alice/Downloads", ""},
		{"/home/alice/Downloads", "/nix/persist/home/alice/Downloads", ""},
		{"/nix/persist", "/nix/persist/home/alice/Downloads", "/home/alice/Downloads"},
		{"/a b", "/a b/c", "/c"},
		{"/a", "/a b", ""},
		{"/é", "/é/ü", "/ü"},
		{"/\xff", "/\xff/\xfe", "/\xfe"},
		{"/\xff", "/\xff\xfe", ""},
		{"/home/a", "/home", ""},
		{"a", "a/b", "/b"},
	}
	for _, tt := range tests {
		rel, ok := Rel(tt.ancestor, tt.p)
		if ok != (tt.rel != "") || rel != tt.rel {
			t.Errorf("Rel(%q, %q) = %q, %v; want %q", tt.ancestor, tt.p, rel, ok, tt.rel)
		}
		if got := Contains(tt.ancestor, tt.p); got != (tt.rel != "") {
			t.Errorf("Contains(%q, %q) = %v", tt.ancestor, tt.p, got)
		}
	}
}

func TestClean(t *testing.T) {
	for in, want := range map[string]string{
		"/":               "/",
		"//":              "/",
		"/..":             "/",
		"/a/b/../c/":      "/a/c",
		"/a//b/./c":       "/a/b/c",
		"/VirtualBox VMs": "/VirtualBox VMs",
		"/\xff/./\xfe/":   "/\xff/\xfe",
		"/a\\040b":        "/a\\040b",
		"":                ".",
	} {
		if got := Clean(in); got != want {
			t.Errorf("Clean(%q) = %q, want %q", in, got, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { Clean("/already/clean/path") }); n != 0 {
		t.Errorf("Clean of a clean path allocates %v times", n)
	}
}

// TestHasPrefix: component-wise, on clean paths, without cleaning (a kept
// ".." is a name).
func TestHasPrefix(t *testing.T) {
	for _, tc := range []struct {
		p, dir string
		want   bool
	}{
		{"/home/a", "/home", true},
		{"/home", "/home", true},
		{"/homework", "/home", false},
		{"/hom", "/home", false},
		{"/x", "/", true},
		{"x", "/", false},
		{"/var/lib/../etc", "/var/lib", true},
		{"/etc", "/var/lib/..", false},
	} {
		if got := HasPrefix(tc.p, tc.dir); got != tc.want {
			t.Errorf("HasPrefix(%q, %q) = %v, want %v", tc.p, tc.dir, got, tc.want)
		}
	}
}

func TestCompare(t *testing.T) {
	ps := []string{"/a-b", "/a/b", "/a", "/", "/a/b/c", "/ab", "/a\x00"}
	slices.SortFunc(ps, Compare)
	want := []string{"/", "/a", "/a/b", "/a/b/c", "/a\x00", "/a-b", "/ab"}
	if !slices.Equal(ps, want) {
		t.Errorf("sorted %q, want %q", ps, want)
	}
}
