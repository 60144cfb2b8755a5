package e2e

import (
	"encoding/json"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nix-drift/drift/internal/testutil"
)

// TestWipedUnmountedDeclarationIsNamedAndRestored: on real btrfs, through
// a real drift wipe, the fresh-user case. A declared directory whose
// persistent copy already exists (with a file of its own) but was not
// mounted over it at that boot keeps its live data on the root: check
// says declared-unbacked, and the wipe takes it. After the next boot
// (which mounts the copy) check's VANISHED table names what was lost, as
// declared, with the restore into the copy; that restore brings it back
// without --beneath-mount (it was refused, "mounted over it", because the
// copy was born before the old root's boot ended), and check is quiet
// afterwards. What the copy held is never listed. A declared directory
// that was mounted at that boot (the old root holds only its mount point)
// is still refused.
func TestWipedUnmountedDeclarationIsNamedAndRestored(t *testing.T) {
	s := driftSystem(t)
	if s == nil {
		return // the test ran in a private mount namespace
	}
	const decl = "/srv/declared-unmounted" // not mounted at the first boot
	// The declarations that boot ran with (the NixOS module's
	// /etc/drift/declarations.json) lack decl: it was not mounted then, so
	// about.html's newer bytes on the root are the ones the wipe took. With
	// no such record, bytes written in the boot's mount phase could be data
	// beneath a mount, and no restore that replaces the copy is printed.
	s.recordDeclarationsWithout(t, ",\n    \""+decl+"\"")
	writeFile(t, s.M(storage+decl+"/engine-id"), "made long ago\n", 0o600)
	writeFile(t, s.M(storage+decl+"/www/about.html"), "<p>stale</p>\n", 0o644) // an older version, changed on the root below
	writeFile(t, s.M("/etc/nixos/configuration.nix"), "{ ... }: { }\n", 0o644) // through its mount: in the copy
	time.Sleep(2 * time.Second)                                                // the copies are born before the old root's time
	files := map[string]string{
		decl + "/containers/c1/config.json": `{"id":"c1"}` + "\n",
		decl + "/containers/c2/log":         "started\n",
		decl + "/volumes/pg_wal_000001":     "wal\n",
		decl + "/www/about.html":            "<p>newer</p>\n",
	}
	for p, content := range files {
		writeFile(t, s.M(p), content, 0o600)
	}
	// A socket is made again by its program, never lost: before the wipe
	// and in what vanished after it alike (it was counted after it only).
	const sockDir = "/opt" // on the root (the harness mounts /var/lib)
	writeFile(t, s.M(sockDir+"/tailscale/tailscaled.state"), "{}\n", 0o600)
	writeFile(t, s.M(sockDir+"/tailscale/derpmap.cached.json"), "[]\n", 0o600)
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: s.M(sockDir + "/tailscale/tailscaled.sock"), Net: "unix"})
	testutil.Must(t, err)
	l.SetUnlinkOnClose(false)
	testutil.Must(t, l.Close())
	var before struct {
		Items []struct {
			Path, Category, Why string
			Entries             int64
		}
	}
	testutil.Must(t, json.Unmarshal(s.drift(1, "check", "--root", s.root, "--persist", s.declPath(), "--format", "json"), &before))
	unbacked, stale, sockEntries := false, false, int64(0)
	for _, it := range before.Items {
		if strings.HasPrefix(it.Path, decl+"/containers") && it.Category == "declared-unbacked" {
			unbacked = true
		}
		if it.Path == decl+"/www/about.html" && it.Category == "declared-unbacked" && strings.Contains(it.Why, "the older persistent copy") {
			stale = true
		}
		if it.Path == sockDir {
			sockEntries = it.Entries
		}
	}
	if !unbacked || !stale || sockEntries != 4 {
		t.Fatalf("before the wipe, want %s/containers declared-unbacked, about.html too with its older copy named, %s 4 entries: %+v", decl, sockDir, before.Items)
	}

	oldName := s.wipeAndBoot(map[string]bool{"/etc/adjtime": true}) // the copy is mounted now
	for p := range files {
		if p == decl+"/www/about.html" {
			if b, err := os.ReadFile(s.M(p)); err != nil || string(b) != "<p>stale</p>\n" {
				t.Fatalf("%s after the wipe: %q, %v, want the stale copy", p, b, err)
			}
			continue
		}
		if _, err := os.Lstat(s.M(p)); !os.IsNotExist(err) {
			t.Fatalf("%s after the wipe: %v, want it gone", p, err)
		}
	}

	type row struct{ Path, Declared, Restore string }
	check := func() []row {
		t.Helper()
		return vanishedRows(s, func(v row) bool { return strings.HasPrefix(v.Path, decl) || strings.HasPrefix(v.Path, "/etc/nixos") })
	}
	got := check()
	var after struct {
		Vanished []struct {
			Path    string
			Entries int64
		}
	}
	_, out, _ := s.driftAll("check", "--root", s.root, "--persist", s.declPath(), "--format", "json")
	testutil.Must(t, json.Unmarshal([]byte(out), &after))
	for _, v := range after.Vanished {
		if (v.Path == sockDir || strings.HasPrefix(v.Path, sockDir+"/")) && (v.Path != sockDir || v.Entries != sockEntries) {
			t.Errorf("vanished %+v: want %s with the %d entries check counted before the wipe, the socket not among them", v, sockDir, sockEntries)
		}
	}
	// about.html: the stale copy shows now, the newer bytes are only in
	// the old root; restore replaces an older copy only with --force.
	want := map[string]string{decl + "/containers": "", decl + "/volumes": "", decl + "/www/about.html": " --force"}
	if len(got) != len(want) {
		t.Fatalf("vanished below %s: %+v, want %v", decl, got, want)
	}
	for _, v := range got {
		force, ok := want[v.Path]
		if !ok || v.Declared != decl || v.Restore != "drift restore "+v.Path+" --from "+oldName+force+" --root "+s.root+" --persist "+s.declPath() {
			t.Errorf("vanished %+v: want declared %s, restore into the copy from %s", v, decl, oldName)
		}
	}
	code, table, errs := s.driftAll("check", "--root", s.root, "--persist", s.declPath())
	if code > 1 || !strings.Contains(table, "drift restore "+decl+"/containers --from "+oldName) || !strings.Contains(table, "Declared paths above (no --to live) were not mounted from their persistent copy at that boot") {
		t.Errorf("check's table: exit %d:\n%s\n%s", code, table, errs)
	}

	// Each printed restore, run by a shell, with no --beneath-mount.
	for _, v := range got {
		cmd := command("bash", "-c", `drift() { "$DRIFT" "$@"; }; `+v.Restore) // exactly as printed
		cmd.Env = append(os.Environ(), "DRIFT="+os.Getenv(envDrift))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", v.Restore, err, out)
		}
	}
	for p, content := range files {
		for _, at := range []string{s.M(storage + p), s.M(p)} { // the copy, and through its mount
			if b, err := os.ReadFile(at); err != nil || string(b) != content {
				t.Errorf("restored %s: %q, %v; want %q", at, b, err, content)
			}
		}
	}
	if b, err := os.ReadFile(s.M(storage + decl + "/engine-id")); err != nil || string(b) != "made long ago\n" {
		t.Errorf("the copy's own file after the restores: %q, %v", b, err)
	}
	if got := check(); len(got) != 0 {
		t.Errorf("after the restores, vanished: %+v", got)
	}

	// Mounted at that boot: the old root holds only the mount point, and
	// the copy that boot's data. Still refused, the copy untouched.
	code, out, errOut := s.driftAll("restore", "/etc/nixos", "--from", "latest", "--force", "--root", s.root, "--persist", s.declPath())
	// (Decided by that boot's declarations, which declare it.)
	if code != 2 || !strings.Contains(errOut, "drift: error: /etc/nixos is a declared directory: the declarations that boot ran with") ||
		!strings.Contains(errOut, "mount its persistent copy /nix/persist/etc/nixos over it, so the persistent copy holds that boot's data") || !strings.Contains(errOut, "here an empty directory (the mount point)") {
		t.Errorf("restore /etc/nixos: exit %d\n%s\n%s", code, out, errOut)
	}
	if b, err := os.ReadFile(s.M(storage + "/etc/nixos/configuration.nix")); err != nil || string(b) != "{ ... }: { }\n" {
		t.Errorf("the mounted copy after the refusal: %q, %v", b, err)
	}
}
