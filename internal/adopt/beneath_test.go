package adopt

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/audit"
	"github.com/nix-drift/drift/internal/testutil"
)

// beneathMachine is a root where /etc/nixos is bind-mounted from its
// persistent copy, with an older hardware-configuration.nix and a file
// the copy lacks lying beneath the mount (read through m.Under), and
// /etc/machine-id is bind-mounted from a persistent copy replaced by a
// rename since (mountinfo's //deleted), an empty placeholder beneath it.
func beneathMachine(t *testing.T) (*audit.Model, string) {
	t.Helper()
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	under := filepath.Join(dir, "under")
	write := func(p, s string) {
		testutil.Must(t, os.MkdirAll(filepath.Dir(p), 0o755))
		testutil.Must(t, os.WriteFile(p, []byte(s), 0o644))
	}
	write(filepath.Join(root, "nix/persist/etc/nixos/hardware-configuration.nix"), "edited through the mount\n")
	write(filepath.Join(root, "etc/nixos/hardware-configuration.nix"), "edited through the mount\n")
	write(filepath.Join(under, "etc/nixos/hardware-configuration.nix"), "stale\n")
	write(filepath.Join(under, "etc/nixos/extra.nix"), "only beneath\n")
	write(filepath.Join(root, "nix/persist/etc/machine-id"), "renamed in place\n")
	write(filepath.Join(root, "etc/machine-id"), "what the mount shows\n")
	write(filepath.Join(under, "etc/machine-id"), "")
	write(filepath.Join(dir, "mountinfo"), `22 1 0:31 /root / rw - btrfs /dev/vda2 rw,subvol=/root
27 22 0:31 /nix /nix rw - btrfs /dev/vda2 rw,subvol=/nix
28 27 0:31 /persist /nix/persist rw - btrfs /dev/vda2 rw,subvol=/persist
40 22 0:31 /persist/etc/nixos /etc/nixos rw - btrfs /dev/vda2 rw,subvol=/persist
41 22 0:31 /persist/etc/machine-id//deleted /etc/machine-id rw - btrfs /dev/vda2 rw,subvol=/persist
`)
	write(filepath.Join(dir, "p.nix"), `{ environment.persistence."/nix/persist" = { directories = [ "/etc/nixos" ]; files = [ "/etc/machine-id" ]; }; }`)
	m, err := audit.Build(context.Background(), audit.Options{Root: root, Persist: []string{filepath.Join(dir, "p.nix")},
		Mountinfo: filepath.Join(dir, "mountinfo"), RootSubvol: "none", OldRoots: "none"})
	testutil.Must(t, err)
	t.Cleanup(m.Close)
	m.Under = func(string) (string, func(), error) { return under, func() {}, nil }
	return m, root
}

func read(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	testutil.Must(t, err)
	return string(b)
}

// TestPreferLiveNeverReplacesWhatAMountShows: beneath the bind mount of
// /etc/nixos lies an older hardware-configuration.nix; drift adopt
// --prefer live of /etc/nixos planned to replace the copy the mount shows
// (the file the system uses) with it (field case: a fresh user's stale
// file beneath /etc/nixos). It refuses, naming the mount and how to look
// beneath it (the audited root's filesystem, --root as the host sees it,
// not the host's /), dry run or not; without --prefer it copies only what the
// copy lacks and keeps the copy's file.
func TestPreferLiveNeverReplacesWhatAMountShows(t *testing.T) {
	m, root := beneathMachine(t)
	copyPath := filepath.Join(root, "nix/persist/etc/nixos/hardware-configuration.nix")
	for _, dry := range []bool{true, false} {
		_, err := Run(context.Background(), m, Options{Paths: []string{"/etc/nixos"}, Prefer: PreferLive, DryRun: dry})
		var be *BeneathError
		var he *audit.HintError
		if !errors.As(err, &be) || !errors.As(err, &he) {
			t.Fatalf("dry %v: err %v, want a BeneathError", dry, err)
		}
		if !strings.Contains(err.Error(), "/etc/nixos (mount 40") || !strings.Contains(he.Hint, "mount --bind "+m.Root+" /mnt/beneath") {
			t.Errorf("refusal %q (hint %q) names not the mount, or not how to look beneath it", err, he.Hint)
		}
	}
	if got := read(t, copyPath); got != "edited through the mount\n" {
		t.Fatalf("the copy the mount shows was changed by a refused run: %q", got)
	}
	if _, err := os.Stat(filepath.Join(root, "nix/persist/etc/nixos/extra.nix")); err == nil {
		t.Fatal("a refused run copied")
	}
	res, err := Run(context.Background(), m, Options{Paths: []string{"/etc/nixos"}})
	testutil.Must(t, err)
	if got := read(t, copyPath); got != "edited through the mount\n" {
		t.Errorf("adopt without --prefer replaced the copy the mount shows: %q", got)
	}
	if got := read(t, filepath.Join(root, "nix/persist/etc/nixos/extra.nix")); got != "only beneath\n" {
		t.Errorf("what the copy lacked was not copied: %q", got)
	}
	if len(res.Warnings) == 0 || !strings.Contains(strings.Join(res.Warnings, "\n"), "kept") {
		t.Errorf("warnings %q do not say the copy's object was kept", res.Warnings)
	}
	if len(res.Paths) != 1 || !res.Paths[0].KeptHidden {
		t.Errorf("adopt without --prefer kept the copy's file, but its path is not KeptHidden: %+v", res.Paths)
	}
	res, err = Run(context.Background(), m, Options{Paths: []string{"/etc/nixos"}, Prefer: PreferPersistent, DryRun: true})
	testutil.Must(t, err)
	if len(res.Paths) != 1 || res.Paths[0].KeptHidden {
		t.Errorf("adopt --prefer persistent: its path is KeptHidden (the summary would not name --prefer persistent): %+v", res.Paths)
	}
}

