package knowledge

import (
	"path"
	"slices"
	"strings"
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

// TestStateNearAgrees: the rule of Matcher.StateNear (stateNear, given
// the fact MatchIndex finds, and the Matcher's, in path order) gives
// the answer of the rule as first written, which built each "~/" fact's
// pattern and split both paths into components for every persist fact:
// for paths at, above, below and beside facts, with wildcards, in homes,
// outside the home given, and in homes whose names are patterns.
func TestStateNearAgrees(t *testing.T) {
	k := Builtin()
	slow := func(p, home string) bool {
		if i, _ := k.MatchIndex(p, home); i >= 0 && k.Facts[i].Action == "persist" {
			return true
		}
		for _, f := range k.Facts {
			pat := f.Path
			if rel, ok := strings.CutPrefix(pat, "~/"); ok {
				if home == "" {
					continue
				}
				pat = home + "/" + rel
			}
			if f.Action == "persist" && splitBelow(pat, p) {
				return true
			}
		}
		return false
	}
	type q struct{ p, home string }
	qs := []q{{"/", ""}, {"/", "/home/alice"}}
	for _, p := range []string{"/etc", "/etc/machine-id", "/etc/machine-idx", "/etc/ssh", "/etc/ssh/ssh_host_rsa_key", "/etc/ssh/ssh_host_rsa_key.pub",
		"/etc/ssh/x", "/etc/sshx", "/var", "/var/lib", "/var/lib/private", "/var/lib/private/kea", "/var/lib/private/kea/x", "/var/lib/privatex",
		"/var/lib/systemd", "/var/lib/systemd/timers", "/var/lib/systemd/timers/x", "/var/log/journal", "/var/logx", "/srv/x", "/etc/secure"} {
		qs = append(qs, q{p, ""}, q{p, "/home/alice"})
	}
	for _, h := range []string{"/home/alice", "/root", "/srv/a[b", "/srv/a*b", `/srv/a\b`, "/srv/a?b", "/"} {
		for _, rel := range []string{"", "/.ssh", "/.ssh/id", "/.local", "/.local/state", "/.local/state/nvim/x", "/.local/statex", "/.mozilla", "/.cache/x", "/.s"} {
			p := h + rel
			if h == "/" {
				p = "/" + strings.TrimPrefix(rel, "/")
			}
			if p != "/" {
				qs = append(qs, q{p, h}, q{p, ""}, q{p, "/home/bob"})
			}
		}
	}
	slices.SortStableFunc(qs, func(a, b q) int { return strings.Compare(a.p, b.p) })
	m := k.Matcher()
	for _, x := range qs {
		want := slow(x.p, x.home)
		i, _ := k.MatchIndex(x.p, x.home)
		if got := k.stateNear(i, x.p, x.home); got != want {
			t.Errorf("stateNear(%s, %q) = %v, want %v", x.p, x.home, got, want)
		}
		if x.p == "/" {
			continue
		}
		if got := m.StateNear(x.p, x.home); got != want {
			t.Errorf("Matcher.StateNear(%s, %q) = %v, want %v", x.p, x.home, got, want)
		}
	}
}

// splitBelow is below as first written.
func splitBelow(pat, p string) bool {
	pc := strings.Split(strings.Trim(p, "/"), "/")
	if p == "/" {
		pc = nil
	}
	qc := strings.Split(strings.Trim(pat, "/"), "/")
	if len(qc) <= len(pc) {
		return false
	}
	for i, c := range pc {
		if ok, err := path.Match(qc[i], c); err != nil || !ok {
			return false
		}
	}
	return true
}

// TestParseErrors: a knowledge base that is not version 1 or whose entry
// breaks a rule is refused, naming the entry and what was expected.
func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"version": 2, "entries": []}`, "version 2, expected 1"},
		{`{"version": 1, "entries": [{"path": "var/lib/x", "kind": "dir", "action": "persist", "what": "w", "source": "s"}]}`, `entry 1 ("var/lib/x"): path must be absolute or start with ~/`},
		{`{"version": 1, "entries": [{"path": "~//x", "kind": "dir", "action": "persist", "what": "w", "source": "s"}]}`, "~/ must be followed by a relative path"},
		{`{"version": 1, "entries": [{"path": "/var/lib/x/", "kind": "dir", "action": "persist", "what": "w", "source": "s"}]}`, "path is not clean"},
		{`{"version": 1, "entries": [{"path": "/x", "kind": "link", "action": "persist", "what": "w", "source": "s"}]}`, `kind "link", expected dir or file`},
		{`{"version": 1, "entries": [{"path": "/x", "kind": "dir", "action": "keep", "what": "w", "source": "s"}]}`, `action "keep", expected persist or ignore`},
		{`{"version": 1, "entries": [{"path": "/x", "kind": "dir", "action": "persist", "what": "w"}]}`, "what and source are required"},
		{`{"version": 1, "entries": [{"path": "/x", "kind": "dir", "action": "persist", "what": "w", "source": "s", "owner": "x"}]}`, `unknown field "owner"`},
		{`{"version": 1, "entries": [`, "unexpected EOF"},
	} {
		_, err := Parse([]byte(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.in, err, tc.want)
		}
	}
}

// TestEscapedFactsMatch: a fact whose path escapes a wildcard (`\*`, as
// path.Match reads it) names the path with the character itself. The
// facts' literal starts stop at the escape, so such a fact is still found,
// for the path, below it, and above it (StateNear).
func TestEscapedFactsMatch(t *testing.T) {
	k, err := Parse([]byte(`{"version": 1, "entries": [
		{"path": "/srv/a\\*b/data", "kind": "dir", "action": "persist", "what": "w", "source": "s"},
		{"path": "~/.x\\?y", "kind": "dir", "action": "persist", "what": "w", "source": "s"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ p, home string }{{"/srv/a*b/data", ""}, {"/srv/a*b/data/f", ""}, {"/home/al/.x?y/z", "/home/al"}} {
		if i, _ := k.MatchIndex(c.p, c.home); i < 0 {
			t.Errorf("MatchIndex(%s): no fact", c.p)
		}
		if i, _ := k.Matcher().MatchIndex(c.p, c.home); i < 0 {
			t.Errorf("Matcher.MatchIndex(%s): no fact", c.p)
		}
	}
	if !k.Matcher().StateNear("/srv/a*b", "") {
		t.Error("StateNear(/srv/a*b): false, want true (the fact below it)")
	}
}
