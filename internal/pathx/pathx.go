package pathx

import (
	"path"
)

// The helpers compare paths component by component, never as raw string
// prefixes: "/home" contains "/home/a" but not "/homework", and a mount at
// /nix/persist/home/alice/Downloads is not a mount at /home/alice/Downloads.
// They work on bytes: names need not be valid UTF-8 and are never
// normalised.

// Clean returns the lexically cleaned form of the absolute path p, with
// path.Clean semantics: repeated slashes, "." and ".." are resolved, a
// trailing slash is dropped, and "/.." is "/". Bytes are kept as they are.
// A relative p is cleaned as a relative path (path.Clean), so callers that
// need an absolute path must check the leading "/" themselves. Clean does not
// allocate when p is already clean.
func Clean(p string) string {
	return path.Clean(p)
}

// Contains reports whether p is ancestor or lies below it, comparing whole
// path components after cleaning both. "/" contains every absolute path;
// "/home" contains "/home" and "/home/a" but not "/homework"; a relative path
// is never contained in an absolute one.
func Contains(ancestor, p string) bool {
	_, ok := Rel(ancestor, p)
	return ok
}

// HasPrefix reports whether p is dir or lies below it, comparing whole
// components of paths that are already clean, without cleaning them (a ".."
// a declaration keeps stays a name): "/" has every absolute path below it,
// "/home" has "/home/a" but not "/homework". For paths that may not be
// clean, use Contains.
func HasPrefix(p, dir string) bool {
	if dir == "/" {
		return len(p) > 0 && p[0] == '/'
	}
	return len(p) >= len(dir) && p[:len(dir)] == dir && (len(p) == len(dir) || p[len(dir)] == '/')
}

// Rel returns the part of p below ancestor as an absolute-style remainder:
// "/" when p equals ancestor, "/b/c" for Rel("/a", "/a/b/c"). ok is false when
// p is not ancestor or below it (component-wise, after cleaning both).
func Rel(ancestor, p string) (rest string, ok bool) {
	ancestor, p = Clean(ancestor), Clean(p)
	switch {
	case p == ancestor:
		return "/", true
	case ancestor == "/":
		if len(p) > 0 && p[0] == '/' {
			return p, true
		}
		return "", false
	case len(p) > len(ancestor) && p[len(ancestor)] == '/' && p[:len(ancestor)] == ancestor:
		return p[len(ancestor):], true
	}
	return "", false
}
