package audit

import (
	"maps"
	"testing"

	"github.com/nix-drift/drift/internal/persist"
)

// TestHomesLeaveOutSystemDirectories: a home a declaration names that is
// a directory of the system's state (users.x.home = "/var/lib", "/") is
// no home for any command, check's WHY and diff's home-manager links as
// suggest's roll-up (which left it out alone before); a user's own
// directory is, and --home wins over a declaration's home.
func TestHomesLeaveOutSystemDirectories(t *testing.T) {
	set := &persist.Set{}
	for _, e := range []struct{ path, owner, home string }{
		{"/var/lib/a", "x", "/var/lib"},
		{"/b", "r", "/"},
		{"/srv/alice/c", "alice", "/srv/alice"},
		{"/home/bob/d", "bob", "/home/bob"},
	} {
		set.Entries = append(set.Entries, persist.Entry{Path: e.path, Origin: &persist.Origin{Owner: e.owner, Home: e.home}})
	}
	got := homesOf(map[string]string{"bob": "/srv/bob"}, set)
	want := map[string]string{"alice": "/srv/alice", "bob": "/srv/bob"}
	if !maps.Equal(got, want) {
		t.Errorf("homesOf = %v, want %v", got, want)
	}
}
