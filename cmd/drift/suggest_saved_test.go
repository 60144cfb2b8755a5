package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/persist"
	"github.com/nix-drift/drift/internal/testutil"
)

// TestSuggestNixCommandsRunOnceSaved: drift suggest --format nix says
// where to save its module and to import it; done as it says, the drift
// adopt it prints "once saved there" runs as printed and copies every
// suggested path into persistent storage, however the declarations were
// named. A fresh user saved the module next to the configuration and
// imported it there: the printed adopt named only the file --persist had
// named (impermanence.nix, which does not import the new module), and
// refused each path as declared by nothing (exit 2). So it did on a
// system whose declarations are the module's declarations.json, which no
// import changes before the next switch. Imported by the very file
// --persist names, the module is read once: no path is declared twice.
//
// Then a second round, after the switch: new state, suggest again, and
// its instructions followed the same way. A tester found the second
// round told to save over persist-suggested.nix, the first round's
// module, imported and holding the host keys' declarations: done as told,
// the next boot would hide them. The second round's module goes into a
// new file (persist-suggested-2.nix), the first one is named to be left
// alone, it is left byte for byte, every declaration of both rounds is
// still read through the configuration, none twice (impermanence refuses
// a path declared twice: where the declarations read do not include the
// first module, its paths are not suggested again), and the second
// round's printed adopt runs as printed.
func TestSuggestNixCommandsRunOnceSaved(t *testing.T) {
	for _, tc := range []struct {
		name string
		// persist is the --persist file below the system's directory
		// ("": none, declarations.json is read); importer the file that
		// imports the saved module, relative to the directory the module
		// is saved in.
		persist, importer string
	}{
		{"imported by the configuration", "cfg/impermanence.nix", "configuration.nix"},
		{"imported by the --persist file", "cfg/impermanence.nix", "impermanence.nix"},
		{"declarations.json", "", "configuration.nix"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			root := filepath.Join(dir, "root")
			testutil.Tree(t, root, `f /var/lib/app/data live
f /srv/site/index.html hello
f /nix/persist/var/log/.keep
f /etc/drift/declarations.json { "/nix/persist": { "directories": [ "/var/log" ] } }
f /etc/nixos/configuration.nix { imports = [ ]; }`)
			testutil.Tree(t, dir, `f /cfg/impermanence.nix { environment.persistence."/nix/persist".directories = [ "/var/log" ]; }
f /cfg/configuration.nix { imports = [ ./impermanence.nix ]; }`)
			testutil.Must(t, os.WriteFile(filepath.Join(dir, "mountinfo"), []byte(`22 1 0:20 / / rw - tmpfs none rw
27 22 0:31 /nix /nix rw - btrfs /dev/vda2 rw,subvol=/nix
28 27 0:31 /persist /nix/persist rw - btrfs /dev/vda2 rw,subvol=/persist
40 22 0:31 /persist/var/log /var/log rw - btrfs /dev/vda2 rw
`), 0o644))
			// The configuration lies on the root for the set-up read from
			// declarations.json: not state to suggest (a real one is
			// persisted, and mounted again at each boot).
			args := []string{"suggest", "--format", "nix", "--root", root, "--mountinfo", filepath.Join(dir, "mountinfo"), "--ignore", "/etc/nixos", "--ignore", "/etc/drift"}
			if tc.persist != "" {
				args = append(args, "--persist", filepath.Join(dir, tc.persist))
			}
			saved1, importer, _ := followSuggestRound(t, dir, root, args, tc.importer, nil,
				map[string]string{"var/lib/app/data": "live", "srv/site/index.html": "hello"})
			if filepath.Base(saved1) != "persist-suggested.nix" {
				t.Errorf("round 1 saves its module as %s, want persist-suggested.nix", saved1)
			}
			round1, err := os.ReadFile(saved1)
			testutil.Must(t, err)

			// The switch: declarations.json now holds round 1's too. Then
			// new state, and the second round.
			testutil.Must(t, os.WriteFile(filepath.Join(root, "etc/drift/declarations.json"), []byte(`{ "/nix/persist": { "directories": [ "/var/log", "/var/lib/app", "/srv/site" ] } }`), 0o644))
			testutil.Tree(t, root, `f /var/lib/other/db second`)
			saved2, _, out := followSuggestRound(t, dir, root, args, tc.importer, []string{saved1},
				map[string]string{"var/lib/other/db": "second"})
			// Where impermanence.nix, read alone, does not import round 1's
			// module, its paths look undeclared: they are left to the user,
			// saying why, not suggested again.
			want := "# left to you: 4 paths (/srv/site, /var/lib/app, …): declared by an earlier module of drift suggest"
			if got, wantLeft := strings.Contains(out, want), tc.persist != "" && tc.importer == "configuration.nix"; got != wantLeft {
				t.Errorf("round 2 says %q: %v, want %v:\n%s", want, got, wantLeft, out)
			}
			if saved2 != filepath.Join(filepath.Dir(saved1), "persist-suggested-2.nix") {
				t.Errorf("round 2 saves its module as %s, want persist-suggested-2.nix beside %s", saved2, saved1)
			}
			if b, err := os.ReadFile(saved1); err != nil || string(b) != string(round1) {
				t.Errorf("round 1's module after round 2 (%v):\n%s\nwant it as saved:\n%s", err, b, round1)
			}
			set, _, err := persist.Load(context.Background(), root, []string{importer}, "", nil, persist.Options{})
			testutil.Must(t, err)
			var declared []string
			for _, e := range set.Entries {
				declared = append(declared, e.Path)
			}
			for _, p := range []string{"/var/lib/app", "/srv/site", "/var/lib/other"} {
				if !slices.Contains(declared, p) {
					t.Errorf("after two rounds, %s (importing both modules) declares %q: not %s", importer, declared, p)
				}
			}
			// Declared twice, impermanence refuses the configuration.
			for _, d := range set.Duplicates {
				t.Errorf("after two rounds, %s declares %s %d more times", importer, d.Entry().Path, d.N)
			}
		})
	}
}

