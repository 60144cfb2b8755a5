package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/pathx"
	"github.com/nix-drift/drift/internal/testutil"
)

// suggestJSON is what the safety tests read of drift suggest --format json.
type suggestJSON struct {
	Suggestions []struct {
		Action   string   `json:"action"`
		Path     string   `json:"path"`
		Type     string   `json:"type"`
		LivePath string   `json:"livePath"`
		UsedBy   []string `json:"usedBy"`
	} `json:"suggestions"`
	Left []struct {
		Reason   string   `json:"reason"`
		Count    int      `json:"count"`
		Examples []string `json:"examples"`
	} `json:"left"`
}

func suggestOf(t *testing.T, args []string) suggestJSON {
	t.Helper()
	code, out, errs := runDrift(t, append(append([]string{"suggest"}, args...), "--format", "json")...)
	if code != 0 {
		t.Fatalf("drift suggest: exit %d: %s", code, errs)
	}
	var rep suggestJSON
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	return rep
}

// withAction is the paths of the suggestions of action.
func (r suggestJSON) withAction(action string) []string {
	var out []string
	for _, s := range r.Suggestions {
		if s.Action == action {
			out = append(out, s.Path)
		}
	}
	return out
}

// leftFor is the Left whose reason starts with prefix (examples and count).
func (r suggestJSON) leftFor(prefix string) (examples []string, count int) {
	for _, l := range r.Left {
		if strings.HasPrefix(l.Reason, prefix) {
			return l.Examples, l.Count
		}
	}
	return nil, 0
}

