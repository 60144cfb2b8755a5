package mounts

import ()

// join appends the absolute-style remainder rel (as returned by pathx.Rel) to base,
// which may be any mountinfo root ("/", "/@", or a non-path root such as
// "net:[4026531840]"). It does not clean base: the mountinfo Root field is
// authoritative and kept as the kernel wrote it.
func join(base, rel string) string {
	a, b := joinParts(base, rel)
	if b == "" {
		return a
	}
	if a == "" {
		return b
	}
	return a + b
}

// joinParts is join as two strings to concatenate, without concatenating.
func joinParts(base, rel string) (string, string) {
	switch {
	case rel == "/" || rel == "":
		return base, ""
	case base == "/" || base == "":
		return "", rel
	case base[len(base)-1] == '/':
		return base, rel[1:]
	}
	return base, rel
}

// parentDir returns the parent of the clean absolute path p ("/" for "/" and
// for top-level names) without allocating.
func parentDir(p string) string {
	for i := len(p) - 1; i > 0; i-- {
		if p[i] == '/' {
			return p[:i]
		}
	}
	return "/"
}