// TestDeletedMountIsRefused: /etc/machine-id is mounted from a copy
// replaced by a rename since; drift adopt --prefer live of it copied the
// empty file beneath the mount over the new copy, losing both versions
// (field case: a fresh user's replaced machine-id). Every run is refused
// before anything is written, its hint giving the by-hand copy of what
// the mount shows; both versions survive.
func TestDeletedMountIsRefused(t *testing.T) {
	m, root := beneathMachine(t)
	for _, o := range []Options{{Prefer: PreferLive}, {Prefer: PreferLive, DryRun: true}, {}, {Prefer: PreferPersistent}} {
		o.Paths = []string{"/etc/machine-id"}
		_, err := Run(context.Background(), m, o)
		var de *DeletedMountError
		var he *audit.HintError
		if !errors.As(err, &de) || !errors.As(err, &he) {
			t.Fatalf("%+v: err %v, want a DeletedMountError", o, err)
		}
		want := "cp -a --reflink=auto " + filepath.Join(root, "etc/machine-id") + " " + filepath.Join(root, "nix/persist/etc/machine-id")
		if !strings.Contains(he.Hint, want) || !strings.Contains(err.Error(), "mount 41") {
			t.Errorf("refusal %q, hint %q: want mount 41 and %q", err, he.Hint, want)
		}
	}
	if got := read(t, filepath.Join(root, "nix/persist/etc/machine-id")); got != "renamed in place\n" {
		t.Errorf("the persistent copy is %q", got)
	}
	if got := read(t, filepath.Join(root, "etc/machine-id")); got != "what the mount shows\n" {
		t.Errorf("what the mount shows is %q", got)
	}
}

// Beneath the mount lies data where the copy the mount shows is an empty
// file (a tester's case: /home/alice/.bash_history beneath the file mount
// of its empty copy; adopt --dry-run called the bytes beneath "stale" and
// kept the empty copy without saying more). Neither is replaced, and
// adopt does not call the hidden data stale: it says the copy is empty
// and how to look beneath the mount; the path is not KeptHidden (the
// summary's "hidden and stale").
func TestDataBeneathAnEmptyCopyIsNotCalledStale(t *testing.T) {
	m, root := beneathMachine(t)
	under := filepath.Join(filepath.Dir(root), "under")
	for p, s := range map[string]string{"nix/persist/etc/nixos/notes": "", "etc/nixos/notes": "", "under:etc/nixos/notes": "written before the mount\n"} {
		at := filepath.Join(root, p)
		if rel, ok := strings.CutPrefix(p, "under:"); ok {
			at = filepath.Join(under, rel)
		}
		testutil.Must(t, os.WriteFile(at, []byte(s), 0o644))
	}
	for _, dry := range []bool{true, false} {
		res, err := Run(context.Background(), m, Options{Paths: []string{"/etc/nixos"}, DryRun: dry})
		testutil.Must(t, err)
		ws := strings.Join(res.Warnings, "\n")
		if !strings.Contains(ws, "is an empty file (/nix/persist/etc/nixos/notes)") || !strings.Contains(ws, "not known to be stale") || !strings.Contains(ws, "mount --bind "+m.Root+" /mnt/beneath") {
			t.Errorf("dry %v: warnings %q do not say the copy is empty and how to look beneath", dry, ws)
		}
		if strings.Count(ws, "hidden and stale") != 1 { // hardware-configuration.nix's, older beneath
			t.Errorf("dry %v: warnings %q call more than the older file stale", dry, ws)
		}
	}
	if got := read(t, filepath.Join(root, "nix/persist/etc/nixos/notes")); got != "" {
		t.Errorf("the empty copy was replaced: %q", got)
	}
	if got := read(t, filepath.Join(under, "etc/nixos/notes")); got != "written before the mount\n" {
		t.Errorf("what lies beneath was changed: %q", got)
	}
}