// machine is a fixture modelled on the machine of the issue that asked for
// one model of the machine: users' password files, the host key and the
// secrets' keys under /nix/persist, named only by options of the
// configuration; /var/lib/postgresql bind-mounted from /nix/persist by
// fileSystems (/etc/fstab); the mount points /boot, /dev, /proc, /sys and
// /run as empty directories on the image (audited from a rescue system,
// nothing mounted there); nix-env's /root/.nix-profile link;
// home-manager's links; DynamicUser state below /var/lib/private. fstab
// says whether ROOT/etc/fstab holds the bind mount.
func machine(t *testing.T, fstab bool) (dir string, args []string) {
	t.Helper()
	dir = t.TempDir()
	decl := `{ ... }: {
  users.mutableUsers = false;
  users.users.alice.hashedPasswordFile = "/nix/persist/passwords/alice";
  users.users.root.hashedPasswordFile = "/nix/persist/passwords/root";
  services.openssh.hostKeys = [ { path = "/nix/persist/etc/ssh/ssh_host_ed25519_key"; type = "ed25519"; } ];
  sops.age.keyFile = "/nix/persist/var/lib/sops-nix/key.txt";
  services.myservice.passwordFile = "/nix/persist/secrets/myservice";
  services.restic.backups.daily.paths = [ "/nix/persist" ];
  age.identityPaths = [ "/nix/persist/etc/age/identity" ];
  fileSystems."/boot" = { device = "/dev/disk/by-label/BOOT"; fsType = "vfat"; };
  environment.persistence."/nix/persist" = {
    directories = [ "/var/log" ];
    files = [ "/etc/machine-id" ];
  };
}
`
	mountinfo := `22 1 0:31 /root / rw shared:1 - btrfs /dev/vda2 rw,subvol=/root
27 22 0:31 /nix /nix rw shared:14 - btrfs /dev/vda2 rw,subvol=/nix
28 27 0:31 /persist /nix/persist rw shared:15 - btrfs /dev/vda2 rw,subvol=/persist
40 22 0:31 /persist/var/log /var/log rw - btrfs /dev/vda2 rw
41 22 0:31 /persist/etc/machine-id /etc/machine-id rw - btrfs /dev/vda2 rw
42 22 0:31 /persist/var/lib/postgresql /var/lib/postgresql rw - btrfs /dev/vda2 rw
`
	for name, data := range map[string]string{"decl.nix": decl, "mountinfo": mountinfo} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tree := map[string]testutil.Node{
		"etc/machine-id":                      file("0123456789abcdef0123456789abcdef\n"),
		"etc/hostname":                        file("box\n"),
		"var/lib/postgresql/PG_VERSION":       file("16\n"),
		"var/lib/private/kea/kea-leases4.csv": file("lease"),
		"var/lib/myapp/state.db":              file("state"),
		"boot":                                {Dir: true},
		"dev":                                 {Dir: true},
		"proc":                                {Dir: true},
		"sys":                                 {Dir: true},
		"run/leftover":                        file("x"),
		"root/notes.txt":                      file("notes"),
		"home/alice/.config/git":              {Dir: true},
		"nix/persist/passwords/alice":         file("$y$alice"),
		"nix/persist/passwords/root":          file("$y$root"),
		"nix/persist/etc/ssh/ssh_host_ed25519_key":     file("K"),
		"nix/persist/etc/machine-id":                   file("0123456789abcdef0123456789abcdef\n"),
		"nix/persist/var/lib/sops-nix/key.txt":         file("AGE-SECRET-KEY-1"),
		"nix/persist/etc/age/identity":                 file("AGE-SECRET-KEY-2"),
		"nix/persist/var/log/messages":                 file("log"),
		"nix/persist/var/lib/postgresql/PG_VERSION":    file("16\n"),
		"nix/persist/var/lib/postgresql/base/1/112":    file("table"),
		"nix/persist/var/lib/old-app/db":               file("forgotten"),
		"nix/persist/secrets/myservice":                file("pw"),
		"nix/var/nix/profiles/per-user/root/profile/x": file(""),
	}
	if fstab {
		// NixOS generates it: /etc/fstab -> /etc/static/fstab -> the
		// store's etc (links made below).
		tree["nix/store/0123456789abcdfghijklmnpqrsvwxyz-etc/etc/fstab"] = file("/dev/disk/by-label/BOOT /boot vfat defaults 0 2\n/nix/persist/var/lib/postgresql /var/lib/postgresql none bind 0 0\n")
	}
	root := filepath.Join(dir, "root")
	testutil.Build(t, root, tree, fixtureTime)
	links := map[string]string{
		"root/.nix-profile":             "/nix/var/nix/profiles/per-user/root/profile",
		"home/alice/.config/git/config": "/nix/store/0123456789abcdfghijklmnpqrsvwxyz-home-manager-files/.config/git/config",
	}
	if fstab {
		links["etc/static"] = "/nix/store/0123456789abcdfghijklmnpqrsvwxyz-etc/etc"
		links["etc/fstab"] = "/etc/static/fstab"
	}
	for link, target := range links {
		if err := os.Symlink(target, filepath.Join(root, link)); err != nil {
			t.Fatal(err)
		}
	}
	args = []string{"--root", root, "--mountinfo", filepath.Join(dir, "mountinfo"), "--persist", filepath.Join(dir, "decl.nix"),
		"--old-roots", "none", "--quiet"}
	return dir, args
}

// TestSuggestKeepsPasswordFilesAndKeys: what the configuration names
// under the persistent storage path — users' hashedPasswordFile (with
// mutableUsers = false: removing it locks everyone out), the host key,
// sops-nix's and agenix's keys, any other option's path (a service's
// passwordFile) — is in use, listed with the option that names it, never
// declare-or-remove; what nothing uses still is, even when an option
// names the whole storage path (a backup's paths). Field case C10.
func TestSuggestKeepsPasswordFilesAndKeys(t *testing.T) {
	_, args := machine(t, true)
	rep := suggestOf(t, args)
	remove := rep.withAction("declare-or-remove")
	for _, p := range []string{"/nix/persist/secrets", "/nix/persist/secrets/myservice", "/nix/persist/passwords", "/nix/persist/passwords/alice", "/nix/persist/etc/ssh", "/nix/persist/etc/ssh/ssh_host_ed25519_key",
		"/nix/persist/var/lib/sops-nix", "/nix/persist/etc/age", "/nix/persist/etc/age/identity", "/nix/persist/var/lib/sops-nix/key.txt"} {
		if slices.Contains(remove, p) {
			t.Errorf("%s proposed for removal: %q", p, remove)
		}
	}
	want := map[string]string{
		"/nix/persist/passwords/alice":              "users.users.alice.hashedPasswordFile",
		"/nix/persist/passwords/root":               "users.users.root.hashedPasswordFile",
		"/nix/persist/etc/ssh/ssh_host_ed25519_key": "services.openssh.hostKeys",
		"/nix/persist/var/lib/sops-nix/key.txt":     "sops.age.keyFile",
		"/nix/persist/etc/age/identity":             "age.identityPaths",
		"/nix/persist/secrets/myservice":            "services.myservice.passwordFile",
	}
	for _, s := range rep.Suggestions {
		if s.Action != "in-use" {
			continue
		}
		if opt, ok := want[s.Path]; ok && slices.ContainsFunc(s.UsedBy, func(u string) bool { return strings.HasPrefix(u, opt) }) {
			delete(want, s.Path)
		}
	}
	if len(want) > 0 {
		t.Errorf("not listed as in use with the option naming them: %v\n%+v", want, rep.Suggestions)
	}
	if !slices.Contains(remove, "/nix/persist/var/lib/old-app") {
		t.Errorf("stray data nothing uses is not declare-or-remove any more: %q", remove)
	}
}

