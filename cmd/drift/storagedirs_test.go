package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nix-drift/drift/internal/testutil"
	"golang.org/x/sys/unix"
)

// TestStorageDirsAreTheDeclaredOnes: drift restore and drift adopt create
// a missing persistent directory by one rule (restore.ForDeclaration), as
// impermanence does: the declaration's user, group and mode. A fresh
// user's declaration said user = "postgres"; group = "postgres"; mode =
// "0750": restore made /nix/persist/var/lib/postgresql with the old
// root's owner and mode (root, 0755), adopt with the declared ones. Now
// both give the declared ones, whether the directory is the copy itself or
// a missing parent of a path below it.
func TestStorageDirsAreTheDeclaredOnes(t *testing.T) {
	if os.Geteuid() != 0 {
		testutil.SkipOrFatal(t, testutil.RequireHost, "needs root to give the directory another owner")
	}
	at := time.Date(2026, 11, 11, 9, 0, 0, 0, time.UTC)
	decl := `{ environment.persistence."/nix/persist".directories = [ { directory = "/var/lib/postgresql"; user = "postgres"; group = "postgres"; mode = "0750"; } ]; }`
	mountinfo := "22 1 0:20 / / rw - tmpfs none rw\n23 22 0:21 / /nix rw - btrfs /dev/sda2 rw,subvol=/nix\n"
	for _, tc := range []struct{ what, cmd, path string }{
		{"restore, a parent", "restore", "/var/lib/postgresql/16/oldwal"},
		{"restore, the copy", "restore", "/var/lib/postgresql"},
		{"adopt, a parent", "adopt", "/var/lib/postgresql/16"},
		{"adopt, the copy", "adopt", "/var/lib/postgresql"},
	} {
		dir := t.TempDir()
		data := map[string]testutil.Node{
			"var/lib/postgresql/16/oldwal": {Content: "wal", Mtime: at},
		}
		live := map[string]testutil.Node{
			"etc/passwd":        {Content: "root:x:0:0::/root:/bin/sh\npostgres:x:71:72::/var/lib/postgresql:/bin/sh\n", Mtime: at},
			"etc/group":         {Content: "root:x:0:\npostgres:x:72:\n", Mtime: at},
			"nix/persist/.keep": {Content: "", Mtime: at},
		}
		if tc.cmd == "adopt" {
			for p, n := range data {
				live[p] = n
			}
		}
		testutil.Build(t, filepath.Join(dir, "root"), live, at)
		old := filepath.Join(dir, "old", "2026-11-11_09:00:00")
		testutil.Build(t, old, data, at)
		for name, s := range map[string]string{"decl.nix": decl, "mountinfo": mountinfo} {
			testutil.Must(t, os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644))
		}
		args := []string{tc.cmd, tc.path, "--root", dir + "/root", "--persist", dir + "/decl.nix"}
		if tc.cmd == "restore" {
			args = append(args, "--from", old) // the live mount table, relative to --root: nothing mounted there
		} else {
			args = append(args, "--mountinfo", dir+"/mountinfo")
		}
		if code, out, errs := runDrift(t, args...); code != 0 {
			t.Fatalf("%s: drift %v: exit %d\n%s%s", tc.what, args, code, out, errs)
		}
		var st unix.Stat_t
		testutil.Must(t, unix.Lstat(filepath.Join(dir, "root/nix/persist/var/lib/postgresql"), &st))
		if st.Uid != 71 || st.Gid != 72 || st.Mode&0o7777 != 0o750 {
			t.Errorf("%s: /nix/persist/var/lib/postgresql is %d:%d %04o, want the declared postgres:postgres (71:72) 0750", tc.what, st.Uid, st.Gid, st.Mode&0o7777)
		}
	}
}
