package e2e

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nix-drift/drift/internal/testutil"
)

// TestPruneKeepsTheConfigurationDriftReads: with no /etc/nixos and the
// configuration only in /nix/persist/etc/nixos (which drift reads),
// drift prune leaves that directory in place (in use: the configuration
// drift reads, so suggest does not list it either) and moves the other
// stray; --list and --undo all find the batch even when no declaration
// can be read any more; --undo all with nothing to put back fails saying
// so.
func TestPruneKeepsTheConfigurationDriftReads(t *testing.T) {
	s := driftSystem(t)
	if s == nil {
		return
	}
	s.configuration()
	_ = exec.Command("umount", s.M("/etc/nixos")).Run()
	testutil.Must(t, os.RemoveAll(s.M("/etc/nixos")))
	cfg := s.M(storage + "/etc/nixos/configuration.nix")
	writeFile(t, cfg, "{ ... }: {\n  imports = [ ./hardware-configuration.nix ];\n  environment.persistence.\"/nix/persist\".directories = [ \"/var/lib/bluetooth\" ];\n}\n", 0o644)
	writeFile(t, s.M(storage+"/etc/nixos/hardware-configuration.nix"), "{ ... }: { }\n", 0o644)
	writeFile(t, s.M(storage+"/old-stray"), "stray", 0o644)

	var sug struct {
		Suggestions []struct{ Path, Action string }
	}
	testutil.Must(t, json.Unmarshal(s.drift(0, "suggest", "--root", s.root, "--format", "json", "-q"), &sug))
	for _, x := range sug.Suggestions {
		if strings.HasPrefix(x.Path, storage+"/etc/nixos") && x.Action == "declare-or-remove" {
			t.Errorf("drift suggest calls the configuration it reads a stray: %+v", x)
		}
	}
	code, out, errOut := s.driftAll("prune", "--root", s.root)
	if code != 0 {
		t.Fatalf("drift prune: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, p := range []string{cfg, s.M(storage + "/etc/nixos/hardware-configuration.nix")} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("drift prune moved the configuration it reads: %v\n%s", err, out)
		}
	}
	if _, err := os.Lstat(s.M(storage + "/old-stray")); err == nil {
		t.Errorf("the stray beside the configuration stayed:\n%s", out)
	}
	if code, _, errOut := s.driftAll("check", "--root", s.root, "-q"); code > 1 {
		t.Errorf("drift check after the prune: exit %d\n%s", code, errOut)
	}

	// The configuration gone (moved away by hand): the quarantine of the
	// usual storage path is still found.
	testutil.Must(t, os.Rename(s.M(storage+"/etc/nixos"), s.M(storage+"/nixos-away")))
	if l := string(s.drift(0, "prune", "--root", s.root, "--list", "-q")); !strings.Contains(l, storage+"/old-stray") {
		t.Errorf("--list without declarations misses the batch:\n%s", l)
	}
	s.drift(0, "prune", "--root", s.root, "--undo", "all", "-q")
	if b, err := os.ReadFile(s.M(storage + "/old-stray")); err != nil || string(b) != "stray" {
		t.Errorf("--undo all without declarations: %v", err)
	}
	code, _, errOut = s.driftAll("prune", "--root", s.root, "--undo", "all", "-q")
	if code == 0 || !strings.Contains(errOut, "nothing to put back") || !strings.Contains(errOut, storage) {
		t.Errorf("--undo all with an empty quarantine: exit %d\n%s", code, errOut)
	}
}

