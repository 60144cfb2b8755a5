package diff

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nix-drift/drift/internal/btrfs"

	ifsys "github.com/nix-drift/drift/internal/fsys"
	"github.com/nix-drift/drift/internal/persist"
	"github.com/nix-drift/drift/internal/scan"
	"github.com/nix-drift/drift/internal/testutil"
	"golang.org/x/sys/unix"
)

// writeFiles writes PATH -> content under root, making parents.
func writeFiles(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for p, content := range files {
		testutil.WriteFileMode(t, filepath.Join(root, p), content, 0o644)
	}
}

func chown(t *testing.T, root, p string, uid, gid int) {
	t.Helper()
	if err := os.Lchown(filepath.Join(root, p), uid, gid); err != nil {
		testutil.SkipOrFatal(t, testutil.RequireHost, fmt.Sprintf("chown needs root: %v", err))
	}
}

// previous builds a previous root named 2026-11-28_10:00:00 from files.
func previous(t *testing.T, files map[string]string) *btrfs.OldRoot {
	dir := filepath.Join(t.TempDir(), "2026-11-28_10:00:00")
	testutil.Must(t, os.MkdirAll(dir, 0o755))
	writeFiles(t, dir, files)
	return &btrfs.OldRoot{Name: "2026-11-28_10:00:00", Time: time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC), Dir: dir}
}

// historyCheck runs Check on a live root made of spec and files, with prev
// as the previous root; prep runs on the live root before the check.
func historyCheck(t *testing.T, spec string, files map[string]string, mi string, decls []persist.Entry, prev *btrfs.OldRoot, prep func(root string)) *Audit {
	t.Helper()
	return check(t, spec, mi, decls, func(cfg *Config) {
		writeFiles(t, cfg.Root, files)
		if prep != nil {
			prep(cfg.Root)
		}
		cfg.PreviousRoot = prev
	})
}

const c06Mounts = btrfsSystem + `41 22 0:31 /persist/var/lib/svc-a /var/lib/svc-a rw - btrfs /dev/vda2 rw`

// TestUIDTakenOverWithoutVarLibNixos: /var/lib/nixos is not persisted;
// svc-b was added and took uid 995, which svc-a had in the previous root:
// svc-a's persisted directory is now svc-b's, an ownership alert (field
// case C06).
func TestUIDTakenOverWithoutVarLibNixos(t *testing.T) {
	live := map[string]string{
		"/etc/passwd":            "root:x:0:0::/root:/bin/sh\n",
		"/etc/group":             "root:x:0:\n",
		"/var/lib/nixos/uid-map": `{"svc-a":994,"svc-b":995}`,
		"/var/lib/svc-a/db":      "rows",
		"/var/lib/svc-a/conf":    "x",
	}
	prev := previous(t, map[string]string{"/var/lib/nixos/uid-map": `{"svc-a":995}`})
	a := historyCheck(t, "d /var/lib/svc-a", live, c06Mounts, []persist.Entry{dir("/var/lib/svc-a")}, prev, func(root string) {
		chown(t, root, "/var/lib/svc-a", 995, 0)
		chown(t, root, "/var/lib/svc-a/db", 995, 0)
	})
	if len(a.Alerts) != 1 {
		t.Fatalf("alerts %+v: want one", a.Alerts)
	}
	al := a.Alerts[0]
	want := "ownership drift: /var/lib/svc-a is owned by uid 995, which is svc-b now but was svc-a in the previous root (old_roots/2026-11-28_10:00:00)"
	if al.Kind != OwnershipDrift || al.Path != "/var/lib/svc-a" || al.IDKind != "uid" || al.ID != 995 || al.NameNow != "svc-b" || al.NameBefore != "svc-a" || al.Entries != 2 {
		t.Errorf("alert %+v", al)
	}
	if al.Message != want+"; so is 1 more entry directly inside it" {
		t.Errorf("message %q\nwant %q…", al.Message, want)
	}
	if a.Losing() {
		t.Errorf("ownership drift changes the exit status")
	}
	// The uid-map itself is lost (it is on the ephemeral root).
	if cats(a)["/var/lib/nixos/uid-map"] != "unpersisted" {
		t.Errorf("uid-map: %q, want unpersisted", cats(a)["/var/lib/nixos/uid-map"])
	}

	// The same through /etc/passwd and /etc/group in both roots, for the
	// group too, and only the entry inside the directory drifting.
	live = map[string]string{
		"/etc/passwd":       "root:x:0:0::/root:/bin/sh\nsvc-a:x:994:994::/var/empty:/bin/false\nsvc-b:x:995:995::/var/empty:/bin/false\n",
		"/etc/group":        "root:x:0:\nsvc-a:x:994:\nsvc-b:x:995:\n",
		"/var/lib/svc-a/db": "rows",
	}
	prev = previous(t, map[string]string{
		"/etc/passwd": "root:x:0:0::/root:/bin/sh\nsvc-a:x:995:995::/var/empty:/bin/false\n",
		"/etc/group":  "root:x:0:\nsvc-a:x:995:\n",
	})
	a = historyCheck(t, "d /var/lib/svc-a", live, c06Mounts, []persist.Entry{dir("/var/lib/svc-a")}, prev, func(root string) {
		chown(t, root, "/var/lib/svc-a", 994, 994) // chowned again by hand: fine
		chown(t, root, "/var/lib/svc-a/db", 995, 995)
	})
	var msgs []string
	for _, al := range a.Alerts {
		msgs = append(msgs, al.Message)
	}
	wantMsgs := []string{
		"ownership drift: /var/lib/svc-a/db has group gid 995, which is svc-b now but was svc-a in the previous root (old_roots/2026-11-28_10:00:00)",
		"ownership drift: /var/lib/svc-a/db is owned by uid 995, which is svc-b now but was svc-a in the previous root (old_roots/2026-11-28_10:00:00)",
	}
	if !slices.Equal(msgs, wantMsgs) {
		t.Errorf("alerts\n%q\nwant\n%q", msgs, wantMsgs)
	}
	if len(a.Warnings) != 0 {
		t.Errorf("warnings %q", a.Warnings)
	}
}

