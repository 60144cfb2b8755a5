package restore

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/persist"
)

// TestParseModeAsChmod: declared modes, octal and symbolic, read as chmod
// and install read them (symbolic applied to 0); bad ones are errors.
func TestParseModeAsChmod(t *testing.T) {
	for _, c := range []struct {
		in   string
		want uint32
	}{
		{"0700", 0o700}, {"755", 0o755}, {"1777", 0o1777},
		{"u=rwx,g=rx,o=", 0o750}, {"u=rwx,g=,o=", 0o700}, {"a=rx,u+w", 0o755},
		{"=rwx", 0o777}, {"u=rwx,go=rX", 0o755}, {"u=rwxs,g=x", 0o4710}, {"a=rwx,o-w", 0o775},
	} {
		got, err := ParseMode(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseMode(%q) = %04o, %v; want %04o", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "0800", "77777", "u", "u=rwq", "rwx", "u=rwx,,"} {
		if m, err := ParseMode(bad); err == nil {
			t.Errorf("ParseMode(%q) = %04o, want an error", bad, m)
		}
	}
}

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
