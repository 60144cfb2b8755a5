package lint

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/nix-drift/drift/internal/escape"
	"github.com/nix-drift/drift/internal/knowledge"
	"github.com/nix-drift/drift/internal/pathx"
	"github.com/nix-drift/drift/internal/persist"
)

// diagnostics turns the reader's diagnostics into findings, leaving out
// those a rule reports itself.
func (ck *checker) diagnostics() {
	for _, err := range ck.c.ReadErrors {
		if pos, msg, ok := persist.SyntaxErrorAt(err); ok {
			ck.add("syntax", Error, pos, "", "", "%s", msg)
		}
	}
	for _, s := range ck.c.Sets {
		if s == nil {
			continue
		}
		for _, d := range s.Diagnostics {
			rule := "declaration"
			switch d.Code {
			case "duplicate", "path-not-absolute", "user-path-absolute", "path-dot", "path-root", "removed-option", "missing-key":
				continue
			case "flake-input":
				// A flake input's module (impermanence's own) is a
				// library of options, not the configuration linted.
				continue
			case "not-static":
				rule = "not-static"
			case "conditional":
				rule = "conditional"
			case "none-found":
				// Only a whole configuration without declarations is a
				// problem: one module of several (imports, a walked
				// directory) need not hold any.
				if ck.c.Quiet[d.Pos.File] || len(ck.storage) > 0 || len(ck.primary) > 0 {
					continue
				}
			}
			ck.add(rule, d.Severity, d.Pos, "", d.Hint, "%s", d.Message)
		}
	}
}

// unprintableName names the character r at the start of s, as
// escape.Unprintable found it: "the control character \x0a", "the byte
// \xff, not UTF-8", or "the invisible character U+202E" (a bidi override
// or another rune that is not printable: the name reads other than it is).
func unprintableName(s string, r rune) string {
	switch {
	case r == utf8.RuneError:
		return fmt.Sprintf("the byte \\x%02x, not UTF-8", s[0])
	case r < ' ' || r == 0x7f:
		return fmt.Sprintf("the control character \\x%02x", s[0])
	}
	return fmt.Sprintf("the invisible character U+%04X", r)
}

// shape checks how an entry's path is written.
func (ck *checker) shape(e persist.Entry) {
	raw := e.Raw()
	if raw == "" {
		return
	}
	pos := e.Pos
	if raw != strings.TrimSpace(raw) || strings.Contains(raw, " /") || strings.Contains(raw, "/ ") {
		ck.add("path-whitespace", sev("path-whitespace"), pos, e.Path, "",
			"%s %s has white space at the start or end of a component: the module persists exactly that name", kindName(e), qq(raw))
	}
	if i, r := escape.Unprintable(raw); i >= 0 {
		ck.add("path-control", sev("path-control"), pos, e.Path, "",
			"%s %s has %s: a declared name never holds one (a \\n or \\t in the string?)", kindName(e), qq(raw), unprintableName(raw[i:], r))
	}
	switch {
	case e.Home == "" && !strings.HasPrefix(raw, "/"):
		ck.add("path-not-absolute", sev("path-not-absolute"), pos, e.Path, "",
			"%s %s is not absolute: current impermanence makes it %s, classic impermanence and preservation reject it", kindName(e), qq(raw), q(e.Path))
	case e.Home != "" && !e.Evaluated && strings.HasPrefix(raw, "/"):
		ck.add("user-path-absolute", sev("user-path-absolute"), pos, e.Path, "",
			"user entry %s is written absolute: the leading '/' is ignored and it persists %s", qq(raw), q(e.Path))
	}
	for c := range strings.SplitSeq(raw, "/") {
		if c == ".." {
			ck.add("path-dot", Error, pos, e.Path, "",
				"%s %s has a '..' component: the module keeps it, and systemd refuses the mount", kindName(e), qq(raw))
			break
		}
		if c == "." {
			ck.add("path-dot", Warning, pos, e.Path, "",
				"%s %s has a '.' component", kindName(e), qq(raw))
			break
		}
	}
	switch {
	case strings.Contains(raw, "//"):
		ck.add("path-slashes", sev("path-slashes"), pos, e.Path, "",
			"%s %s has a double slash: it is %s", kindName(e), qq(raw), q(e.Path))
	case len(raw) > 1 && strings.HasSuffix(raw, "/"):
		ck.add("path-slashes", sev("path-slashes"), pos, e.Path, "",
			"%s %s has a trailing slash: it is %s (classic impermanence keeps the slash and misses duplicates)", kindName(e), qq(raw), q(e.Path))
	}
}

