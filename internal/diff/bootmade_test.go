package diff

import (
	"context"
	"maps"
	"testing"

	"github.com/nix-drift/drift/internal/persist"
	"github.com/nix-drift/drift/internal/testutil"
)

// TestActivationOutputsAreRecreated: what NixOS makes at every boot is
// recreated, whatever its history says. A fresh-user test: after a real
// wipe and boot, /etc/passwd and /etc/group came back byte for byte
// (users.mutableUsers = false: activation writes them from users.* alone)
// and /tmp and /root came back, yet check counted them lost ("state, not
// made again at every boot"; /root "known application state", the
// knowledge base's ~/.ssh below the home) while suggest called them
// activation's and temporary: its only over-predictions. Now the
// directories /root and /home (made by the users activation) are
// recreated, what they hold is classified as ever; /tmp (made by stage 2)
// is recreated when it holds nothing lost, else lost with its temporary
// files (suggest: --ignore /tmp); the users files are recreated with
// mutableUsers = false only: with it true or not known, what passwd and
// useradd changed there is lost.
func TestActivationOutputsAreRecreated(t *testing.T) {
	spec := "f /etc/passwd root:x:0:0::/root:/bin/sh\nf /etc/group root:x:0:\nf /etc/shadow root:!:1::::::\nd /root\nf /root/.bash_history ls\nd /tmp\nf /tmp/x y\nd /home\nd /srv\n"
	empty := t.TempDir()
	testutil.Tree(t, empty, "f /etc/passwd root:x:0:0::/root:/bin/sh\nd /root\nd /tmp\nd /home\n")
	root := t.TempDir()
	testutil.Tree(t, root, spec)
	for _, tc := range []struct {
		mutable persist.Tri
		want    map[string]string
	}{
		{persist.False, map[string]string{"/root/.bash_history": "unpersisted", "/tmp": "unpersisted", "/tmp/x": "unpersisted", "/srv": "unpersisted"}},
		{persist.True, map[string]string{"/etc/passwd": "unpersisted", "/etc/group": "unpersisted", "/etc/shadow": "unpersisted", "/root/.bash_history": "unpersisted", "/tmp": "unpersisted", "/tmp/x": "unpersisted", "/srv": "unpersisted"}},
		{persist.Unset, map[string]string{"/etc/passwd": "unpersisted", "/etc/group": "unpersisted", "/etc/shadow": "unpersisted", "/root/.bash_history": "unpersisted", "/tmp": "unpersisted", "/tmp/x": "unpersisted", "/srv": "unpersisted"}},
	} {
		decls := &persist.Set{Entries: []persist.Entry{dir("/var/lib/svc")}, Config: &persist.Config{MutableUsers: persist.Flag{Value: tc.mutable}}}
		for _, collapse := range []bool{false, true} {
			a, err := Check(context.Background(), Config{Root: root, Mounts: table(t, btrfsSystem), Decls: decls, Collapse: collapse})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("mutableUsers %v, collapse %v", tc.mutable, collapse)
			want := maps.Clone(tc.want)
			if collapse {
				delete(want, "/tmp/x") // /tmp stands for it (Config.Collapse)
			}
			wantCats(t, a, want)
		}
	}
	// The tester's machine after the boot: nothing lost but what passwd
	// and useradd may have changed.
	for _, mutable := range []persist.Tri{persist.False, persist.Unset} {
		decls := &persist.Set{Entries: []persist.Entry{dir("/var/lib/svc")}, Config: &persist.Config{MutableUsers: persist.Flag{Value: mutable}}}
		a, err := Check(context.Background(), Config{Root: empty, Mounts: table(t, btrfsSystem), Decls: decls})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{}
		if mutable != persist.False {
			want["/etc/passwd"] = "unpersisted"
		}
		wantCats(t, a, want)
	}
}
