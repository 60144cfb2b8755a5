package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/testutil"
)

// TestSuggestWritesForTheModuleInUse: a field report ran drift suggest
// --format nix on a configuration that declares with preservation only
// and got impermanence's environment.persistence, an option that
// configuration does not have (nixos-rebuild refuses it). The module is
// now preservation.preserveAt, and drift lint of the configuration with
// the output finds nothing in the output. With both modules in use the
// output says which one it chose.
func TestSuggestWritesForTheModuleInUse(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	testutil.WriteFile(t, filepath.Join(root, "var/lib/app/db"), "data\n")
	testutil.Must(t, os.Chmod(filepath.Join(root, "var/lib/app"), 0o700))
	testutil.WriteFile(t, filepath.Join(root, "etc/machine-id"), "0123\n")
	testutil.WriteFile(t, filepath.Join(root, "home/alice/.config/app/s"), "y\n")
	testutil.Must(t, os.MkdirAll(filepath.Join(root, "persistent/var/log"), 0o755))
	testutil.Must(t, os.MkdirAll(filepath.Join(root, "var/log"), 0o755))
	mi := filepath.Join(dir, "mountinfo")
	testutil.WriteFile(t, mi, "22 1 0:20 / / rw - tmpfs none rw\n23 22 0:21 / /persistent rw - btrfs /dev/sda2 rw,subvol=/persistent\n"+
		"24 22 0:21 /var/log /var/log rw - btrfs /dev/sda2 rw,subvol=/persistent\n")
	const pres = `  preservation.enable = true;
  preservation.preserveAt."/persistent" = {
    directories = [ "/var/log" ];
    users.alice.directories = [ { directory = ".ssh"; mode = "0700"; } ];
  };
`
	suggestNix := func(config string) (conf, out string) {
		conf = filepath.Join(dir, "configuration.nix")
		testutil.WriteFile(t, conf, "{\n"+config+"}\n")
		code, out, errs := runDrift(t, "suggest", "--root", root, "--mountinfo", mi, "--persist", conf, "--old-roots", "none", "--format", "nix", "--quiet")
		if code != 0 {
			t.Fatalf("suggest: exit %d: %s", code, errs)
		}
		return conf, out
	}
	conf, out := suggestNix(pres)
	for _, want := range []string{"as a NixOS module for preservation (preservation.preserveAt)", `preservation.preserveAt."/persistent" = {`,
		`"/etc/machine-id"`, `"/var/lib/app"`, `users.alice = {`, `".config/app"`} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	if strings.Contains(out, "environment.persistence") || strings.Contains(out, "both") {
		t.Errorf("impermanence's option, or a note on both modules, for a preservation configuration:\n%s", out)
	}
	sug := filepath.Join(dir, "suggested.nix")
	testutil.WriteFile(t, sug, out)
	_, lout, lerrs := runDrift(t, "lint", "--fail-on", "info", conf, sug)
	if strings.Contains(lout, "suggested.nix") || strings.Contains(lerrs, "suggested.nix") {
		t.Errorf("drift lint of the configuration with the output finds something in the output:\n%s%s\n--- the output:\n%s", lout, lerrs, out)
	}
	if !strings.Contains(lout, "missing-var-lib-nixos") {
		t.Errorf("lint did not read the configuration with the output:\n%s", lout)
	}

	_, out = suggestNix(pres + `  environment.persistence."/nix/persist".directories = [ "/srv" ];` + "\n")
	if want := "# the configuration declares with both impermanence (1 entry) and preservation (2 entries): written for preservation, the module of most entries under /persistent."; !strings.Contains(out, want) ||
		!strings.Contains(out, `preservation.preserveAt."/persistent"`) {
		t.Errorf("with both modules, want preservation and the line %q:\n%s", want, out)
	}
}