// An id that nothing has now but that named a user before (svc-a moved to
// another uid) drifts too; a path on the ephemeral root is lost, not
// drifting; an id unknown in the previous root says nothing.
func TestOwnershipDriftUnassignedAndEphemeral(t *testing.T) {
	live := map[string]string{
		"/etc/passwd":        "svc-a:x:994:994::/:/bin/false\n",
		"/var/lib/svc-a/x":   "x",
		"/var/lib/svc-c/y":   "y", // declared, not mounted: on the ephemeral root
		"/var/lib/svc-a/new": "n",
	}
	prev := previous(t, map[string]string{"/etc/passwd": "svc-a:x:995:995::/:/bin/false\nsvc-c:x:996:996::/:/bin/false\n"})
	a := historyCheck(t, "d /var/lib/svc-a", live, c06Mounts, []persist.Entry{dir("/var/lib/svc-a"), dir("/var/lib/svc-c")}, prev, func(root string) {
		chown(t, root, "/var/lib/svc-a", 995, 0)
		chown(t, root, "/var/lib/svc-a/new", 1234, 0)
		chown(t, root, "/var/lib/svc-c", 996, 0)
	})
	if len(a.Alerts) != 1 || a.Alerts[0].Message != "ownership drift: /var/lib/svc-a is owned by uid 995, which is unassigned now but was svc-a in the previous root (old_roots/2026-11-28_10:00:00)" || a.Alerts[0].NameNow != "" {
		t.Errorf("alerts %+v", a.Alerts)
	}
}