// TestPruneUndoAllPutsBackNewestBatchFirst: a first prune moves
// /nix/persist/dir/old while /nix/persist/dir/keep is bind-mounted (in
// use); once unmounted, a second prune moves all of /nix/persist/dir.
// --undo all puts the second batch back first, so /nix/persist/dir/old
// finds its directory again: both come back, nothing is refused.
func TestPruneUndoAllPutsBackNewestBatchFirst(t *testing.T) {
	s := driftSystem(t)
	if s == nil {
		return
	}
	s.configuration()
	writeFile(t, s.M(storage+"/dir/keep/data"), "kept", 0o644)
	writeFile(t, s.M(storage+"/dir/old"), "old", 0o644)
	testutil.Must(t, os.MkdirAll(s.M("/srv/keep"), 0o755))
	run(t, "mount", "--bind", s.M(storage+"/dir/keep"), s.M("/srv/keep"))
	prune := func(want int, extra ...string) string {
		t.Helper()
		return string(s.drift(want, append([]string{"prune", "--root", s.root, "--persist", s.declPath()}, extra...)...))
	}
	first := time.Now().UTC().Add(-time.Hour).Format(time.RFC3339)
	code, out, errOut := s.driftAll("prune", "--root", s.root, "--persist", s.declPath(), "--now", first)
	if _, err := os.Lstat(s.M(storage + "/dir/old")); err == nil {
		t.Fatalf("first prune left dir/old: exit %d\n%s\n%s", code, out, errOut)
	}
	run(t, "umount", s.M("/srv/keep"))
	prune(0)
	if _, err := os.Lstat(s.M(storage + "/dir")); err == nil {
		t.Fatalf("second prune left dir")
	}
	prune(0, "--undo", "all")
	for p, want := range map[string]string{"/dir/old": "old", "/dir/keep/data": "kept"} {
		if b, err := os.ReadFile(s.M(storage + p)); err != nil || string(b) != want {
			t.Errorf("%s after --undo all: %v %q", p, err, b)
		}
	}
}

// TestPruneRefusesAnUndeclaredStoragePath: --storage-path naming no
// persistent storage path of the declarations is an error naming the
// declared ones, not "no stray data"; --undo of no such batch names the
// storage paths searched.
func TestPruneRefusesAnUndeclaredStoragePath(t *testing.T) {
	s := driftSystem(t)
	if s == nil {
		return
	}
	s.configuration()
	code, _, errOut := s.driftAll("prune", "--root", s.root, "--persist", s.declPath(), "--storage-path", "/nix")
	if code != 2 || !strings.Contains(errOut, "--storage-path /nix") || !strings.Contains(errOut, storage) {
		t.Errorf("--storage-path /nix: exit %d\n%s", code, errOut)
	}
	code, _, errOut = s.driftAll("prune", "--root", s.root, "--persist", s.declPath(), "--undo", "nosuch")
	if code != 2 || !strings.Contains(errOut, "searched") || !strings.Contains(errOut, storage) {
		t.Errorf("--undo nosuch: exit %d\n%s", code, errOut)
	}
	s.drift(0, "prune", "empty", "--root", s.root, "--persist", s.declPath(), "--older-than", "30d", "-q")
}

// TestSuggestAndPruneKeepAStrayHoldingAMountPoint: a tmpfs mounted at
// /nix/persist/mstray/mp makes /nix/persist/mstray no stray: drift
// suggest lists the mount point as in use (mounted) and never walks into
// the tmpfs (its files are counted nowhere); drift prune refuses it and
// moves the stray beside it.
func TestSuggestAndPruneKeepAStrayHoldingAMountPoint(t *testing.T) {
	s := driftSystem(t)
	if s == nil {
		return
	}
	s.configuration()
	testutil.Must(t, os.MkdirAll(s.M(storage+"/mstray/mp"), 0o755))
	writeFile(t, s.M(storage+"/mstray/beside"), "stray", 0o644)
	run(t, "mount", "-t", "tmpfs", "tmpfs", s.M(storage+"/mstray/mp"))
	writeFile(t, s.M(storage+"/mstray/mp/on-tmpfs"), "not the storage path's", 0o644)
	var sug struct {
		Suggestions []struct {
			Path, Action string
			Entries      int64
		}
	}
	testutil.Must(t, json.Unmarshal(s.drift(0, "suggest", "--root", s.root, "--persist", s.declPath(), "--format", "json", "-q"), &sug))
	got := map[string]string{}
	for _, x := range sug.Suggestions {
		if strings.HasPrefix(x.Path, storage+"/mstray") {
			got[x.Path] = x.Action
			if x.Entries > 1 {
				t.Errorf("%s counts %d entries: the walk crossed into the tmpfs", x.Path, x.Entries)
			}
		}
	}
	if got[storage+"/mstray"] != "" || got[storage+"/mstray/mp"] != "in-use" || got[storage+"/mstray/beside"] != "declare-or-remove" {
		t.Errorf("suggest under mstray: %v", got)
	}
	code, out, errOut := s.driftAll("prune", "--root", s.root, "--persist", s.declPath())
	if code != 0 && code != 1 {
		t.Fatalf("drift prune: exit %d\n%s\n%s", code, out, errOut)
	}
	if _, err := os.Stat(s.M(storage + "/mstray/mp/on-tmpfs")); err != nil {
		t.Errorf("the mount point moved: %v", err)
	}
	if _, err := os.Lstat(s.M(storage + "/mstray/beside")); err == nil {
		t.Errorf("the stray beside the mount point stayed:\n%s", out)
	}
}