// TestSuggestKeepsMountedData: the source of a live bind mount
// (/nix/persist/var/lib/postgresql at /var/lib/postgresql) is in use,
// "mounted at", never declare-or-remove — whether or not /etc/fstab makes
// the mount again at the next boot.
func TestSuggestKeepsMountedData(t *testing.T) {
	for _, fstab := range []bool{true, false} {
		_, args := machine(t, fstab)
		rep := suggestOf(t, args)
		for _, p := range rep.withAction("declare-or-remove") {
			if pathx.Contains(p, "/nix/persist/var/lib/postgresql") || pathx.Contains("/nix/persist/var/lib/postgresql", p) {
				t.Errorf("fstab %v: %s proposed for removal while mounted", fstab, p)
			}
		}
		i := slices.IndexFunc(rep.Suggestions, func(s struct {
			Action   string   `json:"action"`
			Path     string   `json:"path"`
			Type     string   `json:"type"`
			LivePath string   `json:"livePath"`
			UsedBy   []string `json:"usedBy"`
		}) bool {
			return s.Action == "in-use" && s.Path == "/nix/persist/var/lib/postgresql"
		})
		if i < 0 || !slices.ContainsFunc(rep.Suggestions[i].UsedBy, func(u string) bool { return strings.HasPrefix(u, "mounted at /var/lib/postgresql") }) {
			t.Errorf("fstab %v: the mounted directory is not listed as in use: %+v", fstab, rep.Suggestions)
		}
	}
}

// TestCheckFstabBindMountNotUnmounted: a bind mount from the persistent
// storage path that /etc/fstab (NixOS's fileSystems) makes again at every
// boot is not unmounted — only one that nothing makes again is.
func TestCheckFstabBindMountNotUnmounted(t *testing.T) {
	for _, fstab := range []bool{true, false} {
		_, args := machine(t, fstab)
		_, out, errs := runDrift(t, append(append([]string{"check"}, args...), "--format", "json")...)
		var rep struct {
			Items []struct {
				Path     string `json:"path"`
				Category string `json:"category"`
			} `json:"items"`
		}
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("%v: %s\n%s", err, out, errs)
		}
		unmounted := slices.ContainsFunc(rep.Items, func(it struct {
			Path     string `json:"path"`
			Category string `json:"category"`
		}) bool {
			return it.Category == "unmounted" && pathx.Contains("/var/lib/postgresql", it.Path)
		})
		if unmounted == fstab {
			t.Errorf("fstab %v: /var/lib/postgresql unmounted = %v: %+v", fstab, unmounted, rep.Items)
		}
	}
}

// TestSuggestNeverAPIOrMountPoints: the empty mount points of an
// image (/boot, /dev, /proc, /sys) and what lies on an API filesystem's
// directory (/run) are never suggested; the mount points are not lost (the
// next boot makes them again), so they are not left to the user either;
// what is printed passes drift lint. Field case C19.
func TestSuggestNeverAPIOrMountPoints(t *testing.T) {
	dir, args := machine(t, true)
	rep := suggestOf(t, args)
	for _, p := range rep.withAction("persist") {
		for _, bad := range []string{"/boot", "/dev", "/proc", "/sys", "/run"} {
			if pathx.Contains(bad, p) || pathx.Contains(p, bad) {
				t.Errorf("%s suggested", p)
			}
		}
	}
	// The empty mount points (/boot of fileSystems, the API filesystems'
	// /dev, /proc, /sys) are not lost at all: the next boot makes them
	// again as mount points. Nothing left to the user names them.
	for _, l := range rep.Left {
		for _, p := range l.Examples {
			if slices.Contains([]string{"/boot", "/dev", "/proc", "/sys"}, p) {
				t.Errorf("%s left to the user (%s), though the next boot makes it again", p, l.Reason)
			}
		}
	}
	lintClean(t, dir, args)
}