func underAny(p string, dirs ...string) (string, bool) {
	for _, d := range dirs {
		if pathx.HasPrefix(p, d) {
			return d, true
		}
	}
	return "", false
}

// generatedDirs are directories in which NixOS activation puts files (the
// example is one of them): persisting the directory hides them.
var generatedDirs = map[string]string{
	"/etc/ssh":            "/etc/ssh/sshd_config",
	"/etc/nix":            "/etc/nix/nix.conf",
	"/etc/pam.d":          "/etc/pam.d/login",
	"/etc/systemd":        "/etc/systemd/system",
	"/etc/ssl":            "/etc/ssl/certs",
	"/etc/udev":           "/etc/udev/rules.d",
	"/etc/static":         "/etc/static (the link to the current generation's /etc)",
	"/etc/NetworkManager": "/etc/NetworkManager/NetworkManager.conf",
	"/etc/profiles":       "/etc/profiles/per-user",
	"/etc/sudoers.d":      "/etc/sudoers.d",
}

var userFiles = map[string]bool{
	"/etc/passwd": true, "/etc/group": true, "/etc/shadow": true,
	"/etc/gshadow": true, "/etc/subuid": true, "/etc/subgid": true,
}

// placement checks where an entry's live path is.
func (ck *checker) placement(e persist.Entry) {
	p, pos := e.Path, e.Pos
	api, isAPI := underAny(p, "/proc", "/sys", "/dev", "/run", "/var/run")
	sp := ck.inStorage(p)
	kept, isKept := underAny(p, "/nix", "/boot")
	placed := true
	switch {
	case p == "/":
		ck.add("persist-root", sev("persist-root"), pos, p, "", "%s / persists the whole root: nothing is wiped any more", kindName(e))
	case isAPI:
		ck.add("api-filesystem", sev("api-filesystem"), pos, p, "",
			"%s %s is on %s, an API or runtime file system mounted fresh at every boot", kindName(e), q(p), api)
	case sp != "":
		ck.add("inside-storage-path", sev("inside-storage-path"), pos, p, "",
			"%s %s lies inside the persistent storage path %s: it is persistent already", kindName(e), q(p), q(sp))
	case isKept:
		ck.add("not-ephemeral", sev("not-ephemeral"), pos, p, "",
			"%s %s is under %s, which is not on the ephemeral root", kindName(e), q(p), kept)
	case pathx.HasPrefix(p, "/tmp"):
		s := sev("persist-tmp")
		msg := "%s %s is under /tmp, which is meant to be emptied at boot"
		if ck.cfg != nil && ck.cfg.TmpOnTmpfs.Value == persist.True {
			s = Info
			msg += " (and boot.tmp.useTmpfs mounts a tmpfs over it)"
		}
		ck.add("persist-tmp", s, pos, p, "", msg, kindName(e), q(p))
	default:
		placed = false
	}
	if !placed {
		if m, ok := ck.mountOf(p); ok {
			t := ""
			if m.FSType != "" {
				t = " (" + m.FSType + ")"
			}
			ck.add("already-persistent", sev("already-persistent"), pos, p, moveOffHint(e, m.MountPoint),
				"%s %s is on the file system mounted at %s%s (%s), which is not wiped: %s", kindName(e), q(p), q(m.MountPoint), t, m.Pos, persist.NotNeeded)
		}
	}
	if e.Kind == persist.Dir {
		broad := p == "/var" || p == "/var/lib" || p == "/usr"
		if rel, ok := homeRel(e); ok && (rel == ".config" || rel == ".local" || rel == ".local/share" || rel == ".cache") {
			broad = true
		}
		if broad {
			ck.add("broad-directory", sev("broad-directory"), pos, p, "",
				"directory %s is very broad: it persists caches and generated state along with what matters", q(p))
		}
	}
	if p == "/etc" {
		ck.add("etc-whole", sev("etc-whole"), pos, p, "",
			"%s /etc persists NixOS-generated state and hides what activation writes there on the first boot", kindName(e))
	} else if e.Kind == persist.Dir {
		if ex, ok := generatedDirs[p]; ok {
			hint := ""
			if p == "/etc/ssh" {
				hint = "persist the host keys inside it instead (/etc/ssh/ssh_host_*_key and .pub)"
			}
			ck.add("etc-generated-dir", sev("etc-generated-dir"), pos, p, hint,
				"directory %s holds files NixOS activation creates (%s): the persistent copy hides them", q(p), ex)
		} else if ck.cfg != nil && pathx.HasPrefix(p, "/etc") {
			for _, k := range ck.cfg.EtcFiles {
				f := "/etc/" + strings.Trim(k, "/")
				if f != p && pathx.HasPrefix(f, p) {
					ck.add("etc-generated-dir", sev("etc-generated-dir"), pos, p, "",
						"directory %s holds %s, which NixOS creates (environment.etc): the persistent copy hides it", q(p), q(f))
					break
				}
			}
		}
	}
	var etcFiles []string
	if ck.cfg != nil {
		etcFiles = ck.cfg.EtcFiles
	}
	if by := knowledge.EtcManaged(p, etcFiles); by != "" && !userFiles[p] {
		ck.add("etc-managed", sev("etc-managed"), pos, p, "",
			"%s %s is written by NixOS activation at every boot from environment.etc (a link into /etc/static; set by %s): it holds no state, and a persisted copy stands in activation's way", kindName(e), q(p), by)
	}
	if userFiles[p] {
		s, why, hint := Warning, "users.mutableUsers is not false", ""
		if ck.cfg == nil {
			why = "an error where users.mutableUsers = false"
		} else if ck.cfg.MutableUsers.Value == persist.False {
			s, why = Error, "users.mutableUsers = false: NixOS generates it at every activation"
			hint = "remove the entry: with users.mutableUsers = false NixOS writes it from the configuration at every activation"
		}
		ck.add("etc-user-files", s, pos, p, hint,
			"%s %s is written by NixOS user management before the persistence services run (\"A file already exists\"); %s", kindName(e), q(p), why)
	}
	if n := unitNameLen(e); n > 255 {
		ck.add("unit-name", sev("unit-name"), pos, p, "",
			"%s: its escaped unit name is %d bytes, longer than systemd's 255", subject(e), n)
	} else if e.Method == "bindfs" && !strings.Contains(e.Path, "${") && strings.ContainsFunc(e.Path, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(":_./-", r))
	}) {
		ck.add("unit-name", sev("unit-name"), pos, p, "",
			"%s: home-manager v1 names its bindMount service after the path without escaping it, and systemd refuses the name", subject(e))
	}
	if rel, ok := homeRel(e); ok {
		c := strings.Split(rel, "/")
		if len(c) >= 6 && strings.HasPrefix(c[0], ".") {
			top := c[0]
			if (top == ".config" || top == ".cache") && len(c) > 1 {
				top += "/" + c[1]
			} else if top == ".local" && len(c) > 2 {
				top += "/" + c[1] + "/" + c[2]
			}
			ck.add("deep-app-path", sev("deep-app-path"), pos, p, "persist the directory "+top+" instead",
				"%s %s is a very deep leaf (%d levels) under an application's directory; consider persisting %s", kindName(e), q(p), len(c), top)
		}
	}
	if e.Kind == persist.Dir {
		base := p[strings.LastIndexByte(p, '/')+1:]
		if (base == ".ssh" || base == ".gnupg") && openToOthers(e.Mode) {
			ck.add("secret-dir-mode", sev("secret-dir-mode"), pos, p, "",
				"directory %s holds secrets but is created with mode %s: other users can read it", q(p), e.Mode)
		}
	}
	if pathx.HasPrefix(p, "/var/lib/private") {
		ok := false
		for _, d := range ck.primary {
			if d.Kind == persist.Dir && d.Path == "/var/lib/private" && !openToOthers(d.Mode) {
				ok = true
			}
		}
		if !ok && (p != "/var/lib/private" || openToOthers(e.Mode)) {
			ck.add("private-parent-mode", sev("private-parent-mode"), pos, p, "",
				"%s %s: /var/lib/private is created 0755, and systemd refuses DynamicUser state directories under a /var/lib/private that is not 0700", kindName(e), q(p))
		}
	}
}

