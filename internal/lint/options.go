package lint

import (
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/nix-drift/drift/internal/pathx"
	"github.com/nix-drift/drift/internal/persist"
	"github.com/nix-drift/drift/internal/units"
)

// optionRules checks storage-path and users.<name> options.
func (ck *checker) optionRules() {
	for _, o := range ck.options {
		switch {
		case o.Removed:
			ck.add("removed-option", sev("removed-option"), o.Pos, "", "",
				"%s sets `%s`, which current impermanence removed (evaluation fails)", o.Where, o.Name)
			continue
		case o.Evaluated:
			continue // the module accepted it; a removed one comes as o.Removed
		case o.Module != "preservation" && removedStorageOptions[o.Name] != "" && o.Owner == "" || o.Module == "home-manager" && removedStorageOptions[o.Name] != "":
			ck.add("removed-option", sev("removed-option"), o.Pos, "", "",
				"%s.%s: current impermanence removed this option (%s; evaluation fails)", o.Where, o.Name, removedStorageOptions[o.Name])
			continue
		case o.Module == "impermanence" && o.Owner != "" && o.Name == "home":
			ck.add("removed-option", sev("removed-option"), o.Pos, "", "remove it; the home comes from users.users.<name>.home",
				"%s.home: current impermanence removed this option (the home is users.users.%s.home; evaluation fails)", o.Where, o.Owner)
			continue
		}
		level := o.Module
		if o.Owner != "" && o.Module != "home-manager" {
			level += "/user"
		}
		known := storageKeys[level]
		if known == nil || slices.Contains(known, o.Name) {
			continue
		}
		visible := visibleKeys(known, false)
		hint := "fix the attribute's name; known: " + strings.Join(visible, ", ")
		if s := closest(o.Name, visible); s != "" {
			hint = "did you mean `" + s + "`?"
		}
		ck.add("unknown-attribute", sev("unknown-attribute"), o.Pos, "", hint,
			"%s has the attribute `%s`, which the %s module does not know (what it holds is not persisted)", o.Where, o.Name, o.Module)
	}
	for _, s := range ck.storage {
		if s.Module == "home-manager" && s.HMv1 {
			ck.add("removed-option", sev("removed-option"), s.Pos, "", "use the NixOS module's home-manager integration: home.persistence.\"/persist\" with entries relative to the home",
				"home.persistence storage path for %s is the home-manager v1 API (home inside persistentStoragePath, bindfs): current impermanence removed it and asserts against it", s.Owner)
		}
	}
}

// wellKnownGroups have fixed gids in NixOS (nixos/modules/misc/ids.nix).
var wellKnownGroups = map[string]bool{
	"root": true, "wheel": true, "kmem": true, "tty": true, "messagebus": true, "disk": true,
	"audio": true, "floppy": true, "uucp": true, "lp": true, "cdrom": true, "tape": true,
	"video": true, "dialout": true, "utmp": true, "adm": true, "users": true, "nogroup": true,
	"keys": true, "kvm": true, "render": true, "input": true, "shadow": true, "sgx": true,
}

// covered reports whether p survives the wipe: declared (a file, or below
// a persisted directory) or on a persistent mount.
func (ck *checker) covered(p string) bool {
	if _, ok := ck.entryCovering(p); ok {
		return true
	}
	_, ok := ck.mountOf(p)
	return ok
}

// entryCovering returns the entry that persists p.
func (ck *checker) entryCovering(p string) (persist.Entry, bool) {
	for _, e := range ck.primary {
		if e.Path == p || e.Kind == persist.Dir && pathx.HasPrefix(p, e.Path) {
			return e, true
		}
	}
	return persist.Entry{}, false
}

// hostAnchor is where a finding about the whole host (what it lacks) is
// placed: the first system-wide storage path declared in a file of the
// host's own, not in a module marked `# drift-lint: module` (markedModule:
// drift suggest --format nix writes the mark, with the words "drift lint
// does not look here for what a host lacks"); when only such modules
// declare one, the host's own file without a line: its configuration.nix,
// else the first of its unmarked files by name. found is false without a
// system-wide storage path.
func (ck *checker) hostAnchor() (at persist.Pos, found bool) {
	marked := map[string]bool{} // each file looked at once
	module := func(file string) bool {
		m, ok := marked[file]
		if !ok {
			data, src := ck.c.Sources[file]
			m = src && markedModule(data)
			marked[file] = m
		}
		return m
	}
	for _, s := range ck.storage {
		if s.Module == "home-manager" {
			continue
		}
		if !found {
			at, found = s.Pos, true // in a module: only when no host file is known
		}
		if !module(s.Pos.File) {
			return s.Pos, true
		}
	}
	if !found {
		return at, false
	}
	before := func(a, b string) bool { // a configuration.nix first, then by name
		if ca, cb := path.Base(a) == "configuration.nix", path.Base(b) == "configuration.nix"; ca != cb {
			return ca
		}
		return a < b
	}
	own := ""
	for name := range ck.c.Sources {
		if !module(name) && (own == "" || before(name, own)) {
			own = name
		}
	}
	if own != "" {
		at = persist.Pos{File: own}
	}
	return at, true
}