// TestSuggestSymlinkLeftWithReason: a symlink (nix-env's
// /root/.nix-profile) is never declared as a file — impermanence would
// bind-mount what it points to — but left out, saying so. Field case C23.
func TestSuggestSymlinkLeftWithReason(t *testing.T) {
	_, args := machine(t, true)
	rep := suggestOf(t, args)
	if slices.Contains(rep.withAction("persist"), "/root/.nix-profile") {
		t.Errorf("/root/.nix-profile declared: %q", rep.withAction("persist"))
	}
	if ex, _ := rep.leftFor("symlinks: impermanence"); !slices.Contains(ex, "/root/.nix-profile") {
		t.Errorf("/root/.nix-profile not left with its reason: %+v", rep.Left)
	}
}

// TestSuggestPrivateParentMode: DynamicUser state below /var/lib/private
// brings /var/lib/private 0700 along (drift lint's private-parent-mode
// rejects the one without the other). Field case C21.
func TestSuggestPrivateParentMode(t *testing.T) {
	dir, args := machine(t, true)
	code, out, errs := runDrift(t, append(append([]string{"suggest"}, args...), "--format", "nix")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(out, `{ directory = "/var/lib/private"; user = "root"; group = "root"; mode = "0700"; }`) || !strings.Contains(out, `"/var/lib/private/kea"`) {
		t.Errorf("no /var/lib/private 0700 with /var/lib/private/kea:\n%s", out)
	}
	lintClean(t, dir, args)
}

// TestHomeManagerLinksOneCategory: check and suggest give home-manager's
// links the same category — recreated (its activation makes them and
// their directories again): check lists neither, suggest neither
// suggests nor counts them; nix-env's link is lost for both.
func TestHomeManagerLinksOneCategory(t *testing.T) {
	_, args := machine(t, true)
	lost := checkPaths(t, args)
	for _, p := range []string{"/home/alice/.config/git/config", "/home/alice/.config/git"} {
		if lost[p] {
			t.Errorf("check: %s lost", p)
		}
	}
	if !lost["/root/.nix-profile"] {
		t.Errorf("check: /root/.nix-profile not lost")
	}
	rep := suggestOf(t, args)
	for _, l := range rep.Left {
		for _, p := range l.Examples {
			if strings.HasPrefix(p, "/home/alice/.config/git") {
				t.Errorf("suggest counts %s (%s), check does not", p, l.Reason)
			}
		}
	}
	for _, s := range rep.Suggestions {
		if strings.HasPrefix(s.Path, "/home/alice/.config") {
			t.Errorf("suggest: %s %s", s.Action, s.Path)
		}
	}
}

// checkPaths is drift check's lost set (--format paths0 --all) for the
// audit flags of a suggest command line.
func checkPaths(t *testing.T, suggestArgs []string) map[string]bool {
	t.Helper()
	var args []string
	for i := 0; i < len(suggestArgs); i++ {
		switch a := suggestArgs[i]; {
		case a == "--now" || a == "--boots" || a == "--storage-path":
			i++
		case strings.HasPrefix(a, "--now=") || strings.HasPrefix(a, "--boots="):
		default:
			args = append(args, a)
		}
	}
	code, out, errs := runDrift(t, append(append([]string{"check"}, args...), "--format", "paths0", "--all")...)
	if code > 1 {
		t.Fatalf("drift check: exit %d: %s", code, errs)
	}
	lost := map[string]bool{}
	for _, p := range strings.Split(out, "\x00") {
		if p != "" {
			lost[p] = true
		}
	}
	return lost
}

// lintClean runs drift lint --fail-on info on what drift suggest --format
// nix prints for args: no error, no warning, no info (a fresh user's first
// pipe, drift suggest --format nix | drift lint -, gave four false
// missing-state warnings on a module that is not a host).
func lintClean(t *testing.T, dir string, args []string) {
	t.Helper()
	code, out, errs := runDrift(t, append(append([]string{"suggest"}, args...), "--format", "nix")...)
	if code != 0 {
		t.Fatalf("drift suggest --format nix: exit %d: %s", code, errs)
	}
	f := filepath.Join(dir, "suggested.nix")
	if err := os.WriteFile(f, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, lout, lerrs := runDrift(t, "lint", "--fail-on", "info", f); code != 0 {
		t.Errorf("drift lint on drift suggest's output: exit %d:\n%s%s\n--- the output:\n%s", code, lout, lerrs, out)
	}
}

// suggestProperties checks what must hold for any system: drift suggest
// --format nix passes drift lint; every path it proposes to persist is
// lost per drift check; nothing it proposes to remove is, holds or lies
// below a path in use (the sources of the mount table's bind mounts, the
// paths the options name, what the in-use rows list).
func suggestProperties(t *testing.T, dir string, args []string, inUse []string) {
	t.Helper()
	lintClean(t, dir, args)
	rep := suggestOf(t, args)
	lost := checkPaths(t, args)
	persist := rep.withAction("persist")
	for _, p := range persist {
		// /var/lib/private comes with the DynamicUser state below it for
		// its mode (drift lint's private-parent-mode), lost or not.
		companion := p == "/var/lib/private" && slices.ContainsFunc(persist, func(q string) bool { return q != p && pathx.Contains(p, q) })
		if !lost[p] && !companion {
			t.Errorf("suggested %s, not lost per drift check", p)
		}
	}
	used := slices.Clone(inUse)
	for _, s := range rep.Suggestions {
		if s.Action == "in-use" {
			used = append(used, s.Path)
		}
	}
	for _, p := range rep.withAction("declare-or-remove") {
		for _, u := range used {
			if pathx.Contains(p, u) || pathx.Contains(u, p) {
				t.Errorf("%s proposed for removal; %s is in use", p, u)
			}
		}
	}
}

// TestSuggestPropertiesFixtures: the properties over every fixture system:
// the workstation, the bundled demo, the machine above (with and without
// fstab).
func TestSuggestPropertiesFixtures(t *testing.T) {
	t.Run("workstation", func(t *testing.T) {
		dir, args := workstation(t)
		suggestProperties(t, dir, args, []string{"/nix/persist/var/log", "/nix/persist/var/lib/svc-a"})
	})
	t.Run("demo", func(t *testing.T) {
		demo, err := filepath.Abs("../../fixtures/demo")
		if err != nil {
			t.Fatal(err)
		}
		args := []string{"--root", demo + "/root", "--mountinfo", demo + "/mountinfo", "--persist", demo + "/impermanence.nix",
			"--now", "2100-01-01T00:00:00Z", "--quiet"}
		suggestProperties(t, t.TempDir(), args, nil)
	})
	for _, fstab := range []bool{true, false} {
		t.Run(fmt.Sprintf("machine-fstab-%v", fstab), func(t *testing.T) {
			dir, args := machine(t, fstab)
			suggestProperties(t, dir, args, []string{"/nix/persist/passwords/alice", "/nix/persist/passwords/root",
				"/nix/persist/etc/ssh/ssh_host_ed25519_key", "/nix/persist/var/lib/sops-nix/key.txt", "/nix/persist/etc/age/identity",
				"/nix/persist/var/lib/postgresql"})
		})
	}
}

// TestSuggestPropertiesGenerated: the properties over generated systems:
// random trees of state, caches, API and mount-point directories,
// symlinks (into the store, into persistent storage, elsewhere) and
// persistent storage with declared, bind-mounted, referenced and
// forgotten data; and with a generated --storage-path, whose nix output
// passes drift lint unless suggest refuses the path with an error.
func TestSuggestPropertiesGenerated(t *testing.T) {
	seeds := 12
	if testing.Short() {
		seeds = 3
	}
	for seed := range seeds {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			dir, args, inUse := generatedSystem(t, uint64(seed))
			suggestProperties(t, dir, args, inUse)
			// A generated --storage-path: refused with an error and
			// nothing printed, or declarations drift lint accepts.
			sps := []string{"/var/lib", "/etc", "/nix/state", "/persist", "/srv", "/nix/persist/sub", "/home/alice/persist"}
			sp := sps[seed%len(sps)]
			code, out, errs := runDrift(t, append(append([]string{"suggest"}, args...), "--format", "nix", "--storage-path", sp)...)
			if code != 0 {
				if out != "" || !strings.Contains(errs, "--storage-path "+sp) {
					t.Errorf("--storage-path %s: exit %d, printed %q, said %q", sp, code, out, errs)
				}
				return
			}
			f := filepath.Join(dir, "suggested-sp.nix")
			if err := os.WriteFile(f, []byte(out), 0o644); err != nil {
				t.Fatal(err)
			}
			if code, lout, lerrs := runDrift(t, "lint", "--fail-on", "info", f); code != 0 {
				t.Errorf("--storage-path %s: drift lint on drift suggest's output: exit %d:\n%s%s\n--- the output:\n%s", sp, code, lout, lerrs, out)
			}
		})
	}
}

