package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/testutil"
)

// TestAdoptWithMountinfoSaysItCannotLookBeneath: drift adopt of an
// undeclared file that a persistent subvolume's mount (/var/log) shows,
// with the mount table given by --mountinfo, said "not on a wiped
// filesystem (the mount at /var/log survives the wipe): it needs no
// declaration, and there is nothing to adopt". With an injected table
// drift cannot look beneath the mounts, and a file at that path on the
// wiped root beneath the mount is deleted at the next boot: it says so,
// and gives the adopt to run with the live mount table (without
// --mountinfo) and the bind mount that shows what lies beneath. The JSON
// says it too ("unseen": the flag).
func TestAdoptWithMountinfoSaysItCannotLookBeneath(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	testutil.Tree(t, root, "f /var/log/app.log on the subvolume\nd /nix/persist\n")
	mountinfo := filepath.Join(dir, "mountinfo")
	testutil.WriteFile(t, mountinfo, `22 1 0:31 /root / rw - btrfs /dev/vda2 rw,subvol=/root
27 22 0:31 /nix /nix rw - btrfs /dev/vda2 rw,subvol=/nix
28 27 0:31 /persist /nix/persist rw - btrfs /dev/vda2 rw,subvol=/persist
30 22 0:31 /log /var/log rw - btrfs /dev/vda2 rw,subvol=/log
`)
	decls := filepath.Join(dir, "p.nix")
	testutil.WriteFile(t, decls, `{ environment.persistence."/nix/persist".directories = [ "/srv" ]; }`)
	args := []string{"adopt", "--root", root, "--persist", decls, "--mountinfo", mountinfo, "--ephemeral", "/", "--dry-run", "/var/log/app.log"}
	code, out, errs := runDrift(t, args...)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	for _, want := range []string{
		"the mount at /var/log survives the wipe: what it shows at /var/log/app.log needs no declaration",
		"with a mount table read from --mountinfo drift cannot look beneath the mounts",
		"on the wiped filesystem beneath that mount would be deleted at the next boot",
		"run it with the live mount table: drift adopt --root " + root + " --persist " + decls + " --ephemeral / /var/log/app.log",
		"mount --bind " + root + " /mnt/beneath",
		"look at /mnt/beneath/var/log/app.log",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "not on a wiped filesystem") {
		t.Errorf("output says the path is not on a wiped filesystem, which drift did not look at:\n%s", out)
	}
	_, out, _ = runDrift(t, append(args, "--format", "json")...)
	var r struct {
		Paths []struct {
			Persistent, Unseen, Ephemeral string
		} `json:"paths"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Paths) != 1 || r.Paths[0].Persistent != "/var/log" || r.Paths[0].Unseen != "--mountinfo" || r.Paths[0].Ephemeral != "/" {
		t.Errorf("json paths %+v, want persistent /var/log, unseen --mountinfo, ephemeral /", r.Paths)
	}
}
