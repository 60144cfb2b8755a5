package diff

import (
	"path"
	"strings"

	"github.com/nix-drift/drift/internal/pathx"
)

// activationPaths are re-created by NixOS activation on every boot when they
// are symlinks into the Nix store (nixos/modules/system/activation and
// nixos/modules/system/etc): /bin/sh, /usr/bin/env and /etc/static. Entries
// of /etc that link into /etc/static are re-created too.
var activationPaths = []string{"/bin/sh", "/usr/bin/env", "/etc/static"}

func isActivation(p, target string) bool {
	for _, a := range activationPaths {
		if p == a {
			return pathx.Contains("/nix/store", pathx.Clean(target)) && target != "/nix/store"
		}
	}
	return strings.HasPrefix(p, "/etc/") && path.IsAbs(target) && pathx.Contains("/etc/static", pathx.Clean(target))
}

// inHome reports whether p lies inside a home: /root, /home/NAME, or one
// of Config.Homes (the home itself not included).
func (c *classifier) inHome(p string) bool {
	if rest, ok := strings.CutPrefix(p, "/home/"); ok && strings.Contains(rest, "/") {
		return true
	}
	if strings.HasPrefix(p, "/root/") {
		return true
	}
	for _, h := range c.cfg.Homes {
		if pathx.Contains(h, p) && p != h {
			return true
		}
	}
	return false
}

// homeManagerLink reports whether p, a symlink to target, is home-manager's
// (HomeManagerTarget) inside a home. home-manager's activation (the
// home-manager-USER unit its NixOS module runs at every boot) makes it
// again, and the directories holding it.
func (c *classifier) homeManagerLink(p, target string) bool {
	return HomeManagerTarget(target) && c.inHome(p)
}

// HomeManagerTarget reports whether a symlink's target is where
// home-manager links a home's files: inside its home-files derivation in
// the Nix store (/nix/store/HASH-home-manager-files/…; home-manager's
// modules/files.nix). Links into other store paths (~/.nix-profile made by
// nix-env) are not made again at boot.
func HomeManagerTarget(target string) bool {
	rest, ok := strings.CutPrefix(target, "/nix/store/")
	if !ok {
		return false
	}
	name, _, _ := strings.Cut(rest, "/")
	return strings.HasSuffix(name, "-home-manager-files") && strings.Contains(rest, "/")
}

// linkTarget is the lexical absolute target of the symlink at p (relative
// targets are taken from p's directory). Nothing is resolved on disk.
func linkTarget(p, target string) string {
	if path.IsAbs(target) {
		return path.Clean(target)
	}
	return path.Join(path.Dir(p), target)
}

// fixActivationParents re-classifies the directories that hold activation
// outputs (such as /etc/ssh holding ssh_config -> /etc/static/ssh/ssh_config):
// activation makes them again.
func (c *classifier) fixActivationParents() {
	if len(c.activated) == 0 {
		return
	}
	parents := map[string]bool{}
	for _, p := range c.activated {
		for q := path.Dir(p); q != "/"; q = path.Dir(q) {
			parents[q] = true
		}
	}
	kept := c.lost[:0]
	for _, it := range c.lost {
		if it.IsDir() && parents[it.Path] && (it.Category == Unpersisted || it.Category == Ignored) {
			c.recreated.Add(1)
			continue
		}
		kept = append(kept, it)
	}
	c.lost = kept
}
