package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nix-drift/drift/internal/testutil"
)

// pruneBatch is a batch of drift prune --list --format json.
type pruneBatch struct {
	ID, Dir, StoragePath string
	Created              time.Time
	Objects              []struct {
		N                  int
		Path, Type, Reason string
		Entries, Bytes     int64
	}
	Quarantined []bool
}

func (s *system) pruneList(extra ...string) []pruneBatch {
	s.t.Helper()
	out := s.drift(0, append([]string{"prune", "--root", s.root, "--persist", s.declPath(), "--list", "--format", "json"}, extra...)...)
	var r struct{ Batches []pruneBatch }
	if err := json.Unmarshal(out, &r); err != nil {
		s.t.Fatalf("drift prune --list: %v\n%s", err, out)
	}
	return r.Batches
}

// TestPruneQuarantinesStraysAndUndoes: on real btrfs, drift prune moves the
// stray data of the persistent storage path (a directory with an xattr, a
// file, a symlink) into <storage>/.drift-quarantine/ID by rename — same
// inode, bytes, mode, owner, mtime, xattr — with a manifest naming each
// original path, size and why it was stray; --dry-run moves nothing; what
// is in use stays (a bind-mounted directory, a hashedPasswordFile, the
// target of a live symlink); --undo refuses an object whose path is taken
// again and puts back the rest exactly; prune empty deletes only batches
// older than --older-than.
func TestPruneQuarantinesStraysAndUndoes(t *testing.T) {
	s := driftSystem(t)
	if s == nil {
		return
	}
	s.configuration()
	st := func(p string) string { return s.M(storage + p) }
	writeFile(t, st("/var/lib/old-app/db/data"), "old app data", 0o640)
	writeFile(t, st("/var/lib/old-app/config"), "x=1", 0o600)
	testutil.Must(t, os.Chown(st("/var/lib/old-app/config"), 1234, 5678))
	testutil.Must(t, unix.Lsetxattr(st("/var/lib/old-app/db/data"), "user.drift", []byte("kept"), 0))
	writeFile(t, st("/etc/old.conf"), "stale", 0o644)
	testutil.Must(t, os.Symlink("/nowhere", st("/dangling")))
	// In use: bind-mounted, named by the configuration, linked to.
	writeFile(t, st("/srv/postgresql/PG_VERSION"), "16\n", 0o600)
	testutil.Must(t, os.MkdirAll(s.M("/srv/postgresql"), 0o700))
	run(t, "mount", "--bind", st("/srv/postgresql"), s.M("/srv/postgresql"))
	writeFile(t, st("/passwords/alice"), "$y$hash", 0o600)
	writeFile(t, st("/etc/linked.conf"), "linked", 0o644)
	testutil.Must(t, os.Symlink(storage+"/etc/linked.conf", s.M("/etc/linked.conf")))
	config := filepath.Join(s.dir, "users.nix")
	writeFile(t, config, "{ ... }: {\n  users.users.alice.hashedPasswordFile = \"/nix/persist/passwords/alice\";\n}\n", 0o644)
	strays := []string{"/dangling", "/etc/old.conf", "/var/lib/old-app"}
	inUse := []string{"/srv/postgresql/PG_VERSION", "/passwords/alice", "/etc/linked.conf"}
	before := map[string]map[string]meta{}
	for _, p := range strays {
		before[p] = metaTree(t, st(p))
	}
	prune := func(want int, extra ...string) []byte {
		t.Helper()
		return s.drift(want, append([]string{"prune", "--root", s.root, "--persist", s.declPath(), "--persist", config}, extra...)...)
	}

	out := prune(0, "--dry-run")
	for _, p := range strays {
		if !strings.Contains(string(out), storage+p) {
			t.Errorf("--dry-run does not name %s:\n%s", p, out)
		}
		if _, err := os.Lstat(st(p)); err != nil {
			t.Errorf("--dry-run moved %s", p)
		}
	}
	if _, err := os.Lstat(st("/.drift-quarantine")); err == nil {
		t.Errorf("--dry-run made the quarantine")
	}

	var res struct {
		Batches []pruneBatch
		Refused []struct{ Path, Reason string }
	}
	testutil.Must(t, json.Unmarshal(prune(0, "--format", "json"), &res))
	if len(res.Batches) != 1 {
		t.Fatalf("batches %+v, want one", res.Batches)
	}
	b := res.Batches[0]
	var moved []string
	for i, o := range b.Objects {
		if !b.Quarantined[i] {
			t.Errorf("%s not quarantined", o.Path)
		}
		moved = append(moved, strings.TrimPrefix(o.Path, storage))
		if !strings.Contains(o.Reason, "no declaration covers") {
			t.Errorf("%s: reason %q", o.Path, o.Reason)
		}
	}
	if !slices.Equal(moved, strays) {
		t.Errorf("moved %q, want %q", moved, strays)
	}
	for _, p := range strays {
		if _, err := os.Lstat(st(p)); err == nil {
			t.Errorf("%s still in place", p)
		}
	}
	for _, p := range inUse {
		if _, err := os.Lstat(st(p)); err != nil {
			t.Errorf("in use, yet moved: %s (%v)", p, err)
		}
	}
	batchDir := s.M(b.Dir)
	if b.Dir != storage+"/.drift-quarantine/"+b.ID {
		t.Errorf("batch dir %s", b.Dir)
	}
	var manifest struct {
		ID      string
		Created time.Time
		Objects []struct {
			N            int
			Path         string
			Bytes        int64
			Entries      int64
			Reason, Type string
		}
	}
	data, err := os.ReadFile(filepath.Join(batchDir, "manifest.json"))
	testutil.Must(t, err)
	testutil.Must(t, json.Unmarshal(data, &manifest))
	if manifest.ID != b.ID || time.Since(manifest.Created) > time.Hour || len(manifest.Objects) != 3 {
		t.Errorf("manifest: %s", data)
	}
	for _, o := range manifest.Objects {
		if o.Path == storage+"/var/lib/old-app" && (o.Bytes != int64(len("old app data")+len("x=1")) || o.Entries != 4 || o.Type != "dir") {
			t.Errorf("manifest of /var/lib/old-app: %+v", o)
		}
		if o.Path == storage+"/dangling" && o.Type != "symlink" {
			t.Errorf("manifest of the symlink: %+v", o)
		}
	}
	// Moved, not copied: the same objects, inode and all.
	for i, p := range strays {
		got := metaTree(t, filepath.Join(batchDir, fmt.Sprint(i+1)))
		if fmt.Sprint(got) != fmt.Sprint(before[p]) {
			t.Errorf("%s in quarantine differs:\n got %v\nwant %v", p, got, before[p])
		}
	}
	// drift suggest never lists the quarantine as stray.
	if sug := s.drift(0, "suggest", "--root", s.root, "--persist", s.declPath(), "--format", "json"); strings.Contains(string(sug), ".drift-quarantine") {
		t.Errorf("drift suggest lists the quarantine:\n%s", sug)
	}
	if l := s.pruneList(); len(l) != 1 || l[0].ID != b.ID || !slices.Equal(l[0].Quarantined, []bool{true, true, true}) {
		t.Errorf("--list: %+v", l)
	}

	// Something new at /etc/old.conf: refused, the rest put back.
	writeFile(t, st("/etc/old.conf"), "new", 0o644)
	prune(1, "--undo", b.ID)
	if got, _ := os.ReadFile(st("/etc/old.conf")); string(got) != "new" {
		t.Errorf("undo overwrote the new /etc/old.conf: %q", got)
	}
	for _, p := range []string{"/dangling", "/var/lib/old-app"} {
		if got := metaTree(t, st(p)); fmt.Sprint(got) != fmt.Sprint(before[p]) {
			t.Errorf("%s put back differs:\n got %v\nwant %v", p, got, before[p])
		}
	}
	if l := s.pruneList(); len(l) != 1 || !slices.Equal(l[0].Quarantined, []bool{false, true, false}) {
		t.Errorf("--list after a refused undo: %+v", l)
	}
	testutil.Must(t, os.Remove(st("/etc/old.conf")))
	prune(0, "--undo", "all")
	if got := metaTree(t, st("/etc/old.conf")); fmt.Sprint(got) != fmt.Sprint(before["/etc/old.conf"]) {
		t.Errorf("/etc/old.conf put back differs: %v", got)
	}
	if _, err := os.Lstat(batchDir); err == nil {
		t.Errorf("the emptied batch %s is still there", batchDir)
	}

	// empty: only batches older than the age.
	prune(0)
	l := s.pruneList()
	if len(l) != 1 {
		t.Fatalf("--list: %+v", l)
	}
	prune(0, "empty", "--older-than", "30d")
	if _, err := os.Lstat(s.M(l[0].Dir)); err != nil {
		t.Errorf("prune empty --older-than 30d deleted a batch made now")
	}
	later := time.Now().Add(31 * 24 * time.Hour).UTC().Format(time.RFC3339)
	prune(0, "empty", "--older-than", "30d", "--dry-run", "--now", later)
	if _, err := os.Lstat(s.M(l[0].Dir)); err != nil {
		t.Errorf("prune empty --dry-run deleted")
	}
	prune(0, "empty", "--older-than", "30d", "--now", later)
	if _, err := os.Lstat(s.M(l[0].Dir)); err == nil {
		t.Errorf("prune empty left a batch older than 30 days")
	}
	for _, p := range inUse {
		if _, err := os.Lstat(st(p)); err != nil {
			t.Errorf("in use, yet gone: %s", p)
		}
	}
	if len(s.pruneList()) != 0 {
		t.Errorf("quarantine not empty after prune empty")
	}
}