// TestPruneUndoKeepsNonUTF8NamesExact: two strays whose names differ only
// in bytes that are not UTF-8 (bad\xffname, bad\xfename) are quarantined
// with their raw bytes in the manifest and prune's JSON (pathBase64), and
// --undo puts each back under its own name with its own content.
func TestPruneUndoKeepsNonUTF8NamesExact(t *testing.T) {
	s := driftSystem(t)
	if s == nil {
		return
	}
	s.configuration()
	names := map[string]string{"bad\xffname": "ff", "bad\xfename": "fe"}
	for n, c := range names {
		writeFile(t, s.M(storage+"/"+n), c, 0o644)
	}
	var res struct {
		Batches []struct {
			Dir     string
			Objects []struct{ Path, PathBase64 string }
		}
	}
	testutil.Must(t, json.Unmarshal(s.drift(0, "prune", "--root", s.root, "--persist", s.declPath(), "--format", "json"), &res))
	var raw []string
	for _, b := range res.Batches {
		for _, o := range b.Objects {
			d, err := base64.StdEncoding.DecodeString(o.PathBase64)
			if err != nil {
				t.Errorf("%q: pathBase64 %q: %v", o.Path, o.PathBase64, err)
			}
			raw = append(raw, string(d))
		}
	}
	slices.Sort(raw)
	if want := []string{storage + "/bad\xfename", storage + "/bad\xffname"}; !slices.Equal(raw, want) {
		t.Errorf("pathBase64 of the objects: %q, want %q", raw, want)
	}
	for n := range names {
		if _, err := os.Lstat(s.M(storage + "/" + n)); err == nil {
			t.Errorf("%q not moved", n)
		}
	}
	s.drift(0, "prune", "--root", s.root, "--persist", s.declPath(), "--undo", "all")
	for n, c := range names {
		if b, err := os.ReadFile(s.M(storage + "/" + n)); err != nil || string(b) != c {
			t.Errorf("%q after undo: %v %q, want %q", n, err, b, c)
		}
	}
	ents, err := os.ReadDir(s.M(storage))
	testutil.Must(t, err)
	for _, e := range ents {
		if strings.Contains(e.Name(), "\ufffd") {
			t.Errorf("undo made %q", e.Name())
		}
	}
}

// TestPruneKeepsAHostKeyReachedThroughALink: host keys named as
// /nix/persist/keys/ssh.key and /nix/persist/rel/ssh.key, where keys is an
// absolute link to /nix/persist/realkeys and rel a relative link to
// realrel, keep the directories the links lead to in use: drift prune
// moves neither realkeys nor realrel, and moves the stray beside them.
func TestPruneKeepsAHostKeyReachedThroughALink(t *testing.T) {
	s := driftSystem(t)
	if s == nil {
		return
	}
	s.configuration()
	writeFile(t, s.M(storage+"/realkeys/ssh.key"), "key", 0o600)
	writeFile(t, s.M(storage+"/realrel/ssh.key"), "key2", 0o600)
	testutil.Must(t, os.Symlink(storage+"/realkeys", s.M(storage+"/keys")))
	testutil.Must(t, os.Symlink("realrel", s.M(storage+"/rel")))
	writeFile(t, s.M(storage+"/old"), "stray", 0o644)
	config := s.dir + "/ssh.nix"
	writeFile(t, config, "{ ... }: {\n  services.openssh.hostKeys = [ { path = \"/nix/persist/keys/ssh.key\"; type = \"ed25519\"; } { path = \"/nix/persist/rel/ssh.key\"; type = \"ed25519\"; } ];\n}\n", 0o644)
	code, out, errOut := s.driftAll("prune", "--root", s.root, "--persist", s.declPath(), "--persist", config)
	if code > 1 {
		t.Fatalf("drift prune: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, p := range []string{"/realkeys/ssh.key", "/realrel/ssh.key"} {
		if _, err := os.Stat(s.M(storage + p)); err != nil {
			t.Errorf("the host key %s, named through a link, was moved: %v\n%s", p, err, out)
		}
	}
	if _, err := os.Lstat(s.M(storage + "/old")); err == nil {
		t.Errorf("the stray beside the keys stayed:\n%s", out)
	}
}
