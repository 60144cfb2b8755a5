package lint

import (
	"strings"

	"github.com/nix-drift/drift/internal/persist"
)

// notWiped are the places a secret may be named on without being lost
// at the wipe: what the system makes again at every boot (sops-nix and
// agenix decrypt into /run) and the store.
var notWiped = []string{"/run", "/var/run", "/nix/store", "/proc", "/sys", "/dev"}

// lostSecrets reports the files the system reads at boot to let users
// log in or to decrypt its secrets (persist.Config.Secrets: password
// files, sops-nix and agenix keys; the host keys have their own rule,
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
		what := "the secrets it decrypts are not there either (a secret for a user's password too: a lock-out)"
		if strings.HasPrefix(r.Option, "users.users.") {
			what = "NixOS's user setup then gives the account no password (\"!\": password logins refused): a lock-out"
			if ck.cfg.MutableUsers.Value == persist.False {
				what += ", with users.mutableUsers = false no other password to log in with"
			}
		}
		sev, format, a := sev("lost-secret"), "%s %s lies on the wiped root and is not persisted: after the next boot it is gone, and %s", []any{r.Option, q(r.Path), what}
		if unread != nil {
			sev, format, a = Warning, format+" (unless declared in what could not be read statically at %s)", append(a, unread.Pos)
		}
		ck.add("lost-secret", sev, r.Pos, r.Path, ck.secretHint(r), format, a...)
	}
}

// secretHint says how to keep the secret r: a copy under a storage path,
// named by the option directly (a password file is read before the
// persistence mounts exist: declaring it makes an early reader).
func (ck *checker) secretHint(r persist.Ref) string {
	sp := ""
	for _, s := range ck.storage {
		if s.Module != "home-manager" && s.Path != "/" {
			sp = s.Path
			break
		}
	}
	if sp == "" {
		return "keep it on a persistent filesystem and point " + r.Option + " at it"
	}
	copyAt := q(strings.TrimSuffix(sp, "/") + r.Path)
	if strings.HasPrefix(r.Option, "users.users.") || r.Option == "sops.age.sshKeyPaths" || r.Option == "age.identityPaths" {
		return "move it to " + copyAt + " and point " + r.Option + " there (" + sp + " mounted in stage 1: neededForBoot); declaring it instead makes it an early reader"
	}
	return "move it to " + copyAt + " and point " + r.Option + " there, or declare it in " + sp
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
