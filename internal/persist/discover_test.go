package persist

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/nix-drift/drift/internal/testutil"
)

func TestDiscover(t *testing.T) {
	root := t.TempDir()
	write := func(rel, text string) { testutil.WriteFile(t, filepath.Join(root, rel), text) }
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
	// configuration.nix imports impermanence.nix: it is part of the
	// configuration, read for the options it sets. hosts/a/default.nix,
	// which it does not import, is not read (nixos-rebuild does not read
	// it), and a warning names it.
	want := []string{filepath.Join(root, "etc/nixos/configuration.nix"), filepath.Join(root, "etc/nixos/impermanence.nix")}
	if !slices.Equal(files, want) {
		t.Errorf("files %q, want %q", files, want)
	}
	var paths []string
	for _, e := range set.Entries {
		paths = append(paths, e.Path)
	}
	slices.Sort(paths)
	if !slices.Equal(paths, []string{"/var/lib/nixos"}) {
		t.Errorf("paths %q", paths)
	}
	if !slices.ContainsFunc(set.Diagnostics, func(d Diagnostic) bool {
		return d.Severity == Warning && strings.Contains(d.Message, "hosts/a/default.nix not imported by "+filepath.Join(root, "etc/nixos/configuration.nix"))
	}) {
		t.Errorf("no warning naming hosts/a/default.nix: %v", set.Diagnostics)
	}
	// With a flake beside it, nixos-rebuild evaluates the flake: the
	// modules its hosts list (every host's: which one this is is not
	// known statically) and what they import count, nothing else.
	write("etc/nixos/flake.nix", `{ outputs = { nixpkgs, ... }: {
  nixosConfigurations.a = nixpkgs.lib.nixosSystem { modules = [ ./configuration.nix ]; };
  nixosConfigurations.b = nixpkgs.lib.nixosSystem { modules = [ ./hosts/a ]; };
}; }`)
	set, files, err = Discover(root, Options{})
	if err != nil || len(files) != 3 || len(set.Entries) != 2 {
		t.Errorf("with flake.nix: files %q, %d entries, %v; want the files of both hosts", files, len(set.Entries), err)
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
	write := func(rel, text string) { testutil.WriteFile(t, filepath.Join(root, rel), text) }
	link := func(target, rel string) { testutil.Symlink(t, target, filepath.Join(root, rel)) }
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

// TestDiscoverSymlinks: links under etc/nixos — etc/nixos itself linked to
// persistent storage (a common impermanence setup), linked .nix files and
// directories — are followed inside root and read; a link that does not
// resolve inside root (dangling, or pointing at the host outside root) is a
// warning naming it, and nothing outside root is read.
func TestDiscoverSymlinks(t *testing.T) {
	host := t.TempDir()
	root := filepath.Join(host, "root")
	write := func(p, text string) { testutil.WriteFile(t, p, text) }
	link := func(target, rel string) { testutil.Symlink(t, target, filepath.Join(root, rel)) }
	decl := func(dir string) string {
		return `{ environment.persistence."/persist".directories = [ "` + dir + `" ]; }`
	}
	persisted := filepath.Join(root, "nix/persist/etc/nixos")
	write(filepath.Join(persisted, "impermanence.nix"), decl("/var/lib/nixos"))
	write(filepath.Join(root, "srv/shared/users.nix"), decl("/var/lib/users"))
	write(filepath.Join(root, "srv/shared/modules/extra.nix"), decl("/var/lib/extra"))
	// On the host, outside root: never read.
	write(filepath.Join(host, "evil.nix"), decl("/host-file"))
	link("/nix/persist/etc/nixos", "etc/nixos")
	link("/srv/shared/users.nix", "nix/persist/etc/nixos/users.nix")           // absolute, inside root
	link("../../../../srv/shared/modules", "nix/persist/etc/nixos/modules")    // relative directory
	link("impermanence.nix", "nix/persist/etc/nixos/alias.nix")                // the same file again
	link(".", "nix/persist/etc/nixos/loop")                                    // a loop
	link(filepath.Join(host, "evil.nix"), "nix/persist/etc/nixos/host.nix")    // the host's path: not inside root
	link("../../../../../../../evil.nix", "nix/persist/etc/nixos/escape.nix")  // .. stops at root
	link("/nix/store/gone-hardware.nix", "nix/persist/etc/nixos/hardware.nix") // dangling

	set, files, err := Discover(root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		filepath.Join(root, "etc/nixos/impermanence.nix"),
		filepath.Join(root, "etc/nixos/modules/extra.nix"),
		filepath.Join(root, "etc/nixos/users.nix"),
	}
	if !slices.Equal(files, want) {
		t.Errorf("files %q, want %q", files, want)
	}
	var paths []string
	for _, e := range set.Entries {
		paths = append(paths, e.Path)
	}
	slices.Sort(paths)
	if !slices.Equal(paths, []string{"/var/lib/extra", "/var/lib/nixos", "/var/lib/users"}) {
		t.Errorf("paths %q", paths)
	}
	var warned []string
	for _, d := range set.Diagnostics {
		if d.Severity == Warning {
			warned = append(warned, d.String())
		}
	}
	for _, w := range []string{
		filepath.Join(root, "etc/nixos/escape.nix") + ": warning: a symbolic link to ../../../../../../../evil.nix, which does not resolve inside " + root + ": not read",
		filepath.Join(root, "etc/nixos/hardware.nix") + ": warning: a symbolic link to /nix/store/gone-hardware.nix, which does not resolve inside " + root + ": not read",
		filepath.Join(root, "etc/nixos/host.nix") + ": warning: a symbolic link to " + filepath.Join(host, "evil.nix") + ", which does not resolve inside " + root + ": not read",
	} {
		if !slices.Contains(warned, w) {
			t.Errorf("no warning %q in %q", w, warned)
		}
	}
	if len(warned) != 3 {
		t.Errorf("warnings %q, want 3", warned)
	}

	// etc/nixos linked to persistent storage that is not mounted under
	// root: a warning naming the link and its target, and no declarations.
	if err := os.RemoveAll(filepath.Join(root, "nix")); err != nil {
		t.Fatal(err)
	}
	set, files, err = Discover(root, Options{})
	if err != nil || len(files) != 0 || len(set.Entries) != 0 {
		t.Fatalf("unmounted: %v %q %v", set, files, err)
	}
	if len(set.Diagnostics) != 2 || set.Diagnostics[0].String() != filepath.Join(root, "etc/nixos")+": warning: a symbolic link to /nix/persist/etc/nixos, which does not resolve inside "+root+": the .nix files there are not read" ||
		!strings.Contains(set.Diagnostics[0].Hint, "mount the system's /nix at "+filepath.Join(root, "nix")) {
		t.Errorf("unmounted: diagnostics %q", set.Diagnostics)
	}
	// Then where drift looked: no persisted copy either.
	if len(set.Diagnostics) == 2 && !strings.Contains(set.Diagnostics[1].String(), "warning: no persistence declarations found: no "+filepath.Join(root, "etc/drift/declarations.json")+", no .nix file mentioning persistence or preserveAt in "+filepath.Join(root, "etc/nixos")+" (a link that does not resolve inside "+root+"), nor in a persisted copy of it: none of "+root+"/{nix/persist,") {
		t.Errorf("unmounted: where drift looked: %q", set.Diagnostics[1])
	}
}

// TestDiscoverDanglingDeclarationsFile: etc/drift/declarations.json linked
// through /etc/static into a /nix/store that is not mounted under root (a
// rescue system) is a warning naming the link and its target, and the
// fallback to etc/nixos says so.
func TestDiscoverDanglingDeclarationsFile(t *testing.T) {
	root := t.TempDir()
	testutil.WriteFile(t, filepath.Join(root, "etc/nixos/impermanence.nix"), `{ environment.persistence."/persist".directories = [ "/from-nixos" ]; }`)
	testutil.Symlink(t, "/nix/store/aaaa-etc/etc", filepath.Join(root, "etc/static"))
	testutil.Symlink(t, "/etc/static/drift/declarations.json", filepath.Join(root, DeclarationsFile))
	set, files, err := Discover(root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 1 || len(set.Entries) != 1 || set.Entries[0].Path != "/from-nixos" {
		t.Errorf("fallback: %q %v", files, set.Entries)
	}
	want := filepath.Join(root, DeclarationsFile) + ": warning: a symbolic link to /etc/static/drift/declarations.json, which does not resolve inside " + root +
		": reading the .nix files under " + filepath.Join(root, "etc/nixos") + " instead, which may declare a different set"
	if len(set.Diagnostics) != 1 || set.Diagnostics[0].String() != want || !strings.Contains(set.Diagnostics[0].Hint, "mount the system's /nix at "+filepath.Join(root, "nix")) {
		t.Errorf("diagnostics %q, want %q", set.Diagnostics, want)
	}
	// A link loop there is the same warning, not an error.
	os.Remove(filepath.Join(root, "etc/static"))
	testutil.Symlink(t, "/etc/static", filepath.Join(root, "etc/static"))
	if set, _, err = Discover(root, Options{}); err != nil {
		t.Errorf("loop: %v", err)
	} else if len(set.Diagnostics) != 1 || !strings.Contains(set.Diagnostics[0].Message, "does not resolve inside") {
		t.Errorf("loop: %q", set.Diagnostics)
	}
}

// TestDiscoverWithoutOpenat2: without openat2 (Linux < 5.6) links under
// another root are not followed — and each says so.
func TestDiscoverWithoutOpenat2(t *testing.T) {
	root := t.TempDir()
	testutil.WriteFile(t, filepath.Join(root, "persist/etc/nixos/impermanence.nix"), `{ environment.persistence."/p".directories = [ "/a" ]; }`)
	testutil.Symlink(t, "/persist/etc/nixos", filepath.Join(root, "etc/nixos"))
	r, err := openRoot(root)
	if err != nil {
		t.Fatal(err)
	}
	defer r.close()
	r.plain = true
	w := &nixosWalk{r: r, seen: map[FileID]bool{}}
	if err := w.dir(nixosDir, 0); err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(root, "etc/nixos") + ": warning: a symbolic link to /persist/etc/nixos, which is not followed under another root without openat2(2) (Linux 5.6): the .nix files there are not read"
	if len(w.found) != 0 || len(w.diags) != 1 || w.diags[0].String() != want {
		t.Errorf("found %v, diagnostics %q, want %q", w.found, w.diags, want)
	}
}

// TestDiscoverPersistedCopy: a rescue mount of a root whose /etc/nixos is
// itself persisted has no ROOT/etc/nixos (or an empty mount point there):
// Discover reads ROOT/STORAGE/etc/nixos instead, the usual storage paths
// first, then any directory under ROOT or ROOT/nix holding etc/nixos, and
// says so; ROOT/etc/nixos wins when it declares something; with nothing
// anywhere, a warning says where it looked.
func TestDiscoverPersistedCopy(t *testing.T) {
	decl := func(p string) string {
		return `{ environment.persistence."/nix/persist".directories = [ "` + p + `" ]; }`
	}
	discover := func(root string) ([]string, []string, []Diagnostic) {
		t.Helper()
		set, files, err := Discover(root, Options{})
		if err != nil {
			t.Fatal(err)
		}
		var paths []string
		for _, e := range set.Entries {
			paths = append(paths, e.Path)
		}
		return paths, files, set.Diagnostics
	}
	for _, tc := range []struct {
		name  string
		files map[string]string
		dirs  []string
		want  string // the declared path read
		from  string // the file it came from, below root
		what  string // what the info says about etc/nixos
	}{
		{"missing", map[string]string{"nix/persist/etc/nixos/impermanence.nix": decl("/a")}, nil, "/a", "nix/persist/etc/nixos/impermanence.nix", "missing"},
		{"empty mount point", map[string]string{"persist/etc/nixos/configuration.nix": decl("/b")}, []string{"etc/nixos"}, "/b", "persist/etc/nixos/configuration.nix", "no .nix file"},
		{"known paths first", map[string]string{"persist/etc/nixos/x.nix": decl("/c"), "nix/persist/etc/nixos/x.nix": decl("/d"), "aaa/etc/nixos/x.nix": decl("/e")}, nil, "/d", "nix/persist/etc/nixos/x.nix", "missing"},
		{"other storage path", map[string]string{"etc/nixos/hardware.nix": "{ }", "data/etc/nixos/x.nix": decl("/f")}, nil, "/f", "data/etc/nixos/x.nix", "its one .nix file mentions neither persistence nor preserveAt"},
		{"under nix", map[string]string{"nix/keep/etc/nixos/x.nix": decl("/g")}, nil, "/g", "nix/keep/etc/nixos/x.nix", "missing"},
		{"etc/nixos declares", map[string]string{"etc/nixos/x.nix": decl("/live"), "nix/persist/etc/nixos/x.nix": decl("/stale")}, nil, "/live", "etc/nixos/x.nix", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			for rel, text := range tc.files {
				testutil.WriteFile(t, filepath.Join(root, rel), text)
			}
			for _, d := range tc.dirs {
				if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			paths, files, diags := discover(root)
			if !slices.Equal(paths, []string{tc.want}) || !slices.Equal(files, []string{filepath.Join(root, tc.from)}) {
				t.Errorf("paths %q from %q, want %q from %s", paths, files, tc.want, tc.from)
			}
			var want []string
			if tc.what != "" {
				want = []string{"info: " + filepath.Join(root, "etc/nixos") + " holds no declarations (" + tc.what + "): read its persisted copy " + filepath.Join(root, filepath.Dir(tc.from)) + " instead"}
			}
			var got []string
			for _, d := range diags {
				got = append(got, d.String())
			}
			if !slices.Equal(got, want) {
				t.Errorf("diagnostics %q, want %q", got, want)
			}
		})
	}

	// Nothing anywhere: where drift looked, the copies that exist included.
	root := t.TempDir()
	testutil.WriteFile(t, filepath.Join(root, "etc/nixos/configuration.nix"), "{ }")
	testutil.WriteFile(t, filepath.Join(root, "etc/nixos/hardware.nix"), "{ }")
	testutil.WriteFile(t, filepath.Join(root, "persist/etc/nixos/configuration.nix"), "{ }")
	paths, files, diags := discover(root)
	if len(paths) != 0 || len(files) != 0 || len(diags) != 1 {
		t.Fatalf("nothing declared: %q %q %q", paths, files, diags)
	}
	d := diags[0]
	if want := "warning: no persistence declarations found: no " + filepath.Join(root, "etc/drift/declarations.json") +
		", no .nix file mentioning persistence or preserveAt in " + filepath.Join(root, "etc/nixos") + " (none of its 2 .nix files mentions persistence or preserveAt), nor in a persisted copy of it: " +
		filepath.Join(root, "persist/etc/nixos") + " (no declarations)"; d.String() != want {
		t.Errorf("got  %s\nwant %s", d, want)
	}
	if !strings.HasPrefix(d.Hint, "on a rescue system, mount the persistent storage where the system mounts it ("+filepath.Join(root, "nix/persist")) {
		t.Errorf("hint %q", d.Hint)
	}
}

// TestDiscoverRefusesHugeAndFIFO: a .nix file under /etc/nixos larger than
// an input can be is named in the warning that nothing was read; a FIFO there is skipped (it is
// not opened: no hang), and a FIFO as the declarations file is an error
// naming it.
func TestDiscoverRefusesHugeAndFIFO(t *testing.T) {
	root := t.TempDir()
	nixos := filepath.Join(root, "etc/nixos")
	if err := os.MkdirAll(nixos, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(nixos, "fifo.nix"), 0o644); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(nixos, "big.nix")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(maxInput + 1); err != nil { // sparse
		t.Fatal(err)
	}
	f.Close()
	set, _, err := Discover(root, Options{})
	if err != nil || !strings.Contains(fmt.Sprint(set.Diagnostics), big+": larger than 64 MiB") {
		t.Errorf("huge .nix: err = %v, diagnostics %v", err, set.Diagnostics)
	}
	os.Remove(big)
	if _, _, err := Discover(root, Options{}); err != nil {
		t.Errorf("a FIFO under etc/nixos: %v", err)
	}
	decl := filepath.Join(root, DeclarationsFile)
	if err := os.MkdirAll(filepath.Dir(decl), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(decl, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Discover(root, Options{}); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("a FIFO as %s: err = %v", DeclarationsFile, err)
	}
}

// TestDiscoverReadsOnlyWhatConfigurationImports: a .nix file lying in
// /etc/nixos that configuration.nix does not import — an old copy of the
// persistence module, a draft — declares nothing the system has: left out,
// named in a warning (it counted as declarations, hiding what the next boot
// loses); a module imported through another one counts. An import that
// cannot be read statically keeps every file (what it imports is unknown).
func TestDiscoverReadsOnlyWhatConfigurationImports(t *testing.T) {
	root := t.TempDir()
	write := func(rel, text string) { testutil.WriteFile(t, filepath.Join(root, rel), text) }
	write("etc/nixos/configuration.nix", `{ ... }: { imports = [ ./modules ./hardware-configuration.nix ]; }`)
	write("etc/nixos/modules/default.nix", `{ imports = [ ./persist.nix ]; }`)
	write("etc/nixos/modules/persist.nix", `{ environment.persistence."/persist".directories = [ "/var/lib/nixos" ]; }`)
	write("etc/nixos/impermanence-old.nix", `{ environment.persistence."/persist".directories = [ "/srv" "/var/lib/old" ]; }`)
	write("etc/nixos/draft.nix", `{ environment.persistence."/persist".files = [ "/etc/machine-id" ]; }`)
	set, files, err := Discover(root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, e := range set.Entries {
		paths = append(paths, e.Path)
	}
	if !slices.Equal(paths, []string{"/var/lib/nixos"}) {
		t.Errorf("declared %q from %q, want only /var/lib/nixos", paths, files)
	}
	var warned []string
	for _, d := range set.Diagnostics {
		if d.Severity == Warning && strings.Contains(d.Message, "not imported by") {
			warned = append(warned, d.Message)
		}
	}
	if len(warned) != 1 || !strings.Contains(warned[0], "draft.nix") || !strings.Contains(warned[0], "impermanence-old.nix") {
		t.Errorf("warnings %q, want one naming draft.nix and impermanence-old.nix", warned)
	}
	// An import drift cannot follow statically: every file counts.
	write("etc/nixos/configuration.nix", `{ pkgs, ... }: { imports = [ ./modules (pkgs.callPackage ./x.nix { }) ]; }`)
	set, _, err = Discover(root, Options{})
	if err != nil || len(set.Entries) != 4 {
		t.Errorf("with a computed import: %d entries, %v; want all 4", len(set.Entries), err)
	}
}

// TestDiscoverFlakeKeepsItsModules: with /etc/nixos/flake.nix, the
// declaring files counted are those the flake's hosts' modules reach
// through imports; one nothing imports (a module drift suggest saved,
// persist-suggested-2.nix, whose import the user removed) is not read and
// a warning names it, as without the flake. It counted before, so check
// said its paths were declared and nothing would be lost at the next
// boot. A module the flake lists by a computed expression leaves what it
// imports unknown: every file counts, and a warning names those not
// reached.
func TestDiscoverFlakeKeepsItsModules(t *testing.T) {
	root := t.TempDir()
	write := func(rel, text string) { testutil.WriteFile(t, filepath.Join(root, rel), text) }
	write("etc/nixos/flake.nix", `{ outputs = { nixpkgs, impermanence, ... }: {
  nixosConfigurations.desk = nixpkgs.lib.nixosSystem { modules = [ ./configuration.nix impermanence.nixosModules.impermanence ]; };
}; }`)
	write("etc/nixos/configuration.nix", `{ ... }: { imports = [ ./persist.nix ./persist-suggested.nix ]; }`)
	write("etc/nixos/persist.nix", `{ environment.persistence."/nix/persist".directories = [ "/var/lib/nixos" ]; }`)
	write("etc/nixos/persist-suggested.nix", `{ environment.persistence."/nix/persist".directories = [ "/srv/r1" ]; }`)
	write("etc/nixos/persist-suggested-2.nix", `{ environment.persistence."/nix/persist".directories = [ "/srv/r2" ]; }`)
	declared := func(set *Set) []string {
		var paths []string
		for _, e := range set.Entries {
			paths = append(paths, e.Path)
		}
		slices.Sort(paths)
		return paths
	}
	warning := func(set *Set, part string) bool {
		return slices.ContainsFunc(set.Diagnostics, func(d Diagnostic) bool {
			return d.Severity == Warning && strings.Contains(d.Message, part)
		})
	}
	set, files, err := Discover(root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := declared(set); !slices.Equal(got, []string{"/srv/r1", "/var/lib/nixos"}) {
		t.Errorf("declared %q (files %q), want /srv/r1 and /var/lib/nixos: persist-suggested-2.nix is imported by nothing", got, files)
	}
	if slices.Contains(files, filepath.Join(root, "etc/nixos/persist-suggested-2.nix")) {
		t.Errorf("persist-suggested-2.nix read: %q", files)
	}
	if !warning(set, "persist-suggested-2.nix not imported by "+filepath.Join(root, "etc/nixos/flake.nix")+"'s hosts' modules") {
		t.Errorf("no warning naming persist-suggested-2.nix: %v", set.Diagnostics)
	}
	// Imported: read, and no warning.
	write("etc/nixos/configuration.nix", `{ ... }: { imports = [ ./persist.nix ./persist-suggested.nix ./persist-suggested-2.nix ]; }`)
	set, _, err = Discover(root, Options{})
	if err != nil || !slices.Equal(declared(set), []string{"/srv/r1", "/srv/r2", "/var/lib/nixos"}) || warning(set, "not imported by") {
		t.Errorf("imported: declared %q, %v, diagnostics %v", declared(set), err, set.Diagnostics)
	}
	// A host's module drift cannot follow: every file counts, said.
	write("etc/nixos/configuration.nix", `{ ... }: { imports = [ ./persist.nix ]; }`)
	write("etc/nixos/flake.nix", `{ outputs = { self, nixpkgs, ... }: {
  nixosConfigurations.desk = nixpkgs.lib.nixosSystem { modules = [ ./configuration.nix self.nixosModules.extra ]; };
}; }`)
	set, _, err = Discover(root, Options{})
	if err != nil || len(declared(set)) != 3 {
		t.Errorf("with a module not followed: declared %q, %v; want all 3", declared(set), err)
	}
	if !warning(set, "persist-suggested-2.nix, "+filepath.Join(root, "etc/nixos/persist-suggested.nix")+" not reached from") || !warning(set, "flake.nix:2:88 is not followed: read all the same") {
		t.Errorf("with a module not followed: no warning naming the files not reached: %v", set.Diagnostics)
	}
	// Hosts built by a function (no modules list of paths), or a
	// host's modules named outside a modules list: what the hosts
	// evaluate is not known, so every file counts, said. A file the
	// flake reads (a key) is no module: the flake's modules decide.
	for _, tc := range []struct{ flake, warn string }{
		{`{ outputs = { mylib, ... }: { nixosConfigurations.desk = mylib.mkHost "desk"; }; }`, "flake.nix lists no module by a path"},
		{`{ outputs = { nixpkgs, mylib, ... }: {
  nixosConfigurations.desk = nixpkgs.lib.nixosSystem { modules = [ ./configuration.nix ]; };
  nixosConfigurations.laptop = mylib.mkHost ./hosts/laptop;
}; }`, "./hosts/laptop at " + filepath.Join(root, "etc/nixos/flake.nix") + ":3:45 is named outside a modules list"},
		{`{ outputs = { nixpkgs, ... }: {
  nixosConfigurations.desk = nixpkgs.lib.nixosSystem { modules = [ ./configuration.nix { users.users.a.openssh.authorizedKeys.keys = [ (builtins.readFile ./key.pub) ]; } ]; };
}; }`, ""},
	} {
		write("etc/nixos/flake.nix", tc.flake)
		set, _, err = Discover(root, Options{})
		want := 3
		if tc.warn == "" {
			want = 1
		}
		if err != nil || len(declared(set)) != want || tc.warn != "" && (!warning(set, "not reached from") || !warning(set, tc.warn)) {
			t.Errorf("flake %s: declared %q, %v; want %d; diagnostics %v", tc.flake, declared(set), err, want, set.Diagnostics)
		}
	}
}
