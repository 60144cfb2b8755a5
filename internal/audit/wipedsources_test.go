package audit

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/testutil"
)

// The declarations drift check finds in /etc/nixos on the wiped root,
// which nothing declares, are gone after the next boot, and with them
// what the next boot's drift check reads (field case: after a real wipe a
// fresh user's drift check found no declarations, /etc/nixos having lived
// on the wiped root). Before the wipe check says so, once, as a warning
// value naming the files; not when /etc/nixos is declared, nor when the
// declarations come from outside the root.
func TestWarnsWhenTheDeclarationsLieOnTheWipedRoot(t *testing.T) {
	dir := t.TempDir()
	mi := filepath.Join(dir, "mountinfo")
	testutil.Must(t, os.WriteFile(mi, []byte("22 1 0:31 /root / rw - btrfs /dev/vda2 rw,subvol=/root\n"), 0o644))
	for _, c := range []struct {
		name, nix string
		outside   bool
		want      bool
	}{
		{"undeclared", `{ environment.persistence."/nix/persist".directories = [ "/var/lib/app" ]; }`, false, true},
		{"declared", `{ environment.persistence."/nix/persist".directories = [ "/var/lib/app" "/etc/nixos" ]; }`, false, false},
		{"outside the root", `{ environment.persistence."/nix/persist".directories = [ "/var/lib/app" ]; }`, true, false},
	} {
		root := t.TempDir()
		o := Options{Root: root, Mountinfo: mi, RootSubvol: "none", OldRoots: "none"}
		if c.outside {
			f := filepath.Join(dir, "p.nix")
			testutil.Must(t, os.WriteFile(f, []byte(c.nix), 0o644))
			o.Persist = []string{f}
		} else {
			testutil.Tree(t, root, "f /etc/nixos/configuration.nix "+c.nix)
		}
		m, err := Build(context.Background(), o)
		testutil.Must(t, err)
		var got []string
		for _, w := range m.Audit.Warnings {
			if strings.Contains(w.Message, "lie on the wiped root and nothing keeps them") {
				got = append(got, w.Message)
			}
		}
		m.Close()
		if want := 0; c.want {
			if len(got) != 1 || !strings.Contains(got[0], "(/etc/nixos/configuration.nix)") || !strings.Contains(got[0], "declare /etc/nixos") {
				t.Errorf("%s: warnings %q, want one naming /etc/nixos/configuration.nix", c.name, got)
			}
		} else if len(got) != want {
			t.Errorf("%s: warnings %q, want none", c.name, got)
		}
	}
}
