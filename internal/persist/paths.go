package persist

import "strings"

// concatPaths mirrors impermanence's lib.concatPaths (lib.nix:17-50): every
// part is split on "/", empty components are dropped, the rest is joined with
// "/", and a leading "/" is kept when the first part had one. "." and ".."
// are kept, as the module keeps them.
func concatPaths(parts ...string) string {
	var b strings.Builder
	abs := len(parts) > 0 && strings.HasPrefix(parts[0], "/")
	n := 0
	for _, p := range parts {
		for _, c := range strings.Split(p, "/") {
			if c == "" {
				continue
			}
			if n > 0 || abs {
				b.WriteByte('/')
			}
			b.WriteString(c)
			n++
		}
	}
	if n == 0 && abs {
		return "/"
	}
	return b.String()
}

// cleanPath cleans an absolute path lexically, byte for byte: duplicate and
// trailing slashes and "." components go away. A ".." component is kept in
// place (never resolved) and reported through dotdot.
func cleanPath(p string) (clean string, dotdot bool) {
	var b strings.Builder
	b.Grow(len(p))
	for _, c := range strings.Split(p, "/") {
		switch c {
		case "", ".":
			continue
		case "..":
			dotdot = true
		}
		b.WriteByte('/')
		b.WriteString(c)
	}
	if b.Len() == 0 {
		return "/", dotdot
	}
	return b.String(), dotdot
}

// isClean reports whether p is an absolute path other than "/" that
// cleanPath (and concatPaths("/", p)) return unchanged, without "..": no
// empty, "." or ".." component, no trailing slash. Most paths are, and
// need no copy.
func isClean(p string) bool {
	if len(p) < 2 || p[0] != '/' || p[len(p)-1] == '/' {
		return false
	}
	start := 1
	for i := 1; i <= len(p); i++ {
		if i < len(p) && p[i] != '/' {
			continue
		}
		switch p[start:i] {
		case "", ".", "..":
			return false
		}
		start = i + 1
	}
	return true
}

// trimPathSuffix returns p without its trailing components equal to suffix
// ("/nix/persist/home/alice" minus "/home/alice" is "/nix/persist"), and
// whether p ended with them. Both must be clean and absolute.
func trimPathSuffix(p, suffix string) (string, bool) {
	if suffix == "/" || len(suffix) > len(p) || !strings.HasSuffix(p, suffix) {
		return p, false
	}
	rest := p[:len(p)-len(suffix)]
	switch {
	case rest == "":
		return "/", true
	case strings.HasSuffix(rest, "/"):
		return p, false // cannot happen for clean paths
	}
	// The suffix must start at a component boundary: suffix begins with "/".
	return rest, true
}
