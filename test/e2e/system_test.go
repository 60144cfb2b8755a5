package e2e

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nix-drift/drift/internal/mounts"
	"github.com/nix-drift/drift/internal/testutil"
)

// The reference layout, the one the impermanence guides give for btrfs
// (the seed guide's): one btrfs filesystem, its top level (subvolid=5)
// mounted at T, and the subvolumes root (wiped at boot), nix, persist
// (the persistent storage at /nix/persist), log, lib and home mounted into
// the "booted system" at M.
var subvolMounts = []struct{ subvol, at string }{
	{"root", "/"},
	{"nix", "/nix"},
	{"persist", "/nix/persist"},
	{"log", "/var/log"},
	{"lib", "/var/lib"},
	{"home", "/home"},
}

const storage = "/nix/persist"

// declarations is the JSON raw entry of environment.persistence."/nix/persist"
// that drift reads with --persist. Strings and attrsets, system and user
// entries, as impermanence accepts them.
const declarations = `{
  "persistentStoragePath": "/nix/persist",
  "hideMounts": true,
  "directories": [
    "/etc/nixos",
    { "directory": "/var/lib/bluetooth", "user": "root", "group": "root", "mode": "0700" },
    "/srv/declared-unmounted"
  ],
  "files": [
    "/etc/machine-id",
    { "file": "/etc/adjtime", "parentDirectory": { "mode": "0755" } }
  ],
  "users": {
    "root": {
      "home": "/root",
      "directories": [ ".gnupg" ],
      "files": [ ".bash_history" ]
    }
  }
}`

// The declared entries as impermanence normalises them (live paths).
var (
	declaredDirs  = []string{"/etc/nixos", "/var/lib/bluetooth", "/srv/declared-unmounted", "/root/.gnupg"}
	declaredFiles = []string{"/etc/machine-id", "/etc/adjtime", "/root/.bash_history"}
)

// Declared entries that are not mounted in the running system: their live
// data sits on the ephemeral root (declared-unbacked).
var unbackedAtFirstBoot = map[string]bool{"/srv/declared-unmounted": true, "/etc/adjtime": true}

// activation is what NixOS activation re-creates on every boot: symlinks into
// /nix/store or /etc/static (category "recreated").
var activation = []struct{ path, target string }{
	{"/bin/sh", "/nix/store/00000000000000000000000000000000-bash-5.2/bin/sh"},
	{"/usr/bin/env", "/nix/store/11111111111111111111111111111111-coreutils-9.5/bin/env"},
	{"/etc/static", "/nix/store/22222222222222222222222222222222-etc/etc"},
	{"/etc/hostname", "/etc/static/hostname"},
}

// Adversarial names, all on the ephemeral root.
const (
	nameSpace   = "/names/with space"
	nameNewline = "/names/new\nline"
	nameBadUTF8 = "/names/bad\xffutf8"
	nameESC     = "/names/esc\x1b[31mred"
	nameTab     = "/names/tab\there"
	nameBSlash  = `/names/back\slash\n`
)

// system is one btrfs image and the booted system made from it.
type system struct {
	t    *testing.T
	dir  string
	img  string
	dev  string // loop device, e.g. /dev/loop3
	top  string // T: the top level (subvolid=5)
	root string // M: the booted system
}

