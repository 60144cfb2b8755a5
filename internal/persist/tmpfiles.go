package persist

import (
	"path"
	"strings"
)

// Link is a symbolic link the configuration has systemd-tmpfiles make at
// every boot: an L, L+ (or L!, L!+) line of systemd.tmpfiles.rules, or
// systemd.tmpfiles.settings.<name>."<path>"."L+".argument. Path is the
// link (clean, absolute); Target its argument as written.
type Link struct {
	Path   string
	Target string
	Pos    Pos
}

// TmpfilesLink reads one tmpfiles.d(5) line: type, path, mode, user,
// group, age, argument, separated by white space, a field in double
// quotes taken whole. ok is false for a line that is not an L line with
// an absolute path and an argument (no specifiers such as %h: what they
// expand to is not known here; "-" or no argument: the default target
// under /usr/share/factory, which NixOS does not have).
func TmpfilesLink(line string) (Link, bool) {
	f := tmpfilesFields(line)
	if len(f) < 7 || !strings.HasPrefix(f[0], "L") || strings.Trim(f[0][1:], "+!") != "" {
		return Link{}, false
	}
	p, target := f[1], f[6]
	if !path.IsAbs(p) || strings.Contains(p, "%") || strings.Contains(target, "%") || target == "" || target == "-" {
		return Link{}, false
	}
	return Link{Path: path.Clean(p), Target: target}, true
}

// TmpfilesSetting is TmpfilesLink for the settings form: the path and the
// type as attribute names, the argument as its value.
func TmpfilesSetting(p, typ, argument string) (Link, bool) {
	return TmpfilesLink(strings.Join([]string{quoteField(typ), quoteField(p), "-", "-", "-", "-", quoteField(argument)}, " "))
}

func quoteField(s string) string {
	if s == "" || strings.ContainsAny(s, " \t\"") {
		return `"` + strings.ReplaceAll(s, `"`, ``) + `"`
	}
	return s
}

// tmpfilesFields splits a line at white space, a double-quoted field
// taken whole without its quotes; the argument (the 7th field) runs to
// the end of the line, as tmpfiles.d(5) reads it.
func tmpfilesFields(line string) []string {
	var out []string
	s := strings.TrimSpace(line)
	for s != "" && len(out) < 6 {
		var f string
		if s[0] == '"' {
			end := strings.IndexByte(s[1:], '"')
			if end < 0 {
				return nil
			}
			f, s = s[1:1+end], s[2+end:]
		} else {
			end := strings.IndexAny(s, " \t")
			if end < 0 {
				end = len(s)
			}
			f, s = s[:end], s[end:]
		}
		out = append(out, f)
		s = strings.TrimLeft(s, " \t")
	}
	if s != "" {
		if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
			s = s[1 : len(s)-1]
		}
		out = append(out, s)
	}
	return out
}