// followSuggestRound runs drift suggest (args, --format nix) and does what
// its output says: saves the module where it says (a file that must not
// hold anything yet, beside the files taken, named to be left alone),
// adds it to the imports of importer (relative to the module's
// directory), and runs the printed drift adopt, which must copy the
// files of copied (below root/nix/persist, with their contents). It
// returns the module's file, the importer's and suggest's output.
func followSuggestRound(t *testing.T, dir, root string, args []string, importer string, taken []string, copied map[string]string) (saved, importerPath, out string) {
	t.Helper()
	code, out, errs := runDrift(t, args...)
	if code != 0 {
		t.Fatalf("suggest: exit %d\n%s", code, errs)
	}
	_, table, _ := runDrift(t, append([]string{"suggest"}, args[3:]...)...)
	m := regexp.MustCompile(`(?m)^# Save it as (\S+) and add it to the imports of your configuration(.*)\.$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("suggest does not say where to save its module:\n%s", out)
	}
	saved = m[1]
	if !strings.HasPrefix(saved, dir+"/") {
		t.Fatalf("suggest asks to save its module as %s, outside the system's directory %s", saved, dir)
	}
	if fi, err := os.Lstat(saved); err == nil && fi.Size() > 0 {
		t.Fatalf("suggest asks to save its module as %s, which holds %d bytes already:\n%s", saved, fi.Size(), out)
	}
	wantTaken := ""
	if len(taken) > 0 {
		wantTaken = " (a new file: " + strings.Join(taken, ", ") + " exist already; leave them as they are)"
		if len(taken) == 1 {
			wantTaken = " (a new file: " + taken[0] + " exists already; leave it as it is)"
		}
	}
	if m[2] != wantTaken {
		t.Errorf("suggest says %q after where to save its module, want %q", m[2], wantTaken)
	}
	testutil.Must(t, os.WriteFile(saved, []byte(out), 0o644))
	importer = filepath.Join(filepath.Dir(saved), importer)
	text, err := os.ReadFile(importer)
	testutil.Must(t, err)
	imported := strings.Replace(string(text), "imports = [", "imports = [ ./"+filepath.Base(saved), 1)
	if imported == string(text) {
		imported = strings.Replace(imported, "{", "{ imports = [ ./"+filepath.Base(saved)+" ]; ", 1)
	}
	testutil.Must(t, os.WriteFile(importer, []byte(imported), 0o644))

	m = regexp.MustCompile(`(?m)^# Once saved there, copy what is there now into persistent storage \(before the next reboot\):\n#   (drift adopt .+)$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no drift adopt for once the module is saved:\n%s", out)
	}
	for p := range copied {
		p = "/" + strings.Join(strings.Split(p, "/")[:len(strings.Split(p, "/"))-1], "/")
		if !strings.HasSuffix(m[1], " "+p) && !strings.Contains(m[1], " "+p+" ") {
			t.Errorf("%s does not adopt %s", m[1], p)
		}
	}
	// The table's line gives the same command, naming the file.
	if want := "once declared (the module drift suggest --format nix prints, saved as " + saved + "), copy what is there now into persistent storage (before the next reboot): " + m[1] + "\n"; !strings.Contains(table, want) {
		t.Errorf("the table does not say %q:\n%s", want, table)
	}
	code, aout, errs := runDrift(t, strings.Fields(strings.TrimPrefix(m[1], "drift "))...) // test paths hold no quoted words
	if code != 0 {
		t.Fatalf("%s: exit %d\n%s%s", m[1], code, aout, errs)
	}
	if errs != "" {
		t.Errorf("%s: warned:\n%s", m[1], errs)
	}
	for p, want := range copied {
		if b, err := os.ReadFile(filepath.Join(root, "nix/persist", p)); string(b) != want {
			t.Errorf("after %s: /nix/persist/%s holds %q (%v), want %q", m[1], p, b, err, want)
		}
	}
	return saved, importer, out
}
