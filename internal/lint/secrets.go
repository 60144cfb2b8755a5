package lint

import (
	"github.com/nix-drift/drift/internal/persist"
)

// notWiped are the places a secret may be named on without being lost
// at the wipe: what the system makes again at every boot (sops-nix and
// agenix decrypt into /run) and the store.
var notWiped = []string{"/run", "/var/run", "/nix/store", "/proc", "/sys", "/dev"}

// lostSecrets reports the files the system reads at boot to let users
// log in or to decrypt its secrets (persist.Config.Secrets, with what
// losing each does, persist.Ref.Loss: password files, sops-nix and agenix
// keys; the host keys have their own rule,
// missing-ssh-host-keys) that lie on the wiped root, neither declared nor
// in a storage path or on a persistent mount: gone after the next boot,
// and with them the way in. Like the missing-state rules, it runs for a
// configuration with a system-wide storage path; when part of it could
// not be read statically the finding is a warning saying where.
func (ck *checker) lostSecrets() {
	if ck.cfg == nil || ck.c.Shared || !ck.systemStorage() {
		return
	}
	unread := ck.firstUnread()
	for _, r := range ck.cfg.Secrets() {
		if r.Option == "services.openssh.hostKeys" {
			continue // missing-ssh-host-keys
		}
		if _, ok := underAny(r.Path, notWiped...); ok || ck.covered(r.Path) || ck.inStorage(r.Path) != "" {
			continue
		}
		// r.Loss: the words drift check and drift suggest say it in too.
		sev, format, a := sev("lost-secret"), "%s %s lies on the wiped root and is not persisted: it is gone after the next boot, and %s", []any{r.Option, q(r.Path), r.Loss}
		if unread != nil {
			sev, format, a = Warning, format+" (unless declared in what could not be read statically at %s)", append(a, unread.Pos)
		}
		ck.add("lost-secret", sev, r.Pos, r.Path, ck.secretHint(r), format, a...)
	}
}

// secretHint says how to keep the secret r: a copy under the first
// system-wide storage path (persist.Ref.KeepHint).
func (ck *checker) secretHint(r persist.Ref) string {
	sp := ""
	for _, s := range ck.storage {
		if s.Module != "home-manager" && s.Path != "/" {
			sp = s.Path
			break
		}
	}
	return r.KeepHint(sp, q)
}

// systemStorage reports whether the configuration has a system-wide
// storage path (not one made only of home-manager files).
func (ck *checker) systemStorage() bool {
	for _, s := range ck.storage {
		if s.Module != "home-manager" {
			return true
		}
	}
	return false
}

// firstUnread is the first not-static diagnostic of the configuration
// (part of it could not be read: what seems missing may be declared
// there), nil when every value was read.
func (ck *checker) firstUnread() *persist.Diagnostic {
	for _, st := range ck.c.Sets {
		if st == nil {
			continue
		}
		for i := range st.Diagnostics {
			if st.Diagnostics[i].Code == "not-static" {
				return &st.Diagnostics[i]
			}
		}
	}
	return nil
}
