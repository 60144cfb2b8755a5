package audit

import (
	"maps"
	"slices"
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

// TestHomesTakeUsersUsersHome: a user's users.users.<name>.home is its
// home for every command (check's WHY, suggest's users.<name> and
// roll-up, prune's and suggest's strays), as it already was for the
// links home-manager makes (homeManagerHomes), when --home and the
// declarations name none: before, a user declaring nothing with its home
// in /srv was taken as living in /home/NAME, and /srv/NAME, below a
// directory of the system's state, was declared whole. A system user's
// home (isSystemUser: a service's state directory) is no home, nor is a
// home CheckHome refuses, nor NixOS's default (root's /root stays the
// system's); --home and the declarations' homes win.
func TestHomesTakeUsersUsersHome(t *testing.T) {
	set := &persist.Set{Config: &persist.Config{Users: []persist.User{
		{Name: "alice", Home: "/srv/alice/"},
		{Name: "svc", Home: "/var/lib/svc", System: true},
		{Name: "odd", Home: "/var/lib"},
		{Name: "bob", Home: "/data/bob"},
		{Name: "carol", Home: "/data/carol"},
		{Name: "dave"},
		{Name: "root", Home: "/root"},
		{Name: "erin", Home: "/home/erin"},
	}}}
	set.Entries = []persist.Entry{{Path: "/home/carol/x", Origin: &persist.Origin{Owner: "carol", Home: "/home/carol"}}}
	got := homesOf(map[string]string{"bob": "/srv/bob"}, set)
	want := map[string]string{"alice": "/srv/alice", "bob": "/srv/bob", "carol": "/home/carol"}
	if !maps.Equal(got, want) {
		t.Errorf("homesOf = %v, want %v", got, want)
	}
}

// TestHomeManagerHomesLeaveOutSystemDirectories: the homes of the users
// home-manager manages, whose links into home-files count as re-created
// at boot, took users.users.<name>.home as it was, where the model's homes
// (homesOf) leave out a home knowledge.CheckHome refuses: a home-manager
// user with home "/" or "/var/lib" made every such link below it
// re-created, not lost. They now leave those out too (one rule); a
// system user's home and NixOS's default stay in: home-manager makes its
// links there.
func TestHomeManagerHomesLeaveOutSystemDirectories(t *testing.T) {
	set := &persist.Set{Config: &persist.Config{
		Users: []persist.User{
			{Name: "alice", Home: "/srv/alice"},
			{Name: "svc", Home: "/var/lib/svc", System: true},
			{Name: "odd", Home: "/var/lib"},
			{Name: "top", Home: "/"},
			{Name: "root", Home: "/root"},
		},
		HomeManagerUsers: []string{"alice", "svc", "odd", "top", "root", "dave"},
	}}
	m := &Model{Decls: set, homes: homesOf(nil, set)}
	got := m.homeManagerHomes()
	want := []string{"/home/dave", "/root", "/srv/alice", "/var/lib/svc"}
	if !slices.Equal(got, want) {
		t.Errorf("homeManagerHomes = %q, want %q", got, want)
	}
}
