package audit

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestArgsAbsolute: every path of this machine carried into a printed
// command (--persist, --mountinfo, a path flake reference) is absolute;
// standard input is left out, other flake references and the audited
// system's paths (--home, --ephemeral) stay as given.
func TestArgsAbsolute(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	o := Options{Persist: []string{"a/x.nix", "-", "/abs/y.json"}, Mountinfo: "mi", Flake: ".#host", Homes: map[string]string{"alice": "/srv/alice"}, Ephemeral: []string{"/home"}}
	want := []string{"--persist", filepath.Join(wd, "a/x.nix"), "--persist", "/abs/y.json", "--flake", wd + "#host", "--mountinfo", filepath.Join(wd, "mi"), "--home", "alice=/srv/alice", "--ephemeral", "/home"}
	if got := o.args(); !slices.Equal(got, want) {
		t.Errorf("args\n%q\nwant\n%q", got, want)
	}
	for ref, want := range map[string]string{"path:../f#h": "path:" + filepath.Join(filepath.Dir(wd), "f") + "#h", "github:o/r#h": "github:o/r#h", "nixpkgs#h": "nixpkgs#h", "/etc/nixos#h": "/etc/nixos#h"} {
		if got := absFlake(ref); got != want {
			t.Errorf("absFlake(%q) = %q, want %q", ref, got, want)
		}
	}
}