// newSystem creates the image, the subvolumes and the first boot, inside the
// namespaced child. Everything it mounts is unmounted in t.Cleanup (and would
// vanish with the namespace anyway).
func newSystem(t *testing.T) *system {
	dir := childDir(t)
	s := &system{t: t, dir: dir,
		img:  filepath.Join(dir, "disk.img"),
		top:  filepath.Join(dir, "top"),
		root: filepath.Join(dir, "sys"),
	}
	for _, d := range []string{s.top, s.root} {
		testutil.Must(t, os.MkdirAll(d, 0o755))
	}
	f, err := os.Create(s.img)
	testutil.Must(t, err)
	testutil.Must(t, f.Truncate(1<<30))
	testutil.Must(t, f.Close())
	run(t, "mkfs.btrfs", "-q", "-f", "-L", "drift-e2e", s.img)
	run(t, "mount", "-o", "loop,subvolid=5", s.img, s.top)
	t.Cleanup(s.unmountAll)
	out := strings.TrimSpace(run(t, "findmnt", "-n", "-o", "SOURCE", "--mountpoint", s.top))
	s.dev = strings.TrimSuffix(strings.SplitN(out, "[", 2)[0], " ")
	if !strings.HasPrefix(s.dev, "/dev/loop") {
		t.Fatalf("top level at %s is backed by %q, want a loop device", s.top, out)
	}
	for _, sv := range subvolMounts {
		run(t, "btrfs", "subvolume", "create", filepath.Join(s.top, sv.subvol))
	}
	testutil.Must(t, os.WriteFile(s.declPath(), []byte(declarations), 0o644))
	// Before the switch the user copied state into persistent storage (the
	// seed's `cp -a /etc/* /nix/persist/etc`), so the first boot bind-mounts
	// these files; /etc/adjtime's copy is stale.
	for p, content := range map[string]string{
		"/etc/machine-id":     "0123456789abcdef0123456789abcdef\n",
		"/etc/adjtime":        "0.0 0 0.0\n0\nUTC\n",
		"/root/.bash_history": "ls\n",
	} {
		writeFile(t, filepath.Join(s.top, "persist", p), content, 0o600)
	}
	s.boot(unbackedAtFirstBoot)
	return s
}

func (s *system) declPath() string { return filepath.Join(s.dir, "persistence.json") }

// recordDeclarations writes what the NixOS module's services.drift writes
// on the running root: decls (nix eval JSON) as
// /etc/drift/declarations.json, a link into the harness's /etc/static.
// The root the next wipe retires records them: the declarations its boot
// ran with (diff.MountedThen reads them).
func (s *system) recordDeclarations(t *testing.T, decls string) {
	t.Helper()
	writeFile(t, s.M("/nix/store/22222222222222222222222222222222-etc/etc/drift/declarations.json"), decls, 0o444)
	testutil.Must(t, os.MkdirAll(s.M("/etc/drift"), 0o755))
	testutil.Must(t, os.Symlink("/etc/static/drift/declarations.json", s.M("/etc/drift/declarations.json")))
}

// recordDeclarationsWithout records the harness's declarations less
// entry (its text in declarations, with the separator before it): those
// of a boot that ran before entry was declared, so that it was not
// mounted then.
func (s *system) recordDeclarationsWithout(t *testing.T, entry string) {
	t.Helper()
	then := strings.Replace(declarations, entry, "", 1)
	if then == declarations {
		t.Fatalf("harness: the declarations of the old root's boot still hold %s", entry)
	}
	s.recordDeclarations(t, then)
}

// wipeAndBoot shuts the running system down (unmounting everything below
// the root), marks the root as ended now (its mtime), runs a real drift
// wipe and the next boot (boot(skip)), and returns the name of the one old
// root the wipe made; another count fails the test.
func (s *system) wipeAndBoot(skip map[string]bool) string {
	t := s.t
	t.Helper()
	s.unmountBelow(s.root)
	now := time.Now()
	testutil.Must(t, os.Chtimes(filepath.Join(s.top, "root"), now, now))
	(&wipeImage{t: t, top: s.top, dev: s.dev}).drift()
	s.boot(skip)
	olds := readDirNames(t, filepath.Join(s.top, "old_roots"))
	if len(olds) != 1 {
		t.Fatalf("old_roots after the wipe: %q", olds)
	}
	return olds[0]
}

// M returns the host path of the system path p.
func (s *system) M(p string) string { return filepath.Join(s.root, p) }

