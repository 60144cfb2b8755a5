package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nix-drift/drift/internal/pathx"
	"github.com/nix-drift/drift/internal/testutil"
)

// suggestProperties checks what must hold for any system: drift suggest
// --format nix passes drift lint; every path it proposes to persist is
// lost per drift check, or vanished at the last wipe and declared by
// nothing (checkVanished); every path drift check reports lost is in one
// suggestion or left to the user (suggestAccountsForLost, whose kinds of
// lost paths it returns); nothing it proposes to remove is, holds or lies
// below a path in use (the sources of the mount table's bind mounts, the
// paths the options name, what the in-use rows list).
func suggestProperties(t *testing.T, dir string, args []string, inUse []string) (kinds map[string]bool) {
	t.Helper()
	lintClean(t, dir, args)
	kinds = suggestAccountsForLost(t, args)
	rep := suggestOf(t, args)
	lost := checkPaths(t, args)
	vanished := checkVanished(t, args)
	persist := rep.withAction("persist")
	for _, p := range persist {
		// /var/lib/private comes with the DynamicUser state below it for
		// its mode (drift lint's private-parent-mode), lost or not.
		companion := p == "/var/lib/private" && slices.ContainsFunc(persist, func(q string) bool { return q != p && pathx.Contains(p, q) })
		gone := false // at or below a vanished row (a container's is split)
		for v := range vanished {
			gone = gone || pathx.HasPrefix(p, v)
		}
		if !lost[p] && !gone && !companion {
			t.Errorf("suggested %s, not lost (nor vanished) per drift check", p)
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
	return kinds
}

// TestSuggestPropertiesFixtures: the properties over every fixture system:
// the workstation, the bundled demo (with and without its ignore file),
// the machine above (with and without fstab), the machine whose
// configuration mounts subvolumes that are not mounted now. Between them
// they hold every kind of lost path (lostKinds), each of which suggest
// must account for.
func TestSuggestPropertiesFixtures(t *testing.T) {
	kinds := map[string]bool{}
	seen := func(k map[string]bool) {
		for x := range k {
			kinds[x] = true
		}
	}
	t.Run("workstation", func(t *testing.T) {
		dir, args := workstation(t)
		seen(suggestProperties(t, dir, args, []string{"/nix/persist/var/log", "/nix/persist/var/lib/svc-a"}))
	})
	demo, err := filepath.Abs("../../fixtures/demo")
	if err != nil {
		t.Fatal(err)
	}
	for _, ignore := range []bool{false, true} {
		t.Run(fmt.Sprintf("demo-ignore-%v", ignore), func(t *testing.T) {
			args := []string{"--root", demo + "/root", "--mountinfo", demo + "/mountinfo", "--persist", demo + "/impermanence.nix",
				"--now", "2100-01-01T00:00:00Z", "--quiet"}
			if ignore {
				args = append(args, "--ignore-file", demo+"/ignore")
			}
			seen(suggestProperties(t, t.TempDir(), args, nil))
		})
	}
	for _, fstab := range []bool{true, false} {
		t.Run(fmt.Sprintf("machine-fstab-%v", fstab), func(t *testing.T) {
			dir, args := machine(t, fstab)
			seen(suggestProperties(t, dir, args, []string{"/nix/persist/passwords/alice", "/nix/persist/passwords/root",
				"/nix/persist/etc/ssh/ssh_host_ed25519_key", "/nix/persist/var/lib/sops-nix/key.txt", "/nix/persist/etc/age/identity",
				"/nix/persist/var/lib/postgresql"}))
		})
	}
	t.Run("subvolumes-unmounted", func(t *testing.T) {
		root, args := subvolMachine(t, subvolBase, map[string]testutil.Node{
			"var/log/x":      file("hi"),
			"home/bob/notes": file("b"),
			"etc/stray":      file("s"),
		})
		seen(suggestProperties(t, filepath.Dir(root), append(args, "--now", "2100-01-01T00:00:00Z"), nil))
	})
	t.Run("declared-elsewhere", func(t *testing.T) {
		dir, args := declaredElsewhere(t)
		seen(suggestProperties(t, dir, args, nil))
	})
	t.Run("vanished", func(t *testing.T) {
		dir, args := vanishedMachine(t)
		seen(suggestProperties(t, dir, args, nil))
	})
	for _, k := range lostKinds {
		if !kinds[k] {
			t.Errorf("no fixture holds a lost path of the kind %s: its accounting is untested (kinds met: %v)", k, kinds)
		}
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
