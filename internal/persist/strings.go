package persist

import (
	"path"
	"strings"

	"github.com/nix-drift/drift/internal/persist/nix"
)

// readStrings adds to the set's Config.Strings every absolute path inside
// a string literal of the module ast (nix.Literals: evaluated or not,
// inside a larger string, in an `or` default, in an interpolation's
// literal parts), except in its persistence declarations
// (environment.persistence, home.persistence, preservation: read as
// declarations), each path once per module, at its first literal; and
// each relative path literal to Set.Texts (./backup.sh: the file's text is
// the configuration's too, readTexts).
func (r *reader) readStrings(ast nix.Node) {
	if r.set.Config == nil {
		r.set.Config = &Config{}
	}
	seen := map[string]bool{}
	nix.Literals(r.src, ast, declarationsBinding, func(off int, text string, isPath bool) {
		if isPath && !strings.HasPrefix(text, "/") && !strings.HasPrefix(text, "<") && !strings.HasPrefix(text, "~") {
			r.set.Texts = append(r.set.Texts, Import{Path: text, Pos: r.pos(off)})
			return
		}
		for _, p := range pathsIn(text) {
			if !seen[p] {
				seen[p] = true
				r.set.Config.Strings = append(r.set.Config.Strings, Ref{Path: p, Pos: r.pos(off)})
			}
		}
	})
}

// declarationsBinding reports whether the attribute path names (as
// nix.Literals gives it) is or is below a persistence declaration:
// environment.persistence, home.persistence (a home-manager user's
// module, or home-manager.users.NAME.home.persistence), preservation.
func declarationsBinding(names []string) bool {
	for i, n := range names {
		if n == "preservation" || n == "persistence" && i > 0 && (names[i-1] == "environment" || names[i-1] == "home") {
			return true
		}
	}
	return false
}

// pathCut are the bytes at which pathsIn cuts a path as well: the
// separators of the fields a path is commonly written among ("name:path"
// of LoadCredential, PATH=a:b, "a,b", key=value, (path), [path], <path>,
// 'path', a|b, a;b).
const pathCut = ":,;=|()[]{}<>'\"`"

// pathsIn are the absolute paths the text of a string literal holds,
// clean, "/" left out: a path starts at each '/' that starts the text or
// follows a byte that is not part of a path name (a letter, a digit,
// "._-+~@%", '/'), and runs to the next white space or control byte; it
// is also cut at each byte of pathCut in it, each cut a path of its own.
// A path the text holds is never missed, whatever separates it: what it
// names among those is the caller's to judge ("token:/nix/persist/a:b"
// gives /nix/persist/a:b and /nix/persist/a).
func pathsIn(text string) []string {
	if strings.IndexByte(text, '/') < 0 {
		return nil
	}
	var out []string
	add := func(p string) {
		if p = path.Clean(p); p != "/" && strings.HasPrefix(p, "/") {
			out = append(out, p)
		}
	}
	for i := 0; i < len(text); i++ {
		if text[i] != '/' || i > 0 && nameByte(text[i-1]) {
			continue
		}
		end := i
		for end < len(text) && text[end] > ' ' && text[end] != 0x7f {
			end++
		}
		for j := i + 1; j < end; j++ {
			if strings.IndexByte(pathCut, text[j]) >= 0 {
				add(text[i:j])
			}
		}
		add(text[i:end])
	}
	return out
}

// nameByte reports whether c can be part of a path name before a '/'
// that continues it.
func nameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("._-+~@%/", c) >= 0
}