// Malformed passwd and group lines are skipped with a counted warning; the
// good lines still count.
func TestOwnershipMalformedPasswd(t *testing.T) {
	live := map[string]string{
		"/etc/passwd": "garbage\nsvc-x:x:abc:1::/:/bin/false\n:x:7:7::/:/bin/false\n# comment\n+::::::\n\nsvc-b:x:995:995::/:/bin/false\nbig:x:99999999999:1::/:/bin/false",
		"/etc/group":  "onlyname\n",
	}
	prev := previous(t, map[string]string{
		"/etc/passwd":            "svc-a:x:995:995::/:/bin/false\n\x00\xff:::\n",
		"/var/lib/nixos/gid-map": `{"svc-a": "995", "": 3, "ok": 7}`,
	})
	a := historyCheck(t, "d /var/lib/svc-a", live, c06Mounts, []persist.Entry{dir("/var/lib/svc-a")}, prev, func(root string) {
		chown(t, root, "/var/lib/svc-a", 995, 0)
	})
	if len(a.Alerts) != 1 || a.Alerts[0].NameNow != "svc-b" || a.Alerts[0].NameBefore != "svc-a" {
		t.Errorf("alerts %+v", a.Alerts)
	}
	wantWarn := []string{
		"/etc/group in the live root: 1 malformed line skipped (line 1)",
		"/etc/passwd in the live root: 4 malformed lines skipped (lines 1, 2, 3, 8)",
		"/etc/passwd in the previous root (old_roots/2026-11-28_10:00:00): 1 malformed line skipped (line 2)",
		"/var/lib/nixos/gid-map in the previous root (old_roots/2026-11-28_10:00:00): 2 malformed entries skipped",
	}
	if !slices.Equal(Messages(a.Warnings), wantWarn) {
		t.Errorf("warnings\n%q\nwant\n%q", a.Warnings, wantWarn)
	}
}

// Invalid JSON in a map is a warning, never a failure.
func TestOwnershipBadMap(t *testing.T) {
	prev := previous(t, map[string]string{"/var/lib/nixos/uid-map": `{"svc-a":`})
	names := map[string]string{"/etc/passwd": "root:x:0:0::/root:/bin/sh\n", "/etc/group": "root:x:0:\n"}
	a := historyCheck(t, "d /var/lib/svc-a", names, c06Mounts, []persist.Entry{dir("/var/lib/svc-a")}, prev, nil)
	if len(a.Alerts) != 0 || len(a.Warnings) != 1 || !strings.HasPrefix(a.Warnings[0].Message, "cannot read /var/lib/nixos/uid-map in the previous root (old_roots/2026-11-28_10:00:00): unexpected end of JSON input") {
		t.Errorf("alerts %+v, warnings %q", a.Alerts, a.Warnings)
	}
}

func FuzzParseIDDB(f *testing.F) {
	f.Add([]byte("root:x:0:0::/root:/bin/sh\nsvc:x:995:995\n"))
	f.Add([]byte(":::\n\r\n+\n-x\n#\nname:x:-1:\nname:x:4294967296:\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		names, bad := parseIDDB(data)
		for _, n := range names {
			if n == "" {
				t.Errorf("empty name")
			}
		}
		_ = bad
		_, _, _ = parseIDMap(data)
	})
}

const c07Spec = `
f /etc/ssh/ssh_host_ed25519_key K2-PRIVATE
f /etc/ssh/ssh_host_ed25519_key.pub P2
f /etc/ssh/ssh_host_rsa_key R1
l /etc/ssh/ssh_config -> /etc/static/ssh/ssh_config`

func c07Decls() []persist.Entry {
	return []persist.Entry{file("/etc/ssh/ssh_host_ed25519_key"), file("/etc/ssh/ssh_host_ed25519_key.pub")}
}