// TestPruneKilledBetweenMoves: drift prune killed (SIGKILL) after the
// third of twelve moves leaves every stray either in place or in the
// quarantine and listed, none lost; --undo all puts every one back.
func TestPruneKilledBetweenMoves(t *testing.T) {
	s := driftSystem(t)
	if s == nil {
		return
	}
	s.configuration()
	content := func(i int) string { return strings.Repeat(fmt.Sprintf("stray %d\n", i), 100+i) }
	for i := range 12 {
		writeFile(t, s.M(fmt.Sprintf("%s/stray%02d", storage, i)), content(i), 0o644)
	}
	cmd := command(os.Getenv(envDrift), "prune", "--root", s.root, "--persist", s.declPath())
	cmd.Env = append(os.Environ(), "DRIFT_TEST_PRUNE_KILL=3")
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if ws, ok := exitWait(err, &ee); !ok || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("drift prune with the kill hook: %v\n%s", err, out)
	}
	l := s.pruneList()
	if len(l) != 1 || len(l[0].Objects) != 12 {
		t.Fatalf("--list after the kill: %+v", l)
	}
	quarantined := 0
	for i, o := range l[0].Objects {
		_, errPlace := os.Lstat(s.M(o.Path))
		_, errQ := os.Lstat(filepath.Join(s.M(l[0].Dir), fmt.Sprint(o.N)))
		inPlace, inQ := errPlace == nil, errQ == nil
		if inPlace == inQ || inQ != l[0].Quarantined[i] {
			t.Errorf("%s: in place %v, in quarantine %v, listed quarantined %v", o.Path, inPlace, inQ, l[0].Quarantined[i])
		}
		if inQ {
			quarantined++
		}
	}
	if quarantined != 3 {
		t.Errorf("%d objects quarantined before the kill, want 3", quarantined)
	}
	s.drift(0, "prune", "--root", s.root, "--persist", s.declPath(), "--undo", "all")
	for i := range 12 {
		if got, err := os.ReadFile(s.M(fmt.Sprintf("%s/stray%02d", storage, i))); err != nil || string(got) != content(i) {
			t.Errorf("stray%02d after undo: %v", i, err)
		}
	}
}

