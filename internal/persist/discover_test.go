package persist

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestDiscover(t *testing.T) {
	root := t.TempDir()
	write := func(rel, text string) {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("etc/nixos/configuration.nix", `{ ... }: { imports = [ ./impermanence.nix ]; }`)
	write("etc/nixos/impermanence.nix", `{ environment.persistence."/persist".directories = [ "/var/lib/nixos" ]; }`)
	write("etc/nixos/hosts/a/default.nix", `{ preservation.enable = true; preservation.preserveAt."/persist".files = [ "/etc/machine-id" ]; }`)
	write("etc/nixos/.git/x.nix", `{ environment.persistence."/persist".directories = [ "/hidden" ]; }`)
	write("etc/nixos/a/b/c/d/e/deep.nix", `{ environment.persistence."/persist".directories = [ "/too-deep" ]; }`)
	if err := os.Symlink(filepath.Join(root, "etc/nixos/hosts"), filepath.Join(root, "etc/nixos/link")); err != nil {
		t.Fatal(err)
	}
	set, files, err := Discover(root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join(root, "etc/nixos/hosts/a/default.nix"), filepath.Join(root, "etc/nixos/impermanence.nix")}
	if !slices.Equal(files, want) {
		t.Errorf("files %q, want %q", files, want)
	}
	var paths []string
	for _, e := range set.Entries {
		paths = append(paths, e.Path)
	}
	slices.Sort(paths)
	if !slices.Equal(paths, []string{"/etc/machine-id", "/var/lib/nixos"}) {
		t.Errorf("paths %q", paths)
	}
	// No etc/nixos: an empty set, not an error.
	set, files, err = Discover(t.TempDir(), Options{})
	if err != nil || len(set.Entries) != 0 || len(files) != 0 {
		t.Errorf("empty root: %v %v %v", set, files, err)
	}
}

// TestDiscoverDeclarationsFile: etc/drift/declarations.json (written by the
// services.drift module) wins over etc/nixos, is read through NixOS's
// absolute /etc/static and /nix/store links resolved inside root (never the
// host's), and is an error when malformed or not a regular file.
func TestDiscoverDeclarationsFile(t *testing.T) {
	root := t.TempDir()
	write := func(rel, text string) {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	link := func(target, rel string) {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
	}
	write("etc/nixos/impermanence.nix", `{ environment.persistence."/persist".directories = [ "/from-nixos" ]; }`)
	// What the module writes: impermanence's evaluated map and preservation's
	// preserveAt, by storage path.
	write("nix/store/aaaa-etc/etc/drift/declarations.json", `{
  "/persist": {"enable": true, "persistentStoragePath": "/persist", "hideMounts": false,
    "directories": [{"directory": "/var/lib/nixos", "dirPath": "/var/lib/nixos", "persistentStoragePath": "/persist", "user": "root", "group": "root", "mode": "0755"}],
    "files": [], "users": {}},
  "/state": {"commonMountOptions": [], "directories": [{"directory": "/var/lib/state", "how": "bindmount", "user": "root", "group": "root", "mode": "0755"}], "files": [], "users": {}}
}`)
	link("/nix/store/aaaa-etc/etc", "etc/static")
	link("/etc/static/drift/declarations.json", "etc/drift/declarations.json")
	set, files, err := Discover(root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{filepath.Join(root, "etc/drift/declarations.json")}; !slices.Equal(files, want) {
		t.Errorf("files %q, want %q", files, want)
	}
	var paths []string
	for _, e := range set.Entries {
		paths = append(paths, e.StoragePath+":"+e.Path)
	}
	slices.Sort(paths)
	if !slices.Equal(paths, []string{"/persist:/var/lib/nixos", "/state:/var/lib/state"}) {
		t.Errorf("paths %q", paths)
	}

	// Malformed: an error naming the file, line and column.
	if err := os.Remove(filepath.Join(root, "etc/static")); err != nil {
		t.Fatal(err)
	}
	write("etc/static/drift/declarations.json", "{\n  \"/persist\": [1,\n")
	if _, _, err := Discover(root, Options{}); err == nil || !strings.Contains(err.Error(), "etc/drift/declarations.json:3:1: expected a JSON value") {
		t.Errorf("malformed file: %v", err)
	}
	// A directory there is not read as declarations.
	os.RemoveAll(filepath.Join(root, "etc/drift"))
	if err := os.MkdirAll(filepath.Join(root, "etc/drift/declarations.json"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Discover(root, Options{}); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("directory: %v", err)
	}
	// Gone: back to etc/nixos.
	os.RemoveAll(filepath.Join(root, "etc/drift"))
	set, files, err = Discover(root, Options{})
	if err != nil || len(files) != 1 || len(set.Entries) != 1 || set.Entries[0].Path != "/from-nixos" {
		t.Errorf("without the file: %v %q %v", set, files, err)
	}
}