// TestHostKeysRegeneratedAtBoot: the SSH host keys are regular files on
// the ephemeral root (the persistent copies never existed) and differ from
// the previous root's, regenerated at this boot (field case C07): an alert
// each, naming the lost category; the key material never printed.
func TestHostKeysRegeneratedAtBoot(t *testing.T) {
	prev := previous(t, map[string]string{
		"/etc/ssh/ssh_host_ed25519_key":     "K1-PRIVATE",
		"/etc/ssh/ssh_host_ed25519_key.pub": "P1-longer",
		"/etc/ssh/ssh_host_rsa_key":         "R1", // the same: regenerated? no, kept
	})
	a := check(t, c07Spec, btrfsSystem, c07Decls(), func(cfg *Config) { cfg.PreviousRoot = prev })
	if len(a.Alerts) != 2 {
		t.Fatalf("alerts %+v: want the ed25519 key and its .pub", a.Alerts)
	}
	want := "SSH host key /etc/ssh/ssh_host_ed25519_key changed between the previous root (old_roots/2026-11-28_10:00:00) and now: it is being regenerated at every boot; clients will warn and secrets encrypted to it (sops-nix, agenix) break; the key there now is on the ephemeral root too (declared-unbacked): lost at the next boot"
	if a.Alerts[0].Message != want || a.Alerts[0].Kind != HostKeyChanged || a.Alerts[0].Lost != DeclaredUnbacked {
		t.Errorf("alert %+v\nwant %q", a.Alerts[0], want)
	}
	if a.Alerts[1].Path != "/etc/ssh/ssh_host_ed25519_key.pub" {
		t.Errorf("second alert %+v", a.Alerts[1])
	}
	for _, al := range a.Alerts {
		for _, key := range []string{"K1", "K2", "P1", "P2"} {
			if strings.Contains(al.Message, key) {
				t.Errorf("key material %s in %q", key, al.Message)
			}
		}
	}
	if !a.Losing() {
		t.Errorf("a changed host key does not count as losing")
	}
}

// Nothing is reported when the keys are identical, when there is no
// previous root, or when the live key is on persistent storage (the
// previous root then holds the empty mount point, or a hidden copy).
func TestHostKeyNoAlert(t *testing.T) {
	same := previous(t, map[string]string{
		"/etc/ssh/ssh_host_ed25519_key":     "K2-PRIVATE",
		"/etc/ssh/ssh_host_ed25519_key.pub": "P2",
	})
	a := check(t, c07Spec, btrfsSystem, c07Decls(), func(cfg *Config) { cfg.PreviousRoot = same })
	if len(a.Alerts) != 0 || len(notUnbacked(a.Warnings)) != 0 {
		t.Errorf("identical keys: alerts %+v, warnings %q", a.Alerts, a.Warnings)
	}
	a = check(t, c07Spec, btrfsSystem, c07Decls(), nil)
	if len(a.Alerts) != 0 {
		t.Errorf("no previous root: alerts %+v", a.Alerts)
	}
	bound := btrfsSystem + `
42 22 0:31 /persist/etc/ssh/ssh_host_ed25519_key /etc/ssh/ssh_host_ed25519_key rw - btrfs /dev/vda2 rw
43 22 0:31 /persist/etc/ssh/ssh_host_ed25519_key.pub /etc/ssh/ssh_host_ed25519_key.pub rw - btrfs /dev/vda2 rw`
	placeholder := previous(t, map[string]string{
		"/etc/ssh/ssh_host_ed25519_key":     "",
		"/etc/ssh/ssh_host_ed25519_key.pub": "OLD-HIDDEN",
	})
	a = check(t, c07Spec, bound, c07Decls(), func(cfg *Config) { cfg.PreviousRoot = placeholder })
	if len(a.Alerts) != 0 {
		t.Errorf("keys on persistent storage: alerts %+v", a.Alerts)
	}
	// No previous root at all: no ownership drift either.
	a = historyCheck(t, "d /var/lib/svc-a", map[string]string{"/etc/passwd": "svc-b:x:995:995::/:/bin/false\n"}, c06Mounts, []persist.Entry{dir("/var/lib/svc-a")}, nil, func(root string) {
		chown(t, root, "/var/lib/svc-a", 995, 0)
	})
	if len(a.Alerts) != 0 || len(a.Warnings) != 0 {
		t.Errorf("no previous root: alerts %+v, warnings %q", a.Alerts, a.Warnings)
	}
}

// A key that is a symlink in the previous root, or missing there, is not
// compared; an empty previous root says nothing.
func TestHostKeyOldSymlink(t *testing.T) {
	prev := previous(t, nil)
	testutil.Must(t, os.MkdirAll(filepath.Join(prev.Dir, "etc/ssh"), 0o755))
	testutil.Must(t, os.Symlink("/nix/persist/etc/ssh/ssh_host_ed25519_key", filepath.Join(prev.Dir, "etc/ssh/ssh_host_ed25519_key")))
	a := check(t, c07Spec, btrfsSystem, c07Decls(), func(cfg *Config) { cfg.PreviousRoot = prev })
	if len(a.Alerts) != 0 || len(notUnbacked(a.Warnings)) != 0 {
		t.Errorf("alerts %+v, warnings %q", a.Alerts, a.Warnings)
	}
}