// generatedSystem builds a random system from seed; inUse are the paths
// under the persistent storage path its mount table and configuration use.
func generatedSystem(t *testing.T, seed uint64) (dir string, args, inUse []string) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 42))
	dir = t.TempDir()
	pick := func(xs ...string) string { return xs[r.IntN(len(xs))] }
	name := func() string {
		return pick("app", "db", "cache", "state", "conf", "data", "x", "y", "z", "logs", "keys") + fmt.Sprint(r.IntN(5))
	}
	parents := []string{"var/lib", "var/lib/private", "etc", "srv", "opt", "root", "home/alice", "home/alice/.config", "home/alice/.local/share",
		"var/cache", "tmp", "boot", "dev", "run", "sys", "proc", "usr/local", "var/db", "mnt"}
	tree := map[string]testutil.Node{}
	var decls, files []string
	for range 20 + r.IntN(30) {
		p := pick(parents...) + "/" + name()
		if r.IntN(3) == 0 {
			p += "/" + name()
		}
		tree[p+".f"] = file(fmt.Sprint(r.IntN(1000))) // never a directory's name too
	}
	for _, d := range []string{"boot", "dev", "proc", "sys"} {
		tree[d] = testutil.Node{Dir: true}
	}
	mi := "22 1 0:31 /root / rw shared:1 - btrfs /dev/vda2 rw,subvol=/root\n27 22 0:31 /nix /nix rw - btrfs /dev/vda2 rw,subvol=/nix\n28 27 0:31 /persist /nix/persist rw - btrfs /dev/vda2 rw,subvol=/persist\n"
	id := 40
	var keys []string
	for range 3 + r.IntN(6) {
		live := "/" + pick("var/lib", "etc", "srv", "var/lib/private") + "/" + name()
		src := "nix/persist" + live
		tree[src+"/"+name()+".f"] = file("kept")
		switch r.IntN(4) {
		case 0: // declared and mounted
			decls = append(decls, live)
			mi += fmt.Sprintf("%d 22 0:31 /persist%s %s rw - btrfs /dev/vda2 rw\n", id, live, live)
			id++
		case 1: // bind-mounted, declared by nothing
			mi += fmt.Sprintf("%d 22 0:31 /persist%s %s rw - btrfs /dev/vda2 rw\n", id, live, live)
			id++
			inUse = append(inUse, "/"+src)
		case 2: // a file an option names
			f := "/" + src + "/" + name() + ".key"
			tree[strings.TrimPrefix(f, "/")] = file("secret")
			keys = append(keys, f)
			inUse = append(inUse, f)
		default: // forgotten
		}
	}
	for range r.IntN(4) {
		f := "/etc/" + name() + ".conf"
		files = append(files, f)
		tree["nix/persist"+f] = file("f")
	}
	q := func(xs []string) string {
		var b []string
		for _, x := range xs {
			b = append(b, fmt.Sprintf("%q", x))
		}
		return strings.Join(b, " ")
	}
	slices.Sort(decls)
	decls = slices.Compact(decls)
	slices.Sort(files)
	files = slices.Compact(files)
	nix := fmt.Sprintf("{ ... }: {\n  age.identityPaths = [ %s ];\n  environment.persistence.\"/nix/persist\" = {\n    directories = [ %s ];\n    files = [ %s ];\n  };\n}\n",
		q(keys), q(append([]string{"/var/log"}, decls...)), q(files))
	for name, data := range map[string]string{"decl.nix": nix, "mountinfo": mi} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	root := filepath.Join(dir, "root")
	testutil.Build(t, root, tree, fixtureTime)
	for range r.IntN(5) {
		link := pick("etc", "root", "home/alice", "var/lib") + "/" + name() + ".link"
		target := pick("/nix/store/0123456789abcdfghijklmnpqrsvwxyz-foo/bin/foo", "/nix/persist/etc/"+name(), "../elsewhere",
			"/nix/store/0123456789abcdfghijklmnpqrsvwxyz-home-manager-files/"+name())
		if _, err := os.Lstat(filepath.Join(root, link)); err == nil {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(root, link)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, filepath.Join(root, link)); err != nil {
			t.Fatal(err)
		}
	}
	args = []string{"--root", root, "--mountinfo", filepath.Join(dir, "mountinfo"), "--persist", filepath.Join(dir, "decl.nix"),
		"--old-roots", "none", "--now", time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC).Format(time.RFC3339), "--quiet"}
	return dir, args, inUse
}