// exitWait is the wait status of a command's error, when it ended.
func exitWait(err error, ee **exec.ExitError) (syscall.WaitStatus, bool) {
	if e, ok := err.(*exec.ExitError); ok {
		*ee = e
		ws, ok := e.Sys().(syscall.WaitStatus)
		return ws, ok && ws.Signaled()
	}
	return 0, false
}

// TestPruneLeavesAMountBelowInPlace: a mount point among the strays of
// the persistent storage path (a tmpfs at /nix/persist/mnt/sub) is in use
// (mounted), never a stray: it is not moved, stays mounted where it is
// with what it shows, and drift exits 0; the strays beside it
// (/nix/persist/mnt/above, /nix/persist/old) move.
func TestPruneLeavesAMountBelowInPlace(t *testing.T) {
	s := driftSystem(t)
	if s == nil {
		return
	}
	s.configuration()
	testutil.Must(t, os.MkdirAll(s.M(storage+"/mnt/sub"), 0o755))
	writeFile(t, s.M(storage+"/mnt/above"), "beside the mount", 0o644)
	run(t, "mount", "-t", "tmpfs", "tmpfs", s.M(storage+"/mnt/sub"))
	writeFile(t, s.M(storage+"/mnt/sub/inside"), "on the tmpfs", 0o644)
	writeFile(t, s.M(storage+"/old"), "stray", 0o644)
	code, out, errOut := s.driftAll("prune", "--root", s.root, "--persist", s.declPath(), "--format", "json")
	var res struct {
		Batches []pruneBatch
		Refused []struct{ Path, Reason string }
	}
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil {
		t.Fatalf("drift prune: exit %d, want 0\n%s\n%s", code, out, errOut)
	}
	if len(res.Refused) != 0 {
		t.Errorf("refused %+v\n%s", res.Refused, errOut)
	}
	if b, err := os.ReadFile(s.M(storage + "/mnt/sub/inside")); err != nil || string(b) != "on the tmpfs" {
		t.Errorf("the refused mount point: %v", err)
	}
	if mps := s.mountsBelow(s.M(storage + "/mnt")); len(mps) != 1 {
		t.Errorf("mounts below %s/mnt: %q", storage, mps)
	}
	var moved []string
	for _, b := range res.Batches {
		for _, o := range b.Objects {
			moved = append(moved, o.Path)
		}
	}
	if !slices.Equal(moved, []string{storage + "/mnt/above", storage + "/old"}) {
		t.Errorf("moved %q", moved)
	}
}

// configuration writes the machine's /etc/nixos/configuration.nix (through
// the bind mount of the declared /etc/nixos): drift prune moves nothing
// unless it reads the machine's whole configuration.
func (s *system) configuration() {
	s.t.Helper()
	writeFile(s.t, s.M("/etc/nixos/configuration.nix"), "{ ... }: {\n  imports = [ ./hardware-configuration.nix ];\n}\n", 0o644)
	writeFile(s.t, s.M("/etc/nixos/hardware-configuration.nix"), "{ ... }: { }\n", 0o644)
}