// A declared path that is a symlink to its persistent copy (the symlink
// method): the copy's owner counts, named by the declared path; the link
// itself is never followed elsewhere (a link to the ephemeral root says
// nothing).
func TestOwnershipSymlinkMethod(t *testing.T) {
	spec := `
d /nix/persist/var/lib/svc-l
l /var/lib/svc-l -> /nix/persist/var/lib/svc-l
d /tmp/elsewhere
l /var/lib/svc-m -> /tmp/elsewhere`
	live := map[string]string{"/etc/passwd": "svc-b:x:995:995::/:/bin/false\n", "/nix/persist/var/lib/svc-l/state": "s"}
	prev := previous(t, map[string]string{"/etc/passwd": "svc-a:x:995:995::/:/bin/false\n"})
	a := historyCheck(t, spec, live, btrfsSystem, []persist.Entry{dir("/var/lib/svc-l"), dir("/var/lib/svc-m")}, prev, func(root string) {
		chown(t, root, "/nix/persist/var/lib/svc-l/state", 995, 0)
		chown(t, root, "/tmp/elsewhere", 995, 0)
	})
	if len(a.Alerts) != 1 || a.Alerts[0].Path != "/var/lib/svc-l/state" || a.Alerts[0].Entries != 1 ||
		a.Alerts[0].Message != "ownership drift: /var/lib/svc-l/state is owned by uid 995, which is svc-b now but was svc-a in the previous root (old_roots/2026-11-28_10:00:00)" {
		t.Errorf("alerts %+v", a.Alerts)
	}
}

// Interrupted while comparing with the previous root (here as soon as the
// walk ends), Check returns the context's error, not a report lacking what
// was not compared (tester finding: exit 1 and an empty vanished list).
func TestHistoryCancelled(t *testing.T) {
	prev := previous(t, map[string]string{"/srv/gone": "old", "/var/lib/app/db": "v1"})
	root := t.TempDir()
	writeFiles(t, root, map[string]string{"/var/lib/app/db": "v2"})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err := Check(ctx, Config{Root: root, Mounts: table(t, btrfsSystem), Ephemeral: []string{"/"}, PreviousRoot: prev,
		Progress: func(int64, int64) { cancel() }})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Check cancelled after its walk: %v, want context.Canceled", err)
	}
}

// A file being hashed, or compared, stops at its next piece once stopped.
func TestHashStops(t *testing.T) {
	dir := t.TempDir()
	root, err := openRoot(dir)
	testutil.Must(t, err)
	defer unix.Close(root)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, size := range []int{hashBuf + 1, 2 * mmapMin} {
		p := filepath.Join(dir, "f")
		testutil.Must(t, os.WriteFile(p, make([]byte, size), 0o644))
		var st unix.Stat_t
		testutil.Must(t, unix.Stat(p, &st))
		hs := newHasher(nil)
		hs.ctx = ctx
		if _, err := hs.file(root, &scan.Entry{Path: "/f", Ino: st.Ino, Size: st.Size}, true); !errors.Is(err, context.Canceled) {
			t.Errorf("size %d: hashing after the stop: %v, want context.Canceled", size, err)
		}
		fd, err := unix.Open(p, unix.O_RDONLY, 0)
		testutil.Must(t, err)
		c := newContentCmp(ifsys.Real{})
		c.ctx = ctx
		if eq, err := c.same(fd, fd, st.Size, &st, &st); eq || !errors.Is(err, context.Canceled) {
			t.Errorf("size %d: comparing after the stop: %v, %v; want context.Canceled", size, eq, err)
		}
		unix.Close(fd)
	}
}