// TestCheckAndSuggestSayTheSameOfARegeneratedFile: a regular
// /etc/hostname identical in every old root (the fresh user's: check said
// "lost", suggest "regenerated") is one thing for both: check lists it
// unpersisted with history same and says it is made again at every boot
// (suggest's --ignore is what to do); suggest proposes the --ignore rule,
// saying it is lost at the wipe and made again, in the same words.
func TestCheckAndSuggestSayTheSameOfARegeneratedFile(t *testing.T) {
	dir := t.TempDir()
	for p, s := range map[string]string{
		"root/etc/hostname":                    "box\n",
		"old/2026-11-10_09:00:00/etc/hostname": "box\n",
		"old/2026-11-9_10:00:00/etc/hostname":  "box\n",
		"decl.nix":                             `{ environment.persistence."/nix/persist".directories = [ "/var/log" ]; }`,
		"mountinfo":                            "22 1 0:20 / / rw - tmpfs none rw\n23 22 0:21 / /nix rw - btrfs /dev/sda2 rw,subvol=/nix\n",
		"root/nix/persist/.keep":               "",
	} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, p), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	args := []string{"--root", dir + "/root", "--mountinfo", dir + "/mountinfo", "--persist", dir + "/decl.nix", "--old-roots", dir + "/old", "--quiet"}
	code, out, errs := runDrift(t, append(append([]string{"check"}, args...), "--format", "json")...)
	if code != 1 {
		t.Fatalf("check: exit %d: %s", code, errs)
	}
	var rep struct {
		Items []struct{ Path, Category, History, Why string }
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(rep.Items, func(it struct{ Path, Category, History, Why string }) bool { return it.Path == "/etc/hostname" })
	if i < 0 || rep.Items[i].Category != "unpersisted" || rep.Items[i].History != "same" || !strings.Contains(rep.Items[i].Why, diff.SameMeans) || !strings.Contains(rep.Items[i].Why, "--ignore") {
		t.Errorf("check: /etc/hostname %+v, want unpersisted, same, made again at every boot, --ignore:\n%s", rep.Items, out)
	}
	code, out, errs = runDrift(t, append(append([]string{"suggest"}, args...), "--format", "json")...)
	if code != 0 {
		t.Fatalf("suggest: exit %d: %s", code, errs)
	}
	type sug struct{ Action, Path, Note string }
	var s struct{ Suggestions []sug }
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatal(err)
	}
	j := slices.IndexFunc(s.Suggestions, func(x sug) bool { return x.Path == "/etc/hostname" })
	if j < 0 || s.Suggestions[j].Action != "ignore" || !strings.Contains(s.Suggestions[j].Note, diff.SameMeans) {
		t.Errorf("suggest: /etc/hostname %+v, want ignore saying %q", s.Suggestions, diff.SameMeans)
	}
}
