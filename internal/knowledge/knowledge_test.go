package knowledge

import (
	"slices"
	"testing"
)

// TestMatcherAgrees: the matcher Suggest uses, which tries only the facts
// that can match in a path's directory, gives MatchIndex's answer (which
// tries every fact) for paths in path order, directories revisited, homes
// changing between siblings (/home/alice, /home/bob), and homes whose
// names path.Match reads as patterns.
func TestMatcherAgrees(t *testing.T) {
	k := Builtin()
	type q struct{ p, home string }
	qs := []q{
		{"/etc/machine-id", ""}, {"/etc/machine-idx", ""}, {"/etc/ssh/ssh_host_rsa_key", ""}, {"/etc/ssh/ssh_host_rsa_key.pub", ""},
		{"/etc/ssh/ssh_host_", ""}, {"/etc/ssh/sshd_config", ""}, {"/etc/sshx/ssh_host_rsa_key", ""}, {"/var", ""}, {"/var/cache", ""},
		{"/var/cache/fontconfig/x", ""}, {"/var/lib/private", ""}, {"/var/lib/private/kea", ""}, {"/var/lib/private/kea/leases4.csv", ""},
		{"/var/lib/systemd/random-seed", ""}, {"/var/lib/systemd/random-seed/x", ""}, {"/var/lib/systemd/timers/stamp-x", ""},
		{"/home/alice/.cache/x", "/home/alice"}, {"/home/alice/.ssh", "/home/alice"}, {"/home/alice/.ssh/id", "/home/alice"},
		{"/home/alice/.ssh/id", ""}, {"/home/alice/.local/state/nvim/x", "/home/alice"}, {"/home/alice/.local/state/nvimx", "/home/alice"},
		{"/home/bob/.ssh/id", "/home/bob"}, {"/home/bob/.mozilla", "/home/bob"},
		{"/srv/a[b/.ssh/id", "/srv/a[b"}, {"/srv/a*b/.ssh/id", "/srv/a*b"}, {"/srv/a\\b/.cache/x", "/srv/a\\b"}, {"/srv/a?b/.cache", "/srv/a?b"},
		{"/tmp/x", ""}, {"/tmp/x", "/tmp"}, {"/var/tmp/y", ""},
	}
	m := k.Matcher()
	for _, order := range [][]q{qs, append(slices.Clone(qs), qs...)} {
		for _, x := range order {
			i, at := k.MatchIndex(x.p, x.home)
			j, at2 := m.MatchIndex(x.p, x.home)
			if i != j || at != at2 {
				t.Errorf("matcher(%s, %q) = %d %q, matchIndex = %d %q", x.p, x.home, j, at2, i, at)
			}
		}
	}
}