// missing reports state almost every impermanent system needs and the
// configuration does not persist. It runs only for a configuration with a
// system-wide storage path (not one made only of home-manager files).
func (ck *checker) missing() {
	if ck.c.Shared {
		return
	}
	at, found := ck.hostAnchor()
	if !found {
		return
	}
	// Part of the declarations could not be read (a `with` variable, an
	// import): what seems missing may be there. The findings stay, as
	// infos saying why.
	unread := ck.firstUnread()
	add := func(rule string, sev Severity, pos persist.Pos, path, hint, format string, a ...any) {
		if unread != nil {
			sev = Info
			format += " (perhaps declared in what could not be read statically at %s)"
			a = append(a, unread.Pos)
		}
		ck.add(rule, sev, pos, path, hint, format, a...)
	}
	if !ck.covered("/var/lib/nixos") {
		var names []string
		nu, ng := 0, 0
		if ck.cfg != nil {
			seen := map[string]bool{}
			declared := map[string]bool{}
			for _, u := range ck.cfg.Users {
				if !u.HasUID && u.Name != "root" && u.Name != "nobody" { // fixed in ids.nix
					nu++
					seen[u.Name] = true
				}
			}
			for _, g := range ck.cfg.Groups {
				declared[g.Name] = true
				if !g.HasGID && !wellKnownGroups[g.Name] {
					ng++
					seen[g.Name] = true
				}
			}
			for _, u := range ck.cfg.Users {
				if u.Group != "" && !declared[u.Group] && !wellKnownGroups[u.Group] {
					declared[u.Group] = true
					ng++
					seen[u.Group] = true
				}
			}
			for n := range seen {
				names = append(names, n)
			}
			sort.Strings(names)
		}
		if nu+ng > 0 {
			add("missing-var-lib-nixos", Error, at, "/var/lib/nixos", "",
				"/var/lib/nixos (or an ancestor) is not persisted and %s / %s have no fixed id (%s): their uids/gids are reassigned at boot",
				units.Plural(int64(nu), "user", "users"), units.Plural(int64(ng), "group", "groups"), strings.Join(names, ", "))
		} else {
			add("missing-var-lib-nixos", sev("missing-var-lib-nixos"), at, "/var/lib/nixos", "",
				"/var/lib/nixos (or an ancestor) is not persisted: users and groups without a fixed uid/gid get new ids when services change")
		}
	}
	for _, m := range []struct{ rule, path, msg string }{
		{"missing-machine-id", "/etc/machine-id", "/etc/machine-id is not persisted: a new machine id at every boot breaks the journal of earlier boots"},
		{"missing-systemd-timers", "/var/lib/systemd/timers", "/var/lib/systemd/timers is not persisted: Persistent= timers forget when they last ran"},
		{"missing-var-log", "/var/log", "/var/log is not persisted and is not a mount: the logs of every earlier boot are lost"},
	} {
		if !ck.covered(m.path) {
			add(m.rule, sev(m.rule), at, m.path, "", "%s", m.msg)
		}
	}
	if ck.cfg == nil {
		return
	}
	if ck.cfg.OpenSSH.Value == persist.True {
		keys := []string{"/etc/ssh/ssh_host_ed25519_key", "/etc/ssh/ssh_host_rsa_key"}
		if len(ck.cfg.HostKeyPaths) > 0 {
			keys = nil
			for _, k := range ck.cfg.HostKeyPaths {
				keys = append(keys, k.Value)
			}
		}
		var lost []string
		for _, k := range keys {
			if !ck.covered(k) && ck.inStorage(k) == "" {
				lost = append(lost, q(k))
			}
		}
		if len(lost) > 0 {
			add("missing-ssh-host-keys", sev("missing-ssh-host-keys"), ck.cfg.OpenSSH.Pos, "", "",
				"services.openssh.enable = true but the host keys are not persisted (%s): new keys at every boot", strings.Join(lost, ", "))
		}
	}
	if ck.cfg.MutableUsers.Value != persist.False && !ck.covered("/etc/shadow") {
		pos, how := at, "is not set (default true)"
		if ck.cfg.MutableUsers.Value != persist.Unset {
			pos, how = ck.cfg.MutableUsers.Pos, "is not false"
		}
		add("mutable-users", sev("mutable-users"), pos, "", "",
			"users.mutableUsers %s while /etc/shadow is not persisted: a password changed with passwd silently reverts at boot", how)
	}
}

// earlyReaders reports the secrets read before the persistence mounts
// exist (persist.Ref.Early, persist.EarlyReader: users' password files,
// sops-nix's and agenix's keys) that point at a declared path: in
// activation it is not there yet, only its persistent copy is.
func (ck *checker) earlyReaders() {
	for _, r := range ck.cfg.Secrets() {
		if !r.Early {
			continue
		}
		e, ok := ck.entryCovering(r.Path)
		if !ok {
			continue
		}
		src := e.Source()
		if e.Path != r.Path {
			src += r.Path[len(e.Path):]
		}
		ck.add("early-reader", sev("early-reader"), r.Pos, r.Path, "use "+src+" (or make the path needed for boot)",
			"%s %s is a persisted path, mounted only after %s reads it in activation", r.Option, q(r.Path), persist.EarlyReader(r.Option))
	}
}