// notUnbacked leaves out the warnings about declared paths that are not
// mounted (the keys of c07Spec are declared and on the ephemeral root).
func notUnbacked(ws []Warning) []Warning {
	var out []Warning
	for _, w := range ws {
		if !strings.HasPrefix(w.Message, "declared-unbacked: ") {
			out = append(out, w)
		}
	}
	return out
}

// A shadowed path (on the root under a mount point) is compared with the
// previous root where it lies: beneath the mount, through the view
// Config.Under opens (kept open until the history is done), not through the
// mount that hides it. No "not compared" warning; the view is released.
func TestShadowedHistoryReadBeneathTheMounts(t *testing.T) {
	under := t.TempDir()
	// The view of the filesystem at /: what the walk sees, and beneath
	// the mount points what they hide.
	testutil.Tree(t, under, "f /x y\nf /var/log/early.txt same\nf /var/log/boot.txt now\nf /var/log/fresh.txt new")
	prev := previous(t, map[string]string{"/var/log/early.txt": "same", "/var/log/boot.txt": "before"})
	released := 0
	a := check(t, "f /x y", btrfsSystem, nil, func(c *Config) {
		c.Ephemeral = []string{"/"}
		c.PreviousRoot = prev
		c.Under = func(mp string) (string, func(), error) { return under, func() { released++ }, nil }
	})
	want := map[string]History{"/var/log/early.txt": HistorySame, "/var/log/boot.txt": HistoryChanged, "/var/log/fresh.txt": HistoryNew, "/x": HistoryNew}
	for p, h := range want {
		if it := itemAt(a, p); it == nil || it.History != h {
			t.Errorf("%s: %+v, want history %s", p, it, h)
		}
	}
	if it := itemAt(a, "/var/log/early.txt"); it == nil || it.Category != Shadowed {
		t.Errorf("early.txt: %+v, want shadowed", it)
	}
	for _, w := range a.Warnings {
		if strings.Contains(w.Message, "not compared") {
			t.Errorf("warning: %q", w)
		}
	}
	if released != 3 {
		t.Errorf("the view was released %d times, want once per Check (check runs it expanded and collapsed, and with the history walked apart)", released)
	}
}

// A root with no /etc/passwd and no /etc/group yet (a fresh install before
// its first activation) names no id: instead of one "unassigned now"
// ownership drift per persisted path and id, one warning says that the
// owners were not compared, and what to do.
func TestOwnershipNoPasswdYetSaysItOnce(t *testing.T) {
	prev := previous(t, map[string]string{
		"/etc/passwd": "svc-a:x:995:995::/:/bin/false\nsvc-b:x:996:996::/:/bin/false\n",
		"/etc/group":  "svc-a:x:995:\nsvc-b:x:996:\n",
	})
	decls := []persist.Entry{dir("/var/lib/svc-a"), dir("/var/lib/svc-b")}
	mi := c06Mounts + "\n42 22 0:31 /persist/var/lib/svc-b /var/lib/svc-b rw - btrfs /dev/vda2 rw"
	a := historyCheck(t, "d /var/lib/svc-a\nd /var/lib/svc-b", nil, mi, decls, prev, func(root string) {
		chown(t, root, "/var/lib/svc-a", 995, 995)
		chown(t, root, "/var/lib/svc-b", 996, 996)
	})
	if len(a.Alerts) != 0 {
		t.Errorf("alerts %+v, want none", a.Alerts)
	}
	if len(a.Warnings) != 1 || !strings.Contains(a.Warnings[0].Message, "has no /etc/passwd") || !strings.Contains(a.Warnings[0].Message, "run drift check again once the system has booted") {
		t.Errorf("warnings %q, want one about the missing /etc/passwd and /etc/group", a.Warnings)
	}
	// With /etc/group there, the groups are compared: svc-b's gid 996
	// names svc-a now.
	a = historyCheck(t, "d /var/lib/svc-a\nd /var/lib/svc-b", map[string]string{"/etc/group": "svc-a:x:996:\n"}, mi, decls, prev, func(root string) {
		chown(t, root, "/var/lib/svc-a", 995, 995)
		chown(t, root, "/var/lib/svc-b", 996, 996)
	})
	if len(a.Warnings) != 1 || !strings.Contains(a.Warnings[0].Message, "no /etc/passwd yet") {
		t.Errorf("warnings %q", a.Warnings)
	}
	if len(a.Alerts) != 2 || a.Alerts[0].IDKind != "gid" || a.Alerts[1].IDKind != "gid" {
		t.Errorf("alerts %+v, want the two gids only", a.Alerts)
	}
}

