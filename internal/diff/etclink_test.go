package diff

import (
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/persist"
)

// TestDeclaredEtcStaticLinkIsNotLost: a field report declared
// /etc/resolv.conf and /etc/ssh/sshd_config, links NixOS activation makes
// into /etc/static, as persisted files: check called them
// declared-unbacked (lost data, "adopt them"). They hold no data and are
// made again: not lost, and the declaration is what check warns about.
// A real file declared beside them stays declared-unbacked; a link into
// /etc/static inside a declared directory that is not mounted is not lost
// either.
func TestDeclaredEtcStaticLinkIsNotLost(t *testing.T) {
	a := check(t, `
l /etc/resolv.conf -> /etc/static/resolv.conf
l /etc/ssh/sshd_config -> /etc/static/ssh/sshd_config
f /etc/machine-id 0123
l /etc/app/app.conf -> /etc/static/app/app.conf
f /etc/app/state x
d /nix/persist
`, btrfsSystem, []persist.Entry{file("/etc/resolv.conf"), file("/etc/ssh/sshd_config"), file("/etc/machine-id"), dir("/etc/app")}, nil)
	got := map[string]Category{}
	for _, it := range a.Lost {
		got[it.Path] = it.Category
	}
	for _, p := range []string{"/etc/resolv.conf", "/etc/ssh/sshd_config", "/etc/app/app.conf"} {
		if c, ok := got[p]; ok {
			t.Errorf("%s (a link into /etc/static) counted lost: %s", p, c)
		}
	}
	for _, p := range []string{"/etc/machine-id", "/etc/app/state"} {
		if got[p] != DeclaredUnbacked {
			t.Errorf("%s: %s, want declared-unbacked", p, got[p])
		}
	}
	var warned []string
	for _, w := range a.Warnings {
		if w.Kind == WarnSetup && strings.Contains(w.Message, "/etc/static") && strings.Contains(w.Message, "the declaration is wrong") {
			warned = append(warned, w.Path)
		}
		if strings.Contains(w.Message, "/etc/resolv.conf is declared") && strings.Contains(w.Message, "not mounted") {
			t.Errorf("warned as not mounted: %s", w.Message)
		}
	}
	if strings.Join(warned, " ") != "/etc/resolv.conf /etc/ssh/sshd_config" && strings.Join(warned, " ") != "/etc/ssh/sshd_config /etc/resolv.conf" {
		t.Errorf("warnings on the wrong declarations: %q, want /etc/resolv.conf and /etc/ssh/sshd_config\n%v", warned, a.Warnings)
	}
}
