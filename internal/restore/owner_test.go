package restore

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/persist"
)

// TestDeclaredOwnerOfAUserDirectoryIsTheUsers: a users.alice directory
// (impermanence's users form, or home-manager) that writes only a mode
// gets alice's uid and primary gid from the live /etc/passwd, as the
// module creates it; a user not in /etc/passwd keeps the live owner, with a
// warning; a system-wide entry stays root's unless it says otherwise.
func TestDeclaredOwnerOfAUserDirectoryIsTheUsers(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "etc/passwd"), []byte("root:x:0:0::/root:/bin/sh\nalice:x:1000:100::/home/alice:/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	entry := func(owner string) persist.Entry {
		e := persist.Entry{Kind: persist.Dir, Path: "/home/alice/x", Origin: &persist.Origin{User: owner, Mode: "0700", Owner: owner, Home: "/home/alice"}}
		e.SetAttrs([]persist.Attr{{Name: "directory"}, {Name: "mode", Value: "0700", IsString: true}})
		return e
	}
	o, warns := DeclaredOwner(root, entry("alice"))
	if o == nil || o.UID != 1000 || o.GID != 100 || o.Mode != 0o700 || len(warns) > 0 {
		t.Errorf("users.alice: %+v %q, want 1000:100 0700", o, warns)
	}
	o, warns = DeclaredOwner(root, entry("bob"))
	if o == nil || o.UID != -1 || o.GID != -1 || o.Mode != 0o700 || len(warns) != 1 || !strings.Contains(warns[0], "bob is not in") {
		t.Errorf("users.bob (not in /etc/passwd): %+v %q, want the live owner, mode 0700, one warning", o, warns)
	}
	sys := entry("")
	sys.Origin.User = "root"
	o, _ = DeclaredOwner(root, sys)
	if o == nil || o.UID != -1 || o.GID != -1 {
		t.Errorf("system-wide: %+v, want the live owner (nothing declared)", o)
	}
}

// TestDeclaredSymbolicModeIsMkdirs: a symbolic mode gives the persistent
// copy the mode impermanence's mkdir --mode gives it, from 0777: a class
// the mode leaves out keeps rwx ("u=rwx,g=rx" is 0757; read from 0, as
// restore did before, it was 0750).
func TestDeclaredSymbolicModeIsMkdirs(t *testing.T) {
	for mode, want := range map[string]int{"u=rwx,g=rx": 0o757, "u=rwx,g=rx,o=": 0o750, "go-w": 0o755} {
		e := persist.Entry{Kind: persist.Dir, Path: "/var/lib/x", Origin: &persist.Origin{Mode: mode}}
		e.SetAttrs([]persist.Attr{{Name: "directory"}, {Name: "mode", Value: mode, IsString: true}})
		o, warns := DeclaredOwner(t.TempDir(), e)
		if o == nil || o.Mode != want || len(warns) > 0 {
			t.Errorf("mode %q: %+v %q, want mode %04o", mode, o, warns, want)
		}
	}
}