// boot does what stage 1, the impermanence module and activation do after the
// wipe: mount the subvolumes, create missing sources and targets and
// bind-mount every declared directory and file (except those in skip, which
// stay unmounted), and re-create the activation symlinks.
func (s *system) boot(skip map[string]bool) {
	t := s.t
	for _, sv := range subvolMounts {
		at := s.M(sv.at)
		testutil.Must(t, os.MkdirAll(at, 0o755))
		run(t, "mount", "-o", "subvol="+sv.subvol, s.dev, at)
		if sv.at == "/" {
			for _, p := range bootedMountPoints { // stage 1 and systemd make them
				testutil.Must(t, os.MkdirAll(s.M("/"+p), 0o755))
			}
		}
	}
	for _, d := range declaredDirs {
		if skip[d] {
			continue
		}
		src, dst := s.M(storage+d), s.M(d)
		testutil.Must(t, os.MkdirAll(src, 0o755))
		testutil.Must(t, os.MkdirAll(dst, 0o755))
		run(t, "mount", "--bind", src, dst)
	}
	for _, f := range declaredFiles {
		if skip[f] {
			continue
		}
		src, dst := s.M(storage+f), s.M(f)
		testutil.Must(t, os.MkdirAll(filepath.Dir(src), 0o755))
		testutil.Must(t, os.MkdirAll(filepath.Dir(dst), 0o755))
		if _, err := os.Stat(src); err == nil {
			// impermanence "auto": bind mount when the source exists
			touch(t, dst)
			run(t, "mount", "--bind", src, dst)
		} else {
			// ... else a symlink to the (missing) source
			testutil.Must(t, os.Symlink(storage+f, dst))
		}
	}
	for _, a := range activation {
		testutil.Must(t, os.MkdirAll(filepath.Dir(s.M(a.path)), 0o755))
		testutil.Must(t, os.Symlink(a.target, s.M(a.path)))
	}
}

// populate fills the running system with ordinary and adversarial entries,
// on the ephemeral root and on persistent storage.
func (s *system) populate() {
	t := s.t
	w := func(p, content string) {
		t.Helper()
		writeFile(t, s.M(p), content, 0o644)
	}
	ln := func(target, p string) {
		t.Helper()
		testutil.Must(t, os.MkdirAll(filepath.Dir(s.M(p)), 0o755))
		testutil.Must(t, os.Symlink(target, s.M(p)))
	}
	mkdir := func(p string) { t.Helper(); testutil.Must(t, os.MkdirAll(s.M(p), 0o755)) }
	for _, p := range bootedMountPoints {
		mkdir("/" + p) // what every booted root holds: the wipe retires a root, not a snapshot of data
	}

	// Persistent storage: sources of declared entries, written before the
	// switch (the stale copy of /etc/adjtime) or through the bind mounts.
	w("/etc/machine-id", "fedcba9876543210fedcba9876543210\n") // through the bind mount
	w("/etc/nixos/configuration.nix", "{ ... }: { }\n")
	w("/etc/nixos/hardware-configuration.nix", "{ ... }: { boot.initrd = { }; }\n")
	w("/var/lib/bluetooth/AA:BB:CC:DD:EE:FF/settings", "[General]\n")
	w("/root/.gnupg/pubring.kbx", "keys")
	w("/root/.bash_history", "ls\nreboot\n")
	w(storage+"/random/keep.txt", "persist directly")

	// Other persistent subvolumes.
	w("/var/log/x", "log line\n")
	w("/var/log/journal/abc/system.journal", "journal")
	w("/var/lib/other/state", "lib state")
	w("/home/u/file", "home file")
	w("/home/u/with space\nand newline", "home weird name")
	w("/nix/store/abc-hello/bin/hello", "#!/bin/sh\necho hello\n")

	// A bind mount from persistent storage that is no longer declared:
	// unmounted at the next boot, the data stays in /nix/persist.
	w(storage+"/opt/old-state/state.db", "old state")
	w(storage+"/opt/old-state/sub/deeper.txt", "deeper")
	mkdir("/opt/old-state")
	run(t, "mount", "--bind", s.M(storage+"/opt/old-state"), s.M("/opt/old-state"))
	w("/opt/old-state/written-through-bind", "through") // lands in persist

	// Declared but unbacked: the live data is on the ephemeral root.
	w("/srv/declared-unmounted/data.txt", "not actually persisted")
	w("/srv/declared-unmounted/sub/more.txt", "nor this")
	w("/etc/adjtime", "0.5 1700000000 0.0\n1700000000\nLOCAL\n")

	// The seed guide's impermanence test.
	w("/imperm_test/testfile", "This should be Gone after Reboot\n")

	// Ephemeral /etc (the root subvolume) and activation look-alikes.
	w("/etc/my-local-tweak.conf", "tweak=1\n")
	ln("/nix/store/33333333333333333333333333333333-profile", "/root/.nix-profile-link")
	w("/var/cache/foo/bar", "cache")

	// Nested subvolumes inside the root subvolume.
	mkdir("/srv")
	run(t, "btrfs", "subvolume", "create", s.M("/srv/nested-subvol"))
	w("/srv/nested-subvol/file", "in a nested subvolume")
	run(t, "btrfs", "subvolume", "create", s.M("/srv/nested-subvol/inner"))
	w("/srv/nested-subvol/inner/deep.txt", "nested twice")

	// Special files.
	mkdir("/tmp")
	testutil.Must(t, syscall.Mkfifo(s.M("/tmp/fifo"), 0o644))
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: s.M("/tmp/sock"), Net: "unix"})
	testutil.Must(t, err)
	l.SetUnlinkOnClose(false)
	testutil.Must(t, l.Close())

	// Hard links, symlink loop, dangling symlink.
	w("/data/hl-a", "hard linked")
	testutil.Must(t, os.Link(s.M("/data/hl-a"), s.M("/data/hl-b")))
	ln("b", "/links/a")
	ln("a", "/links/b")
	ln("/nonexistent/target", "/links/dangling")

	// A 1 GiB sparse file.
	mkdir("/big")
	f, err := os.Create(s.M("/big/sparse.img"))
	testutil.Must(t, err)
	testutil.Must(t, f.Truncate(1<<30))
	testutil.Must(t, f.Close())

	// Names.
	for _, n := range []string{nameSpace, nameNewline, nameBadUTF8, nameESC, nameTab, nameBSlash} {
		w(n, "name: "+n)
	}
	mkdir("/names/dir\x1b]0;title\x07")
	w("/names/dir\x1b]0;title\x07/inside", "x")

	// Mode-000 directory with a file in it, and an empty directory.
	w("/locked/secret", "secret")
	testutil.Must(t, os.Chmod(s.M("/locked"), 0))
	mkdir("/empty-dir")

	// Shadowed: on the root subvolume under mount points (written through the
	// top level, which shows the root subvolume without the mounts on it).
	for _, p := range []string{"/var/log/shadowed-under-log.txt", "/etc/nixos/hidden-under-bind.txt", "/home/shadowed-home.txt"} {
		testutil.Must(t, os.WriteFile(filepath.Join(s.top, "root", p), []byte("shadowed "+p), 0o644))
	}
}