// homeRel returns the entry's path relative to its home.
func homeRel(e persist.Entry) (string, bool) {
	if e.Home == "" || e.Home == "/" || !pathx.HasPrefix(e.Path, e.Home) || e.Path == e.Home {
		return "", false
	}
	return e.Path[len(e.Home)+1:], true
}

// openToOthers reports whether a mode gives group or others any
// permission, read as impermanence creates the directory
// (persist.DirMode). A mode that cannot be read is not judged
// (invalid-mode reports it).
func openToOthers(mode string) bool {
	n, err := persist.DirMode(mode)
	return err == nil && n&0o077 != 0
}

func (ck *checker) inStorage(p string) string {
	for _, s := range ck.storage {
		if s.Path != "/" && pathx.HasPrefix(p, s.Path) {
			return s.Path
		}
	}
	return ""
}

// mountOf returns the declared persistent mount that holds p: the one with
// the deepest mount point that is p or an ancestor of it, comparing the
// components of p as written.
func (ck *checker) mountOf(p string) (persist.Mount, bool) {
	m := ck.persistent.ShowsAsWritten(p)
	if m == nil {
		return persist.Mount{}, false
	}
	return ck.decl[m.ID-1], true
}

// unitNameLen is the length of the name of the systemd unit impermanence
// or preservation makes for e (0 for none):
// the bind mount of a directory (escaped target + ".mount"), impermanence's
// persist-<escaped source>.service for a file; 0 for symlinks.
func unitNameLen(e persist.Entry) int {
	switch {
	case e.Method == "symlink" || e.Method == "bindfs":
		return 0
	case e.Kind == persist.Dir:
		return escapedLen(e.Path) + len(".mount")
	case e.Module == "impermanence" || e.Module == "home-manager":
		return len("persist-") + escapedLen(e.Source()) + len(".service")
	}
	return escapedLen(e.Path) + len(".mount")
}