// TestOwnershipBadMapNamesWhatWasRead: a live /var/lib/nixos bind-mounted
// from persistent storage is what reading it reads: the warning names
// that mount, not just "the live root".
func TestOwnershipBadMapNamesWhatWasRead(t *testing.T) {
	names := map[string]string{"/etc/passwd": "root:x:0:0::/root:/bin/sh\n", "/etc/group": "root:x:0:\n", "/var/lib/nixos/uid-map": `{"svc-a":`}
	mi := c06Mounts + "\n42 22 0:31 /persist/var/lib/nixos /var/lib/nixos rw - btrfs /dev/vda2 rw"
	a := historyCheck(t, "d /var/lib/svc-a", names, mi, []persist.Entry{dir("/var/lib/svc-a"), dir("/var/lib/nixos")}, previous(t, nil), nil)
	want := "cannot read /var/lib/nixos/uid-map in the mount at /var/lib/nixos (mount 42, /persist/var/lib/nixos of /dev/vda2) in the live root: unexpected end of JSON input"
	if !slices.Contains(Messages(a.Warnings), want) {
		t.Errorf("warnings %q, want %q", Messages(a.Warnings), want)
	}
}

// TestOwnershipAfterWipeBeforeActivationSaysOnce: right after a real wipe,
// before the activation writes /etc/passwd and /etc/group, the live root
// has a /var/lib/nixos/uid-map without root (it never lists static ids):
// one warning says ownership cannot be checked, not one "unassigned now
// but was root" drift per path owned by uid 0.
func TestOwnershipAfterWipeBeforeActivationSaysOnce(t *testing.T) {
	prev := previous(t, map[string]string{
		"/etc/passwd": "root:x:0:0::/root:/bin/sh\nsvc-a:x:995:995::/:/bin/false\n",
		"/etc/group":  "root:x:0:\nsvc-a:x:995:\n",
	})
	live := map[string]string{
		"/var/lib/nixos/uid-map": `{"svc-a":995}`,
		"/var/lib/nixos/gid-map": `{"svc-a":995}`,
		"/var/lib/svc-a/db":      "rows",
		"/var/lib/svc-a/conf":    "x",
	}
	a := historyCheck(t, "d /var/lib/svc-a", live, c06Mounts, []persist.Entry{dir("/var/lib/svc-a")}, prev, nil)
	if len(a.Alerts) != 0 {
		t.Errorf("alerts %+v, want none", a.Alerts)
	}
	if len(a.Warnings) != 1 || !strings.Contains(a.Warnings[0].Message, "no /etc/passwd and no /etc/group yet") || !strings.Contains(a.Warnings[0].Message, "ownership cannot be checked") {
		t.Errorf("warnings %q, want one saying ownership cannot be checked", a.Warnings)
	}
}

// TestOwnershipUID0IsAlwaysRoot: uid 0 and gid 0 are root's whether or not
// a root's /etc/passwd, /etc/group or id maps name them: no drift.
func TestOwnershipUID0IsAlwaysRoot(t *testing.T) {
	prev := previous(t, map[string]string{
		"/etc/passwd": "root:x:0:0::/root:/bin/sh\n",
		"/etc/group":  "root:x:0:\n",
	})
	live := map[string]string{
		"/etc/passwd":       "svc-a:x:995:995::/:/bin/false\n",
		"/etc/group":        "svc-a:x:995:\n",
		"/var/lib/svc-a/db": "rows",
	}
	a := historyCheck(t, "d /var/lib/svc-a", live, c06Mounts, []persist.Entry{dir("/var/lib/svc-a")}, prev, nil)
	if len(a.Alerts) != 0 || len(a.Warnings) != 0 {
		t.Errorf("alerts %+v, warnings %q: want none", a.Alerts, a.Warnings)
	}
}