// seedWipe returns the seed guide's boot.initrd.postResumeCommands, verbatim:
// the indented string after `lib.mkAfter ”` in fixtures/demo/impermanence.nix
// (the seed's impermanence.nix as users paste it).
func seedWipe(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "fixtures", "demo", "impermanence.nix")) // go test runs in test/e2e
	testutil.Must(t, err)
	text := string(data)
	start := strings.Index(text, "lib.mkAfter ''")
	if start < 0 {
		t.Fatal("fixtures/demo/impermanence.nix: no `lib.mkAfter ''` (the seed's wipe script)")
	}
	text = text[start+len("lib.mkAfter ''"):]
	end := strings.Index(text, "'';")
	if end < 0 {
		t.Fatal("fixtures/demo/impermanence.nix: the wipe script's '' string is not terminated")
	}
	return strings.TrimPrefix(text[:end], "\n")
}

// shutdownAndWipe unmounts the booted system (reverse mount order) and runs
// the seed's wipe. Before it, it plants two older roots: one 40 days old with
// a nested subvolume (the wipe must delete it recursively) and one 2 days old
// (it must stay). It returns the name the live root was moved to.
func (s *system) shutdownAndWipe() string {
	t := s.t
	s.unmountBelow(s.root)
	if mps := s.mountsBelow(s.root); len(mps) > 0 {
		t.Fatalf("still mounted after shutdown: %q", mps)
	}

	oldRoots := filepath.Join(s.top, "old_roots")
	testutil.Must(t, os.MkdirAll(oldRoots, 0o755))
	ancient := filepath.Join(oldRoots, "2020-1-5_09:03:07")
	run(t, "btrfs", "subvolume", "create", ancient)
	testutil.Must(t, os.WriteFile(filepath.Join(ancient, "old.txt"), []byte("old"), 0o644))
	run(t, "btrfs", "subvolume", "create", filepath.Join(ancient, "nested"))
	run(t, "btrfs", "subvolume", "create", filepath.Join(ancient, "nested", "deeper"))
	recent := filepath.Join(oldRoots, "2020-1-6_10:00:00")
	run(t, "btrfs", "subvolume", "create", recent)
	now := time.Now()
	testutil.Must(t, os.Chtimes(ancient, now.Add(-40*24*time.Hour), now.Add(-40*24*time.Hour)))
	testutil.Must(t, os.Chtimes(recent, now.Add(-2*24*time.Hour), now.Add(-2*24*time.Hour)))

	st, err := os.Stat(filepath.Join(s.top, "root"))
	testutil.Must(t, err)
	want := st.ModTime().UTC().Format("2006-1-2_15:04:05")

	tmp := filepath.Join(s.dir, "btrfs_tmp")
	script := strings.ReplaceAll(seedWipe(t), "/dev/disk/by-partlabel/disk-main-root", s.dev)
	script = strings.ReplaceAll(script, "/btrfs_tmp", tmp)
	cmd := command("bash", "-c", script)
	cmd.Env = append(os.Environ(), "TZ=UTC")
	out, err := cmd.CombinedOutput()
	t.Logf("wipe script output:\n%s", out)
	if err != nil {
		t.Fatalf("wipe script: %v", err)
	}

	names := readDirNames(t, oldRoots)
	sort.Strings(names)
	wantNames := []string{"2020-1-6_10:00:00", want}
	sort.Strings(wantNames)
	if strings.Join(names, "|") != strings.Join(wantNames, "|") {
		t.Fatalf("old_roots after the wipe = %q, want %q", names, wantNames)
	}
	if list := run(t, "btrfs", "subvolume", "list", s.top); strings.Contains(list, "2020-1-5") {
		t.Fatalf("the 40-day-old root was not deleted recursively:\n%s", list)
	}
	if names := readDirNames(t, filepath.Join(s.top, "root")); len(names) != 0 {
		t.Fatalf("new root is not empty: %q", names)
	}
	return want
}

