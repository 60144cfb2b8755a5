package knowledge

import (
	"errors"
	"path"
	"slices"
	"strings"
)

// SystemContainers are the directories that hold many applications'
// state: drift suggest rolls a lost path up to one component below the
// deepest of them, never to one of them whole, and none is a home
// (CheckHome). Read-only.
var SystemContainers = []string{
	"/", "/etc", "/var", "/var/lib", "/var/lib/private", "/var/lib/systemd",
	"/var/db", "/var/spool", "/var/cache", "/opt", "/srv", "/usr", "/usr/local",
	"/usr/local/share", "/usr/local/lib", "/home", "/mnt", "/media",
}

// stateRoots are the directories a home can never be: / and the
// directories that hold the system's state (SystemContainers, /nix, /boot,
// /run, /tmp). Taken as a home, every path in them would be that user's
// and rolled up to the home's containers — /var/lib whole.
var stateRoots = append(slices.Clone(SystemContainers), "/nix", "/boot", "/run", "/tmp")

// errStateHome is CheckHome's error.
var errStateHome = errors.New("a home cannot be / or a directory holding the system's state (/etc, /var, /var/lib, /usr, /nix, /srv, /opt, /home, …): name the user's own home directory")

// CheckHome returns an error when dir (an absolute home directory: --home,
// or a declaration's users.<name>.home) is / or a directory holding the
// system's state (/etc, /var, /var/lib, /usr, /nix, /srv, /opt, /home, …:
// stateRoots). /root and /home/NAME are fine. Such a directory is no home
// for any command (audit.Model.Homes leaves it out).
func CheckHome(dir string) error {
	if slices.Contains(stateRoots, path.Clean(dir)) {
		return errStateHome
	}
	return nil
}

// HomeOf is the home p lies in (at or below): the deepest of homes (the
// --home directories and the declarations' homes), /root, or /home/NAME;
// "" for none.
func HomeOf(homes []string, p string) string {
	best := ""
	for _, h := range homes {
		h = strings.TrimSuffix(h, "/")
		if h != "" && under(p, h) && len(h) > len(best) {
			best = h
		}
	}
	switch {
	case best != "":
		return best
	case under(p, "/root"):
		return "/root"
	}
	if rest, ok := strings.CutPrefix(p, "/home/"); ok && rest != "" {
		name, _, _ := strings.Cut(rest, "/")
		return p[:len("/home/")+len(name)] // p's own bytes: no copy
	}
	return ""
}