// escapedLen is len(escapePath(p)), without making it.
func escapedLen(p string) int {
	p = strings.Trim(p, "/")
	if p == "" {
		return 1
	}
	n := 0
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '/':
			n++
		case c == '.' && i == 0:
			n += 4
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == ':' || c == '_' || c == '.':
			n++
		default:
			n += 4
		}
	}
	return n
}

// escapePath is systemd-escape --path (systemd.unit(5), "String Escaping
// for Inclusion in Unit Names").
func escapePath(p string) string {
	p = strings.Trim(p, "/")
	if p == "" {
		return "-"
	}
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '/':
			b.WriteByte('-')
		case c == '.' && i == 0:
			b.WriteString(`\x2e`)
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == ':' || c == '_' || c == '.':
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, `\x%02x`, c)
		}
	}
	return b.String()
}

// moveOffHint is already-persistent's hint for e, whose live path lies on
// the persistent file system mounted at mp: while e is declared and
// mounted, its data is in the persistent copy, mounted over the path, and
// the file system at mp holds only the mount point beneath it. Removing
// the declaration alone hides that data at the next boot (the path then
// shows the mount point), and drift prune takes the copy for a stray.
// The steps move the data onto mp's file system first, as shell
// commands (escape.Shell).
func moveOffHint(e persist.Entry, mp string) string {
	p, src := escape.Shell(e.Path), escape.Shell(e.Source())
	cp := escape.CopyCommand(e.Source(), e.Path, e.Kind != persist.File)
	return fmt.Sprintf("if findmnt %s shows a mount, the data is in the persistent copy %s, mounted over it, and removing the declaration alone hides it at the next boot; move it onto the file system at %s first: stop what uses it, umount %s, %s, then remove the declaration and switch, then remove %s (drift prune moves it aside); if findmnt shows nothing, remove it",
		p, src, escape.Shell(mp), p, cp, src)
}
