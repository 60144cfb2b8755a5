package diff

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/nix-drift/drift/internal/knowledge"
	"github.com/nix-drift/drift/internal/pathx"
	"github.com/nix-drift/drift/internal/persist"
)

// activationPaths are re-created by NixOS activation on every boot when they
// are symlinks into the Nix store (nixos/modules/system/activation and
// nixos/modules/system/etc): /bin/sh, /usr/bin/env and /etc/static. Entries
// of /etc that link into /etc/static are re-created too.
var activationPaths = []string{"/bin/sh", "/usr/bin/env", "/etc/static"}

// bootDirs are directories NixOS makes at every boot whatever they held
// (the directory itself, not what is in it): /root and /home, by the users
// activation snippet (nixpkgs nixos/modules/config/users-groups.nix:
// install -m 0700 -d /root, install -m 0755 -d /home). On a wiped root
// they come back empty: Recreated, what they hold classified as it is.
// drift suggest reads check's lost set, so it never weighs them either.
// /tmp, made by stage 2 (nixos/modules/system/boot/stage-2-init.sh:
// install -m 01777 -d /tmp) and emptied by boot.tmp.cleanOnBoot, is
// Recreated when it holds nothing lost (fixEmptyBootPoints, emptyBootDirs):
// holding temporary files it is lost with them, and drift suggest's
// --ignore /tmp covers them all.
var bootDirs = []string{"/root", "/home"}

// usersFiles are the files NixOS's users activation
// (nixos/modules/config/update-users-groups.pl) writes at every boot from
// users.* and the uid/gid maps in /var/lib/nixos. With users.mutableUsers
// = false it keeps nothing else in them: they are Recreated (a boot after
// a real wipe wrote /etc/passwd and /etc/group again byte for byte). With
// mutableUsers true or not known, what passwd or useradd changed there is
// lost at the wipe: they stay lost (drift suggest says how to stop that:
// the knowledge base's facts).
var usersFiles = []string{"/etc/passwd", "/etc/group", "/etc/shadow", "/etc/subuid", "/etc/subgid"}

// usersWritten reports whether the configuration says users.mutableUsers
// = false (usersFiles are then activation's alone).
func usersWritten(d *persist.Set) bool {
	return d != nil && d.Config != nil && d.Config.MutableUsers.Value == persist.False
}

func isActivation(p, target string) bool {
	for _, a := range activationPaths {
		if p == a {
			return pathx.Contains("/nix/store", pathx.Clean(target)) && target != "/nix/store"
		}
	}
	return knowledge.EtcStaticLink(p, target)
}

// activationOnly drops from vs what NixOS activation makes again at every
// boot (isActivation: a link into /etc/static in /etc), read in the
// previous root prev: a row that is such a link, or a directory below /etc
// holding nothing but directories and such links (/etc/drift with its
// declarations.json link). Nothing of it is lost: drift check lists it
// under no VANISHED row, drift suggest proposes no declaration of it (the
// same fact makes the live links re-created). Only rows below /etc are
// read (never through a link: lstat, WalkDir).
func activationOnly(prev string, vs []Vanished) []Vanished {
	return slices.DeleteFunc(vs, func(v Vanished) bool {
		if !strings.HasPrefix(v.Path, "/etc/") {
			return false
		}
		top := filepath.Join(prev, v.Path)
		links, data := 0, false
		err := filepath.WalkDir(top, func(p string, d fs.DirEntry, err error) error {
			switch {
			case err != nil:
				return err
			case d.IsDir():
				return nil
			case d.Type()&fs.ModeSymlink != 0:
				t, err := os.Readlink(p)
				if err == nil && isActivation(v.Path+strings.TrimPrefix(p, top), t) {
					links++
					return nil
				}
			}
			data = true
			return fs.SkipAll // data: vanished
		})
		return err == nil && links > 0 && !data
	})
}

// warnEtcLink warns that the declaration d is of p, a link NixOS
// activation makes into /etc/static (knowledge.EtcStaticLink): not lost
// data, a wrong declaration.
func (c *classifier) warnEtcLink(p string, d *persist.Entry) {
	c.warn(WarnSetup, p, fmt.Sprintf("%s is declared%s as a persisted %s, but it is a link NixOS activation makes into /etc/static at every boot (environment.etc): it holds no data, nothing of it is lost; the declaration is wrong: remove it (activation would find the persisted copy in its way, or be hidden by it)",
		p, at(d.Pos), map[persist.Kind]string{persist.File: "file", persist.Dir: "directory"}[d.Kind]))
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

// HomeManagerLink reports whether p, a symlink to target, is made again at
// boot by home-manager: a link into its home-files (HomeManagerTarget)
// inside one of homes (below it), the homes of the users its NixOS module
// manages (Config.HomeManagerHomes). Its activation (the home-manager-USER
// unit, run at every boot) makes the link again, and the directories
// holding it. A link into home-files in another home (home-manager
// standalone, run by hand; a user the configuration does not give to
// home-manager) is not made again.
func HomeManagerLink(homes []string, p, target string) bool {
	if !HomeManagerTarget(target) {
		return false
	}
	for _, h := range homes {
		if p != h && pathx.Contains(h, p) {
			return true
		}
	}
	return false
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
