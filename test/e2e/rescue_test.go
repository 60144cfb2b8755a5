package e2e

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestRescueMountReadsPersistedNixos: a rescue system mounts the root
// subvolume alone at R, then /nix and /nix/persist below it. /etc/nixos is
// persisted (bind-mounted from /nix/persist/etc/nixos at boot), so
// R/etc/nixos is the empty mount point: drift check --root R without
// --persist reads R/nix/persist/etc/nixos and says so; without the
// persistent storage mounted, it says where it looked and what to mount.
func TestRescueMountReadsPersistedNixos(t *testing.T) {
	s := driftSystem(t)
	if s == nil {
		return // the test ran in a private mount namespace
	}
	writeFile(t, s.M("/etc/nixos/impermanence.nix"), `{
  environment.persistence."/nix/persist" = {
    directories = [ "/etc/nixos" "/srv/kept" ];
    files = [ "/etc/machine-id" ];
  };
}
`, 0o644) // through the bind mount: on persistent storage
	writeFile(t, s.M("/srv/kept/data"), "declared, on the root", 0o644)
	writeFile(t, s.M("/srv/lost/data"), "not declared", 0o644)

	// Shut down; the rescue system mounts the root subvolume, then the
	// subvolumes holding the persistent storage.
	s.unmountBelow(s.root)
	run(t, "mount", "-o", "subvol=root", s.dev, s.root)
	if names := readDirNames(t, s.M("/etc/nixos")); len(names) != 0 {
		t.Fatalf("R/etc/nixos on the root subvolume holds %q, want the empty mount point", names)
	}
	run(t, "mount", "-o", "subvol=nix", s.dev, s.M("/nix"))
	run(t, "mount", "-o", "subvol=persist", s.dev, s.M("/nix/persist"))

	code, out, errOut := s.driftAll("check", "--root", s.root, "--verbose", "--format", "json", "--old-roots", "none")
	if code != 1 {
		t.Fatalf("drift check --root R: exit %d, want 1\n%s", code, errOut)
	}
	for _, want := range []string{
		"drift: info: " + s.M("/etc/nixos") + " holds no declarations (no .nix file): read its persisted copy " + s.M("/nix/persist/etc/nixos") + " instead\n",
		"drift: declarations from " + s.M("/nix/persist/etc/nixos/impermanence.nix") + "\n",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	var r struct{ Items []checkRow }
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("drift check --format json: %v\n%s", err, out)
	}
	cats := map[string]string{}
	for _, it := range r.Items {
		cats[it.Path] = it.Category
	}
	if cats["/srv/lost/"] != "unpersisted" && cats["/srv/lost"] != "unpersisted" {
		t.Errorf("/srv/lost: rows %v, want unpersisted", cats)
	}
	for p, c := range cats {
		if strings.HasPrefix(p, "/srv/kept") && c == "unpersisted" {
			t.Errorf("%s is unpersisted: the declarations of the persisted copy were not applied (%v)", p, cats)
		}
	}

	// The persistent storage not mounted: where drift looked, what to do.
	run(t, "umount", s.M("/nix/persist"))
	code, _, errOut = s.driftAll("check", "--root", s.root, "--old-roots", "none")
	if code != 2 {
		t.Errorf("no declarations: exit %d, want 2 (not impermanent)", code)
	}
	for _, want := range []string{
		"drift: warning: no persistence declarations found: no " + s.M("/etc/drift/declarations.json") + ", no .nix file mentioning persistence or preserveAt in " + s.M("/etc/nixos") + " (no .nix file), nor in a persisted copy of it: ",
		"drift: hint: on a rescue system, mount the persistent storage where the system mounts it (" + s.M("/nix/persist") + ", ",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
}