// bootedMountPoints are the directories every booted root holds (the
// mount points stage 1 and systemd make), what drift's rule of what looks
// like a root reads (btrfs rootLike).
var bootedMountPoints = []string{"nix", "proc", "sys", "dev", "run"}

// oldRoot creates the subvolume dir (in old_roots) as a booted root left
// it: the mount points of bootedMountPoints, nothing else yet.
func oldRoot(t *testing.T, dir string) {
	t.Helper()
	testutil.Must(t, os.MkdirAll(filepath.Dir(dir), 0o755))
	run(t, "btrfs", "subvolume", "create", dir)
	for _, p := range bootedMountPoints {
		testutil.Must(t, os.Mkdir(filepath.Join(dir, p), 0o755))
	}
}

func (s *system) unmountAll() {
	s.unmountBelow(s.root)
	s.unmountBelow(s.top)
}

// unmountBelow unmounts every mount at or below dir, most recent first.
func (s *system) unmountBelow(dir string) {
	t := s.t
	t.Helper()
	mps := s.mountsBelow(dir)
	for i := len(mps) - 1; i >= 0; i-- {
		if out, err := command("umount", mps[i]).CombinedOutput(); err != nil {
			t.Logf("umount %q: %v: %s; retrying lazily", mps[i], err, out)
			if out, err := command("umount", "-l", mps[i]).CombinedOutput(); err != nil {
				t.Errorf("umount -l %q: %v: %s", mps[i], err, out)
			}
		}
	}
}

// mountsBelow lists the mount points at or below dir in mount order, from
// this namespace's mountinfo (read by internal/mounts).
func (s *system) mountsBelow(dir string) []string {
	tab, err := mounts.ReadFile("/proc/self/mountinfo")
	testutil.Must(s.t, err)
	var mps []string
	for _, m := range tab.Mounts {
		if mp := m.MountPoint; mp == dir || strings.HasPrefix(mp, dir+"/") {
			mps = append(mps, mp)
		}
	}
	return mps
}

func readDirNames(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	testutil.Must(t, err)
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

// writeFile writes content to p with exactly mode (whatever the umask),
// making p's parent directories first.
var writeFile = testutil.WriteFileMode

func touch(t *testing.T, p string) {
	t.Helper()
	f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY, 0o644)
	testutil.Must(t, err)
	testutil.Must(t, f.Close())
}

// validJSON guards the declarations constant.
func init() {
	var v map[string]any
	if err := json.Unmarshal([]byte(declarations), &v); err != nil {
		panic("declarations: " + err.Error())
	}
}
